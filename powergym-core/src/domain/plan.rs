//! Plan durations and the period a subscription covers.
//!
//! # End dates
//!
//! A period is inclusive: it covers `start` through `end`, and `end = start + N units −
//! 1 day`. Days and weeks are exact. Months and years use calendar arithmetic that clamps
//! to the end of the target month (Jan 31 + 1 month lands on Feb 28/29).
//!
//! # Month-end policy (renewals chained from a month end)
//!
//! The original clamps and then subtracts a day, so periods chained from a month end
//! drift: Jan 31 → Feb 27, next Feb 28 → Mar 27, next Mar 28 → … — the member loses the
//! month-end anchor for good. PowerGym keeps the anchor: **a period that starts on the
//! last day of a month is a month-end period, and its N months end the day before the
//! last day of the target month.** Chained from Jan 31 (2025): Jan 31 – Feb 27,
//! Feb 28 – Mar 30, Mar 31 – Apr 29, Apr 30 – May 30, May 31 – Jun 29 … every renewal
//! starts on a month end again. A period that starts on any other day keeps the plain
//! rule (Jan 30 + 1 month = Feb 27). A renewal starts the day after the client's latest
//! period ends, so chained periods never overlap and never leave a gap.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate};

use crate::domain::calendar::check_business_date;
use crate::domain::text;
use crate::error::{Error, Result};

/// Longest plan slug, in characters (`plans.slug`, `varchar(150)`).
pub const MAX_SLUG_CHARS: usize = 150;

/// The unit of a plan's duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurationUnit {
    /// Calendar days.
    Day,
    /// Seven days.
    Week,
    /// Calendar months.
    Month,
    /// Calendar years.
    Year,
}

impl DurationUnit {
    /// Every unit, in a stable order.
    pub const ALL: [Self; 4] = [Self::Day, Self::Week, Self::Month, Self::Year];

    /// The database label and binding value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// Most units of this kind in a plan: 100 years' worth.
    fn max_count(self) -> u32 {
        match self {
            Self::Day => 36_600,
            Self::Week => 5_228,
            Self::Month => 1_200,
            Self::Year => 100,
        }
    }
}

impl fmt::Display for DurationUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DurationUnit {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|u| u.as_str() == lower)
            .ok_or_else(|| {
                Error::validation("duration_unit", "expected one of day, week, month, year")
            })
    }
}

/// A plan's length: a unit and a count greater than zero, at most 100 years long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlanDuration {
    unit: DurationUnit,
    count: u32,
}

impl PlanDuration {
    /// Validates `count` units.
    pub fn new(unit: DurationUnit, count: u32) -> Result<Self> {
        if count == 0 {
            return Err(Error::validation(
                "duration_count",
                "must be greater than zero",
            ));
        }
        if count > unit.max_count() {
            return Err(Error::validation(
                "duration_count",
                "must be at most 100 years long",
            ));
        }
        Ok(Self { unit, count })
    }

    /// The unit.
    pub fn unit(&self) -> DurationUnit {
        self.unit
    }

    /// How many units.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The last day (inclusive) of a period of this length starting on `start`; see the
    /// module docs for the month-end policy. `start` must lie within
    /// [`EARLIEST_DATE`](crate::domain::calendar::EARLIEST_DATE)..=[`LATEST_DATE`](crate::domain::calendar::LATEST_DATE),
    /// so every end date is one each binding can read back.
    pub fn end_date(&self, start: NaiveDate) -> Result<NaiveDate> {
        check_business_date("start_date", start)?;
        let past_end = match self.unit {
            DurationUnit::Day => start.checked_add_days(Days::new(u64::from(self.count))),
            DurationUnit::Week => start.checked_add_days(Days::new(7 * u64::from(self.count))),
            DurationUnit::Month => add_months_anchored(start, self.count),
            DurationUnit::Year => add_months_anchored(start, self.count.saturating_mul(12)),
        };
        past_end.and_then(|d| d.pred_opt()).ok_or_else(|| {
            Error::validation(
                "start_date",
                "the period would end past the calendar's range",
            )
        })
    }
}

fn is_last_day_of_month(d: NaiveDate) -> bool {
    d.succ_opt().is_none_or(|next| next.month() != d.month())
}

fn last_day_of_month(d: NaiveDate) -> Option<NaiveDate> {
    let first = d.with_day(1)?;
    first.checked_add_months(Months::new(1))?.pred_opt()
}

