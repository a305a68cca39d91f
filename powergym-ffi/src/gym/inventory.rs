//! Inventory use cases: products, stock entries and sales, the ledger and its reports.

use std::sync::Arc;

use chrono::NaiveDate;
use powergym_core as core;
use powergym_core::StockReport;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::records::{
    Actor, MovementPage, Product, ProductHistory, ProductInput, ProductPage, ProductUpdate,
    StaffMovements, StockChange,
};
use crate::{Gym, Result};

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Creates a product with no stock (admins only).
    pub async fn create_product(&self, actor: Arc<Actor>, input: ProductInput) -> Result<Product> {
        Ok(self
            .0
            .create_product(&actor.actor, input.into())
            .await?
            .into())
    }

    /// Changes a product (admins only); its stock status follows new limits.
    pub async fn update_product(
        &self,
        actor: Arc<Actor>,
        id: Uuid,
        update: ProductUpdate,
    ) -> Result<Product> {
        Ok(self
            .0
            .update_product(&actor.actor, id, update.into())
            .await?
            .into())
    }

    /// Deactivates (or reactivates) a product (admins only); inactive products do not
    /// move.
    pub async fn set_product_active(
        &self,
        actor: Arc<Actor>,
        id: Uuid,
        active: bool,
    ) -> Result<Product> {
        Ok(self
            .0
            .set_product_active(&actor.actor, id, active)
            .await?
            .into())
    }

    /// The product with this id.
    pub async fn get_product(&self, actor: Arc<Actor>, id: Uuid) -> Result<Product> {
        Ok(self.0.product(&actor.actor, id).await?.into())
    }

    /// A page of products by name, optionally only active ones or those matching
    /// `search`.
    #[uniffi::method(default(active_only = true, search = None, limit = 100, offset = 0))]
    pub async fn list_products(
        &self,
        actor: Arc<Actor>,
        active_only: bool,
        search: Option<String>,
        limit: u32,
        offset: u64,
    ) -> Result<ProductPage> {
        let page = core::PageRequest::new(limit, offset)?;
        Ok(self
            .0
            .list_products(&actor.actor, active_only, search.as_deref(), page)
            .await?
            .into())
    }

    /// Adds stock (admins only), with an optional note.
    #[uniffi::method(default(notes = None))]
    pub async fn add_stock(
        &self,
        actor: Arc<Actor>,
        product_id: Uuid,
        quantity: Decimal,
        notes: Option<String>,
    ) -> Result<StockChange> {
        Ok(self
            .0
            .add_stock(&actor.actor, product_id, quantity, notes.as_deref())
            .await?
            .into())
    }

    /// Sells at the product's current price, with an optional note. A retried call with
    /// the same `idempotencyKey` returns the first sale.
    #[uniffi::method(default(notes = None, idempotency_key = None))]
    pub async fn sell_product(
        &self,
        actor: Arc<Actor>,
        product_id: Uuid,
        quantity: Decimal,
        notes: Option<String>,
        idempotency_key: Option<String>,
    ) -> Result<StockChange> {
        Ok(self
            .0
            .sell_product_with_key(
                &actor.actor,
                product_id,
                quantity,
                notes.as_deref(),
                idempotency_key.as_deref(),
            )
            .await?
            .into())
    }

    /// A page of stock movements, of one product or of all, newest first.
    #[uniffi::method(default(product_id = None, limit = 100, offset = 0))]
    pub async fn list_movements(
        &self,
        actor: Arc<Actor>,
        product_id: Option<Uuid>,
        limit: u32,
        offset: u64,
    ) -> Result<MovementPage> {
        let page = core::PageRequest::new(limit, offset)?;
        Ok(self
            .0
            .list_movements(&actor.actor, product_id, page)
            .await?
            .into())
    }

    /// Each staff member's sales and entries between two business days.
    pub async fn movements_by_staff(
        &self,
        actor: Arc<Actor>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StaffMovements>> {
        let rows = self.0.movements_by_staff(&actor.actor, from, to).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// A product with the totals of its movements and its latest ones.
    pub async fn product_history(&self, actor: Arc<Actor>, id: Uuid) -> Result<ProductHistory> {
        Ok(self.0.product_history(&actor.actor, id).await?.into())
    }

    /// The active products a stock report lists (low, out of stock, over the maximum).
    pub async fn stock_report(
        &self,
        actor: Arc<Actor>,
        report: StockReport,
    ) -> Result<Vec<Product>> {
        let products = self.0.stock_report(&actor.actor, report).await?;
        Ok(products.into_iter().map(Into::into).collect())
    }
}
