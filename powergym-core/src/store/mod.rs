//! Repository traits: what the use cases need from storage, with no PostgreSQL types in
//! their signatures, so the embedded SQLite store can stand behind the same traits.
//!
//! Every use case runs in one [`StoreTransaction`]: it begins, calls repositories on the
//! transaction, and commits. Dropping a transaction without committing rolls it back, so
//! a failed call leaves nothing half-written.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::access::DenialReason;
use crate::domain::client::{Client, DocumentNumber, NewClient};
use crate::domain::ids::{ClientId, PlanId, SubscriptionId};
use crate::domain::money::{Currency, Money};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::payment::{Payment, PaymentMethod, PaymentStats, PriceSnapshot};
use crate::domain::plan::{NewPlan, Plan};
use crate::domain::staff::{Role, Staff};
use crate::domain::subscription::{Subscription, SubscriptionStatus};
use crate::error::Result;

pub(crate) mod constraints;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

/// A storage backend.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Starts a unit of work that may write.
    async fn begin(&self) -> Result<Box<dyn StoreTransaction>>;

    /// Starts a unit of work that only reads (lists, lookups, reports, face search
    /// without check-in): PostgreSQL's is `READ ONLY`; SQLite's begins `DEFERRED`, a WAL
    /// snapshot that never waits for a writer nor holds one up. Nothing may be written
    /// in it: PostgreSQL refuses the write, and on SQLite it would have to take the
    /// write lock late and could lose the race ([`Error::Contention`](crate::Error::Contention)).
    async fn begin_read(&self) -> Result<Box<dyn StoreTransaction>>;

    /// Closes every connection; later calls fail.
    async fn close(&self);

    /// True once [`Store::close`] ran.
    fn is_closed(&self) -> bool;

    /// Starts following face-template changes made by any process, from now on.
    async fn biometric_changes(&self) -> Result<Box<dyn BiometricChanges>>;

    /// True when this store already searches faces exactly in process (SQLite's
    /// gallery), so a search cache in front of it would only double the memory.
    fn searches_faces_in_process(&self) -> bool {
        false
    }

    /// What a face identification through the in-process cache reads, from one
    /// consistent state of the store: the acting account, the active templates changed
    /// since `changed_since`, and the current template of the member the cache
    /// proposes. It locks and writes nothing, so a store may answer it outside any
    /// transaction (PostgreSQL: one statement, one round trip).
    async fn face_identify_context(
        &self,
        actor: &str,
        changed_since: i64,
        member: Option<ClientId>,
    ) -> Result<FaceIdentifyContext> {
        let mut tx = self.begin_read().await?;
        let staff = tx.staff_credentials(actor).await?.map(|(s, _)| s);
        let changed = tx.face_templates_changed_since(changed_since).await?;
        let template = match member {
            Some(id) => tx.face_template(id).await?.map(|(_, e)| e),
            None => None,
        };
        Ok(FaceIdentifyContext {
            staff,
            changed,
            template,
        })
    }
}

/// What identifying a face through the cache reads ([`Store::face_identify_context`]).
#[derive(Clone)]
pub struct FaceIdentifyContext {
    /// The acting account, if it exists.
    pub staff: Option<Staff>,
    /// Active templates changed after the caller's mark.
    pub changed: Vec<(ClientId, crate::face::FaceEmbedding)>,
    /// The proposed member's current active template, when one was proposed and has one.
    pub template: Option<crate::face::FaceEmbedding>,
}

impl std::fmt::Debug for FaceIdentifyContext {
    // Templates stay out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceIdentifyContext")
            .field("changed", &self.changed.len())
            .field("template", &self.template.is_some())
            .finish_non_exhaustive()
    }
}

/// One event of a [`BiometricChanges`] feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BiometricChange {
    /// This member's template was enrolled, replaced or erased.
    Member(ClientId),
    /// Many templates were added or replaced at once (a bulk enrolment), none erased,
    /// the first of them at this change mark: read the templates changed since the
    /// cache's mark, or since just before this one if that is earlier (a writer's
    /// marks are taken at insert and may commit after later ones).
    Added(i64),
    /// Changes may have been missed (the connection was lost and re-established), or
    /// many templates may have been erased at once: reload everything.
    Resync,
}

/// Face-template changes as they commit, from every process sharing the store.
#[async_trait]
pub trait BiometricChanges: Send {
    /// Waits for the next change.
    async fn next(&mut self) -> Result<BiometricChange>;
}

