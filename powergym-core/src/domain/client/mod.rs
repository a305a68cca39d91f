//! Clients (gym members) and the value types of their identity.
//!
//! [`ClientInput`] is what a front desk types; [`NewClient::parse`] turns it into values
//! that cannot be wrong, or refuses it naming the field and the rule. Messages never echo
//! the value itself: it is personal data.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::ids::ClientId;
use crate::domain::text;
use crate::error::Result;

mod birth_date;
mod document;
mod email;
mod gender;
mod name;
mod phone;
mod search;

pub use birth_date::{BirthDate, MAX_AGE_YEARS, MIN_BIRTH_DATE};
pub use document::{DocumentNumber, DocumentType};
pub use email::Email;
pub use gender::Gender;
pub use name::{MAX_NAME_CHARS, PersonName};
pub use phone::Phone;
pub use search::{FOLD_FROM, FOLD_TO, fold_for_search, search_terms};

/// Longest raw document number or phone read, separators included: anything longer is
/// refused before it is scanned.
const MAX_RAW_IDENTIFIER_BYTES: usize = 64;

/// A client registration as typed at the front desk, before validation.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientInput {
    /// `CC`, `TI`, `CE` or `PP`.
    pub document_type: DocumentType,
    /// The document number as typed.
    pub document_number: String,
    /// First name.
    pub first_name: String,
    /// Middle name, if any.
    pub middle_name: Option<String>,
    /// Last name.
    pub last_name: String,
    /// Second last name, if any.
    pub second_last_name: Option<String>,
    /// Main phone.
    pub phone: String,
    /// Another phone, if any.
    pub alternative_phone: Option<String>,
    /// E-mail address, if any.
    pub email: Option<String>,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Gender.
    pub gender: Gender,
    /// Postal address, if any.
    pub address: Option<String>,
}

/// A validated client registration, ready to store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewClient {
    pub(crate) document_type: DocumentType,
    pub(crate) document_number: DocumentNumber,
    pub(crate) first_name: PersonName,
    pub(crate) middle_name: Option<PersonName>,
    pub(crate) last_name: PersonName,
    pub(crate) second_last_name: Option<PersonName>,
    pub(crate) phone: Phone,
    pub(crate) alternative_phone: Option<Phone>,
    pub(crate) email: Option<Email>,
    pub(crate) birth_date: BirthDate,
    pub(crate) gender: Gender,
    pub(crate) address: Option<String>,
}

/// Longest address, in characters (the [`text::ADDRESS`] rule).
pub const MAX_ADDRESS_CHARS: usize = text::ADDRESS.max_chars();

impl NewClient {
    /// Validates every field of `input`, reporting the first that is wrong.
    pub fn parse(input: ClientInput, today: NaiveDate) -> Result<Self> {
        let address = text::ADDRESS.parse_optional(input.address.as_deref())?;
        Ok(Self {
            document_type: input.document_type,
            document_number: DocumentNumber::parse(input.document_type, &input.document_number)?,
            first_name: PersonName::parse("first_name", &input.first_name)?,
            middle_name: PersonName::parse_optional("middle_name", input.middle_name.as_deref())?,
            last_name: PersonName::parse("last_name", &input.last_name)?,
            second_last_name: PersonName::parse_optional(
                "second_last_name",
                input.second_last_name.as_deref(),
            )?,
            phone: Phone::parse("phone", &input.phone)?,
            alternative_phone: Phone::parse_optional(
                "alternative_phone",
                input.alternative_phone.as_deref(),
            )?,
            email: Email::parse_optional(input.email.as_deref())?,
            birth_date: BirthDate::parse(input.birth_date, today)?,
            gender: input.gender,
            address,
        })
    }

    /// The validated document number.
    pub fn document_number(&self) -> &DocumentNumber {
        &self.document_number
    }
}

