//! Clients on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{PgTransaction, errors, page_of};
use crate::domain::client::{
    BirthDate, Client, DocumentNumber, DocumentType, Email, FOLD_FROM, FOLD_TO, Gender, NewClient,
    PersonName, Phone,
};
use crate::domain::ids::ClientId;
use crate::domain::paging::{Page, PageRequest};
use crate::error::{Error, Result};
use crate::store::{ActiveFilter, ClientRepository};

/// Column list shared by every client query; enums read as text so the row struct stays
/// free of database-specific types.
pub(super) const CLIENT_COLUMNS: &str = "id, dni_type::text as dni_type, dni_number, first_name, \
    middle_name, last_name, second_last_name, phone, alternative_phone, email, birth_date, \
    gender::text as gender, address, is_active, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    id: Uuid,
    dni_type: String,
    dni_number: String,
    first_name: String,
    middle_name: Option<String>,
    last_name: String,
    second_last_name: Option<String>,
    phone: String,
    alternative_phone: Option<String>,
    email: Option<String>,
    birth_date: NaiveDate,
    gender: String,
    address: Option<String>,
    is_active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ClientRow> for Client {
    type Error = Error;

    fn try_from(row: ClientRow) -> Result<Self> {
        Ok(Client {
            id: ClientId::from_uuid(row.id),
            document_type: row.dni_type.parse::<DocumentType>()?,
            document_number: DocumentNumber::from_stored(row.dni_number),
            first_name: PersonName::from_stored(row.first_name),
            middle_name: row.middle_name.map(PersonName::from_stored),
            last_name: PersonName::from_stored(row.last_name),
            second_last_name: row.second_last_name.map(PersonName::from_stored),
            phone: Phone::from_stored(row.phone),
            alternative_phone: row.alternative_phone.map(Phone::from_stored),
            email: row.email.map(Email::from_stored),
            birth_date: BirthDate::from_stored(row.birth_date),
            gender: row.gender.parse::<Gender>()?,
            address: row.address,
            is_active: row.is_active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn not_found(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::RowNotFound => Error::NotFound { entity: "client" },
        other => errors::map(other),
    }
}

#[async_trait]
impl ClientRepository for PgTransaction {
    async fn insert_client(&mut self, c: &NewClient, created_by: &str) -> Result<Client> {
        let sql = format!(
            "insert into clients (dni_type, dni_number, first_name, middle_name, last_name, \
             second_last_name, phone, alternative_phone, email, birth_date, gender, address, \
             created_by) values ($1::document_type_enum, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11::gender_type_enum, $12, $13) \
             on conflict on constraint idx_clients_dni do nothing returning {CLIENT_COLUMNS}"
        );
        // `do nothing` rather than a unique violation: the server would write the
        // violation's DETAIL, the document number itself, into its log.
        let row: Option<ClientRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(c.document_type.as_str())
            .bind(c.document_number.as_str())
            .bind(c.first_name.as_str())
            .bind(c.middle_name.as_ref().map(PersonName::as_str))
            .bind(c.last_name.as_str())
            .bind(c.second_last_name.as_ref().map(PersonName::as_str))
            .bind(c.phone.as_str())
            .bind(c.alternative_phone.as_ref().map(Phone::as_str))
            .bind(c.email.as_ref().map(Email::as_str))
            .bind(c.birth_date.date())
            .bind(c.gender.as_str())
            .bind(c.address.as_deref())
            .bind(created_by)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        row.ok_or(Error::AlreadyExists {
            entity: "client",
            field: "document_number",
        })?
        .try_into()
    }

    async fn client_by_id(&mut self, id: ClientId) -> Result<Client> {
        let sql = format!("select {CLIENT_COLUMNS} from clients where id = $1");
        let row: ClientRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn lock_client(&mut self, id: ClientId) -> Result<Client> {
        let sql = format!("select {CLIENT_COLUMNS} from clients where id = $1 for update");
        let row: ClientRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn client_by_document(&mut self, number: &DocumentNumber) -> Result<Client> {
        let sql = format!("select {CLIENT_COLUMNS} from clients where dni_number = $1");
        let row: ClientRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(number.as_str())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }

    async fn list_clients(
        &mut self,
        filter: ActiveFilter,
        page: PageRequest,
    ) -> Result<Page<Client>> {
        let active: Option<bool> = match filter {
            ActiveFilter::All => None,
            ActiveFilter::Active => Some(true),
            ActiveFilter::Inactive => Some(false),
        };
        let total: i64 = sqlx::query_scalar(
            "select count(*) from clients where ($1::bool is null or is_active = $1)",
        )
        .bind(active)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        // id breaks ties so pages never overlap or skip rows registered in the same instant.
        let sql = format!(
            "select {CLIENT_COLUMNS} from clients where ($1::bool is null or is_active = $1) \
             order by created_at desc, id desc limit $2 offset $3"
        );
        let rows: Vec<ClientRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(active)
            .bind(i64::from(page.limit()))
            .bind(page.offset() as i64)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        page_of(rows, total, page)
    }

    async fn search_clients(&mut self, folded: &str, page: PageRequest) -> Result<Page<Client>> {
        // Every word must appear somewhere; each word's own wildcards are escaped.
        let patterns: Vec<String> = folded
            .split_whitespace()
            .map(|w| {
                let escaped = w
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{escaped}%")
            })
            .collect();
        let haystack = "translate(lower(concat_ws(' ', first_name, middle_name, last_name, \
                        second_last_name, dni_number, phone, alternative_phone)), $2, $3)";
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "select count(*) from clients where {haystack} like all($1)"
        )))
        .bind(&patterns)
        .bind(FOLD_FROM)
        .bind(FOLD_TO)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let sql = format!(
            "select {CLIENT_COLUMNS} from clients where {haystack} like all($1) \
             order by last_name, first_name, id limit $4 offset $5"
        );
        let rows: Vec<ClientRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(&patterns)
            .bind(FOLD_FROM)
            .bind(FOLD_TO)
            .bind(i64::from(page.limit()))
            .bind(page.offset() as i64)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        page_of(rows, total, page)
    }

    async fn update_client(&mut self, id: ClientId, c: &NewClient) -> Result<Client> {
        let sql = format!(
            "update clients set dni_type = $2::document_type_enum, dni_number = $3, first_name = $4, \
             middle_name = $5, last_name = $6, second_last_name = $7, phone = $8, alternative_phone = $9, \
             email = $10, birth_date = $11, gender = $12::gender_type_enum, address = $13 \
             where id = $1 \
               and not exists (select 1 from clients o where o.dni_number = $3 and o.id <> $1) \
             returning {CLIENT_COLUMNS}"
        );
        // The document is checked in the statement, so a taken one is refused without a
        // unique violation (whose DETAIL the server would log with the number in it).
        let row: Option<ClientRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .bind(c.document_type.as_str())
            .bind(c.document_number.as_str())
            .bind(c.first_name.as_str())
            .bind(c.middle_name.as_ref().map(PersonName::as_str))
            .bind(c.last_name.as_str())
            .bind(c.second_last_name.as_ref().map(PersonName::as_str))
            .bind(c.phone.as_str())
            .bind(c.alternative_phone.as_ref().map(Phone::as_str))
            .bind(c.email.as_ref().map(Email::as_str))
            .bind(c.birth_date.date())
            .bind(c.gender.as_str())
            .bind(c.address.as_deref())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        match row {
            Some(row) => row.try_into(),
            None => {
                let exists: bool =
                    sqlx::query_scalar("select exists (select 1 from clients where id = $1)")
                        .bind(id.as_uuid())
                        .fetch_one(&mut *self.tx)
                        .await
                        .map_err(errors::map)?;
                Err(if exists {
                    Error::AlreadyExists {
                        entity: "client",
                        field: "document_number",
                    }
                } else {
                    Error::NotFound { entity: "client" }
                })
            }
        }
    }

    async fn set_client_active(&mut self, id: ClientId, active: bool) -> Result<Client> {
        let sql =
            format!("update clients set is_active = $2 where id = $1 returning {CLIENT_COLUMNS}");
        let row: ClientRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .bind(active)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }
}
