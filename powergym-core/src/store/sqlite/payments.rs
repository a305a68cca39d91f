//! Payments on SQLite. The schema holds the money rules: a payment's amount is positive
//! (`payments_amount_check`), payments never add up past the final price
//! (`payments_within_final_price`), a receipt is never edited (`payments_immutable`), and
//! a retry key is recorded once (`payments_idempotency_key_key`).

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::attendance::value::{cents, count, hundredths, instant, micros, page_of, uuid_of};
use super::{SqliteTransaction, errors};
use crate::domain::ids::{ClientId, SubscriptionId};
use crate::domain::money::Money;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::payment::{Payment, PaymentStats};
use crate::error::{Error, Result};
use crate::store::{NewPayment, PaymentRepository, PaymentScope};

const COLUMNS: &str = "p.id, p.subscription_id, p.amount, p.payment_method, p.payment_date, \
    p.received_by, p.notes, p.idempotency_key";

/// [`COLUMNS`] for a `returning` clause, which SQLite reads without the table's alias.
const RETURNING: &str = "id, subscription_id, amount, payment_method, payment_date, \
    received_by, notes, idempotency_key";

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: String,
    subscription_id: String,
    amount: i64,
    payment_method: String,
    payment_date: i64,
    received_by: Option<String>,
    notes: Option<String>,
    idempotency_key: Option<String>,
}

impl TryFrom<PaymentRow> for Payment {
    type Error = Error;
    fn try_from(r: PaymentRow) -> Result<Self> {
        Ok(Payment {
            id: uuid_of(&r.id)?,
            subscription_id: SubscriptionId::from_uuid(uuid_of(&r.subscription_id)?),
            amount: Money::from_stored(cents(r.amount)),
            method: r.payment_method.parse()?,
            payment_date: instant(r.payment_date)?,
            received_by: r.received_by,
            notes: r.notes,
            idempotency_key: r.idempotency_key,
        })
    }
}

impl SqliteTransaction {
    /// A page of payments matching `filter` (on `s`, the subscription, with `?1` its
    /// argument), newest first.
    async fn payment_page(
        &mut self,
        filter: &str,
        id: String,
        page: PageRequest,
    ) -> Result<Page<Payment>> {
        let count_sql = format!(
            "select count(*) from payments p join subscriptions s on s.id = p.subscription_id \
             where {filter}"
        );
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(count_sql))
            .bind(&id)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        let sql = format!(
            "select {COLUMNS} from payments p join subscriptions s on s.id = p.subscription_id \
             where {filter} order by p.payment_date desc, p.id desc limit ?2 offset ?3"
        );
        let rows: Vec<PaymentRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(&id)
            .bind(i64::from(page.limit()))
            .bind(page.offset() as i64)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        page_of(rows, total, page)
    }
}

#[async_trait]
impl PaymentRepository for SqliteTransaction {
    async fn payment_by_idempotency_key(&mut self, key: &str) -> Result<Option<Payment>> {
        let sql = format!("select {COLUMNS} from payments p where p.idempotency_key = ?1");
        let row: Option<PaymentRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.map(Payment::try_from).transpose()
    }

    async fn insert_payment(&mut self, n: &NewPayment) -> Result<Payment> {
        let sql = format!(
            "insert into payments (id, subscription_id, amount, payment_method, received_by, \
             notes, idempotency_key, payment_date) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             returning {RETURNING}"
        );
        let row: PaymentRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(n.subscription_id.as_uuid().to_string())
            .bind(hundredths("amount", n.amount.amount())?)
            .bind(n.method.as_str())
            .bind(&n.received_by)
            .bind(n.notes.as_deref())
            .bind(n.idempotency_key.as_deref())
            .bind(micros(n.payment_date))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.try_into()
    }

    async fn subscription_payments(
        &mut self,
        id: SubscriptionId,
        page: PageRequest,
    ) -> Result<Page<Payment>> {
        self.payment_page("s.id = ?1", id.as_uuid().to_string(), page)
            .await
    }

    async fn client_payments(&mut self, id: ClientId, page: PageRequest) -> Result<Page<Payment>> {
        self.payment_page("s.client_id = ?1", id.as_uuid().to_string(), page)
            .await
    }

