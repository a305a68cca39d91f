//! Subscriptions: sold, renewed, cancelled, listed, and the daily jobs that move them
//! along their states.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::errors::to_py;
use crate::types::args;
use crate::types::{Actor, DailyJobResult, Subscription, SubscriptionPage};
use powergym_core as core;

use_cases! {
    /// Sells a plan to a client.
    #[pyo3(signature = (actor, *, client_id, plan_id, start_date = None, discount_percentage = None))]
    fn create_subscription(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
        #[pyo3(from_py_with = args::plan_id)] plan_id: Uuid,
        #[pyo3(from_py_with = args::start_date)] start_date: Option<NaiveDate>,
        #[pyo3(from_py_with = args::discount_percentage)] discount_percentage: Option<Decimal>,
    ) -> Subscription {
        let input = core::SubscriptionInput {
            client_id: core::ClientId::from_uuid(client_id),
            plan_id: core::PlanId::from_uuid(plan_id),
            start_date,
            discount_percentage,
        };
        let actor = actor.0.clone();
        async move { gym.create_subscription(&actor, input).await.map(Subscription::from) }
    }

    /// Renews: a new period of the same plan (or `plan_id`) starting the day after the
    /// client's latest live period ends, or today when that is over.
    #[pyo3(signature = (actor, subscription_id, *, plan_id = None, discount_percentage = None))]
    fn renew_subscription(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::subscription_id)] subscription_id: Uuid,
        #[pyo3(from_py_with = args::optional_plan_id)] plan_id: Option<Uuid>,
        #[pyo3(from_py_with = args::discount_percentage)] discount_percentage: Option<Decimal>,
    ) -> Subscription {
        let actor = actor.0.clone();
        let id = core::SubscriptionId::from_uuid(subscription_id);
        let plan = plan_id.map(core::PlanId::from_uuid);
        async move {
            gym.renew_subscription(&actor, id, plan, discount_percentage)
                .await
                .map(Subscription::from)
        }
    }

    /// Cancels a subscription (admins only), with an optional reason kept with it.
    #[pyo3(signature = (actor, subscription_id, *, reason = None))]
    fn cancel_subscription(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::subscription_id)] subscription_id: Uuid,
        #[pyo3(from_py_with = args::reason)] reason: Option<String>,
    ) -> Subscription {
        let actor = actor.0.clone();
        let id = core::SubscriptionId::from_uuid(subscription_id);
        async move {
            gym.cancel_subscription(&actor, id, reason.as_deref())
                .await
                .map(Subscription::from)
        }
    }

    /// The subscription with this id.
    fn get_subscription(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::subscription_id)] subscription_id: Uuid,
    ) -> Subscription {
        let actor = actor.0.clone();
        let id = core::SubscriptionId::from_uuid(subscription_id);
        async move { gym.subscription(&actor, id).await.map(Subscription::from) }
    }

    /// Every subscription of a client, newest first.
    fn client_subscriptions(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
    ) -> Vec<Subscription> {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move {
            let all = gym.client_subscriptions(&actor, id).await?;
            Ok(all.into_iter().map(Subscription::from).collect())
        }
    }

    /// The client's subscription covering today that is active or awaiting payment, if
    /// any.
    fn current_subscription(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
    ) -> Option<Subscription> {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move {
            Ok(gym
                .current_subscription(&actor, id)
                .await?
                .map(Subscription::from))
        }
    }

    /// A page of subscriptions, newest first; `status` filters by state when given.
    #[pyo3(signature = (actor, *, status = None, limit = 100, offset = 0))]
    fn list_subscriptions(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::status)] status: Option<String>,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
    ) -> SubscriptionPage {
        let status: Option<core::SubscriptionStatus> =
            status.map(|s| s.parse()).transpose().map_err(to_py)?;
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let actor = actor.0.clone();
        async move {
            gym.list_subscriptions(&actor, status, page)
                .await
                .map(SubscriptionPage::from)
        }
    }

    /// Runs the daily jobs for `today` (admins only): starts, expires and flags
    /// subscriptions and expires rewards; returns what changed.
    fn run_daily_jobs(gym, actor: &Actor, #[pyo3(from_py_with = args::today)] today: NaiveDate) -> DailyJobResult {
        let actor = actor.0.clone();
        async move { gym.run_daily_jobs(&actor, today).await.map(DailyJobResult::from) }
    }
}
