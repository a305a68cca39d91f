//! The subscription status state machine.
//!
//! One exhaustive `match` decides every transition; there is no wildcard arm, so adding a
//! status or an event does not compile until each pair has been decided. Creating and
//! renewing start a new subscription and are decided by [`initial_status`]; everything
//! else is an event on an existing one and is decided by [`transition`].

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::error::{Error, Result};

/// Where a subscription is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionStatus {
    /// Created and waiting for full payment; its period has started.
    PendingPayment,
    /// Its period starts on a later day.
    Scheduled,
    /// Fully paid and in its period: the client may enter.
    Active,
    /// Its period is over.
    Expired,
    /// Canceled by staff; terminal.
    Canceled,
}

impl SubscriptionStatus {
    /// Every status, in a stable order.
    pub const ALL: [Self; 5] = [
        Self::PendingPayment,
        Self::Scheduled,
        Self::Active,
        Self::Expired,
        Self::Canceled,
    ];

    /// The database label (and binding value) of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "pending_payment",
            Self::Scheduled => "scheduled",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Canceled => "canceled",
        }
    }

    /// Payments are accepted in these statuses only.
    pub fn accepts_payments(self) -> bool {
        matches!(self, Self::PendingPayment | Self::Scheduled)
    }
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubscriptionStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                Error::validation(
                    "status",
                    "expected one of pending_payment, scheduled, active, expired, canceled",
                )
            })
    }
}

/// Something that happens to an existing subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionEvent {
    /// A payment was recorded.
    Pay,
    /// The business day reached the start date (daily job).
    StartDateReached,
    /// The business day passed the end date (daily job).
    EndDatePassed,
    /// Staff canceled it.
    Cancel,
}

impl SubscriptionEvent {
    /// Every event, in a stable order.
    pub const ALL: [Self; 4] = [
        Self::Pay,
        Self::StartDateReached,
        Self::EndDatePassed,
        Self::Cancel,
    ];

    /// Stable snake_case name, shared with the bindings and conformance vectors.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pay => "pay",
            Self::StartDateReached => "start_date_reached",
            Self::EndDatePassed => "end_date_passed",
            Self::Cancel => "cancel",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Self::Pay => "pay",
            Self::StartDateReached => "start",
            Self::EndDatePassed => "expire",
            Self::Cancel => "cancel",
        }
    }
}

impl fmt::Display for SubscriptionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.verb())
    }
}

impl FromStr for SubscriptionEvent {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|event| event.as_str() == s)
            .ok_or_else(|| {
                Error::validation(
                    "event",
                    "expected one of pay, start_date_reached, end_date_passed, cancel",
                )
            })
    }
}

/// What the state machine needs to know about money and dates when an event happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransitionContext {
    /// The price snapshot is fully paid (after the payment being recorded, if any).
    pub fully_paid: bool,
    /// Today is on or after the start date.
    pub start_reached: bool,
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Identifier.
    pub id: crate::SubscriptionId,
    /// Whose it is.
    pub client_id: crate::ClientId,
    /// Which plan was bought.
    pub plan_id: crate::PlanId,
    /// First covered day.
    pub start_date: NaiveDate,
    /// Last covered day.
    pub end_date: NaiveDate,
    /// Status as stored (see [`crate::domain::access::effective_status`] for the status
    /// on a given day before the daily jobs run).
    pub status: SubscriptionStatus,
    /// Price fixed at purchase.
    pub price: crate::domain::payment::PriceSnapshot,
    /// Currency of the price.
    pub currency: crate::domain::money::Currency,
    /// Day it was canceled.
    pub cancellation_date: Option<NaiveDate>,
    /// Why it was canceled.
    pub cancellation_reason: Option<String>,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Subscription {
    /// How the access rule sees it, given what has been paid on it.
    pub fn view(
        &self,
        paid: crate::domain::money::Money,
    ) -> crate::domain::access::SubscriptionView {
        crate::domain::access::SubscriptionView {
            id: self.id,
            status: self.status,
            start: self.start_date,
            end: self.end_date,
            fully_paid: paid >= self.price.final_price(),
        }
    }

    /// Its status on `today` once overdue daily-job events are applied, so a rule never
    /// depends on whether the jobs have run yet.
    pub fn status_on(
        &self,
        paid: crate::domain::money::Money,
        today: NaiveDate,
    ) -> SubscriptionStatus {
        crate::domain::access::effective_status(&self.view(paid), today)
    }

    /// Its covered days and status.
    pub fn period(&self) -> Period {
        Period {
            start: self.start_date,
            end: self.end_date,
            status: self.status,
        }
    }
}

