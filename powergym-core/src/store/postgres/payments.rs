//! Payments on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{PgTransaction, errors, page_of};
use crate::domain::ids::{ClientId, SubscriptionId};
use crate::domain::money::Money;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::payment::{Payment, PaymentStats};
use crate::error::{Error, Result};
use crate::store::{NewPayment, PaymentRepository, PaymentScope};

pub(super) const COLUMNS: &str = "p.id, p.subscription_id, p.amount, p.payment_method::text as payment_method, \
    p.payment_date, p.received_by, p.notes, p.idempotency_key";

#[derive(sqlx::FromRow)]
pub(super) struct PaymentRow {
    id: Uuid,
    subscription_id: Uuid,
    amount: Decimal,
    payment_method: String,
    payment_date: DateTime<Utc>,
    received_by: Option<String>,
    notes: Option<String>,
    idempotency_key: Option<String>,
}

impl TryFrom<PaymentRow> for Payment {
    type Error = Error;
    fn try_from(r: PaymentRow) -> Result<Self> {
        Ok(Payment {
            id: r.id,
            subscription_id: SubscriptionId::from_uuid(r.subscription_id),
            amount: Money::from_stored(r.amount),
            method: r.payment_method.parse()?,
            payment_date: r.payment_date,
            received_by: r.received_by,
            notes: r.notes,
            idempotency_key: r.idempotency_key,
        })
    }
}

impl PgTransaction {
    async fn payment_page(
        &mut self,
        filter: &str,
        id: Uuid,
        page: PageRequest,
    ) -> Result<Page<Payment>> {
        let count = format!(
            "select count(*) from payments p join subscriptions s on s.id = p.subscription_id where {filter}"
        );
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(count))
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        let sql = format!(
            "select {COLUMNS} from payments p join subscriptions s on s.id = p.subscription_id \
             where {filter} order by p.payment_date desc, p.id desc limit $2 offset $3"
        );
        let rows: Vec<PaymentRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .bind(i64::from(page.limit()))
            .bind(page.offset() as i64)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        page_of(rows, total, page)
    }
}

#[async_trait]
impl PaymentRepository for PgTransaction {
    async fn payment_by_idempotency_key(&mut self, key: &str) -> Result<Option<Payment>> {
        let sql = format!("select {COLUMNS} from payments p where p.idempotency_key = $1");
        let row: Option<PaymentRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.map(Payment::try_from).transpose()
    }

    async fn insert_payment(&mut self, n: &NewPayment) -> Result<Payment> {
        let sql = format!(
            "insert into payments as p (subscription_id, amount, payment_method, received_by, notes, \
             idempotency_key, payment_date) values ($1, $2, $3::payment_method_enum, $4, $5, $6, $7) \
             returning {COLUMNS}"
        );
        let row: PaymentRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(n.subscription_id.as_uuid())
            .bind(n.amount.amount())
            .bind(n.method.as_str())
            .bind(&n.received_by)
            .bind(n.notes.as_deref())
            .bind(n.idempotency_key.as_deref())
            .bind(n.payment_date)
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
        self.payment_page("s.id = $1", id.as_uuid(), page).await
    }

    async fn client_payments(&mut self, id: ClientId, page: PageRequest) -> Result<Page<Payment>> {
        self.payment_page("s.client_id = $1", id.as_uuid(), page)
            .await
    }

    async fn payment_stats(&mut self, scope: PaymentScope) -> Result<PaymentStats> {
        let (filter, id) = match scope {
            PaymentScope::Subscription(id) => ("s.id = $1", id.as_uuid()),
            PaymentScope::Client(id) => ("s.client_id = $1", id.as_uuid()),
        };
        // Debt comes from each payable subscription's own price snapshot, never from the
        // plan's current price (the original's mistake).
        let sql = format!(
            "select \
               (select count(*) from payments p join subscriptions s on s.id = p.subscription_id where {filter}) as count, \
               (select coalesce(sum(p.amount), 0) from payments p join subscriptions s on s.id = p.subscription_id where {filter}) as total, \
               (select max(p.payment_date) from payments p join subscriptions s on s.id = p.subscription_id where {filter}) as last, \
               (select coalesce(sum(greatest(s.final_price - coalesce((select sum(p.amount) from payments p \
                    where p.subscription_id = s.id), 0), 0)), 0) \
                from subscriptions s where {filter} and s.status in ('pending_payment', 'scheduled')) as debt"
        );
        let (count, total, last, debt): (i64, Decimal, Option<DateTime<Utc>>, Decimal) =
            sqlx::query_as(AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        Ok(PaymentStats {
            count: count as u64,
            total_paid: Money::from_stored(total),
            remaining_debt: Money::from_stored(debt),
            last_payment_date: last,
        })
    }
}
