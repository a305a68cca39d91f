//! Staff accounts and the acting staff member every use case takes.

use powergym_core as core;
use powergym_core::domain::staff::Role;

use crate::types::Timestamp;

/// The staff member performing calls; from `Gym.authenticate` or `Gym.actingAs`.
#[derive(uniffi::Object)]
pub struct Actor {
    pub(crate) actor: core::Actor,
    pub(crate) profile: Option<Staff>,
}

#[uniffi::export]
impl Actor {
    /// The acting staff member's username.
    pub fn username(&self) -> String {
        self.actor.username().to_owned()
    }

    /// The account as it was at sign-in (`Gym.authenticate`); absent for an actor made
    /// with `Gym.actingAs`, whose host application authenticated the staff member itself.
    pub fn profile(&self) -> Option<Staff> {
        self.profile.clone()
    }
}

/// A staff account. Printed, it shows the username, role and state, never the e-mail or
/// name.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct Staff {
    /// Login name.
    pub username: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Display name.
    pub full_name: Option<String>,
    /// Role.
    pub role: Role,
    /// A disabled account can do nothing.
    pub disabled: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl From<core::Staff> for Staff {
    fn from(s: core::Staff) -> Self {
        Self {
            username: s.username,
            email: s.email,
            full_name: s.full_name,
            role: s.role,
            disabled: s.disabled,
            created_at: s.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_staff_holds_no_personal_data() {
        let staff = Staff {
            username: "desk".into(),
            email: Some("ana@example.com".into()),
            full_name: Some("Ana Gómez".into()),
            role: Role::Employee,
            disabled: false,
            created_at: chrono::Utc::now(),
        };
        let printed = format!("{staff:?}");
        assert!(printed.contains("desk"), "{printed}");
        assert!(
            !printed.contains("ana@") && !printed.contains("Gómez"),
            "{printed}"
        );
    }
}
