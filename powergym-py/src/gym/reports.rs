//! The manager's reports.

use chrono::NaiveDate;

use crate::types::args;
use crate::types::{Activity, Actor, Statistics};

use_cases! {
    /// The gym's statistics between two business days, inclusive (admins only).
    fn statistics(gym, actor: &Actor, #[pyo3(from_py_with = args::start)] start: NaiveDate, #[pyo3(from_py_with = args::end)] end: NaiveDate) -> Statistics {
        let actor = actor.0.clone();
        async move { gym.statistics(&actor, start, end).await.map(Statistics::from) }
    }

    /// What happened in the last 24 hours, newest first: check-ins, payments,
    /// registrations and sales of subscriptions (`limit` 1 to 50).
    #[pyo3(signature = (actor, *, limit = 20))]
    fn recent_activity(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::limit)] limit: u32,
    ) -> Vec<Activity> {
        let actor = actor.0.clone();
        async move {
            let events = gym.recent_activity(&actor, limit).await?;
            Ok(events.into_iter().map(Activity::from).collect())
        }
    }
}
