//! Subscription use cases: sell, renew, cancel, read, list, and the daily jobs.

use std::sync::Arc;

use chrono::NaiveDate;
use powergym_core as core;
use powergym_core::{ClientId, PlanId, SubscriptionId, SubscriptionStatus};
use rust_decimal::Decimal;

use crate::records::{Actor, DailyJobCounts, Subscription, SubscriptionPage};
use crate::{Gym, Result};

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Sells a plan to a client, starting today or on `startDate`, with an optional
    /// purchase discount in percent.
    #[uniffi::method(default(start_date = None, discount_percentage = None))]
    pub async fn create_subscription(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
        plan_id: PlanId,
        start_date: Option<NaiveDate>,
        discount_percentage: Option<Decimal>,
    ) -> Result<Subscription> {
        let input = core::SubscriptionInput {
            client_id,
            plan_id,
            start_date,
            discount_percentage,
        };
        Ok(self
            .0
            .create_subscription(&actor.actor, input)
            .await?
            .into())
    }

    /// Sells the next period after the client's latest one, of the same plan or of
    /// `planId`, with an optional discount in percent.
    #[uniffi::method(default(plan_id = None, discount_percentage = None))]
    pub async fn renew_subscription(
        &self,
        actor: Arc<Actor>,
        id: SubscriptionId,
        plan_id: Option<PlanId>,
        discount_percentage: Option<Decimal>,
    ) -> Result<Subscription> {
        Ok(self
            .0
            .renew_subscription(&actor.actor, id, plan_id, discount_percentage)
            .await?
            .into())
    }

    /// Cancels a subscription, with an optional reason.
    #[uniffi::method(default(reason = None))]
    pub async fn cancel_subscription(
        &self,
        actor: Arc<Actor>,
        id: SubscriptionId,
        reason: Option<String>,
    ) -> Result<Subscription> {
        Ok(self
            .0
            .cancel_subscription(&actor.actor, id, reason.as_deref())
            .await?
            .into())
    }

    /// The subscription with this id.
    pub async fn get_subscription(
        &self,
        actor: Arc<Actor>,
        id: SubscriptionId,
    ) -> Result<Subscription> {
        Ok(self.0.subscription(&actor.actor, id).await?.into())
    }

    /// Every subscription of a client.
    pub async fn client_subscriptions(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
    ) -> Result<Vec<Subscription>> {
        let subs = self.0.client_subscriptions(&actor.actor, client_id).await?;
        Ok(subs.into_iter().map(Into::into).collect())
    }

    /// The client's subscription covering today, if any.
    pub async fn current_subscription(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
    ) -> Result<Option<Subscription>> {
        Ok(self
            .0
            .current_subscription(&actor.actor, client_id)
            .await?
            .map(Into::into))
    }

    /// A page of subscriptions, of one status or of all.
    #[uniffi::method(default(status = None, limit = 100, offset = 0))]
    pub async fn list_subscriptions(
        &self,
        actor: Arc<Actor>,
        status: Option<SubscriptionStatus>,
        limit: u32,
        offset: u64,
    ) -> Result<SubscriptionPage> {
        let page = core::PageRequest::new(limit, offset)?;
        Ok(self
            .0
            .list_subscriptions(&actor.actor, status, page)
            .await?
            .into())
    }

    /// Runs the daily jobs for `today` (admins only); running twice changes nothing more.
    pub async fn run_daily_jobs(
        &self,
        actor: Arc<Actor>,
        today: NaiveDate,
    ) -> Result<DailyJobCounts> {
        Ok(self.0.run_daily_jobs(&actor.actor, today).await?.into())
    }
}
