//! Rewards on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{PgTransaction, errors};
use crate::domain::ids::{ClientId, SubscriptionId};
use crate::domain::money::{DiscountPercent, Money};
use crate::domain::reward::Reward;
use crate::error::{Error, Result};
use crate::store::{NewReward, RewardRepository};

const COLUMNS: &str = "id, subscription_id, client_id, attendance_count, discount_percentage, \
    eligible_date, expires_on, status::text as status, applied_at, applied_subscription_id";

#[derive(sqlx::FromRow)]
struct RewardRow {
    id: Uuid,
    subscription_id: Uuid,
    client_id: Uuid,
    attendance_count: i32,
    discount_percentage: Decimal,
    eligible_date: NaiveDate,
    expires_on: NaiveDate,
    status: String,
    applied_at: Option<DateTime<Utc>>,
    applied_subscription_id: Option<Uuid>,
}

impl TryFrom<RewardRow> for Reward {
    type Error = Error;
    fn try_from(r: RewardRow) -> Result<Self> {
        Ok(Reward {
            id: r.id,
            subscription_id: SubscriptionId::from_uuid(r.subscription_id),
            client_id: ClientId::from_uuid(r.client_id),
            attendance_count: r.attendance_count.max(0) as u32,
            discount: DiscountPercent::from_stored(r.discount_percentage),
            eligible_date: r.eligible_date,
            expires_on: r.expires_on,
            status: r.status.parse()?,
            applied_at: r.applied_at,
            applied_subscription_id: r.applied_subscription_id.map(SubscriptionId::from_uuid),
        })
    }
}

#[async_trait]
impl RewardRepository for PgTransaction {
    async fn attendance_days(
        &mut self,
        client: ClientId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "select count(distinct business_date) from attendances \
             where client_id = $1 and business_date between $2 and $3",
        )
        .bind(client.as_uuid())
        .bind(from)
        .bind(to)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(n as u32)
    }

    async fn reward_of_subscription(&mut self, id: SubscriptionId) -> Result<Option<Reward>> {
        let sql = format!("select {COLUMNS} from rewards where subscription_id = $1");
        let row: Option<RewardRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.map(Reward::try_from).transpose()
    }

    async fn insert_reward_once(&mut self, r: &NewReward) -> Result<Reward> {
        sqlx::query(
            "insert into rewards (subscription_id, client_id, attendance_count, discount_percentage, \
             eligible_date, expires_on) values ($1, $2, $3, $4, $5, $6) \
             on conflict on constraint rewards_subscription_id_key do nothing",
        )
        .bind(r.subscription_id.as_uuid())
        .bind(r.client_id.as_uuid())
        .bind(r.attendance_count as i32)
        .bind(r.discount.value())
        .bind(r.eligible_date)
        .bind(r.expires_on)
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        self.reward_of_subscription(r.subscription_id)
            .await?
            .ok_or(Error::NotFound { entity: "reward" })
    }

    async fn lock_reward(&mut self, id: Uuid) -> Result<Reward> {
        let sql = format!("select {COLUMNS} from rewards where id = $1 for update");
        let row: RewardRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::RowNotFound => Error::NotFound { entity: "reward" },
                other => errors::map(other),
            })?;
        row.try_into()
    }

    async fn available_rewards(
        &mut self,
        client: ClientId,
        today: NaiveDate,
    ) -> Result<Vec<Reward>> {
        let sql = format!(
            "select {COLUMNS} from rewards where client_id = $1 and status = 'pending' and expires_on >= $2 \
             order by expires_on, id"
        );
        let rows: Vec<RewardRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(client.as_uuid())
            .bind(today)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        rows.into_iter().map(Reward::try_from).collect()
    }

    async fn mark_reward_applied(
        &mut self,
        id: Uuid,
        target: SubscriptionId,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<Reward> {
        let sql = format!(
            "update rewards set status = 'applied', applied_at = $3, applied_subscription_id = $2, applied_by = $4 \
             where id = $1 and status = 'pending' returning {COLUMNS}"
        );
        let row: Option<RewardRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .bind(target.as_uuid())
            .bind(at)
            .bind(by)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.ok_or_else(|| Error::Conflict {
            reason: "the reward was already applied".into(),
        })?
        .try_into()
    }

    async fn set_final_price(&mut self, id: SubscriptionId, final_price: Money) -> Result<()> {
        sqlx::query("update subscriptions set final_price = $2 where id = $1")
            .bind(id.as_uuid())
            .bind(final_price.amount())
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(())
    }
}
