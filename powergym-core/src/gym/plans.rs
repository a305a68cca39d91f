//! Plan use cases.

use crate::domain::ids::PlanId;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::plan::{NewPlan, Plan, PlanInput, PlanUpdate, parse_slug};
use crate::domain::staff::{Action, Actor};
use crate::error::Result;
use crate::gym::Gym;

impl Gym {
    /// Creates a plan (admins only).
    pub async fn create_plan(&self, actor: &Actor, input: PlanInput) -> Result<Plan> {
        self.bounded(async move {
            let new = NewPlan::parse(input)?;
            let mut tx = self.begin_as(actor, Action::ManagePlans).await?;
            let plan = tx.insert_plan(&new, actor.username()).await?;
            tx.commit().await?;
            Ok(plan)
        })
        .await
    }

    /// The plan with this id.
    pub async fn plan(&self, actor: &Actor, id: PlanId) -> Result<Plan> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ReadPlans).await?;
            tx.plan_by_id(id).await
        })
        .await
    }

    /// The plan with this slug; a malformed slug is refused (`Validation`) before it
    /// reaches the database.
    pub async fn plan_by_slug(&self, actor: &Actor, slug: &str) -> Result<Plan> {
        self.bounded(async move {
            let slug = parse_slug(slug)?;
            let mut tx = self.begin_read_as(actor, Action::ReadPlans).await?;
            tx.plan_by_slug(&slug).await
        })
        .await
    }

    /// A page of plans by name.
    pub async fn list_plans(
        &self,
        actor: &Actor,
        active_only: bool,
        page: PageRequest,
    ) -> Result<Page<Plan>> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ReadPlans).await?;
            tx.list_plans(active_only, page).await
        })
        .await
    }

    /// Changes a plan's name, description or price (admins only); subscriptions already
    /// sold keep their price snapshot.
    pub async fn update_plan(&self, actor: &Actor, id: PlanId, update: PlanUpdate) -> Result<Plan> {
        self.bounded(async move {
            let mut tx = self.begin_as(actor, Action::ManagePlans).await?;
            let current = tx.plan_by_id(id).await?;
            let plan = tx.save_plan(&update.apply_to(&current)?).await?;
            tx.commit().await?;
            Ok(plan)
        })
        .await
    }

    /// Stops selling a plan (admins only); existing subscriptions keep their price
    /// snapshot.
    pub async fn deactivate_plan(&self, actor: &Actor, id: PlanId) -> Result<Plan> {
        self.bounded(async move {
            let mut tx = self.begin_as(actor, Action::ManagePlans).await?;
            let plan = tx.set_plan_active(id, false).await?;
            tx.commit().await?;
            Ok(plan)
        })
        .await
    }
}
