//! The gym's use cases for Kotlin and Swift: staff, plans, subscriptions, payments,
//! check-in, daily jobs and inventory. Conversions only.

use std::sync::Arc;

use chrono::NaiveDate;
use powergym_core as core;
use powergym_core::{
    ClientId, DenialReason, DurationUnit, PaymentMethod, PlanId, Role, SubscriptionId,
    SubscriptionStatus,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::{Client, ClientInput, ClientPage, Gym, Result, Timestamp};

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| Ok(Uuid::parse_str(&s)?),
});

uniffi::custom_type!(PlanId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| Ok(PlanId::parse(&s)?),
});

/// How a payment was made.
#[uniffi::remote(Enum)]
pub enum PaymentMethod {
    Cash,
    Qr,
}

/// The staff member performing calls; from `Gym.authenticate` or `Gym.actingAs`.
#[derive(uniffi::Object)]
pub struct Actor(pub(crate) core::Actor);

#[uniffi::export]
impl Actor {
    /// The acting staff member's username.
    pub fn username(&self) -> String {
        self.0.username().to_owned()
    }
}

/// A staff account. Printed, it shows the username, role and state, never the e-mail or
/// name.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct Staff {
    /// Login name.
    pub username: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Display name.
    pub full_name: Option<String>,
    /// Role.
    pub role: Role,
    /// A disabled account can do nothing.
    pub disabled: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl From<core::Staff> for Staff {
    fn from(s: core::Staff) -> Self {
        Self {
            username: s.username,
            email: s.email,
            full_name: s.full_name,
            role: s.role,
            disabled: s.disabled,
            created_at: s.created_at,
        }
    }
}

/// A new plan.
#[derive(Debug, Clone, uniffi::Record)]
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
    /// Currency; COP when absent.
    #[uniffi(default = None)]
    pub currency: Option<String>,
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
    /// Current list price.
    pub price: Decimal,
    /// Currency.
    pub currency: String,
    /// Unit of the duration.
    pub duration_unit: DurationUnit,
    /// Units per period.
    pub duration_count: u32,
    /// Inactive plans are not sold.
    pub is_active: bool,
}

impl From<core::Plan> for Plan {
    fn from(p: core::Plan) -> Self {
        Self {
            id: p.id,
            name: p.name,
            slug: p.slug,
            price: p.price.amount(),
            currency: p.currency.as_str().to_owned(),
            duration_unit: p.duration.unit(),
            duration_count: p.duration.count(),
            is_active: p.is_active,
        }
    }
}

/// A subscription with its price snapshot.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Subscription {
    /// Identifier.
    pub id: SubscriptionId,
    /// Whose it is.
    pub client_id: ClientId,
    /// Which plan.
    pub plan_id: PlanId,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Status.
    pub status: SubscriptionStatus,
    /// The plan's price when bought.
    pub list_price: Decimal,
    /// Purchase discount, percent.
    pub discount_percentage: Option<Decimal>,
    /// What is owed in all.
    pub final_price: Decimal,
}

impl From<core::Subscription> for Subscription {
    fn from(s: core::Subscription) -> Self {
        Self {
            id: s.id,
            client_id: s.client_id,
            plan_id: s.plan_id,
            start_date: s.start_date,
            end_date: s.end_date,
            status: s.status,
            list_price: s.price.list_price().amount(),
            discount_percentage: s.price.discount().map(|d| d.value()),
            final_price: s.price.final_price().amount(),
        }
    }
}

/// A payment as taken at the desk.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PaymentInput {
    /// The subscription paid for.
    pub subscription_id: SubscriptionId,
    /// Amount.
    pub amount: Decimal,
    /// How it was paid.
    pub method: PaymentMethod,
    /// Note, optional.
    #[uniffi(default = None)]
    pub notes: Option<String>,
    /// Retry key: a retried call returns the first receipt.
    #[uniffi(default = None)]
    pub idempotency_key: Option<String>,
}

/// A recorded payment and what it did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PaymentReceipt {
    /// The payment's id.
    pub payment_id: Uuid,
    /// Amount received.
    pub amount: Decimal,
    /// Who received it.
    pub received_by: Option<String>,
    /// When.
    pub payment_date: Timestamp,
    /// Still owed.
    pub balance: Decimal,
    /// The subscription's status afterwards.
    pub status: SubscriptionStatus,
}

impl From<core::PaymentReceipt> for PaymentReceipt {
    fn from(r: core::PaymentReceipt) -> Self {
        Self {
            payment_id: r.payment.id,
            amount: r.payment.amount.amount(),
            received_by: r.payment.received_by,
            payment_date: r.payment.payment_date,
            balance: r.balance.amount(),
            status: r.status,
        }
    }
}

