//! Reports on SQLite: PostgreSQL's set-based queries, ported.
//!
//! Instants are compared as INTEGER microseconds against the period's bounds, which the
//! caller computed from the gym's business calendar (`ReportPeriod::starts_at` /
//! `ends_before`); days are compared as `YYYY-MM-DD` text. Money sums are sums of INTEGER
//! hundredths, exact. The two computations SQLite cannot do exactly or at all run here:
//! the local hour of a check-in (PostgreSQL's `at time zone`, with the zone's daylight
//! rules) and the stock's value (a product of two amounts, which SQLite's 64-bit integer
//! product could overflow into floating point).

use async_trait::async_trait;
use chrono::{DateTime, Days, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::attendance::value::{cents, count, day_text, instant, micros, uuid_of};
use super::{SqliteTransaction, errors};
use crate::domain::ids::ClientId;
use crate::domain::money::Money;
use crate::domain::report::{
    Activity, ActivityKind, AttendanceStats, ClientStats, FinancialStats, GymStatistics,
    InventoryStats, SubscriptionStats,
};
use crate::error::{Error, Result};
use crate::store::{ReportPeriod, ReportRepository};

/// The busiest local hour of the day among these check-ins (most check-ins; the
/// earliest hour on a tie), as PostgreSQL's `extract(hour from entry_time at time zone
/// zone)` grouped and ordered by count.
fn peak_hour(entries: &[i64], zone: Tz) -> Result<Option<u32>> {
    let mut per_hour = [0u64; 24];
    for &us in entries {
        let local = instant(us)?.with_timezone(&zone);
        per_hour[local.hour() as usize % 24] += 1;
    }
    // `max_by_key` keeps the last maximum; iterating hours in reverse makes it the
    // earliest.
    Ok(per_hour
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, n)| **n > 0)
        .max_by_key(|(_, n)| **n)
        .map(|(h, _)| h as u32))
}

