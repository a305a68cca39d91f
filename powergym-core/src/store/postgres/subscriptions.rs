//! Subscriptions on PostgreSQL, and the daily jobs: the rules' table of moves applied by
//! one set-based update.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{PgTransaction, errors, page_of};
use crate::domain::ids::{ClientId, PlanId, SubscriptionId};
use crate::domain::money::{Currency, DiscountPercent, Money};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::payment::PriceSnapshot;
use crate::domain::subscription::{Subscription, SubscriptionStatus};
use crate::error::{Error, Result};
use crate::store::{Access, DailyJobCounts, DueMove, NewSubscription, SubscriptionRepository};

pub(super) const COLUMNS: &str = "s.id, s.client_id, s.plan_id, s.start_date, s.end_date, \
    s.status::text as status, s.list_price, s.discount_percentage, s.final_price, s.currency, \
    s.cancellation_date, s.cancellation_reason, s.created_at";

/// Total paid per subscription, joined where a query needs it.
const PAID: &str =
    "coalesce((select sum(p.amount) from payments p where p.subscription_id = s.id), 0) as paid";

#[derive(sqlx::FromRow)]
pub(super) struct SubscriptionRow {
    id: Uuid,
    client_id: Uuid,
    plan_id: Uuid,
    start_date: NaiveDate,
    end_date: NaiveDate,
    status: String,
    list_price: Decimal,
    discount_percentage: Option<Decimal>,
    final_price: Decimal,
    currency: String,
    cancellation_date: Option<NaiveDate>,
    cancellation_reason: Option<String>,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct WithPaid {
    #[sqlx(flatten)]
    sub: SubscriptionRow,
    paid: Decimal,
}

impl TryFrom<SubscriptionRow> for Subscription {
    type Error = Error;
    fn try_from(r: SubscriptionRow) -> Result<Self> {
        Ok(Subscription {
            id: SubscriptionId::from_uuid(r.id),
            client_id: ClientId::from_uuid(r.client_id),
            plan_id: PlanId::from_uuid(r.plan_id),
            start_date: r.start_date,
            end_date: r.end_date,
            status: r.status.parse()?,
            price: PriceSnapshot::from_stored(
                Money::from_stored(r.list_price),
                r.discount_percentage.map(DiscountPercent::from_stored),
                Money::from_stored(r.final_price),
            ),
            currency: Currency::parse(&r.currency)?,
            cancellation_date: r.cancellation_date,
            cancellation_reason: r.cancellation_reason,
            created_at: r.created_at,
        })
    }
}

/// A subscription and its total paid under names prefixed `s_`, so they can share a row
/// with another table's columns (the desk's combined statements); `s` must have a
/// `paid` column.
pub(super) const PREFIXED_WITH_PAID: &str = "s.id as s_id, s.client_id as s_client_id, \
    s.plan_id as s_plan_id, s.start_date as s_start_date, s.end_date as s_end_date, \
    s.status::text as s_status, s.list_price as s_list_price, \
    s.discount_percentage as s_discount_percentage, s.final_price as s_final_price, \
    s.currency::text as s_currency, s.cancellation_date as s_cancellation_date, \
    s.cancellation_reason as s_cancellation_reason, s.created_at as s_created_at, \
    s.paid as s_paid";

/// The columns of [`PREFIXED_WITH_PAID`].
#[derive(sqlx::FromRow)]
pub(super) struct PrefixedWithPaid {
    s_id: Uuid,
    s_client_id: Uuid,
    s_plan_id: Uuid,
    s_start_date: NaiveDate,
    s_end_date: NaiveDate,
    s_status: String,
    s_list_price: Decimal,
    s_discount_percentage: Option<Decimal>,
    s_final_price: Decimal,
    s_currency: String,
    s_cancellation_date: Option<NaiveDate>,
    s_cancellation_reason: Option<String>,
    s_created_at: DateTime<Utc>,
    s_paid: Decimal,
}

impl PrefixedWithPaid {
    /// The subscription and its total paid.
    pub(super) fn into_pair(self) -> Result<(Subscription, Money)> {
        with_paid(WithPaid {
            sub: SubscriptionRow {
                id: self.s_id,
                client_id: self.s_client_id,
                plan_id: self.s_plan_id,
                start_date: self.s_start_date,
                end_date: self.s_end_date,
                status: self.s_status,
                list_price: self.s_list_price,
                discount_percentage: self.s_discount_percentage,
                final_price: self.s_final_price,
                currency: self.s_currency,
                cancellation_date: self.s_cancellation_date,
                cancellation_reason: self.s_cancellation_reason,
                created_at: self.s_created_at,
            },
            paid: self.s_paid,
        })
    }
}

fn with_paid(w: WithPaid) -> Result<(Subscription, Money)> {
    Ok((w.sub.try_into()?, Money::from_stored(w.paid)))
}

fn not_found(entity: &'static str) -> impl Fn(sqlx::Error) -> Error {
    move |err| match err {
        sqlx::Error::RowNotFound => Error::NotFound { entity },
        other => errors::map(other),
    }
}

/// Key of the transaction-scoped advisory lock held by a daily-jobs run ("PGDAILYJ").
const DAILY_JOBS_LOCK: i64 = 0x5047_4441_494c_594a;

#[async_trait]
impl SubscriptionRepository for PgTransaction {
    async fn insert_subscription(&mut self, n: &NewSubscription) -> Result<Subscription> {
        let sql = format!(
            "insert into subscriptions as s (client_id, plan_id, start_date, end_date, status, \
             list_price, discount_percentage, final_price, currency, created_by) \
             values ($1, $2, $3, $4, $5::subscription_status_enum, $6, $7, $8, $9, $10) \
             returning {COLUMNS}"
        );
        let row: SubscriptionRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(n.client_id.as_uuid())
            .bind(n.plan_id.as_uuid())
            .bind(n.start_date)
            .bind(n.end_date)
            .bind(n.status.as_str())
            .bind(n.price.list_price().amount())
            .bind(n.price.discount().map(|d| d.value()))
            .bind(n.price.final_price().amount())
            .bind(n.currency.as_str())
            .bind(&n.created_by)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.try_into()
    }