/// `start + months`, clamped to the target month's end; a start on a month's last day
/// lands on the target month's last day.
fn add_months_anchored(start: NaiveDate, months: u32) -> Option<NaiveDate> {
    let target = start.checked_add_months(Months::new(months))?;
    if is_last_day_of_month(start) {
        last_day_of_month(target)
    } else {
        Some(target)
    }
}

/// A membership plan as sold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Identifier.
    pub id: crate::PlanId,
    /// Name shown to members.
    pub name: String,
    /// Unique URL-friendly key, if any.
    pub slug: Option<String>,
    /// Longer description.
    pub description: Option<String>,
    /// Current list price.
    pub price: crate::domain::money::Money,
    /// Currency of the price.
    pub currency: crate::domain::money::Currency,
    /// Length of a period.
    pub duration: PlanDuration,
    /// Inactive plans are not sold.
    pub is_active: bool,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A new plan as typed by an admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanInput {
    /// Name ([`text::PLAN_NAME`]: 1–150 characters, spaces collapsed).
    pub name: String,
    /// Unique key (lower-case letters, digits and inner dashes, at most 150), optional.
    pub slug: Option<String>,
    /// Description, optional ([`text::PLAN_DESCRIPTION`]: at most 2,000 characters).
    pub description: Option<String>,
    /// List price.
    pub price: rust_decimal::Decimal,
    /// Currency code; COP when absent.
    pub currency: Option<String>,
    /// Unit of the duration.
    pub duration_unit: DurationUnit,
    /// Units per period.
    pub duration_count: u32,
}

/// A validated new plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlan {
    pub(crate) name: String,
    pub(crate) slug: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) price: crate::domain::money::Money,
    pub(crate) currency: crate::domain::money::Currency,
    pub(crate) duration: PlanDuration,
}

impl NewPlan {
    /// Validates every field.
    pub fn parse(input: PlanInput) -> Result<Self> {
        let name = text::PLAN_NAME.parse(&input.name)?;
        let slug = match input.slug.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(parse_slug(s)?),
        };
        let description = text::PLAN_DESCRIPTION.parse_optional(input.description.as_deref())?;
        Ok(Self {
            name,
            slug,
            description,
            price: crate::domain::money::Money::parse("price", input.price)?,
            currency: match input.currency {
                Some(c) => crate::domain::money::Currency::parse(&c)?,
                None => crate::domain::money::Currency::COP,
            },
            duration: PlanDuration::new(input.duration_unit, input.duration_count)?,
        })
    }
}

/// Validates a plan slug: lower-case ASCII letters, digits and inner dashes, 1 to
/// [`MAX_SLUG_CHARS`] characters, surrounding spaces trimmed. Lookups by slug use it too,
/// so a malformed slug is refused before it reaches the database.
pub fn parse_slug(raw: &str) -> Result<String> {
    let s = raw.trim();
    let ok = !s.is_empty()
        && s.len() <= MAX_SLUG_CHARS
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if !ok {
        return Err(Error::validation(
            "slug",
            "must be lower-case letters, digits and inner dashes, at most 150",
        ));
    }
    Ok(s.to_owned())
}

/// Changes to a plan; `None` leaves a field as it is. Subscriptions already sold keep
/// their price snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description (blank clears it).
    pub description: Option<String>,
    /// New list price.
    pub price: Option<rust_decimal::Decimal>,
}

impl PlanUpdate {
    /// The plan after this update, validated.
    pub fn apply_to(&self, plan: &Plan) -> Result<Plan> {
        let input = PlanInput {
            name: self.name.clone().unwrap_or_else(|| plan.name.clone()),
            slug: plan.slug.clone(),
            description: match &self.description {
                Some(d) => Some(d.clone()),
                None => plan.description.clone(),
            },
            price: self.price.unwrap_or(plan.price.amount()),
            currency: Some(plan.currency.as_str().to_owned()),
            duration_unit: plan.duration.unit(),
            duration_count: plan.duration.count(),
        };
        let valid = NewPlan::parse(input)?;
        Ok(Plan {
            name: valid.name,
            description: valid.description,
            price: valid.price,
            ..plan.clone()
        })
    }
}

