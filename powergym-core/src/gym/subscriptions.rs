//! Subscription use cases: create, renew, cancel, read, and the daily jobs.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::ids::{ClientId, PlanId, SubscriptionId};
use crate::domain::money::DiscountPercent;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::payment::PriceSnapshot;
use crate::domain::plan::renewal_start;
use crate::domain::staff::{Action, Actor};
use crate::domain::subscription::{
    Period, Subscription, SubscriptionEvent, SubscriptionStatus, TransitionContext, daily_jobs_day,
    ensure_no_overlap, initial_status, transition,
};
use crate::error::{Error, Result};
use crate::gym::{Gym, retrying};
use crate::store::{Access, DailyJobCounts, NewSubscription, StoreTransaction};

/// A subscription sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionInput {
    /// The member.
    pub client_id: ClientId,
    /// The plan sold.
    pub plan_id: PlanId,
    /// First day; today when absent.
    pub start_date: Option<NaiveDate>,
    /// Purchase discount in percent, optional.
    pub discount_percentage: Option<Decimal>,
}

fn live_periods(subs: &[(Subscription, crate::domain::money::Money)]) -> Vec<Period> {
    subs.iter().map(|(s, _)| s.period()).collect()
}

/// What is being sold, once the start is known.
struct Sale {
    client_id: ClientId,
    plan_id: PlanId,
    start: NaiveDate,
    discount: Option<DiscountPercent>,
}

impl Gym {
    async fn sell(
        &self,
        tx: &mut dyn StoreTransaction,
        actor: &Actor,
        sale: Sale,
        today: NaiveDate,
    ) -> Result<Subscription> {
        let Sale {
            client_id,
            plan_id,
            start,
            discount,
        } = sale;
        let plan = tx.plan_by_id(plan_id).await?;
        if !plan.is_active {
            return Err(Error::Conflict {
                reason: "the plan is no longer sold; choose an active plan".into(),
            });
        }
        let end = plan.duration.end_date(start)?;
        if end < today {
            return Err(Error::validation(
                "start_date",
                "the whole period would lie in the past; choose a later start",
            ));
        }
        let price = PriceSnapshot::new(plan.price, discount);
        let status = initial_status(start, today, price.final_price().is_zero());
        let existing = tx.client_subscriptions(client_id).await?;
        ensure_no_overlap(&live_periods(&existing), &Period { start, end, status })?;
        tx.insert_subscription(&NewSubscription {
            client_id,
            plan_id,
            start_date: start,
            end_date: end,
            status,
            price,
            currency: plan.currency,
            created_by: actor.username().to_owned(),
        })
        .await
    }

    /// Sells a plan to a client. The period may not share a day with one of the client's
    /// live subscriptions (`Conflict`); a later start is `scheduled`, a free one that has
    /// started is `active` at once.
    pub async fn create_subscription(
        &self,
        actor: &Actor,
        input: SubscriptionInput,
    ) -> Result<Subscription> {
        self.bounded(async move {
            let discount = input
                .discount_percentage
                .map(DiscountPercent::parse)
                .transpose()?;
            retrying(|| async {
                let (_, today) = self.now();
                let mut tx = self.begin_as(actor, Action::ManageSubscriptions).await?;
                let client = tx.lock_client(input.client_id).await?;
                if !client.is_active {
                    return Err(Error::Conflict {
                        reason: "the client is inactive; reactivate them first".into(),
                    });
                }
                let start = input.start_date.unwrap_or(today);
                let sub = self
                    .sell(
                        tx.as_mut(),
                        actor,
                        Sale {
                            client_id: input.client_id,
                            plan_id: input.plan_id,
                            start,
                            discount,
                        },
                        today,
                    )
                    .await?;
                tx.commit().await?;
                Ok(sub)
            })
            .await
        })
        .await
    }

    /// Renews: a new period of the same plan (or `plan_id`) starting the day after the
    /// client's latest live period ends, or today when that is over.
    pub async fn renew_subscription(
        &self,
        actor: &Actor,
        id: SubscriptionId,
        plan_id: Option<PlanId>,
        discount_percentage: Option<Decimal>,
    ) -> Result<Subscription> {
        self.bounded(async move {
            let discount = discount_percentage
                .map(DiscountPercent::parse)
                .transpose()?;
            retrying(|| async {
                let (_, today) = self.now();
                let mut tx = self.begin_as(actor, Action::ManageSubscriptions).await?;
                let owner = tx
                    .subscription_with_paid(id, Access::Read)
                    .await?
                    .0
                    .client_id;
                let client = tx.lock_client(owner).await?;
                // Read again under the client's lock: a concurrent cancel has finished by now.
                let (old, _) = tx.subscription_with_paid(id, Access::Read).await?;
                if old.status == SubscriptionStatus::Canceled {
                    return Err(Error::Conflict {
                        reason: "a canceled subscription cannot be renewed; sell a new one".into(),
                    });
                }
                if !client.is_active {
                    return Err(Error::Conflict {
                        reason: "the client is inactive; reactivate them first".into(),
                    });
                }
                let existing = tx.client_subscriptions(old.client_id).await?;
                let latest_end = existing
                    .iter()
                    .filter(|(s, _)| s.status != SubscriptionStatus::Canceled)
                    .map(|(s, _)| s.end_date)
                    .max();
                let start = renewal_start(latest_end, today);
                let plan = plan_id.unwrap_or(old.plan_id);
                let sub = self
                    .sell(
                        tx.as_mut(),
                        actor,
                        Sale {
                            client_id: old.client_id,
                            plan_id: plan,
                            start,
                            discount,
                        },
                        today,
                    )
                    .await?;
                tx.commit().await?;
                Ok(sub)
            })
            .await
        })
        .await
    }

