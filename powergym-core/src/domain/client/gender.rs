//! Gender as the original system records it.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Gender as the original records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Other or not stated.
    Other,
}

impl Gender {
    /// Every value, in a stable order.
    pub const ALL: [Self; 3] = [Self::Male, Self::Female, Self::Other];

    /// The database label and binding value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Gender {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == lower)
            .ok_or_else(|| Error::validation("gender", "expected one of male, female, other"))
    }
}
