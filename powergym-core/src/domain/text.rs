//! Free text typed by people, and the one rule every free-text field follows.
//!
//! Each field has one [`TextRule`], listed below with its limit, so the limits are
//! documented once and read in one place. A rule trims the value (blank is absent for an
//! optional field and refused for a required one), refuses a value longer than its limit
//! after reading at most one character past it (a 10 MB value costs no more than a short
//! one), and refuses control and invisible formatting characters: Unicode general
//! categories Cc and Cf (NUL, BEL, escape sequences, zero-width spaces and joiners,
//! bidirectional embeddings, overrides and isolates, the byte-order mark…) and the line
//! and paragraph separators U+2028/U+2029. They hide what a record says from the person
//! reading it (U+202E turns "gpj.exe" into what looks like "exe.jpg"), and PostgreSQL
//! cannot store NUL at all. Multi-line fields (descriptions, notes, reasons) accept line
//! feeds, carriage returns and tabs, and nothing else of those categories.
//!
//! Lengths are in Unicode scalar values (Rust `char`s), which is what PostgreSQL's
//! `varchar(n)` counts, so a value within its rule always fits its column.

use crate::error::{Error, Result};

/// How a field's value is shaped besides its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextShape {
    /// One line, stored as typed between the trimmed ends.
    Line,
    /// One line whose inner runs of whitespace become one space (names).
    Words,
    /// Several lines: line feeds, carriage returns and tabs are kept.
    Lines,
}

/// The rule of one free-text field: its name in errors, its longest length and its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TextRule {
    field: &'static str,
    max_chars: usize,
    shape: TextShape,
}

/// A client's postal address (the `clients.address` column is `varchar(300)`).
pub const ADDRESS: TextRule = TextRule::new("address", 300, TextShape::Line);
/// A plan's name (`plans.name`, `varchar(150)`).
pub const PLAN_NAME: TextRule = TextRule::new("name", 150, TextShape::Words);
/// A plan's description. The column is `text`; 2,000 characters is a long page of
/// conditions, and more is a mistake or an attack.
pub const PLAN_DESCRIPTION: TextRule = TextRule::new("description", 2_000, TextShape::Lines);
/// A product's name (`products.name`, `varchar(150)`).
pub const PRODUCT_NAME: TextRule = TextRule::new("name", 150, TextShape::Line);
/// A product's description (`products.description`, `varchar(500)`).
pub const PRODUCT_DESCRIPTION: TextRule = TextRule::new("description", 500, TextShape::Lines);
/// The unit of a product's size, such as `ml` (`products.unit_type`, `varchar(10)`).
pub const UNIT_TYPE: TextRule = TextRule::new("unit_type", 10, TextShape::Line);
/// A product's picture address (`products.photo_url`, `varchar(500)`).
pub const PHOTO_URL: TextRule = TextRule::new("photo_url", 500, TextShape::Line);
/// What a member consents their face is used for (`biometric_consents.purpose`,
/// `varchar(200)`).
pub const CONSENT_PURPOSE: TextRule = TextRule::new("purpose", 200, TextShape::Line);
/// A staff member's display name (`staff.full_name`, `varchar(200)`).
pub const STAFF_FULL_NAME: TextRule = TextRule::new("full_name", 200, TextShape::Words);
/// A note on a payment. The column is `text`; 500 characters as for stock movements.
pub const PAYMENT_NOTES: TextRule = TextRule::new("notes", 500, TextShape::Lines);
/// A note on a stock movement (`inventory_movements.notes`, `varchar(500)`).
pub const MOVEMENT_NOTES: TextRule = TextRule::new("notes", 500, TextShape::Lines);
/// Why a subscription was canceled. The column is `text`; 500 characters.
pub const CANCELLATION_REASON: TextRule = TextRule::new("reason", 500, TextShape::Lines);
/// What a front desk types to find clients. 200 characters hold any name, document and
/// phone together; a longer text is refused before it costs a scan.
pub const CLIENT_SEARCH: TextRule = TextRule::new("text", 200, TextShape::Words);
/// What is typed to find products by name or description; as for clients.
pub const PRODUCT_SEARCH: TextRule = TextRule::new("search", 200, TextShape::Words);
/// A caller's key for retrying a call safely (`payments.idempotency_key`,
/// `varchar(100)`).
pub const IDEMPOTENCY_KEY: TextRule = TextRule::new("idempotency_key", 100, TextShape::Line);

impl TextRule {
    /// A rule for `field`, at most `max_chars` characters once trimmed.
    pub const fn new(field: &'static str, max_chars: usize, shape: TextShape) -> Self {
        Self {
            field,
            max_chars,
            shape,
        }
    }

