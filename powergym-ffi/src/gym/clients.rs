//! Client use cases: register, read, list, search, change, deactivate.

use std::sync::Arc;

use powergym_core as core;
use powergym_core::{ActiveFilter, ClientId, DocumentType};

use crate::records::{Actor, Client, ClientDashboard, ClientInput, ClientPage, ClientUpdate};
use crate::{Gym, Result};

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Registers a client after validating every field.
    pub async fn register_client(&self, actor: Arc<Actor>, input: ClientInput) -> Result<Client> {
        Ok(self
            .0
            .register_client(&actor.actor, input.into())
            .await?
            .into())
    }

    /// The client with this id.
    pub async fn get_client(&self, actor: Arc<Actor>, id: ClientId) -> Result<Client> {
        Ok(self.0.client(&actor.actor, id).await?.into())
    }

    /// The client holding this document.
    pub async fn get_client_by_document(
        &self,
        actor: Arc<Actor>,
        document_type: DocumentType,
        document_number: String,
    ) -> Result<Client> {
        Ok(self
            .0
            .client_by_document(&actor.actor, document_type, &document_number)
            .await?
            .into())
    }

    /// A page of clients, newest first.
    #[uniffi::method(default(limit = 100, offset = 0))]
    pub async fn list_clients(
        &self,
        actor: Arc<Actor>,
        limit: u32,
        offset: u64,
    ) -> Result<ClientPage> {
        let page = core::PageRequest::new(limit, offset)?;
        Ok(self.0.list_clients(&actor.actor, page).await?.into())
    }

    /// A page of active, or of deactivated, clients, newest first.
    #[uniffi::method(default(limit = 100, offset = 0))]
    pub async fn list_clients_filtered(
        &self,
        actor: Arc<Actor>,
        filter: ActiveFilter,
        limit: u32,
        offset: u64,
    ) -> Result<ClientPage> {
        let page = core::PageRequest::new(limit, offset)?;
        Ok(self
            .0
            .list_clients_filtered(&actor.actor, filter, page)
            .await?
            .into())
    }

    /// Clients matching every word of `text`, ignoring case and accents.
    #[uniffi::method(default(limit = 100, offset = 0))]
    pub async fn search_clients(
        &self,
        actor: Arc<Actor>,
        text: String,
        limit: u32,
        offset: u64,
    ) -> Result<ClientPage> {
        let page = core::PageRequest::new(limit, offset)?;
        Ok(self
            .0
            .search_clients(&actor.actor, &text, page)
            .await?
            .into())
    }

    /// Changes a client; every value given is validated as on registration.
    pub async fn update_client(
        &self,
        actor: Arc<Actor>,
        id: ClientId,
        update: ClientUpdate,
    ) -> Result<Client> {
        Ok(self
            .0
            .update_client(&actor.actor, id, update.into())
            .await?
            .into())
    }

    /// A client's summary: latest subscription and plan, totals, last visit.
    pub async fn client_dashboard(
        &self,
        actor: Arc<Actor>,
        id: ClientId,
    ) -> Result<ClientDashboard> {
        Ok(self.0.client_dashboard(&actor.actor, id).await?.into())
    }

    /// Deactivates (or reactivates) a client; an inactive client cannot check in.
    pub async fn set_client_active(
        &self,
        actor: Arc<Actor>,
        id: ClientId,
        active: bool,
    ) -> Result<Client> {
        Ok(self
            .0
            .set_client_active(&actor.actor, id, active)
            .await?
            .into())
    }
}
