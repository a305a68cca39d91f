//! Clients (gym members): what the desk registers and changes, and what it reads back.

use powergym_core as core;
use powergym_core::{ClientId, DocumentType, Gender};

use super::Subscription;
use crate::types::Timestamp;

/// A registered gym member. Printed (Kotlin `toString`, Swift `debugDescription`), it
/// shows its id and document type only: a logged member leaks no personal data.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct Client {
    /// Identifier.
    pub id: ClientId,
    /// Document type.
    pub document_type: DocumentType,
    /// Document number, normalised.
    pub document_number: String,
    /// First name.
    pub first_name: String,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Last name.
    pub last_name: String,
    /// Second last name.
    pub second_last_name: Option<String>,
    /// All name parts joined.
    pub full_name: String,
    /// Main phone, normalised.
    pub phone: String,
    /// Another phone.
    pub alternative_phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Date of birth.
    pub birth_date: chrono::NaiveDate,
    /// Gender.
    pub gender: Gender,
    /// Postal address.
    pub address: Option<String>,
    /// False once deactivated.
    pub is_active: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id.to_string())
            .field("document_type", &self.document_type)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

impl From<core::Client> for Client {
    fn from(c: core::Client) -> Self {
        Self {
            full_name: c.full_name(),
            id: c.id,
            document_type: c.document_type,
            document_number: c.document_number.as_str().to_owned(),
            first_name: c.first_name.as_str().to_owned(),
            middle_name: c.middle_name.map(|n| n.as_str().to_owned()),
            last_name: c.last_name.as_str().to_owned(),
            second_last_name: c.second_last_name.map(|n| n.as_str().to_owned()),
            phone: c.phone.as_str().to_owned(),
            alternative_phone: c.alternative_phone.map(|p| p.as_str().to_owned()),
            email: c.email.map(|e| e.as_str().to_owned()),
            birth_date: c.birth_date.date(),
            gender: c.gender,
            address: c.address,
            is_active: c.is_active,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A client registration as typed at the front desk. Printed, it shows the document type
/// only.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct ClientInput {
    /// Document type.
    pub document_type: DocumentType,
    /// Document number, normalised.
    pub document_number: String,
    /// First name.
    pub first_name: String,
    #[uniffi(default = None)]
    /// Middle name.
    pub middle_name: Option<String>,
    /// Last name.
    pub last_name: String,
    #[uniffi(default = None)]
    /// Second last name.
    pub second_last_name: Option<String>,
    /// Main phone, normalised.
    pub phone: String,
    #[uniffi(default = None)]
    /// Another phone.
    pub alternative_phone: Option<String>,
    #[uniffi(default = None)]
    /// E-mail address.
    pub email: Option<String>,
    /// Date of birth.
    pub birth_date: chrono::NaiveDate,
    /// Gender.
    pub gender: Gender,
    #[uniffi(default = None)]
    /// Postal address.
    pub address: Option<String>,
}

impl std::fmt::Debug for ClientInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientInput")
            .field("document_type", &self.document_type)
            .finish_non_exhaustive()
    }
}

impl From<ClientInput> for core::ClientInput {
    fn from(i: ClientInput) -> Self {
        Self {
            document_type: i.document_type,
            document_number: i.document_number,
            first_name: i.first_name,
            middle_name: i.middle_name,
            last_name: i.last_name,
            second_last_name: i.second_last_name,
            phone: i.phone,
            alternative_phone: i.alternative_phone,
            email: i.email,
            birth_date: i.birth_date,
            gender: i.gender,
            address: i.address,
        }
    }
}

page!(ClientPage, Client, core::Client, "One page of clients.");

/// A new identity document for a client: type and number change together. Printed, it
/// shows the type only.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct DocumentChange {
    /// Document type.
    pub document_type: DocumentType,
    /// Document number as typed (validated as on registration).
    pub document_number: String,
}

impl std::fmt::Debug for DocumentChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentChange")
            .field("document_type", &self.document_type)
            .finish_non_exhaustive()
    }
}

