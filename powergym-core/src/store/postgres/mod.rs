//! The PostgreSQL + pgvector store: sqlx runtime queries into private row structs,
//! converted to domain types at the edge.

use std::fmt;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::Postgres;

use crate::domain::ids::{ClientId, SubscriptionId};
use crate::domain::inventory::Product;
use crate::domain::payment::Payment;
use crate::domain::staff::Staff;
use crate::domain::subscription::SubscriptionStatus;
use crate::error::Result;
use crate::store::{
    BiometricChange, BiometricChanges, CheckInContext, FaceCheckInContext, FaceIdentifyContext,
    MemberRef, NewPayment, PaymentContext, Store, StoreTransaction,
};
use sqlx::postgres::PgListener;

pub use face_matcher::PgVectorMatcher;

pub(crate) mod adopt;
mod attendance;
mod biometrics;
mod clients;
mod desk;
pub(crate) mod errors;
mod face_matcher;
mod inventory;
pub(crate) mod ops;
mod payments;
mod plans;
mod reports;
mod rewards;
mod staff;
mod subscriptions;

/// One page of rows converted to domain records, with the total count of matches.
pub(crate) fn page_of<R, T>(
    rows: Vec<R>,
    total: i64,
    page: crate::domain::paging::PageRequest,
) -> Result<crate::domain::paging::Page<T>>
where
    T: TryFrom<R, Error = crate::error::Error>,
{
    Ok(crate::domain::paging::Page {
        items: rows.into_iter().map(T::try_from).collect::<Result<_>>()?,
        total: total.max(0) as u64,
        limit: page.limit(),
        offset: page.offset(),
    })
}

/// PostgreSQL storage over a connection pool.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Uses an existing pool (the host application's, or one from [`crate::Gym::connect`]).
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// A connection from the pool. Most calls get an idle one at once. When the pool is
    /// still waiting after a moment and could be opening a connection, the server is
    /// asked directly, once: a refused connection or a wrong password is then reported
    /// at once instead of after the whole acquire timeout (the pool retries a refused
    /// connection until then), while a slow but working server is simply waited for.
    pub(crate) async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<Postgres>> {
        let acquire = self.pool.acquire();
        tokio::pin!(acquire);
        if let Ok(done) = tokio::time::timeout(PROBE_AFTER, &mut acquire).await {
            return done.map_err(errors::map);
        }
        if self.pool.size() < self.pool.options().get_max_connections() {
            use sqlx::Connection;
            let options = self.pool.connect_options();
            let probe = sqlx::PgConnection::connect_with(&options);
            tokio::select! {
                done = &mut acquire => return done.map_err(errors::map),
                probed = probe => match probed {
                    Err(e) => return Err(errors::map(e)),
                    Ok(conn) => {
                        let _ = conn.close().await;
                    }
                },
            }
        }
        acquire.await.map_err(errors::map)
    }
}

impl PgStore {
    /// Runs one read-only statement outside any transaction on a pooled connection; a
    /// connection found dead is replaced and the statement sent again, as `begin_with`
    /// does for its `BEGIN`. Only for statements that write nothing: a connection can
    /// die after the server ran what it was sent, and a write would then run twice.
    pub(crate) async fn on_live_connection<T>(
        &self,
        mut statement: impl for<'c> FnMut(
            &'c mut sqlx::pool::PoolConnection<Postgres>,
        ) -> futures::future::BoxFuture<'c, sqlx::Result<T>>,
    ) -> Result<T> {
        let mut tries = self.pool.options().get_max_connections() + 1;
        loop {
            let mut conn = self.acquire().await?;
            match statement(&mut conn).await {
                Ok(done) => return Ok(done),
                Err(e) if tries > 1 && is_dead_connection(&e) => {
                    tracing::debug!("a pooled connection was dead; using another");
                    tries -= 1;
                }
                Err(e) => return Err(errors::map(e)),
            }
        }
    }

    /// A transaction on a pooled connection, opened by `begin` (a `BEGIN` naming the
    /// transaction's characteristics, so they cost no statement of their own).
    ///
    /// A pooled connection is handed out without a check unless it sat idle for a while
    /// (`PoolSettings::test_before_acquire`), so the `BEGIN` is the first to find one
    /// that died in the pool (a backend ended by an operator, a server restart). Nothing
    /// has run on it yet, so it is closed and the `BEGIN` sent on another connection,
    /// until one answers or the pool has opened a fresh one.
    async fn begin_with(&self, begin: &'static str) -> Result<Box<dyn StoreTransaction>> {
        let mut tries = self.pool.options().get_max_connections() + 1;
        loop {
            // A connection whose BEGIN failed goes back through sqlx's release check,
            // which closes it when it does not answer: it is never handed out again.
            let conn = self.acquire().await?;
            match sqlx::Transaction::begin(conn, Some(sqlx::SqlStr::from_static(begin))).await {
                Ok(tx) => return Ok(Box::new(PgTransaction { tx })),
                Err(e) if tries > 1 && is_dead_connection(&e) => {
                    tracing::debug!("a pooled connection was dead at BEGIN; using another");
                    tries -= 1;
                }
                Err(e) => return Err(errors::map(e)),
            }
        }
    }
}

