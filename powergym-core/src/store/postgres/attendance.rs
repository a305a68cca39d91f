//! Attendances and refused check-ins on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{PgTransaction, errors, page_of};
use crate::domain::access::{Attendance, CheckInMethod, DenialReason};
use crate::domain::ids::{ClientId, SubscriptionId};
use crate::domain::paging::{Page, PageRequest};
use crate::error::{Error, Result};
use crate::store::{AttendanceInsert, AttendanceRepository, NewAttendance, NewDenial};

const COLUMNS: &str = "id, client_id, subscription_id, entry_time, business_date, \
    method::text as method, recorded_by";

/// Class of the transaction-scoped advisory locks held on check-ins' retry keys (the
/// two-integer key space, apart from the enrolment lock's single key; 'PGCK').
const CHECK_IN_KEY_LOCK: i32 = 0x5047_434b;

const REASONS: [DenialReason; 6] = [
    DenialReason::ClientInactive,
    DenialReason::NoSubscription,
    DenialReason::NotStartedYet,
    DenialReason::Expired,
    DenialReason::Unpaid,
    DenialReason::AlreadyCheckedIn,
];

#[derive(sqlx::FromRow)]
struct AttendanceRow {
    id: Uuid,
    client_id: Uuid,
    subscription_id: Option<Uuid>,
    entry_time: DateTime<Utc>,
    business_date: NaiveDate,
    method: String,
    recorded_by: Option<String>,
}

impl TryFrom<AttendanceRow> for Attendance {
    type Error = Error;
    fn try_from(r: AttendanceRow) -> Result<Self> {
        Ok(Attendance {
            id: r.id,
            client_id: ClientId::from_uuid(r.client_id),
            subscription_id: r.subscription_id.map(SubscriptionId::from_uuid),
            entry_time: r.entry_time,
            business_date: r.business_date,
            method: r.method.parse()?,
            recorded_by: r.recorded_by,
        })
    }
}

