//! Products and stock movements on PostgreSQL. Stock moves only through movements: the
//! `inventory_movements_apply_stock` trigger updates the product in the same statement.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{PgTransaction, errors, page_of};
use crate::domain::inventory::{
    Movement, MovementTotals, NewProduct, Product, Quantity, StaffMovements, StockLimits,
    StockStatus,
};
use crate::domain::money::{Currency, Money};
use crate::domain::paging::{Page, PageRequest};
use crate::error::{Error, Result};
use crate::store::{Access, InventoryRepository, NewMovement};

pub(super) const PRODUCT: &str = "id, name, description, capacity_value, unit_type, price, currency, photo_url, \
    is_active, available_quantity, min_stock, max_stock, stock_status::text as stock_status, created_at, updated_at";
const MOVEMENT: &str = "id, product_id, movement_type::text as movement_type, quantity, unit_price, \
    total_amount, movement_date, responsible, notes";

#[derive(sqlx::FromRow)]
pub(super) struct ProductRow {
    id: Uuid,
    name: String,
    description: Option<String>,
    capacity_value: Decimal,
    unit_type: String,
    price: Decimal,
    currency: String,
    photo_url: Option<String>,
    is_active: bool,
    available_quantity: Decimal,
    min_stock: Decimal,
    max_stock: Option<Decimal>,
    stock_status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ProductRow> for Product {
    type Error = Error;
    fn try_from(r: ProductRow) -> Result<Self> {
        Ok(Product {
            id: r.id,
            name: r.name,
            description: r.description,
            capacity_value: r.capacity_value.normalize(),
            unit_type: r.unit_type,
            price: Money::from_stored(r.price),
            currency: Currency::parse(&r.currency)?,
            photo_url: r.photo_url,
            is_active: r.is_active,
            available_quantity: Quantity::parse("available_quantity", r.available_quantity)?,
            limits: StockLimits::parse(r.min_stock, r.max_stock)?,
            stock_status: r.stock_status.parse::<StockStatus>()?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MovementRow {
    id: Uuid,
    product_id: Uuid,
    movement_type: String,
    quantity: Decimal,
    unit_price: Option<Decimal>,
    total_amount: Option<Decimal>,
    movement_date: DateTime<Utc>,
    responsible: Option<String>,
    notes: Option<String>,
}

impl TryFrom<MovementRow> for Movement {
    type Error = Error;
    fn try_from(r: MovementRow) -> Result<Self> {
        Ok(Movement {
            id: r.id,
            product_id: r.product_id,
            movement_type: r.movement_type.parse()?,
            quantity: r.quantity.normalize(),
            unit_price: r.unit_price.map(Money::from_stored),
            total_amount: r.total_amount.map(Money::from_stored),
            movement_date: r.movement_date,
            responsible: r.responsible,
            notes: r.notes,
        })
    }
}

/// Class of the transaction-scoped advisory locks held on sales' retry keys (the
/// two-integer key space, apart from the enrolment lock's single key; 'PGSK').
const SALE_KEY_LOCK: i32 = 0x5047_534b;

fn not_found(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::RowNotFound => Error::NotFound { entity: "product" },
        other => errors::map(other),
    }
}

#[async_trait]
impl InventoryRepository for PgTransaction {
    async fn insert_product(&mut self, p: &NewProduct, by: &str) -> Result<Product> {
        let sql = format!(
            "insert into products (name, description, capacity_value, unit_type, price, currency, \
             photo_url, min_stock, max_stock, created_by) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             returning {PRODUCT}"
        );
        let row: ProductRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(&p.name)
            .bind(p.description.as_deref())
            .bind(p.capacity_value)
            .bind(&p.unit_type)
            .bind(p.price.amount())
            .bind(p.currency.as_str())
            .bind(p.photo_url.as_deref())
            .bind(p.limits.min_stock().value())
            .bind(p.limits.max_stock().map(|q| q.value()))
            .bind(by)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.try_into()
    }

    async fn product_by_id(&mut self, id: Uuid, access: Access) -> Result<Product> {
        let sql = format!(
            "select {PRODUCT} from products where id = $1{}",
            match access {
                Access::Read => "",
                Access::ForUpdate => " for update",
            }
        );
        let row: ProductRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn save_product(&mut self, p: &Product) -> Result<Product> {
        let sql = format!(
            "update products set name = $2, description = $3, price = $4, photo_url = $5, \
             min_stock = $6, max_stock = $7, is_active = $8 where id = $1 returning {PRODUCT}"
        );
        let row: ProductRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.id)
            .bind(&p.name)
            .bind(p.description.as_deref())
            .bind(p.price.amount())
            .bind(p.photo_url.as_deref())
            .bind(p.limits.min_stock().value())
            .bind(p.limits.max_stock().map(|q| q.value()))
            .bind(p.is_active)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn list_products(
        &mut self,
        active_only: bool,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Product>> {
        // Case-insensitive substring on name and description; the pattern's own
        // wildcards are escaped so a search for "50%" finds "50%".
        let pattern = search.map(|s| {
            let escaped = s
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        });
        let filter =
            "(not $1 or is_active) and ($2::text is null or name ilike $2 or description ilike $2)";
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "select count(*) from products where {filter}"
        )))
        .bind(active_only)
        .bind(pattern.as_deref())
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let sql = format!(
            "select {PRODUCT} from products where {filter} order by name, id limit $3 offset $4"
        );
        let rows: Vec<ProductRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(active_only)
            .bind(pattern.as_deref())
            .bind(i64::from(page.limit()))
            .bind(page.offset() as i64)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        page_of(rows, total, page)
    }

    async fn lock_sale_key(&mut self, key: &str) -> Result<()> {
        // Keys hash to 32 bits: two keys sharing a lock only wait for each other.
        sqlx::query("select pg_advisory_xact_lock($1, hashtext($2))")
            .bind(SALE_KEY_LOCK)
            .bind(key)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(())
    }

    async fn movement_by_idempotency_key(&mut self, key: &str) -> Result<Option<Movement>> {
        let sql = format!("select {MOVEMENT} from inventory_movements where idempotency_key = $1");
        let row: Option<MovementRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.map(Movement::try_from).transpose()
    }

    async fn insert_movement(&mut self, m: &NewMovement) -> Result<Movement> {
        let sql = format!(
            "insert into inventory_movements (product_id, movement_type, quantity, unit_price, responsible, \
             notes, movement_date, idempotency_key) \
             values ($1, $2::inventory_movement_enum, $3, $4, $5, $6, $7, $8) returning {MOVEMENT}"
        );
        let row: MovementRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(m.product_id)
            .bind(m.movement_type.as_str())
            .bind(m.quantity)
            .bind(m.unit_price.map(|p| p.amount()))
            .bind(&m.responsible)
            .bind(m.notes.as_deref())
            .bind(m.movement_date)
            .bind(m.idempotency_key.as_deref())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.try_into()
    }

    async fn list_movements(
        &mut self,
        product: Option<Uuid>,
        page: PageRequest,
    ) -> Result<Page<Movement>> {
        let filter = "($1::uuid is null or product_id = $1)";
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "select count(*) from inventory_movements where {filter}"
        )))
        .bind(product)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let sql = format!(
            "select {MOVEMENT} from inventory_movements where {filter} \
             order by movement_date desc, created_at desc, id desc limit $2 offset $3"
        );
        let rows: Vec<MovementRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(product)
            .bind(i64::from(page.limit()))
            .bind(page.offset() as i64)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        page_of(rows, total, page)
    }

