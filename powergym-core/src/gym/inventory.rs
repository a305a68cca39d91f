//! Inventory use cases: products, stock entries, sales and stock reports.

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::inventory::{
    Movement, MovementType, NewProduct, Product, ProductHistory, ProductInput, ProductUpdate,
    Quantity, StaffMovements, StockReport, stock_after_entry, stock_after_exit,
};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::staff::{Action, Actor};
use crate::domain::text;
use crate::error::{Error, Result};
use crate::gym::{Gym, permitted, retrying};
use crate::store::{Access, NewMovement};

/// A movement and the product after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockChange {
    /// The ledger line written.
    pub movement: Movement,
    /// The product with its new stock and status.
    pub product: Product,
}

fn notes(raw: Option<&str>) -> Result<Option<String>> {
    text::MOVEMENT_NOTES.parse_optional(raw)
}

/// Validates a caller's retry key for a sale or a check-in with the one rule payments'
/// keys follow too ([`text::IDEMPOTENCY_KEY`]: trimmed, at most 100 characters, no control
/// or invisible characters). A blank key is refused rather than taken for none, so a
/// caller that meant to retry safely is never silently unprotected.
pub(crate) fn idempotency_key(raw: Option<&str>) -> Result<Option<String>> {
    raw.map(|k| text::IDEMPOTENCY_KEY.parse(k)).transpose()
}

impl Gym {
    /// Creates a product with no stock (admins only).
    pub async fn create_product(&self, actor: &Actor, input: ProductInput) -> Result<Product> {
        self.bounded(async move {
            let new = NewProduct::parse(input)?;
            let mut tx = self.begin_as(actor, Action::ManageProducts).await?;
            let product = tx.insert_product(&new, actor.username()).await?;
            tx.commit().await?;
            Ok(product)
        })
        .await
    }

    /// Changes a product (admins only). Sales already made keep their price.
    pub async fn update_product(
        &self,
        actor: &Actor,
        id: Uuid,
        update: ProductUpdate,
    ) -> Result<Product> {
        self.bounded(async move {
            let mut tx = self.begin_as(actor, Action::ManageProducts).await?;
            let current = tx.product_by_id(id, Access::ForUpdate).await?;
            let saved = tx.save_product(&update.apply_to(&current)?).await?;
            tx.commit().await?;
            Ok(saved)
        })
        .await
    }

    /// Activates or deactivates a product (admins only); inactive products do not move.
    pub async fn set_product_active(
        &self,
        actor: &Actor,
        id: Uuid,
        active: bool,
    ) -> Result<Product> {
        self.bounded(async move {
            let mut tx = self.begin_as(actor, Action::ManageProducts).await?;
            let mut product = tx.product_by_id(id, Access::ForUpdate).await?;
            product.is_active = active;
            let saved = tx.save_product(&product).await?;
            tx.commit().await?;
            Ok(saved)
        })
        .await
    }

