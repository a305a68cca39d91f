//! Staff accounts and sign-in throttles on SQLite.
//!
//! PostgreSQL's row and table locks (`lock_staff`, `lock_active_admins`,
//! `lock_staff_directory`, `lock_sign_in_throttle`) need no counterpart: every
//! transaction begins `IMMEDIATE`, so it is the only writer of the file until it ends,
//! and what it reads cannot change under it. The lock methods read what PostgreSQL's
//! would and fail the same way.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::attendance::value::{instant, micros};
use super::{SqliteTransaction, errors};
use crate::domain::staff::{Role, Staff};
use crate::error::{Error, Result};
use crate::store::{NewStaff, SignInThrottle, StaffRepository};

const COLUMNS: &str = "username, email, full_name, role, disabled, created_at";

#[derive(sqlx::FromRow)]
struct StaffRow {
    username: String,
    email: Option<String>,
    full_name: Option<String>,
    role: String,
    disabled: bool,
    created_at: i64,
}

impl TryFrom<StaffRow> for Staff {
    type Error = Error;
    fn try_from(r: StaffRow) -> Result<Self> {
        Ok(Staff {
            username: r.username,
            email: r.email,
            full_name: r.full_name,
            role: r.role.parse()?,
            disabled: r.disabled,
            created_at: instant(r.created_at)?,
        })
    }
}

fn not_found(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::RowNotFound => Error::NotFound {
            entity: "staff member",
        },
        other => errors::map(other),
    }
}

fn optional_instant(us: Option<i64>) -> Result<Option<DateTime<Utc>>> {
    us.map(instant).transpose()
}

#[async_trait]
impl StaffRepository for SqliteTransaction {
    async fn insert_staff(&mut self, s: &NewStaff) -> Result<Staff> {
        let now = micros(Utc::now());
        let sql = format!(
            "insert into users (username, email, full_name, hashed_password, role, created_at, \
             updated_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?6) on conflict do nothing \
             returning {COLUMNS}"
        );
        // `do nothing` and no row back, as on PostgreSQL; which key collided is asked
        // afterwards.
        let row: Option<StaffRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(&s.username)
            .bind(s.email.as_deref())
            .bind(s.full_name.as_deref())
            .bind(&s.password_hash)
            .bind(s.role.as_str())
            .bind(now)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        match row {
            Some(row) => row.try_into(),
            None => {
                let taken: bool =
                    sqlx::query_scalar("select exists (select 1 from users where username = ?1)")
                        .bind(&s.username)
                        .fetch_one(&mut *self.tx)
                        .await
                        .map_err(errors::map)?;
                Err(Error::AlreadyExists {
                    entity: "staff member",
                    field: if taken { "username" } else { "email" },
                })
            }
        }
    }

    async fn staff_credentials(&mut self, username: &str) -> Result<Option<(Staff, String)>> {
        let sql = format!("select {COLUMNS}, hashed_password from users where username = ?1");
        #[derive(sqlx::FromRow)]
        struct WithHash {
            #[sqlx(flatten)]
            staff: StaffRow,
            hashed_password: String,
        }
        let found: Option<WithHash> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        found
            .map(|w| Ok((w.staff.try_into()?, w.hashed_password)))
            .transpose()
    }

