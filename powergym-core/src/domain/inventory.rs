//! Stock rules: quantities, the one stock-status rule, movement signs and sales.
//!
//! The status rule is also the generated `products.stock_status` column of the schema
//! (migration 0005), so the database and this function cannot disagree; a store test
//! checks both on the same table of cases.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::domain::money::{MAX_AMOUNT, Money, round_cents};
use crate::domain::text;
use crate::error::{Error, Result};

/// A non-negative stock quantity with at most two decimal places (products are sold by
/// the unit, the litre, the kilo…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Quantity(Decimal);

impl Quantity {
    /// Zero.
    pub const ZERO: Quantity = Quantity(Decimal::ZERO);

    /// Validates a quantity; `field` names it in errors.
    pub fn parse(field: &'static str, q: Decimal) -> Result<Self> {
        if q.is_sign_negative() && !q.is_zero() {
            return Err(Error::validation(field, "must not be negative"));
        }
        if q.normalize().scale() > 2 {
            return Err(Error::validation(
                field,
                "must have at most two decimal places",
            ));
        }
        if q > MAX_AMOUNT {
            return Err(Error::validation(
                field,
                format!("must be at most {MAX_AMOUNT}"),
            ));
        }
        Ok(Self(q.normalize().max(Decimal::ZERO)))
    }

    /// Validates a quantity that must be greater than zero (a movement's size).
    pub fn parse_positive(field: &'static str, q: Decimal) -> Result<Self> {
        let q = Self::parse(field, q)?;
        if q.0.is_zero() {
            return Err(Error::validation(field, "must be greater than zero"));
        }
        Ok(q)
    }

    /// The amount.
    pub fn value(&self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a product's stock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StockStatus {
    /// Above the minimum and not above the maximum.
    Normal,
    /// At or below the minimum, above zero.
    LowStock,
    /// Zero.
    StockOut,
    /// Above the maximum.
    Overstock,
}

impl StockStatus {
    /// Every status, in a stable order.
    pub const ALL: [Self; 4] = [
        Self::Normal,
        Self::LowStock,
        Self::StockOut,
        Self::Overstock,
    ];

    /// The one rule: 0 → `STOCK_OUT`, ≤ min → `LOW_STOCK`, > max → `OVERSTOCK`, else
    /// `NORMAL`.
    pub fn of(quantity: Quantity, min_stock: Quantity, max_stock: Option<Quantity>) -> Self {
        if quantity.0.is_zero() {
            Self::StockOut
        } else if quantity <= min_stock {
            Self::LowStock
        } else if max_stock.is_some_and(|max| quantity > max) {
            Self::Overstock
        } else {
            Self::Normal
        }
    }

    /// The database label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::LowStock => "LOW_STOCK",
            Self::StockOut => "STOCK_OUT",
            Self::Overstock => "OVERSTOCK",
        }
    }
}

impl fmt::Display for StockStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StockStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                Error::validation(
                    "stock_status",
                    "expected NORMAL, LOW_STOCK, STOCK_OUT or OVERSTOCK",
                )
            })
    }
}

/// Stock limits of a product: `min_stock ≤ max_stock` when a maximum is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLimits {
    min_stock: Quantity,
    max_stock: Option<Quantity>,
}

impl StockLimits {
    /// Validates the limits.
    pub fn new(min_stock: Quantity, max_stock: Option<Quantity>) -> Result<Self> {
        if max_stock.is_some_and(|max| max < min_stock) {
            return Err(Error::validation(
                "max_stock",
                "must not be below min_stock",
            ));
        }
        Ok(Self {
            min_stock,
            max_stock,
        })
    }

    /// Validates raw decimals as limits.
    pub fn parse(min_stock: Decimal, max_stock: Option<Decimal>) -> Result<Self> {
        Self::new(
            Quantity::parse("min_stock", min_stock)?,
            max_stock
                .map(|m| Quantity::parse("max_stock", m))
                .transpose()?,
        )
    }

    /// The minimum; at or below it the stock is low.
    pub fn min_stock(&self) -> Quantity {
        self.min_stock
    }

