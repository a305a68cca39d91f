//! Business days and the clock.
//!
//! Storage keeps instants (UTC). Rules speak in the gym's calendar days: "today", "this
//! day's check-in", "expires in 7 days". The [`BusinessCalendar`] is the one place that
//! turns one into the other, so a check-in at 23:30 in Bogotá (04:30 UTC the next day)
//! counts for the Bogotá day. The [`Clock`] is injectable so rules and tests never read
//! the system time behind the caller's back.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};

/// The gym's time zone when none is configured.
pub const DEFAULT_TIME_ZONE: &str = "America/Bogota";

/// Earliest date a caller may give for a business day (a subscription's start, the day
/// the daily jobs run for). Nothing the gym does predates it.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// Latest date a caller may give for a business day. A plan lasts at most 100 years, so
/// a period starting by then ends by 3099, far inside what every binding reads back
/// (Python's `datetime.date`, Kotlin's `LocalDate` and Swift's `Date` all stop at year
/// 9999, PostgreSQL much later).
pub const LATEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// Validates a business day a caller gives: within [`EARLIEST_DATE`]..=[`LATEST_DATE`];
/// `field` names it in errors.
pub fn check_business_date(field: &'static str, date: NaiveDate) -> Result<NaiveDate> {
    if (EARLIEST_DATE..=LATEST_DATE).contains(&date) {
        Ok(date)
    } else {
        Err(Error::validation(
            field,
            format!("must be between {EARLIEST_DATE} and {LATEST_DATE}"),
        ))
    }
}

/// Turns instants into the gym's business dates and back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BusinessCalendar {
    zone: Tz,
}

impl BusinessCalendar {
    /// A calendar in the given IANA zone, e.g. `America/Bogota`.
    pub fn new(zone: &str) -> Result<Self> {
        zone.parse::<Tz>().map(|zone| Self { zone }).map_err(|_| {
            Error::validation(
                "time_zone",
                "expected an IANA time zone name such as America/Bogota",
            )
        })
    }

    /// The zone's IANA name.
    pub fn zone_name(&self) -> &'static str {
        self.zone.name()
    }

    /// The business date on which `instant` falls.
    pub fn date_of(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.zone).date_naive()
    }

    /// "Today" for the gym at `now`.
    pub fn today(&self, clock: &dyn Clock) -> NaiveDate {
        self.date_of(clock.now())
    }

    /// The half-open UTC interval `[start, end)` that a business date covers.
    ///
    /// Computed from local midnights, so it stays right for zones with daylight saving
    /// (a day may last 23 or 25 hours there).
    pub fn day_bounds(&self, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = self.local_midnight(date);
        let end = self.local_midnight(date.succ_opt().unwrap_or(date));
        (start, end)
    }

    fn local_midnight(&self, date: NaiveDate) -> DateTime<Utc> {
        let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        // A zone that skips midnight (a DST jump at 00:00) starts the day at the first
        // instant that exists.
        match self.zone.from_local_datetime(&naive) {
            chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(earliest, _) => earliest.with_timezone(&Utc),
            chrono::LocalResult::None => {
                let later = naive + chrono::Duration::hours(1);
                self.zone
                    .from_local_datetime(&later)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
            }
        }
    }
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        Self {
            zone: chrono_tz::America::Bogota,
        }
    }
}

impl fmt::Debug for BusinessCalendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BusinessCalendar")
            .field(&self.zone.name())
            .finish()
    }
}

/// Source of the current instant.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always answers the same instant: for tests, replays and batch jobs that
/// must see one consistent "now".
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn bogota_business_day_boundaries() {
        let cal = BusinessCalendar::default();
        // (instant in UTC, Bogotá business date)
        let cases = [
            ("2025-03-01T04:59:59Z", "2025-02-28"), // 23:59:59 Bogotá
            ("2025-03-01T05:00:00Z", "2025-03-01"), // 00:00 Bogotá
            ("2025-03-01T00:00:00Z", "2025-02-28"), // UTC midnight is 19:00 the day before
            ("2025-03-01T23:59:59Z", "2025-03-01"),
        ];
        for (instant, expected) in cases {
            assert_eq!(cal.date_of(utc(instant)), date(expected), "{instant}");
        }
    }

    #[test]
    fn day_bounds_cover_exactly_one_local_day() {
        let cal = BusinessCalendar::default();
        let (start, end) = cal.day_bounds(date("2025-03-01"));
        assert_eq!(start, utc("2025-03-01T05:00:00Z"));
        assert_eq!(end, utc("2025-03-02T05:00:00Z"));
    }

    #[test]
    fn day_bounds_follow_daylight_saving() {
        let cal = BusinessCalendar::new("America/New_York").unwrap();
        let (start, end) = cal.day_bounds(date("2025-03-09")); // spring forward
        assert_eq!(end - start, chrono::Duration::hours(23));
    }

    #[test]
    fn unknown_zone_is_a_validation_error() {
        let err = BusinessCalendar::new("Mars/Olympus").unwrap_err();
        assert!(matches!(
            err,
            Error::Validation {
                field: "time_zone",
                ..
            }
        ));
    }

    #[test]
    fn business_dates_stay_within_the_documented_range() {
        assert_eq!(EARLIEST_DATE, date("2000-01-01"));
        assert_eq!(LATEST_DATE, date("2999-12-31"));
        for ok in ["2000-01-01", "2025-06-15", "2999-12-31"] {
            assert!(check_business_date("start_date", date(ok)).is_ok(), "{ok}");
        }
        for bad in ["1999-12-31", "3000-01-01", "9999-12-31"] {
            let err = check_business_date("start_date", date(bad)).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Validation {
                        field: "start_date",
                        ..
                    }
                ),
                "{bad}"
            );
        }
        assert!(check_business_date("today", NaiveDate::MAX).is_err());
        assert!(check_business_date("today", NaiveDate::MIN).is_err());
    }

    #[test]
    fn fixed_clock_drives_today() {
        let cal = BusinessCalendar::default();
        let clock = FixedClock(utc("2025-01-01T03:00:00Z"));
        assert_eq!(cal.today(&clock), date("2024-12-31"));
    }
}