/// A unit of work: all repositories, one atomic commit.
#[async_trait]
pub trait StoreTransaction:
    ClientRepository
    + StaffRepository
    + PlanRepository
    + SubscriptionRepository
    + PaymentRepository
    + AttendanceRepository
    + InventoryRepository
    + RewardRepository
    + ReportRepository
    + BiometricRepository
    + Send
{
    /// Makes every write of this unit of work durable, or none of them.
    async fn commit(self: Box<Self>) -> Result<()>;

    // The desk's combined first steps. Each reads the acting staff member's account
    // (none when it does not exist) and holds and reads what one use case decides on;
    // the caller applies the rules (`authorize`, `decide_access`, `accept_payment`,
    // stock) to what comes back. The defaults compose the finer-grained methods; a store
    // where a statement costs a round trip (PostgreSQL) answers each in one.

    /// The account of `actor`, and the member `member` names with their row locked
    /// ([`ClientRepository::lock_client`]) and what a check-in on `day` decides on, read
    /// after the lock. `None` for a member who does not exist.
    async fn check_in_context(
        &mut self,
        actor: &str,
        member: MemberRef<'_>,
        day: NaiveDate,
    ) -> Result<(Option<Staff>, Option<CheckInContext>)> {
        let staff = self.staff_credentials(actor).await?.map(|(s, _)| s);
        let id = match member {
            MemberRef::Id(id) => id,
            MemberRef::Document(number) => match self.client_by_document(number).await {
                Ok(client) => client.id,
                Err(crate::Error::NotFound { .. }) => return Ok((staff, None)),
                Err(e) => return Err(e),
            },
        };
        let client = match self.lock_client(id).await {
            Ok(client) => client,
            Err(crate::Error::NotFound { .. }) => return Ok((staff, None)),
            Err(e) => return Err(e),
        };
        let attended_today = self.has_attendance_on(id, day).await?;
        let subscriptions = self.client_subscriptions(id).await?;
        Ok((
            staff,
            Some(CheckInContext {
                client,
                attended_today,
                subscriptions,
            }),
        ))
    }

    /// The first statement of a face check-in: the account of `actor`, the active
    /// templates changed after `changed_since`, and, for the member the caller's cache
    /// proposes, [`check_in_context`](Self::check_in_context) and their template as it
    /// is once their row is locked.
    async fn face_check_in_context(
        &mut self,
        actor: &str,
        changed_since: i64,
        member: Option<ClientId>,
        day: NaiveDate,
    ) -> Result<FaceCheckInContext> {
        let staff = self.staff_credentials(actor).await?.map(|(s, _)| s);
        let changed = self.face_templates_changed_since(changed_since).await?;
        let member = match member {
            None => None,
            Some(id) => {
                let (_, context) = self.check_in_context(actor, MemberRef::Id(id), day).await?;
                match context {
                    None => None,
                    Some(context) => {
                        let template = self.face_template(id).await?.map(|(_, e)| e);
                        Some((context, template))
                    }
                }
            }
        };
        Ok(FaceCheckInContext {
            staff,
            changed,
            member,
        })
    }

    /// The account of `actor`, the subscription held for a payment
    /// ([`Access::ForUpdate`]) with its total paid read after the lock, and the payment
    /// already recorded under `key`, looked up after the lock too.
    async fn payment_context(
        &mut self,
        actor: &str,
        subscription: SubscriptionId,
        key: Option<&str>,
    ) -> Result<PaymentContext> {
        let staff = self.staff_credentials(actor).await?.map(|(s, _)| s);
        let subscription = match self
            .subscription_with_paid(subscription, Access::ForUpdate)
            .await
        {
            Ok(found) => Some(found),
            Err(crate::Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let first = match (&subscription, key) {
            (Some(_), Some(key)) => self.payment_by_idempotency_key(key).await?,
            _ => None,
        };
        Ok(PaymentContext {
            staff,
            subscription,
            first,
        })
    }

    /// Stores a payment and, when `status` is given, moves its subscription from the
    /// first status to the second ([`SubscriptionRepository::update_subscription_status`]).
    async fn insert_payment_with_status(
        &mut self,
        payment: &NewPayment,
        status: Option<(SubscriptionStatus, SubscriptionStatus)>,
    ) -> Result<Payment> {
        let stored = self.insert_payment(payment).await?;
        if let Some((from, to)) = status {
            self.update_subscription_status(payment.subscription_id, from, to)
                .await?;
        }
        Ok(stored)
    }

    /// The account of `actor` and the product held for a stock movement
    /// ([`Access::ForUpdate`]); `None` for a product that does not exist.
    async fn stock_context(
        &mut self,
        actor: &str,
        product: uuid::Uuid,
    ) -> Result<(Option<Staff>, Option<crate::domain::inventory::Product>)> {
        let staff = self.staff_credentials(actor).await?.map(|(s, _)| s);
        match self.product_by_id(product, Access::ForUpdate).await {
            Ok(found) => Ok((staff, Some(found))),
            Err(crate::Error::NotFound { .. }) => Ok((staff, None)),
            Err(e) => Err(e),
        }
    }
}

/// Which member a check-in names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRef<'a> {
    /// By id (chosen by staff, or matched by face).
    Id(ClientId),
    /// By document number (the document type is checked by the caller).
    Document(&'a DocumentNumber),
}

/// What a check-in decides on, read while the member's row is locked.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInContext {
    /// The member, as locked.
    pub client: Client,
    /// Whether they already have an attendance that business day.
    pub attended_today: bool,
    /// Every subscription of theirs with its total paid, newest first (as
    /// [`SubscriptionRepository::client_subscriptions`]).
    pub subscriptions: Vec<(Subscription, Money)>,
}

/// What the first statement of a face check-in reads
/// ([`StoreTransaction::face_check_in_context`]).
#[derive(Clone)]
pub struct FaceCheckInContext {
    /// The acting account, if it exists.
    pub staff: Option<Staff>,
    /// Active templates changed after the caller's mark.
    pub changed: Vec<(ClientId, crate::face::FaceEmbedding)>,
    /// The proposed member's check-in context and current template, when one was
    /// proposed and exists.
    pub member: Option<(CheckInContext, Option<crate::face::FaceEmbedding>)>,
}

impl std::fmt::Debug for FaceCheckInContext {
    // Templates and member data stay out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceCheckInContext")
            .field("changed", &self.changed.len())
            .field("member", &self.member.is_some())
            .finish_non_exhaustive()
    }
}

/// What the first statement of a payment reads ([`StoreTransaction::payment_context`]).
/// Its `Debug` shows ids only: the account carries a name and an e-mail, a payment
/// free-text notes.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentContext {
    /// The acting account, if it exists.
    pub staff: Option<Staff>,
    /// The subscription, locked, and its total paid; `None` when it does not exist.
    pub subscription: Option<(Subscription, Money)>,
    /// The payment already recorded under the caller's retry key.
    pub first: Option<Payment>,
}

