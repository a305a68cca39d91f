//! Attendance rewards: a member who attends often enough during a subscription earns a
//! discount for a later one.
//!
//! Days here are the gym's business days (calendar days in its time zone). A reward is
//! usable from its eligible date through `expires_on`, inclusive: `expiration_days` days
//! in all.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use crate::domain::ids::ClientId;
use crate::domain::money::{DiscountPercent, Money};
use crate::domain::payment::PriceSnapshot;
use crate::domain::plan::DurationUnit;
use crate::domain::subscription::SubscriptionStatus;
use crate::error::{Error, Result};

/// How rewards are earned. Defaults are the original's (spec §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardConfig {
    attendance_threshold: u32,
    discount: DiscountPercent,
    expiration_days: u32,
    eligible_units: Vec<DurationUnit>,
}

impl RewardConfig {
    /// Validates a configuration: threshold and expiry above zero, at least one unit.
    pub fn new(
        attendance_threshold: u32,
        discount_percentage: Decimal,
        expiration_days: u32,
        eligible_units: Vec<DurationUnit>,
    ) -> Result<Self> {
        if attendance_threshold == 0 {
            return Err(Error::validation(
                "attendance_threshold",
                "must be greater than zero",
            ));
        }
        if expiration_days == 0 || expiration_days > 3660 {
            return Err(Error::validation(
                "expiration_days",
                "must be between 1 and 3660",
            ));
        }
        if eligible_units.is_empty() {
            return Err(Error::validation(
                "eligible_units",
                "must name at least one duration unit",
            ));
        }
        Ok(Self {
            attendance_threshold,
            discount: DiscountPercent::parse(discount_percentage)?,
            expiration_days,
            eligible_units,
        })
    }

    /// Distinct attendance days needed.
    pub fn attendance_threshold(&self) -> u32 {
        self.attendance_threshold
    }
    /// The discount a reward gives.
    pub fn discount(&self) -> DiscountPercent {
        self.discount
    }
    /// Days a reward stays usable.
    pub fn expiration_days(&self) -> u32 {
        self.expiration_days
    }
    /// Plan units whose subscriptions can earn rewards.
    pub fn eligible_units(&self) -> &[DurationUnit] {
        &self.eligible_units
    }
}

impl Default for RewardConfig {
    fn default() -> Self {
        Self {
            attendance_threshold: 20,
            discount: DiscountPercent::from_percent_const(20),
            expiration_days: 7,
            eligible_units: vec![DurationUnit::Month],
        }
    }
}

/// What an earning subscription looks like to the reward rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarningSubscription {
    /// Its status.
    pub status: SubscriptionStatus,
    /// Its plan's unit.
    pub unit: DurationUnit,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

/// The window of business days whose attendances count: start through
/// `min(end, today)`. `None` before the subscription starts.
pub fn attendance_window(
    sub: &EarningSubscription,
    today: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let last = sub.end.min(today);
    (last >= sub.start).then_some((sub.start, last))
}

/// The verdict on a subscription's attendance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewardDecision {
    /// Not (yet) earned, with the distinct days counted so far.
    NotEligible {
        /// Distinct attendance days in the window.
        attendance_count: u32,
    },
    /// Earned: a reward with these terms is due.
    Eligible {
        /// Distinct attendance days in the window.
        attendance_count: u32,
        /// The day it was earned.
        eligible_date: NaiveDate,
        /// Last day it can be applied.
        expires_on: NaiveDate,
        /// The discount it gives.
        discount: DiscountPercent,
    },
}

/// Decides whether `sub` earned a reward, given the distinct business days with an
/// attendance inside [`attendance_window`]. Only paid periods earn: `active` or
/// `expired` subscriptions of an eligible unit.
pub fn evaluate_reward(
    config: &RewardConfig,
    sub: &EarningSubscription,
    attendance_days: u32,
    today: NaiveDate,
) -> Result<RewardDecision> {
    let earning_status = matches!(
        sub.status,
        SubscriptionStatus::Active | SubscriptionStatus::Expired
    );
    if !earning_status
        || !config.eligible_units.contains(&sub.unit)
        || attendance_days < config.attendance_threshold
    {
        return Ok(RewardDecision::NotEligible {
            attendance_count: attendance_days,
        });
    }
    let eligible_date = sub.end.min(today);
    let expires_on = eligible_date
        .checked_add_days(Days::new(u64::from(config.expiration_days - 1)))
        .ok_or_else(|| {
            Error::validation(
                "expiration_days",
                "the expiry falls past the calendar's range",
            )
        })?;
    Ok(RewardDecision::Eligible {
        attendance_count: attendance_days,
        eligible_date,
        expires_on,
        discount: config.discount,
    })
}

