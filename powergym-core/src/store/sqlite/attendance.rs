//! Attendances and refused check-ins on SQLite.
//!
//! One check-in per client per business day is the `attendances_one_per_day` unique
//! constraint, as on PostgreSQL; retry keys are unique columns. Write transactions are
//! `IMMEDIATE` (one writer per file at a time), so the retry-key "locks" need no lock of
//! their own.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AssertSqlSafe;

use self::value::{day, day_text, instant, micros, page_of, uuid_of};
use super::{SqliteTransaction, errors};
use crate::domain::access::{Attendance, CheckInMethod, DenialReason};
use crate::domain::ids::{ClientId, SubscriptionId};
use crate::domain::paging::{Page, PageRequest};
use crate::error::{Error, Result};
use crate::store::{AttendanceInsert, AttendanceRepository, NewAttendance, NewDenial};

const COLUMNS: &str =
    "id, client_id, subscription_id, entry_time, business_date, method, recorded_by";

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
    id: String,
    client_id: String,
    subscription_id: Option<String>,
    entry_time: i64,
    business_date: String,
    method: String,
    recorded_by: Option<String>,
}

impl TryFrom<AttendanceRow> for Attendance {
    type Error = Error;
    fn try_from(r: AttendanceRow) -> Result<Self> {
        Ok(Attendance {
            id: uuid_of(&r.id)?,
            client_id: ClientId::from_uuid(uuid_of(&r.client_id)?),
            subscription_id: r
                .subscription_id
                .as_deref()
                .map(uuid_of)
                .transpose()?
                .map(SubscriptionId::from_uuid),
            entry_time: instant(r.entry_time)?,
            business_date: day(&r.business_date)?,
            method: r.method.parse()?,
            recorded_by: r.recorded_by,
        })
    }
}

#[async_trait]
impl AttendanceRepository for SqliteTransaction {
    async fn has_attendance_on(&mut self, client: ClientId, on: NaiveDate) -> Result<bool> {
        sqlx::query_scalar(
            "select exists (select 1 from attendances where client_id = ?1 and business_date = ?2)",
        )
        .bind(client.as_uuid().to_string())
        .bind(day_text(on))
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)
    }

    async fn insert_attendance(&mut self, n: &NewAttendance) -> Result<AttendanceInsert> {
        let sql = format!(
            "insert into attendances (id, client_id, subscription_id, entry_time, business_date, \
             method, recorded_by, idempotency_key) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             on conflict (client_id, business_date) do nothing returning {COLUMNS}"
        );
        // The one-per-day constraint is a rule, not a failure: a second check-in that
        // day stores nothing and says so. Only that constraint is named, so a reused
        // idempotency key still fails.
        let row: Option<AttendanceRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(n.client_id.as_uuid().to_string())
            .bind(n.subscription_id.as_uuid().to_string())
            .bind(micros(n.entry_time))
            .bind(day_text(n.business_date))
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
        on: NaiveDate,
        by: &str,
    ) -> Result<()> {
        insert_denial_row(self, client, reason.code(), method, at, on, by).await
    }

    async fn lock_check_in_key(&mut self, _key: &str) -> Result<()> {
        // The transaction began IMMEDIATE: it is the only writer of the file until it
        // ends, so a concurrent check-in under the same key already waits for it.
        Ok(())
    }

    async fn attendance_by_idempotency_key(&mut self, key: &str) -> Result<Option<Attendance>> {
        let sql = format!("select {COLUMNS} from attendances where idempotency_key = ?1");
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
        let row: Option<(Option<String>, String, String)> = sqlx::query_as(
            "select client_id, reason, method from access_denials where idempotency_key = ?1",
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
                ClientId::from_uuid(uuid_of(&client)?),
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
            "insert into access_denials (id, client_id, reason, method, occurred_at, business_date, \
             recorded_by, idempotency_key) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(d.client_id.as_uuid().to_string())
        .bind(d.reason.code())
        .bind(d.method.as_str())
        .bind(micros(d.occurred_at))
        .bind(day_text(d.business_date))
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
        // Days are `YYYY-MM-DD` text, which orders as the dates do.
        let filter = "(?1 is null or client_id = ?1) and (?2 is null or business_date >= ?2) \
                      and (?3 is null or business_date <= ?3)";
        let client = client.map(|c| c.as_uuid().to_string());
        let (from, to) = (from.map(day_text), to.map(day_text));
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "select count(*) from attendances where {filter}"
        )))
        .bind(client.as_deref())
        .bind(from.as_deref())
        .bind(to.as_deref())
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let sql = format!(
            "select {COLUMNS} from attendances where {filter} \
             order by entry_time desc, id desc limit ?4 offset ?5"
        );
        let rows: Vec<AttendanceRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(client.as_deref())
            .bind(from.as_deref())
            .bind(to.as_deref())
            .bind(i64::from(page.limit()))
            .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
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
            "select reason, count(*) from access_denials where business_date between ?1 and ?2 \
             group by reason order by reason",
        )
        .bind(day_text(from))
        .bind(day_text(to))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(rows
            .into_iter()
            .filter_map(|(code, n)| {
                REASONS
                    .iter()
                    .find(|r| r.code() == code)
                    .map(|r| (*r, n.max(0) as u64))
            })
            .collect())
    }
}