impl std::fmt::Debug for PaymentContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentContext")
            .field("has_staff", &self.staff.is_some())
            .field(
                "subscription_id",
                &self.subscription.as_ref().map(|(s, _)| s.id),
            )
            .field("first_payment_id", &self.first.as_ref().map(|p| p.id))
            .finish()
    }
}

/// Why a record is read, so the store can hold it for as long as the reason needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// To look at it: nothing is held.
    Read,
    /// To decide a write on it in this transaction (a payment against a balance, a sale
    /// against the stock): no concurrent call may change it until the transaction ends.
    /// PostgreSQL locks the row; SQLite's write transaction already holds the database's
    /// only write lock.
    ForUpdate,
}

/// Which clients a list returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActiveFilter {
    /// Active and inactive clients.
    #[default]
    All,
    /// Active clients only.
    Active,
    /// Deactivated clients only.
    Inactive,
}

/// Storage of clients.
#[async_trait]
pub trait ClientRepository {
    /// Stores a new client. A document number already in use is
    /// [`Error::AlreadyExists`](crate::Error::AlreadyExists).
    async fn insert_client(&mut self, client: &NewClient, created_by: &str) -> Result<Client>;

    /// The client with this id, or [`Error::NotFound`](crate::Error::NotFound).
    async fn client_by_id(&mut self, id: ClientId) -> Result<Client>;

    /// The client with this id, its row locked until the transaction ends: changes,
    /// subscription creates, renewals and cancellations of one client run one at a time.
    async fn lock_client(&mut self, id: ClientId) -> Result<Client>;

    /// The client with this document number, or [`Error::NotFound`](crate::Error::NotFound).
    async fn client_by_document(&mut self, number: &DocumentNumber) -> Result<Client>;

    /// A page of clients, newest registration first.
    async fn list_clients(
        &mut self,
        filter: ActiveFilter,
        page: PageRequest,
    ) -> Result<Page<Client>>;

    /// Clients whose names, document or phone contain `folded` (already lower-cased and
    /// stripped of accents with `fold_for_search`), by last name.
    async fn search_clients(&mut self, folded: &str, page: PageRequest) -> Result<Page<Client>>;

    /// Rewrites a client's fields.
    async fn update_client(&mut self, id: ClientId, client: &NewClient) -> Result<Client>;

    /// Activates or deactivates a client.
    async fn set_client_active(&mut self, id: ClientId, active: bool) -> Result<Client>;
}

/// A validated new staff account.
#[derive(Clone, PartialEq, Eq)]
pub struct NewStaff {
    /// Login name (already validated).
    pub username: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Display name.
    pub full_name: Option<String>,
    /// Role.
    pub role: Role,
    /// argon2id PHC hash of the password.
    pub password_hash: String,
}

impl std::fmt::Debug for NewStaff {
    // The password hash and contact details stay out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewStaff")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Storage of staff accounts.
#[async_trait]
pub trait StaffRepository {
    /// Stores a new account; a taken username or e-mail is `AlreadyExists`.
    async fn insert_staff(&mut self, staff: &NewStaff) -> Result<Staff>;
    /// The account and its password hash, if the username exists.
    async fn staff_credentials(&mut self, username: &str) -> Result<Option<(Staff, String)>>;
    /// The account, locked until the transaction ends (`NotFound` when absent).
    async fn lock_staff(&mut self, username: &str) -> Result<Staff>;
    /// Locks every enabled admin account and returns how many there are, so two
    /// concurrent demotions cannot both pass the last-admin check.
    async fn lock_active_admins(&mut self) -> Result<u32>;
    /// Holds off concurrent account creation until the transaction ends (the first
    /// admin is created exactly once).
    async fn lock_staff_directory(&mut self) -> Result<()>;
    /// How many accounts exist.
    async fn count_staff(&mut self) -> Result<u64>;
    /// Changes the role.
    async fn set_staff_role(&mut self, username: &str, role: Role) -> Result<Staff>;
    /// Disables or enables.
    async fn set_staff_disabled(&mut self, username: &str, disabled: bool) -> Result<Staff>;
    /// Replaces the password hash.
    async fn set_staff_password(&mut self, username: &str, password_hash: &str) -> Result<()>;
    /// Deletes the account.
    async fn delete_staff(&mut self, username: &str) -> Result<()>;
    /// Every account, by username.
    async fn list_staff(&mut self) -> Result<Vec<Staff>>;
    /// Replaces the password hash only if it is still `old` (a hash upgraded at sign-in
    /// never overwrites a password changed meanwhile); false when it was not replaced.
    async fn upgrade_staff_password_hash(
        &mut self,
        username: &str,
        old: &str,
        new: &str,
    ) -> Result<bool>;
    /// The failed sign-ins of an account name (any name, whether or not an account has
    /// it), locked until the transaction ends so concurrent attempts count one by one;
    /// a name never seen has none.
    async fn lock_sign_in_throttle(&mut self, name: &str) -> Result<SignInThrottle>;
    /// Writes the failed sign-ins of a name locked by
    /// [`lock_sign_in_throttle`](Self::lock_sign_in_throttle).
    async fn save_sign_in_throttle(&mut self, name: &str, state: &SignInThrottle) -> Result<()>;
    /// Forgets a name's failed sign-ins (after a successful one).
    async fn clear_sign_in_throttle(&mut self, name: &str) -> Result<()>;
    /// Deletes the records of names whose last failure came before `before`, skipping
    /// any another transaction holds; returns how many went.
    async fn prune_sign_in_throttles(&mut self, before: DateTime<Utc>) -> Result<u64>;
}

/// The consecutive failed sign-ins of one account name, and its lock. The rules that
/// read and advance it are in `auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignInThrottle {
    /// Consecutive failures since the last success.
    pub failures: u32,
    /// Until when every sign-in under the name is refused.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the last failure happened.
    pub last_failure_at: Option<DateTime<Utc>>,
}

