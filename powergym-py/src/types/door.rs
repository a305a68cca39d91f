//! The door: check-ins and attendance.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::types::enums::Enum;
use crate::types::record::record;
use powergym_core as core;

record! {
    /// What happened at the door: `granted`, or the denial `reason`.
    CheckIn {
        granted: bool,
        reason: Option<Enum<core::DenialReason>>,
        attendance_id: Option<Uuid>,
        subscription_id: Option<Uuid>,
        business_date: Option<NaiveDate>,
        entry_time: Option<DateTime<Utc>>,
    }
    repr(granted, reason, attendance_id)
}

impl From<core::CheckInOutcome> for CheckIn {
    fn from(o: core::CheckInOutcome) -> Self {
        match o {
            core::CheckInOutcome::Granted(a) => Self {
                granted: true,
                reason: None,
                attendance_id: Some(a.id),
                subscription_id: a.subscription_id.map(|s| s.as_uuid()),
                business_date: Some(a.business_date),
                entry_time: Some(a.entry_time),
            },
            core::CheckInOutcome::Denied(r) => Self {
                granted: false,
                reason: Some(r.into()),
                attendance_id: None,
                subscription_id: None,
                business_date: None,
                entry_time: None,
            },
        }
    }
}

record! {
    /// A recorded check-in.
    Attendance {
        id: Uuid,
        client_id: Uuid,
        subscription_id: Option<Uuid>,
        entry_time: DateTime<Utc>,
        /// The gym's business day of `entry_time`.
        business_date: NaiveDate,
        method: Enum<core::CheckInMethod>,
        recorded_by: Option<String>,
    }
    repr(id, business_date, method)
}

impl From<core::Attendance> for Attendance {
    fn from(a: core::Attendance) -> Self {
        Self {
            id: a.id,
            client_id: a.client_id.as_uuid(),
            subscription_id: a.subscription_id.map(|s| s.as_uuid()),
            entry_time: a.entry_time,
            business_date: a.business_date,
            method: a.method.into(),
            recorded_by: a.recorded_by,
        }
    }
}

record! {
    /// How many check-ins were refused for one reason.
    DenialCount {
        reason: Enum<core::DenialReason>,
        count: u64,
    }
    repr(reason, count)
}

impl From<(core::DenialReason, u64)> for DenialCount {
    fn from((reason, count): (core::DenialReason, u64)) -> Self {
        Self {
            reason: reason.into(),
            count,
        }
    }
}
