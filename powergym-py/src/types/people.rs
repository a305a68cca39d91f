//! Members, staff and the schema history.

use chrono::{DateTime, NaiveDate, Utc};
use pyo3::prelude::*;
use uuid::Uuid;

use crate::types::enums::Enum;
use crate::types::record::record;
use crate::types::sales::Subscription;
use powergym_core as core;

record! {
    /// A registered gym member.
    Client {
        id: Uuid,
        document_type: Enum<core::DocumentType>,
        document_number: String,
        first_name: String,
        middle_name: Option<String>,
        last_name: String,
        second_last_name: Option<String>,
        /// "First [Middle] Last [SecondLast]", as core joins them.
        full_name: String,
        phone: String,
        alternative_phone: Option<String>,
        email: Option<String>,
        birth_date: NaiveDate,
        gender: Enum<core::Gender>,
        address: Option<String>,
        is_active: bool,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
    repr(id, document_type, is_active)
}

impl From<core::Client> for Client {
    fn from(c: core::Client) -> Self {
        Self {
            full_name: c.full_name(),
            id: c.id.as_uuid(),
            document_type: c.document_type.into(),
            document_number: c.document_number.as_str().to_owned(),
            first_name: c.first_name.as_str().to_owned(),
            middle_name: c.middle_name.map(|n| n.as_str().to_owned()),
            last_name: c.last_name.as_str().to_owned(),
            second_last_name: c.second_last_name.map(|n| n.as_str().to_owned()),
            phone: c.phone.as_str().to_owned(),
            alternative_phone: c.alternative_phone.map(|p| p.as_str().to_owned()),
            email: c.email.map(|e| e.as_str().to_owned()),
            birth_date: c.birth_date.date(),
            gender: c.gender.into(),
            address: c.address,
            is_active: c.is_active,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

record! {
    /// What the front desk sees about one member.
    ClientDashboard {
        client: Client,
        /// The most recently sold subscription.
        latest_subscription: Option<Subscription>,
        /// Its plan's name.
        latest_plan_name: Option<String>,
        total_subscriptions: u64,
        /// Attendances since the latest subscription started.
        attendances_since_start: u64,
        last_attendance: Option<DateTime<Utc>>,
        client_since: DateTime<Utc>,
    }
    repr(client, latest_subscription, total_subscriptions, attendances_since_start)
}

impl From<core::ClientDashboard> for ClientDashboard {
    fn from(d: core::ClientDashboard) -> Self {
        Self {
            client: d.client.into(),
            latest_subscription: d.latest_subscription.map(Into::into),
            latest_plan_name: d.latest_plan_name,
            total_subscriptions: d.total_subscriptions,
            attendances_since_start: d.attendances_since_start,
            last_attendance: d.last_attendance,
            client_since: d.client_since,
        }
    }
}

/// The staff member performing calls; from `Gym.authenticate` or `Gym.acting_as`. Not
/// picklable: an actor comes from signing in (or `acting_as`), never from bytes.
#[pyclass(frozen, eq, hash, module = "powergym")]
#[derive(PartialEq, Eq, Hash, Clone)]
pub(crate) struct Actor(pub(crate) core::Actor);

#[pymethods]
impl Actor {
    /// The acting staff member's username.
    #[getter]
    fn username(&self) -> &str {
        self.0.username()
    }
    /// `{"username": ...}`.
    fn to_dict(&self) -> std::collections::BTreeMap<&'static str, &str> {
        std::collections::BTreeMap::from([("username", self.0.username())])
    }
    /// Immutable: a copy is itself.
    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }
    /// Immutable: a copy is itself.
    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }
    fn __repr__(&self) -> String {
        format!("Actor(username='{}')", self.0.username())
    }
}

record! {
    /// A staff account (never its password).
    Staff {
        username: String,
        email: Option<String>,
        full_name: Option<String>,
        role: Enum<core::Role>,
        disabled: bool,
        created_at: DateTime<Utc>,
    }
    repr(username, role, disabled)
}

impl From<core::Staff> for Staff {
    fn from(s: core::Staff) -> Self {
        Self {
            username: s.username,
            email: s.email,
            full_name: s.full_name,
            role: s.role.into(),
            disabled: s.disabled,
            created_at: s.created_at,
        }
    }
}

record! {
    /// A schema migration and whether the database has it.
    MigrationRecord {
        version: i64,
        description: String,
        checksum: String,
        applied_at: Option<DateTime<Utc>>,
        is_applied: bool,
        /// The applied script differs from the one this library ships.
        checksum_mismatch: bool,
    }
    repr(version, description, is_applied)
}

impl From<core::MigrationRecord> for MigrationRecord {
    fn from(m: core::MigrationRecord) -> Self {
        Self {
            is_applied: m.is_applied(),
            version: m.version,
            description: m.description,
            checksum: m.checksum,
            applied_at: m.applied_at,
            checksum_mismatch: m.checksum_mismatch,
        }
    }
}
