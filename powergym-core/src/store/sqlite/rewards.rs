//! Rewards on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::attendance::value::{cents, day, day_text, hundredths, instant, micros, uuid_of};
use super::{SqliteTransaction, errors};
use crate::domain::ids::{ClientId, SubscriptionId};
use crate::domain::money::{DiscountPercent, Money};
use crate::domain::reward::Reward;
use crate::error::{Error, Result};
use crate::store::{NewReward, RewardRepository};

const COLUMNS: &str = "id, subscription_id, client_id, attendance_count, discount_percentage, \
    eligible_date, expires_on, status, applied_at, applied_subscription_id";

#[derive(sqlx::FromRow)]
struct RewardRow {
    id: String,
    subscription_id: String,
    client_id: String,
    attendance_count: i64,
    discount_percentage: i64,
    eligible_date: String,
    expires_on: String,
    status: String,
    applied_at: Option<i64>,
    applied_subscription_id: Option<String>,
}

impl TryFrom<RewardRow> for Reward {
    type Error = Error;
    fn try_from(r: RewardRow) -> Result<Self> {
        Ok(Reward {
            id: uuid_of(&r.id)?,
            subscription_id: SubscriptionId::from_uuid(uuid_of(&r.subscription_id)?),
            client_id: ClientId::from_uuid(uuid_of(&r.client_id)?),
            attendance_count: u32::try_from(r.attendance_count.max(0)).unwrap_or(u32::MAX),
            discount: DiscountPercent::from_stored(cents(r.discount_percentage)),
            eligible_date: day(&r.eligible_date)?,
            expires_on: day(&r.expires_on)?,
            status: r.status.parse()?,
            applied_at: r.applied_at.map(instant).transpose()?,
            applied_subscription_id: r
                .applied_subscription_id
                .as_deref()
                .map(uuid_of)
                .transpose()?
                .map(SubscriptionId::from_uuid),
        })
    }
}

