//! Frozen record classes handed to Python. They wrap the core records unchanged;
//! `__repr__` shows ids and states only, never personal data, so a logged record leaks
//! nothing. The other direction, strict conversions of call arguments, is in [`args`].

pub(crate) mod args;

use chrono::{DateTime, NaiveDate, Utc};
use pyo3::prelude::*;
use uuid::Uuid;

use powergym_core as core;

/// A registered gym member.
#[pyclass(frozen, eq, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct Client(pub(crate) core::Client);

#[pymethods]
impl Client {
    #[getter]
    fn id(&self) -> Uuid {
        self.0.id.as_uuid()
    }
    #[getter]
    fn document_type(&self) -> &'static str {
        self.0.document_type.as_str()
    }
    #[getter]
    fn document_number(&self) -> &str {
        self.0.document_number.as_str()
    }
    #[getter]
    fn first_name(&self) -> &str {
        self.0.first_name.as_str()
    }
    #[getter]
    fn middle_name(&self) -> Option<&str> {
        self.0.middle_name.as_ref().map(|n| n.as_str())
    }
    #[getter]
    fn last_name(&self) -> &str {
        self.0.last_name.as_str()
    }
    #[getter]
    fn second_last_name(&self) -> Option<&str> {
        self.0.second_last_name.as_ref().map(|n| n.as_str())
    }
    #[getter]
    fn full_name(&self) -> String {
        self.0.full_name()
    }
    #[getter]
    fn phone(&self) -> &str {
        self.0.phone.as_str()
    }
    #[getter]
    fn alternative_phone(&self) -> Option<&str> {
        self.0.alternative_phone.as_ref().map(|p| p.as_str())
    }
    #[getter]
    fn email(&self) -> Option<&str> {
        self.0.email.as_ref().map(|e| e.as_str())
    }
    #[getter]
    fn birth_date(&self) -> NaiveDate {
        self.0.birth_date.date()
    }
    #[getter]
    fn gender(&self) -> &'static str {
        self.0.gender.as_str()
    }
    #[getter]
    fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }
    #[getter]
    fn is_active(&self) -> bool {
        self.0.is_active
    }
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    #[getter]
    fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    fn __repr__(&self) -> String {
        format!(
            "Client(id='{}', document_type='{}', is_active={})",
            self.0.id,
            self.0.document_type,
            if self.0.is_active { "True" } else { "False" }
        )
    }
}

/// One page of clients.
#[pyclass(frozen, module = "powergym")]
pub(crate) struct ClientPage {
    #[pyo3(get)]
    items: Vec<Py<Client>>,
    #[pyo3(get)]
    total: u64,
    #[pyo3(get)]
    limit: u32,
    #[pyo3(get)]
    offset: u64,
}

impl ClientPage {
    pub(crate) fn new(py: Python<'_>, page: core::Page<core::Client>) -> PyResult<Self> {
        Ok(Self {
            items: page
                .items
                .into_iter()
                .map(|c| Py::new(py, Client(c)))
                .collect::<PyResult<_>>()?,
            total: page.total,
            limit: page.limit,
            offset: page.offset,
        })
    }
}

#[pymethods]
impl ClientPage {
    fn __len__(&self) -> usize {
        self.items.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "ClientPage(items=<{} clients>, total={}, limit={}, offset={})",
            self.items.len(),
            self.total,
            self.limit,
            self.offset
        )
    }
}

/// A schema migration and whether the database has it.
#[pyclass(frozen, eq, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct MigrationRecord(pub(crate) core::MigrationRecord);

#[pymethods]
impl MigrationRecord {
    #[getter]
    fn version(&self) -> i64 {
        self.0.version
    }
    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }
    #[getter]
    fn checksum(&self) -> &str {
        &self.0.checksum
    }
    #[getter]
    fn applied_at(&self) -> Option<DateTime<Utc>> {
        self.0.applied_at
    }
    #[getter]
    fn is_applied(&self) -> bool {
        self.0.is_applied()
    }
    #[getter]
    fn checksum_mismatch(&self) -> bool {
        self.0.checksum_mismatch
    }
    fn __repr__(&self) -> String {
        format!(
            "MigrationRecord(version={}, description='{}', applied={})",
            self.0.version,
            self.0.description,
            if self.0.is_applied() { "True" } else { "False" }
        )
    }
}