    /// The maximum, if any.
    pub fn max_stock(&self) -> Option<Quantity> {
        self.max_stock
    }
}

/// The direction of a stock movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MovementType {
    /// Stock comes in.
    Entry,
    /// Stock goes out (a sale).
    Exit,
}

impl MovementType {
    /// The database label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entry => "ENTRY",
            Self::Exit => "EXIT",
        }
    }

    /// The signed quantity stored for a movement of `size`: positive in, negative out.
    pub fn signed(self, size: Quantity) -> Decimal {
        match self {
            Self::Entry => size.0,
            Self::Exit => -size.0,
        }
    }
}

impl FromStr for MovementType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ENTRY" => Ok(Self::Entry),
            "EXIT" => Ok(Self::Exit),
            _ => Err(Error::validation("movement_type", "expected ENTRY or EXIT")),
        }
    }
}

/// A product on sale at the gym.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Identifier.
    pub id: uuid::Uuid,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Size of one unit (350 for a 350 ml bottle).
    pub capacity_value: Decimal,
    /// Unit of `capacity_value` (ml, g, unit…).
    pub unit_type: String,
    /// Current sale price.
    pub price: Money,
    /// Currency of the price.
    pub currency: crate::domain::money::Currency,
    /// Picture address.
    pub photo_url: Option<String>,
    /// Inactive products do not move.
    pub is_active: bool,
    /// Stock on hand.
    pub available_quantity: Quantity,
    /// Minimum and maximum stock.
    pub limits: StockLimits,
    /// Status by the one rule ([`StockStatus::of`]), as the database derives it.
    pub stock_status: StockStatus,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A new product as typed by an admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInput {
    /// Name ([`text::PRODUCT_NAME`]: 1–150 characters).
    pub name: String,
    /// Description ([`text::PRODUCT_DESCRIPTION`]: at most 500 characters).
    pub description: Option<String>,
    /// Size of one unit, more than zero.
    pub capacity_value: Decimal,
    /// Unit of the size ([`text::UNIT_TYPE`]: 1–10 characters).
    pub unit_type: String,
    /// Sale price.
    pub price: Decimal,
    /// Currency; COP when absent.
    pub currency: Option<String>,
    /// Picture address ([`text::PHOTO_URL`]: at most 500 characters).
    pub photo_url: Option<String>,
    /// Minimum stock; 5 when absent, as in the original.
    pub min_stock: Option<Decimal>,
    /// Maximum stock, optional.
    pub max_stock: Option<Decimal>,
}

/// A validated new product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) capacity_value: Decimal,
    pub(crate) unit_type: String,
    pub(crate) price: Money,
    pub(crate) currency: crate::domain::money::Currency,
    pub(crate) photo_url: Option<String>,
    pub(crate) limits: StockLimits,
}

fn capacity(d: Decimal) -> Result<Decimal> {
    Quantity::parse_positive("capacity_value", d).map(|q| q.value())
}

impl NewProduct {
    /// Validates every field.
    pub fn parse(input: ProductInput) -> Result<Self> {
        Ok(Self {
            name: text::PRODUCT_NAME.parse(&input.name)?,
            description: text::PRODUCT_DESCRIPTION.parse_optional(input.description.as_deref())?,
            capacity_value: capacity(input.capacity_value)?,
            unit_type: text::UNIT_TYPE.parse(&input.unit_type)?,
            price: Money::parse("price", input.price)?,
            currency: match input.currency {
                Some(c) => crate::domain::money::Currency::parse(&c)?,
                None => crate::domain::money::Currency::COP,
            },
            photo_url: text::PHOTO_URL.parse_optional(input.photo_url.as_deref())?,
            limits: StockLimits::parse(
                input.min_stock.unwrap_or(Decimal::from(5)),
                input.max_stock,
            )?,
        })
    }
}