/// Storage of plans.
#[async_trait]
pub trait PlanRepository {
    /// Stores a new plan; a taken slug is `AlreadyExists`.
    async fn insert_plan(&mut self, plan: &NewPlan, created_by: &str) -> Result<Plan>;
    /// The plan with this id.
    async fn plan_by_id(&mut self, id: PlanId) -> Result<Plan>;
    /// The plan with this slug.
    async fn plan_by_slug(&mut self, slug: &str) -> Result<Plan>;
    /// A page of plans by name; only active ones when `active_only`.
    async fn list_plans(&mut self, active_only: bool, page: PageRequest) -> Result<Page<Plan>>;
    /// Activates or deactivates.
    async fn set_plan_active(&mut self, id: PlanId, active: bool) -> Result<Plan>;
    /// Writes a plan's name, description and price (sold subscriptions keep theirs).
    async fn save_plan(&mut self, plan: &Plan) -> Result<Plan>;
}

/// A subscription ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    /// Whose it is.
    pub client_id: ClientId,
    /// Which plan.
    pub plan_id: PlanId,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Initial status.
    pub status: SubscriptionStatus,
    /// Price fixed now.
    pub price: PriceSnapshot,
    /// Currency.
    pub currency: Currency,
    /// Who sold it.
    pub created_by: String,
}

/// What the daily jobs changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DailyJobCounts {
    /// Paid scheduled subscriptions whose start arrived, now active.
    pub activated: u64,
    /// Unpaid scheduled subscriptions whose start arrived, now pending payment.
    pub awaiting_payment: u64,
    /// Active subscriptions past their end, now expired.
    pub expired: u64,
    /// Subscriptions past their end that never became active (awaiting payment, or
    /// scheduled periods whose start the jobs never saw), now expired.
    pub expired_unpaid: u64,
    /// Pending rewards past their last day, now expired.
    pub expired_rewards: u64,
}

impl DailyJobCounts {
    /// The event a due period raises: its end passed, else its start arrived (a period
    /// that is over expires, whether or not it ever started).
    fn due_event(ended: bool) -> crate::domain::subscription::SubscriptionEvent {
        use crate::domain::subscription::SubscriptionEvent;
        if ended {
            SubscriptionEvent::EndDatePassed
        } else {
            SubscriptionEvent::StartDateReached
        }
    }

    /// Every move the daily jobs make, from the rules: the one table both stores take
    /// them from (PostgreSQL applies it in one statement, SQLite row by row). For each
    /// status and each event a due period can raise, the status it moves to, split by
    /// whether the period is paid in full only where the rules say that matters. A pair
    /// the rules refuse has no entry: such a row is not due. A due period has always
    /// started (one that is over began before it ended), so the rules see
    /// `start_reached`.
    pub(crate) fn due_moves() -> Vec<DueMove> {
        use crate::domain::subscription::{TransitionContext, transition};
        let mut moves = Vec::new();
        for from in SubscriptionStatus::ALL {
            for ended in [true, false] {
                let to = |fully_paid| {
                    let ctx = TransitionContext {
                        fully_paid,
                        start_reached: true,
                    };
                    transition(from, Self::due_event(ended), ctx)
                        .ok()
                        .filter(|to| *to != from)
                };
                let mut push = |fully_paid, to| {
                    moves.push(DueMove {
                        from,
                        ended,
                        fully_paid,
                        to,
                    })
                };
                match (to(true), to(false)) {
                    (Some(paid), Some(unpaid)) if paid == unpaid => push(None, paid),
                    (paid, unpaid) => {
                        if let Some(to) = paid {
                            push(Some(true), to);
                        }
                        if let Some(to) = unpaid {
                            push(Some(false), to);
                        }
                    }
                }
            }
        }
        moves
    }

    /// Counts `n` moves from `from` to `to`.
    pub(crate) fn add(&mut self, from: SubscriptionStatus, to: SubscriptionStatus, n: u64) {
        use SubscriptionStatus as S;
        match (from, to) {
            (S::Active, S::Expired) => self.expired += n,
            (_, S::Expired) => self.expired_unpaid += n,
            (_, S::Active) => self.activated += n,
            (_, S::PendingPayment) => self.awaiting_payment += n,
            _ => {}
        }
    }
}

/// One entry of [`DailyJobCounts::due_moves`]: a due subscription in `from`, whose
/// period is over (`ended`) or whose start arrived, moves to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DueMove {
    pub(crate) from: SubscriptionStatus,
    pub(crate) ended: bool,
    /// Whether the period must be paid in full (`Some(true)`) or not (`Some(false)`)
    /// for this move; `None` when the payments do not matter.
    pub(crate) fully_paid: Option<bool>,
    pub(crate) to: SubscriptionStatus,
}

impl DueMove {
    /// The move `moves` makes for a row in `from` whose period is over (`ended`) or whose
    /// start arrived, paid in full or not; `None` when it is not due. (SQLite moves row
    /// by row; PostgreSQL joins the table in SQL.)
    #[cfg(any(feature = "sqlite", test))]
    pub(crate) fn find(
        moves: &[DueMove],
        from: SubscriptionStatus,
        ended: bool,
        fully_paid: bool,
    ) -> Option<SubscriptionStatus> {
        moves
            .iter()
            .find(|m| {
                m.from == from && m.ended == ended && m.fully_paid.is_none_or(|p| p == fully_paid)
            })
            .map(|m| m.to)
    }

