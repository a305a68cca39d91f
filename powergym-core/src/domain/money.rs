//! Money and percentages: decimals with two places, never floats.
//!
//! Amounts fit the database's `NUMERIC(12,2)`; a value with more than two decimal places
//! is refused rather than silently rounded, so what a caller sends is what is stored.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{Error, Result};

/// Largest amount a `NUMERIC(12,2)` column holds.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(3_567_587_327, 232, 0, false, 2); // 9 999 999 999.99

/// Rounds to the cent, halves away from zero (the rule people expect on a receipt).
pub fn round_cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// An ISO 4217 currency code: three upper-case letters. COP by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Colombian peso, the default.
    pub const COP: Currency = Currency(*b"COP");

    /// Validates a code; lower case is accepted and upper-cased.
    pub fn parse(raw: &str) -> Result<Self> {
        let up = raw.trim().to_ascii_uppercase();
        match up.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(Error::validation(
                "currency",
                "expected a three-letter ISO 4217 code such as COP",
            )),
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII upper-case letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("COP")
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self::COP
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-negative amount with at most two decimal places, within [`MAX_AMOUNT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Money(Decimal);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Validates an amount; `field` names it in errors.
    pub fn parse(field: &'static str, amount: Decimal) -> Result<Self> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(Error::validation(field, "must not be negative"));
        }
        if amount.normalize().scale() > 2 {
            return Err(Error::validation(
                field,
                "must have at most two decimal places",
            ));
        }
        if amount > MAX_AMOUNT {
            return Err(Error::validation(
                field,
                format!("must be at most {MAX_AMOUNT}"),
            ));
        }
        Ok(Self(amount.round_dp(2).normalize().max(Decimal::ZERO)))
    }

    /// Validates an amount that must be greater than zero (payments, prices of sales).
    pub fn parse_positive(field: &'static str, amount: Decimal) -> Result<Self> {
        let m = Self::parse(field, amount)?;
        if m.is_zero() {
            return Err(Error::validation(field, "must be greater than zero"));
        }
        Ok(m)
    }

    /// Parses a decimal string such as `"50000"` or `"12.50"`.
    pub fn parse_str(field: &'static str, raw: &str) -> Result<Self> {
        let d = Decimal::from_str(raw.trim())
            .map_err(|_| Error::validation(field, "expected a decimal number such as 50000.00"))?;
        Self::parse(field, d)
    }

    /// Wraps a value read from a `NUMERIC(12,2)` column (the schema's CHECKs keep it
    /// valid).
    pub(crate) fn from_stored(d: Decimal) -> Self {
        Self(d.normalize())
    }

    /// The amount.
    pub fn amount(&self) -> Decimal {
        self.0
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// `self − other`, or zero when `other` is larger.
    pub fn saturating_sub(self, other: Money) -> Money {
        Money((self.0 - other.0).max(Decimal::ZERO))
    }

    /// `self + other`, refused past [`MAX_AMOUNT`].
    pub fn checked_add(self, field: &'static str, other: Money) -> Result<Money> {
        Money::parse(field, self.0 + other.0)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

/// A discount: more than 0 and at most 100 percent, two decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DiscountPercent(Decimal);

impl DiscountPercent {
    /// Validates a percentage.
    pub fn parse(percent: Decimal) -> Result<Self> {
        if percent <= Decimal::ZERO || percent > Decimal::ONE_HUNDRED {
            return Err(Error::validation(
                "discount_percentage",
                "must be greater than 0 and at most 100",
            ));
        }
        if percent.normalize().scale() > 2 {
            return Err(Error::validation(
                "discount_percentage",
                "must have at most two decimal places",
            ));
        }
        Ok(Self(percent.normalize()))
    }

    pub(crate) fn from_stored(d: Decimal) -> Self {
        Self(d.normalize())
    }

    /// A whole percentage known valid at compile time (1 to 100).
    pub(crate) const fn from_percent_const(percent: u8) -> Self {
        assert!(percent >= 1 && percent <= 100);
        Self(Decimal::from_parts(percent as u32, 0, 0, false, 0))
    }

    /// The percentage (e.g. 20 for 20 %).
    pub fn value(&self) -> Decimal {
        self.0
    }

    /// `amount` less this discount, rounded to the cent.
    pub fn apply(&self, amount: Money) -> Money {
        let discounted = amount.0 * (Decimal::ONE_HUNDRED - self.0) / Decimal::ONE_HUNDRED;
        Money(round_cents(discounted).normalize().max(Decimal::ZERO))
    }
}

impl fmt::Display for DiscountPercent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn money_bounds() {
        let cases = [
            ("0", true),
            ("50000", true),
            ("12.5", true),
            ("12.50", true),
            ("12.505", false),
            ("-0.01", false),
            ("9999999999.99", true),
            ("10000000000.00", false),
        ];
        for (raw, ok) in cases {
            assert_eq!(Money::parse("amount", dec(raw)).is_ok(), ok, "{raw}");
        }
        assert!(Money::parse_positive("amount", dec("0")).is_err());
        assert_eq!(
            Money::parse_str("amount", " 12.50 ").unwrap().to_string(),
            "12.50"
        );
        assert!(Money::parse_str("amount", "12,50").is_err());
        assert_eq!(MAX_AMOUNT, dec("9999999999.99"));
    }

    #[test]
    fn discounts() {
        let price = Money::parse("price", dec("50000")).unwrap();
        let cases = [
            ("10", "45000"),
            ("100", "0"),
            ("33.33", "33335"), // 33335.00 exactly
            ("0.01", "49995"),
        ];
        for (d, expected) in cases {
            let got = DiscountPercent::parse(dec(d)).unwrap().apply(price);
            assert_eq!(got.amount(), dec(expected), "{d}%");
        }
        // Half a cent rounds away from zero.
        let odd = Money::parse("price", dec("0.05")).unwrap();
        assert_eq!(
            DiscountPercent::parse(dec("50"))
                .unwrap()
                .apply(odd)
                .amount(),
            dec("0.03")
        );
        for bad in ["0", "-5", "100.01", "10.555"] {
            assert!(DiscountPercent::parse(dec(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn currencies() {
        assert_eq!(Currency::parse("cop").unwrap(), Currency::COP);
        assert_eq!(Currency::default().as_str(), "COP");
        for bad in ["", "CO", "COPS", "C0P"] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
    }
}
