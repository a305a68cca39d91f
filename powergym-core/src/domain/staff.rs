//! Staff accounts: roles, the permission matrix, the last-admin guard, and the username
//! and password policies.
//!
//! The matrix is spec §8.3 with the original's holes closed: disabled staff can do
//! nothing at all (the original let them check members in and enrol faces), and the daily
//! jobs are for admins (the original let any employee trigger them).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A staff member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Runs the gym: staff, plans, prices, stock entries, reports.
    Admin,
    /// Works the front desk.
    Employee,
}

impl Role {
    /// The database label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Employee => "employee",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Self::Admin),
            "employee" => Ok(Self::Employee),
            _ => Err(Error::validation("role", "expected admin or employee")),
        }
    }
}

/// Everything staff can do, grouped by area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read or edit one's own profile, change one's own password.
    ManageOwnProfile,
    /// Create, list, edit, reset, change role, disable, enable or remove staff.
    ManageStaff,
    /// Register, read, search, update, deactivate clients; the client dashboard.
    ManageClients,
    /// List and read plans.
    ReadPlans,
    /// Create, update and deactivate plans.
    ManagePlans,
    /// Create, renew, cancel and read subscriptions.
    ManageSubscriptions,
    /// Run the daily jobs (expire, start scheduled, expire unpaid, expire rewards).
    RunDailyJobs,
    /// Record and read payments.
    ManagePayments,
    /// Check a member in (by document or face).
    CheckIn,
    /// Read one client's attendance history.
    ReadClientAttendance,
    /// Read the attendance of everyone.
    ReadAllAttendance,
    /// Enrol, replace or remove a face template.
    ManageFaces,
    /// Evaluate, list and apply rewards.
    ManageRewards,
    /// Gym statistics and the recent-activity feed.
    ReadStatistics,
    /// Read and search products, movements and a product's history.
    ReadInventory,
    /// Create, update and deactivate products.
    ManageProducts,
    /// Add stock.
    AddStock,
    /// Sell (remove stock).
    SellStock,
    /// Stock reports: stats, low/out/over stock, daily sales, reconciliation.
    ReadInventoryReports,
}

impl Action {
    /// Every action, in a stable order.
    pub const ALL: [Self; 19] = [
        Self::ManageOwnProfile,
        Self::ManageStaff,
        Self::ManageClients,
        Self::ReadPlans,
        Self::ManagePlans,
        Self::ManageSubscriptions,
        Self::RunDailyJobs,
        Self::ManagePayments,
        Self::CheckIn,
        Self::ReadClientAttendance,
        Self::ReadAllAttendance,
        Self::ManageFaces,
        Self::ManageRewards,
        Self::ReadStatistics,
        Self::ReadInventory,
        Self::ManageProducts,
        Self::AddStock,
        Self::SellStock,
        Self::ReadInventoryReports,
    ];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ManageOwnProfile => "manage_own_profile",
            Self::ManageStaff => "manage_staff",
            Self::ManageClients => "manage_clients",
            Self::ReadPlans => "read_plans",
            Self::ManagePlans => "manage_plans",
            Self::ManageSubscriptions => "manage_subscriptions",
            Self::RunDailyJobs => "run_daily_jobs",
            Self::ManagePayments => "manage_payments",
            Self::CheckIn => "check_in",
            Self::ReadClientAttendance => "read_client_attendance",
            Self::ReadAllAttendance => "read_all_attendance",
            Self::ManageFaces => "manage_faces",
            Self::ManageRewards => "manage_rewards",
            Self::ReadStatistics => "read_statistics",
            Self::ReadInventory => "read_inventory",
            Self::ManageProducts => "manage_products",
            Self::AddStock => "add_stock",
            Self::SellStock => "sell_stock",
            Self::ReadInventoryReports => "read_inventory_reports",
        }
    }

    /// Who may do it when enabled.
    fn admin_only(self) -> bool {
        match self {
            Self::ManageStaff
            | Self::ManagePlans
            | Self::RunDailyJobs
            | Self::ReadAllAttendance
            | Self::ReadStatistics
            | Self::ManageProducts
            | Self::AddStock
            | Self::ReadInventoryReports => true,
            Self::ManageOwnProfile
            | Self::ManageClients
            | Self::ReadPlans
            | Self::ManageSubscriptions
            | Self::ManagePayments
            | Self::CheckIn
            | Self::ReadClientAttendance
            | Self::ManageFaces
            | Self::ManageRewards
            | Self::ReadInventory
            | Self::SellStock => false,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| Error::validation("action", "unknown action"))
    }
}

/// Whether staff with `role`, disabled or not, may perform `action`.
pub fn authorize(role: Role, disabled: bool, action: Action) -> Result<()> {
    let allowed = !disabled && (role == Role::Admin || !action.admin_only());
    if allowed {
        Ok(())
    } else {
        Err(Error::PermissionDenied {
            action: action.as_str().to_owned(),
        })
    }
}

/// A change to a staff account that may remove an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountChange {
    /// Disable the account.
    Disable,
    /// Make the account an employee.
    DemoteToEmployee,
    /// Delete the account.
    Remove,
}

