//! Members: registration, lookup, search, updates and the member's dashboard.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::errors::to_py;
use crate::types::args;
use crate::types::{Actor, Client, ClientDashboard, ClientPage};
use powergym_core as core;

fn active_filter(active: Option<bool>) -> core::ActiveFilter {
    match active {
        None => core::ActiveFilter::All,
        Some(true) => core::ActiveFilter::Active,
        Some(false) => core::ActiveFilter::Inactive,
    }
}

use_cases! {
    /// Registers a client after validating every field.
    #[pyo3(signature = (
        actor, *, document_type, document_number, first_name, last_name, phone, birth_date, gender,
        middle_name = None, second_last_name = None, alternative_phone = None, email = None,
        address = None
    ))]
    fn register_client(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::document_type)] document_type: String,
        #[pyo3(from_py_with = args::document_number)] document_number: String,
        #[pyo3(from_py_with = args::first_name)] first_name: String,
        #[pyo3(from_py_with = args::last_name)] last_name: String,
        #[pyo3(from_py_with = args::phone)] phone: String,
        #[pyo3(from_py_with = args::birth_date)] birth_date: NaiveDate,
        #[pyo3(from_py_with = args::gender)] gender: String,
        #[pyo3(from_py_with = args::middle_name)] middle_name: Option<String>,
        #[pyo3(from_py_with = args::second_last_name)] second_last_name: Option<String>,
        #[pyo3(from_py_with = args::alternative_phone)] alternative_phone: Option<String>,
        #[pyo3(from_py_with = args::email)] email: Option<String>,
        #[pyo3(from_py_with = args::address)] address: Option<String>,
    ) -> Client {
        let input = core::ClientInput {
            document_type: document_type.parse().map_err(to_py)?,
            document_number,
            first_name,
            middle_name,
            last_name,
            second_last_name,
            phone,
            alternative_phone,
            email,
            birth_date,
            gender: gender.parse().map_err(to_py)?,
            address,
        };
        let actor = actor.0.clone();
        async move { gym.register_client(&actor, input).await.map(Client::from) }
    }

    /// The client with this id.
    fn get_client(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
    ) -> Client {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move { gym.client(&actor, id).await.map(Client::from) }
    }

    /// The client holding this document (any punctuation in the number is ignored).
    fn get_client_by_document(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::document_type)] document_type: String,
        #[pyo3(from_py_with = args::document_number)] document_number: String,
    ) -> Client {
        let doc_type: core::DocumentType = document_type.parse().map_err(to_py)?;
        let actor = actor.0.clone();
        async move {
            gym.client_by_document(&actor, doc_type, &document_number)
                .await
                .map(Client::from)
        }
    }

    /// A page of clients, newest first; `active` filters by state when given.
    #[pyo3(signature = (actor, *, limit = 100, offset = 0, active = None))]
    fn list_clients(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
        active: Option<bool>,
    ) -> ClientPage {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let actor = actor.0.clone();
        async move {
            gym.list_clients_filtered(&actor, active_filter(active), page)
                .await
                .map(ClientPage::from)
        }
    }

    /// Clients matching every word of `text`, ignoring case and accents.
    #[pyo3(signature = (actor, text, *, limit = 100, offset = 0))]
    fn search_clients(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::search_text)] text: String,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
    ) -> ClientPage {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let actor = actor.0.clone();
        async move {
            gym.search_clients(&actor, &text, page)
                .await
                .map(ClientPage::from)
        }
    }

    /// Changes the fields given (the others stay); a blank optional field clears it. The
    /// document type and number change together.
    #[pyo3(signature = (
        actor, client_id, *, document_type = None, document_number = None, first_name = None,
        middle_name = None, last_name = None, second_last_name = None, phone = None,
        alternative_phone = None, email = None, birth_date = None, gender = None, address = None
    ))]
    fn update_client(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
        #[pyo3(from_py_with = args::optional_document_type)] document_type: Option<String>,
        #[pyo3(from_py_with = args::optional_document_number)] document_number: Option<String>,
        #[pyo3(from_py_with = args::optional_first_name)] first_name: Option<String>,
        #[pyo3(from_py_with = args::middle_name)] middle_name: Option<String>,
        #[pyo3(from_py_with = args::optional_last_name)] last_name: Option<String>,
        #[pyo3(from_py_with = args::second_last_name)] second_last_name: Option<String>,
        #[pyo3(from_py_with = args::optional_phone)] phone: Option<String>,
        #[pyo3(from_py_with = args::alternative_phone)] alternative_phone: Option<String>,
        #[pyo3(from_py_with = args::email)] email: Option<String>,
        #[pyo3(from_py_with = args::optional_birth_date)] birth_date: Option<NaiveDate>,
        #[pyo3(from_py_with = args::optional_gender)] gender: Option<String>,
        #[pyo3(from_py_with = args::address)] address: Option<String>,
    ) -> Client {
        let document = match (document_type, document_number) {
            (None, None) => None,
            (Some(kind), Some(number)) => Some((kind.parse().map_err(to_py)?, number)),
            _ => {
                return Err(to_py(core::Error::validation(
                    "document",
                    "give the document type and number together",
                )));
            }
        };
        let update = core::domain::client::ClientUpdate {
            document,
            first_name,
            middle_name,
            last_name,
            second_last_name,
            phone,
            alternative_phone,
            email,
            birth_date,
            gender: gender.map(|g| g.parse()).transpose().map_err(to_py)?,
            address,
        };
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move { gym.update_client(&actor, id, update).await.map(Client::from) }
    }

    /// Activates or deactivates a client (a deactivated client is refused at the door).
    fn set_client_active(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
        active: bool,
    ) -> Client {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move { gym.set_client_active(&actor, id, active).await.map(Client::from) }
    }

    /// What the desk shows about one member in one call: the latest subscription and its
    /// plan, how many were bought, attendance since it started, the last check-in.
    fn client_dashboard(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
    ) -> ClientDashboard {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move { gym.client_dashboard(&actor, id).await.map(ClientDashboard::from) }
    }
}