/// The status a new subscription (created or renewed) starts in.
///
/// A period that starts later is `Scheduled`, even when it is free: the daily job makes
/// it `Active` on its start date. A free period that has started is `Active` at once (the
/// original left free subscriptions stuck unpaid forever).
pub fn initial_status(
    start: NaiveDate,
    today: NaiveDate,
    effective_price_is_zero: bool,
) -> SubscriptionStatus {
    match (start > today, effective_price_is_zero) {
        (true, _) => SubscriptionStatus::Scheduled,
        (false, true) => SubscriptionStatus::Active,
        (false, false) => SubscriptionStatus::PendingPayment,
    }
}

/// Validates the business day the daily jobs are asked to run for: within the range
/// callers may give ([`check_business_date`](crate::domain::calendar::check_business_date))
/// and not after the gym's current business day `today`. Running for a past day catches
/// up on days the jobs missed; running for a future day would expire live periods early
/// (and cannot be undone), so it is refused.
pub fn daily_jobs_day(day: NaiveDate, today: NaiveDate) -> Result<NaiveDate> {
    let day = crate::domain::calendar::check_business_date("today", day)?;
    if day > today {
        return Err(Error::validation(
            "today",
            "must not be after the gym's current business day",
        ));
    }
    Ok(day)
}

/// A subscription's covered days, inclusive, and whether it still holds them (every
/// status but `canceled` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First covered day.
    pub start: NaiveDate,
    /// Last covered day.
    pub end: NaiveDate,
    /// The subscription's status.
    pub status: SubscriptionStatus,
}

impl Period {
    /// True when both periods hold a common day (canceled periods hold none).
    pub fn overlaps(&self, other: &Period) -> bool {
        let live = |p: &Period| p.status != SubscriptionStatus::Canceled;
        live(self) && live(other) && self.start <= other.end && other.start <= self.end
    }
}

/// Refuses a new period that shares a day with one of the client's live periods. The
/// database's `subscriptions_no_overlap` constraint holds the same line under races.
pub fn ensure_no_overlap(existing: &[Period], new: &Period) -> Result<()> {
    if existing.iter().any(|p| p.overlaps(new)) {
        return Err(Error::Conflict {
            reason: "the client already has a subscription covering part of that period".into(),
        });
    }
    Ok(())
}