#[async_trait]
impl ReportRepository for SqliteTransaction {
    async fn statistics(&mut self, p: &ReportPeriod) -> Result<GymStatistics> {
        let zone: Tz = p
            .zone
            .parse()
            .map_err(|_| Error::validation("time_zone", "is not a known IANA time zone"))?;
        let (starts, ends) = (micros(p.starts_at), micros(p.ends_before));
        let c: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "select count(*), count(*) filter (where is_active), count(*) filter (where not is_active), \
               count(*) filter (where created_at >= ?1 and created_at < ?2), \
               count(*) filter (where is_active and exists (select 1 from subscriptions s \
                   where s.client_id = c.id and s.status = 'active')), \
               count(*) filter (where exists (select 1 from subscriptions s \
                   where s.client_id = c.id and s.status = 'expired') \
                   and not exists (select 1 from subscriptions s \
                   where s.client_id = c.id and s.status = 'active')), \
               count(*) filter (where exists (select 1 from subscriptions s \
                   where s.client_id = c.id and s.status = 'pending_payment')) \
             from clients c",
        )
        .bind(starts)
        .bind(ends)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        // PostgreSQL's `date ± 7`; a day outside chrono's range cannot be a business day.
        let today = p.today;
        let week_ahead = today.checked_add_days(Days::new(7)).unwrap_or(today);
        let week_ago = today.checked_sub_days(Days::new(7)).unwrap_or(today);
        let s: (i64, i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "select count(*), count(*) filter (where status = 'active'), \
               count(*) filter (where status = 'expired'), \
               count(*) filter (where status = 'pending_payment'), \
               count(*) filter (where status = 'scheduled'), \
               count(*) filter (where status = 'canceled'), \
               count(*) filter (where status = 'active' and end_date between ?1 and ?2), \
               count(*) filter (where status = 'expired' and end_date between ?3 and ?1) \
             from subscriptions",
        )
        .bind(day_text(today))
        .bind(day_text(week_ahead))
        .bind(day_text(week_ago))
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let f: (i64, i64, i64, i64) = sqlx::query_as(
            "select coalesce(sum(amount), 0), count(*), \
               coalesce(sum(amount) filter (where payment_method = 'cash'), 0), \
               coalesce(sum(amount) filter (where payment_method = 'qr'), 0) \
             from payments where payment_date >= ?1 and payment_date < ?2",
        )
        .bind(starts)
        .bind(ends)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let debt: (i64, i64) = sqlx::query_as(
            "select coalesce(sum(owed), 0), count(*) filter (where owed > 0) from ( \
               select max(s.final_price - coalesce((select sum(p.amount) from payments p \
                 where p.subscription_id = s.id), 0), 0) as owed \
               from subscriptions s where s.status in ('pending_payment', 'scheduled')) d",
        )
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let (from, to) = (day_text(p.from), day_text(p.to));
        let a: (i64, i64, i64) = sqlx::query_as(
            "select (select count(*) from attendances where business_date between ?1 and ?2), \
                    (select count(distinct client_id) from attendances \
                       where business_date between ?1 and ?2), \
                    (select count(*) from access_denials where business_date between ?1 and ?2)",
        )
        .bind(&from)
        .bind(&to)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let entries: Vec<i64> = sqlx::query_scalar(
            "select entry_time from attendances where business_date between ?1 and ?2",
        )
        .bind(&from)
        .bind(&to)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let peak = peak_hour(&entries, zone)?;
        let i: (i64, i64, i64, i64, i64) = sqlx::query_as(
            "select count(*), count(*) filter (where is_active), \
               count(*) filter (where is_active and stock_status = 'LOW_STOCK'), \
               count(*) filter (where is_active and stock_status = 'STOCK_OUT'), \
               count(*) filter (where is_active and stock_status = 'OVERSTOCK') \
             from products",
        )
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let stock: Vec<(i64, i64)> =
            sqlx::query_as("select available_quantity, price from products where is_active")
                .fetch_all(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        let (inventory_value, total_units) = super::inventory::stock_value(&stock)?;
        let sales: (i64, i64, i64) = sqlx::query_as(
            "select count(*), coalesce(sum(-quantity), 0), coalesce(sum(total_amount), 0) \
             from inventory_movements where movement_type = 'EXIT' \
             and movement_date >= ?1 and movement_date < ?2",
        )
        .bind(starts)
        .bind(ends)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(GymStatistics {
            from: p.from,
            to: p.to,
            clients: ClientStats {
                total: count(c.0),
                active: count(c.1),
                inactive: count(c.2),
                new_in_period: count(c.3),
                with_active_subscription: count(c.4),
                with_expired_subscription: count(c.5),
                with_pending_payment: count(c.6),
            },
            subscriptions: SubscriptionStats {
                total: count(s.0),
                active: count(s.1),
                expired: count(s.2),
                pending_payment: count(s.3),
                scheduled: count(s.4),
                canceled: count(s.5),
                expiring_soon: count(s.6),
                expired_recently: count(s.7),
            },
            financial: FinancialStats {
                period_revenue: Money::from_stored(cents(f.0)),
                payments_count: count(f.1),
                average_payment: Money::ZERO,
                revenue_cash: Money::from_stored(cents(f.2)),
                revenue_qr: Money::from_stored(cents(f.3)),
                pending_debt: Money::from_stored(cents(debt.0)),
                debt_count: count(debt.1),
            },
            attendance: AttendanceStats {
                total_attendances: count(a.0),
                unique_visitors: count(a.1),
                peak_hour: peak,
                average_daily: Decimal::ZERO,
                attendance_rate: Decimal::ZERO,
                denied_check_ins: count(a.2),
            },
            inventory: InventoryStats {
                total_products: count(i.0),
                active_products: count(i.1),
                low_stock: count(i.2),
                out_of_stock: count(i.3),
                overstock: count(i.4),
                inventory_value: Money::from_stored(inventory_value),
                total_units: total_units.normalize(),
                sales_count: count(sales.0),
                units_sold: cents(sales.1).normalize(),
                sales_amount: Money::from_stored(cents(sales.2)),
            },
            alerts: Vec::new(),
        })
    }

