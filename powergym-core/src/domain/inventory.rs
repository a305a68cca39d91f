//! Stock rules: quantities, the one stock-status rule, movement signs and sales.
//!
//! The status rule is also the generated `products.stock_status` column of the schema
//! (migration 0005), so the database and this function cannot disagree; a store test
//! checks both on the same table of cases.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::domain::money::{MAX_AMOUNT, Money, round_cents};
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
