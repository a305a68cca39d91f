//! Phone numbers.

use std::fmt;

use super::MAX_RAW_IDENTIFIER_BYTES;
use crate::error::{Error, Result};

/// A phone number: 7 to 15 digits with an optional leading `+`; spaces, dashes, dots and
/// parentheses are accepted as separators and dropped.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Validates a phone number; `field` names it in errors.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Error::validation(field, "must not be blank"));
        }
        if trimmed.len() > MAX_RAW_IDENTIFIER_BYTES {
            return Err(Error::validation(field, "must have 7 to 15 digits"));
        }
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", trimmed),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(Error::validation(
                        field,
                        "may contain only digits, an optional leading +, and separators",
                    ));
                }
            }
        }
        if !(7..=15).contains(&digits.len()) {
            return Err(Error::validation(field, "must have 7 to 15 digits"));
        }
        Ok(Self(format!("{plus}{digits}")))
    }

    /// Validates an optional phone: blank means absent.
    pub fn parse_optional(field: &'static str, raw: Option<&str>) -> Result<Option<Self>> {
        match raw {
            Some(s) if !s.trim().is_empty() => Self::parse(field, s).map(Some),
            _ => Ok(None),
        }
    }

    pub(crate) fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The normalised number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Phone(<redacted>)")
    }
}