    /// The product with this id.
    pub async fn product(&self, actor: &Actor, id: Uuid) -> Result<Product> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ReadInventory).await?;
            tx.product_by_id(id, Access::Read).await
        })
        .await
    }

    /// A page of products by name; `search` matches name or description, ignoring case.
    pub async fn list_products(
        &self,
        actor: &Actor,
        active_only: bool,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Product>> {
        self.bounded(async move {
            let search = text::PRODUCT_SEARCH.parse_optional(search)?;
            let mut tx = self.begin_read_as(actor, Action::ReadInventory).await?;
            tx.list_products(active_only, search.as_deref(), page).await
        })
        .await
    }

    async fn move_stock(
        &self,
        actor: &Actor,
        id: Uuid,
        movement_type: MovementType,
        size: Decimal,
        note: Option<&str>,
        key: Option<&str>,
    ) -> Result<StockChange> {
        let size = Quantity::parse_positive("quantity", size)?;
        let note = notes(note)?;
        let key = idempotency_key(key)?;
        let action = match movement_type {
            MovementType::Entry => Action::AddStock,
            MovementType::Exit => Action::SellStock,
        };
        retrying(|| async {
            let (now, _) = self.now();
            // Without a key, the account and the locked product come in one statement.
            // With one, the account is checked first (nothing is read under the key for
            // someone who may not move stock), then the key's lock comes before the
            // product row, and the lookup after it, so concurrent calls with one key
            // write once whichever products they name.
            let mut tx = match key.as_deref() {
                Some(_) => self.begin_as(actor, action).await?,
                None => self.store.begin().await?,
            };
            if let Some(key) = key.as_deref() {
                tx.lock_sale_key(key).await?;
                if let Some(first) = tx.movement_by_idempotency_key(key).await? {
                    if first.product_id != id
                        || first.movement_type != movement_type
                        || first.quantity != movement_type.signed(size)
                    {
                        return Err(Error::Conflict {
                            reason: "the idempotency key was already used for a different sale"
                                .into(),
                        });
                    }
                    // As payments do: the first movement, with the product as it is now.
                    let product = tx.product_by_id(id, Access::Read).await?;
                    return Ok(StockChange {
                        movement: first,
                        product,
                    });
                }
            }
            let (staff, product) = tx.stock_context(actor.username(), id).await?;
            permitted(staff.as_ref(), action)?;
            let product = product.ok_or(Error::NotFound { entity: "product" })?;
            if !product.is_active {
                return Err(Error::Conflict {
                    reason: "the product is inactive; reactivate it to move its stock".into(),
                });
            }
            let unit_price = match movement_type {
                MovementType::Entry => {
                    stock_after_entry(product.available_quantity, size, &product.limits)?;
                    None
                }
                MovementType::Exit => {
                    stock_after_exit(product.available_quantity, size)?;
                    Some(product.price)
                }
            };
            let movement = tx
                .insert_movement(&NewMovement {
                    product_id: id,
                    movement_type,
                    quantity: movement_type.signed(size),
                    unit_price,
                    responsible: actor.username().to_owned(),
                    notes: note.clone(),
                    movement_date: now,
                    idempotency_key: key.clone(),
                })
                .await?;
            let product = tx.product_by_id(id, Access::Read).await?;
            tx.commit().await?;
            Ok(StockChange { movement, product })
        })
        .await
    }

    /// Adds stock (admins only); refused past the product's maximum.
    pub async fn add_stock(
        &self,
        actor: &Actor,
        product: Uuid,
        quantity: Decimal,
        notes: Option<&str>,
    ) -> Result<StockChange> {
        self.bounded(async move {
            self.move_stock(actor, product, MovementType::Entry, quantity, notes, None)
                .await
        })
        .await
    }

    /// Sells: an exit at the product's price of this moment, recorded with its total and
    /// the seller. Refused (`InsufficientStock`) when the stock is short.
    pub async fn sell_product(
        &self,
        actor: &Actor,
        product: Uuid,
        quantity: Decimal,
        notes: Option<&str>,
    ) -> Result<StockChange> {
        self.bounded(async move {
            self.sell_product_with_key(actor, product, quantity, notes, None)
                .await
        })
        .await
    }

    /// [`sell_product`](Self::sell_product) with a key the caller reuses when it retries
    /// the same sale (after a timeout or a failure during commit, when it cannot know
    /// whether the first call sold). A retry writes nothing and returns the first sale
    /// with the product as it is now; the key given for a different product or quantity
    /// is a `Conflict`. Keys follow the payments' rule (at most 100 characters).
    pub async fn sell_product_with_key(
        &self,
        actor: &Actor,
        product: Uuid,
        quantity: Decimal,
        notes: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<StockChange> {
        self.bounded(async move {
            self.move_stock(
                actor,
                product,
                MovementType::Exit,
                quantity,
                notes,
                idempotency_key,
            )
            .await
        })
        .await
    }

    /// A page of movements, newest first, of one product or of all.
    pub async fn list_movements(
        &self,
        actor: &Actor,
        product: Option<Uuid>,
        page: PageRequest,
    ) -> Result<Page<Movement>> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ReadInventory).await?;
            if let Some(id) = product {
                tx.product_by_id(id, Access::Read).await?;
            }
            tx.list_movements(product, page).await
        })
        .await
    }

    /// Sales and entries per staff member between two business days, inclusive (admins
    /// only): one day gives the daily sales by employee, a longer period the
    /// reconciliation.
    pub async fn movements_by_staff(
        &self,
        actor: &Actor,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<StaffMovements>> {
        self.bounded(async move {
            if from > to {
                return Err(Error::validation("from", "must not be after `to`"));
            }
            let (starts, _) = self.calendar().day_bounds(from);
            let (_, ends) = self.calendar().day_bounds(to);
            let mut tx = self
                .begin_read_as(actor, Action::ReadInventoryReports)
                .await?;
            tx.movements_by_staff(starts, ends).await
        })
        .await
    }

    /// A product's movement totals and its 50 latest movements.
    pub async fn product_history(&self, actor: &Actor, id: Uuid) -> Result<ProductHistory> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ReadInventory).await?;
            let product = tx.product_by_id(id, Access::Read).await?;
            let totals = tx.movement_totals(id).await?;
            let recent = tx
                .list_movements(Some(id), PageRequest::new(50, 0)?)
                .await?
                .items;
            Ok(ProductHistory {
                product,
                totals,
                recent,
            })
        })
        .await
    }

    /// Active products in a stock report (admins only); one definition of low stock, the
    /// status rule's.
    pub async fn stock_report(&self, actor: &Actor, report: StockReport) -> Result<Vec<Product>> {
        self.bounded(async move {
            let mut tx = self
                .begin_read_as(actor, Action::ReadInventoryReports)
                .await?;
            tx.products_in_status(report.status()).await
        })
        .await
    }
}
