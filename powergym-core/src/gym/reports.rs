//! Report use cases (admins only).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::money::{Money, round_cents};
use crate::domain::report::{Activity, GymStatistics};
use crate::domain::staff::{Action, Actor};
use crate::error::{Error, Result};
use crate::gym::Gym;
use crate::store::ReportPeriod;

/// Most items the activity feed returns.
pub(crate) const MAX_ACTIVITY_ITEMS: u32 = 50;

impl Gym {
    /// The gym's statistics between two business days, inclusive.
    pub async fn statistics(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<GymStatistics> {
        self.bounded(async move {
            if from > to {
                return Err(Error::validation("from", "must not be after `to`"));
            }
            let (starts_at, _) = self.calendar.day_bounds(from);
            let (_, ends_before) = self.calendar.day_bounds(to);
            let period = ReportPeriod {
                from,
                to,
                starts_at,
                ends_before,
                today: self.today(),
                zone: self.calendar.zone_name(),
            };
            let mut tx = self.begin_read_as(actor, Action::ReadStatistics).await?;
            let mut stats = tx.statistics(&period).await?;
            let f = &mut stats.financial;
            if f.payments_count > 0 {
                let mean = round_cents(f.period_revenue.amount() / Decimal::from(f.payments_count));
                f.average_payment = Money::parse("average_payment", mean)?;
            }
            let days = Decimal::from((to - from).num_days() + 1);
            let a = &mut stats.attendance;
            a.average_daily = round_cents(Decimal::from(a.total_attendances) / days);
            if stats.clients.active > 0 {
                a.attendance_rate = round_cents(
                    Decimal::from(a.unique_visitors) * Decimal::ONE_HUNDRED
                        / Decimal::from(stats.clients.active),
                );
            }
            stats.derive_alerts();
            Ok(stats)
        })
        .await
    }

    /// What happened in the last 24 hours, newest first: check-ins, payments,
    /// registrations and sales of subscriptions (1 to 50 items).
    pub async fn recent_activity(&self, actor: &Actor, limit: u32) -> Result<Vec<Activity>> {
        self.bounded(async move {
            if !(1..=MAX_ACTIVITY_ITEMS).contains(&limit) {
                return Err(Error::validation(
                    "limit",
                    format!("must be between 1 and {MAX_ACTIVITY_ITEMS}"),
                ));
            }
            let (now, _) = self.now();
            let mut tx = self.begin_read_as(actor, Action::ReadStatistics).await?;
            tx.recent_activity(now - chrono::Duration::hours(24), limit)
                .await
        })
        .await
    }
}