    /// The field's name in errors.
    pub const fn field(&self) -> &'static str {
        self.field
    }

    /// The longest value, in characters.
    pub const fn max_chars(&self) -> usize {
        self.max_chars
    }

    /// The field's shape.
    pub const fn shape(&self) -> TextShape {
        self.shape
    }

    /// Validates a required value: trimmed (inner whitespace collapsed for
    /// [`TextShape::Words`]), not blank, within the limit, no forbidden character.
    pub fn parse(&self, raw: &str) -> Result<String> {
        self.normalise(raw)?
            .ok_or_else(|| Error::validation(self.field, "must not be blank"))
    }

    /// Validates an optional value: absent or blank is `None`, anything else as
    /// [`parse`](Self::parse).
    pub fn parse_optional(&self, raw: Option<&str>) -> Result<Option<String>> {
        match raw {
            Some(raw) => self.normalise(raw),
            None => Ok(None),
        }
    }

    fn too_long(&self) -> Error {
        Error::validation(
            self.field,
            format!("must be at most {} characters", self.max_chars),
        )
    }

    fn forbidden(&self) -> Error {
        let reason = match self.shape {
            TextShape::Lines => {
                "must not contain control or invisible formatting characters \
                 (NUL, BEL, zero-width or bidirectional marks); line breaks and tabs are fine"
            }
            TextShape::Line | TextShape::Words => {
                "must not contain line breaks, tabs, or control or invisible formatting \
                 characters (NUL, BEL, zero-width or bidirectional marks)"
            }
        };
        Error::validation(self.field, reason)
    }

    fn allows(&self, c: char) -> bool {
        match self.shape {
            TextShape::Lines => matches!(c, '\n' | '\r' | '\t') || !is_forbidden(c),
            TextShape::Line | TextShape::Words => !is_forbidden(c),
        }
    }

    /// The trimmed value or `None` when blank. Reads at most `max_chars + 1` characters
    /// past the leading whitespace (and, for words, past runs of inner whitespace).
    fn normalise(&self, raw: &str) -> Result<Option<String>> {
        let trimmed = raw.trim();
        let mut out = String::with_capacity(trimmed.len().min(self.max_chars * 4));
        let mut count = 0usize;
        let mut pending_space = false;
        for c in trimmed.chars() {
            if !self.allows(c) {
                return Err(self.forbidden());
            }
            if self.shape == TextShape::Words && c.is_whitespace() {
                pending_space = true;
                continue;
            }
            if pending_space {
                pending_space = false;
                out.push(' ');
                count += 1;
            }
            out.push(c);
            count += 1;
            if count > self.max_chars {
                return Err(self.too_long());
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }
}

/// Validates a required single-line value of `field`: the shared text rule with a limit
/// of `max_chars`, for fields whose limit is set by their caller (a name part's).
pub fn bounded_text(field: &'static str, raw: &str, max_chars: usize) -> Result<String> {
    TextRule::new(field, max_chars, TextShape::Line).parse(raw)
}

/// Whether `c` is refused in every free-text field: a control character (general
/// category Cc), an invisible formatting character (Cf), or a line or paragraph
/// separator (Zl, Zp).
pub fn is_forbidden(c: char) -> bool {
    c.is_control() || is_format(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Unicode general category Cf ("format"), as of Unicode 16.0. The standard library
/// knows Cc (`char::is_control`) but not Cf, and the category changes rarely enough
/// that a table here beats a dependency; the Python tests compare it with the Unicode
/// database of the interpreter that runs them.
const FORMAT_RANGES: [(char, char); 21] = [
    ('\u{00AD}', '\u{00AD}'),   // soft hyphen
    ('\u{0600}', '\u{0605}'),   // Arabic number signs
    ('\u{061C}', '\u{061C}'),   // Arabic letter mark
    ('\u{06DD}', '\u{06DD}'),   // Arabic end of ayah
    ('\u{070F}', '\u{070F}'),   // Syriac abbreviation mark
    ('\u{0890}', '\u{0891}'),   // Arabic pound and piastre marks above
    ('\u{08E2}', '\u{08E2}'),   // Arabic disputed end of ayah
    ('\u{180E}', '\u{180E}'),   // Mongolian vowel separator
    ('\u{200B}', '\u{200F}'),   // zero-width space, (non-)joiner, LRM, RLM
    ('\u{202A}', '\u{202E}'),   // bidirectional embeddings and overrides
    ('\u{2060}', '\u{2064}'),   // word joiner, invisible operators
    ('\u{2066}', '\u{206F}'),   // bidirectional isolates, deprecated format chars
    ('\u{FEFF}', '\u{FEFF}'),   // zero-width no-break space (byte-order mark)
    ('\u{FFF9}', '\u{FFFB}'),   // interlinear annotation
    ('\u{110BD}', '\u{110BD}'), // Kaithi number sign
    ('\u{110CD}', '\u{110CD}'), // Kaithi number sign above
    ('\u{13430}', '\u{1343F}'), // Egyptian hieroglyph format controls
    ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls
    ('\u{1D173}', '\u{1D17A}'), // musical symbol format controls
    ('\u{E0001}', '\u{E0001}'), // language tag
    ('\u{E0020}', '\u{E007F}'), // tag characters
];

fn is_format(c: char) -> bool {
    FORMAT_RANGES
        .iter()
        .any(|&(low, high)| (low..=high).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: Error) -> &'static str {
        match e {
            Error::Validation { field, .. } => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn trims_and_keeps_inner_text() {
        assert_eq!(
            ADDRESS.parse("  Calle 10 # 20-30 ").unwrap(),
            "Calle 10 # 20-30"
        );
        assert_eq!(ADDRESS.parse_optional(Some("   ")).unwrap(), None);
        assert_eq!(ADDRESS.parse_optional(None).unwrap(), None);
        assert_eq!(field_of(ADDRESS.parse(" ").unwrap_err()), "address");
        assert_eq!(
            PLAN_NAME.parse("  Plan   mensual ").unwrap(),
            "Plan mensual"
        );
        assert_eq!(
            PLAN_DESCRIPTION.parse("Line one\r\n\tLine two\n").unwrap(),
            "Line one\r\n\tLine two"
        );
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        let rule = TextRule::new("x", 3, TextShape::Line);
        assert_eq!(rule.parse("ñáé").unwrap(), "ñáé");
        assert_eq!(field_of(rule.parse("ñáéí").unwrap_err()), "x");
        // Collapsed spaces count once.
        let words = TextRule::new("x", 3, TextShape::Words);
        assert_eq!(words.parse("a     b").unwrap(), "a b");
    }

    #[test]
    fn refuses_control_and_invisible_characters_naming_the_field() {
        let bad = [
            "\0",
            "\u{7}",
            "\u{1b}[31m",
            "\u{7f}",
            "\u{85}",
            "\u{200B}",
            "\u{200C}",
            "\u{200D}",
            "\u{200E}",
            "\u{200F}",
            "\u{202A}",
            "\u{202E}",
            "\u{2066}",
            "\u{2069}",
            "\u{FEFF}",
            "\u{00AD}",
            "\u{2028}",
            "\u{2029}",
            "\u{E0041}",
        ];
        for c in bad {
            let value = format!("ab{c}cd");
            for rule in [ADDRESS, PLAN_NAME, PLAN_DESCRIPTION, CONSENT_PURPOSE] {
                let err = rule.parse(&value).unwrap_err();
                assert_eq!(field_of(err.clone()), rule.field(), "{c:?}");
                assert!(!err.to_string().contains("abcd"), "{err}");
            }
        }
        for c in ["\t", "\n", "\r"] {
            assert!(PLAN_NAME.parse(&format!("a{c}b")).is_err(), "{c:?}");
            assert!(ADDRESS.parse(&format!("a{c}b")).is_err(), "{c:?}");
            assert!(PLAN_DESCRIPTION.parse(&format!("a{c}b")).is_ok(), "{c:?}");
        }
    }

    #[test]
    fn a_huge_value_is_refused_after_reading_its_limit() {
        let huge = "x".repeat(10 * 1024 * 1024);
        let started = std::time::Instant::now();
        for rule in [PLAN_DESCRIPTION, CLIENT_SEARCH, ADDRESS, PAYMENT_NOTES] {
            assert_eq!(field_of(rule.parse(&huge).unwrap_err()), rule.field());
        }
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        assert!(bounded_text("unit", "abcdef", 5).is_err());
        assert_eq!(bounded_text("unit", " ml ", 5).unwrap(), "ml");
    }

    #[test]
    fn the_format_table_is_sorted_and_disjoint() {
        for pair in FORMAT_RANGES.windows(2) {
            assert!(pair[0].0 <= pair[0].1 && pair[0].1 < pair[1].0, "{pair:?}");
        }
        // Ordinary letters, digits, punctuation and spaces stay allowed.
        for c in "aZ09 .,;:'\"-_/#@ñÑáü€$¿¡中文한국어العربية".chars() {
            assert!(!is_forbidden(c), "{c:?}");
        }
    }
}