    async fn movement_totals(&mut self, product: Uuid) -> Result<MovementTotals> {
        let (count, entered, exited, entries, exits, last): (i64, Decimal, Decimal, i64, i64, Option<DateTime<Utc>>) =
            sqlx::query_as(
                "select count(*), coalesce(sum(quantity) filter (where movement_type = 'ENTRY'), 0), \
                   coalesce(-sum(quantity) filter (where movement_type = 'EXIT'), 0), \
                   count(*) filter (where movement_type = 'ENTRY'), count(*) filter (where movement_type = 'EXIT'), \
                   max(movement_date) from inventory_movements where product_id = $1",
            )
            .bind(product)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(MovementTotals {
            count: count.max(0) as u64,
            entered: entered.normalize(),
            exited: exited.normalize(),
            entries: entries.max(0) as u64,
            exits: exits.max(0) as u64,
            last_movement: last,
        })
    }

    async fn movements_by_staff(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<StaffMovements>> {
        let rows: Vec<(Option<String>, i64, Decimal, Decimal, Decimal)> = sqlx::query_as(
            "select responsible, count(*) filter (where movement_type = 'EXIT'), \
               coalesce(-sum(quantity) filter (where movement_type = 'EXIT'), 0), \
               coalesce(sum(total_amount) filter (where movement_type = 'EXIT'), 0), \
               coalesce(sum(quantity) filter (where movement_type = 'ENTRY'), 0) \
             from inventory_movements where movement_date >= $1 and movement_date < $2 \
             group by responsible order by responsible nulls last",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(rows
            .into_iter()
            .map(
                |(responsible, count, sold, amount, entered)| StaffMovements {
                    responsible,
                    sales_count: count.max(0) as u64,
                    units_sold: sold.normalize(),
                    sales_amount: Money::from_stored(amount),
                    units_entered: entered.normalize(),
                },
            )
            .collect())
    }

    async fn products_in_status(&mut self, status: StockStatus) -> Result<Vec<Product>> {
        let sql = format!(
            "select {PRODUCT} from products where is_active and stock_status = $1::stock_status_enum order by name, id"
        );
        let rows: Vec<ProductRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(status.as_str())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        rows.into_iter().map(Product::try_from).collect()
    }
}
