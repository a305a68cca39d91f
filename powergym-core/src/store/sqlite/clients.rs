//! Clients on SQLite.
//!
//! Search folding: SQLite has no `translate()` and its `lower()` folds ASCII only, so
//! every insert and update also writes `search_text`, the client's names, document and
//! phones joined by spaces (as PostgreSQL's `concat_ws` joins them) and folded by
//! [`fold_for_search`], the same function that folds the typed search. A search then asks
//! that every typed word occur in it (`instr`, which needs no escaping of `%` or `_`).

use async_trait::async_trait;
use chrono::Utc;
use sqlx::AssertSqlSafe;

use super::attendance::value::{day, day_text, instant, micros, page_of, uuid_of};
use super::{SqliteTransaction, errors};
use crate::domain::client::{
    BirthDate, Client, DocumentNumber, DocumentType, Email, Gender, NewClient, PersonName, Phone,
    fold_for_search,
};
use crate::domain::ids::ClientId;
use crate::domain::paging::{Page, PageRequest};
use crate::error::{Error, Result};
use crate::store::{ActiveFilter, ClientRepository};

/// Column list shared by every client query.
pub(super) const CLIENT_COLUMNS: &str = "id, dni_type, dni_number, first_name, middle_name, \
    last_name, second_last_name, phone, alternative_phone, email, birth_date, gender, address, \
    is_active, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    id: String,
    dni_type: String,
    dni_number: String,
    first_name: String,
    middle_name: Option<String>,
    last_name: String,
    second_last_name: Option<String>,
    phone: String,
    alternative_phone: Option<String>,
    email: Option<String>,
    birth_date: String,
    gender: String,
    address: Option<String>,
    is_active: bool,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ClientRow> for Client {
    type Error = Error;

    fn try_from(row: ClientRow) -> Result<Self> {
        Ok(Client {
            id: ClientId::from_uuid(uuid_of(&row.id)?),
            document_type: row.dni_type.parse::<DocumentType>()?,
            document_number: DocumentNumber::from_stored(row.dni_number),
            first_name: PersonName::from_stored(row.first_name),
            middle_name: row.middle_name.map(PersonName::from_stored),
            last_name: PersonName::from_stored(row.last_name),
            second_last_name: row.second_last_name.map(PersonName::from_stored),
            phone: Phone::from_stored(row.phone),
            alternative_phone: row.alternative_phone.map(Phone::from_stored),
            email: row.email.map(Email::from_stored),
            birth_date: BirthDate::from_stored(day(&row.birth_date)?),
            gender: row.gender.parse::<Gender>()?,
            address: row.address,
            is_active: row.is_active,
            created_at: instant(row.created_at)?,
            updated_at: instant(row.updated_at)?,
        })
    }
}

/// The folded text a search looks in: the fields PostgreSQL's search concatenates, in
/// the same order, absent ones skipped.
fn search_text(c: &NewClient) -> String {
    let fields = [
        Some(c.first_name.as_str()),
        c.middle_name.as_ref().map(PersonName::as_str),
        Some(c.last_name.as_str()),
        c.second_last_name.as_ref().map(PersonName::as_str),
        Some(c.document_number.as_str()),
        Some(c.phone.as_str()),
        c.alternative_phone.as_ref().map(Phone::as_str),
    ];
    fold_for_search(&fields.into_iter().flatten().collect::<Vec<_>>().join(" "))
}

pub(super) fn not_found(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::RowNotFound => Error::NotFound { entity: "client" },
        other => errors::map(other),
    }
}

/// The client with this id.
pub(super) async fn client_by_id(tx: &mut SqliteTransaction, id: ClientId) -> Result<Client> {
    let sql = format!("select {CLIENT_COLUMNS} from clients where id = ?1");
    let row: ClientRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id.as_uuid().to_string())
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(not_found)?;
    row.try_into()
}