/// The life of a reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RewardStatus {
    /// Earned, not used yet.
    Pending,
    /// Used on a subscription.
    Applied,
    /// Not used in time.
    Expired,
}

impl RewardStatus {
    /// The database label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied => "applied",
            Self::Expired => "expired",
        }
    }
}

impl std::str::FromStr for RewardStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(Self::Pending),
            "applied" => Ok(Self::Applied),
            "expired" => Ok(Self::Expired),
            _ => Err(Error::validation(
                "reward_status",
                "expected one of pending, applied, expired",
            )),
        }
    }
}

/// A pending reward as the apply rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RewardView {
    /// Its status.
    pub status: RewardStatus,
    /// Whose it is.
    pub client_id: ClientId,
    /// Last usable day.
    pub expires_on: NaiveDate,
    /// Its discount.
    pub discount: DiscountPercent,
}

/// The subscription a reward is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetSubscription {
    /// Whose it is.
    pub client_id: ClientId,
    /// Its status.
    pub status: SubscriptionStatus,
    /// Its current price snapshot.
    pub price: PriceSnapshot,
    /// Already paid on it.
    pub paid: Money,
}

/// Applies `reward` to `target`: only a pending, unexpired reward, only to a payable
/// subscription of the same client. Returns the target's new price snapshot.
pub fn apply_reward(
    reward: &RewardView,
    target: &TargetSubscription,
    today: NaiveDate,
) -> Result<PriceSnapshot> {
    match reward.status {
        RewardStatus::Pending if today <= reward.expires_on => {}
        RewardStatus::Pending | RewardStatus::Expired => {
            return Err(Error::Conflict {
                reason: "the reward has expired".into(),
            });
        }
        RewardStatus::Applied => {
            return Err(Error::Conflict {
                reason: "the reward was already applied".into(),
            });
        }
    }
    if reward.client_id != target.client_id {
        return Err(Error::validation(
            "subscription_id",
            "a reward can only be applied to a subscription of the same client",
        ));
    }
    if !target.status.accepts_payments() {
        return Err(Error::Conflict {
            reason: format!(
                "a reward can only be applied to a pending_payment or scheduled subscription, not a {} one",
                target.status
            ),
        });
    }
    target
        .price
        .with_extra_discount(reward.discount, target.paid)
}

/// A stored reward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reward {
    /// Identifier.
    pub id: uuid::Uuid,
    /// The subscription that earned it.
    pub subscription_id: crate::SubscriptionId,
    /// Whose it is.
    pub client_id: ClientId,
    /// Distinct attendance days that earned it.
    pub attendance_count: u32,
    /// Its discount.
    pub discount: DiscountPercent,
    /// The day it was earned.
    pub eligible_date: NaiveDate,
    /// Last day it can be applied.
    pub expires_on: NaiveDate,
    /// Pending, applied or expired.
    pub status: RewardStatus,
    /// When it was applied.
    pub applied_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The subscription it discounted.
    pub applied_subscription_id: Option<crate::SubscriptionId>,
}

