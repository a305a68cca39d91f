//! Check-ins: the attendance recorded, the door's outcome, and the refusals counted.

use chrono::NaiveDate;
use powergym_core as core;
use powergym_core::{CheckInMethod, ClientId, DenialReason, SubscriptionId};
use uuid::Uuid;

use crate::types::Timestamp;

/// A recorded entry to the gym.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Attendance {
    /// Identifier.
    pub id: Uuid,
    /// Who entered.
    pub client_id: ClientId,
    /// The subscription that covered the day.
    pub subscription_id: Option<SubscriptionId>,
    /// When.
    pub entry_time: Timestamp,
    /// The gym's business day of the entry.
    pub business_date: NaiveDate,
    /// How the client was identified.
    pub method: CheckInMethod,
    /// Staff member who checked them in.
    pub recorded_by: Option<String>,
}

impl From<core::Attendance> for Attendance {
    fn from(a: core::Attendance) -> Self {
        Self {
            id: a.id,
            client_id: a.client_id,
            subscription_id: a.subscription_id,
            entry_time: a.entry_time,
            business_date: a.business_date,
            method: a.method,
            recorded_by: a.recorded_by,
        }
    }
}

page!(
    AttendancePage,
    Attendance,
    core::Attendance,
    "One page of attendances."
);

/// What happened at the door.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum CheckInOutcome {
    /// The client entered.
    Granted {
        /// The attendance recorded.
        attendance: Attendance,
    },
    /// The client may not enter (the refusal is recorded).
    Denied {
        /// Why not.
        reason: DenialReason,
    },
}

impl From<core::CheckInOutcome> for CheckInOutcome {
    fn from(o: core::CheckInOutcome) -> Self {
        match o {
            core::CheckInOutcome::Granted(a) => Self::Granted {
                attendance: a.into(),
            },
            core::CheckInOutcome::Denied(reason) => Self::Denied { reason },
        }
    }
}

/// How many check-ins were refused for one reason.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DenialCount {
    /// The reason.
    pub reason: DenialReason,
    /// Refusals for it.
    pub count: u64,
}