    async fn recent_activity(&mut self, since: DateTime<Utc>, limit: u32) -> Result<Vec<Activity>> {
        let rows: Vec<(String, i64, String, String, Option<i64>)> = sqlx::query_as(
            "select * from ( \
               select 'check_in' as kind, entry_time as at, id, client_id, null as amount \
                 from attendances where entry_time >= ?1 \
               union all select 'payment', p.payment_date, p.id, s.client_id, p.amount \
                 from payments p join subscriptions s on s.id = p.subscription_id \
                 where p.payment_date >= ?1 \
               union all select 'client_registered', created_at, id, id, null \
                 from clients where created_at >= ?1 \
               union all select 'subscription_created', created_at, id, client_id, null \
                 from subscriptions where created_at >= ?1 \
             ) feed order by at desc, id limit ?2",
        )
        .bind(micros(since))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let mut feed = Vec::with_capacity(rows.len());
        for (kind, at, id, client, amount) in rows {
            let kind = match kind.as_str() {
                "check_in" => ActivityKind::CheckIn,
                "payment" => ActivityKind::Payment,
                "client_registered" => ActivityKind::ClientRegistered,
                "subscription_created" => ActivityKind::SubscriptionCreated,
                _ => continue,
            };
            feed.push(Activity {
                kind,
                at: instant(at)?,
                record_id: uuid_of(&id)?,
                client_id: ClientId::from_uuid(uuid_of(&client)?),
                amount: amount.map(|a| Money::from_stored(cents(a))),
            });
        }
        Ok(feed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::attendance::tests::{check_in, subscription};
    use super::super::testing::{admin, client, day, migrated, money};
    use super::*;
    use crate::domain::calendar::BusinessCalendar;
    use crate::domain::payment::PaymentMethod;
    use crate::store::{NewPayment, Store};
    use chrono::TimeZone;

    #[tokio::test]
    async fn statistics_count_within_the_business_days() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let ana = client(&mut tx, "1001").await;
        let ben = client(&mut tx, "1002").await;
        let sub = subscription(&mut tx, &ana).await;
        let calendar = BusinessCalendar::default();
        // 23:30 in Bogotá on 2 March (04:30 UTC on the 3rd), and 18:00 on 3 March.
        let late = Utc.with_ymd_and_hms(2026, 3, 3, 4, 30, 0).unwrap();
        let evening = Utc.with_ymd_and_hms(2026, 3, 3, 23, 0, 0).unwrap();
        tx.insert_attendance(&check_in(&ana, &sub, late, "2026-03-02", None))
            .await
            .unwrap();
        tx.insert_attendance(&check_in(&ana, &sub, evening, "2026-03-03", None))
            .await
            .unwrap();
        let paid = tx
            .insert_payment(&NewPayment {
                subscription_id: sub.id,
                amount: money("40000.25"),
                method: PaymentMethod::Cash,
                received_by: "admin".into(),
                notes: None,
                idempotency_key: None,
                payment_date: late,
            })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let period = |from: &str, to: &str| {
            let (from, to) = (day(from), day(to));
            ReportPeriod {
                from,
                to,
                starts_at: calendar.day_bounds(from).0,
                ends_before: calendar.day_bounds(to).1,
                today: day("2026-03-03"),
                zone: calendar.zone_name(),
            }
        };
        let mut tx = store.begin().await.unwrap();
        let s = tx
            .statistics(&period("2026-03-02", "2026-03-02"))
            .await
            .unwrap();
        assert_eq!(s.attendance.total_attendances, 1);
        assert_eq!(s.attendance.unique_visitors, 1);
        assert_eq!(s.attendance.peak_hour, Some(23));
        // The payment at 23:30 local time on the 2nd belongs to the 2nd.
        assert_eq!(s.financial.period_revenue, money("40000.25"));
        assert_eq!(s.financial.revenue_cash, money("40000.25"));
        assert_eq!(s.financial.payments_count, 1);
        assert_eq!(s.clients.total, 2);
        assert_eq!(s.clients.with_active_subscription, 1);
        assert_eq!(s.subscriptions.active, 1);
        // Ends on the 31st: more than 7 days ahead.
        assert_eq!(s.subscriptions.expiring_soon, 0);
        let s = tx
            .statistics(&period("2026-03-03", "2026-03-03"))
            .await
            .unwrap();
        assert_eq!(s.financial.period_revenue, Money::ZERO);
        assert_eq!(s.attendance.total_attendances, 1);
        assert_eq!(s.attendance.peak_hour, Some(18));
        let feed = tx
            .recent_activity(late - chrono::Duration::days(30), 10)
            .await
            .unwrap();
        assert_eq!(
            feed.iter()
                .filter(|a| a.kind == ActivityKind::CheckIn)
                .count(),
            2
        );
        let payment = feed
            .iter()
            .find(|a| a.kind == ActivityKind::Payment)
            .unwrap();
        assert_eq!(
            (payment.record_id, payment.client_id, payment.amount),
            (paid.id, ana.id, Some(money("40000.25")))
        );
        assert_eq!(
            feed.iter()
                .filter(|a| a.kind == ActivityKind::ClientRegistered)
                .count(),
            2
        );
        assert!(feed.iter().any(|a| a.client_id == ben.id));
        assert!(feed.windows(2).all(|w| w[0].at >= w[1].at));
    }

    #[test]
    fn the_peak_hour_is_local_and_the_earliest_on_a_tie() {
        let bogota: Tz = "America/Bogota".parse().unwrap();
        // 23:30 UTC is 18:30 in Bogotá (UTC−5).
        let at = |h, m| micros(Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap());
        assert_eq!(peak_hour(&[], bogota).unwrap(), None);
        let entries = [at(23, 30), at(23, 40), at(12, 0), at(12, 10)];
        assert_eq!(peak_hour(&entries, bogota).unwrap(), Some(7));
        assert_eq!(peak_hour(&entries[..3], bogota).unwrap(), Some(18));
    }
}
