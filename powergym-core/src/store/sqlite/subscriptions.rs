//! Subscriptions on SQLite, and the daily jobs.
//!
//! The daily jobs read every due row, take each one's next status from the domain's
//! state machine ([`transition`], the one copy of the rules), and write the results in
//! one statement per target status, all inside the caller's IMMEDIATE transaction: no
//! other writer can pay, cancel or renew in between, so what was read is what is
//! written over.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use sqlx::AssertSqlSafe;

use super::attendance::value::{
    cents, day, day_text, hundredths, instant, micros, page_of, uuid_of,
};
use super::{SqliteTransaction, errors};
use crate::domain::ids::{ClientId, PlanId, SubscriptionId};
use crate::domain::money::{Currency, DiscountPercent, Money};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::payment::PriceSnapshot;
use crate::domain::subscription::{Subscription, SubscriptionStatus};
use crate::error::{Error, Result};
use crate::store::{Access, DailyJobCounts, DueMove, NewSubscription, SubscriptionRepository};

pub(super) const COLUMNS: &str = "s.id, s.client_id, s.plan_id, s.start_date, s.end_date, \
    s.status, s.list_price, s.discount_percentage, s.final_price, s.currency, \
    s.cancellation_date, s.cancellation_reason, s.created_at";

/// [`COLUMNS`] for a `returning` clause, which SQLite reads without the table's alias.
const RETURNING: &str = "id, client_id, plan_id, start_date, end_date, status, list_price, \
    discount_percentage, final_price, currency, cancellation_date, cancellation_reason, \
    created_at";

/// Total paid per subscription, joined where a query needs it.
const PAID: &str =
    "coalesce((select sum(p.amount) from payments p where p.subscription_id = s.id), 0) as paid";

#[derive(sqlx::FromRow)]
pub(super) struct SubscriptionRow {
    id: String,
    client_id: String,
    plan_id: String,
    start_date: String,
    end_date: String,
    status: String,
    list_price: i64,
    discount_percentage: Option<i64>,
    final_price: i64,
    currency: String,
    cancellation_date: Option<String>,
    cancellation_reason: Option<String>,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct WithPaid {
    #[sqlx(flatten)]
    sub: SubscriptionRow,
    paid: i64,
}

impl TryFrom<SubscriptionRow> for Subscription {
    type Error = Error;
    fn try_from(r: SubscriptionRow) -> Result<Self> {
        Ok(Subscription {
            id: SubscriptionId::from_uuid(uuid_of(&r.id)?),
            client_id: ClientId::from_uuid(uuid_of(&r.client_id)?),
            plan_id: PlanId::from_uuid(uuid_of(&r.plan_id)?),
            start_date: day(&r.start_date)?,
            end_date: day(&r.end_date)?,
            status: r.status.parse()?,
            price: PriceSnapshot::from_stored(
                Money::from_stored(cents(r.list_price)),
                r.discount_percentage
                    .map(|d| DiscountPercent::from_stored(cents(d))),
                Money::from_stored(cents(r.final_price)),
            ),
            currency: Currency::parse(&r.currency)?,
            cancellation_date: r.cancellation_date.as_deref().map(day).transpose()?,
            cancellation_reason: r.cancellation_reason,
            created_at: instant(r.created_at)?,
        })
    }
}

fn with_paid(w: WithPaid) -> Result<(Subscription, Money)> {
    Ok((w.sub.try_into()?, Money::from_stored(cents(w.paid))))
}

fn not_found(entity: &'static str) -> impl Fn(sqlx::Error) -> Error {
    move |err| match err {
        sqlx::Error::RowNotFound => Error::NotFound { entity },
        other => errors::map(other),
    }
}

fn no_longer(from: SubscriptionStatus) -> Error {
    Error::Conflict {
        reason: format!("the subscription is no longer {from}; reload it and try again"),
    }
}

/// A row the daily jobs may move.
#[derive(sqlx::FromRow)]
struct DueRow {
    id: String,
    status: String,
    end_date: String,
    final_price: i64,
    paid: i64,
}

#[async_trait]
impl SubscriptionRepository for SqliteTransaction {
    async fn insert_subscription(&mut self, n: &NewSubscription) -> Result<Subscription> {
        let now = micros(Utc::now());
        let sql = format!(
            "insert into subscriptions (id, client_id, plan_id, start_date, end_date, status, \
             list_price, discount_percentage, final_price, currency, created_by, created_at, \
             updated_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) \
             returning {RETURNING}"
        );
        let row: SubscriptionRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(n.client_id.as_uuid().to_string())
            .bind(n.plan_id.as_uuid().to_string())
            .bind(day_text(n.start_date))
            .bind(day_text(n.end_date))
            .bind(n.status.as_str())
            .bind(hundredths("list_price", n.price.list_price().amount())?)
            .bind(
                n.price
                    .discount()
                    .map(|d| hundredths("discount_percentage", d.value()))
                    .transpose()?,
            )
            .bind(hundredths("final_price", n.price.final_price().amount())?)
            .bind(n.currency.as_str())
            .bind(&n.created_by)
            .bind(now)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.try_into()
    }