    async fn payment_stats(&mut self, scope: PaymentScope) -> Result<PaymentStats> {
        let (filter, id) = match scope {
            PaymentScope::Subscription(id) => ("s.id = ?1", id.as_uuid().to_string()),
            PaymentScope::Client(id) => ("s.client_id = ?1", id.as_uuid().to_string()),
        };
        // Debt comes from each payable subscription's own price snapshot, never from the
        // plan's current price.
        let sql = format!(
            "select \
               (select count(*) from payments p join subscriptions s on s.id = p.subscription_id where {filter}), \
               (select coalesce(sum(p.amount), 0) from payments p join subscriptions s on s.id = p.subscription_id where {filter}), \
               (select max(p.payment_date) from payments p join subscriptions s on s.id = p.subscription_id where {filter}), \
               (select coalesce(sum(max(s.final_price - coalesce((select sum(p.amount) from payments p \
                    where p.subscription_id = s.id), 0), 0)), 0) \
                from subscriptions s where {filter} and s.status in ('pending_payment', 'scheduled'))"
        );
        let (n, total, last, debt): (i64, i64, Option<i64>, i64) =
            sqlx::query_as(AssertSqlSafe(sql))
                .bind(&id)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        Ok(PaymentStats {
            count: count(n),
            total_paid: Money::from_stored(cents(total)),
            remaining_debt: Money::from_stored(cents(debt)),
            last_payment_date: last.map(instant).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{admin, client, day, migrated, money, plan};
    use crate::domain::money::Currency;
    use crate::domain::paging::PageRequest;
    use crate::domain::payment::{PaymentMethod, PriceSnapshot};
    use crate::domain::subscription::SubscriptionStatus as S;
    use crate::error::Error;
    use crate::store::{Access, NewPayment, NewSubscription, PaymentScope, Store};

    #[tokio::test]
    async fn payments_stay_within_the_price_keep_their_keys_and_never_change() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let c = client(&mut tx, "5001").await;
        let p = plan(&mut tx).await;
        let s = tx
            .insert_subscription(&NewSubscription {
                client_id: c.id,
                plan_id: p.id,
                start_date: day("2025-01-01"),
                end_date: day("2025-01-31"),
                status: S::PendingPayment,
                price: PriceSnapshot::new(money("100000"), None),
                currency: Currency::COP,
                created_by: "admin".into(),
            })
            .await
            .unwrap();
        let payment = |amount: &str, key: Option<&str>, at: i64| NewPayment {
            subscription_id: s.id,
            amount: money(amount),
            method: PaymentMethod::Cash,
            received_by: "admin".into(),
            notes: None,
            idempotency_key: key.map(str::to_owned),
            payment_date: chrono::DateTime::from_timestamp(1_736_000_000 + at, 0).unwrap(),
        };
        let first = tx
            .insert_payment(&payment("60000.25", Some("k1"), 0))
            .await
            .unwrap();
        assert_eq!(first.amount, money("60000.25"));
        let over = tx
            .insert_payment(&payment("40000.00", None, 1))
            .await
            .unwrap_err();
        assert!(
            matches!(&over, Error::Conflict { reason } if reason.contains("final price")),
            "{over:?}"
        );
        assert_eq!(
            tx.insert_payment(&payment("1", Some("k1"), 2))
                .await
                .unwrap_err(),
            Error::AlreadyExists {
                entity: "payment",
                field: "idempotency_key"
            }
        );
        assert!(matches!(
            tx.insert_payment(&payment("0", None, 3)).await.unwrap_err(),
            Error::Validation {
                field: "amount",
                ..
            }
        ));
        let second = tx
            .insert_payment(&payment("39999.75", None, 4))
            .await
            .unwrap();
        assert_eq!(
            tx.payment_by_idempotency_key("k1").await.unwrap(),
            Some(first.clone())
        );
        assert_eq!(tx.payment_by_idempotency_key("k2").await.unwrap(), None);

        let page = PageRequest::new(10, 0).unwrap();
        let listed = tx.subscription_payments(s.id, page).await.unwrap();
        assert_eq!(listed.total, 2);
        assert_eq!(listed.items[0].id, second.id, "newest first");
        assert_eq!(tx.client_payments(c.id, page).await.unwrap().total, 2);
        let stats = tx.payment_stats(PaymentScope::Client(c.id)).await.unwrap();
        assert_eq!(stats.count, 2);
        assert_eq!(stats.total_paid, money("100000"));
        assert_eq!(stats.remaining_debt, money("0"));
        assert_eq!(stats.last_payment_date, Some(second.payment_date));
        tx.commit().await.unwrap();

        // A receipt is never edited, and its subscription cannot be deleted.
        let immutable = sqlx::query("update payments set amount = 1 where id = ?1")
            .bind(first.id.to_string())
            .execute(store.pool())
            .await
            .map_err(super::errors::map)
            .unwrap_err();
        assert!(matches!(immutable, Error::Conflict { .. }), "{immutable:?}");
        let kept = sqlx::query("delete from subscriptions where id = ?1")
            .bind(s.id.as_uuid().to_string())
            .execute(store.pool())
            .await
            .map_err(super::errors::map)
            .unwrap_err();
        assert_eq!(
            kept,
            Error::NotFound {
                entity: "subscription"
            }
        );
    }

    /// Concurrent payments on one file: each transaction reads the balance and writes
    /// in turn (IMMEDIATE), so exactly what fits is paid and the rest is refused, never
    /// a lock timeout.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_payments_never_pass_the_price() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let c = client(&mut tx, "5003").await;
        let p = plan(&mut tx).await;
        let s = tx
            .insert_subscription(&NewSubscription {
                client_id: c.id,
                plan_id: p.id,
                start_date: day("2025-01-01"),
                end_date: day("2025-01-31"),
                status: S::PendingPayment,
                price: PriceSnapshot::new(money("50000"), None),
                currency: Currency::COP,
                created_by: "admin".into(),
            })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let store = std::sync::Arc::new(store);
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let store = std::sync::Arc::clone(&store);
                tokio::spawn(async move {
                    let mut tx = store.begin().await?;
                    let (_, paid) = tx.subscription_with_paid(s.id, Access::ForUpdate).await?;
                    if paid.amount() + money("10000").amount() > money("50000").amount() {
                        return Ok(false);
                    }
                    tx.insert_payment(&NewPayment {
                        subscription_id: s.id,
                        amount: money("10000"),
                        method: PaymentMethod::Cash,
                        received_by: "admin".into(),
                        notes: None,
                        idempotency_key: Some(format!("task-{i}")),
                        payment_date: chrono::Utc::now(),
                    })
                    .await?;
                    tx.commit().await?;
                    Ok::<bool, Error>(true)
                })
            })
            .collect();
        let mut paid = 0;
        for t in tasks {
            if t.await.unwrap().unwrap() {
                paid += 1;
            }
        }
        assert_eq!(paid, 5);
        let mut tx = store.begin().await.unwrap();
        let stats = tx
            .payment_stats(PaymentScope::Subscription(s.id))
            .await
            .unwrap();
        assert_eq!((stats.count, stats.total_paid), (5, money("50000")));
    }

    #[tokio::test]
    async fn debt_counts_payable_subscriptions_only() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let c = client(&mut tx, "5002").await;
        let p = plan(&mut tx).await;
        let s = tx
            .insert_subscription(&NewSubscription {
                client_id: c.id,
                plan_id: p.id,
                start_date: day("2025-01-01"),
                end_date: day("2025-01-31"),
                status: S::PendingPayment,
                price: PriceSnapshot::new(money("80000.10"), None),
                currency: Currency::COP,
                created_by: "admin".into(),
            })
            .await
            .unwrap();
        tx.insert_payment(&NewPayment {
            subscription_id: s.id,
            amount: money("0.10"),
            method: PaymentMethod::Qr,
            received_by: "admin".into(),
            notes: Some("first".into()),
            idempotency_key: None,
            payment_date: chrono::Utc::now(),
        })
        .await
        .unwrap();
        let stats = tx
            .payment_stats(PaymentScope::Subscription(s.id))
            .await
            .unwrap();
        assert_eq!(stats.remaining_debt, money("80000"));
        assert_eq!(stats.total_paid, money("0.1"));
        tx.update_subscription_status(s.id, S::PendingPayment, S::Expired)
            .await
            .unwrap();
        let stats = tx.payment_stats(PaymentScope::Client(c.id)).await.unwrap();
        assert_eq!(stats.remaining_debt, money("0"));
    }
}
