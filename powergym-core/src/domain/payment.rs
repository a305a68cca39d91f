//! Prices and payments: the price snapshot taken at purchase, the balance, and what a
//! payment does to a subscription.
//!
//! Rounding rule: a discounted price is `list × (100 − d) / 100` rounded to the cent,
//! halves away from zero. The snapshot is stored on the subscription, so later plan
//! edits never change what a member owes.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::money::{DiscountPercent, Money};
use crate::domain::subscription::{
    SubscriptionEvent, SubscriptionStatus, TransitionContext, transition,
};
use crate::error::{Error, Result};

/// What a subscription costs, fixed when it is bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceSnapshot {
    list_price: Money,
    discount: Option<DiscountPercent>,
    final_price: Money,
}

impl PriceSnapshot {
    /// The snapshot of `list_price` with an optional purchase discount.
    pub fn new(list_price: Money, discount: Option<DiscountPercent>) -> Self {
        let final_price = discount.map_or(list_price, |d| d.apply(list_price));
        Self {
            list_price,
            discount,
            final_price,
        }
    }

    pub(crate) fn from_stored(
        list_price: Money,
        discount: Option<DiscountPercent>,
        final_price: Money,
    ) -> Self {
        Self {
            list_price,
            discount,
            final_price,
        }
    }

    /// Validates a list price and an optional discount percentage, then snapshots them.
    pub fn parse(list_price: Decimal, discount: Option<Decimal>) -> Result<Self> {
        let list_price = Money::parse("list_price", list_price)?;
        let discount = discount.map(DiscountPercent::parse).transpose()?;
        Ok(Self::new(list_price, discount))
    }

    /// The plan's price when bought.
    pub fn list_price(&self) -> Money {
        self.list_price
    }

    /// The purchase discount, if any.
    pub fn discount(&self) -> Option<DiscountPercent> {
        self.discount
    }

    /// What the member owes in all.
    pub fn final_price(&self) -> Money {
        self.final_price
    }

    /// How much the discount took off.
    pub fn discount_amount(&self) -> Money {
        self.list_price.saturating_sub(self.final_price)
    }

    /// A further discount (a reward) applied on top of the current final price. Refused
    /// when the member has already paid more than the new price.
    pub fn with_extra_discount(self, extra: DiscountPercent, paid: Money) -> Result<Self> {
        let final_price = extra.apply(self.final_price);
        if paid > final_price {
            return Err(Error::Conflict {
                reason: format!(
                    "{paid} is already paid, more than the discounted price of {final_price}"
                ),
            });
        }
        Ok(Self {
            final_price,
            ..self
        })
    }

    /// What is still owed after `paid`.
    pub fn balance(&self, paid: Money) -> Money {
        self.final_price.saturating_sub(paid)
    }
}

/// How a payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentMethod {
    /// Cash at the desk.
    Cash,
    /// A QR bank transfer.
    Qr,
}

impl PaymentMethod {
    /// The database label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cash => "cash",
            Self::Qr => "qr",
        }
    }
}

impl std::str::FromStr for PaymentMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cash" => Ok(Self::Cash),
            "qr" => Ok(Self::Qr),
            _ => Err(Error::validation("payment_method", "expected cash or qr")),
        }
    }
}

/// A recorded payment (a receipt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// Identifier.
    pub id: uuid::Uuid,
    /// The subscription paid for.
    pub subscription_id: crate::SubscriptionId,
    /// Amount received.
    pub amount: Money,
    /// How it was paid.
    pub method: PaymentMethod,
    /// When it was received.
    pub payment_date: chrono::DateTime<chrono::Utc>,
    /// Who received it.
    pub received_by: Option<String>,
    /// Free-text note.
    pub notes: Option<String>,
    /// The caller's retry key, if one was given.
    pub idempotency_key: Option<String>,
}

/// A payment and what it did to its subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentReceipt {
    /// The payment (the first one, when a retried call carried the same key).
    pub payment: Payment,
    /// Still owed after it.
    pub balance: Money,
    /// The subscription's status after it.
    pub status: SubscriptionStatus,
}

/// Totals of payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentStats {
    /// Number of payments.
    pub count: u64,
    /// Their sum.
    pub total_paid: Money,
    /// What is still owed on payable subscriptions (from their price snapshots).
    pub remaining_debt: Money,
    /// The latest payment's time.
    pub last_payment_date: Option<chrono::DateTime<chrono::Utc>>,
}

/// The result of accepting a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentOutcome {
    /// This payment's amount, validated.
    pub amount: Money,
    /// Total paid including this payment.
    pub paid: Money,
    /// Still owed after this payment.
    pub balance: Money,
    /// The subscription's status after this payment.
    pub status: SubscriptionStatus,
}