/// One refused check-in, by reason code: the access decision's reasons, and face
/// check-ins that identified nobody (no client).
pub(super) async fn insert_denial_row(
    tx: &mut SqliteTransaction,
    client: Option<ClientId>,
    code: &str,
    method: CheckInMethod,
    at: DateTime<Utc>,
    on: NaiveDate,
    by: &str,
) -> Result<()> {
    sqlx::query(
        "insert into access_denials (id, client_id, reason, method, occurred_at, business_date, \
         recorded_by) values (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(client.map(|c| c.as_uuid().to_string()))
    .bind(code)
    .bind(method.as_str())
    .bind(micros(at))
    .bind(day_text(on))
    .bind(by)
    .execute(&mut *tx.tx)
    .await
    .map_err(errors::map)?;
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use chrono::TimeZone;

    use super::super::testing::{admin, client, day, migrated, money, plan};
    use super::*;
    use crate::domain::client::Client;
    use crate::domain::payment::PriceSnapshot;
    use crate::domain::subscription::{Subscription, SubscriptionStatus};
    use crate::store::{NewSubscription, Store, StoreTransaction};

    /// An active subscription of `client` for March 2026.
    pub(in crate::store::sqlite) async fn subscription(
        tx: &mut Box<dyn StoreTransaction>,
        client: &Client,
    ) -> Subscription {
        let plan = plan(tx).await;
        tx.insert_subscription(&NewSubscription {
            client_id: client.id,
            plan_id: plan.id,
            start_date: day("2026-03-01"),
            end_date: day("2026-03-31"),
            status: SubscriptionStatus::Active,
            price: PriceSnapshot::new(money("100000"), None),
            currency: crate::domain::money::Currency::COP,
            created_by: "admin".into(),
        })
        .await
        .unwrap()
    }

    pub(in crate::store::sqlite) fn check_in(
        client: &Client,
        sub: &Subscription,
        at: DateTime<Utc>,
        on: &str,
        key: Option<&str>,
    ) -> NewAttendance {
        NewAttendance {
            client_id: client.id,
            subscription_id: sub.id,
            entry_time: at,
            business_date: day(on),
            method: CheckInMethod::Document,
            recorded_by: "admin".into(),
            idempotency_key: key.map(str::to_owned),
        }
    }

    #[tokio::test]
    async fn one_check_in_per_client_and_business_day() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let ana = client(&mut tx, "1001").await;
        let sub = subscription(&mut tx, &ana).await;
        // 23:30 in Bogotá on the 2nd is 04:30 UTC on the 3rd: the business day decides.
        let late = Utc.with_ymd_and_hms(2026, 3, 3, 4, 30, 0).unwrap();
        let AttendanceInsert::Inserted(first) = tx
            .insert_attendance(&check_in(&ana, &sub, late, "2026-03-02", Some("k1")))
            .await
            .unwrap()
        else {
            panic!("the first check-in of the day is stored");
        };
        assert_eq!(first.entry_time, late);
        assert_eq!(first.business_date, day("2026-03-02"));
        assert_eq!(first.subscription_id, Some(sub.id));
        assert!(
            tx.has_attendance_on(ana.id, day("2026-03-02"))
                .await
                .unwrap()
        );
        assert!(
            !tx.has_attendance_on(ana.id, day("2026-03-03"))
                .await
                .unwrap()
        );
        let again = late + chrono::Duration::hours(1);
        assert_eq!(
            tx.insert_attendance(&check_in(&ana, &sub, again, "2026-03-02", None))
                .await
                .unwrap(),
            AttendanceInsert::AlreadyToday
        );
        // The next business day is another check-in.
        let AttendanceInsert::Inserted(next) = tx
            .insert_attendance(&check_in(&ana, &sub, again, "2026-03-03", None))
            .await
            .unwrap()
        else {
            panic!("the next business day is another check-in");
        };
        // Retry keys: the first call's attendance is found; a reused key is refused.
        assert_eq!(
            tx.attendance_by_idempotency_key("k1").await.unwrap(),
            Some(first.clone())
        );
        assert_eq!(tx.attendance_by_idempotency_key("k2").await.unwrap(), None);
        tx.lock_check_in_key("k1").await.unwrap();
        let err = tx
            .insert_attendance(&check_in(&ana, &sub, again, "2026-03-04", Some("k1")))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
        // Newest first, with the total.
        let page = tx
            .attendances(Some(ana.id), None, None, PageRequest::new(1, 0).unwrap())
            .await
            .unwrap();
        assert_eq!((page.total, page.items.clone()), (2, vec![next.clone()]));
        let page = tx
            .attendances(
                None,
                Some(day("2026-03-01")),
                Some(day("2026-03-02")),
                PageRequest::new(10, 0).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(page.items, vec![first]);
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn refusals_are_counted_and_found_by_their_key() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let ana = client(&mut tx, "1001").await;
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap();
        tx.insert_denial(
            Some(ana.id),
            DenialReason::Expired,
            CheckInMethod::Document,
            at,
            day("2026-03-02"),
            "admin",
        )
        .await
        .unwrap();
        tx.insert_keyed_denial(&NewDenial {
            client_id: ana.id,
            reason: DenialReason::Unpaid,
            method: CheckInMethod::Manual,
            occurred_at: at,
            business_date: day("2026-03-02"),
            recorded_by: "admin".into(),
            idempotency_key: Some("d1".into()),
        })
        .await
        .unwrap();
        tx.insert_face_refusal(
            crate::face::Unidentified::NoMatch,
            at,
            day("2026-03-02"),
            "admin",
        )
        .await
        .unwrap();
        assert_eq!(
            tx.denial_by_idempotency_key("d1").await.unwrap(),
            Some((ana.id, DenialReason::Unpaid, CheckInMethod::Manual))
        );
        assert_eq!(tx.denial_by_idempotency_key("d2").await.unwrap(), None);
        let counts = tx
            .denial_counts(day("2026-03-01"), day("2026-03-31"))
            .await
            .unwrap();
        // The face refusal's code is not an access decision's, so it is not listed.
        assert_eq!(
            counts,
            vec![(DenialReason::Expired, 1), (DenialReason::Unpaid, 1)]
        );
        assert!(
            tx.denial_counts(day("2026-03-03"), day("2026-03-31"))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// Conversions between the storage conventions of `mod.rs` (TEXT ids and days, INTEGER
/// microseconds and hundredths) and domain values, shared by the attendance, inventory,
/// reward, report and biometric repositories. A stored value that does not convert is
/// `Error::Database` naming the column's kind, never the value.
pub(super) mod value {
    use chrono::{DateTime, NaiveDate, Utc};
    use rust_decimal::Decimal;
    use rust_decimal::prelude::ToPrimitive;
    use uuid::Uuid;

    use crate::domain::paging::{Page, PageRequest};
    use crate::error::{Error, Result};

    fn corrupt(what: &str) -> Error {
        Error::Database {
            code: None,
            message: format!("a stored {what} is malformed; the database file may be damaged"),
        }
    }

    /// A stored id.
    pub(in crate::store::sqlite) fn uuid_of(s: &str) -> Result<Uuid> {
        Uuid::parse_str(s).map_err(|_| corrupt("id"))
    }

    /// A stored instant (microseconds since the Unix epoch, UTC).
    pub(in crate::store::sqlite) fn instant(us: i64) -> Result<DateTime<Utc>> {
        DateTime::from_timestamp_micros(us).ok_or_else(|| corrupt("timestamp"))
    }

    /// An instant as stored: microseconds, truncated as PostgreSQL's driver does.
    pub(in crate::store::sqlite) fn micros(t: DateTime<Utc>) -> i64 {
        t.timestamp_micros()
    }

    /// A stored calendar day (`YYYY-MM-DD`).
    pub(in crate::store::sqlite) fn day(s: &str) -> Result<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| corrupt("date"))
    }

    /// A calendar day as stored; the text orders as the days do (four-digit years).
    pub(in crate::store::sqlite) fn day_text(d: NaiveDate) -> String {
        d.format("%Y-%m-%d").to_string()
    }

    /// A stored amount in hundredths (money, quantities, percentages).
    pub(in crate::store::sqlite) fn cents(v: i64) -> Decimal {
        Decimal::new(v, 2)
    }

    /// A stored sum or product at `scale` decimal places, exactly.
    pub(in crate::store::sqlite) fn scaled(v: i128, scale: u32) -> Result<Decimal> {
        Decimal::try_from_i128_with_scale(v, scale).map_err(|_| corrupt("amount"))
    }

    /// An amount as stored, in hundredths. The domain types allow two decimal places at
    /// most; anything finer is refused rather than rounded.
    pub(in crate::store::sqlite) fn hundredths(field: &'static str, d: Decimal) -> Result<i64> {
        if d.normalize().scale() > 2 {
            return Err(Error::validation(
                field,
                "must have at most two decimal places",
            ));
        }
        (d * Decimal::ONE_HUNDRED)
            .to_i64()
            .ok_or_else(|| Error::validation(field, "is too large"))
    }

    /// A count as returned by SQLite.
    pub(in crate::store::sqlite) fn count(n: i64) -> u64 {
        n.max(0) as u64
    }

    /// One page of rows converted to domain records, with the total count of matches.
    pub(in crate::store::sqlite) fn page_of<R, T>(
        rows: Vec<R>,
        total: i64,
        page: PageRequest,
    ) -> Result<Page<T>>
    where
        T: TryFrom<R, Error = Error>,
    {
        Ok(Page {
            items: rows.into_iter().map(T::try_from).collect::<Result<_>>()?,
            total: count(total),
            limit: page.limit(),
            offset: page.offset(),
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn hundredths_are_exact_both_ways() {
            for s in ["0", "0.01", "12.5", "9999999999.99", "-3.25"] {
                let d: Decimal = s.parse().unwrap();
                let h = hundredths("amount", d).unwrap();
                assert_eq!(cents(h).normalize(), d.normalize());
            }
            assert!(hundredths("amount", "0.001".parse().unwrap()).is_err());
            let t = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
            assert_eq!(instant(micros(t)).unwrap(), t);
            let d = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
            assert_eq!(day_text(d), "2026-03-09");
            assert_eq!(day(&day_text(d)).unwrap(), d);
        }
    }
}
