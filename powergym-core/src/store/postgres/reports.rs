//! Reports on PostgreSQL: each section one set-based query.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{PgTransaction, errors};
use crate::domain::ids::ClientId;
use crate::domain::money::Money;
use crate::domain::report::{
    Activity, ActivityKind, AttendanceStats, ClientStats, FinancialStats, GymStatistics,
    InventoryStats, SubscriptionStats,
};
use crate::error::Result;
use crate::store::{ReportPeriod, ReportRepository};

fn n(v: i64) -> u64 {
    v.max(0) as u64
}

#[async_trait]
impl ReportRepository for PgTransaction {
    async fn statistics(&mut self, p: &ReportPeriod) -> Result<GymStatistics> {
        let c: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "select count(*), count(*) filter (where is_active), count(*) filter (where not is_active), \
               count(*) filter (where created_at >= $1 and created_at < $2), \
               count(*) filter (where is_active and exists (select 1 from subscriptions s \
                   where s.client_id = c.id and s.status = 'active')), \
               count(*) filter (where exists (select 1 from subscriptions s where s.client_id = c.id and s.status = 'expired') \
                   and not exists (select 1 from subscriptions s where s.client_id = c.id and s.status = 'active')), \
               count(*) filter (where exists (select 1 from subscriptions s \
                   where s.client_id = c.id and s.status = 'pending_payment')) \
             from clients c",
        )
        .bind(p.starts_at)
        .bind(p.ends_before)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let s: (i64, i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "select count(*), count(*) filter (where status = 'active'), count(*) filter (where status = 'expired'), \
               count(*) filter (where status = 'pending_payment'), count(*) filter (where status = 'scheduled'), \
               count(*) filter (where status = 'canceled'), \
               count(*) filter (where status = 'active' and end_date between $1 and $1 + 7), \
               count(*) filter (where status = 'expired' and end_date between $1 - 7 and $1) \
             from subscriptions",
        )
        .bind(p.today)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let f: (Decimal, i64, Decimal, Decimal) = sqlx::query_as(
            "select coalesce(sum(amount), 0), count(*), \
               coalesce(sum(amount) filter (where payment_method = 'cash'), 0), \
               coalesce(sum(amount) filter (where payment_method = 'qr'), 0) \
             from payments where payment_date >= $1 and payment_date < $2",
        )
        .bind(p.starts_at)
        .bind(p.ends_before)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let debt: (Decimal, i64) = sqlx::query_as(
            "select coalesce(sum(owed), 0), count(*) filter (where owed > 0) from ( \
               select greatest(s.final_price - coalesce((select sum(p.amount) from payments p \
                 where p.subscription_id = s.id), 0), 0) as owed \
               from subscriptions s where s.status in ('pending_payment', 'scheduled')) d",
        )
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let a: (i64, i64, i64) = sqlx::query_as(
            "select (select count(*) from attendances where business_date between $1 and $2), \
                    (select count(distinct client_id) from attendances where business_date between $1 and $2), \
                    (select count(*) from access_denials where business_date between $1 and $2)",
        )
        .bind(p.from)
        .bind(p.to)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let peak: Option<i32> = sqlx::query_scalar(
            "select extract(hour from entry_time at time zone $3)::int as h from attendances \
             where business_date between $1 and $2 group by h order by count(*) desc, h limit 1",
        )
        .bind(p.from)
        .bind(p.to)
        .bind(p.zone)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let i: (i64, i64, i64, i64, i64, Decimal, Decimal) = sqlx::query_as(
            "select count(*), count(*) filter (where is_active), \
               count(*) filter (where is_active and stock_status = 'LOW_STOCK'), \
               count(*) filter (where is_active and stock_status = 'STOCK_OUT'), \
               count(*) filter (where is_active and stock_status = 'OVERSTOCK'), \
               coalesce(sum(available_quantity * price) filter (where is_active), 0), \
               coalesce(sum(available_quantity) filter (where is_active), 0) \
             from products",
        )
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let sales: (i64, Decimal, Decimal) = sqlx::query_as(
            "select count(*), coalesce(sum(-quantity), 0), coalesce(sum(total_amount), 0) \
             from inventory_movements where movement_type = 'EXIT' and movement_date >= $1 and movement_date < $2",
        )
        .bind(p.starts_at)
        .bind(p.ends_before)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(GymStatistics {
            from: p.from,
            to: p.to,
            clients: ClientStats {
                total: n(c.0),
                active: n(c.1),
                inactive: n(c.2),
                new_in_period: n(c.3),
                with_active_subscription: n(c.4),
                with_expired_subscription: n(c.5),
                with_pending_payment: n(c.6),
            },
            subscriptions: SubscriptionStats {
                total: n(s.0),
                active: n(s.1),
                expired: n(s.2),
                pending_payment: n(s.3),
                scheduled: n(s.4),
                canceled: n(s.5),
                expiring_soon: n(s.6),
                expired_recently: n(s.7),
            },
            financial: FinancialStats {
                period_revenue: Money::from_stored(f.0),
                payments_count: n(f.1),
                average_payment: Money::ZERO,
                revenue_cash: Money::from_stored(f.2),
                revenue_qr: Money::from_stored(f.3),
                pending_debt: Money::from_stored(debt.0),
                debt_count: n(debt.1),
            },
            attendance: AttendanceStats {
                total_attendances: n(a.0),
                unique_visitors: n(a.1),
                peak_hour: peak.map(|h| h.clamp(0, 23) as u32),
                average_daily: Decimal::ZERO,
                attendance_rate: Decimal::ZERO,
                denied_check_ins: n(a.2),
            },
            inventory: InventoryStats {
                total_products: n(i.0),
                active_products: n(i.1),
                low_stock: n(i.2),
                out_of_stock: n(i.3),
                overstock: n(i.4),
                inventory_value: Money::from_stored(i.5),
                total_units: i.6.normalize(),
                sales_count: n(sales.0),
                units_sold: sales.1.normalize(),
                sales_amount: Money::from_stored(sales.2),
            },
            alerts: Vec::new(),
        })
    }

    async fn recent_activity(&mut self, since: DateTime<Utc>, limit: u32) -> Result<Vec<Activity>> {
        let rows: Vec<(String, DateTime<Utc>, Uuid, Uuid, Option<Decimal>)> = sqlx::query_as(
            "select * from ( \
               select 'check_in' as kind, entry_time as at, id, client_id, null::numeric as amount \
                 from attendances where entry_time >= $1 \
               union all select 'payment', p.payment_date, p.id, s.client_id, p.amount \
                 from payments p join subscriptions s on s.id = p.subscription_id where p.payment_date >= $1 \
               union all select 'client_registered', created_at, id, id, null from clients where created_at >= $1 \
               union all select 'subscription_created', created_at, id, client_id, null \
                 from subscriptions where created_at >= $1 \
             ) feed order by at desc, id limit $2",
        )
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, at, id, client, amount)| {
                let kind = match kind.as_str() {
                    "check_in" => ActivityKind::CheckIn,
                    "payment" => ActivityKind::Payment,
                    "client_registered" => ActivityKind::ClientRegistered,
                    "subscription_created" => ActivityKind::SubscriptionCreated,
                    _ => return None,
                };
                Some(Activity {
                    kind,
                    at,
                    record_id: id,
                    client_id: ClientId::from_uuid(client),
                    amount: amount.map(Money::from_stored),
                })
            })
            .collect())
    }
}