/// Decides a payment of `amount` on a subscription in `status` with price `price` and
/// `paid` already paid: refused unless the status takes payments and the amount is at
/// most the balance; activates the subscription when it becomes fully paid on or after
/// its start date.
pub fn accept_payment(
    status: SubscriptionStatus,
    price: &PriceSnapshot,
    paid: Money,
    amount: Decimal,
    start: NaiveDate,
    today: NaiveDate,
) -> Result<PaymentOutcome> {
    let amount = Money::parse_positive("amount", amount)?;
    if !status.accepts_payments() {
        return Err(Error::InvalidTransition {
            from: status,
            event: SubscriptionEvent::Pay,
        });
    }
    let balance = price.balance(paid);
    if amount > balance {
        return Err(Error::PaymentExceedsBalance {
            amount: amount.amount(),
            balance: balance.amount(),
        });
    }
    let paid = paid.checked_add("amount", amount)?;
    let balance = price.balance(paid);
    let status = transition(
        status,
        SubscriptionEvent::Pay,
        TransitionContext {
            fully_paid: balance.is_zero(),
            start_reached: start <= today,
        },
    )?;
    Ok(PaymentOutcome {
        amount,
        paid,
        balance,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus as S;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    fn money(s: &str) -> Money {
        Money::parse("amount", dec(s)).unwrap()
    }
    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn snapshots() {
        let plain = PriceSnapshot::new(money("50000"), None);
        assert_eq!(plain.final_price(), money("50000"));
        assert_eq!(plain.discount_amount(), Money::ZERO);
        let ten = PriceSnapshot::new(
            money("50000"),
            Some(DiscountPercent::parse(dec("10")).unwrap()),
        );
        assert_eq!(ten.final_price(), money("45000"));
        assert_eq!(ten.discount_amount(), money("5000"));
        let free = PriceSnapshot::new(
            money("50000"),
            Some(DiscountPercent::parse(dec("100")).unwrap()),
        );
        assert!(free.final_price().is_zero());
    }

    #[test]
    fn payments() {
        let price = PriceSnapshot::new(money("50000"), None);
        let today = d("2025-06-15");
        let started = d("2025-06-01");
        let future = d("2025-07-01");
        // (status, paid, amount, start, expected (status, balance) or error kind)
        type Expected = std::result::Result<(S, &'static str), &'static str>;
        let cases: &[(S, &str, &str, NaiveDate, Expected)] = &[
            (
                S::PendingPayment,
                "0",
                "20000",
                started,
                Ok((S::PendingPayment, "30000")),
            ),
            (
                S::PendingPayment,
                "20000",
                "30000",
                started,
                Ok((S::Active, "0")),
            ),
            (
                S::PendingPayment,
                "0",
                "50000",
                started,
                Ok((S::Active, "0")),
            ),
            (
                S::PendingPayment,
                "0",
                "50000.01",
                started,
                Err("payment_exceeds_balance"),
            ),
            (
                S::PendingPayment,
                "49999.99",
                "0.01",
                started,
                Ok((S::Active, "0")),
            ),
            (S::Scheduled, "0", "50000", future, Ok((S::Scheduled, "0"))),
            (
                S::Scheduled,
                "0",
                "10000",
                future,
                Ok((S::Scheduled, "40000")),
            ),
            (
                S::Scheduled,
                "50000",
                "1",
                future,
                Err("payment_exceeds_balance"),
            ),
            (S::Active, "50000", "1", started, Err("invalid_transition")),
            (S::Expired, "0", "1", started, Err("invalid_transition")),
            (S::Canceled, "0", "1", started, Err("invalid_transition")),
            (S::PendingPayment, "0", "0", started, Err("validation")),
            (S::PendingPayment, "0", "-5", started, Err("validation")),
            (S::PendingPayment, "0", "10.001", started, Err("validation")),
        ];
        for (status, paid, amount, start, expected) in cases {
            let got = accept_payment(*status, &price, money(paid), dec(amount), *start, today);
            match (got, expected) {
                (Ok(o), Ok((st, bal))) => {
                    assert_eq!(
                        (o.status, o.balance),
                        (*st, money(bal)),
                        "{status} {paid}+{amount}"
                    );
                }
                (Err(e), Err(kind)) => assert_eq!(e.kind(), *kind, "{status} {paid}+{amount}"),
                (got, _) => panic!("{status} {paid}+{amount}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn exceeding_payment_names_the_balance() {
        let price = PriceSnapshot::new(money("50000"), None);
        let err = accept_payment(
            S::PendingPayment,
            &price,
            money("20000"),
            dec("30000.01"),
            d("2025-01-01"),
            d("2025-01-02"),
        )
        .unwrap_err();
        assert_eq!(
            err,
            Error::PaymentExceedsBalance {
                amount: dec("30000.01"),
                balance: dec("30000")
            }
        );
    }

    #[test]
    fn reward_discount_on_a_snapshot() {
        let price = PriceSnapshot::new(
            money("50000"),
            Some(DiscountPercent::parse(dec("10")).unwrap()),
        );
        let twenty = DiscountPercent::parse(dec("20")).unwrap();
        let after = price.with_extra_discount(twenty, money("10000")).unwrap();
        assert_eq!(after.final_price(), money("36000"));
        assert_eq!(after.list_price(), money("50000"));
        assert!(matches!(
            price.with_extra_discount(twenty, money("40000")),
            Err(Error::Conflict { .. })
        ));
    }

    proptest! {
        #[test]
        fn balance_never_negative_and_paid_never_exceeds_price(
            price in 1u64..10_000_000,
            amounts in proptest::collection::vec(1u64..5_000_000, 1..20),
        ) {
            let snapshot = PriceSnapshot::new(Money::parse("p", Decimal::from(price)).unwrap(), None);
            let mut paid = Money::ZERO;
            let mut status = S::PendingPayment;
            for a in amounts {
                match accept_payment(status, &snapshot, paid, Decimal::from(a), d("2025-01-01"), d("2025-01-02")) {
                    Ok(o) => { paid = o.paid; status = o.status; }
                    Err(e) => prop_assert!(matches!(e.kind(), "payment_exceeds_balance" | "invalid_transition")),
                }
                prop_assert!(paid <= snapshot.final_price());
                prop_assert!(!snapshot.balance(paid).amount().is_sign_negative());
                prop_assert_eq!(status == S::Active, snapshot.balance(paid).is_zero());
            }
        }
    }
}