    async fn subscription_with_paid(
        &mut self,
        id: SubscriptionId,
        access: Access,
    ) -> Result<(Subscription, Money)> {
        // The lock is taken on the subscription row alone; the paid sum is read after
        // it, so every payment committed before the lock was granted is counted.
        if access == Access::ForUpdate {
            sqlx::query("select 1 from subscriptions where id = $1 for update")
                .bind(id.as_uuid())
                .fetch_one(&mut *self.tx)
                .await
                .map_err(not_found("subscription"))?;
        }
        let sql = format!("select {COLUMNS}, {PAID} from subscriptions s where s.id = $1");
        let row: WithPaid = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found("subscription"))?;
        with_paid(row)
    }

    async fn client_subscriptions(
        &mut self,
        client: ClientId,
    ) -> Result<Vec<(Subscription, Money)>> {
        let sql = format!(
            "select {COLUMNS}, {PAID} from subscriptions s where s.client_id = $1 \
             order by s.created_at desc, s.id desc"
        );
        let rows: Vec<WithPaid> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(client.as_uuid())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        rows.into_iter().map(with_paid).collect()
    }

    async fn list_subscriptions(
        &mut self,
        status: Option<SubscriptionStatus>,
        page: PageRequest,
    ) -> Result<Page<Subscription>> {
        let label = status.map(SubscriptionStatus::as_str);
        let total: i64 = sqlx::query_scalar(
            "select count(*) from subscriptions where ($1::text is null or status::text = $1)",
        )
        .bind(label)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let sql = format!(
            "select {COLUMNS} from subscriptions s where ($1::text is null or s.status::text = $1) \
             order by s.created_at desc, s.id desc limit $2 offset $3"
        );
        let rows: Vec<SubscriptionRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(label)
            .bind(i64::from(page.limit()))
            .bind(page.offset() as i64)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        page_of(rows, total, page)
    }

    async fn update_subscription_status(
        &mut self,
        id: SubscriptionId,
        from: SubscriptionStatus,
        to: SubscriptionStatus,
    ) -> Result<()> {
        let done = sqlx::query(
            "update subscriptions set status = $3::subscription_status_enum \
             where id = $1 and status = $2::subscription_status_enum",
        )
        .bind(id.as_uuid())
        .bind(from.as_str())
        .bind(to.as_str())
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        if done.rows_affected() == 0 {
            return Err(Error::Conflict {
                reason: format!("the subscription is no longer {from}; reload it and try again"),
            });
        }
        Ok(())
    }

    async fn cancel_subscription(
        &mut self,
        id: SubscriptionId,
        from: SubscriptionStatus,
        date: NaiveDate,
        reason: Option<&str>,
        by: &str,
    ) -> Result<Subscription> {
        let sql = format!(
            "update subscriptions as s set status = 'canceled', cancellation_date = $3, \
             cancellation_reason = $4, canceled_by = $5 \
             where s.id = $1 and s.status = $2::subscription_status_enum returning {COLUMNS}"
        );
        let row: Option<SubscriptionRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .bind(from.as_str())
            .bind(date)
            .bind(reason)
            .bind(by)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.ok_or_else(|| Error::Conflict {
            reason: format!("the subscription is no longer {from}; reload it and try again"),
        })?
        .try_into()
    }

