//! The check-in decision: may this client enter today?
//!
//! The decision looks at each subscription's *effective* status on `today`, derived with
//! the state machine from the stored status, so a daily job that has not run yet (an
//! `active` row whose end passed, a paid `scheduled` row whose start arrived) never lets
//! a member in wrongly or keeps one out.

use chrono::NaiveDate;

use crate::domain::ids::SubscriptionId;
use crate::domain::subscription::{
    SubscriptionEvent, SubscriptionStatus, TransitionContext, transition,
};

/// How a client was identified at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckInMethod {
    /// By document number.
    Document,
    /// By face.
    Face,
    /// By client id, chosen by staff.
    Manual,
}

impl CheckInMethod {
    /// The database label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Face => "face",
            Self::Manual => "manual",
        }
    }
}

impl std::str::FromStr for CheckInMethod {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "document" => Ok(Self::Document),
            "face" => Ok(Self::Face),
            "manual" => Ok(Self::Manual),
            _ => Err(crate::Error::validation(
                "method",
                "expected document, face or manual",
            )),
        }
    }
}

/// A recorded check-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendance {
    /// Identifier.
    pub id: uuid::Uuid,
    /// Who entered.
    pub client_id: crate::ClientId,
    /// On which subscription.
    pub subscription_id: Option<SubscriptionId>,
    /// When.
    pub entry_time: chrono::DateTime<chrono::Utc>,
    /// The gym's business day of `entry_time`.
    pub business_date: NaiveDate,
    /// How the client was identified.
    pub method: CheckInMethod,
    /// Who let them in.
    pub recorded_by: Option<String>,
}

/// What happened at the door. A denial is an answer, not an error: it is returned, and
/// recorded for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckInOutcome {
    /// The client entered; the attendance was recorded.
    Granted(Attendance),
    /// The client may not enter.
    Denied(DenialReason),
}

/// Why a check-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenialReason {
    /// The client is deactivated.
    ClientInactive,
    /// The client has no subscription that covers today.
    NoSubscription,
    /// The client's paid subscription starts on a later day.
    NotStartedYet,
    /// The client's last subscription has ended.
    Expired,
    /// The client's subscription for today is not fully paid.
    Unpaid,
    /// The client already checked in on this business day.
    AlreadyCheckedIn,
}

impl DenialReason {
    /// Stable snake_case code, shared with the bindings and conformance vectors.
    pub fn code(self) -> &'static str {
        match self {
            Self::ClientInactive => "client_inactive",
            Self::NoSubscription => "no_subscription",
            Self::NotStartedYet => "not_started_yet",
            Self::Expired => "subscription_expired",
            Self::Unpaid => "unpaid",
            Self::AlreadyCheckedIn => "already_checked_in",
        }
    }
}

impl std::fmt::Display for DenialReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A subscription as the decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionView {
    /// Identifier, echoed in a grant.
    pub id: SubscriptionId,
    /// Stored status.
    pub status: SubscriptionStatus,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// Its price snapshot is fully paid.
    pub fully_paid: bool,
}

/// The outcome of a check-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessDecision {
    /// The client may enter on this subscription.
    Granted {
        /// The subscription that covers today.
        subscription_id: SubscriptionId,
    },
    /// The client may not enter.
    Denied(DenialReason),
}

/// The status `sub` has on `today` once overdue daily-job events are applied.
pub fn effective_status(sub: &SubscriptionView, today: NaiveDate) -> SubscriptionStatus {
    let ctx = TransitionContext {
        fully_paid: sub.fully_paid,
        start_reached: sub.start <= today,
    };
    let mut status = sub.status;
    if status == SubscriptionStatus::Scheduled && sub.start <= today {
        status = transition(status, SubscriptionEvent::StartDateReached, ctx).unwrap_or(status);
    }
    if sub.end < today {
        status = transition(status, SubscriptionEvent::EndDatePassed, ctx).unwrap_or(status);
    }
    status
}

