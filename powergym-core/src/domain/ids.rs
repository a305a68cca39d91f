//! Typed identifiers, so a plan id can never be passed where a client id is expected.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::error::{Error, Result};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID (every UUID is a well-formed id; whether it exists is
            /// the store's question).
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Parses the canonical text form of a UUID.
            pub fn parse(s: &str) -> Result<Self> {
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| Error::validation($field, "expected a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::parse(s)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

id_type!(
    /// Identifies a client (a gym member).
    ClientId,
    "client_id"
);
id_type!(
    /// Identifies a membership plan.
    PlanId,
    "plan_id"
);
id_type!(
    /// Identifies a subscription.
    SubscriptionId,
    "subscription_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let id = ClientId::parse(" 67e55044-10b1-426f-9247-bb680e5fe0c8 ").unwrap();
        assert_eq!(id.to_string(), "67e55044-10b1-426f-9247-bb680e5fe0c8");
        assert_eq!(ClientId::from_uuid(id.as_uuid()), id);
    }

    #[test]
    fn rejects_garbage_naming_the_field() {
        let err = PlanId::parse("not-a-uuid").unwrap_err();
        assert!(
            matches!(
                err,
                Error::Validation {
                    field: "plan_id",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