/// Changes to a client; `None` leaves a field as it is, a blank optional field clears
/// it, and every value given is validated as on registration.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ClientUpdate {
    /// New document (type and number together).
    pub document: Option<(DocumentType, String)>,
    /// New first name.
    pub first_name: Option<String>,
    /// New middle name (blank clears).
    pub middle_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New second last name (blank clears).
    pub second_last_name: Option<String>,
    /// New phone.
    pub phone: Option<String>,
    /// New alternative phone (blank clears).
    pub alternative_phone: Option<String>,
    /// New e-mail (blank clears).
    pub email: Option<String>,
    /// New birth date.
    pub birth_date: Option<NaiveDate>,
    /// New gender.
    pub gender: Option<Gender>,
    /// New address (blank clears).
    pub address: Option<String>,
}

impl ClientUpdate {
    /// The client after this update, as a validated registration.
    pub fn apply_to(&self, c: &Client, today: NaiveDate) -> Result<NewClient> {
        let keep = |given: &Option<String>, current: Option<&str>| match given {
            Some(v) => Some(v.clone()),
            None => current.map(str::to_owned),
        };
        let (document_type, document_number) = match &self.document {
            Some((t, n)) => (*t, n.clone()),
            None => (c.document_type, c.document_number.as_str().to_owned()),
        };
        let input = ClientInput {
            document_type,
            document_number,
            first_name: self
                .first_name
                .clone()
                .unwrap_or_else(|| c.first_name.as_str().to_owned()),
            middle_name: keep(
                &self.middle_name,
                c.middle_name.as_ref().map(PersonName::as_str),
            ),
            last_name: self
                .last_name
                .clone()
                .unwrap_or_else(|| c.last_name.as_str().to_owned()),
            second_last_name: keep(
                &self.second_last_name,
                c.second_last_name.as_ref().map(PersonName::as_str),
            ),
            phone: self
                .phone
                .clone()
                .unwrap_or_else(|| c.phone.as_str().to_owned()),
            alternative_phone: keep(
                &self.alternative_phone,
                c.alternative_phone.as_ref().map(Phone::as_str),
            ),
            email: keep(&self.email, c.email.as_ref().map(Email::as_str)),
            birth_date: self.birth_date.unwrap_or(c.birth_date.date()),
            gender: self.gender.unwrap_or(c.gender),
            address: keep(&self.address, c.address.as_deref()),
        };
        NewClient::parse(input, today)
    }
}

