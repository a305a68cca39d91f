//! Plans on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{PgTransaction, errors, page_of};
use crate::domain::ids::PlanId;
use crate::domain::money::{Currency, Money};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::plan::{NewPlan, Plan, PlanDuration};
use crate::error::{Error, Result};
use crate::store::PlanRepository;

const COLUMNS: &str = "id, name, slug, description, price, currency, \
    duration_unit::text as duration_unit, duration_count, is_active, created_at";

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: Uuid,
    name: String,
    slug: Option<String>,
    description: Option<String>,
    price: Decimal,
    currency: String,
    duration_unit: String,
    duration_count: i32,
    is_active: bool,
    created_at: DateTime<Utc>,
}

impl TryFrom<PlanRow> for Plan {
    type Error = Error;
    fn try_from(r: PlanRow) -> Result<Self> {
        Ok(Plan {
            id: PlanId::from_uuid(r.id),
            name: r.name,
            slug: r.slug,
            description: r.description,
            price: Money::from_stored(r.price),
            currency: Currency::parse(&r.currency)?,
            duration: PlanDuration::new(r.duration_unit.parse()?, r.duration_count.max(0) as u32)?,
            is_active: r.is_active,
            created_at: r.created_at,
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
impl PlanRepository for PgTransaction {
    async fn insert_plan(&mut self, p: &NewPlan, created_by: &str) -> Result<Plan> {
        let sql = format!(
            "insert into plans (name, slug, description, price, currency, duration_unit, \
             duration_count, created_by) values ($1, $2, $3, $4, $5, $6::duration_type_enum, $7, $8) \
             returning {COLUMNS}"
        );
        let row: PlanRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(&p.name)
            .bind(p.slug.as_deref())
            .bind(p.description.as_deref())
            .bind(p.price.amount())
            .bind(p.currency.as_str())
            .bind(p.duration.unit().as_str())
            .bind(p.duration.count() as i32)
            .bind(created_by)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.try_into()
    }

    async fn plan_by_id(&mut self, id: PlanId) -> Result<Plan> {
        let sql = format!("select {COLUMNS} from plans where id = $1");
        let row: PlanRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn plan_by_slug(&mut self, slug: &str) -> Result<Plan> {
        let sql = format!("select {COLUMNS} from plans where slug = $1");
        let row: PlanRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(slug)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn list_plans(&mut self, active_only: bool, page: PageRequest) -> Result<Page<Plan>> {
        let total: i64 =
            sqlx::query_scalar("select count(*) from plans where (not $1 or is_active)")
                .bind(active_only)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        let sql = format!(
            "select {COLUMNS} from plans where (not $1 or is_active) order by name, id limit $2 offset $3"
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
        let sql = format!("update plans set is_active = $2 where id = $1 returning {COLUMNS}");
        let row: PlanRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .bind(active)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn save_plan(&mut self, p: &Plan) -> Result<Plan> {
        let sql = format!(
            "update plans set name = $2, description = $3, price = $4 where id = $1 returning {COLUMNS}"
        );
        let row: PlanRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.id.as_uuid())
            .bind(&p.name)
            .bind(p.description.as_deref())
            .bind(p.price.amount())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }
}