    async fn subscription_with_paid(
        &mut self,
        id: SubscriptionId,
        _access: Access,
    ) -> Result<(Subscription, Money)> {
        // No row lock to take for ForUpdate: no other writer can pay until this
        // transaction ends.
        let sql = format!("select {COLUMNS}, {PAID} from subscriptions s where s.id = ?1");
        let row: WithPaid = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid().to_string())
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
            "select {COLUMNS}, {PAID} from subscriptions s where s.client_id = ?1 \
             order by s.created_at desc, s.id desc"
        );
        let rows: Vec<WithPaid> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(client.as_uuid().to_string())
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
            "select count(*) from subscriptions where (?1 is null or status = ?1)",
        )
        .bind(label)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let sql = format!(
            "select {COLUMNS} from subscriptions s where (?1 is null or s.status = ?1) \
             order by s.created_at desc, s.id desc limit ?2 offset ?3"
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
            "update subscriptions set status = ?3, updated_at = ?4 where id = ?1 and status = ?2",
        )
        .bind(id.as_uuid().to_string())
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(micros(Utc::now()))
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        if done.rows_affected() == 0 {
            return Err(no_longer(from));
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
            "update subscriptions set status = 'canceled', cancellation_date = ?3, \
             cancellation_reason = ?4, canceled_by = ?5, updated_at = ?6 \
             where id = ?1 and status = ?2 returning {RETURNING}"
        );
        let row: Option<SubscriptionRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid().to_string())
            .bind(from.as_str())
            .bind(day_text(date))
            .bind(reason)
            .bind(by)
            .bind(micros(Utc::now()))
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.ok_or_else(|| no_longer(from))?.try_into()
    }

    async fn run_daily_jobs(&mut self, today: NaiveDate) -> Result<DailyJobCounts> {
        let today_text = day_text(today);
        let now = micros(Utc::now());
        let rewards = sqlx::query(
            "update rewards set status = 'expired', updated_at = ?2 \
             where status = 'pending' and expires_on < ?1",
        )
        .bind(&today_text)
        .bind(now)
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;

        // The due rows, named by the rules' table of moves (DailyJobCounts::due_moves),
        // each moved by its entry.
        let table = DailyJobCounts::due_moves();
        let due: Vec<DueRow> = sqlx::query_as(AssertSqlSafe(format!(
            "select s.id, s.status, s.end_date, s.final_price, \
               coalesce((select sum(p.amount) from payments p where p.subscription_id = s.id), 0) \
                 as paid \
             from subscriptions s where {} order by s.id",
            DueMove::filter(&table, "s.status", "s.start_date", "s.end_date", "?1")
        )))
        .bind(&today_text)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;

        let mut counts = DailyJobCounts::default();
        let mut moves: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for row in due {
            let from: SubscriptionStatus = row.status.parse()?;
            let ended = day(&row.end_date)? < today;
            let Some(to) = DueMove::find(&table, from, ended, row.paid >= row.final_price) else {
                continue;
            };
            counts.add(from, to, 1);
            moves.entry(to.as_str()).or_default().push(row.id);
        }
        for (to, ids) in moves {
            let ids = serde_json::to_string(&ids).map_err(|e| Error::Database {
                code: None,
                message: format!("could not list the subscriptions to update: {e}"),
            })?;
            sqlx::query(
                "update subscriptions set status = ?1, updated_at = ?2 \
                 where id in (select value from json_each(?3))",
            )
            .bind(to)
            .bind(now)
            .bind(ids)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        }
        counts.expired_rewards = rewards.rows_affected();
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::super::testing::{admin, client, day, migrated, money, plan};
    use crate::domain::client::Client;
    use crate::domain::ids::{ClientId, SubscriptionId};
    use crate::domain::money::{Currency, DiscountPercent};
    use crate::domain::paging::PageRequest;
    use crate::domain::payment::{PaymentMethod, PriceSnapshot};
    use crate::domain::plan::Plan;
    use crate::domain::subscription::SubscriptionStatus as S;
    use crate::error::Error;
    use crate::store::{
        Access, DailyJobCounts, NewPayment, NewSubscription, Store, StoreTransaction,
    };

    fn new_sub(c: &Client, p: &Plan, from: &str, to: &str, status: S) -> NewSubscription {
        NewSubscription {
            client_id: c.id,
            plan_id: p.id,
            start_date: day(from),
            end_date: day(to),
            status,
            price: PriceSnapshot::new(money("100000"), None),
            currency: Currency::COP,
            created_by: "admin".into(),
        }
    }

    async fn pay(tx: &mut Box<dyn StoreTransaction>, id: SubscriptionId, amount: &str) {
        tx.insert_payment(&NewPayment {
            subscription_id: id,
            amount: money(amount),
            method: PaymentMethod::Cash,
            received_by: "admin".into(),
            notes: None,
            idempotency_key: None,
            payment_date: chrono::Utc::now(),
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn overlapping_live_periods_are_a_conflict() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let c = client(&mut tx, "3001").await;
        let p = plan(&mut tx).await;
        let first = tx
            .insert_subscription(&new_sub(
                &c,
                &p,
                "2025-01-01",
                "2025-01-31",
                S::PendingPayment,
            ))
            .await
            .unwrap();
        let err = tx
            .insert_subscription(&new_sub(&c, &p, "2025-01-31", "2025-02-28", S::Scheduled))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
        // The day after is free; a canceled period frees its days.
        tx.insert_subscription(&new_sub(&c, &p, "2025-02-01", "2025-02-28", S::Scheduled))
            .await
            .unwrap();
        let canceled = tx
            .cancel_subscription(
                first.id,
                S::PendingPayment,
                day("2025-01-02"),
                None,
                "admin",
            )
            .await
            .unwrap();
        assert_eq!(canceled.status, S::Canceled);
        assert_eq!(canceled.cancellation_date, Some(day("2025-01-02")));
        tx.insert_subscription(&new_sub(
            &c,
            &p,
            "2025-01-10",
            "2025-01-31",
            S::PendingPayment,
        ))
        .await
        .unwrap();
        // A second cancel finds it no longer pending.
        assert!(matches!(
            tx.cancel_subscription(
                first.id,
                S::PendingPayment,
                day("2025-01-02"),
                None,
                "admin"
            )
            .await,
            Err(Error::Conflict { .. })
        ));
        assert!(matches!(
            tx.update_subscription_status(first.id, S::Active, S::Expired)
                .await,
            Err(Error::Conflict { .. })
        ));
        // A CHECK comes before the overlap, as on PostgreSQL.
        let backwards = tx
            .insert_subscription(&new_sub(&c, &p, "2025-01-20", "2025-01-10", S::Scheduled))
            .await
            .unwrap_err();
        assert!(
            matches!(
                backwards,
                Error::Validation {
                    field: "end_date",
                    ..
                }
            ),
            "{backwards:?}"
        );
        // A missing client or plan is NotFound by name.
        let ghost = Client {
            id: ClientId::from_uuid(uuid::Uuid::new_v4()),
            ..c.clone()
        };
        assert_eq!(
            tx.insert_subscription(&new_sub(
                &ghost,
                &p,
                "2030-01-01",
                "2030-01-31",
                S::Scheduled
            ))
            .await
            .unwrap_err(),
            Error::NotFound { entity: "client" }
        );
        assert_eq!(
            tx.lock_client(ghost.id).await.unwrap_err(),
            Error::NotFound { entity: "client" }
        );
        let subs = tx.client_subscriptions(c.id).await.unwrap();
        assert_eq!(subs.len(), 3);
        assert!(subs[0].0.created_at >= subs[2].0.created_at, "newest first");
        let page = PageRequest::new(10, 0).unwrap();
        assert_eq!(
            tx.list_subscriptions(Some(S::Canceled), page)
                .await
                .unwrap()
                .total,
            1
        );
        assert_eq!(tx.list_subscriptions(None, page).await.unwrap().total, 3);
    }

    #[tokio::test]
    async fn the_price_snapshot_is_exact() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let c = client(&mut tx, "3002").await;
        let p = plan(&mut tx).await;
        let mut n = new_sub(&c, &p, "2025-01-01", "2025-01-31", S::PendingPayment);
        let discount = DiscountPercent::parse("12.5".parse().unwrap()).unwrap();
        n.price = PriceSnapshot::new(money("99999.99"), Some(discount));
        let s = tx.insert_subscription(&n).await.unwrap();
        assert_eq!(s.price, n.price);
        let (again, paid) = tx
            .subscription_with_paid(s.id, Access::ForUpdate)
            .await
            .unwrap();
        assert_eq!((again.price, paid), (n.price, money("0")));
        assert_eq!(
            tx.subscription_with_paid(
                SubscriptionId::from_uuid(uuid::Uuid::new_v4()),
                Access::ForUpdate
            )
            .await
            .unwrap_err(),
            Error::NotFound {
                entity: "subscription"
            }
        );
    }

    #[tokio::test]
    async fn daily_jobs_follow_the_state_machine() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let p = plan(&mut tx).await;
        let today: NaiveDate = day("2025-03-15");
        let mut ids = Vec::new();
        for (i, (from, to, status, paid)) in [
            ("2025-02-01", "2025-03-14", S::Active, "100000"), // expired
            ("2025-02-01", "2025-03-14", S::PendingPayment, "0"), // expired unpaid
            ("2025-02-01", "2025-03-01", S::Scheduled, "0"),   // expired unpaid, never started
            ("2025-03-15", "2025-04-14", S::Scheduled, "100000"), // activated
            ("2025-03-10", "2025-04-09", S::Scheduled, "50000"), // awaiting payment
            ("2025-03-16", "2025-04-15", S::Scheduled, "0"),   // not yet
            ("2025-03-01", "2025-03-15", S::Active, "100000"), // last day today: stays
        ]
        .into_iter()
        .enumerate()
        {
            let c = client(&mut tx, &format!("40{i:02}")).await;
            let s = tx
                .insert_subscription(&new_sub(&c, &p, from, to, status))
                .await
                .unwrap();
            if paid != "0" {
                pay(&mut tx, s.id, paid).await;
            }
            ids.push(s.id);
        }
        let counts = tx.run_daily_jobs(today).await.unwrap();
        assert_eq!(
            counts,
            DailyJobCounts {
                activated: 1,
                awaiting_payment: 1,
                expired: 1,
                expired_unpaid: 2,
                expired_rewards: 0,
            }
        );
        let mut statuses = Vec::new();
        for id in &ids {
            statuses.push(
                tx.subscription_with_paid(*id, Access::Read)
                    .await
                    .unwrap()
                    .0
                    .status,
            );
        }
        assert_eq!(
            statuses,
            [
                S::Expired,
                S::Expired,
                S::Expired,
                S::Active,
                S::PendingPayment,
                S::Scheduled,
                S::Active
            ]
        );
        // Idempotent.
        assert_eq!(
            tx.run_daily_jobs(today).await.unwrap(),
            DailyJobCounts::default()
        );
    }
}
