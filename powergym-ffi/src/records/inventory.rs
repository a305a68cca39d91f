//! Products and their stock: what an admin creates and changes, the ledger of movements,
//! and the inventory reports.

use powergym_core as core;
use powergym_core::domain::inventory::{
    MovementTotals as CoreTotals, ProductHistory as CoreHistory,
};
use powergym_core::{MovementType, StockStatus};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::types::Timestamp;

/// A new product.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProductInput {
    /// Name.
    pub name: String,
    /// Size of one unit.
    pub capacity_value: Decimal,
    /// Unit of the size (`ml`, `g`...).
    pub unit_type: String,
    /// Sale price.
    pub price: Decimal,
    /// Description, optional.
    #[uniffi(default = None)]
    pub description: Option<String>,
    /// Currency (ISO 4217); COP when absent.
    #[uniffi(default = None)]
    pub currency: Option<String>,
    /// Photo URL, optional.
    #[uniffi(default = None)]
    pub photo_url: Option<String>,
    /// Minimum stock; 5 when absent.
    #[uniffi(default = None)]
    pub min_stock: Option<Decimal>,
    /// Maximum stock, optional.
    #[uniffi(default = None)]
    pub max_stock: Option<Decimal>,
}

impl From<ProductInput> for core::ProductInput {
    fn from(i: ProductInput) -> Self {
        Self {
            name: i.name,
            description: i.description,
            capacity_value: i.capacity_value,
            unit_type: i.unit_type,
            price: i.price,
            currency: i.currency,
            photo_url: i.photo_url,
            min_stock: i.min_stock,
            max_stock: i.max_stock,
        }
    }
}

/// A new maximum stock for a product: set one, or clear it (no maximum).
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum MaxStockChange {
    /// The product gets this maximum.
    Set {
        /// The new maximum.
        max_stock: Decimal,
    },
    /// The product has no maximum any more.
    Clear,
}

/// Changes to a product; `null` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct ProductUpdate {
    /// New name.
    #[uniffi(default = None)]
    pub name: Option<String>,
    /// New description.
    #[uniffi(default = None)]
    pub description: Option<String>,
    /// New sale price.
    #[uniffi(default = None)]
    pub price: Option<Decimal>,
    /// New minimum stock.
    #[uniffi(default = None)]
    pub min_stock: Option<Decimal>,
    /// A new maximum stock, or its removal.
    #[uniffi(default = None)]
    pub max_stock: Option<MaxStockChange>,
    /// New photo URL.
    #[uniffi(default = None)]
    pub photo_url: Option<String>,
}

impl From<ProductUpdate> for core::ProductUpdate {
    fn from(u: ProductUpdate) -> Self {
        Self {
            name: u.name,
            description: u.description,
            price: u.price,
            min_stock: u.min_stock,
            max_stock: u.max_stock.map(|change| match change {
                MaxStockChange::Set { max_stock } => Some(max_stock),
                MaxStockChange::Clear => None,
            }),
            photo_url: u.photo_url,
        }
    }
}

