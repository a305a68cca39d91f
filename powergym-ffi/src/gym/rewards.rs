//! Reward use cases: evaluate a subscription's attendance, list, apply.

use std::sync::Arc;

use powergym_core::{ClientId, SubscriptionId};
use uuid::Uuid;

use crate::records::{Actor, Reward, RewardEvaluation};
use crate::{Gym, Result};

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Evaluates a subscription's attendance and stores the reward it earned, once.
    pub async fn evaluate_reward(
        &self,
        actor: Arc<Actor>,
        subscription_id: SubscriptionId,
    ) -> Result<RewardEvaluation> {
        Ok(self
            .0
            .evaluate_reward(&actor.actor, subscription_id)
            .await?
            .into())
    }

    /// A client's rewards usable today, soonest expiry first.
    pub async fn available_rewards(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
    ) -> Result<Vec<Reward>> {
        let rewards = self.0.available_rewards(&actor.actor, client_id).await?;
        Ok(rewards.into_iter().map(Into::into).collect())
    }

    /// Applies a reward to a payable subscription of the same client.
    pub async fn apply_reward(
        &self,
        actor: Arc<Actor>,
        reward_id: Uuid,
        subscription_id: SubscriptionId,
    ) -> Result<Reward> {
        Ok(self
            .0
            .apply_reward(&actor.actor, reward_id, subscription_id)
            .await?
            .into())
    }
}
