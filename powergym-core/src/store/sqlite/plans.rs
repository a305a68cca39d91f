//! Plans on SQLite.

use async_trait::async_trait;
use chrono::Utc;
use sqlx::AssertSqlSafe;

use super::attendance::value::{cents, hundredths, instant, micros, page_of, uuid_of};
use super::{SqliteTransaction, errors};
use crate::domain::ids::PlanId;
use crate::domain::money::{Currency, Money};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::plan::{NewPlan, Plan, PlanDuration};
use crate::error::{Error, Result};
use crate::store::PlanRepository;

const COLUMNS: &str = "id, name, slug, description, price, currency, duration_unit, \
    duration_count, is_active, created_at";

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: String,
    name: String,
    slug: Option<String>,
    description: Option<String>,
    price: i64,
    currency: String,
    duration_unit: String,
    duration_count: i64,
    is_active: bool,
    created_at: i64,
}

impl TryFrom<PlanRow> for Plan {
    type Error = Error;
    fn try_from(r: PlanRow) -> Result<Self> {
        Ok(Plan {
            id: PlanId::from_uuid(uuid_of(&r.id)?),
            name: r.name,
            slug: r.slug,
            description: r.description,
            price: Money::from_stored(cents(r.price)),
            currency: Currency::parse(&r.currency)?,
            duration: PlanDuration::new(
                r.duration_unit.parse()?,
                u32::try_from(r.duration_count).unwrap_or(0),
            )?,
            is_active: r.is_active,
            created_at: instant(r.created_at)?,
        })
    }
}

fn not_found(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::RowNotFound => Error::NotFound { entity: "plan" },
        other => errors::map(other),
    }
}

#[async_trait]
impl PlanRepository for SqliteTransaction {
    async fn insert_plan(&mut self, p: &NewPlan, created_by: &str) -> Result<Plan> {
        let sql = format!(
            "insert into plans (id, name, slug, description, price, currency, duration_unit, \
             duration_count, created_by, created_at, updated_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) returning {COLUMNS}"
        );
        let row: PlanRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&p.name)
            .bind(p.slug.as_deref())
            .bind(p.description.as_deref())
            .bind(hundredths("price", p.price.amount())?)
            .bind(p.currency.as_str())
            .bind(p.duration.unit().as_str())
            .bind(i64::from(p.duration.count()))
            .bind(created_by)
            .bind(micros(Utc::now()))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.try_into()
    }

    async fn plan_by_id(&mut self, id: PlanId) -> Result<Plan> {
        let sql = format!("select {COLUMNS} from plans where id = ?1");
        let row: PlanRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid().to_string())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn plan_by_slug(&mut self, slug: &str) -> Result<Plan> {
        let sql = format!("select {COLUMNS} from plans where slug = ?1");
        let row: PlanRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(slug)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn list_plans(&mut self, active_only: bool, page: PageRequest) -> Result<Page<Plan>> {
        let total: i64 =
            sqlx::query_scalar("select count(*) from plans where (not ?1 or is_active)")
                .bind(active_only)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        // Names compare byte-wise (UTF-8, so by code point), as PostgreSQL orders them
        // under the C.UTF-8 collation PowerGym's databases are created with.
        let sql = format!(
            "select {COLUMNS} from plans where (not ?1 or is_active) order by name, id \
             limit ?2 offset ?3"
        );
        let rows: Vec<PlanRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(active_only)
            .bind(i64::from(page.limit()))
            .bind(page.offset() as i64)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        page_of(rows, total, page)
    }

    async fn set_plan_active(&mut self, id: PlanId, active: bool) -> Result<Plan> {
        let sql = format!(
            "update plans set is_active = ?2, updated_at = ?3 where id = ?1 returning {COLUMNS}"
        );
        let row: PlanRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid().to_string())
            .bind(active)
            .bind(micros(Utc::now()))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn save_plan(&mut self, p: &Plan) -> Result<Plan> {
        let sql = format!(
            "update plans set name = ?2, description = ?3, price = ?4, updated_at = ?5 \
             where id = ?1 returning {COLUMNS}"
        );
        let row: PlanRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.id.as_uuid().to_string())
            .bind(&p.name)
            .bind(p.description.as_deref())
            .bind(hundredths("price", p.price.amount())?)
            .bind(micros(Utc::now()))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{admin, migrated, money, new_plan, plan};
    use crate::domain::ids::PlanId;
    use crate::domain::paging::PageRequest;
    use crate::error::Error;
    use crate::store::Store;

    #[tokio::test]
    async fn plans_keep_exact_prices_unique_slugs_and_name_order() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let monthly = plan(&mut tx).await;
        assert_eq!(monthly.price, money("100000"));
        assert_eq!(
            tx.insert_plan(&new_plan("Other", Some("monthly"), "1"), "admin")
                .await
                .unwrap_err(),
            Error::AlreadyExists {
                entity: "plan",
                field: "slug"
            }
        );
        let annual = tx
            .insert_plan(&new_plan("Annual", None, "999999.99"), "admin")
            .await
            .unwrap();
        assert_eq!(annual.price, money("999999.99"));
        assert_eq!(tx.plan_by_slug("monthly").await.unwrap().id, monthly.id);
        tx.set_plan_active(annual.id, false).await.unwrap();
        let page = PageRequest::new(10, 0).unwrap();
        let all = tx.list_plans(false, page).await.unwrap();
        let names: Vec<&str> = all.items.iter().map(|p| p.name.as_str()).collect();
        assert_eq!((all.total, names), (2, vec!["Annual", "Monthly"]));
        assert_eq!(tx.list_plans(true, page).await.unwrap().total, 1);
        let mut edited = monthly.clone();
        edited.price = money("120000.50");
        edited.name = "Monthly plus".into();
        let saved = tx.save_plan(&edited).await.unwrap();
        assert_eq!(
            (saved.price, saved.name.as_str()),
            (money("120000.5"), "Monthly plus")
        );
        let missing = PlanId::from_uuid(uuid::Uuid::new_v4());
        assert_eq!(
            tx.plan_by_id(missing).await.unwrap_err(),
            Error::NotFound { entity: "plan" }
        );
        assert_eq!(
            tx.plan_by_slug("nope").await.unwrap_err(),
            Error::NotFound { entity: "plan" }
        );
        // A staff member who does not exist is named as such, as on PostgreSQL.
        assert_eq!(
            tx.insert_plan(&new_plan("Ghost", None, "1"), "ghost")
                .await
                .unwrap_err(),
            Error::NotFound {
                entity: "staff member"
            }
        );
    }
}