/// What happened at the door.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum CheckInOutcome {
    /// The client entered.
    Granted {
        /// The attendance recorded.
        attendance_id: Uuid,
        /// Its business day.
        business_date: NaiveDate,
    },
    /// The client may not enter.
    Denied {
        /// Why not.
        reason: DenialReason,
    },
}

impl From<core::CheckInOutcome> for CheckInOutcome {
    fn from(o: core::CheckInOutcome) -> Self {
        match o {
            core::CheckInOutcome::Granted(a) => Self::Granted {
                attendance_id: a.id,
                business_date: a.business_date,
            },
            core::CheckInOutcome::Denied(reason) => Self::Denied { reason },
        }
    }
}

/// What the daily jobs changed.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DailyJobCounts {
    /// Paid scheduled subscriptions now active.
    pub activated: u64,
    /// Unpaid scheduled subscriptions now awaiting payment.
    pub awaiting_payment: u64,
    /// Active subscriptions now expired.
    pub expired: u64,
    /// Unpaid subscriptions now expired.
    pub expired_unpaid: u64,
    /// Pending rewards now expired.
    pub expired_rewards: u64,
}

/// A new product.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ProductInput {
    /// Name.
    pub name: String,
    /// Size of one unit.
    pub capacity_value: Decimal,
    /// Unit of the size.
    pub unit_type: String,
    /// Sale price.
    pub price: Decimal,
    /// Minimum stock; 5 when absent.
    #[uniffi(default = None)]
    pub min_stock: Option<Decimal>,
    /// Maximum stock, optional.
    #[uniffi(default = None)]
    pub max_stock: Option<Decimal>,
}

/// A product and its stock.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Product {
    /// Identifier.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Sale price.
    pub price: Decimal,
    /// Stock on hand.
    pub available_quantity: Decimal,
    /// Status by the one stock rule.
    pub stock_status: core::StockStatus,
    /// Inactive products do not move.
    pub is_active: bool,
}

impl From<core::Product> for Product {
    fn from(p: core::Product) -> Self {
        Self {
            id: p.id,
            name: p.name,
            price: p.price.amount(),
            available_quantity: p.available_quantity.value(),
            stock_status: p.stock_status,
            is_active: p.is_active,
        }
    }
}

/// A stock movement and the product after it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StockChange {
    /// The movement's id.
    pub movement_id: Uuid,
    /// Signed quantity.
    pub quantity: Decimal,
    /// For a sale, the unit price then.
    pub unit_price: Option<Decimal>,
    /// For a sale, its total.
    pub total_amount: Option<Decimal>,
    /// The product afterwards.
    pub product: Product,
}

impl From<core::StockChange> for StockChange {
    fn from(c: core::StockChange) -> Self {
        Self {
            movement_id: c.movement.id,
            quantity: c.movement.quantity,
            unit_price: c.movement.unit_price.map(|p| p.amount()),
            total_amount: c.movement.total_amount.map(|p| p.amount()),
            product: c.product.into(),
        }
    }
}

/// An earned reward.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Reward {
    /// Identifier.
    pub id: Uuid,
    /// The subscription that earned it.
    pub subscription_id: SubscriptionId,
    /// Distinct attendance days that earned it.
    pub attendance_count: u32,
    /// Its discount, percent.
    pub discount_percentage: Decimal,
    /// Last day it can be applied.
    pub expires_on: NaiveDate,
    /// Pending, applied or expired.
    pub status: core::RewardStatus,
    /// The subscription it discounted.
    pub applied_subscription_id: Option<SubscriptionId>,
}

impl From<core::Reward> for Reward {
    fn from(r: core::Reward) -> Self {
        Self {
            id: r.id,
            subscription_id: r.subscription_id,
            attendance_count: r.attendance_count,
            discount_percentage: r.discount.value(),
            expires_on: r.expires_on,
            status: r.status,
            applied_subscription_id: r.applied_subscription_id,
        }
    }
}

