//! Membership plans: what an admin creates and changes, and what the desk sells.

use powergym_core as core;
use powergym_core::PlanId;
use powergym_core::domain::plan::DurationUnit;
use rust_decimal::Decimal;

use crate::types::Timestamp;

/// A new plan.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PlanInput {
    /// Name.
    pub name: String,
    /// List price.
    pub price: Decimal,
    /// Unit of the duration.
    pub duration_unit: DurationUnit,
    /// Units per period.
    pub duration_count: u32,
    /// Unique key, optional.
    #[uniffi(default = None)]
    pub slug: Option<String>,
    /// Description, optional.
    #[uniffi(default = None)]
    pub description: Option<String>,
    /// Currency (ISO 4217); COP when absent.
    #[uniffi(default = None)]
    pub currency: Option<String>,
}

impl From<PlanInput> for core::PlanInput {
    fn from(i: PlanInput) -> Self {
        Self {
            name: i.name,
            slug: i.slug,
            description: i.description,
            price: i.price,
            currency: i.currency,
            duration_unit: i.duration_unit,
            duration_count: i.duration_count,
        }
    }
}

/// Changes to a plan; `null` leaves a field as it is. Subscriptions already sold keep
/// their price snapshot.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct PlanUpdate {
    /// New name.
    #[uniffi(default = None)]
    pub name: Option<String>,
    /// New description.
    #[uniffi(default = None)]
    pub description: Option<String>,
    /// New list price.
    #[uniffi(default = None)]
    pub price: Option<Decimal>,
}

impl From<PlanUpdate> for core::PlanUpdate {
    fn from(u: PlanUpdate) -> Self {
        Self {
            name: u.name,
            description: u.description,
            price: u.price,
        }
    }
}

/// A membership plan.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Plan {
    /// Identifier.
    pub id: PlanId,
    /// Name.
    pub name: String,
    /// Unique key.
    pub slug: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Current list price.
    pub price: Decimal,
    /// Currency (ISO 4217).
    pub currency: String,
    /// Unit of the duration.
    pub duration_unit: DurationUnit,
    /// Units per period.
    pub duration_count: u32,
    /// Inactive plans are not sold.
    pub is_active: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

impl From<core::Plan> for Plan {
    fn from(p: core::Plan) -> Self {
        Self {
            id: p.id,
            name: p.name,
            slug: p.slug,
            description: p.description,
            price: p.price.amount(),
            currency: p.currency.as_str().to_owned(),
            duration_unit: p.duration.unit(),
            duration_count: p.duration.count(),
            is_active: p.is_active,
            created_at: p.created_at,
        }
    }
}

page!(PlanPage, Plan, core::Plan, "One page of plans.");