#[async_trait]
impl AttendanceRepository for PgTransaction {
    async fn has_attendance_on(&mut self, client: ClientId, day: NaiveDate) -> Result<bool> {
        sqlx::query_scalar(
            "select exists (select 1 from attendances where client_id = $1 and business_date = $2)",
        )
        .bind(client.as_uuid())
        .bind(day)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)
    }

    async fn insert_attendance(&mut self, n: &NewAttendance) -> Result<AttendanceInsert> {
        let sql = format!(
            "insert into attendances (client_id, subscription_id, entry_time, business_date, method, \
             recorded_by, idempotency_key) values ($1, $2, $3, $4, $5::check_in_method_enum, $6, $7) \
             on conflict (client_id, business_date) do nothing returning {COLUMNS}"
        );
        // The one-per-day constraint is a rule, not a failure: a second check-in that
        // day stores nothing and says so. Only that constraint is named, so a reused
        // idempotency key still fails.
        let row: Option<AttendanceRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(n.client_id.as_uuid())
            .bind(n.subscription_id.as_uuid())
            .bind(n.entry_time)
            .bind(n.business_date)
            .bind(n.method.as_str())
            .bind(&n.recorded_by)
            .bind(n.idempotency_key.as_deref())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        match row {
            Some(row) => Ok(AttendanceInsert::Inserted(row.try_into()?)),
            None => Ok(AttendanceInsert::AlreadyToday),
        }
    }

    async fn insert_denial(
        &mut self,
        client: Option<ClientId>,
        reason: DenialReason,
        method: CheckInMethod,
        at: DateTime<Utc>,
        day: NaiveDate,
        by: &str,
    ) -> Result<()> {
        insert_denial_row(self, client, reason.code(), method, at, day, by).await
    }

    async fn lock_check_in_key(&mut self, key: &str) -> Result<()> {
        // Keys hash to 32 bits: two keys sharing a lock only wait for each other.
        sqlx::query("select pg_advisory_xact_lock($1, hashtext($2))")
            .bind(CHECK_IN_KEY_LOCK)
            .bind(key)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(())
    }

    async fn attendance_by_idempotency_key(&mut self, key: &str) -> Result<Option<Attendance>> {
        let sql = format!("select {COLUMNS} from attendances where idempotency_key = $1");
        let row: Option<AttendanceRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.map(Attendance::try_from).transpose()
    }

    async fn denial_by_idempotency_key(
        &mut self,
        key: &str,
    ) -> Result<Option<(ClientId, DenialReason, CheckInMethod)>> {
        let row: Option<(Option<Uuid>, String, String)> = sqlx::query_as(
            "select client_id, reason, method::text from access_denials where idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let Some((client, code, method)) = row else {
            return Ok(None);
        };
        // Only refusals of an identified client carry a key (see `insert_keyed_denial`).
        let reason = REASONS.iter().find(|r| r.code() == code);
        match (client, reason) {
            (Some(client), Some(reason)) => Ok(Some((
                ClientId::from_uuid(client),
                *reason,
                method.parse()?,
            ))),
            _ => Err(Error::validation(
                "idempotency_key",
                "belongs to a refusal that identified no client",
            )),
        }
    }

    async fn insert_keyed_denial(&mut self, d: &NewDenial) -> Result<()> {
        sqlx::query(
            "insert into access_denials (client_id, reason, method, occurred_at, business_date, \
             recorded_by, idempotency_key) values ($1, $2, $3::check_in_method_enum, $4, $5, $6, $7)",
        )
        .bind(d.client_id.as_uuid())
        .bind(d.reason.code())
        .bind(d.method.as_str())
        .bind(d.occurred_at)
        .bind(d.business_date)
        .bind(&d.recorded_by)
        .bind(d.idempotency_key.as_deref())
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(())
    }

    async fn attendances(
        &mut self,
        client: Option<ClientId>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        page: PageRequest,
    ) -> Result<Page<Attendance>> {
        let filter = "($1::uuid is null or client_id = $1) and ($2::date is null or business_date >= $2) \
                      and ($3::date is null or business_date <= $3)";
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "select count(*) from attendances where {filter}"
        )))
        .bind(client.map(|c| c.as_uuid()))
        .bind(from)
        .bind(to)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let sql = format!(
            "select {COLUMNS} from attendances where {filter} order by entry_time desc, id desc limit $4 offset $5"
        );
        let rows: Vec<AttendanceRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(client.map(|c| c.as_uuid()))
            .bind(from)
            .bind(to)
            .bind(i64::from(page.limit()))
            .bind(page.offset() as i64)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        page_of(rows, total, page)
    }

    async fn denial_counts(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(DenialReason, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "select reason, count(*) from access_denials where business_date between $1 and $2 \
             group by reason order by reason",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(rows
            .into_iter()
            .filter_map(|(code, n)| {
                REASONS
                    .iter()
                    .find(|r| r.code() == code)
                    .map(|r| (*r, n as u64))
            })
            .collect())
    }
}

/// One refused check-in, by reason code: the access decision's reasons, and face
/// check-ins that identified nobody (no client).
pub(super) async fn insert_denial_row(
    tx: &mut PgTransaction,
    client: Option<ClientId>,
    code: &str,
    method: CheckInMethod,
    at: DateTime<Utc>,
    day: NaiveDate,
    by: &str,
) -> Result<()> {
    sqlx::query(
        "insert into access_denials (client_id, reason, method, occurred_at, business_date, recorded_by) \
         values ($1, $2, $3::check_in_method_enum, $4, $5, $6)",
    )
    .bind(client.map(|c| c.as_uuid()))
    .bind(code)
    .bind(method.as_str())
    .bind(at)
    .bind(day)
    .bind(by)
    .execute(&mut *tx.tx)
    .await
    .map_err(errors::map)?;
    Ok(())
}
