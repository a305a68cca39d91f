//! Attendance rewards: the reward earned, and the verdict of an evaluation.

use chrono::NaiveDate;
use powergym_core as core;
use powergym_core::domain::reward::RewardStatus;
use powergym_core::{ClientId, SubscriptionId};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::types::Timestamp;

/// An earned reward.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Reward {
    /// Identifier.
    pub id: Uuid,
    /// The subscription that earned it.
    pub subscription_id: SubscriptionId,
    /// Whose it is.
    pub client_id: ClientId,
    /// Distinct attendance days that earned it.
    pub attendance_count: u32,
    /// Its discount, percent.
    pub discount_percentage: Decimal,
    /// The business day it was earned.
    pub eligible_date: NaiveDate,
    /// Last day it can be applied.
    pub expires_on: NaiveDate,
    /// Pending, applied or expired.
    pub status: RewardStatus,
    /// When it was applied.
    pub applied_at: Option<Timestamp>,
    /// The subscription it discounted.
    pub applied_subscription_id: Option<SubscriptionId>,
}

impl From<core::Reward> for Reward {
    fn from(r: core::Reward) -> Self {
        Self {
            id: r.id,
            subscription_id: r.subscription_id,
            client_id: r.client_id,
            attendance_count: r.attendance_count,
            discount_percentage: r.discount.value(),
            eligible_date: r.eligible_date,
            expires_on: r.expires_on,
            status: r.status,
            applied_at: r.applied_at,
            applied_subscription_id: r.applied_subscription_id,
        }
    }
}

/// The verdict on a subscription's attendance (`Gym.evaluateReward`).
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum RewardEvaluation {
    /// Not earned (yet): too few attendance days, or a subscription that cannot earn.
    NotEarned {
        /// Distinct attendance days counted in the window.
        attendance_count: u32,
    },
    /// Earned, now or in an earlier evaluation (the same reward comes back).
    Earned {
        /// Distinct attendance days counted.
        attendance_count: u32,
        /// The reward.
        reward: Reward,
    },
}

impl From<core::RewardEvaluation> for RewardEvaluation {
    fn from(e: core::RewardEvaluation) -> Self {
        match e.reward {
            None => Self::NotEarned {
                attendance_count: e.attendance_count,
            },
            Some(reward) => Self::Earned {
                attendance_count: e.attendance_count,
                reward: reward.into(),
            },
        }
    }
}
