//! The plans the gym sells.

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::errors::to_py;
use crate::types::args;
use crate::types::{Actor, Plan, PlanPage};
use powergym_core as core;

use_cases! {
    /// Creates a plan (admins only).
    #[pyo3(signature = (
        actor, *, name, price, duration_unit, duration_count, slug = None, description = None,
        currency = None
    ))]
    fn create_plan(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::name)] name: String,
        #[pyo3(from_py_with = args::price)] price: Decimal,
        #[pyo3(from_py_with = args::duration_unit)] duration_unit: String,
        #[pyo3(from_py_with = args::duration_count)] duration_count: u32,
        #[pyo3(from_py_with = args::slug)] slug: Option<String>,
        #[pyo3(from_py_with = args::description)] description: Option<String>,
        #[pyo3(from_py_with = args::currency)] currency: Option<String>,
    ) -> Plan {
        let input = core::PlanInput {
            name,
            slug,
            description,
            price,
            currency,
            duration_unit: duration_unit.parse().map_err(to_py)?,
            duration_count,
        };
        let actor = actor.0.clone();
        async move { gym.create_plan(&actor, input).await.map(Plan::from) }
    }

    /// The plan with this id.
    fn get_plan(gym, actor: &Actor, #[pyo3(from_py_with = args::plan_id)] plan_id: Uuid) -> Plan {
        let actor = actor.0.clone();
        let id = core::PlanId::from_uuid(plan_id);
        async move { gym.plan(&actor, id).await.map(Plan::from) }
    }

    /// The plan with this slug (its stable short name, e.g. `monthly`).
    fn get_plan_by_slug(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::slug_value)] slug: String,
    ) -> Plan {
        let actor = actor.0.clone();
        async move { gym.plan_by_slug(&actor, &slug).await.map(Plan::from) }
    }

    /// A page of plans by name; `active_only` leaves out deactivated ones.
    #[pyo3(signature = (actor, *, active_only = false, limit = 100, offset = 0))]
    fn list_plans(
        gym,
        actor: &Actor,
        active_only: bool,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
    ) -> PlanPage {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let actor = actor.0.clone();
        async move { gym.list_plans(&actor, active_only, page).await.map(PlanPage::from) }
    }

    /// Changes a plan's name, description or price (admins only); subscriptions already
    /// sold keep the price they were sold at.
    #[pyo3(signature = (actor, plan_id, *, name = None, description = None, price = None))]
    fn update_plan(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::plan_id)] plan_id: Uuid,
        #[pyo3(from_py_with = args::optional_name)] name: Option<String>,
        #[pyo3(from_py_with = args::description)] description: Option<String>,
        #[pyo3(from_py_with = args::optional_price)] price: Option<Decimal>,
    ) -> Plan {
        let update = core::PlanUpdate {
            name,
            description,
            price,
        };
        let actor = actor.0.clone();
        let id = core::PlanId::from_uuid(plan_id);
        async move { gym.update_plan(&actor, id, update).await.map(Plan::from) }
    }

    /// Stops selling a plan (admins only); what was sold stays valid.
    fn deactivate_plan(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::plan_id)] plan_id: Uuid,
    ) -> Plan {
        let actor = actor.0.clone();
        let id = core::PlanId::from_uuid(plan_id);
        async move { gym.deactivate_plan(&actor, id).await.map(Plan::from) }
    }
}
