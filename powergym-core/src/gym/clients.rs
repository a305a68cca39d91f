//! Client use cases: registration, look-up, listing and search, changes, the dashboard.

use crate::domain::client::{
    Client, ClientDashboard, ClientInput, ClientUpdate, DocumentNumber, DocumentType, NewClient,
    search_terms,
};
use crate::domain::ids::ClientId;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::staff::{Action, Actor};
use crate::error::{Error, Result};
use crate::gym::Gym;
use crate::store::ActiveFilter;

impl Gym {
    /// Registers a client after validating every field.
    pub async fn register_client(&self, actor: &Actor, input: ClientInput) -> Result<Client> {
        self.bounded(async move {
            let new = NewClient::parse(input, self.today())?;
            let mut tx = self.begin_as(actor, Action::ManageClients).await?;
            let client = tx.insert_client(&new, actor.username()).await?;
            tx.commit().await?;
            tracing::info!(client_id = %client.id, "client registered");
            Ok(client)
        })
        .await
    }

    /// The client with this id.
    pub async fn client(&self, actor: &Actor, id: ClientId) -> Result<Client> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ManageClients).await?;
            tx.client_by_id(id).await
        })
        .await
    }

    /// The client holding this document. The number is normalised the way registration
    /// normalises it, so "1.020.304.050" finds "1020304050".
    pub async fn client_by_document(
        &self,
        actor: &Actor,
        document_type: DocumentType,
        number: &str,
    ) -> Result<Client> {
        self.bounded(async move {
            let number = DocumentNumber::parse(document_type, number)?;
            let mut tx = self.begin_read_as(actor, Action::ManageClients).await?;
            let client = tx.client_by_document(&number).await?;
            if client.document_type != document_type {
                return Err(Error::NotFound { entity: "client" });
            }
            Ok(client)
        })
        .await
    }

    /// A page of clients, newest first.
    pub async fn list_clients(&self, actor: &Actor, page: PageRequest) -> Result<Page<Client>> {
        self.bounded(async move {
            self.list_clients_filtered(actor, ActiveFilter::All, page)
                .await
        })
        .await
    }

    /// A page of clients matching `filter`, newest first.
    pub async fn list_clients_filtered(
        &self,
        actor: &Actor,
        filter: ActiveFilter,
        page: PageRequest,
    ) -> Result<Page<Client>> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ManageClients).await?;
            tx.list_clients(filter, page).await
        })
        .await
    }

    /// Clients whose names, document or phone contain every word of `text`, ignoring
    /// case and accents ("jose nunez" finds "José María Núñez"), by last name.
    pub async fn search_clients(
        &self,
        actor: &Actor,
        text: &str,
        page: PageRequest,
    ) -> Result<Page<Client>> {
        self.bounded(async move {
            let folded = search_terms(text)?;
            let mut tx = self.begin_read_as(actor, Action::ManageClients).await?;
            tx.search_clients(&folded, page).await
        })
        .await
    }

    /// Changes a client; every value given is validated as on registration (blank names
    /// or phones are refused here too).
    pub async fn update_client(
        &self,
        actor: &Actor,
        id: ClientId,
        update: ClientUpdate,
    ) -> Result<Client> {
        self.bounded(async move {
            let today = self.today();
            let mut tx = self.begin_as(actor, Action::ManageClients).await?;
            let current = tx.lock_client(id).await?;
            let next = update.apply_to(&current, today)?;
            let client = tx.update_client(id, &next).await?;
            tx.commit().await?;
            Ok(client)
        })
        .await
    }

    /// The client's dashboard: latest subscription and its plan, attendance since it
    /// started, last check-in.
    pub async fn client_dashboard(&self, actor: &Actor, id: ClientId) -> Result<ClientDashboard> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ManageClients).await?;
            let client = tx.client_by_id(id).await?;
            let subs = tx.client_subscriptions(id).await?;
            let latest = subs.first().map(|(s, _)| s.clone());
            let latest_plan_name = match &latest {
                Some(s) => Some(tx.plan_by_id(s.plan_id).await?.name),
                None => None,
            };
            let one = PageRequest::new(1, 0)?;
            let last_attendance = tx
                .attendances(Some(id), None, None, one)
                .await?
                .items
                .first()
                .map(|a| a.entry_time);
            let attendances_since_start = match &latest {
                Some(s) => {
                    tx.attendances(Some(id), Some(s.start_date), None, one)
                        .await?
                        .total
                }
                None => 0,
            };
            Ok(ClientDashboard {
                client_since: client.created_at,
                client,
                latest_subscription: latest,
                latest_plan_name,
                total_subscriptions: subs.len() as u64,
                attendances_since_start,
                last_attendance,
            })
        })
        .await
    }

    /// Deactivates (`false`) or reactivates (`true`) a client. An inactive client cannot
    /// check in or buy; their history stays.
    pub async fn set_client_active(
        &self,
        actor: &Actor,
        id: ClientId,
        active: bool,
    ) -> Result<Client> {
        self.bounded(async move {
            let mut tx = self.begin_as(actor, Action::ManageClients).await?;
            let client = tx.set_client_active(id, active).await?;
            tx.commit().await?;
            Ok(client)
        })
        .await
    }
}