#[async_trait]
impl RewardRepository for SqliteTransaction {
    async fn attendance_days(
        &mut self,
        client: ClientId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "select count(distinct business_date) from attendances \
             where client_id = ?1 and business_date between ?2 and ?3",
        )
        .bind(client.as_uuid().to_string())
        .bind(day_text(from))
        .bind(day_text(to))
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
    }

    async fn reward_of_subscription(&mut self, id: SubscriptionId) -> Result<Option<Reward>> {
        let sql = format!("select {COLUMNS} from rewards where subscription_id = ?1");
        let row: Option<RewardRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid().to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.map(Reward::try_from).transpose()
    }

    async fn insert_reward_once(&mut self, r: &NewReward) -> Result<Reward> {
        let now = micros(Utc::now());
        // `on conflict (subscription_id) do nothing` skips only the one-reward-per-
        // subscription key (`insert or ignore` would swallow CHECK failures too).
        sqlx::query(
            "insert into rewards (id, subscription_id, client_id, attendance_count, \
             discount_percentage, eligible_date, expires_on, created_at, updated_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) \
             on conflict (subscription_id) do nothing",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(r.subscription_id.as_uuid().to_string())
        .bind(r.client_id.as_uuid().to_string())
        .bind(i64::from(r.attendance_count))
        .bind(hundredths("discount_percentage", r.discount.value())?)
        .bind(day_text(r.eligible_date))
        .bind(day_text(r.expires_on))
        .bind(now)
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        self.reward_of_subscription(r.subscription_id)
            .await?
            .ok_or(Error::NotFound { entity: "reward" })
    }

    async fn lock_reward(&mut self, id: Uuid) -> Result<Reward> {
        // No row lock: the IMMEDIATE transaction is already the file's only writer.
        let sql = format!("select {COLUMNS} from rewards where id = ?1");
        let row: RewardRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.to_string())
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
            "select {COLUMNS} from rewards where client_id = ?1 and status = 'pending' \
             and expires_on >= ?2 order by expires_on, id"
        );
        let rows: Vec<RewardRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(client.as_uuid().to_string())
            .bind(day_text(today))
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
            "update rewards set status = 'applied', applied_at = ?3, applied_subscription_id = ?2, \
             applied_by = ?4, updated_at = ?5 where id = ?1 and status = 'pending' \
             returning {COLUMNS}"
        );
        let row: Option<RewardRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(target.as_uuid().to_string())
            .bind(micros(at))
            .bind(by)
            .bind(micros(Utc::now()))
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.ok_or_else(|| Error::Conflict {
            reason: "the reward was already applied".into(),
        })?
        .try_into()
    }

    async fn set_final_price(&mut self, id: SubscriptionId, final_price: Money) -> Result<()> {
        sqlx::query("update subscriptions set final_price = ?2 where id = ?1")
            .bind(id.as_uuid().to_string())
            .bind(hundredths("final_price", final_price.amount())?)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::super::attendance::tests::{check_in, subscription};
    use super::super::testing::{admin, client, day, migrated, money};
    use super::*;
    use crate::domain::reward::RewardStatus;
    use crate::store::{Access, Store, StoreTransaction};

    #[tokio::test]
    async fn one_reward_per_subscription_applied_once() {
        let (store, _db) = migrated().await;
        let mut tx: Box<dyn StoreTransaction> = store.begin().await.unwrap();
        admin(&mut tx).await;
        let ana = client(&mut tx, "1001").await;
        let sub = subscription(&mut tx, &ana).await;
        for (d, h) in [("2026-03-02", 15), ("2026-03-03", 16)] {
            let at = Utc
                .with_ymd_and_hms(2026, 3, d[8..].parse().unwrap(), h, 0, 0)
                .unwrap();
            tx.insert_attendance(&check_in(&ana, &sub, at, d, None))
                .await
                .unwrap();
        }
        assert_eq!(
            tx.attendance_days(ana.id, day("2026-03-01"), day("2026-03-31"))
                .await
                .unwrap(),
            2
        );
        assert_eq!(tx.reward_of_subscription(sub.id).await.unwrap(), None);
        let new = NewReward {
            subscription_id: sub.id,
            client_id: ana.id,
            attendance_count: 2,
            discount: DiscountPercent::parse("12.5".parse().unwrap()).unwrap(),
            eligible_date: day("2026-03-31"),
            expires_on: day("2026-04-30"),
        };
        let reward = tx.insert_reward_once(&new).await.unwrap();
        assert_eq!(reward.status, RewardStatus::Pending);
        assert_eq!(reward.discount.value(), "12.5".parse().unwrap());
        // A second insert returns the stored reward, and stores nothing.
        let again = tx
            .insert_reward_once(&NewReward {
                attendance_count: 9,
                ..new.clone()
            })
            .await
            .unwrap();
        assert_eq!(again, reward);
        assert_eq!(
            tx.available_rewards(ana.id, day("2026-04-30"))
                .await
                .unwrap(),
            vec![reward.clone()]
        );
        assert!(
            tx.available_rewards(ana.id, day("2026-05-01"))
                .await
                .unwrap()
                .is_empty()
        );
        let at = Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0).unwrap();
        let applied = tx
            .mark_reward_applied(reward.id, sub.id, at, "admin")
            .await
            .unwrap();
        assert_eq!(
            (
                applied.status,
                applied.applied_at,
                applied.applied_subscription_id
            ),
            (RewardStatus::Applied, Some(at), Some(sub.id))
        );
        assert_eq!(tx.lock_reward(reward.id).await.unwrap(), applied);
        let err = tx
            .mark_reward_applied(reward.id, sub.id, at, "admin")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
        let err = tx.lock_reward(Uuid::new_v4()).await.unwrap_err();
        assert_eq!(err, Error::NotFound { entity: "reward" });
        tx.set_final_price(sub.id, money("87500")).await.unwrap();
        let (stored, _) = tx
            .subscription_with_paid(sub.id, Access::Read)
            .await
            .unwrap();
        assert_eq!(stored.price.final_price(), money("87500"));
    }
}