/// The main figures of a period (the full report is in the Rust API).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StatisticsSummary {
    /// Clients in all.
    pub clients: u64,
    /// Active clients with an active subscription.
    pub clients_with_active_subscription: u64,
    /// Payments received in the period.
    pub period_revenue: Decimal,
    /// Still owed on payable subscriptions.
    pub pending_debt: Decimal,
    /// Check-ins in the period.
    pub attendances: u64,
    /// Refused check-ins in the period.
    pub denied_check_ins: u64,
    /// Active products with low stock.
    pub low_stock_products: u64,
    /// What the period's product sales were worth.
    pub sales_amount: Decimal,
}

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Evaluates a subscription's attendance; the reward it earned, if any.
    pub async fn evaluate_reward(
        &self,
        actor: Arc<Actor>,
        subscription_id: SubscriptionId,
    ) -> Result<Option<Reward>> {
        Ok(self
            .0
            .evaluate_reward(&actor.0, subscription_id)
            .await?
            .reward
            .map(Into::into))
    }

    /// Applies a reward to a payable subscription of the same client.
    pub async fn apply_reward(
        &self,
        actor: Arc<Actor>,
        reward_id: Uuid,
        subscription_id: SubscriptionId,
    ) -> Result<Reward> {
        Ok(self
            .0
            .apply_reward(&actor.0, reward_id, subscription_id)
            .await?
            .into())
    }

    /// The main figures between two business days (admins only).
    pub async fn statistics(
        &self,
        actor: Arc<Actor>,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<StatisticsSummary> {
        let s = self.0.statistics(&actor.0, start, end).await?;
        Ok(StatisticsSummary {
            clients: s.clients.total,
            clients_with_active_subscription: s.clients.with_active_subscription,
            period_revenue: s.financial.period_revenue.amount(),
            pending_debt: s.financial.pending_debt.amount(),
            attendances: s.attendance.total_attendances,
            denied_check_ins: s.attendance.denied_check_ins,
            low_stock_products: s.inventory.low_stock,
            sales_amount: s.inventory.sales_amount.amount(),
        })
    }

    /// Creates the first admin of an empty installation.
    pub async fn bootstrap_admin(&self, username: String, password: String) -> Result<Staff> {
        Ok(self.0.bootstrap_admin(&username, &password).await?.into())
    }

    /// Signs a staff member in; wrong password, unknown user and disabled account are
    /// refused alike.
    pub async fn authenticate(&self, username: String, password: String) -> Result<Arc<Actor>> {
        Ok(Arc::new(Actor(
            self.0.authenticate(&username, &password).await?.0,
        )))
    }

    /// An actor for a staff member the host application has already authenticated.
    pub async fn acting_as(&self, username: String) -> Result<Arc<Actor>> {
        Ok(Arc::new(Actor(self.0.acting_as(&username).await?)))
    }

    /// Creates a staff account (admins only).
    pub async fn create_staff(
        &self,
        actor: Arc<Actor>,
        username: String,
        password: String,
        role: Role,
    ) -> Result<Staff> {
        let input = core::StaffInput {
            username,
            password,
            role,
            email: None,
            full_name: None,
        };
        Ok(self.0.create_staff(&actor.0, input).await?.into())
    }

    /// Registers a client after validating every field.
    pub async fn register_client(&self, actor: Arc<Actor>, input: ClientInput) -> Result<Client> {
        Ok(self.0.register_client(&actor.0, input.into()).await?.into())
    }

    /// The client with this id.
    pub async fn get_client(&self, actor: Arc<Actor>, id: ClientId) -> Result<Client> {
        Ok(self.0.client(&actor.0, id).await?.into())
    }

    /// The client holding this document.
    pub async fn get_client_by_document(
        &self,
        actor: Arc<Actor>,
        document_type: core::DocumentType,
        document_number: String,
    ) -> Result<Client> {
        Ok(self
            .0
            .client_by_document(&actor.0, document_type, &document_number)
            .await?
            .into())
    }

    /// A page of clients, newest first.
    pub async fn list_clients(
        &self,
        actor: Arc<Actor>,
        limit: u32,
        offset: u64,
    ) -> Result<ClientPage> {
        let page = self
            .0
            .list_clients(&actor.0, core::PageRequest::new(limit, offset)?)
            .await?;
        Ok(ClientPage::from(page))
    }

    /// Clients matching every word of `text`, ignoring case and accents.
    pub async fn search_clients(
        &self,
        actor: Arc<Actor>,
        text: String,
        limit: u32,
        offset: u64,
    ) -> Result<ClientPage> {
        let page = self
            .0
            .search_clients(&actor.0, &text, core::PageRequest::new(limit, offset)?)
            .await?;
        Ok(ClientPage::from(page))
    }

    /// Creates a plan (admins only).
    pub async fn create_plan(&self, actor: Arc<Actor>, input: PlanInput) -> Result<Plan> {
        let input = core::PlanInput {
            name: input.name,
            slug: input.slug,
            description: input.description,
            price: input.price,
            currency: input.currency,
            duration_unit: input.duration_unit,
            duration_count: input.duration_count,
        };
        Ok(self.0.create_plan(&actor.0, input).await?.into())
    }

    /// Sells a plan to a client, starting today or on `start_date`.
    pub async fn create_subscription(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
        plan_id: PlanId,
        start_date: Option<NaiveDate>,
        discount_percentage: Option<Decimal>,
    ) -> Result<Subscription> {
        let input = core::SubscriptionInput {
            client_id,
            plan_id,
            start_date,
            discount_percentage,
        };
        Ok(self.0.create_subscription(&actor.0, input).await?.into())
    }

    /// Records a payment.
    pub async fn record_payment(
        &self,
        actor: Arc<Actor>,
        input: PaymentInput,
    ) -> Result<PaymentReceipt> {
        let input = core::PaymentInput {
            subscription_id: input.subscription_id,
            amount: input.amount,
            method: input.method,
            notes: input.notes,
            idempotency_key: input.idempotency_key,
        };
        Ok(self.0.record_payment(&actor.0, input).await?.into())
    }

    /// Checks in the client holding this document; a refusal is returned, not thrown.
    /// A retried call with the same `idempotency_key` returns the first outcome.
    #[uniffi::method(default(idempotency_key = None))]
    pub async fn check_in_by_document(
        &self,
        actor: Arc<Actor>,
        document_type: core::DocumentType,
        document_number: String,
        idempotency_key: Option<String>,
    ) -> Result<CheckInOutcome> {
        Ok(self
            .0
            .check_in_by_document_with_key(
                &actor.0,
                document_type,
                &document_number,
                idempotency_key.as_deref(),
            )
            .await?
            .into())
    }

    /// Checks in a client chosen by staff; a refusal is returned, not thrown. A retried
    /// call with the same `idempotency_key` returns the first outcome.
    #[uniffi::method(default(idempotency_key = None))]
    pub async fn check_in(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
        idempotency_key: Option<String>,
    ) -> Result<CheckInOutcome> {
        Ok(self
            .0
            .check_in_with_key(&actor.0, client_id, idempotency_key.as_deref())
            .await?
            .into())
    }

    /// Runs the daily jobs for `today` (admins only).
    pub async fn run_daily_jobs(
        &self,
        actor: Arc<Actor>,
        today: NaiveDate,
    ) -> Result<DailyJobCounts> {
        let c = self.0.run_daily_jobs(&actor.0, today).await?;
        Ok(DailyJobCounts {
            activated: c.activated,
            awaiting_payment: c.awaiting_payment,
            expired: c.expired,
            expired_unpaid: c.expired_unpaid,
            expired_rewards: c.expired_rewards,
        })
    }

    /// Creates a product with no stock (admins only).
    pub async fn create_product(&self, actor: Arc<Actor>, input: ProductInput) -> Result<Product> {
        let input = core::ProductInput {
            name: input.name,
            description: None,
            capacity_value: input.capacity_value,
            unit_type: input.unit_type,
            price: input.price,
            currency: None,
            photo_url: None,
            min_stock: input.min_stock,
            max_stock: input.max_stock,
        };
        Ok(self.0.create_product(&actor.0, input).await?.into())
    }

    /// Adds stock (admins only).
    pub async fn add_stock(
        &self,
        actor: Arc<Actor>,
        product_id: Uuid,
        quantity: Decimal,
    ) -> Result<StockChange> {
        Ok(self
            .0
            .add_stock(&actor.0, product_id, quantity, None)
            .await?
            .into())
    }

    /// Sells at the product's current price. A retried call with the same
    /// `idempotency_key` returns the first sale.
    #[uniffi::method(default(idempotency_key = None))]
    pub async fn sell_product(
        &self,
        actor: Arc<Actor>,
        product_id: Uuid,
        quantity: Decimal,
        idempotency_key: Option<String>,
    ) -> Result<StockChange> {
        Ok(self
            .0
            .sell_product_with_key(
                &actor.0,
                product_id,
                quantity,
                None,
                idempotency_key.as_deref(),
            )
            .await?
            .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_records_hold_no_personal_data() {
        let staff = Staff {
            username: "desk".into(),
            email: Some("ana@example.com".into()),
            full_name: Some("Ana Gómez".into()),
            role: Role::Employee,
            disabled: false,
            created_at: chrono::Utc::now(),
        };
        let printed = format!("{staff:?}");
        assert!(printed.contains("desk"), "{printed}");
        assert!(
            !printed.contains("ana@") && !printed.contains("Gómez"),
            "{printed}"
        );
    }
}