    async fn lock_staff(&mut self, username: &str) -> Result<Staff> {
        let sql = format!("select {COLUMNS} from users where username = ?1");
        let row: StaffRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(username)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn lock_active_admins(&mut self) -> Result<u32> {
        let n: i64 =
            sqlx::query_scalar("select count(*) from users where role = 'admin' and not disabled")
                .fetch_one(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn lock_staff_directory(&mut self) -> Result<()> {
        Ok(())
    }

    async fn count_staff(&mut self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("select count(*) from users")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(n.max(0) as u64)
    }

    async fn set_staff_role(&mut self, username: &str, role: Role) -> Result<Staff> {
        let sql = format!(
            "update users set role = ?2, updated_at = ?3 where username = ?1 returning {COLUMNS}"
        );
        let row: StaffRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(username)
            .bind(role.as_str())
            .bind(micros(Utc::now()))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn set_staff_disabled(&mut self, username: &str, disabled: bool) -> Result<Staff> {
        let sql = format!(
            "update users set disabled = ?2, updated_at = ?3 where username = ?1 \
             returning {COLUMNS}"
        );
        let row: StaffRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(username)
            .bind(disabled)
            .bind(micros(Utc::now()))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn set_staff_password(&mut self, username: &str, password_hash: &str) -> Result<()> {
        let done = sqlx::query(
            "update users set hashed_password = ?2, updated_at = ?3 where username = ?1",
        )
        .bind(username)
        .bind(password_hash)
        .bind(micros(Utc::now()))
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound {
                entity: "staff member",
            });
        }
        Ok(())
    }

    async fn delete_staff(&mut self, username: &str) -> Result<()> {
        let done = sqlx::query("delete from users where username = ?1")
            .bind(username)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound {
                entity: "staff member",
            });
        }
        Ok(())
    }

    async fn list_staff(&mut self) -> Result<Vec<Staff>> {
        let sql = format!("select {COLUMNS} from users order by username");
        let rows: Vec<StaffRow> = sqlx::query_as(AssertSqlSafe(sql))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        rows.into_iter().map(Staff::try_from).collect()
    }

    async fn upgrade_staff_password_hash(
        &mut self,
        username: &str,
        old: &str,
        new: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "update users set hashed_password = ?3, updated_at = ?4 \
             where username = ?1 and hashed_password = ?2",
        )
        .bind(username)
        .bind(old)
        .bind(new)
        .bind(micros(Utc::now()))
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(done.rows_affected() == 1)
    }

    async fn lock_sign_in_throttle(&mut self, name: &str) -> Result<SignInThrottle> {
        // Inserted if missing, as on PostgreSQL, so a name never seen reads as zero
        // failures; the IMMEDIATE transaction keeps concurrent attempts one by one.
        let (failures, locked_until, last_failure_at): (i64, Option<i64>, Option<i64>) =
            sqlx::query_as(
                "insert into sign_in_throttles (username) values (?1) \
                 on conflict (username) do update set username = excluded.username \
                 returning failures, locked_until, last_failure_at",
            )
            .bind(name)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(SignInThrottle {
            failures: u32::try_from(failures).unwrap_or(0),
            locked_until: optional_instant(locked_until)?,
            last_failure_at: optional_instant(last_failure_at)?,
        })
    }

    async fn save_sign_in_throttle(&mut self, name: &str, state: &SignInThrottle) -> Result<()> {
        sqlx::query(
            "update sign_in_throttles set failures = ?2, locked_until = ?3, last_failure_at = ?4 \
             where username = ?1",
        )
        .bind(name)
        .bind(i64::from(state.failures.min(i32::MAX as u32)))
        .bind(state.locked_until.map(micros))
        .bind(state.last_failure_at.map(micros))
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(())
    }

    async fn clear_sign_in_throttle(&mut self, name: &str) -> Result<()> {
        sqlx::query("delete from sign_in_throttles where username = ?1")
            .bind(name)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(())
    }