    /// The SQL condition true of exactly the rows `moves` concern: an entry's status
    /// with its period over (`end < today`), or with its start arrived and its period
    /// not over. Built from the table, so no store lists the due statuses itself; the
    /// statuses are inlined (`as_str()` constants), the columns and the day are the
    /// given expressions. `false` for an empty table.
    pub(crate) fn filter(
        moves: &[DueMove],
        status: &str,
        start: &str,
        end: &str,
        today: &str,
    ) -> String {
        let statuses = |ended: bool| {
            let mut names: Vec<String> = Vec::new();
            for m in moves.iter().filter(|m| m.ended == ended) {
                let name = format!("'{}'", m.from.as_str());
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            names.join(", ")
        };
        let mut parts = Vec::new();
        let over = statuses(true);
        if !over.is_empty() {
            parts.push(format!("({status} in ({over}) and {end} < {today})"));
        }
        let starting = statuses(false);
        if !starting.is_empty() {
            parts.push(format!(
                "({status} in ({starting}) and {end} >= {today} and {start} <= {today})"
            ));
        }
        if parts.is_empty() {
            "false".into()
        } else {
            format!("({})", parts.join(" or "))
        }
    }
}

/// Storage of subscriptions.
#[async_trait]
pub trait SubscriptionRepository {
    /// Stores a subscription; a period sharing a day with a live one is `Conflict`.
    async fn insert_subscription(&mut self, new: &NewSubscription) -> Result<Subscription>;
    /// The subscription and its total paid; [`Access::ForUpdate`] holds it until the
    /// transaction ends, and the total then counts every payment committed before.
    async fn subscription_with_paid(
        &mut self,
        id: SubscriptionId,
        access: Access,
    ) -> Result<(Subscription, Money)>;
    /// Every subscription of a client with its total paid, newest first.
    async fn client_subscriptions(
        &mut self,
        client: ClientId,
    ) -> Result<Vec<(Subscription, Money)>>;
    /// A page of all subscriptions, newest first, optionally of one status.
    async fn list_subscriptions(
        &mut self,
        status: Option<SubscriptionStatus>,
        page: PageRequest,
    ) -> Result<Page<Subscription>>;
    /// Moves a subscription from `from` to `to`; `Conflict` when it is no longer in
    /// `from` (a concurrent change won).
    async fn update_subscription_status(
        &mut self,
        id: SubscriptionId,
        from: SubscriptionStatus,
        to: SubscriptionStatus,
    ) -> Result<()>;
    /// Cancels a subscription that is in `from`.
    async fn cancel_subscription(
        &mut self,
        id: SubscriptionId,
        from: SubscriptionStatus,
        date: NaiveDate,
        reason: Option<&str>,
        by: &str,
    ) -> Result<Subscription>;
    /// The daily jobs for `today`, set-based, idempotent.
    async fn run_daily_jobs(&mut self, today: NaiveDate) -> Result<DailyJobCounts>;
}

/// A payment ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    /// The subscription paid for.
    pub subscription_id: SubscriptionId,
    /// Amount.
    pub amount: Money,
    /// Method.
    pub method: PaymentMethod,
    /// Who received it.
    pub received_by: String,
    /// Note.
    pub notes: Option<String>,
    /// The caller's retry key.
    pub idempotency_key: Option<String>,
    /// When it was received, by the gym's clock.
    pub payment_date: DateTime<Utc>,
}

/// Storage of payments.
#[async_trait]
pub trait PaymentRepository {
    /// The payment recorded under this retry key, if any.
    async fn payment_by_idempotency_key(&mut self, key: &str) -> Result<Option<Payment>>;
    /// Stores a payment.
    async fn insert_payment(&mut self, new: &NewPayment) -> Result<Payment>;
    /// A page of a subscription's payments, newest first.
    async fn subscription_payments(
        &mut self,
        id: SubscriptionId,
        page: PageRequest,
    ) -> Result<Page<Payment>>;
    /// A page of a client's payments, newest first.
    async fn client_payments(&mut self, id: ClientId, page: PageRequest) -> Result<Page<Payment>>;
    /// Totals for one subscription, or for all of a client's.
    async fn payment_stats(&mut self, scope: PaymentScope) -> Result<PaymentStats>;
}

/// Whose payments a statistic covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentScope {
    /// One subscription.
    Subscription(SubscriptionId),
    /// Every subscription of a client.
    Client(ClientId),
}

/// What storing a check-in did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttendanceInsert {
    /// The check-in was stored.
    Inserted(crate::domain::access::Attendance),
    /// The client already has a check-in on this business day; nothing was stored.
    AlreadyToday,
}

/// A check-in ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttendance {
    /// Who entered.
    pub client_id: ClientId,
    /// On which subscription.
    pub subscription_id: SubscriptionId,
    /// When.
    pub entry_time: DateTime<Utc>,
    /// The business day of `entry_time`.
    pub business_date: NaiveDate,
    /// How the client was identified.
    pub method: crate::domain::access::CheckInMethod,
    /// Who let them in.
    pub recorded_by: String,
    /// The caller's retry key.
    pub idempotency_key: Option<String>,
}

/// A refused check-in of an identified client, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDenial {
    /// Who was refused.
    pub client_id: ClientId,
    /// Why.
    pub reason: DenialReason,
    /// How the client was identified.
    pub method: crate::domain::access::CheckInMethod,
    /// When, by the gym's clock.
    pub occurred_at: DateTime<Utc>,
    /// The business day of `occurred_at`.
    pub business_date: NaiveDate,
    /// Who refused them.
    pub recorded_by: String,
    /// The caller's retry key.
    pub idempotency_key: Option<String>,
}

