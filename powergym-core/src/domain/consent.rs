//! Biometric consent: a face is enrolled only with the member's recorded consent, and a
//! minor's only with a guardian's too. The database holds the same line (migration 0008),
//! so no code path can store a template without it.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::client::{Client, DocumentNumber, DocumentType, PersonName};
use super::ids::ClientId;
use super::text;
use crate::error::{Error, Result};

/// Longest purpose text the schema stores (the [`text::CONSENT_PURPOSE`] rule).
pub const MAX_PURPOSE_CHARS: usize = text::CONSENT_PURPOSE.max_chars();

/// Age below which a guardian must consent as well.
pub const AGE_OF_MAJORITY: u32 = 18;

/// The guardian who consents for a minor.
#[derive(Clone, PartialEq, Eq)]
pub struct Guardian {
    /// Full name.
    pub name: String,
    /// Identity document type.
    pub document_type: DocumentType,
    /// Identity document number.
    pub document_number: String,
}

impl Guardian {
    /// The guardian from a form's three optional fields: all three or none. Bindings take
    /// the fields separately; this is where they become one value, so a form that gives
    /// only a name is refused the same way in every language.
    pub fn from_parts(
        name: Option<String>,
        document_type: Option<&str>,
        document_number: Option<String>,
    ) -> Result<Option<Self>> {
        match (name, document_type, document_number) {
            (None, None, None) => Ok(None),
            (Some(name), Some(document_type), Some(document_number)) => Ok(Some(Self {
                name,
                document_type: document_type.parse()?,
                document_number,
            })),
            _ => Err(Error::validation(
                "guardian",
                "give the guardian's name, document type and number together",
            )),
        }
    }
}

impl fmt::Debug for Guardian {
    // Personal data: kept out of debug output and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guardian")
            .field("document_type", &self.document_type)
            .finish_non_exhaustive()
    }
}

/// What staff record when a member consents to face check-in.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ConsentInput {
    /// What the face is used for, as told to the member ("face check-in at the front
    /// desk").
    pub purpose: String,
    /// The guardian's consent, required for a minor (a `TI` holder or anyone under
    /// [`AGE_OF_MAJORITY`]).
    pub guardian: Option<Guardian>,
}

/// A validated consent ready to store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewConsent {
    /// The member.
    pub client_id: ClientId,
    /// Trimmed purpose.
    pub purpose: String,
    /// Guardian's name, document type and normalised number.
    pub guardian: Option<(PersonName, DocumentType, DocumentNumber)>,
    /// When consent was given.
    pub granted_at: DateTime<Utc>,
}

impl fmt::Debug for NewConsent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewConsent")
            .field("client_id", &self.client_id)
            .field("has_guardian", &self.guardian.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether this member needs a guardian's consent on `today`: a minor's identity card
/// (`TI`) or an age under [`AGE_OF_MAJORITY`] by the birth date.
pub fn needs_guardian(client: &Client, today: NaiveDate) -> bool {
    client.document_type == DocumentType::Ti || client.birth_date.age_on(today) < AGE_OF_MAJORITY
}

impl NewConsent {
    /// Validates a consent for `client` given at `now` (business day `today`).
    pub fn parse(
        client: &Client,
        input: ConsentInput,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Self> {
        let purpose = text::CONSENT_PURPOSE
            .parse_optional(Some(&input.purpose))?
            .ok_or_else(|| Error::validation("purpose", "must say what the face is used for"))?;
        let guardian = match input.guardian {
            Some(g) => Some((
                PersonName::parse("guardian_name", &g.name)?,
                g.document_type,
                DocumentNumber::parse(g.document_type, &g.document_number).map_err(
                    |e| match e {
                        Error::Validation { reason, .. } => {
                            Error::validation("guardian_document_number", reason)
                        }
                        other => other,
                    },
                )?,
            )),
            None if needs_guardian(client, today) => {
                return Err(Error::ConsentRequired { guardian: true });
            }
            None => None,
        };
        Ok(Self {
            client_id: client.id,
            purpose,
            guardian,
            granted_at: now,
        })
    }
}

/// A recorded consent.
#[derive(Clone, PartialEq, Eq)]
pub struct BiometricConsent {
    /// Identifier.
    pub id: Uuid,
    /// The member.
    pub client_id: ClientId,
    /// What the face is used for.
    pub purpose: String,
    /// When consent was given.
    pub granted_at: DateTime<Utc>,
    /// Staff member who recorded it.
    pub recorded_by: Option<String>,
    /// Whether a guardian consented too.
    pub has_guardian: bool,
    /// When it was withdrawn; the templates were erased then.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Staff member who recorded the withdrawal.
    pub withdrawn_by: Option<String>,
}

impl fmt::Debug for BiometricConsent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BiometricConsent")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .field("granted_at", &self.granted_at)
            .field("has_guardian", &self.has_guardian)
            .field("withdrawn_at", &self.withdrawn_at)
            .finish_non_exhaustive()
    }
}

impl BiometricConsent {
    /// True while the consent is in force.
    pub fn is_active(&self) -> bool {
        self.withdrawn_at.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guardian_is_all_three_fields_or_none() {
        assert_eq!(Guardian::from_parts(None, None, None).unwrap(), None);
        let g = Guardian::from_parts(Some("Rosa".into()), Some("CC"), Some("52000111".into()))
            .unwrap()
            .unwrap();
        assert_eq!(g.document_type, DocumentType::Cc);
        for (name, kind, number) in [
            (Some("Rosa".to_string()), None, None),
            (None, Some("CC"), Some("52000111".to_string())),
            (Some("Rosa".to_string()), Some("CC"), None),
        ] {
            let err = Guardian::from_parts(name, kind, number).unwrap_err();
            assert!(matches!(err, Error::Validation { field, .. } if field == "guardian"));
        }
        assert!(Guardian::from_parts(Some("R".into()), Some("XX"), Some("1".into())).is_err());
    }
}
