//! Report use cases: the period statistics and the recent activity feed.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::records::{Activity, Actor, GymStatistics};
use crate::{Gym, Result};

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Everything the manager's dashboard shows between two business days (admins only).
    pub async fn statistics(
        &self,
        actor: Arc<Actor>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<GymStatistics> {
        Ok(self.0.statistics(&actor.actor, from, to).await?.into())
    }

    /// The latest check-ins, payments, registrations and sales of subscriptions, newest
    /// first.
    #[uniffi::method(default(limit = 20))]
    pub async fn recent_activity(&self, actor: Arc<Actor>, limit: u32) -> Result<Vec<Activity>> {
        let events = self.0.recent_activity(&actor.actor, limit).await?;
        Ok(events.into_iter().map(Into::into).collect())
    }
}