/// Storage of attendances and refused check-ins.
#[async_trait]
pub trait AttendanceRepository {
    /// Whether the client already checked in on this business day.
    async fn has_attendance_on(&mut self, client: ClientId, day: NaiveDate) -> Result<bool>;
    /// Stores a check-in, or stores nothing and answers
    /// [`AttendanceInsert::AlreadyToday`] when the client already has one on that
    /// business day. A reused idempotency key is still `AlreadyExists`.
    async fn insert_attendance(&mut self, new: &NewAttendance) -> Result<AttendanceInsert>;
    /// Records a refused check-in for reports.
    async fn insert_denial(
        &mut self,
        client: Option<ClientId>,
        reason: DenialReason,
        method: crate::domain::access::CheckInMethod,
        at: DateTime<Utc>,
        day: NaiveDate,
        by: &str,
    ) -> Result<()>;
    /// A page of attendances, newest first, of one client or of everyone, optionally
    /// within business days.
    async fn attendances(
        &mut self,
        client: Option<ClientId>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        page: PageRequest,
    ) -> Result<Page<crate::domain::access::Attendance>>;
    /// Holds off every other check-in under the same retry key until the transaction
    /// ends, so a retry finds the first call's attendance or refusal, whichever it was.
    async fn lock_check_in_key(&mut self, key: &str) -> Result<()>;
    /// The attendance recorded under this retry key, if any.
    async fn attendance_by_idempotency_key(
        &mut self,
        key: &str,
    ) -> Result<Option<crate::domain::access::Attendance>>;
    /// The refusal recorded under this retry key, if any: whom, why and how.
    async fn denial_by_idempotency_key(
        &mut self,
        key: &str,
    ) -> Result<Option<(ClientId, DenialReason, crate::domain::access::CheckInMethod)>>;
    /// Records a refused check-in, with its retry key.
    async fn insert_keyed_denial(&mut self, denial: &NewDenial) -> Result<()>;
    /// Refused check-ins per reason between two business days, inclusive.
    async fn denial_counts(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(DenialReason, u64)>>;
}

/// A stock movement ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMovement {
    /// The product.
    pub product_id: uuid::Uuid,
    /// In or out.
    pub movement_type: crate::domain::inventory::MovementType,
    /// Signed quantity.
    pub quantity: rust_decimal::Decimal,
    /// For a sale, the unit price now.
    pub unit_price: Option<Money>,
    /// Who made it.
    pub responsible: String,
    /// Note.
    pub notes: Option<String>,
    /// When it happened, by the gym's clock.
    pub movement_date: DateTime<Utc>,
    /// The caller's retry key.
    pub idempotency_key: Option<String>,
}

