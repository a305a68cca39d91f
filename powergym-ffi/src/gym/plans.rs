//! Plan use cases: create, read, list, change, stop selling.

use std::sync::Arc;

use powergym_core as core;
use powergym_core::PlanId;

use crate::records::{Actor, Plan, PlanInput, PlanPage, PlanUpdate};
use crate::{Gym, Result};

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Creates a plan (admins only).
    pub async fn create_plan(&self, actor: Arc<Actor>, input: PlanInput) -> Result<Plan> {
        Ok(self.0.create_plan(&actor.actor, input.into()).await?.into())
    }

    /// The plan with this id.
    pub async fn get_plan(&self, actor: Arc<Actor>, id: PlanId) -> Result<Plan> {
        Ok(self.0.plan(&actor.actor, id).await?.into())
    }

    /// The plan with this slug.
    pub async fn get_plan_by_slug(&self, actor: Arc<Actor>, slug: String) -> Result<Plan> {
        Ok(self.0.plan_by_slug(&actor.actor, &slug).await?.into())
    }

    /// A page of plans by name; only those on sale with `activeOnly`.
    #[uniffi::method(default(active_only = true, limit = 100, offset = 0))]
    pub async fn list_plans(
        &self,
        actor: Arc<Actor>,
        active_only: bool,
        limit: u32,
        offset: u64,
    ) -> Result<PlanPage> {
        let page = core::PageRequest::new(limit, offset)?;
        Ok(self
            .0
            .list_plans(&actor.actor, active_only, page)
            .await?
            .into())
    }

    /// Changes a plan's name, description or price (admins only); subscriptions already
    /// sold keep their price.
    pub async fn update_plan(
        &self,
        actor: Arc<Actor>,
        id: PlanId,
        update: PlanUpdate,
    ) -> Result<Plan> {
        Ok(self
            .0
            .update_plan(&actor.actor, id, update.into())
            .await?
            .into())
    }

    /// Stops selling a plan (admins only); subscriptions already sold are unchanged.
    pub async fn deactivate_plan(&self, actor: Arc<Actor>, id: PlanId) -> Result<Plan> {
        Ok(self.0.deactivate_plan(&actor.actor, id).await?.into())
    }
}
