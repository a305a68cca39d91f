//! Repository traits: what the use cases need from storage, with no PostgreSQL types in
//! their signatures, so the embedded SQLite store can stand behind the same traits.
//!
//! Every use case runs in one [`StoreTransaction`]: it begins, calls repositories on the
//! transaction, and commits. Dropping a transaction without committing rolls it back, so
//! a failed call leaves nothing half-written.

use async_trait::async_trait;

use crate::domain::client::{Client, DocumentNumber, NewClient};
use crate::domain::ids::ClientId;
use crate::domain::paging::{Page, PageRequest};
use crate::error::Result;

pub mod postgres;

/// A storage backend.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Starts a unit of work.
    async fn begin(&self) -> Result<Box<dyn StoreTransaction>>;

    /// Closes every connection; later calls fail.
    async fn close(&self);
}

/// A unit of work: all repositories, one atomic commit.
#[async_trait]
pub trait StoreTransaction: ClientRepository + Send {
    /// Makes every write of this unit of work durable, or none of them.
    async fn commit(self: Box<Self>) -> Result<()>;
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
    async fn insert_client(&mut self, client: &NewClient) -> Result<Client>;

    /// The client with this id, or [`Error::NotFound`](crate::Error::NotFound).
    async fn client_by_id(&mut self, id: ClientId) -> Result<Client>;

    /// The client with this document number, or [`Error::NotFound`](crate::Error::NotFound).
    async fn client_by_document(&mut self, number: &DocumentNumber) -> Result<Client>;

    /// A page of clients, newest registration first.
    async fn list_clients(
        &mut self,
        filter: ActiveFilter,
        page: PageRequest,
    ) -> Result<Page<Client>>;
}