/// Changes to a client: `null` leaves a field as it is, a blank optional field clears
/// it, and every value given is validated as on registration. Printed, it shows which
/// fields change, never their values.
#[derive(Clone, Default, PartialEq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct ClientUpdate {
    /// New document (type and number together).
    #[uniffi(default = None)]
    pub document: Option<DocumentChange>,
    /// New first name.
    #[uniffi(default = None)]
    pub first_name: Option<String>,
    /// New middle name (blank clears).
    #[uniffi(default = None)]
    pub middle_name: Option<String>,
    /// New last name.
    #[uniffi(default = None)]
    pub last_name: Option<String>,
    /// New second last name (blank clears).
    #[uniffi(default = None)]
    pub second_last_name: Option<String>,
    /// New main phone.
    #[uniffi(default = None)]
    pub phone: Option<String>,
    /// New alternative phone (blank clears).
    #[uniffi(default = None)]
    pub alternative_phone: Option<String>,
    /// New e-mail (blank clears).
    #[uniffi(default = None)]
    pub email: Option<String>,
    /// New birth date.
    #[uniffi(default = None)]
    pub birth_date: Option<chrono::NaiveDate>,
    /// New gender.
    #[uniffi(default = None)]
    pub gender: Option<Gender>,
    /// New postal address (blank clears).
    #[uniffi(default = None)]
    pub address: Option<String>,
}

impl std::fmt::Debug for ClientUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let changed = [
            ("document", self.document.is_some()),
            ("first_name", self.first_name.is_some()),
            ("middle_name", self.middle_name.is_some()),
            ("last_name", self.last_name.is_some()),
            ("second_last_name", self.second_last_name.is_some()),
            ("phone", self.phone.is_some()),
            ("alternative_phone", self.alternative_phone.is_some()),
            ("email", self.email.is_some()),
            ("birth_date", self.birth_date.is_some()),
            ("gender", self.gender.is_some()),
            ("address", self.address.is_some()),
        ];
        let names: Vec<&str> = changed
            .iter()
            .filter(|(_, given)| *given)
            .map(|(name, _)| *name)
            .collect();
        f.debug_struct("ClientUpdate")
            .field("changes", &names)
            .finish()
    }
}

impl From<ClientUpdate> for core::ClientUpdate {
    fn from(u: ClientUpdate) -> Self {
        Self {
            document: u.document.map(|d| (d.document_type, d.document_number)),
            first_name: u.first_name,
            middle_name: u.middle_name,
            last_name: u.last_name,
            second_last_name: u.second_last_name,
            phone: u.phone,
            alternative_phone: u.alternative_phone,
            email: u.email,
            birth_date: u.birth_date,
            gender: u.gender,
            address: u.address,
        }
    }
}

/// A client's summary for the desk screen. Printed, its client shows no personal data.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct ClientDashboard {
    /// The client.
    pub client: Client,
    /// The most recently sold subscription, if any.
    pub latest_subscription: Option<Subscription>,
    /// Its plan's name.
    pub latest_plan_name: Option<String>,
    /// Subscriptions bought in all.
    pub total_subscriptions: u64,
    /// Attendances since the latest subscription started.
    pub attendances_since_start: u64,
    /// The latest check-in.
    pub last_attendance: Option<Timestamp>,
    /// When the client registered.
    pub client_since: Timestamp,
}

impl std::fmt::Debug for ClientDashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientDashboard")
            .field("client", &self.client)
            .field("latest_subscription", &self.latest_subscription)
            .field("total_subscriptions", &self.total_subscriptions)
            .field("attendances_since_start", &self.attendances_since_start)
            .finish_non_exhaustive()
    }
}

impl From<core::ClientDashboard> for ClientDashboard {
    fn from(d: core::ClientDashboard) -> Self {
        Self {
            client: d.client.into(),
            latest_subscription: d.latest_subscription.map(Into::into),
            latest_plan_name: d.latest_plan_name,
            total_subscriptions: d.total_subscriptions,
            attendances_since_start: d.attendances_since_start,
            last_attendance: d.last_attendance,
            client_since: d.client_since,
        }
    }
}
