//! Products and stock movements. Quantities keep their own scale (they are units, not
//! money); prices and totals are money.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::types::enums::Enum;
use crate::types::record::{Money, record};
use powergym_core as core;
use powergym_core::domain::inventory;

record! {
    /// A product and its stock.
    Product {
        id: Uuid,
        name: String,
        description: Option<String>,
        /// Size of one unit (350 for a 350 ml bottle).
        capacity_value: Decimal,
        unit_type: String,
        price: Money,
        currency: String,
        photo_url: Option<String>,
        available_quantity: Decimal,
        min_stock: Decimal,
        max_stock: Option<Decimal>,
        stock_status: Enum<core::StockStatus>,
        is_active: bool,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
    repr(id, available_quantity, stock_status, is_active)
}

impl From<core::Product> for Product {
    fn from(p: core::Product) -> Self {
        Self {
            id: p.id,
            name: p.name,
            description: p.description,
            capacity_value: p.capacity_value,
            unit_type: p.unit_type,
            price: p.price.into(),
            currency: p.currency.as_str().to_owned(),
            photo_url: p.photo_url,
            available_quantity: p.available_quantity.value(),
            min_stock: p.limits.min_stock().value(),
            max_stock: p.limits.max_stock().map(|q| q.value()),
            stock_status: p.stock_status.into(),
            is_active: p.is_active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

record! {
    /// A stock movement and the product's stock after it.
    StockChange {
        movement_id: Uuid,
        product_id: Uuid,
        movement_type: Enum<core::MovementType>,
        /// Signed: positive in, negative out.
        quantity: Decimal,
        unit_price: Option<Money>,
        total_amount: Option<Money>,
        responsible: Option<String>,
        available_quantity: Decimal,
        stock_status: Enum<core::StockStatus>,
    }
    repr(movement_id, movement_type, quantity, available_quantity, stock_status)
}

impl From<core::StockChange> for StockChange {
    fn from(c: core::StockChange) -> Self {
        Self {
            movement_id: c.movement.id,
            product_id: c.product.id,
            movement_type: c.movement.movement_type.into(),
            quantity: c.movement.quantity,
            unit_price: c.movement.unit_price.map(Into::into),
            total_amount: c.movement.total_amount.map(Into::into),
            responsible: c.movement.responsible,
            available_quantity: c.product.available_quantity.value(),
            stock_status: c.product.stock_status.into(),
        }
    }
}

record! {
    /// A stock movement (a ledger line).
    Movement {
        id: Uuid,
        product_id: Uuid,
        movement_type: Enum<core::MovementType>,
        /// Signed: positive in, negative out.
        quantity: Decimal,
        /// For a sale, the unit price at the moment of sale.
        unit_price: Option<Money>,
        /// For a sale, what it was worth.
        total_amount: Option<Money>,
        movement_date: DateTime<Utc>,
        responsible: Option<String>,
        notes: Option<String>,
    }
    repr(id, product_id, movement_type, quantity)
}

impl From<core::Movement> for Movement {
    fn from(m: core::Movement) -> Self {
        Self {
            id: m.id,
            product_id: m.product_id,
            movement_type: m.movement_type.into(),
            quantity: m.quantity,
            unit_price: m.unit_price.map(Into::into),
            total_amount: m.total_amount.map(Into::into),
            movement_date: m.movement_date,
            responsible: m.responsible,
            notes: m.notes,
        }
    }
}

record! {
    /// Totals of a product's movements.
    MovementTotals {
        count: u64,
        /// Units that came in.
        entered: Decimal,
        /// Units that went out.
        exited: Decimal,
        entries: u64,
        exits: u64,
        last_movement: Option<DateTime<Utc>>,
    }
    repr(count, entered, exited, entries, exits)
}

impl From<inventory::MovementTotals> for MovementTotals {
    fn from(t: inventory::MovementTotals) -> Self {
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

record! {
    /// A product's history: the product now, its totals and its latest movements.
    ProductHistory {
        product: Product,
        totals: MovementTotals,
        /// The latest movements, newest first.
        recent: Vec<Movement>,
    }
    repr(product, totals, recent)
}

impl From<core::domain::inventory::ProductHistory> for ProductHistory {
    fn from(h: inventory::ProductHistory) -> Self {
        Self {
            product: h.product.into(),
            totals: h.totals.into(),
            recent: h.recent.into_iter().map(Into::into).collect(),
        }
    }
}

record! {
    /// One staff member's stock movements over a period: sales and entries.
    StaffMovements {
        /// Who made them (`None` for rows whose account was removed).
        responsible: Option<String>,
        sales_count: u64,
        units_sold: Decimal,
        sales_amount: Money,
        units_entered: Decimal,
    }
    repr(responsible, sales_count, units_sold, sales_amount, units_entered)
}

impl From<core::StaffMovements> for StaffMovements {
    fn from(s: core::StaffMovements) -> Self {
        Self {
            responsible: s.responsible,
            sales_count: s.sales_count,
            units_sold: s.units_sold,
            sales_amount: s.sales_amount.into(),
            units_entered: s.units_entered,
        }
    }
}
