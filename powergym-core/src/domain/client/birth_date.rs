//! Birth dates and ages.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::error::{Error, Result};

/// Oldest age a birth date may give.
pub const MAX_AGE_YEARS: u32 = 120;
/// Earliest birth date accepted, whatever the clock says.
pub const MIN_BIRTH_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// A birth date that is not in the future, not before [`MIN_BIRTH_DATE`], and gives an
/// age of at most [`MAX_AGE_YEARS`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BirthDate(NaiveDate);

impl BirthDate {
    /// Validates `date` against the business day `today`.
    pub fn parse(date: NaiveDate, today: NaiveDate) -> Result<Self> {
        if date > today {
            return Err(Error::validation("birth_date", "must not be in the future"));
        }
        if date < MIN_BIRTH_DATE {
            return Err(Error::validation(
                "birth_date",
                format!("must not be before {MIN_BIRTH_DATE}"),
            ));
        }
        if age_on(date, today) > MAX_AGE_YEARS {
            return Err(Error::validation(
                "birth_date",
                format!("gives an age over {MAX_AGE_YEARS} years"),
            ));
        }
        Ok(Self(date))
    }

    pub(crate) fn from_stored(date: NaiveDate) -> Self {
        Self(date)
    }

    /// The date.
    pub fn date(&self) -> NaiveDate {
        self.0
    }

    /// Age in whole years on `today`.
    pub fn age_on(&self, today: NaiveDate) -> u32 {
        age_on(self.0, today)
    }
}

fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    let mut years = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

impl fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BirthDate(<redacted>)")
    }
}
