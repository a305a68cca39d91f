//! Products and stock movements on SQLite. Stock moves only through movements: the
//! schema's `inventory_movements_apply_stock` trigger updates the product in the same
//! statement, the `check_product_quantity_positive` CHECK refuses a stock below zero, and
//! `inventory_movements_immutable` refuses any edit of the ledger, as on PostgreSQL.
//! Quantities and prices are INTEGER hundredths; a sale's total is the generated
//! `total_amount` column, computed from the unit price stored with the sale.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::attendance::value::{cents, count, hundredths, instant, micros, scaled, uuid_of};
use super::{SqliteTransaction, errors};
use crate::domain::inventory::{
    Movement, MovementTotals, NewProduct, Product, Quantity, StaffMovements, StockLimits,
    StockStatus,
};
use crate::domain::money::{Currency, Money};
use crate::domain::paging::{Page, PageRequest};
use crate::error::{Error, Result};
use crate::store::{Access, InventoryRepository, NewMovement};

const PRODUCT: &str = "id, name, description, capacity_value, unit_type, price, currency, photo_url, \
    is_active, available_quantity, min_stock, max_stock, stock_status, created_at, updated_at";
const MOVEMENT: &str = "id, product_id, movement_type, quantity, unit_price, total_amount, \
    movement_date, responsible, notes";

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: String,
    name: String,
    description: Option<String>,
    capacity_value: i64,
    unit_type: String,
    price: i64,
    currency: String,
    photo_url: Option<String>,
    is_active: bool,
    available_quantity: i64,
    min_stock: i64,
    max_stock: Option<i64>,
    stock_status: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ProductRow> for Product {
    type Error = Error;
    fn try_from(r: ProductRow) -> Result<Self> {
        Ok(Product {
            id: uuid_of(&r.id)?,
            name: r.name,
            description: r.description,
            capacity_value: cents(r.capacity_value).normalize(),
            unit_type: r.unit_type,
            price: Money::from_stored(cents(r.price)),
            currency: Currency::parse(&r.currency)?,
            photo_url: r.photo_url,
            is_active: r.is_active,
            available_quantity: Quantity::parse("available_quantity", cents(r.available_quantity))?,
            limits: StockLimits::parse(cents(r.min_stock), r.max_stock.map(cents))?,
            stock_status: r.stock_status.parse::<StockStatus>()?,
            created_at: instant(r.created_at)?,
            updated_at: instant(r.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MovementRow {
    id: String,
    product_id: String,
    movement_type: String,
    quantity: i64,
    unit_price: Option<i64>,
    total_amount: Option<i64>,
    movement_date: i64,
    responsible: Option<String>,
    notes: Option<String>,
}

impl TryFrom<MovementRow> for Movement {
    type Error = Error;
    fn try_from(r: MovementRow) -> Result<Self> {
        Ok(Movement {
            id: uuid_of(&r.id)?,
            product_id: uuid_of(&r.product_id)?,
            movement_type: r.movement_type.parse()?,
            quantity: cents(r.quantity).normalize(),
            unit_price: r.unit_price.map(|p| Money::from_stored(cents(p))),
            total_amount: r.total_amount.map(|t| Money::from_stored(cents(t))),
            movement_date: instant(r.movement_date)?,
            responsible: r.responsible,
            notes: r.notes,
        })
    }
}

fn not_found(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::RowNotFound => Error::NotFound { entity: "product" },
        other => errors::map(other),
    }
}

#[async_trait]
impl InventoryRepository for SqliteTransaction {
    async fn insert_product(&mut self, p: &NewProduct, by: &str) -> Result<Product> {
        let now = micros(Utc::now());
        let sql = format!(
            "insert into products (id, name, description, capacity_value, unit_type, price, currency, \
             photo_url, min_stock, max_stock, created_by, created_at, updated_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) returning {PRODUCT}"
        );
        let row: ProductRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(Uuid::new_v4().to_string())
            .bind(&p.name)
            .bind(p.description.as_deref())
            .bind(hundredths("capacity_value", p.capacity_value)?)
            .bind(&p.unit_type)
            .bind(hundredths("price", p.price.amount())?)
            .bind(p.currency.as_str())
            .bind(p.photo_url.as_deref())
            .bind(hundredths("min_stock", p.limits.min_stock().value())?)
            .bind(
                p.limits
                    .max_stock()
                    .map(|q| hundredths("max_stock", q.value()))
                    .transpose()?,
            )
            .bind(by)
            .bind(now)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.try_into()
    }

    async fn product_by_id(&mut self, id: Uuid, _access: Access) -> Result<Product> {
        // No row lock for ForUpdate: the IMMEDIATE transaction is already the file's only
        // writer.
        let sql = format!("select {PRODUCT} from products where id = ?1");
        let row: ProductRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn save_product(&mut self, p: &Product) -> Result<Product> {
        let sql = format!(
            "update products set name = ?2, description = ?3, price = ?4, photo_url = ?5, \
             min_stock = ?6, max_stock = ?7, is_active = ?8, updated_at = ?9 where id = ?1 \
             returning {PRODUCT}"
        );
        let row: ProductRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.id.to_string())
            .bind(&p.name)
            .bind(p.description.as_deref())
            .bind(hundredths("price", p.price.amount())?)
            .bind(p.photo_url.as_deref())
            .bind(hundredths("min_stock", p.limits.min_stock().value())?)
            .bind(
                p.limits
                    .max_stock()
                    .map(|q| hundredths("max_stock", q.value()))
                    .transpose()?,
            )
            .bind(p.is_active)
            .bind(micros(Utc::now()))
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
        let Some(search) = search else {
            let total: i64 =
                sqlx::query_scalar("select count(*) from products where (not ?1 or is_active)")
                    .bind(active_only)
                    .fetch_one(&mut *self.tx)
                    .await
                    .map_err(errors::map)?;
            let sql = format!(
                "select {PRODUCT} from products where (not ?1 or is_active) \
                 order by name, id limit ?2 offset ?3"
            );
            let rows: Vec<ProductRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(active_only)
                .bind(i64::from(page.limit()))
                .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
                .fetch_all(&mut *self.tx)
                .await
                .map_err(errors::map)?;
            return super::attendance::value::page_of(rows, total, page);
        };
        // PostgreSQL matches with `ilike`, case-insensitive in every script; SQLite's
        // LIKE folds ASCII only, so the substring test runs here, over the catalogue (a
        // gym's products are a few hundred rows), in the same order and with the same
        // total as PostgreSQL's.
        let needle = search.to_lowercase();
        let sql =
            format!("select {PRODUCT} from products where (not ?1 or is_active) order by name, id");
        let rows: Vec<ProductRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(active_only)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        let matching: Vec<ProductRow> = rows
            .into_iter()
            .filter(|r| {
                r.name.to_lowercase().contains(&needle)
                    || r.description
                        .as_deref()
                        .is_some_and(|d| d.to_lowercase().contains(&needle))
            })
            .collect();
        let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let rows = matching
            .into_iter()
            .skip(offset)
            .take(page.limit() as usize)
            .collect();
        super::attendance::value::page_of(rows, total, page)
    }

    async fn lock_sale_key(&mut self, _key: &str) -> Result<()> {
        // The transaction began IMMEDIATE: it is the only writer of the file until it
        // ends, so a concurrent sale under the same key already waits for it.
        Ok(())
    }

    async fn movement_by_idempotency_key(&mut self, key: &str) -> Result<Option<Movement>> {
        let sql = format!("select {MOVEMENT} from inventory_movements where idempotency_key = ?1");
        let row: Option<MovementRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.map(Movement::try_from).transpose()
    }

    async fn insert_movement(&mut self, m: &NewMovement) -> Result<Movement> {
        // The schema's `inventory_movements_apply_stock` trigger names a missing product or
        // staff member, refuses an inactive product and moves the stock.
        let sql = format!(
            "insert into inventory_movements (id, product_id, movement_type, quantity, unit_price, \
             responsible, notes, movement_date, idempotency_key, created_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) returning {MOVEMENT}"
        );
        let row: MovementRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(Uuid::new_v4().to_string())
            .bind(m.product_id.to_string())
            .bind(m.movement_type.as_str())
            .bind(hundredths("quantity", m.quantity)?)
            .bind(
                m.unit_price
                    .map(|p| hundredths("unit_price", p.amount()))
                    .transpose()?,
            )
            .bind(&m.responsible)
            .bind(m.notes.as_deref())
            .bind(micros(m.movement_date))
            .bind(m.idempotency_key.as_deref())
            .bind(micros(Utc::now()))
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
        let filter = "(?1 is null or product_id = ?1)";
        let product = product.map(|p| p.to_string());
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "select count(*) from inventory_movements where {filter}"
        )))
        .bind(product.as_deref())
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let sql = format!(
            "select {MOVEMENT} from inventory_movements where {filter} \
             order by movement_date desc, created_at desc, id desc limit ?2 offset ?3"
        );
        let rows: Vec<MovementRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(product.as_deref())
            .bind(i64::from(page.limit()))
            .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        super::attendance::value::page_of(rows, total, page)
    }

    async fn movement_totals(&mut self, product: Uuid) -> Result<MovementTotals> {
        // Sums of INTEGER hundredths are exact integers (SQLite raises on overflow
        // rather than rounding).
        let (n, entered, exited, entries, exits, last): (i64, i64, i64, i64, i64, Option<i64>) =
            sqlx::query_as(
                "select count(*), \
                   coalesce(sum(quantity) filter (where movement_type = 'ENTRY'), 0), \
                   coalesce(-sum(quantity) filter (where movement_type = 'EXIT'), 0), \
                   count(*) filter (where movement_type = 'ENTRY'), \
                   count(*) filter (where movement_type = 'EXIT'), \
                   max(movement_date) from inventory_movements where product_id = ?1",
            )
            .bind(product.to_string())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(MovementTotals {
            count: count(n),
            entered: cents(entered).normalize(),
            exited: cents(exited).normalize(),
            entries: count(entries),
            exits: count(exits),
            last_movement: last.map(instant).transpose()?,
        })
    }

    async fn movements_by_staff(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<StaffMovements>> {
        let rows: Vec<(Option<String>, i64, i64, i64, i64)> = sqlx::query_as(
            "select responsible, count(*) filter (where movement_type = 'EXIT'), \
               coalesce(-sum(quantity) filter (where movement_type = 'EXIT'), 0), \
               coalesce(sum(total_amount) filter (where movement_type = 'EXIT'), 0), \
               coalesce(sum(quantity) filter (where movement_type = 'ENTRY'), 0) \
             from inventory_movements where movement_date >= ?1 and movement_date < ?2 \
             group by responsible order by responsible nulls last",
        )
        .bind(micros(from))
        .bind(micros(to))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(rows
            .into_iter()
            .map(
                |(responsible, sales, sold, amount, entered)| StaffMovements {
                    responsible,
                    sales_count: count(sales),
                    units_sold: cents(sold).normalize(),
                    sales_amount: Money::from_stored(cents(amount)),
                    units_entered: cents(entered).normalize(),
                },
            )
            .collect())
    }

    async fn products_in_status(&mut self, status: StockStatus) -> Result<Vec<Product>> {
        let sql = format!(
            "select {PRODUCT} from products where is_active and stock_status = ?1 order by name, id"
        );
        let rows: Vec<ProductRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(status.as_str())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        rows.into_iter().map(Product::try_from).collect()
    }
}

/// The value of the active stock at current prices, exactly: quantities and prices are
/// hundredths, so each product contributes ten-thousandths, summed in `i128` (as
/// PostgreSQL's `numeric` product and sum do, where SQLite's integer product could
/// overflow into floating point).
pub(super) fn stock_value(rows: &[(i64, i64)]) -> Result<(Decimal, Decimal)> {
    let value: i128 = rows
        .iter()
        .map(|&(quantity, price)| i128::from(quantity) * i128::from(price))
        .sum();
    let units: i128 = rows.iter().map(|&(quantity, _)| i128::from(quantity)).sum();
    Ok((scaled(value, 4)?, scaled(units, 2)?))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::super::testing::{admin, migrated, money};
    use super::*;
    use crate::domain::inventory::{MovementType, ProductInput};
    use crate::store::{Store, StoreTransaction};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn new_product(name: &str, description: Option<&str>, price: &str) -> NewProduct {
        NewProduct::parse(ProductInput {
            name: name.into(),
            description: description.map(str::to_owned),
            capacity_value: dec("350"),
            unit_type: "ml".into(),
            price: dec(price),
            currency: None,
            photo_url: None,
            min_stock: Some(dec("2")),
            max_stock: Some(dec("20")),
        })
        .unwrap()
    }

    fn movement(product: Uuid, kind: MovementType, size: &str, key: Option<&str>) -> NewMovement {
        let size = Quantity::parse_positive("quantity", dec(size)).unwrap();
        NewMovement {
            product_id: product,
            movement_type: kind,
            quantity: kind.signed(size),
            unit_price: None,
            responsible: "admin".into(),
            notes: None,
            movement_date: Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
            idempotency_key: key.map(str::to_owned),
        }
    }

    async fn stock(tx: &mut Box<dyn StoreTransaction>, id: Uuid) -> Decimal {
        tx.product_by_id(id, Access::ForUpdate)
            .await
            .unwrap()
            .available_quantity
            .value()
    }

    #[tokio::test]
    async fn stock_never_goes_negative_and_the_ledger_is_immutable() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let water = tx
            .insert_product(&new_product("Agua", None, "2500.50"), "admin")
            .await
            .unwrap();
        assert_eq!(water.stock_status, StockStatus::StockOut);
        assert_eq!(water.price, money("2500.50"));
        let entry = tx
            .insert_movement(&movement(water.id, MovementType::Entry, "5", None))
            .await
            .unwrap();
        assert_eq!(entry.total_amount, None);
        assert_eq!(stock(&mut tx, water.id).await, dec("5"));
        // A sale larger than the stock: refused by the schema, nothing moves.
        let mut too_big = movement(water.id, MovementType::Exit, "6", None);
        too_big.unit_price = Some(water.price);
        let err = tx.insert_movement(&too_big).await.unwrap_err();
        assert!(
            matches!(&err, Error::Conflict { reason } if reason.contains("below zero")),
            "{err:?}"
        );
        assert_eq!(stock(&mut tx, water.id).await, dec("5"));
        assert_eq!(tx.movement_totals(water.id).await.unwrap().count, 1);
        // A sale of 1.5 at 2500.50 is worth 3750.75, at the price stored with the sale.
        let mut sale = movement(water.id, MovementType::Exit, "1.5", Some("s1"));
        sale.unit_price = Some(water.price);
        let sold = tx.insert_movement(&sale).await.unwrap();
        assert_eq!(sold.quantity, dec("-1.5"));
        assert_eq!(sold.total_amount, Some(money("3750.75")));
        assert_eq!(stock(&mut tx, water.id).await, dec("3.5"));
        // The retry key finds the sale; a second sale under it is refused.
        assert_eq!(
            tx.movement_by_idempotency_key("s1").await.unwrap(),
            Some(sold.clone())
        );
        tx.lock_sale_key("s1").await.unwrap();
        let err = tx.insert_movement(&sale).await.unwrap_err();
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
        // A product that does not exist, and one that is inactive.
        let err = tx
            .insert_movement(&movement(Uuid::new_v4(), MovementType::Entry, "1", None))
            .await
            .unwrap_err();
        assert_eq!(err, Error::NotFound { entity: "product" });
        let mut off = tx.product_by_id(water.id, Access::ForUpdate).await.unwrap();
        off.is_active = false;
        tx.save_product(&off).await.unwrap();
        let err = tx
            .insert_movement(&movement(water.id, MovementType::Entry, "1", None))
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Validation {
                    field: "product_id",
                    ..
                }
            ),
            "{err:?}"
        );
        tx.commit().await.unwrap();
        // The ledger cannot be edited, only added to, whoever writes to the file.
        for edit in [
            "update inventory_movements set quantity = -1 where id = ?1",
            "update inventory_movements set notes = 'corrected' where id = ?1",
        ] {
            let err = sqlx::query(edit)
                .bind(sold.id.to_string())
                .execute(store.pool())
                .await
                .map_err(errors::map)
                .unwrap_err();
            assert!(
                matches!(&err, Error::Conflict { reason } if reason.contains("cannot be changed")),
                "{err:?}"
            );
        }
        // Nor can the stock go below zero by hand.
        let err = sqlx::query("update products set available_quantity = -100 where id = ?1")
            .bind(water.id.to_string())
            .execute(store.pool())
            .await
            .map_err(errors::map)
            .unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn lists_totals_and_stock_reports() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let water = tx
            .insert_product(&new_product("Agua", Some("Botella"), "2000"), "admin")
            .await
            .unwrap();
        let juice = tx
            .insert_product(&new_product("Jugo", Some("ÁCIDO cítrico"), "3000"), "admin")
            .await
            .unwrap();
        let bar = tx
            .insert_product(&new_product("Barra 50%", None, "4000"), "admin")
            .await
            .unwrap();
        for (id, size) in [(water.id, "10"), (juice.id, "1"), (bar.id, "30")] {
            tx.insert_movement(&movement(id, MovementType::Entry, size, None))
                .await
                .unwrap();
        }
        let mut sale = movement(water.id, MovementType::Exit, "3", None);
        sale.unit_price = Some(money("2000"));
        tx.insert_movement(&sale).await.unwrap();
        // Search folds case beyond ASCII, and "%" is a character, not a wildcard.
        let all = PageRequest::new(10, 0).unwrap();
        let names = |p: &Page<Product>| p.items.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        let found = tx.list_products(false, Some("ácido"), all).await.unwrap();
        assert_eq!((found.total, names(&found)), (1, vec!["Jugo".to_owned()]));
        let found = tx.list_products(false, Some("50%"), all).await.unwrap();
        assert_eq!(names(&found), vec!["Barra 50%".to_owned()]);
        let page = tx
            .list_products(true, None, PageRequest::new(2, 1).unwrap())
            .await
            .unwrap();
        assert_eq!(
            (page.total, names(&page)),
            (3, vec!["Barra 50%".to_owned(), "Jugo".to_owned()])
        );
        // Stock reports use the schema's status rule.
        let low = tx.products_in_status(StockStatus::LowStock).await.unwrap();
        assert_eq!(low.iter().map(|p| p.id).collect::<Vec<_>>(), vec![juice.id]);
        let over = tx.products_in_status(StockStatus::Overstock).await.unwrap();
        assert_eq!(over.iter().map(|p| p.id).collect::<Vec<_>>(), vec![bar.id]);
        let totals = tx.movement_totals(water.id).await.unwrap();
        assert_eq!(
            (
                totals.count,
                totals.entered,
                totals.exited,
                totals.entries,
                totals.exits
            ),
            (2, dec("10"), dec("3"), 1, 1)
        );
        let movements = tx.list_movements(Some(water.id), all).await.unwrap();
        assert_eq!(movements.total, 2);
        let from = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
        let by_staff = tx.movements_by_staff(from, to).await.unwrap();
        assert_eq!(by_staff.len(), 1);
        assert_eq!(by_staff[0].responsible.as_deref(), Some("admin"));
        assert_eq!(by_staff[0].sales_count, 1);
        assert_eq!(by_staff[0].units_sold, dec("3"));
        assert_eq!(by_staff[0].sales_amount, money("6000"));
        assert_eq!(by_staff[0].units_entered, dec("41"));
        // Stock value: 7 × 2000 + 1 × 3000 + 30 × 4000, exactly.
        let (value, units) =
            stock_value(&[(700, 200_000), (100, 300_000), (3000, 400_000)]).unwrap();
        assert_eq!(
            (value.normalize(), units.normalize()),
            (dec("137000"), dec("38"))
        );
    }
}
