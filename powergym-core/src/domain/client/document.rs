//! Identity documents: the type (CC, TI, CE, PP) and a number valid for it.

use std::fmt;
use std::str::FromStr;

use super::MAX_RAW_IDENTIFIER_BYTES;
use crate::error::{Error, Result};

/// Colombian identity document types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentType {
    /// Cédula de ciudadanía: adult citizen's ID.
    Cc,
    /// Tarjeta de identidad: minor's ID.
    Ti,
    /// Cédula de extranjería: foreign resident's ID.
    Ce,
    /// Passport.
    Pp,
}

impl DocumentType {
    /// Every document type, in a stable order.
    pub const ALL: [Self; 4] = [Self::Cc, Self::Ti, Self::Ce, Self::Pp];

    /// The database label and binding value (`CC`, `TI`, `CE`, `PP`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cc => "CC",
            Self::Ti => "TI",
            Self::Ce => "CE",
            Self::Pp => "PP",
        }
    }

    /// (minimum length, maximum length, digits only).
    fn format(self) -> (usize, usize, bool) {
        match self {
            Self::Cc => (3, 10, true),
            Self::Ti => (6, 11, true),
            Self::Ce => (3, 15, false),
            Self::Pp => (5, 20, false),
        }
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocumentType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let upper = s.trim().to_ascii_uppercase();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == upper)
            .ok_or_else(|| Error::validation("document_type", "expected one of CC, TI, CE, PP"))
    }
}

/// A document number valid for its type: digits for CC and TI, letters and digits for CE
/// and PP (stored upper-case), within the type's length bounds.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DocumentNumber(String);

impl DocumentNumber {
    /// Validates `raw` for `doc_type`. Spaces, dots and dashes that people type as
    /// separators are dropped first.
    pub fn parse(doc_type: DocumentType, raw: &str) -> Result<Self> {
        let (min, max, digits_only) = doc_type.format();
        let kind = if digits_only {
            "digits"
        } else {
            "letters or digits"
        };
        if raw.len() > MAX_RAW_IDENTIFIER_BYTES {
            return Err(Error::validation(
                "document_number",
                format!("a {doc_type} number must be {min} to {max} {kind}"),
            ));
        }
        let cleaned: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect::<String>()
            .to_ascii_uppercase();
        let well_formed = if digits_only {
            cleaned.chars().all(|c| c.is_ascii_digit())
        } else {
            cleaned.chars().all(|c| c.is_ascii_alphanumeric())
        };
        if cleaned.is_empty() {
            return Err(Error::validation("document_number", "must not be blank"));
        }
        if !well_formed || cleaned.len() < min || cleaned.len() > max {
            return Err(Error::validation(
                "document_number",
                format!("a {doc_type} number must be {min} to {max} {kind}"),
            ));
        }
        Ok(Self(cleaned))
    }

    /// Wraps a number read back from the store. Rows adopted from the original system may
    /// predate the format rules, and reading them must not fail.
    pub(crate) fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The number as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four characters behind asterisks (`******4050`), for screens and
    /// receipts that must identify a document without exposing it.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let shown = chars.len().min(4);
        let hidden = chars.len() - shown;
        "*".repeat(hidden) + &chars[hidden..].iter().collect::<String>()
    }
}

impl fmt::Debug for DocumentNumber {
    // Personal data: debug output shows the length only, so it cannot leak into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentNumber(<{} chars>)", self.0.len())
    }
}