/// The staff member performing calls; from `Gym.authenticate` or `Gym.acting_as`.
#[pyclass(frozen, eq, module = "powergym")]
#[derive(PartialEq, Clone)]
pub(crate) struct Actor(pub(crate) core::Actor);

#[pymethods]
impl Actor {
    #[getter]
    fn username(&self) -> &str {
        self.0.username()
    }
    fn __repr__(&self) -> String {
        format!("Actor(username='{}')", self.0.username())
    }
}

/// A staff account.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct Staff {
    username: String,
    email: Option<String>,
    full_name: Option<String>,
    role: &'static str,
    disabled: bool,
    created_at: DateTime<Utc>,
}

impl From<core::Staff> for Staff {
    fn from(s: core::Staff) -> Self {
        Self {
            username: s.username,
            email: s.email,
            full_name: s.full_name,
            role: s.role.as_str(),
            disabled: s.disabled,
            created_at: s.created_at,
        }
    }
}

#[pymethods]
impl Staff {
    fn __repr__(&self) -> String {
        format!(
            "Staff(username='{}', role='{}', disabled={})",
            self.username,
            self.role,
            if self.disabled { "True" } else { "False" }
        )
    }
}

/// A membership plan.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct Plan {
    id: Uuid,
    name: String,
    slug: Option<String>,
    description: Option<String>,
    price: rust_decimal::Decimal,
    currency: String,
    duration_unit: &'static str,
    duration_count: u32,
    is_active: bool,
}

impl From<core::Plan> for Plan {
    fn from(p: core::Plan) -> Self {
        Self {
            id: p.id.as_uuid(),
            name: p.name,
            slug: p.slug,
            description: p.description,
            price: p.price.amount(),
            currency: p.currency.as_str().to_owned(),
            duration_unit: p.duration.unit().as_str(),
            duration_count: p.duration.count(),
            is_active: p.is_active,
        }
    }
}

#[pymethods]
impl Plan {
    fn __repr__(&self) -> String {
        format!(
            "Plan(id='{}', name='{}', price={})",
            self.id, self.name, self.price
        )
    }
}

/// A subscription with its price snapshot.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct Subscription {
    id: Uuid,
    client_id: Uuid,
    plan_id: Uuid,
    start_date: NaiveDate,
    end_date: NaiveDate,
    status: &'static str,
    list_price: rust_decimal::Decimal,
    discount_percentage: Option<rust_decimal::Decimal>,
    final_price: rust_decimal::Decimal,
    currency: String,
    cancellation_date: Option<NaiveDate>,
    cancellation_reason: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<core::Subscription> for Subscription {
    fn from(s: core::Subscription) -> Self {
        Self {
            id: s.id.as_uuid(),
            client_id: s.client_id.as_uuid(),
            plan_id: s.plan_id.as_uuid(),
            start_date: s.start_date,
            end_date: s.end_date,
            status: s.status.as_str(),
            list_price: s.price.list_price().amount(),
            discount_percentage: s.price.discount().map(|d| d.value()),
            final_price: s.price.final_price().amount(),
            currency: s.currency.as_str().to_owned(),
            cancellation_date: s.cancellation_date,
            cancellation_reason: s.cancellation_reason,
            created_at: s.created_at,
        }
    }
}

#[pymethods]
impl Subscription {
    fn __repr__(&self) -> String {
        format!(
            "Subscription(id='{}', status='{}', start_date={}, end_date={})",
            self.id, self.status, self.start_date, self.end_date
        )
    }
}

/// A recorded payment and what it did.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct PaymentReceipt {
    payment_id: Uuid,
    subscription_id: Uuid,
    amount: rust_decimal::Decimal,
    method: &'static str,
    payment_date: DateTime<Utc>,
    received_by: Option<String>,
    balance: rust_decimal::Decimal,
    status: &'static str,
}

impl From<core::PaymentReceipt> for PaymentReceipt {
    fn from(r: core::PaymentReceipt) -> Self {
        Self {
            payment_id: r.payment.id,
            subscription_id: r.payment.subscription_id.as_uuid(),
            amount: r.payment.amount.amount(),
            method: r.payment.method.as_str(),
            payment_date: r.payment.payment_date,
            received_by: r.payment.received_by,
            balance: r.balance.amount(),
            status: r.status.as_str(),
        }
    }
}

#[pymethods]
impl PaymentReceipt {
    fn __repr__(&self) -> String {
        format!(
            "PaymentReceipt(amount={}, balance={}, status='{}')",
            self.amount, self.balance, self.status
        )
    }
}