/// Decides a check-in. Denial reasons are tried in the order a front desk can act on:
/// inactive client, already in today, then — when no subscription grants access — an
/// unpaid period covering today, a paid period that starts later, a period that ended,
/// and finally no subscription at all.
pub fn decide_access(
    client_active: bool,
    already_checked_in_today: bool,
    subscriptions: &[SubscriptionView],
    today: NaiveDate,
) -> AccessDecision {
    use SubscriptionStatus as S;
    if !client_active {
        return AccessDecision::Denied(DenialReason::ClientInactive);
    }
    if already_checked_in_today {
        return AccessDecision::Denied(DenialReason::AlreadyCheckedIn);
    }
    let covers_today = |s: &SubscriptionView| s.start <= today && today <= s.end;
    let effective: Vec<(SubscriptionView, S)> = subscriptions
        .iter()
        .map(|s| (*s, effective_status(s, today)))
        .collect();
    if let Some((s, _)) = effective
        .iter()
        .find(|(s, st)| *st == S::Active && covers_today(s))
    {
        return AccessDecision::Granted {
            subscription_id: s.id,
        };
    }
    let any =
        |pred: &dyn Fn(&SubscriptionView, S) -> bool| effective.iter().any(|(s, st)| pred(s, *st));
    let reason = if any(&|s, st| st == S::PendingPayment && covers_today(s)) {
        DenialReason::Unpaid
    } else if any(&|s, st| matches!(st, S::Scheduled | S::Active) && s.start > today) {
        DenialReason::NotStartedYet
    } else if any(&|_, st| st == S::Expired) {
        DenialReason::Expired
    } else {
        DenialReason::NoSubscription
    };
    AccessDecision::Denied(reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus as S;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn sub(n: u128, status: S, start: &str, end: &str, fully_paid: bool) -> SubscriptionView {
        SubscriptionView {
            id: SubscriptionId::from_uuid(uuid::Uuid::from_u128(n)),
            status,
            start: d(start),
            end: d(end),
            fully_paid,
        }
    }

    #[test]
    fn decisions() {
        let today = d("2025-06-15");
        let granted = |n: u128| AccessDecision::Granted {
            subscription_id: SubscriptionId::from_uuid(uuid::Uuid::from_u128(n)),
        };
        let denied = AccessDecision::Denied;
        let cases: Vec<(&str, bool, bool, Vec<SubscriptionView>, AccessDecision)> = vec![
            (
                "active covering today",
                true,
                false,
                vec![sub(1, S::Active, "2025-06-01", "2025-06-30", true)],
                granted(1),
            ),
            (
                "last day",
                true,
                false,
                vec![sub(1, S::Active, "2025-05-16", "2025-06-15", true)],
                granted(1),
            ),
            (
                "first day",
                true,
                false,
                vec![sub(1, S::Active, "2025-06-15", "2025-07-14", true)],
                granted(1),
            ),
            (
                "inactive client",
                false,
                false,
                vec![sub(1, S::Active, "2025-06-01", "2025-06-30", true)],
                denied(DenialReason::ClientInactive),
            ),
            (
                "already in",
                true,
                true,
                vec![sub(1, S::Active, "2025-06-01", "2025-06-30", true)],
                denied(DenialReason::AlreadyCheckedIn),
            ),
            (
                "nothing",
                true,
                false,
                vec![],
                denied(DenialReason::NoSubscription),
            ),
            (
                "unpaid",
                true,
                false,
                vec![sub(1, S::PendingPayment, "2025-06-01", "2025-06-30", false)],
                denied(DenialReason::Unpaid),
            ),
            (
                "future paid",
                true,
                false,
                vec![sub(1, S::Scheduled, "2025-07-01", "2025-07-31", true)],
                denied(DenialReason::NotStartedYet),
            ),
            // Rows adopted from the original can be active before their start.
            (
                "active row starting tomorrow",
                true,
                false,
                vec![sub(1, S::Active, "2025-06-16", "2025-07-15", true)],
                denied(DenialReason::NotStartedYet),
            ),
            (
                "ended",
                true,
                false,
                vec![sub(1, S::Expired, "2025-05-01", "2025-05-31", true)],
                denied(DenialReason::Expired),
            ),
            (
                "ended, job not run",
                true,
                false,
                vec![sub(1, S::Active, "2025-05-01", "2025-06-14", true)],
                denied(DenialReason::Expired),
            ),
            (
                "paid scheduled, job not run",
                true,
                false,
                vec![sub(1, S::Scheduled, "2025-06-15", "2025-07-14", true)],
                granted(1),
            ),
            (
                "unpaid scheduled, job not run",
                true,
                false,
                vec![sub(1, S::Scheduled, "2025-06-15", "2025-07-14", false)],
                denied(DenialReason::Unpaid),
            ),
            (
                "canceled only",
                true,
                false,
                vec![sub(1, S::Canceled, "2025-06-01", "2025-06-30", true)],
                denied(DenialReason::NoSubscription),
            ),
            (
                "expired then renewed",
                true,
                false,
                vec![
                    sub(1, S::Expired, "2025-05-01", "2025-05-31", true),
                    sub(2, S::Active, "2025-06-01", "2025-06-30", true),
                ],
                granted(2),
            ),
            (
                "unpaid beats expired",
                true,
                false,
                vec![
                    sub(1, S::Expired, "2025-05-01", "2025-05-31", true),
                    sub(2, S::PendingPayment, "2025-06-01", "2025-06-30", false),
                ],
                denied(DenialReason::Unpaid),
            ),
        ];
        for (name, active, already, subs, expected) in cases {
            assert_eq!(
                decide_access(active, already, &subs, today),
                expected,
                "{name}"
            );
        }
    }
}