/// A product and its stock.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Product {
    /// Identifier.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Size of one unit.
    pub capacity_value: Decimal,
    /// Unit of the size.
    pub unit_type: String,
    /// Sale price.
    pub price: Decimal,
    /// Currency (ISO 4217).
    pub currency: String,
    /// Photo URL.
    pub photo_url: Option<String>,
    /// Inactive products do not move.
    pub is_active: bool,
    /// Stock on hand.
    pub available_quantity: Decimal,
    /// Minimum stock.
    pub min_stock: Decimal,
    /// Maximum stock, if any.
    pub max_stock: Option<Decimal>,
    /// Status by the one stock rule.
    pub stock_status: StockStatus,
    /// When it was created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl From<core::Product> for Product {
    fn from(p: core::Product) -> Self {
        Self {
            id: p.id,
            name: p.name,
            description: p.description,
            capacity_value: p.capacity_value,
            unit_type: p.unit_type,
            price: p.price.amount(),
            currency: p.currency.as_str().to_owned(),
            photo_url: p.photo_url,
            is_active: p.is_active,
            available_quantity: p.available_quantity.value(),
            min_stock: p.limits.min_stock().value(),
            max_stock: p.limits.max_stock().map(|q| q.value()),
            stock_status: p.stock_status,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

page!(ProductPage, Product, core::Product, "One page of products.");

/// A stock movement (a ledger line).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Movement {
    /// Identifier.
    pub id: Uuid,
    /// The product moved.
    pub product_id: Uuid,
    /// Entry or exit.
    pub movement_type: MovementType,
    /// Signed quantity (negative for an exit).
    pub quantity: Decimal,
    /// For a sale, the unit price then.
    pub unit_price: Option<Decimal>,
    /// For a sale, its total.
    pub total_amount: Option<Decimal>,
    /// When.
    pub movement_date: Timestamp,
    /// Staff member who made it.
    pub responsible: Option<String>,
    /// Note.
    pub notes: Option<String>,
}

impl From<core::Movement> for Movement {
    fn from(m: core::Movement) -> Self {
        Self {
            id: m.id,
            product_id: m.product_id,
            movement_type: m.movement_type,
            quantity: m.quantity,
            unit_price: m.unit_price.map(|p| p.amount()),
            total_amount: m.total_amount.map(|p| p.amount()),
            movement_date: m.movement_date,
            responsible: m.responsible,
            notes: m.notes,
        }
    }
}

page!(
    MovementPage,
    Movement,
    core::Movement,
    "One page of stock movements."
);

/// A stock movement and the product after it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StockChange {
    /// The ledger line written.
    pub movement: Movement,
    /// The product with its new stock and status.
    pub product: Product,
}

impl From<core::StockChange> for StockChange {
    fn from(c: core::StockChange) -> Self {
        Self {
            movement: c.movement.into(),
            product: c.product.into(),
        }
    }
}

/// Totals of a product's movements.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MovementTotals {
    /// Movements in all.
    pub count: u64,
    /// Units entered.
    pub entered: Decimal,
    /// Units taken out.
    pub exited: Decimal,
    /// Entries.
    pub entries: u64,
    /// Exits.
    pub exits: u64,
    /// The latest movement, if any.
    pub last_movement: Option<Timestamp>,
}

impl From<CoreTotals> for MovementTotals {
    fn from(t: CoreTotals) -> Self {
        Self {
            count: t.count,
            entered: t.entered,
            exited: t.exited,
            entries: t.entries,
            exits: t.exits,
            last_movement: t.last_movement,
        }
    }
}

/// A product's history: its totals and its latest movements.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProductHistory {
    /// The product.
    pub product: Product,
    /// Totals of all its movements.
    pub totals: MovementTotals,
    /// Its latest movements, newest first.
    pub recent: Vec<Movement>,
}

impl From<CoreHistory> for ProductHistory {
    fn from(h: CoreHistory) -> Self {
        Self {
            product: h.product.into(),
            totals: h.totals.into(),
            recent: h.recent.into_iter().map(Into::into).collect(),
        }
    }
}

/// One staff member's stock movements over a period.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StaffMovements {
    /// The staff member (absent for movements adopted without one).
    pub responsible: Option<String>,
    /// Sales made.
    pub sales_count: u64,
    /// Units sold.
    pub units_sold: Decimal,
    /// What the sales were worth.
    pub sales_amount: Decimal,
    /// Units entered.
    pub units_entered: Decimal,
}

impl From<core::StaffMovements> for StaffMovements {
    fn from(s: core::StaffMovements) -> Self {
        Self {
            responsible: s.responsible,
            sales_count: s.sales_count,
            units_sold: s.units_sold,
            sales_amount: s.sales_amount.amount(),
            units_entered: s.units_entered,
        }
    }
}