    async fn prune_sign_in_throttles(&mut self, before: DateTime<Utc>) -> Result<u64> {
        // The same bounded batch as on PostgreSQL, so one sign-in's share of the cleanup
        // stays small; no row is held by another transaction here.
        let done = sqlx::query(
            "delete from sign_in_throttles where username in (\
               select username from sign_in_throttles \
               where last_failure_at < ?1 limit 100)",
        )
        .bind(micros(before))
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::super::testing::{admin, migrated};
    use crate::domain::staff::Role;
    use crate::error::Error;
    use crate::store::{NewStaff, SignInThrottle, Store};

    fn staff(username: &str, email: Option<&str>) -> NewStaff {
        NewStaff {
            username: username.into(),
            email: email.map(str::to_owned),
            full_name: None,
            role: Role::Employee,
            password_hash: "$argon2id$test".into(),
        }
    }

    #[tokio::test]
    async fn accounts_collide_by_name_and_email_and_refuse_bad_names() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        tx.insert_staff(&staff("desk1", Some("d@gym.co")))
            .await
            .unwrap();
        assert_eq!(
            tx.insert_staff(&staff("desk1", None)).await.unwrap_err(),
            Error::AlreadyExists {
                entity: "staff member",
                field: "username"
            }
        );
        assert_eq!(
            tx.insert_staff(&staff("desk2", Some("d@gym.co")))
                .await
                .unwrap_err(),
            Error::AlreadyExists {
                entity: "staff member",
                field: "email"
            }
        );
        assert!(matches!(
            tx.insert_staff(&staff("Bad Name", None)).await.unwrap_err(),
            Error::Validation {
                field: "username",
                ..
            }
        ));
        assert_eq!(tx.lock_active_admins().await.unwrap(), 1);
        tx.set_staff_role("desk1", Role::Admin).await.unwrap();
        assert_eq!(tx.lock_active_admins().await.unwrap(), 2);
        tx.set_staff_disabled("desk1", true).await.unwrap();
        assert_eq!(tx.lock_active_admins().await.unwrap(), 1);
        let names: Vec<String> = tx
            .list_staff()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.username)
            .collect();
        assert_eq!(names, ["admin", "desk1"]);
        let gone = Error::NotFound {
            entity: "staff member",
        };
        assert_eq!(tx.lock_staff("nobody").await.unwrap_err(), gone);
        assert_eq!(
            tx.set_staff_password("nobody", "h").await.unwrap_err(),
            gone
        );
        assert_eq!(tx.delete_staff("nobody").await.unwrap_err(), gone);
        assert!(
            tx.upgrade_staff_password_hash("desk1", "$argon2id$test", "new")
                .await
                .unwrap()
        );
        assert!(
            !tx.upgrade_staff_password_hash("desk1", "$argon2id$test", "newer")
                .await
                .unwrap()
        );
        let (_, hash) = tx.staff_credentials("desk1").await.unwrap().unwrap();
        assert_eq!(hash, "new");
        assert!(tx.staff_credentials("nobody").await.unwrap().is_none());
        tx.delete_staff("desk1").await.unwrap();
        assert_eq!(tx.count_staff().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn sign_in_throttles_count_save_clear_and_prune() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.lock_sign_in_throttle("nobody").await.unwrap(),
            SignInThrottle::default()
        );
        let now = Utc::now();
        let state = SignInThrottle {
            failures: 3,
            locked_until: Some(now + Duration::minutes(5)),
            last_failure_at: Some(now - Duration::days(2)),
        };
        tx.save_sign_in_throttle("nobody", &state).await.unwrap();
        let read = tx.lock_sign_in_throttle("nobody").await.unwrap();
        assert_eq!(read.failures, 3);
        assert_eq!(
            read.locked_until.map(|t| t.timestamp_micros()),
            state.locked_until.map(|t| t.timestamp_micros())
        );
        tx.lock_sign_in_throttle("fresh").await.unwrap();
        assert_eq!(
            tx.prune_sign_in_throttles(now - Duration::days(1))
                .await
                .unwrap(),
            1
        );
        // The pruned name starts over.
        assert_eq!(
            tx.lock_sign_in_throttle("nobody").await.unwrap(),
            SignInThrottle::default()
        );
        let again = SignInThrottle {
            failures: 1,
            ..SignInThrottle::default()
        };
        tx.save_sign_in_throttle("fresh", &again).await.unwrap();
        tx.clear_sign_in_throttle("fresh").await.unwrap();
        assert_eq!(
            tx.lock_sign_in_throttle("fresh").await.unwrap(),
            SignInThrottle::default()
        );
    }
}
