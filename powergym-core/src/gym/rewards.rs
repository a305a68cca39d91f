//! Reward use cases: evaluate, list available, apply.

use uuid::Uuid;

use crate::domain::ids::{ClientId, SubscriptionId};
use crate::domain::reward::{
    EarningSubscription, Reward, RewardDecision, RewardView, TargetSubscription, apply_reward,
    attendance_window, evaluate_reward,
};
use crate::domain::staff::{Action, Actor};
use crate::domain::subscription::{SubscriptionEvent, TransitionContext, transition};
use crate::error::Result;
use crate::gym::{Gym, retrying};
use crate::store::{Access, NewReward};

/// The verdict on a subscription's attendance, with the reward it earned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardEvaluation {
    /// Distinct attendance days counted in the window.
    pub attendance_count: u32,
    /// The reward earned (now or before); `None` while not earned.
    pub reward: Option<Reward>,
}

impl Gym {
    /// Evaluates a subscription's attendance and stores the reward it earned, once: a
    /// subscription that already earned one gets the same one back.
    pub async fn evaluate_reward(
        &self,
        actor: &Actor,
        subscription: SubscriptionId,
    ) -> Result<RewardEvaluation> {
        self.bounded(async move {
            retrying(|| async {
                let (_, today) = self.now();
                let mut tx = self.begin_as(actor, Action::ManageRewards).await?;
                let (sub, _) = tx
                    .subscription_with_paid(subscription, Access::Read)
                    .await?;
                if let Some(existing) = tx.reward_of_subscription(subscription).await? {
                    return Ok(RewardEvaluation {
                        attendance_count: existing.attendance_count,
                        reward: Some(existing),
                    });
                }
                let plan = tx.plan_by_id(sub.plan_id).await?;
                let earning = EarningSubscription {
                    status: sub.status,
                    unit: plan.duration.unit(),
                    start: sub.start_date,
                    end: sub.end_date,
                };
                let days = match attendance_window(&earning, today) {
                    Some((from, to)) => tx.attendance_days(sub.client_id, from, to).await?,
                    None => 0,
                };
                let evaluation = match evaluate_reward(&self.rewards, &earning, days, today)? {
                    RewardDecision::NotEligible { attendance_count } => RewardEvaluation {
                        attendance_count,
                        reward: None,
                    },
                    RewardDecision::Eligible {
                        attendance_count,
                        eligible_date,
                        expires_on,
                        discount,
                    } => {
                        let reward = tx
                            .insert_reward_once(&NewReward {
                                subscription_id: sub.id,
                                client_id: sub.client_id,
                                attendance_count,
                                discount,
                                eligible_date,
                                expires_on,
                            })
                            .await?;
                        RewardEvaluation {
                            attendance_count,
                            reward: Some(reward),
                        }
                    }
                };
                tx.commit().await?;
                Ok(evaluation)
            })
            .await
        })
        .await
    }

    /// A client's rewards usable today, soonest expiry first.
    pub async fn available_rewards(&self, actor: &Actor, client: ClientId) -> Result<Vec<Reward>> {
        self.bounded(async move {
            let (_, today) = self.now();
            let mut tx = self.begin_read_as(actor, Action::ManageRewards).await?;
            tx.client_by_id(client).await?;
            tx.available_rewards(client, today).await
        })
        .await
    }

    /// Applies a reward to a payable subscription of the same client: its price snapshot
    /// gets the reward's discount, exactly once. Both rows are locked (reward first), so
    /// concurrent applications of one reward succeed once.
    pub async fn apply_reward(
        &self,
        actor: &Actor,
        reward: Uuid,
        target: SubscriptionId,
    ) -> Result<Reward> {
        self.bounded(async move {
            retrying(|| async {
                let (now, today) = self.now();
                let mut tx = self.begin_as(actor, Action::ManageRewards).await?;
                let stored = tx.lock_reward(reward).await?;
                let (sub, paid) = tx.subscription_with_paid(target, Access::ForUpdate).await?;
                let view = RewardView {
                    status: stored.status,
                    client_id: stored.client_id,
                    expires_on: stored.expires_on,
                    discount: stored.discount,
                };
                let status = sub.status_on(paid, today);
                let target_view = TargetSubscription {
                    client_id: sub.client_id,
                    status,
                    price: sub.price,
                    paid,
                };
                let price = apply_reward(&view, &target_view, today)?;
                tx.set_final_price(sub.id, price.final_price()).await?;
                // The discount may leave the subscription fully paid.
                let ctx = TransitionContext {
                    fully_paid: price.balance(paid).is_zero(),
                    start_reached: sub.start_date <= today,
                };
                let next = transition(status, SubscriptionEvent::Pay, ctx)?;
                if next != sub.status {
                    tx.update_subscription_status(sub.id, sub.status, next)
                        .await?;
                }
                let applied = tx
                    .mark_reward_applied(reward, sub.id, now, actor.username())
                    .await?;
                tx.commit().await?;
                Ok(applied)
            })
            .await
        })
        .await
    }
}