/// What happened at the door: `granted`, or the denial `reason`.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct CheckIn {
    granted: bool,
    reason: Option<&'static str>,
    attendance_id: Option<Uuid>,
    business_date: Option<NaiveDate>,
    entry_time: Option<DateTime<Utc>>,
}

impl From<core::CheckInOutcome> for CheckIn {
    fn from(o: core::CheckInOutcome) -> Self {
        match o {
            core::CheckInOutcome::Granted(a) => Self {
                granted: true,
                reason: None,
                attendance_id: Some(a.id),
                business_date: Some(a.business_date),
                entry_time: Some(a.entry_time),
            },
            core::CheckInOutcome::Denied(r) => Self {
                granted: false,
                reason: Some(r.code()),
                attendance_id: None,
                business_date: None,
                entry_time: None,
            },
        }
    }
}

#[pymethods]
impl CheckIn {
    fn __repr__(&self) -> String {
        match self.reason {
            None => "CheckIn(granted=True)".to_owned(),
            Some(r) => format!("CheckIn(granted=False, reason='{r}')"),
        }
    }
}

/// A product and its stock.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct Product {
    id: Uuid,
    name: String,
    price: rust_decimal::Decimal,
    available_quantity: rust_decimal::Decimal,
    min_stock: rust_decimal::Decimal,
    max_stock: Option<rust_decimal::Decimal>,
    stock_status: &'static str,
    is_active: bool,
}

impl From<core::Product> for Product {
    fn from(p: core::Product) -> Self {
        Self {
            id: p.id,
            name: p.name,
            price: p.price.amount(),
            available_quantity: p.available_quantity.value(),
            min_stock: p.limits.min_stock().value(),
            max_stock: p.limits.max_stock().map(|q| q.value()),
            stock_status: p.stock_status.as_str(),
            is_active: p.is_active,
        }
    }
}

#[pymethods]
impl Product {
    fn __repr__(&self) -> String {
        format!(
            "Product(id='{}', name='{}', available_quantity={}, stock_status='{}')",
            self.id, self.name, self.available_quantity, self.stock_status
        )
    }
}

/// A stock movement and the product's stock after it.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct StockChange {
    movement_id: Uuid,
    product_id: Uuid,
    quantity: rust_decimal::Decimal,
    unit_price: Option<rust_decimal::Decimal>,
    total_amount: Option<rust_decimal::Decimal>,
    responsible: Option<String>,
    available_quantity: rust_decimal::Decimal,
    stock_status: &'static str,
}

impl From<core::StockChange> for StockChange {
    fn from(c: core::StockChange) -> Self {
        Self {
            movement_id: c.movement.id,
            product_id: c.product.id,
            quantity: c.movement.quantity,
            unit_price: c.movement.unit_price.map(|p| p.amount()),
            total_amount: c.movement.total_amount.map(|p| p.amount()),
            responsible: c.movement.responsible,
            available_quantity: c.product.available_quantity.value(),
            stock_status: c.product.stock_status.as_str(),
        }
    }
}

#[pymethods]
impl StockChange {
    fn __repr__(&self) -> String {
        format!(
            "StockChange(quantity={}, available_quantity={}, stock_status='{}')",
            self.quantity, self.available_quantity, self.stock_status
        )
    }
}

/// An earned reward.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct Reward {
    id: Uuid,
    subscription_id: Uuid,
    client_id: Uuid,
    attendance_count: u32,
    discount_percentage: rust_decimal::Decimal,
    eligible_date: NaiveDate,
    expires_on: NaiveDate,
    status: &'static str,
    applied_subscription_id: Option<Uuid>,
}

impl From<core::Reward> for Reward {
    fn from(r: core::Reward) -> Self {
        Self {
            id: r.id,
            subscription_id: r.subscription_id.as_uuid(),
            client_id: r.client_id.as_uuid(),
            attendance_count: r.attendance_count,
            discount_percentage: r.discount.value(),
            eligible_date: r.eligible_date,
            expires_on: r.expires_on,
            status: r.status.as_str(),
            applied_subscription_id: r.applied_subscription_id.map(|s| s.as_uuid()),
        }
    }
}

#[pymethods]
impl Reward {
    fn __repr__(&self) -> String {
        format!(
            "Reward(id='{}', status='{}', discount_percentage={})",
            self.id, self.status, self.discount_percentage
        )
    }
}
