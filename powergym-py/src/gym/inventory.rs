//! The shop: products, stock in and out, and the inventory reports.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::errors::to_py;
use crate::types::args;
use crate::types::{
    Actor, MovementPage, Product, ProductHistory, ProductPage, StaffMovements, StockChange,
};
use powergym_core as core;

use_cases! {
    /// Creates a product with no stock (admins only).
    #[pyo3(signature = (
        actor, *, name, capacity_value, unit_type, price, min_stock = None, max_stock = None,
        description = None, currency = None, photo_url = None
    ))]
    fn create_product(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::name)] name: String,
        #[pyo3(from_py_with = args::capacity_value)] capacity_value: Decimal,
        #[pyo3(from_py_with = args::unit_type)] unit_type: String,
        #[pyo3(from_py_with = args::price)] price: Decimal,
        #[pyo3(from_py_with = args::min_stock)] min_stock: Option<Decimal>,
        #[pyo3(from_py_with = args::max_stock)] max_stock: Option<Decimal>,
        #[pyo3(from_py_with = args::description)] description: Option<String>,
        #[pyo3(from_py_with = args::currency)] currency: Option<String>,
        #[pyo3(from_py_with = args::photo_url)] photo_url: Option<String>,
    ) -> Product {
        let input = core::ProductInput {
            name,
            description,
            capacity_value,
            unit_type,
            price,
            currency,
            photo_url,
            min_stock,
            max_stock,
        };
        let actor = actor.0.clone();
        async move { gym.create_product(&actor, input).await.map(Product::from) }
    }

    /// Changes the fields given (admins only); `clear_max_stock=True` removes the
    /// maximum. Stock changes only through `add_stock` and `sell_product`.
    #[pyo3(signature = (
        actor, product_id, *, name = None, description = None, price = None, min_stock = None,
        max_stock = None, clear_max_stock = false, photo_url = None
    ))]
    fn update_product(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::product_id)] product_id: Uuid,
        #[pyo3(from_py_with = args::optional_name)] name: Option<String>,
        #[pyo3(from_py_with = args::description)] description: Option<String>,
        #[pyo3(from_py_with = args::optional_price)] price: Option<Decimal>,
        #[pyo3(from_py_with = args::min_stock)] min_stock: Option<Decimal>,
        #[pyo3(from_py_with = args::max_stock)] max_stock: Option<Decimal>,
        clear_max_stock: bool,
        #[pyo3(from_py_with = args::photo_url)] photo_url: Option<String>,
    ) -> Product {
        let max_stock = match (max_stock, clear_max_stock) {
            (Some(_), true) => {
                return Err(to_py(core::Error::validation(
                    "max_stock",
                    "give max_stock or clear_max_stock, not both",
                )));
            }
            (Some(max), false) => Some(Some(max)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let update = core::domain::inventory::ProductUpdate {
            name,
            description,
            price,
            min_stock,
            max_stock,
            photo_url,
        };
        let actor = actor.0.clone();
        async move {
            gym.update_product(&actor, product_id, update)
                .await
                .map(Product::from)
        }
    }

    /// Activates or deactivates a product (admins only); an inactive one is not sold.
    fn set_product_active(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::product_id)] product_id: Uuid,
        active: bool,
    ) -> Product {
        let actor = actor.0.clone();
        async move {
            gym.set_product_active(&actor, product_id, active)
                .await
                .map(Product::from)
        }
    }

    /// The product with this id.
    fn get_product(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::product_id)] product_id: Uuid,
    ) -> Product {
        let actor = actor.0.clone();
        async move { gym.product(&actor, product_id).await.map(Product::from) }
    }

    /// A page of products by name; `search` matches names ignoring case and accents.
    #[pyo3(signature = (actor, *, active_only = false, search = None, limit = 100, offset = 0))]
    fn list_products(
        gym,
        actor: &Actor,
        active_only: bool,
        #[pyo3(from_py_with = args::search)] search: Option<String>,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
    ) -> ProductPage {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let actor = actor.0.clone();
        async move {
            gym.list_products(&actor, active_only, search.as_deref(), page)
                .await
                .map(ProductPage::from)
        }
    }

    /// Adds stock (admins only).
    #[pyo3(signature = (actor, product_id, quantity, *, notes = None))]
    fn add_stock(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::product_id)] product_id: Uuid,
        #[pyo3(from_py_with = args::quantity)] quantity: Decimal,
        #[pyo3(from_py_with = args::notes)] notes: Option<String>,
    ) -> StockChange {
        let actor = actor.0.clone();
        async move {
            gym.add_stock(&actor, product_id, quantity, notes.as_deref())
                .await
                .map(StockChange::from)
        }
    }

    /// Sells at the product's current price; raises InsufficientStockError when short.
    /// A retried call with the same `idempotency_key` returns the first sale.
    #[pyo3(signature = (actor, product_id, quantity, *, notes = None, idempotency_key = None))]
    fn sell_product(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::product_id)] product_id: Uuid,
        #[pyo3(from_py_with = args::quantity)] quantity: Decimal,
        #[pyo3(from_py_with = args::notes)] notes: Option<String>,
        #[pyo3(from_py_with = args::idempotency_key)] idempotency_key: Option<String>,
    ) -> StockChange {
        let actor = actor.0.clone();
        async move {
            gym.sell_product_with_key(
                &actor,
                product_id,
                quantity,
                notes.as_deref(),
                idempotency_key.as_deref(),
            )
            .await
            .map(StockChange::from)
        }
    }

    /// A page of stock movements, newest first, of one product when `product_id` is given.
    #[pyo3(signature = (actor, *, product_id = None, limit = 100, offset = 0))]
    fn list_movements(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::optional_product_id)] product_id: Option<Uuid>,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
    ) -> MovementPage {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let actor = actor.0.clone();
        async move {
            gym.list_movements(&actor, product_id, page)
                .await
                .map(MovementPage::from)
        }
    }

    /// Each staff member's sales and entries between two business days (inclusive).
    fn movements_by_staff(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::start)] start: NaiveDate,
        #[pyo3(from_py_with = args::end)] end: NaiveDate,
    ) -> Vec<StaffMovements> {
        let actor = actor.0.clone();
        async move {
            let rows = gym.movements_by_staff(&actor, start, end).await?;
            Ok(rows.into_iter().map(StaffMovements::from).collect())
        }
    }

    /// A product with its movement totals and 50 latest movements.
    fn product_history(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::product_id)] product_id: Uuid,
    ) -> ProductHistory {
        let actor = actor.0.clone();
        async move {
            gym.product_history(&actor, product_id)
                .await
                .map(ProductHistory::from)
        }
    }

    /// The active products that are low (`'low_stock'`), out (`'out_of_stock'`) or over
    /// their maximum (`'overstock'`).
    fn stock_report(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::report)] report: String,
    ) -> Vec<Product> {
        let report: core::domain::inventory::StockReport = report.parse().map_err(to_py)?;
        let actor = actor.0.clone();
        async move {
            let products = gym.stock_report(&actor, report).await?;
            Ok(products.into_iter().map(Product::from).collect())
        }
    }
}