/// The status after `event`, or [`Error::InvalidTransition`] when the event is illegal in
/// the current status.
pub fn transition(
    from: SubscriptionStatus,
    event: SubscriptionEvent,
    ctx: TransitionContext,
) -> Result<SubscriptionStatus> {
    use SubscriptionEvent as E;
    use SubscriptionStatus as S;

    let paid_status = |started: bool| match (ctx.fully_paid, started) {
        (true, true) => S::Active,
        (true, false) | (false, false) => S::Scheduled,
        (false, true) => S::PendingPayment,
    };

    let to = match (from, event) {
        // Paid in full before its start (rows adopted with a future start): wait in
        // `scheduled`; the daily job activates it on the start date.
        (S::PendingPayment, E::Pay) => match (ctx.fully_paid, ctx.start_reached) {
            (true, true) => S::Active,
            (true, false) => S::Scheduled,
            (false, _) => S::PendingPayment,
        },
        (S::Scheduled, E::Pay) => paid_status(ctx.start_reached),
        (S::Scheduled, E::StartDateReached) => paid_status(true),
        (S::Active, E::EndDatePassed)
        | (S::PendingPayment, E::EndDatePassed)
        | (S::Scheduled, E::EndDatePassed) => S::Expired,
        (S::PendingPayment, E::Cancel) | (S::Scheduled, E::Cancel) | (S::Active, E::Cancel) => {
            S::Canceled
        }
        (S::Active, E::Pay)
        | (S::Expired, E::Pay)
        | (S::Canceled, E::Pay)
        | (S::PendingPayment, E::StartDateReached)
        | (S::Active, E::StartDateReached)
        | (S::Expired, E::StartDateReached)
        | (S::Canceled, E::StartDateReached)
        | (S::Expired, E::EndDatePassed)
        | (S::Canceled, E::EndDatePassed)
        | (S::Expired, E::Cancel)
        | (S::Canceled, E::Cancel) => return Err(Error::InvalidTransition { from, event }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionEvent as E;
    use SubscriptionStatus as S;

    const PAID_STARTED: TransitionContext = TransitionContext {
        fully_paid: true,
        start_reached: true,
    };
    const UNPAID_STARTED: TransitionContext = TransitionContext {
        fully_paid: false,
        start_reached: true,
    };
    const PAID_FUTURE: TransitionContext = TransitionContext {
        fully_paid: true,
        start_reached: false,
    };
    const UNPAID_FUTURE: TransitionContext = TransitionContext {
        fully_paid: false,
        start_reached: false,
    };

    #[test]
    fn daily_jobs_run_for_today_or_a_past_day_only() {
        let today: NaiveDate = "2025-06-15".parse().unwrap();
        for ok in ["2025-06-15", "2025-06-14", "2000-01-01"] {
            let day: NaiveDate = ok.parse().unwrap();
            assert_eq!(daily_jobs_day(day, today).unwrap(), day);
        }
        for bad in ["2025-06-16", "9999-12-31", "1999-12-31"] {
            let err = daily_jobs_day(bad.parse().unwrap(), today).unwrap_err();
            assert!(
                matches!(err, Error::Validation { field: "today", .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn legal_transitions() {
        let cases = [
            (S::PendingPayment, E::Pay, UNPAID_STARTED, S::PendingPayment),
            (S::PendingPayment, E::Pay, PAID_STARTED, S::Active),
            (S::PendingPayment, E::Pay, PAID_FUTURE, S::Scheduled),
            (S::Scheduled, E::Pay, UNPAID_FUTURE, S::Scheduled),
            (S::Scheduled, E::Pay, PAID_FUTURE, S::Scheduled),
            (S::Scheduled, E::StartDateReached, PAID_STARTED, S::Active),
            (
                S::Scheduled,
                E::StartDateReached,
                UNPAID_STARTED,
                S::PendingPayment,
            ),
            (S::Active, E::EndDatePassed, PAID_STARTED, S::Expired),
            (
                S::PendingPayment,
                E::EndDatePassed,
                UNPAID_STARTED,
                S::Expired,
            ),
            (S::Scheduled, E::EndDatePassed, UNPAID_STARTED, S::Expired),
            (S::PendingPayment, E::Cancel, UNPAID_STARTED, S::Canceled),
            (S::Scheduled, E::Cancel, UNPAID_FUTURE, S::Canceled),
            (S::Active, E::Cancel, PAID_STARTED, S::Canceled),
        ];
        for (from, event, ctx, to) in cases {
            assert_eq!(
                transition(from, event, ctx),
                Ok(to),
                "{from} + {event:?} {ctx:?}"
            );
        }
    }

    #[test]
    fn illegal_transitions_name_status_and_event() {
        let cases = [
            (S::Active, E::Pay),
            (S::Expired, E::Pay),
            (S::Canceled, E::Pay),
            (S::Active, E::StartDateReached),
            (S::PendingPayment, E::StartDateReached),
            (S::Expired, E::Cancel),
            (S::Canceled, E::Cancel),
            (S::Canceled, E::EndDatePassed),
            (S::Expired, E::EndDatePassed),
        ];
        for (from, event) in cases {
            let err = transition(from, event, PAID_STARTED).unwrap_err();
            assert_eq!(err, Error::InvalidTransition { from, event });
        }
    }

    #[test]
    fn canceled_is_terminal() {
        for event in SubscriptionEvent::ALL {
            for ctx in [PAID_STARTED, UNPAID_STARTED, PAID_FUTURE, UNPAID_FUTURE] {
                assert!(transition(S::Canceled, event, ctx).is_err());
            }
        }
    }

    #[test]
    fn initial_status_by_start_date_and_price() {
        let today: NaiveDate = "2025-06-15".parse().unwrap();
        let tomorrow = today.succ_opt().unwrap();
        let yesterday = today.pred_opt().unwrap();
        assert_eq!(initial_status(tomorrow, today, false), S::Scheduled);
        assert_eq!(initial_status(tomorrow, today, true), S::Scheduled);
        assert_eq!(initial_status(today, today, false), S::PendingPayment);
        assert_eq!(initial_status(yesterday, today, false), S::PendingPayment);
        assert_eq!(initial_status(today, today, true), S::Active);
    }

    #[test]
    fn overlap() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let june = Period {
            start: d("2025-06-01"),
            end: d("2025-06-30"),
            status: S::Active,
        };
        let july = Period {
            start: d("2025-07-01"),
            end: d("2025-07-31"),
            status: S::Scheduled,
        };
        let last_day = Period {
            start: d("2025-06-30"),
            end: d("2025-07-29"),
            status: S::PendingPayment,
        };
        assert!(ensure_no_overlap(&[june], &july).is_ok());
        assert!(ensure_no_overlap(&[june], &last_day).is_err());
        let canceled = Period {
            status: S::Canceled,
            ..june
        };
        assert!(ensure_no_overlap(&[canceled], &last_day).is_ok());
    }

    mod properties {
        use super::super::*;
        use super::{E, S};
        use crate::domain::plan::{DurationUnit, PlanDuration, renewal_start};
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Create {
                offset: i64,
                unit: u8,
                count: u32,
                free: bool,
            },
            Renew {
                unit: u8,
                count: u32,
            },
            Pay {
                index: usize,
                full: bool,
            },
            Cancel {
                index: usize,
            },
            NextDays {
                days: i64,
            },
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                (-40i64..60, 0u8..4, 1u32..4, any::<bool>()).prop_map(
                    |(offset, unit, count, free)| Op::Create {
                        offset,
                        unit,
                        count,
                        free
                    }
                ),
                (0u8..4, 1u32..4).prop_map(|(unit, count)| Op::Renew { unit, count }),
                (0usize..8, any::<bool>()).prop_map(|(index, full)| Op::Pay { index, full }),
                (0usize..8).prop_map(|index| Op::Cancel { index }),
                (1i64..45).prop_map(|days| Op::NextDays { days }),
            ]
        }

        struct Sub {
            period: Period,
            paid: bool,
        }

        fn daily_jobs(subs: &mut [Sub], today: NaiveDate) {
            for s in subs.iter_mut() {
                let ctx = TransitionContext {
                    fully_paid: s.paid,
                    start_reached: s.period.start <= today,
                };
                if s.period.status == S::Scheduled && s.period.start <= today {
                    s.period.status =
                        transition(s.period.status, E::StartDateReached, ctx).unwrap();
                }
                if s.period.end < today
                    && let Ok(to) = transition(s.period.status, E::EndDatePassed, ctx)
                {
                    s.period.status = to;
                }
            }
        }

        proptest! {
            #[test]
            fn no_sequence_of_events_yields_two_live_periods_sharing_a_day(ops in proptest::collection::vec(op(), 1..40)) {
                let units = DurationUnit::ALL;
                let mut today: NaiveDate = "2025-01-15".parse().unwrap();
                let mut subs: Vec<Sub> = Vec::new();
                for op in ops {
                    match op {
                        Op::Create { offset, unit, count, free } => {
                            let start = today + chrono::Duration::days(offset);
                            let end = PlanDuration::new(units[unit as usize], count).unwrap().end_date(start).unwrap();
                            let status = initial_status(start, today, free);
                            let new = Period { start, end, status };
                            let existing: Vec<Period> = subs.iter().map(|s| s.period).collect();
                            if ensure_no_overlap(&existing, &new).is_ok() {
                                subs.push(Sub { period: new, paid: free });
                            }
                        }
                        Op::Renew { unit, count } => {
                            let latest = subs.iter().filter(|s| s.period.status != S::Canceled).map(|s| s.period.end).max();
                            let start = renewal_start(latest, today);
                            let end = PlanDuration::new(units[unit as usize], count).unwrap().end_date(start).unwrap();
                            let new = Period { start, end, status: initial_status(start, today, false) };
                            let existing: Vec<Period> = subs.iter().map(|s| s.period).collect();
                            prop_assert!(ensure_no_overlap(&existing, &new).is_ok(), "a renewal never overlaps");
                            subs.push(Sub { period: new, paid: false });
                        }
                        Op::Pay { index, full } => {
                            if let Some(s) = subs.get_mut(index) {
                                let ctx = TransitionContext { fully_paid: full, start_reached: s.period.start <= today };
                                if let Ok(to) = transition(s.period.status, E::Pay, ctx) {
                                    s.period.status = to;
                                    s.paid = full;
                                }
                            }
                        }
                        Op::Cancel { index } => {
                            if let Some(s) = subs.get_mut(index)
                                && let Ok(to) = transition(s.period.status, E::Cancel, TransitionContext::default())
                            {
                                s.period.status = to;
                            }
                        }
                        Op::NextDays { days } => {
                            today += chrono::Duration::days(days);
                            daily_jobs(&mut subs, today);
                        }
                    }
                    for (i, a) in subs.iter().enumerate() {
                        prop_assert!(a.period.end >= a.period.start);
                        for b in &subs[i + 1..] {
                            prop_assert!(!a.period.overlaps(&b.period), "{:?} and {:?} share a day", a.period, b.period);
                        }
                        // Only a paid period that has started is active.
                        if a.period.status == S::Active {
                            prop_assert!(a.paid && a.period.start <= today);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in SubscriptionStatus::ALL {
            assert_eq!(s.as_str().parse::<S>(), Ok(s));
        }
        for e in SubscriptionEvent::ALL {
            assert_eq!(e.as_str().parse::<E>(), Ok(e));
        }
        assert!("ACTIVE".parse::<S>().is_err());
    }
}
