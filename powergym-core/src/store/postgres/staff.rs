//! Staff accounts on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{PgTransaction, errors};
use crate::domain::staff::{Role, Staff};
use crate::error::{Error, Result};
use crate::store::{NewStaff, StaffRepository};

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
             values ($1, $2, $3, $4, $5::user_role_enum) returning {COLUMNS}"
        );
        let row: StaffRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&s.username)
            .bind(s.email.as_deref())
            .bind(s.full_name.as_deref())
            .bind(&s.password_hash)
            .bind(s.role.as_str())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.try_into()
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
}
