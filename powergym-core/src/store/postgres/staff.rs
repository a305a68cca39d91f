//! Staff accounts on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{PgTransaction, errors};
use crate::domain::staff::{Role, Staff};
use crate::error::{Error, Result};
use crate::store::{NewStaff, SignInThrottle, StaffRepository};

const COLUMNS: &str = "username, email, full_name, role::text as role, disabled, created_at";

#[derive(sqlx::FromRow)]
struct StaffRow {
    username: String,
    email: Option<String>,
    full_name: Option<String>,
    role: String,
    disabled: bool,
    created_at: DateTime<Utc>,
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
            created_at: r.created_at,
        })
    }
}

/// The account under names prefixed `u_`, from a `users u` that may be missing (a left
/// join): the first columns of the desk's combined statements.
pub(super) const PREFIXED: &str = "u.username as u_username, u.email as u_email, \
    u.full_name as u_full_name, u.role::text as u_role, u.disabled as u_disabled, \
    u.created_at as u_created_at";

/// The account [`PREFIXED`] read, if there was one.
pub(super) fn prefixed(row: &sqlx::postgres::PgRow) -> Result<Option<Staff>> {
    use sqlx::Row;
    let get = |e: sqlx::Error| errors::map(e);
    let Some(username) = row
        .try_get::<Option<String>, _>("u_username")
        .map_err(get)?
    else {
        return Ok(None);
    };
    StaffRow {
        username,
        email: row.try_get("u_email").map_err(get)?,
        full_name: row.try_get("u_full_name").map_err(get)?,
        role: row.try_get("u_role").map_err(get)?,
        disabled: row.try_get("u_disabled").map_err(get)?,
        created_at: row.try_get("u_created_at").map_err(get)?,
    }
    .try_into()
    .map(Some)
}

fn not_found(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::RowNotFound => Error::NotFound {
            entity: "staff member",
        },
        other => errors::map(other),
    }
}

#[async_trait]
impl StaffRepository for PgTransaction {
    async fn insert_staff(&mut self, s: &NewStaff) -> Result<Staff> {
        let sql = format!(
            "insert into users (username, email, full_name, hashed_password, role) \
             values ($1, $2, $3, $4, $5::user_role_enum) on conflict do nothing \
             returning {COLUMNS}"
        );
        // `do nothing` rather than a unique violation, whose DETAIL (the e-mail address)
        // the server would write into its log; which key collided is asked afterwards.
        let row: Option<StaffRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&s.username)
            .bind(s.email.as_deref())
            .bind(s.full_name.as_deref())
            .bind(&s.password_hash)
            .bind(s.role.as_str())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        match row {
            Some(row) => row.try_into(),
            None => {
                let taken: bool =
                    sqlx::query_scalar("select exists (select 1 from users where username = $1)")
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
        let sql = format!("select {COLUMNS}, hashed_password from users where username = $1");
        #[derive(sqlx::FromRow)]
        struct WithHash {
            #[sqlx(flatten)]
            staff: StaffRow,
            hashed_password: String,
        }
        let found: Option<WithHash> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        found
            .map(|w| Ok((w.staff.try_into()?, w.hashed_password)))
            .transpose()
    }

    async fn lock_staff(&mut self, username: &str) -> Result<Staff> {
        let sql = format!("select {COLUMNS} from users where username = $1 for update");
        let row: StaffRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn lock_active_admins(&mut self) -> Result<u32> {
        let names: Vec<String> = sqlx::query_scalar(
            "select username from users where role = 'admin' and not disabled \
             order by username for update",
        )
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(names.len() as u32)
    }

    async fn lock_staff_directory(&mut self) -> Result<()> {
        sqlx::query("lock table users in share row exclusive mode")
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(())
    }

    async fn count_staff(&mut self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("select count(*) from users")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(n as u64)
    }

    async fn set_staff_role(&mut self, username: &str, role: Role) -> Result<Staff> {
        let sql = format!(
            "update users set role = $2::user_role_enum where username = $1 returning {COLUMNS}"
        );
        let row: StaffRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .bind(role.as_str())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn set_staff_disabled(&mut self, username: &str, disabled: bool) -> Result<Staff> {
        let sql = format!("update users set disabled = $2 where username = $1 returning {COLUMNS}");
        let row: StaffRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .bind(disabled)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn set_staff_password(&mut self, username: &str, password_hash: &str) -> Result<()> {
        let done = sqlx::query("update users set hashed_password = $2 where username = $1")
            .bind(username)
            .bind(password_hash)
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
        let done = sqlx::query("delete from users where username = $1")
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
        let rows: Vec<StaffRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
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
            "update users set hashed_password = $3 where username = $1 and hashed_password = $2",
        )
        .bind(username)
        .bind(old)
        .bind(new)
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(done.rows_affected() == 1)
    }

    async fn lock_sign_in_throttle(&mut self, name: &str) -> Result<SignInThrottle> {
        // One statement that inserts or locks: `on conflict do update` takes the row lock
        // on the latest committed version, so a concurrent attempt waits here and then
        // reads the failures the first one wrote. It never raises on the key, so the name
        // never reaches the server's log.
        let (failures, locked_until, last_failure_at): (
            i32,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        ) = sqlx::query_as(
            "insert into sign_in_throttles as t (username) values ($1) \
             on conflict (username) do update set username = excluded.username \
             returning t.failures, t.locked_until, t.last_failure_at",
        )
        .bind(name)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(SignInThrottle {
            failures: u32::try_from(failures).unwrap_or(0),
            locked_until,
            last_failure_at,
        })
    }

    async fn save_sign_in_throttle(&mut self, name: &str, state: &SignInThrottle) -> Result<()> {
        sqlx::query(
            "update sign_in_throttles set failures = $2, locked_until = $3, last_failure_at = $4 \
             where username = $1",
        )
        .bind(name)
        .bind(i32::try_from(state.failures).unwrap_or(i32::MAX))
        .bind(state.locked_until)
        .bind(state.last_failure_at)
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(())
    }

    async fn clear_sign_in_throttle(&mut self, name: &str) -> Result<()> {
        sqlx::query("delete from sign_in_throttles where username = $1")
            .bind(name)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(())
    }

    async fn prune_sign_in_throttles(&mut self, before: DateTime<Utc>) -> Result<u64> {
        // `skip locked`: a row another sign-in holds is about to be rewritten anyway, and
        // waiting for it could deadlock two pruning sign-ins on each other's rows. The
        // batch bound keeps one sign-in's share of the cleanup small.
        let done = sqlx::query(
            "delete from sign_in_throttles where username in (\
               select username from sign_in_throttles \
               where last_failure_at < $1 \
               limit 100 for update skip locked)",
        )
        .bind(before)
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(done.rows_affected())
    }
}