    /// Cancels a subscription (from `pending_payment`, `scheduled` or `active`); its
    /// days are freed for another sale. Payments stay recorded.
    pub async fn cancel_subscription(
        &self,
        actor: &Actor,
        id: SubscriptionId,
        reason: Option<&str>,
    ) -> Result<Subscription> {
        self.bounded(async move {
            let reason = crate::domain::text::CANCELLATION_REASON.parse_optional(reason)?;
            let reason = reason.as_deref();
            retrying(|| async {
                let (_, today) = self.now();
                let mut tx = self.begin_as(actor, Action::ManageSubscriptions).await?;
                let (sub, _) = tx.subscription_with_paid(id, Access::ForUpdate).await?;
                transition(
                    sub.status,
                    SubscriptionEvent::Cancel,
                    TransitionContext::default(),
                )?;
                let canceled = tx
                    .cancel_subscription(id, sub.status, today, reason, actor.username())
                    .await?;
                tx.commit().await?;
                Ok(canceled)
            })
            .await
        })
        .await
    }

    /// The subscription with this id.
    pub async fn subscription(&self, actor: &Actor, id: SubscriptionId) -> Result<Subscription> {
        self.bounded(async move {
            let mut tx = self
                .begin_read_as(actor, Action::ManageSubscriptions)
                .await?;
            Ok(tx.subscription_with_paid(id, Access::Read).await?.0)
        })
        .await
    }

    /// Every subscription of a client, newest first.
    pub async fn client_subscriptions(
        &self,
        actor: &Actor,
        client: ClientId,
    ) -> Result<Vec<Subscription>> {
        self.bounded(async move {
            let mut tx = self
                .begin_read_as(actor, Action::ManageSubscriptions)
                .await?;
            tx.client_by_id(client).await?;
            Ok(tx
                .client_subscriptions(client)
                .await?
                .into_iter()
                .map(|(s, _)| s)
                .collect())
        })
        .await
    }

    /// The client's subscription covering today that is active or awaiting payment, as
    /// the state machine sees it today.
    pub async fn current_subscription(
        &self,
        actor: &Actor,
        client: ClientId,
    ) -> Result<Option<Subscription>> {
        self.bounded(async move {
            let (_, today) = self.now();
            let mut tx = self
                .begin_read_as(actor, Action::ManageSubscriptions)
                .await?;
            tx.client_by_id(client).await?;
            let subs = tx.client_subscriptions(client).await?;
            Ok(subs.into_iter().find_map(|(s, paid)| {
                let covers = s.start_date <= today && today <= s.end_date;
                let live = matches!(
                    s.status_on(paid, today),
                    SubscriptionStatus::Active | SubscriptionStatus::PendingPayment
                );
                (covers && live).then_some(s)
            }))
        })
        .await
    }

    /// A page of all subscriptions, newest first, optionally of one status.
    pub async fn list_subscriptions(
        &self,
        actor: &Actor,
        status: Option<SubscriptionStatus>,
        page: PageRequest,
    ) -> Result<Page<Subscription>> {
        self.bounded(async move {
            let mut tx = self
                .begin_read_as(actor, Action::ManageSubscriptions)
                .await?;
            tx.list_subscriptions(status, page).await
        })
        .await
    }

    /// The daily jobs for `today` (admins only): paid scheduled periods that started
    /// become active, unpaid ones await payment, periods past their end expire, pending
    /// rewards past their last day expire. Idempotent: a second run the same day changes
    /// nothing. `today` may be a past day (catching up) but not a day after the gym's
    /// current business day by its calendar and clock (`Validation`, field `today`).
    ///
    /// A batch job, not a desk call: neither the call timeout nor the statement timeout
    /// bounds it (on a large gym it may take longer), only the lock timeout does. On
    /// PostgreSQL a run started while another is in progress does nothing and answers
    /// `Conflict`.
    pub async fn run_daily_jobs(&self, actor: &Actor, today: NaiveDate) -> Result<DailyJobCounts> {
        let today = daily_jobs_day(today, self.today())?;
        retrying(|| async {
            let mut tx = self.begin_as(actor, Action::RunDailyJobs).await?;
            let counts = tx.run_daily_jobs(today).await?;
            tx.commit().await?;
            tracing::info!(?counts, %today, "daily jobs ran");
            Ok(counts)
        })
        .await
    }
}