/// Whether a pending reward has run out on `today`.
pub fn reward_expired(status: RewardStatus, expires_on: NaiveDate, today: NaiveDate) -> bool {
    status == RewardStatus::Pending && today > expires_on
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus as S;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    fn money(s: &str) -> Money {
        Money::parse("amount", dec(s)).unwrap()
    }
    fn monthly(status: S) -> EarningSubscription {
        EarningSubscription {
            status,
            unit: DurationUnit::Month,
            start: d("2025-06-01"),
            end: d("2025-06-30"),
        }
    }

    #[test]
    fn defaults_match_the_original() {
        let c = RewardConfig::default();
        assert_eq!(c.attendance_threshold(), 20);
        assert_eq!(c.discount().value(), dec("20"));
        assert_eq!(c.expiration_days(), 7);
        assert_eq!(c.eligible_units(), [DurationUnit::Month]);
        assert!(RewardConfig::new(0, dec("20"), 7, vec![DurationUnit::Month]).is_err());
        assert!(RewardConfig::new(20, dec("0"), 7, vec![DurationUnit::Month]).is_err());
        assert!(RewardConfig::new(20, dec("20"), 0, vec![DurationUnit::Month]).is_err());
        assert!(RewardConfig::new(20, dec("20"), 7, vec![]).is_err());
    }

    #[test]
    fn eligibility() {
        let c = RewardConfig::default();
        let mid = d("2025-06-25");
        let after = d("2025-07-10");
        let eligible = |r: RewardDecision| matches!(r, RewardDecision::Eligible { .. });
        assert!(eligible(
            evaluate_reward(&c, &monthly(S::Active), 20, mid).unwrap()
        ));
        assert!(!eligible(
            evaluate_reward(&c, &monthly(S::Active), 19, mid).unwrap()
        ));
        assert!(eligible(
            evaluate_reward(&c, &monthly(S::Expired), 25, after).unwrap()
        ));
        for s in [S::Canceled, S::PendingPayment, S::Scheduled] {
            assert!(
                !eligible(evaluate_reward(&c, &monthly(s), 30, mid).unwrap()),
                "{s}"
            );
        }
        let weekly = EarningSubscription {
            unit: DurationUnit::Week,
            ..monthly(S::Active)
        };
        assert!(!eligible(evaluate_reward(&c, &weekly, 30, mid).unwrap()));

        match evaluate_reward(&c, &monthly(S::Active), 20, mid).unwrap() {
            RewardDecision::Eligible {
                eligible_date,
                expires_on,
                ..
            } => {
                assert_eq!((eligible_date, expires_on), (mid, d("2025-07-01")));
            }
            other => panic!("{other:?}"),
        }
        match evaluate_reward(&c, &monthly(S::Expired), 20, after).unwrap() {
            RewardDecision::Eligible {
                eligible_date,
                expires_on,
                ..
            } => {
                assert_eq!(
                    (eligible_date, expires_on),
                    (d("2025-06-30"), d("2025-07-06"))
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn window() {
        let s = monthly(S::Active);
        assert_eq!(attendance_window(&s, d("2025-05-31")), None);
        assert_eq!(
            attendance_window(&s, d("2025-06-10")),
            Some((d("2025-06-01"), d("2025-06-10")))
        );
        assert_eq!(
            attendance_window(&s, d("2025-08-01")),
            Some((d("2025-06-01"), d("2025-06-30")))
        );
    }

    #[test]
    fn applying() {
        let ana = ClientId::from_uuid(uuid::Uuid::from_u128(1));
        let bob = ClientId::from_uuid(uuid::Uuid::from_u128(2));
        let reward = RewardView {
            status: RewardStatus::Pending,
            client_id: ana,
            expires_on: d("2025-07-06"),
            discount: DiscountPercent::parse(dec("20")).unwrap(),
        };
        let target = TargetSubscription {
            client_id: ana,
            status: S::Scheduled,
            price: PriceSnapshot::new(money("50000"), None),
            paid: Money::ZERO,
        };
        let today = d("2025-07-01");
        assert_eq!(
            apply_reward(&reward, &target, today).unwrap().final_price(),
            money("40000")
        );
        assert_eq!(
            apply_reward(&reward, &target, d("2025-07-06"))
                .unwrap()
                .final_price(),
            money("40000")
        );
        assert_eq!(
            apply_reward(&reward, &target, d("2025-07-07"))
                .unwrap_err()
                .kind(),
            "conflict"
        );
        let other = TargetSubscription {
            client_id: bob,
            ..target
        };
        assert_eq!(
            apply_reward(&reward, &other, today).unwrap_err().kind(),
            "validation"
        );
        let active = TargetSubscription {
            status: S::Active,
            ..target
        };
        assert_eq!(
            apply_reward(&reward, &active, today).unwrap_err().kind(),
            "conflict"
        );
        let used = RewardView {
            status: RewardStatus::Applied,
            ..reward
        };
        assert_eq!(
            apply_reward(&used, &target, today).unwrap_err().kind(),
            "conflict"
        );
        assert!(reward_expired(
            RewardStatus::Pending,
            d("2025-07-06"),
            d("2025-07-07")
        ));
        assert!(!reward_expired(
            RewardStatus::Pending,
            d("2025-07-06"),
            d("2025-07-06")
        ));
        assert!(!reward_expired(
            RewardStatus::Applied,
            d("2025-07-06"),
            d("2025-08-01")
        ));
    }
}