/// A stored client.
#[derive(Clone, PartialEq)]
pub struct Client {
    /// Identifier.
    pub id: ClientId,
    /// Document type.
    pub document_type: DocumentType,
    /// Document number.
    pub document_number: DocumentNumber,
    /// First name.
    pub first_name: PersonName,
    /// Middle name.
    pub middle_name: Option<PersonName>,
    /// Last name.
    pub last_name: PersonName,
    /// Second last name.
    pub second_last_name: Option<PersonName>,
    /// Main phone.
    pub phone: Phone,
    /// Another phone.
    pub alternative_phone: Option<Phone>,
    /// E-mail address.
    pub email: Option<Email>,
    /// Date of birth.
    pub birth_date: BirthDate,
    /// Gender.
    pub gender: Gender,
    /// Postal address.
    pub address: Option<String>,
    /// False once deactivated; deactivated clients cannot check in.
    pub is_active: bool,
    /// When the client was registered.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Client {
    /// "First [Middle] Last [SecondLast]".
    pub fn full_name(&self) -> String {
        [
            Some(&self.first_name),
            self.middle_name.as_ref(),
            Some(&self.last_name),
            self.second_last_name.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(PersonName::as_str)
        .collect::<Vec<_>>()
        .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn today() -> NaiveDate {
        "2025-06-15".parse().unwrap()
    }

    fn input() -> ClientInput {
        ClientInput {
            document_type: DocumentType::Cc,
            document_number: "1.020.304.050".into(),
            first_name: "  María  José ".into(),
            middle_name: Some("".into()),
            last_name: "Pérez".into(),
            second_last_name: None,
            phone: "+57 300 123 4567".into(),
            alternative_phone: None,
            email: Some("Maria@Example.COM".into()),
            birth_date: "1990-02-28".parse().unwrap(),
            gender: Gender::Female,
            address: None,
        }
    }

    #[test]
    fn document_numbers_per_type() {
        use DocumentType::*;
        let cases: &[(DocumentType, &str, Option<&str>)] = &[
            (Cc, "1020304050", Some("1020304050")),
            (Cc, "1.020.304.050", Some("1020304050")),
            (Cc, "12", None),
            (Cc, "12345678901", None),
            (Cc, "12A45", None),
            (Ti, "1002003004", Some("1002003004")),
            (Ti, "12345", None),
            (Ce, "ab12345", Some("AB12345")),
            (Ce, "AB_123", None),
            (Pp, "pa12345", Some("PA12345")),
            (Pp, "P1", None),
            (Pp, "   ", None),
        ];
        for (t, raw, expected) in cases {
            let got = DocumentNumber::parse(*t, raw);
            match expected {
                Some(e) => assert_eq!(got.unwrap().as_str(), *e, "{t} {raw}"),
                None => assert!(
                    matches!(
                        got,
                        Err(Error::Validation {
                            field: "document_number",
                            ..
                        })
                    ),
                    "{t} {raw}"
                ),
            }
        }
    }

    #[test]
    fn document_errors_do_not_echo_the_number() {
        let err = DocumentNumber::parse(DocumentType::Cc, "99887766554433").unwrap_err();
        assert!(!err.to_string().contains("99887766554433"), "{err}");
        let dbg = format!(
            "{:?}",
            DocumentNumber::parse(DocumentType::Cc, "123456").unwrap()
        );
        assert!(!dbg.contains("123456"), "{dbg}");
    }

    #[test]
    fn folding_for_search() {
        assert_eq!(fold_for_search("JOSÉ Ñúñez"), "jose nunez");
        assert_eq!(FOLD_FROM.chars().count(), FOLD_TO.chars().count());
    }

    #[test]
    fn masking_shows_only_the_last_four() {
        let n = DocumentNumber::parse(DocumentType::Cc, "1020304050").unwrap();
        assert_eq!(n.masked(), "******4050");
        let short = DocumentNumber::from_stored("123".into());
        assert_eq!(short.masked(), "123");
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(
            PersonName::parse("first_name", "  Ana   Lucía ")
                .unwrap()
                .as_str(),
            "Ana Lucía"
        );
        assert_eq!(
            PersonName::parse("last_name", "O'Neil-Díaz")
                .unwrap()
                .as_str(),
            "O'Neil-Díaz"
        );
        for bad in ["", "   ", "R2D2", "a<b>"] {
            assert!(PersonName::parse("first_name", bad).is_err(), "{bad:?}");
        }
        assert!(PersonName::parse("first_name", &"a".repeat(101)).is_err());
        assert!(PersonName::parse("first_name", &"á".repeat(100)).is_ok());
    }

    #[test]
    fn phones_are_normalised() {
        let cases = [
            ("300 123 4567", Some("3001234567")),
            ("+57 (300) 123-4567", Some("+573001234567")),
            ("123456", None),
            ("1234567890123456", None),
            ("300-ABC-4567", None),
            ("", None),
        ];
        for (raw, expected) in cases {
            let got = Phone::parse("phone", raw).ok();
            assert_eq!(got.as_ref().map(Phone::as_str), expected, "{raw}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ana@Example.COM ").unwrap().as_str(),
            "Ana@example.com"
        );
        for bad in [
            "ana",
            "ana@",
            "@x.co",
            "ana@x",
            "a b@x.co",
            "a@@x.co",
            "a@x..co",
            "a@İ.co",
            "a\0@x.co",
            "a\u{202E}@x.co",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn birth_dates() {
        let today = today();
        assert!(BirthDate::parse(today, today).is_ok());
        assert!(BirthDate::parse(today.succ_opt().unwrap(), today).is_err());
        // 120 is the oldest accepted age; 121 is refused.
        assert!(BirthDate::parse("1904-06-16".parse().unwrap(), today).is_ok());
        assert!(BirthDate::parse("1904-06-15".parse().unwrap(), today).is_err());
        let b = BirthDate::parse("2000-02-29".parse().unwrap(), today).unwrap();
        assert_eq!(b.age_on("2025-02-28".parse().unwrap()), 24);
        assert_eq!(b.age_on("2025-03-01".parse().unwrap()), 25);
    }

    #[test]
    fn new_client_validates_every_field() {
        let c = NewClient::parse(input(), today()).unwrap();
        assert_eq!(c.first_name.as_str(), "María José");
        assert_eq!(c.middle_name, None);
        assert_eq!(c.phone.as_str(), "+573001234567");
        assert_eq!(c.email.as_ref().unwrap().as_str(), "Maria@example.com");

        let mut bad = input();
        bad.last_name = " ".into();
        assert!(matches!(
            NewClient::parse(bad, today()),
            Err(Error::Validation {
                field: "last_name",
                ..
            })
        ));
        let mut bad = input();
        bad.address = Some("x".repeat(301));
        assert!(matches!(
            NewClient::parse(bad, today()),
            Err(Error::Validation {
                field: "address",
                ..
            })
        ));
    }

    #[test]
    fn enums_parse_leniently_and_print_canonically() {
        assert_eq!("cc".parse::<DocumentType>().unwrap(), DocumentType::Cc);
        assert_eq!("FEMALE".parse::<Gender>().unwrap(), Gender::Female);
        assert!("XX".parse::<DocumentType>().is_err());
    }
}

/// What the front desk sees about one client (spec §9.4).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientDashboard {
    /// The client.
    pub client: Client,
    /// The most recently sold subscription, if any.
    pub latest_subscription: Option<crate::domain::subscription::Subscription>,
    /// Its plan's name.
    pub latest_plan_name: Option<String>,
    /// Subscriptions bought in all.
    pub total_subscriptions: u64,
    /// Attendances since the latest subscription started.
    pub attendances_since_start: u64,
    /// The latest check-in.
    pub last_attendance: Option<DateTime<Utc>>,
    /// When the client registered.
    pub client_since: DateTime<Utc>,
}

// Personal data stays out of debug output (and so out of logs and panics): these print
// what identifies a record to an operator, never the person.

impl fmt::Debug for ClientInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientInput")
            .field("document_type", &self.document_type)
            .field("gender", &self.gender)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for NewClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewClient")
            .field("document_type", &self.document_type)
            .field("gender", &self.gender)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("document_type", &self.document_type)
            .field("is_active", &self.is_active)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ClientUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<&str> = [
            ("document", self.document.is_some()),
            ("first_name", self.first_name.is_some()),
            ("middle_name", self.middle_name.is_some()),
            ("last_name", self.last_name.is_some()),
            ("second_last_name", self.second_last_name.is_some()),
            ("phone", self.phone.is_some()),
            ("alternative_phone", self.alternative_phone.is_some()),
            ("email", self.email.is_some()),
            ("birth_date", self.birth_date.is_some()),
            ("gender", self.gender.is_some()),
            ("address", self.address.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        f.debug_struct("ClientUpdate")
            .field("changes", &set)
            .finish()
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::*;

    #[test]
    fn debug_output_holds_no_personal_data() {
        let input = ClientInput {
            document_type: DocumentType::Cc,
            document_number: "1020304050".into(),
            first_name: "Ana".into(),
            middle_name: None,
            last_name: "Gómez".into(),
            second_last_name: None,
            phone: "3001234567".into(),
            alternative_phone: None,
            email: Some("ana@example.com".into()),
            birth_date: "1994-05-17".parse().unwrap(),
            gender: Gender::Female,
            address: Some("Calle 10".into()),
        };
        let today = "2025-01-01".parse().unwrap();
        let parsed = NewClient::parse(input.clone(), today).unwrap();
        let update = ClientUpdate {
            phone: Some("3119998877".into()),
            ..Default::default()
        };
        for text in [
            format!("{input:?}"),
            format!("{parsed:?}"),
            format!("{update:?}"),
        ] {
            for secret in [
                "1020304050",
                "Ana",
                "Gómez",
                "3001234567",
                "ana@example",
                "1994",
                "Calle",
                "3119998877",
            ] {
                assert!(!text.contains(secret), "{secret} leaked into {text}");
            }
        }
    }
}