/// Changes to a product; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProductUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description (blank clears it).
    pub description: Option<String>,
    /// New sale price (sales already made keep theirs).
    pub price: Option<Decimal>,
    /// New minimum stock.
    pub min_stock: Option<Decimal>,
    /// New maximum stock: `Some(None)` removes the maximum.
    pub max_stock: Option<Option<Decimal>>,
    /// New picture address (blank clears it).
    pub photo_url: Option<String>,
}

impl ProductUpdate {
    /// The product after this update, validated as a whole (min ≤ max included).
    pub fn apply_to(&self, p: &Product) -> Result<Product> {
        let mut next = p.clone();
        if let Some(name) = &self.name {
            next.name = text::PRODUCT_NAME.parse(name)?;
        }
        if let Some(d) = &self.description {
            next.description = text::PRODUCT_DESCRIPTION.parse_optional(Some(d))?;
        }
        if let Some(price) = self.price {
            next.price = Money::parse("price", price)?;
        }
        if let Some(url) = &self.photo_url {
            next.photo_url = text::PHOTO_URL.parse_optional(Some(url))?;
        }
        let min = self.min_stock.unwrap_or(p.limits.min_stock().value());
        let max = match self.max_stock {
            Some(m) => m,
            None => p.limits.max_stock().map(|q| q.value()),
        };
        next.limits = StockLimits::parse(min, max)?;
        next.stock_status = StockStatus::of(
            next.available_quantity,
            next.limits.min_stock(),
            next.limits.max_stock(),
        );
        Ok(next)
    }
}

/// A stock movement (a ledger line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// Identifier.
    pub id: uuid::Uuid,
    /// The product.
    pub product_id: uuid::Uuid,
    /// In or out.
    pub movement_type: MovementType,
    /// Signed quantity: positive in, negative out.
    pub quantity: Decimal,
    /// For a sale, the unit price at the moment of sale.
    pub unit_price: Option<Money>,
    /// For a sale, what it was worth.
    pub total_amount: Option<Money>,
    /// When it happened.
    pub movement_date: chrono::DateTime<chrono::Utc>,
    /// Who made it.
    pub responsible: Option<String>,
    /// Free-text note.
    pub notes: Option<String>,
}

/// Totals of a product's movements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MovementTotals {
    /// How many movements.
    pub count: u64,
    /// Units that came in.
    pub entered: Decimal,
    /// Units that went out.
    pub exited: Decimal,
    /// Number of entries.
    pub entries: u64,
    /// Number of exits (sales).
    pub exits: u64,
    /// The latest movement's time.
    pub last_movement: Option<chrono::DateTime<chrono::Utc>>,
}

/// A product's history: its totals and its latest movements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductHistory {
    /// The product now.
    pub product: Product,
    /// Totals over all its movements.
    pub totals: MovementTotals,
    /// The 50 latest movements, newest first.
    pub recent: Vec<Movement>,
}

/// One staff member's stock movements over a period: sales and entries (the
/// original's daily-sales-by-employee and reconciliation reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMovements {
    /// Who made them (`None` for rows whose account was removed).
    pub responsible: Option<String>,
    /// Sales made.
    pub sales_count: u64,
    /// Units sold.
    pub units_sold: Decimal,
    /// What the sales were worth, at their own prices.
    pub sales_amount: Money,
    /// Units brought in.
    pub units_entered: Decimal,
}

impl std::str::FromStr for StockReport {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        [Self::LowStock, Self::OutOfStock, Self::Overstock]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                Error::validation(
                    "report",
                    "expected 'low_stock', 'out_of_stock' or 'overstock'",
                )
            })
    }
}

/// Which stock report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StockReport {
    /// Active products at or below their minimum, above zero.
    LowStock,
    /// Active products with no stock.
    OutOfStock,
    /// Active products above their maximum.
    Overstock,
}

impl StockReport {
    /// Stable snake_case name (`low_stock`, `out_of_stock`, `overstock`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LowStock => "low_stock",
            Self::OutOfStock => "out_of_stock",
            Self::Overstock => "overstock",
        }
    }

    /// The status each report lists: one definition, the status rule's.
    pub fn status(self) -> StockStatus {
        match self {
            Self::LowStock => StockStatus::LowStock,
            Self::OutOfStock => StockStatus::StockOut,
            Self::Overstock => StockStatus::Overstock,
        }
    }
}