/// Where a renewal starts: the day after the client's latest period ends (or `today`
/// when the client has no period ending today or later).
pub fn renewal_start(latest_end: Option<NaiveDate>, today: NaiveDate) -> NaiveDate {
    match latest_end.and_then(|end| end.succ_opt()) {
        Some(next) if next > today => next,
        _ => today,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn end_dates() {
        use DurationUnit::*;
        let cases = [
            ("2025-01-01", Month, 1, "2025-01-31"),
            ("2025-01-15", Month, 1, "2025-02-14"),
            ("2025-01-31", Month, 1, "2025-02-27"),
            ("2024-01-31", Month, 1, "2024-02-28"),
            ("2025-01-30", Month, 1, "2025-02-27"),
            ("2025-02-28", Month, 1, "2025-03-30"),
            ("2024-02-28", Month, 1, "2024-03-27"),
            ("2024-02-29", Month, 1, "2024-03-30"),
            ("2025-04-30", Month, 1, "2025-05-30"),
            ("2025-01-31", Month, 3, "2025-04-29"),
            ("2025-01-01", Month, 12, "2025-12-31"),
            ("2024-02-29", Year, 1, "2025-02-27"),
            ("2023-02-28", Year, 1, "2024-02-28"),
            ("2025-03-10", Year, 1, "2026-03-09"),
            ("2025-06-15", Day, 1, "2025-06-15"),
            ("2025-06-15", Day, 30, "2025-07-14"),
            ("2025-06-15", Week, 1, "2025-06-21"),
            ("2025-12-29", Week, 2, "2026-01-11"),
        ];
        for (start, unit, count, end) in cases {
            let got = PlanDuration::new(unit, count)
                .unwrap()
                .end_date(d(start))
                .unwrap();
            assert_eq!(got, d(end), "{start} + {count} {unit}");
        }
    }

    #[test]
    fn chained_month_end_renewals_keep_the_anchor() {
        let month = PlanDuration::new(DurationUnit::Month, 1).unwrap();
        let mut start = d("2025-01-31");
        let mut periods = Vec::new();
        for _ in 0..6 {
            let end = month.end_date(start).unwrap();
            periods.push((start, end));
            start = end.succ_opt().unwrap();
        }
        let starts: Vec<String> = periods.iter().map(|(s, _)| s.to_string()).collect();
        assert_eq!(
            starts,
            [
                "2025-01-31",
                "2025-02-28",
                "2025-03-31",
                "2025-04-30",
                "2025-05-31",
                "2025-06-30"
            ]
        );
    }

    #[test]
    fn durations_are_bounded() {
        assert!(PlanDuration::new(DurationUnit::Month, 0).is_err());
        assert!(PlanDuration::new(DurationUnit::Year, 100).is_ok());
        assert!(PlanDuration::new(DurationUnit::Year, 101).is_err());
        assert!(PlanDuration::new(DurationUnit::Month, 1_200).is_ok());
        assert!(PlanDuration::new(DurationUnit::Month, 1_201).is_err());
        assert!(PlanDuration::new(DurationUnit::Day, 36_600).is_ok());
        assert!(PlanDuration::new(DurationUnit::Day, 36_601).is_err());
        let err = PlanDuration::new(DurationUnit::Day, 1)
            .unwrap()
            .end_date(NaiveDate::MAX);
        assert!(err.is_err());
    }

    #[test]
    fn renewal_starts_after_the_latest_period() {
        let today = d("2025-06-15");
        assert_eq!(renewal_start(Some(d("2025-06-30")), today), d("2025-07-01"));
        assert_eq!(renewal_start(Some(d("2025-06-15")), today), d("2025-06-16"));
        assert_eq!(renewal_start(Some(d("2025-06-14")), today), today);
        assert_eq!(renewal_start(None, today), today);
    }

    fn unit() -> impl Strategy<Value = DurationUnit> {
        prop_oneof![
            Just(DurationUnit::Day),
            Just(DurationUnit::Week),
            Just(DurationUnit::Month),
            Just(DurationUnit::Year)
        ]
    }

    proptest! {
        #[test]
        fn end_is_never_before_start(days in 0i64..40_000, u in unit(), count in 1u32..40) {
            let start = d("2000-01-01") + chrono::Duration::days(days);
            if let Ok(p) = PlanDuration::new(u, count) {
                let end = p.end_date(start).unwrap();
                prop_assert!(end >= start);
            }
        }

        #[test]
        fn chained_renewals_are_contiguous(days in 0i64..20_000, u in unit(), count in 1u32..13, n in 1usize..24) {
            let p = PlanDuration::new(u, count).unwrap();
            let mut start = d("2000-01-01") + chrono::Duration::days(days);
            for _ in 0..n {
                let end = p.end_date(start).unwrap();
                let next = renewal_start(Some(end), start);
                prop_assert_eq!(next, end.succ_opt().unwrap());
                prop_assert!(next > end);
                start = next;
            }
        }
    }
}