/// Whether a failure means the connection itself is gone (rather than the statement
/// failing on a live one).
fn is_dead_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            // Class 08 (connection exception) and the server ending the session: an
            // operator's pg_terminate_backend, a shutdown, a crash recovery.
            c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// How long a call waits on the pool before asking the server directly whether it is
/// there at all.
const PROBE_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("connections", &self.pool.size())
            .finish()
    }
}

#[async_trait]
impl Store for PgStore {
    async fn begin(&self) -> Result<Box<dyn StoreTransaction>> {
        // The use cases lock a row and then read what others committed before the lock
        // was granted; that needs a fresh snapshot per statement, whatever the server's
        // or the host pool's default isolation level is. Named in the BEGIN itself: no
        // round trip of its own, and right on a host's pool whatever its defaults.
        self.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await
    }

    async fn begin_read(&self) -> Result<Box<dyn StoreTransaction>> {
        // READ ONLY: the server refuses any write in it, so a read use case cannot write
        // by mistake. The same isolation as a write, so what it reads is unchanged.
        self.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY")
            .await
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    async fn face_identify_context(
        &self,
        actor: &str,
        changed_since: i64,
        member: Option<ClientId>,
    ) -> Result<FaceIdentifyContext> {
        desk::face_identify_context_pg(self, actor, changed_since, member).await
    }

    async fn biometric_changes(&self) -> Result<Box<dyn BiometricChanges>> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(errors::map)?;
        listener
            .listen(BIOMETRICS_CHANNEL)
            .await
            .map_err(errors::map)?;
        Ok(Box::new(PgBiometricChanges { listener }))
    }
}

/// The channel migration 0009's trigger announces template changes on.
const BIOMETRICS_CHANNEL: &str = "powergym_biometrics";

/// LISTEN on the biometrics channel through a dedicated connection.
struct PgBiometricChanges {
    listener: PgListener,
}

#[async_trait]
impl BiometricChanges for PgBiometricChanges {
    async fn next(&mut self) -> Result<BiometricChange> {
        loop {
            // `try_recv` reports a lost connection as `None` (notifications sent while
            // it was down are gone), where `recv` would reconnect silently.
            match self.listener.try_recv().await.map_err(errors::map)? {
                None => return Ok(BiometricChange::Resync),
                // Migration 0017: one notification for a statement that added many
                // templates (`*` and the first one's change mark) or may have erased
                // many (`-`).
                Some(n) if n.payload() == "-" => return Ok(BiometricChange::Resync),
                Some(n) if n.payload().starts_with('*') => {
                    return Ok(match n.payload()[1..].parse::<i64>() {
                        Ok(first) => BiometricChange::Added(first),
                        // Without a mark nothing says where to start: everything.
                        Err(_) => BiometricChange::Resync,
                    });
                }
                Some(n) => match uuid::Uuid::parse_str(n.payload()) {
                    Ok(id) => return Ok(BiometricChange::Member(ClientId::from_uuid(id))),
                    // Not ours (someone else notifying on the channel): ignore it.
                    Err(_) => continue,
                },
            }
        }
    }
}

/// One PostgreSQL transaction; rolled back on drop unless committed.
pub(crate) struct PgTransaction {
    tx: sqlx::Transaction<'static, Postgres>,
}

#[async_trait]
impl StoreTransaction for PgTransaction {
    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await.map_err(errors::map)
    }

    // Each of these is one statement (see `desk`).

    async fn check_in_context(
        &mut self,
        actor: &str,
        member: MemberRef<'_>,
        day: chrono::NaiveDate,
    ) -> Result<(Option<Staff>, Option<CheckInContext>)> {
        desk::check_in_context_pg(self, actor, member, day).await
    }

    async fn face_check_in_context(
        &mut self,
        actor: &str,
        changed_since: i64,
        member: Option<ClientId>,
        day: chrono::NaiveDate,
    ) -> Result<FaceCheckInContext> {
        desk::face_check_in_context_pg(self, actor, changed_since, member, day).await
    }

    async fn payment_context(
        &mut self,
        actor: &str,
        subscription: SubscriptionId,
        key: Option<&str>,
    ) -> Result<PaymentContext> {
        desk::payment_context_pg(self, actor, subscription, key).await
    }

    async fn insert_payment_with_status(
        &mut self,
        payment: &NewPayment,
        status: Option<(SubscriptionStatus, SubscriptionStatus)>,
    ) -> Result<Payment> {
        desk::insert_payment_with_status_pg(self, payment, status).await
    }

    async fn stock_context(
        &mut self,
        actor: &str,
        product: uuid::Uuid,
    ) -> Result<(Option<Staff>, Option<Product>)> {
        desk::stock_context_pg(self, actor, product).await
    }
}