/// Stock after an entry of `size`: refused when it would pass the maximum.
pub fn stock_after_entry(
    current: Quantity,
    size: Quantity,
    limits: &StockLimits,
) -> Result<Quantity> {
    let after = Quantity::parse("quantity", current.0 + size.0)?;
    if let Some(max) = limits.max_stock.filter(|max| after > *max) {
        return Err(Error::validation(
            "quantity",
            format!("the stock would be {after}, above the maximum of {max}"),
        ));
    }
    Ok(after)
}

/// Stock after an exit of `size`: refused with the stock on hand when it is short.
pub fn stock_after_exit(current: Quantity, size: Quantity) -> Result<Quantity> {
    if size > current {
        return Err(Error::InsufficientStock {
            requested: size.0,
            available: current.0,
        });
    }
    Ok(Quantity(current.0 - size.0))
}

/// What a sale is worth: its size at the unit price of the moment of sale, to the cent.
pub fn sale_total(size: Quantity, unit_price: Money) -> Result<Money> {
    Money::parse("total", round_cents(size.0 * unit_price.amount()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse("quantity", s.parse().unwrap()).unwrap()
    }

    #[test]
    fn status_rule() {
        let cases = [
            ("0", "5", None, StockStatus::StockOut),
            ("0", "0", Some("10"), StockStatus::StockOut),
            ("1", "5", None, StockStatus::LowStock),
            ("5", "5", Some("20"), StockStatus::LowStock),
            ("5.01", "5", Some("20"), StockStatus::Normal),
            ("20", "5", Some("20"), StockStatus::Normal),
            ("20.01", "5", Some("20"), StockStatus::Overstock),
            ("1000", "5", None, StockStatus::Normal),
            ("3", "0", Some("0"), StockStatus::Overstock),
        ];
        for (qty, min, max, expected) in cases {
            assert_eq!(
                StockStatus::of(q(qty), q(min), max.map(q)),
                expected,
                "{qty} {min} {max:?}"
            );
        }
    }

    #[test]
    fn movements() {
        let limits = StockLimits::new(q("5"), Some(q("20"))).unwrap();
        assert_eq!(
            stock_after_entry(q("10"), q("10"), &limits).unwrap(),
            q("20")
        );
        assert_eq!(
            stock_after_entry(q("10"), q("10.01"), &limits)
                .unwrap_err()
                .kind(),
            "validation"
        );
        assert_eq!(stock_after_exit(q("10"), q("10")).unwrap(), q("0"));
        assert_eq!(
            stock_after_exit(q("10"), q("10.5")).unwrap_err(),
            Error::InsufficientStock {
                requested: "10.5".parse().unwrap(),
                available: "10".parse().unwrap()
            }
        );
        assert_eq!(
            MovementType::Exit.signed(q("3")),
            "-3".parse::<Decimal>().unwrap()
        );
        assert!(StockLimits::new(q("5"), Some(q("4"))).is_err());
        assert!(Quantity::parse_positive("quantity", Decimal::ZERO).is_err());
        let price = Money::parse("price", "2500".parse().unwrap()).unwrap();
        assert_eq!(
            sale_total(q("1.5"), price).unwrap().amount(),
            "3750".parse::<Decimal>().unwrap()
        );
    }

    proptest! {
        #[test]
        fn stock_never_negative(ops in proptest::collection::vec((any::<bool>(), 1u32..500), 1..60)) {
            let limits = StockLimits::new(Quantity::ZERO, None).unwrap();
            let mut stock = Quantity::ZERO;
            for (is_entry, n) in ops {
                let size = Quantity::parse_positive("quantity", Decimal::from(n)).unwrap();
                let next = if is_entry { stock_after_entry(stock, size, &limits) } else { stock_after_exit(stock, size) };
                if let Ok(s) = next { stock = s; }
                prop_assert!(!stock.value().is_sign_negative() || stock.value().is_zero());
            }
        }
    }
}