    async fn run_daily_jobs(&mut self, today: NaiveDate) -> Result<DailyJobCounts> {
        // The moves come from the rules (DailyJobCounts::due_moves, a table built from
        // domain::subscription::transition) and are applied by one UPDATE, so a million
        // due rows never travel to the client and back. Since migration 0016 no index
        // reads `status`, so each move is a heap-only update on its own page.
        //
        // A batch over every due row may outlast the front desk's statement timeout on a
        // large gym; this transaction alone lifts it (`set local`), and still waits on
        // locks no longer than the lock timeout. JIT off: the planner prices the one
        // UPDATE over every row high enough to compile it, which costs a quarter of a
        // second and saves nothing here.
        sqlx::raw_sql("set local statement_timeout = 0; set local jit = off")
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        // One run at a time: the UPDATE below locks the rows it moves in the order it
        // reaches them, so two runs at once could deadlock and waste a whole batch. A
        // second run does not wait for the first (which has done its work): it is told.
        let first: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
            .bind(DAILY_JOBS_LOCK)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        if !first {
            return Err(Error::Conflict {
                reason: "the daily jobs are already running; this run did nothing".into(),
            });
        }
        // Rewards first: apply_reward locks a reward before its subscription, and so
        // does this job.
        let rewards = sqlx::query(
            "update rewards set status = 'expired' where status = 'pending' and expires_on < $1",
        )
        .bind(today)
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;

        let moves = DailyJobCounts::due_moves();
        let from: Vec<&str> = moves.iter().map(|m| m.from.as_str()).collect();
        let ended: Vec<bool> = moves.iter().map(|m| m.ended).collect();
        let paid: Vec<Option<bool>> = moves.iter().map(|m| m.fully_paid).collect();
        let to: Vec<&str> = moves.iter().map(|m| m.to.as_str()).collect();

        // The rows whose move depends on their payments are locked first, in id order,
        // waiting for payments in flight on them (a payment locks its subscription), so
        // the UPDATE below, a new statement with a new snapshot, counts every payment
        // committed before each lock and none can commit after. Named by their dates
        // too, so the dates index finds them without reading the history.
        let on_payments: Vec<DueMove> = moves
            .iter()
            .filter(|m| m.fully_paid.is_some())
            .copied()
            .collect();
        if !on_payments.is_empty() {
            let sql = format!(
                "select count(*) from (select s.id from subscriptions s where {} \
                 order by s.id for update of s) as locked",
                DueMove::filter(&on_payments, "s.status", "s.start_date", "s.end_date", "$1")
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(today)
                .execute(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        }
        // Every due row moves in one statement; the old status is the matched entry's
        // (`s.status = m.f`). A row another transaction changes meanwhile (a payment, a
        // cancellation) makes this wait, then is re-checked at its newest version against
        // the same entry: if its status changed it no longer matches and is left as it
        // is, for the next run to see afresh; a canceled row is never overwritten. (Access
        // never rests on a late move: a member is admitted only within their dates.)
        let sql = format!(
            "with m as (select * from unnest($2::text[], $3::bool[], $4::bool[], $5::text[]) \
                          as m(f, ended, paid, t)), \
             moved as ( \
               update subscriptions s \
                  set status = m.t::subscription_status_enum, updated_at = now() \
                 from m \
                where {} \
                  and s.status = m.f::subscription_status_enum \
                  and m.ended = (s.end_date < $1) \
                  and (m.paid is null \
                       or m.paid = (coalesce((select sum(p.amount) from payments p \
                                              where p.subscription_id = s.id), 0) \
                                    >= s.final_price)) \
               returning m.f, m.t) \
             select f, t, count(*) from moved group by f, t",
            DueMove::filter(&moves, "s.status", "s.start_date", "s.end_date", "$1")
        );
        let moved: Vec<(String, String, i64)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(today)
            .bind(&from)
            .bind(&ended)
            .bind(&paid)
            .bind(&to)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        let mut counts = DailyJobCounts::default();
        for (from, to, n) in moved {
            counts.add(from.parse()?, to.parse()?, u64::try_from(n).unwrap_or(0));
        }
        counts.expired_rewards = rewards.rows_affected();
        Ok(counts)
    }
}
