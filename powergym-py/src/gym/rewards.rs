//! Attendance rewards: earned by coming often, applied as a discount on a later
//! subscription.

use uuid::Uuid;

use crate::types::args;
use crate::types::{Actor, Reward, RewardEvaluation};
use powergym_core as core;

use_cases! {
    /// Evaluates a subscription's attendance and stores the reward it earned, once;
    /// returns the attendance counted and the reward, if earned.
    fn evaluate_reward(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::subscription_id)] subscription_id: Uuid,
    ) -> RewardEvaluation {
        let actor = actor.0.clone();
        let id = core::SubscriptionId::from_uuid(subscription_id);
        async move { gym.evaluate_reward(&actor, id).await.map(RewardEvaluation::from) }
    }

    /// The client's rewards that can still be applied.
    fn available_rewards(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
    ) -> Vec<Reward> {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move {
            let rewards = gym.available_rewards(&actor, id).await?;
            Ok(rewards.into_iter().map(Reward::from).collect())
        }
    }

    /// Applies a reward to a payable subscription of the same client.
    fn apply_reward(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::reward_id)] reward_id: Uuid,
        #[pyo3(from_py_with = args::subscription_id)] subscription_id: Uuid,
    ) -> Reward {
        let actor = actor.0.clone();
        let target = core::SubscriptionId::from_uuid(subscription_id);
        async move { gym.apply_reward(&actor, reward_id, target).await.map(Reward::from) }
    }
}
