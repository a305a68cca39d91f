//! Parts of a person's name.

use std::fmt;

use crate::domain::text::{TextRule, TextShape};
use crate::error::{Error, Result};

/// Longest person name part, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A part of a person's name: trimmed, inner runs of spaces collapsed, 1 to
/// [`MAX_NAME_CHARS`] characters, letters and the marks names use (`'`, `-`, `.`). Guardian
/// names of biometric consents are person names too.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    /// Validates a required name part; `field` names it in errors.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        let collapsed = TextRule::new(field, MAX_NAME_CHARS, TextShape::Words).parse(raw)?;
        if !collapsed
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '-' | '.'))
        {
            return Err(Error::validation(
                field,
                "may contain only letters, spaces, apostrophes, hyphens and periods",
            ));
        }
        Ok(Self(collapsed))
    }

    /// Validates an optional name part: blank means absent.
    pub fn parse_optional(field: &'static str, raw: Option<&str>) -> Result<Option<Self>> {
        match raw {
            Some(s) if !s.trim().is_empty() => Self::parse(field, s).map(Some),
            _ => Ok(None),
        }
    }

    pub(crate) fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(<redacted>)")
    }
}
