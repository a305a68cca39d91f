//! E-mail addresses.

use std::fmt;

use crate::domain::text;
use crate::error::{Error, Result};

/// An e-mail address: one `@`, a non-empty local part, a dotted domain, at most 254
/// bytes, no whitespace, control or invisible characters (the shared
/// [`text`](crate::domain::text) rule), stored with a lower-cased domain.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Validates an e-mail address.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        let bad = || Error::validation("email", "expected an address like name@example.com");
        if s.len() > 254
            || s.chars()
                .any(|c| c.is_whitespace() || text::is_forbidden(c))
        {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        // Checked as stored, after lower-casing: a few capitals lower-case to more than one
        // character (`İ` to `i` and a combining dot), and a stored address must parse again
        // (an update re-validates the whole client).
        let domain = domain.to_lowercase();
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
        if local.is_empty() || domain.contains('@') || !domain.contains('.') || !labels_ok {
            return Err(bad());
        }
        let address = format!("{local}@{domain}");
        if address.len() > 254 {
            return Err(bad());
        }
        Ok(Self(address))
    }

    /// Validates an optional address: blank means absent.
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>> {
        match raw {
            Some(s) if !s.trim().is_empty() => Self::parse(s).map(Some),
            _ => Ok(None),
        }
    }

    pub(crate) fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The address as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}