/// Storage of products and their movements.
#[async_trait]
pub trait InventoryRepository {
    /// Stores a new product (stock 0).
    async fn insert_product(
        &mut self,
        p: &crate::domain::inventory::NewProduct,
        by: &str,
    ) -> Result<crate::domain::inventory::Product>;
    /// The product; [`Access::ForUpdate`] holds it until the transaction ends.
    async fn product_by_id(
        &mut self,
        id: uuid::Uuid,
        access: Access,
    ) -> Result<crate::domain::inventory::Product>;
    /// Writes a product's editable fields.
    async fn save_product(
        &mut self,
        p: &crate::domain::inventory::Product,
    ) -> Result<crate::domain::inventory::Product>;
    /// A page of products by name, optionally active only and matching a search text.
    async fn list_products(
        &mut self,
        active_only: bool,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<crate::domain::inventory::Product>>;
    /// Holds off every other sale under the same retry key until the transaction ends,
    /// so a retry finds the first call's movement, whichever product it moved.
    async fn lock_sale_key(&mut self, key: &str) -> Result<()>;
    /// The movement recorded under this retry key, if any.
    async fn movement_by_idempotency_key(
        &mut self,
        key: &str,
    ) -> Result<Option<crate::domain::inventory::Movement>>;
    /// Records a movement; the database moves the stock in the same statement.
    async fn insert_movement(
        &mut self,
        m: &NewMovement,
    ) -> Result<crate::domain::inventory::Movement>;
    /// A page of movements, newest first, of one product or of all.
    async fn list_movements(
        &mut self,
        product: Option<uuid::Uuid>,
        page: PageRequest,
    ) -> Result<Page<crate::domain::inventory::Movement>>;
    /// Totals of a product's movements: (count, entered, exited, entries, exits, last).
    async fn movement_totals(
        &mut self,
        product: uuid::Uuid,
    ) -> Result<crate::domain::inventory::MovementTotals>;
    /// Movements per staff member between two instants, by username.
    async fn movements_by_staff(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<crate::domain::inventory::StaffMovements>>;
    /// Active products in one stock status, by name.
    async fn products_in_status(
        &mut self,
        status: crate::domain::inventory::StockStatus,
    ) -> Result<Vec<crate::domain::inventory::Product>>;
}

/// A reward ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReward {
    /// The earning subscription.
    pub subscription_id: SubscriptionId,
    /// Whose it is.
    pub client_id: ClientId,
    /// Distinct attendance days.
    pub attendance_count: u32,
    /// Its discount.
    pub discount: crate::domain::money::DiscountPercent,
    /// The day it was earned.
    pub eligible_date: NaiveDate,
    /// Last usable day.
    pub expires_on: NaiveDate,
}

/// Storage of rewards.
#[async_trait]
pub trait RewardRepository {
    /// Distinct business days with an attendance of `client` between two days, inclusive.
    async fn attendance_days(
        &mut self,
        client: ClientId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u32>;
    /// The reward earned by a subscription, if any.
    async fn reward_of_subscription(
        &mut self,
        id: SubscriptionId,
    ) -> Result<Option<crate::domain::reward::Reward>>;
    /// Stores a reward unless the subscription already has one; returns the stored one
    /// either way (one reward per earning subscription, even under races).
    async fn insert_reward_once(&mut self, r: &NewReward) -> Result<crate::domain::reward::Reward>;
    /// The reward, locked until commit.
    async fn lock_reward(&mut self, id: uuid::Uuid) -> Result<crate::domain::reward::Reward>;
    /// A client's pending rewards usable on `today`, soonest expiry first.
    async fn available_rewards(
        &mut self,
        client: ClientId,
        today: NaiveDate,
    ) -> Result<Vec<crate::domain::reward::Reward>>;
    /// Marks a reward applied to `target`.
    async fn mark_reward_applied(
        &mut self,
        id: uuid::Uuid,
        target: SubscriptionId,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<crate::domain::reward::Reward>;
    /// Writes a subscription's new final price (a reward's discount).
    async fn set_final_price(&mut self, id: SubscriptionId, final_price: Money) -> Result<()>;
}

/// The span a report covers: business days and the instants they begin and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPeriod {
    /// First business day.
    pub from: NaiveDate,
    /// Last business day.
    pub to: NaiveDate,
    /// The instant `from` begins in the gym's zone.
    pub starts_at: DateTime<Utc>,
    /// The instant after `to` ends.
    pub ends_before: DateTime<Utc>,
    /// Today's business day.
    pub today: NaiveDate,
    /// The gym's IANA zone, for local hours.
    pub zone: &'static str,
}

/// Reports computed in the store, set-based.
#[async_trait]
pub trait ReportRepository {
    /// Figures for a period (their derived ratios and alerts are left to the caller).
    async fn statistics(
        &mut self,
        period: &ReportPeriod,
    ) -> Result<crate::domain::report::GymStatistics>;
    /// Events since `since`, newest first, at most `limit`.
    async fn recent_activity(
        &mut self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<crate::domain::report::Activity>>;
}

/// A face template ready to store. Its id is chosen before the insert because the
/// encrypted thumbnail is bound to it.
#[derive(Clone)]
pub struct NewFaceTemplate {
    /// The biometric row's id.
    pub id: uuid::Uuid,
    /// Whose face.
    pub client_id: ClientId,
    /// The template.
    pub embedding: crate::face::FaceEmbedding,
    /// The thumbnail, already sealed for this row (see `ThumbnailKey::seal`).
    pub sealed_thumbnail: Option<Vec<u8>>,
    /// Staff member who enrolled it (none when enrolled outside a use case).
    pub enrolled_by: Option<String>,
    /// The member's consent in force, when the caller read it under the member's lock
    /// (a bulk enrolment): the store may then skip looking it up row by row. The store
    /// still refuses a consent that is withdrawn, or another member's. `None`: the
    /// store finds it.
    pub consent_id: Option<uuid::Uuid>,
}

impl std::fmt::Debug for NewFaceTemplate {
    // Biometric data stays out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewFaceTemplate")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// What a bulk enrolment needs to know of one member, read under their row lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaceEnrolee {
    /// The member.
    pub client_id: ClientId,
    /// Whether they are active.
    pub is_active: bool,
    /// The biometric consent in force, if any.
    pub consent: Option<uuid::Uuid>,
    /// Whether any biometric row (a template of any type, active or not) is stored for
    /// them: a bulk enrolment writes the rows of members without one before its
    /// duplicate check ends, since a late refusal then only deletes what it wrote.
    pub has_biometrics: bool,
}

/// Storage of biometric consents, face templates and their thumbnails, and the vector
/// search over them.
#[async_trait]
pub trait BiometricRepository {
    /// Records a consent; a member with one in force already gets `AlreadyExists`, a
    /// minor without a guardian `ConsentRequired`.
    async fn insert_consent(
        &mut self,
        consent: &crate::domain::consent::NewConsent,
        recorded_by: &str,
    ) -> Result<crate::domain::consent::BiometricConsent>;
    /// The consent in force for this member, if any. Not locked: a withdrawal racing an
    /// enrolment waits on the member's row, which the enrolment holds (migration 0017),
    /// and locking the consent too made a withdrawal that takes the consent first and
    /// the member second deadlock with it.
    async fn active_consent(
        &mut self,
        client: ClientId,
    ) -> Result<Option<crate::domain::consent::BiometricConsent>>;
    /// Every consent the member gave, newest first.
    async fn consents(
        &mut self,
        client: ClientId,
    ) -> Result<Vec<crate::domain::consent::BiometricConsent>>;
    /// Withdraws the consent in force and erases the member's templates and thumbnails
    /// with it. `None` when no consent was in force.
    async fn withdraw_consent(
        &mut self,
        client: ClientId,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<Option<crate::domain::consent::BiometricConsent>>;
    /// Serialises enrolments until the transaction ends, so two members cannot enrol
    /// the same face concurrently past each other's duplicate check.
    async fn lock_face_enrolment(&mut self) -> Result<()>;
    /// Deletes the member's templates and stores the new one, atomically.
    async fn replace_face_template(
        &mut self,
        template: &NewFaceTemplate,
    ) -> Result<crate::face::FaceTemplate>;
    /// Deletes every template and thumbnail of the member; returns how many rows went.
    async fn delete_face_templates(&mut self, client: ClientId) -> Result<u64>;
    /// Deletes templates this transaction wrote, `(row id, member)`, and every trace of
    /// them: what a bulk enrolment wrote for members it refused afterwards. On SQLite the
    /// change log's entries for those members after `written_after` (the change mark
    /// read in this transaction before it wrote them) go too, which is exact because
    /// the transaction is the file's only writer; PostgreSQL's change marks come from a
    /// sequence, whose gap names no one. Returns how many rows went.
    async fn discard_face_templates(
        &mut self,
        templates: &[(uuid::Uuid, ClientId)],
        written_after: i64,
    ) -> Result<u64>;
    /// The member's active template.
    async fn face_template(
        &mut self,
        client: ClientId,
    ) -> Result<Option<(crate::face::FaceTemplate, crate::face::FaceEmbedding)>>;
    /// The sealed thumbnail of the member's active template and the row id it is bound
    /// to.
    async fn sealed_thumbnail(&mut self, client: ClientId)
    -> Result<Option<(uuid::Uuid, Vec<u8>)>>;
    /// The `k` active templates nearest to `probe` within `max_distance` of it
    /// (`f32::INFINITY`: at any distance), nearest first, optionally skipping one member.
    /// Callers that decide by a threshold pass it: an in-process compact scan proves
    /// that answer in one pass.
    async fn nearest_faces(
        &mut self,
        probe: &crate::face::FaceEmbedding,
        k: usize,
        max_distance: f32,
        exclude: Option<ClientId>,
        search: crate::face::FaceSearch,
    ) -> Result<Vec<crate::face::ScoredCandidate>>;
    /// Hands every active template to `visit`, in client-id order, from one statement
    /// whose rows are streamed (never all held at once): what an in-process matcher
    /// loads. Returns how many were visited.
    async fn visit_face_templates(
        &mut self,
        visit: &mut (dyn FnMut(ClientId, crate::face::FaceEmbedding) + Send),
    ) -> Result<u64>;
    /// How many active face templates there are.
    async fn count_face_templates(&mut self) -> Result<u64>;
    /// Locks the rows of `clients` (in id order, the order every use case takes) and
    /// says, for each one found, whether they are active, have a consent in force and
    /// have any biometric row: the set-wise checks of a bulk enrolment. Unknown ids are
    /// left out.
    async fn lock_face_enrolees(&mut self, clients: &[ClientId]) -> Result<Vec<FaceEnrolee>>;
    /// Deletes the templates of these members and stores the new ones, in bulk
    /// (PostgreSQL: binary `COPY`; SQLite: one prepared insert). The caller has checked
    /// consent and locked the members; the store's own guards still hold.
    /// `progress` hears how many rows were sent so far.
    async fn insert_face_templates(
        &mut self,
        templates: &[NewFaceTemplate],
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64>;
    /// The newest template change committed so far (see migration 0011's
    /// `change_seq`); 0 when there is none.
    async fn face_change_mark(&mut self) -> Result<i64>;
    /// Active templates inserted or updated after `mark`, and how many there are.
    async fn face_templates_changed_since(
        &mut self,
        mark: i64,
    ) -> Result<Vec<(ClientId, crate::face::FaceEmbedding)>>;
    /// Each active template changed after `mark`, as `(member, template id)`, without
    /// its vector: a cache catching up after a bulk enrolment reads back only what it
    /// does not hold already (16 bytes a row, not 2 KB).
    async fn face_template_ids_changed_since(
        &mut self,
        mark: i64,
    ) -> Result<Vec<(ClientId, uuid::Uuid)>>;
    /// The active templates of these members, as stored now.
    async fn face_templates_of(
        &mut self,
        clients: &[ClientId],
    ) -> Result<Vec<(ClientId, crate::face::FaceEmbedding)>>;
    /// How many templates changed after `mark`.
    async fn count_face_changes_since(&mut self, mark: i64) -> Result<u64>;
    /// Records a face check-in that identified nobody.
    async fn insert_face_refusal(
        &mut self,
        refusal: crate::face::Unidentified,
        at: DateTime<Utc>,
        day: NaiveDate,
        by: &str,
    ) -> Result<()>;
}

#[cfg(test)]
mod daily_job_tests {
    use super::*;
    use crate::domain::subscription::{SubscriptionEvent, TransitionContext, transition};
    use SubscriptionStatus as S;

    /// The table says what the state machine says for every status, both events a due
    /// period raises and both payment verdicts; a refused or empty move is no entry.
    #[test]
    fn the_move_table_is_the_state_machine() {
        let table = DailyJobCounts::due_moves();
        for from in S::ALL {
            for ended in [true, false] {
                let event = if ended {
                    SubscriptionEvent::EndDatePassed
                } else {
                    SubscriptionEvent::StartDateReached
                };
                for paid in [true, false] {
                    let ctx = TransitionContext {
                        fully_paid: paid,
                        start_reached: true,
                    };
                    let rule = transition(from, event, ctx).ok().filter(|to| *to != from);
                    assert_eq!(
                        DueMove::find(&table, from, ended, paid),
                        rule,
                        "{from:?} ended={ended} paid={paid}"
                    );
                }
            }
        }
        // Today's rules: every live period that is over expires; a scheduled one whose
        // start arrived activates when paid in full, else waits for payment.
        assert_eq!(table.len(), 5);
        assert_eq!(table.iter().filter(|m| m.fully_paid.is_some()).count(), 2);
    }

    #[test]
    fn the_filter_names_each_event_by_its_dates() {
        let table = DailyJobCounts::due_moves();
        assert_eq!(
            DueMove::filter(&table, "st", "a", "b", "$1"),
            "((st in ('pending_payment', 'scheduled', 'active') and b < $1) or \
             (st in ('scheduled') and b >= $1 and a <= $1))"
        );
        assert_eq!(DueMove::filter(&[], "st", "a", "b", "$1"), "false");
    }
}