#[async_trait]
impl ClientRepository for SqliteTransaction {
    async fn insert_client(&mut self, c: &NewClient, created_by: &str) -> Result<Client> {
        let now = micros(Utc::now());
        let sql = format!(
            "insert into clients (id, dni_type, dni_number, first_name, middle_name, last_name, \
             second_last_name, phone, alternative_phone, email, birth_date, gender, address, \
             created_by, created_at, updated_at, search_text) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16) \
             on conflict (dni_number) do nothing returning {CLIENT_COLUMNS}"
        );
        // `do nothing` and no row back, rather than a unique violation, as on PostgreSQL.
        let row: Option<ClientRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(c.document_type.as_str())
            .bind(c.document_number.as_str())
            .bind(c.first_name.as_str())
            .bind(c.middle_name.as_ref().map(PersonName::as_str))
            .bind(c.last_name.as_str())
            .bind(c.second_last_name.as_ref().map(PersonName::as_str))
            .bind(c.phone.as_str())
            .bind(c.alternative_phone.as_ref().map(Phone::as_str))
            .bind(c.email.as_ref().map(Email::as_str))
            .bind(day_text(c.birth_date.date()))
            .bind(c.gender.as_str())
            .bind(c.address.as_deref())
            .bind(created_by)
            .bind(now)
            .bind(search_text(c))
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
        client_by_id(self, id).await
    }

    async fn lock_client(&mut self, id: ClientId) -> Result<Client> {
        // The IMMEDIATE transaction already excludes every other writer.
        client_by_id(self, id).await
    }