impl FromStr for AccountChange {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "disable" => Ok(Self::Disable),
            "demote" => Ok(Self::DemoteToEmployee),
            "remove" => Ok(Self::Remove),
            _ => Err(Error::validation(
                "change",
                "expected disable, demote or remove",
            )),
        }
    }
}

/// Refuses a change that would leave the gym without an active admin. `active_admins`
/// counts enabled admins, the target included.
pub fn guard_last_admin(
    target_role: Role,
    target_disabled: bool,
    change: AccountChange,
    active_admins: u32,
) -> Result<()> {
    let removes_an_active_admin = target_role == Role::Admin && !target_disabled;
    if removes_an_active_admin && active_admins <= 1 {
        let what = match change {
            AccountChange::Disable => "disabled",
            AccountChange::DemoteToEmployee => "demoted",
            AccountChange::Remove => "removed",
        };
        return Err(Error::Conflict {
            reason: format!("the last active admin cannot be {what}; make another admin first"),
        });
    }
    Ok(())
}

/// A staff login name: 3 to 50 characters, lower-case letters, digits, `.`, `_`, `-`,
/// starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Validates a username (trimmed and lower-cased first).
    pub fn parse(raw: &str) -> Result<Self> {
        // Longer than any name with surrounding spaces: refused before it is copied.
        let s = if raw.len() > 4 * 50 {
            String::new()
        } else {
            raw.trim().to_lowercase()
        };
        let len = s.chars().count();
        let first_ok = s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if !(3..=50).contains(&len) || !first_ok || !rest_ok {
            return Err(Error::validation(
                "username",
                "must be 3 to 50 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
            ));
        }
        Ok(Self(s))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Validates a staff member's optional display name under the
/// [`STAFF_FULL_NAME`](crate::domain::text::STAFF_FULL_NAME) rule: blank is absent, at
/// most 200 characters, inner spaces collapsed, no control or invisible characters.
pub fn parse_full_name(raw: Option<&str>) -> Result<Option<String>> {
    crate::domain::text::STAFF_FULL_NAME.parse_optional(raw)
}

/// A staff account as stored (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// Login name.
    pub username: String,
    /// E-mail address, if any.
    pub email: Option<String>,
    /// Display name, if any.
    pub full_name: Option<String>,
    /// Role.
    pub role: Role,
    /// A disabled account can do nothing.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Who performs a use case. Obtained from [`crate::Gym::authenticate`] or
/// [`crate::Gym::acting_as`]; every use case re-reads the account inside its own
/// transaction, so a member disabled a moment ago can no longer act.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    username: String,
}

impl Actor {
    pub(crate) fn new(username: String) -> Self {
        Self { username }
    }

    /// The acting staff member's username.
    pub fn username(&self) -> &str {
        &self.username
    }
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted (argon2 hashes any length, but unbounded input is a
/// denial-of-service lever).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Checks a new password against the policy: 8 to 128 characters, not only spaces.
pub fn check_password_policy(password: &str) -> Result<()> {
    let len = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&len) {
        return Err(Error::validation(
            "password",
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if password.trim().is_empty() {
        return Err(Error::validation("password", "must not be only spaces"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix() {
        for action in Action::ALL {
            assert!(authorize(Role::Admin, false, action).is_ok(), "{action}");
            assert!(authorize(Role::Admin, true, action).is_err(), "{action}");
            assert!(authorize(Role::Employee, true, action).is_err(), "{action}");
            assert_eq!(
                authorize(Role::Employee, false, action).is_ok(),
                !action.admin_only(),
                "{action}"
            );
        }
        assert!(authorize(Role::Employee, false, Action::CheckIn).is_ok());
        assert!(authorize(Role::Employee, false, Action::SellStock).is_ok());
        assert!(authorize(Role::Employee, false, Action::AddStock).is_err());
        assert!(authorize(Role::Employee, false, Action::RunDailyJobs).is_err());
        let err = authorize(Role::Employee, false, Action::ManageStaff).unwrap_err();
        assert_eq!(
            err,
            Error::PermissionDenied {
                action: "manage_staff".into()
            }
        );
    }

    #[test]
    fn last_admin() {
        use AccountChange::*;
        for change in [Disable, DemoteToEmployee, Remove] {
            assert!(guard_last_admin(Role::Admin, false, change, 1).is_err());
            assert!(guard_last_admin(Role::Admin, false, change, 2).is_ok());
            assert!(guard_last_admin(Role::Admin, true, change, 1).is_ok());
            assert!(guard_last_admin(Role::Employee, false, change, 1).is_ok());
        }
    }

    #[test]
    fn usernames_and_passwords() {
        assert_eq!(
            Username::parse(" Ana.Gomez ").unwrap().as_str(),
            "ana.gomez"
        );
        for bad in ["ab", "_ana", "ana gomez", "ána", &"a".repeat(51)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
        assert!(check_password_policy("12345678").is_ok());
        assert!(check_password_policy("1234567").is_err());
        assert!(check_password_policy(&"x".repeat(129)).is_err());
        assert!(check_password_policy("        ").is_err());
    }
}