    async fn client_by_document(&mut self, number: &DocumentNumber) -> Result<Client> {
        let sql = format!("select {CLIENT_COLUMNS} from clients where dni_number = ?1");
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
        let total: i64 =
            sqlx::query_scalar("select count(*) from clients where (?1 is null or is_active = ?1)")
                .bind(active)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        // id breaks ties so pages never overlap or skip rows registered in the same instant.
        let sql = format!(
            "select {CLIENT_COLUMNS} from clients where (?1 is null or is_active = ?1) \
             order by created_at desc, id desc limit ?2 offset ?3"
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
        // Every word must appear somewhere; the words are parameters `?first`, … .
        let words: Vec<&str> = folded.split_whitespace().collect();
        let filter = |first: usize| {
            let mut parts: Vec<String> = (0..words.len())
                .map(|i| format!("instr(search_text, ?{}) > 0", first + i))
                .collect();
            parts.push("1".into());
            parts.join(" and ")
        };
        let mut count = sqlx::query_scalar(AssertSqlSafe(format!(
            "select count(*) from clients where {}",
            filter(1)
        )));
        for w in &words {
            count = count.bind(*w);
        }
        let total: i64 = count.fetch_one(&mut *self.tx).await.map_err(errors::map)?;
        let filter = filter(3);
        let sql = format!(
            "select {CLIENT_COLUMNS} from clients where {filter} \
             order by last_name, first_name, id limit ?1 offset ?2"
        );
        let mut query = sqlx::query_as(AssertSqlSafe(sql))
            .bind(i64::from(page.limit()))
            .bind(page.offset() as i64);
        for w in &words {
            query = query.bind(*w);
        }
        let rows: Vec<ClientRow> = query.fetch_all(&mut *self.tx).await.map_err(errors::map)?;
        page_of(rows, total, page)
    }

    async fn update_client(&mut self, id: ClientId, c: &NewClient) -> Result<Client> {
        let sql = format!(
            "update clients set dni_type = ?2, dni_number = ?3, first_name = ?4, \
             middle_name = ?5, last_name = ?6, second_last_name = ?7, phone = ?8, \
             alternative_phone = ?9, email = ?10, birth_date = ?11, gender = ?12, address = ?13, \
             updated_at = ?14, search_text = ?15 \
             where id = ?1 \
               and not exists (select 1 from clients o where o.dni_number = ?3 and o.id <> ?1) \
             returning {CLIENT_COLUMNS}"
        );
        // The document is checked in the statement, so a taken one is refused by name.
        let row: Option<ClientRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid().to_string())
            .bind(c.document_type.as_str())
            .bind(c.document_number.as_str())
            .bind(c.first_name.as_str())
            .bind(c.middle_name.as_ref().map(PersonName::as_str))
            .bind(c.last_name.as_str())
            .bind(c.second_last_name.as_ref().map(PersonName::as_str))
            .bind(c.phone.as_str())
            .bind(c.alternative_phone.as_ref().map(Phone::as_str))
            .bind(c.email.as_ref().map(Email::as_str))
            .bind(day_text(c.birth_date.date()))
            .bind(c.gender.as_str())
            .bind(c.address.as_deref())
            .bind(micros(Utc::now()))
            .bind(search_text(c))
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        match row {
            Some(row) => row.try_into(),
            None => {
                let exists: bool =
                    sqlx::query_scalar("select exists (select 1 from clients where id = ?1)")
                        .bind(id.as_uuid().to_string())
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
        let sql = format!(
            "update clients set is_active = ?2, updated_at = ?3 where id = ?1 \
             returning {CLIENT_COLUMNS}"
        );
        let row: ClientRow = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_uuid().to_string())
            .bind(active)
            .bind(micros(Utc::now()))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(not_found)?;
        row.try_into()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{admin, client, migrated, new_client};
    use crate::domain::client::fold_for_search;
    use crate::domain::paging::PageRequest;
    use crate::error::Error;
    use crate::store::{ActiveFilter, Store};

    #[tokio::test]
    async fn a_taken_document_is_already_exists_on_insert_and_update() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let first = client(&mut tx, "1001").await;
        let second = client(&mut tx, "1002").await;
        let taken = Error::AlreadyExists {
            entity: "client",
            field: "document_number",
        };
        assert_eq!(
            tx.insert_client(&new_client("1001", "Luis", "Gómez"), "admin")
                .await
                .unwrap_err(),
            taken
        );
        assert_eq!(
            tx.update_client(second.id, &new_client("1001", "Luis", "Gómez"))
                .await
                .unwrap_err(),
            taken
        );
        // Keeping one's own document is no collision.
        let same = tx
            .update_client(first.id, &new_client("1001", "Ana María", "Pérez"))
            .await
            .unwrap();
        assert_eq!(same.first_name.as_str(), "Ana María");
        assert!(same.updated_at >= first.updated_at);
        let missing = crate::domain::ids::ClientId::from_uuid(uuid::Uuid::new_v4());
        assert_eq!(
            tx.update_client(missing, &new_client("1003", "X", "Y"))
                .await
                .unwrap_err(),
            Error::NotFound { entity: "client" }
        );
        assert_eq!(
            tx.client_by_id(missing).await.unwrap_err(),
            Error::NotFound { entity: "client" }
        );
        assert_eq!(
            tx.set_client_active(missing, false).await.unwrap_err(),
            Error::NotFound { entity: "client" }
        );
        assert_eq!(
            tx.client_by_document(&first.document_number)
                .await
                .unwrap()
                .id,
            first.id
        );
    }

    #[tokio::test]
    async fn lists_newest_first_and_searches_without_case_or_accents() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let ana = tx
            .insert_client(&new_client("2001", "Ána", "Núñez"), "admin")
            .await
            .unwrap();
        let luis = tx
            .insert_client(&new_client("2002", "Luis", "Álvarez"), "admin")
            .await
            .unwrap();
        tx.set_client_active(luis.id, false).await.unwrap();
        let page = PageRequest::new(10, 0).unwrap();
        let all = tx.list_clients(ActiveFilter::All, page).await.unwrap();
        assert_eq!(all.total, 2);
        assert_eq!(all.items[0].id, luis.id, "newest first");
        let active = tx.list_clients(ActiveFilter::Active, page).await.unwrap();
        assert_eq!((active.total, active.items[0].id), (1, ana.id));
        let inactive = tx.list_clients(ActiveFilter::Inactive, page).await.unwrap();
        assert_eq!((inactive.total, inactive.items[0].id), (1, luis.id));

        let search = |s: &str| fold_for_search(s);
        let found = tx.search_clients(&search("NUÑEZ ana"), page).await.unwrap();
        assert_eq!((found.total, found.items[0].id), (1, ana.id));
        let by_document = tx.search_clients("2002", page).await.unwrap();
        assert_eq!((by_document.total, by_document.items[0].id), (1, luis.id));
        // By last name, byte-wise as under PostgreSQL's C.UTF-8 collation: Núñez
        // before Álvarez.
        let by_phone = tx.search_clients("300123", page).await.unwrap();
        assert_eq!(by_phone.total, 2);
        assert_eq!(by_phone.items[0].id, ana.id);
        // `%` and `_` are plain characters, not wildcards.
        assert_eq!(tx.search_clients("%", page).await.unwrap().total, 0);
        assert_eq!(tx.search_clients("a_a", page).await.unwrap().total, 0);
        // The search text follows an update.
        tx.update_client(ana.id, &new_client("2001", "Beatriz", "Núñez"))
            .await
            .unwrap();
        assert_eq!(tx.search_clients("ana", page).await.unwrap().total, 0);
        assert_eq!(tx.search_clients("beatriz", page).await.unwrap().total, 1);
        let second_page = tx
            .search_clients("300123", PageRequest::new(1, 1).unwrap())
            .await
            .unwrap();
        assert_eq!((second_page.total, second_page.items.len()), (2, 1));
        assert_eq!(second_page.items[0].id, luis.id);
    }
}
