//! Consents, face templates and face search on SQLite.
//!
//! Templates are 2048-byte BLOBs (512 little-endian `f32`) in `biometrics`; thumbnails
//! are stored sealed, as BLOBs, exactly as PostgreSQL stores them in `bytea`. The
//! schema holds the same rules as PostgreSQL's: a template only under the member's
//! consent in force (`biometrics_consent_required`), a minor's consent only with a
//! guardian's (`biometric_consents_guardian_required`), one active template per member
//! (`biometrics_one_active_per_client`), one consent in force
//! (`biometric_consents_one_active_per_client`), and withdrawal erases the templates.
//!
//! There is no vector index: [`FaceIndex`] holds every active template in an exact
//! in-process [`Gallery`], shared by all transactions of one store. Triggers on
//! `biometrics` append the member's id to `face_changes` on every insert, update and
//! delete; before each search the index reads the changes after the last one it applied,
//! inside the caller's transaction, and reloads those members' templates. Changes made
//! through this handle and by any other process writing the same file are therefore
//! seen by the next search, with no notification channel.

use std::collections::BTreeSet;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use sqlx::{AssertSqlSafe, SqliteConnection};
use uuid::Uuid;

use super::attendance::value::{instant, micros, uuid_of};
use super::{SqliteTransaction, errors};
use crate::domain::consent::{BiometricConsent, NewConsent};
use crate::domain::ids::ClientId;
use crate::error::{Error, Result};
use crate::face::{
    FaceEmbedding, FaceSearch, FaceTemplate, Gallery, Precision, ScoredCandidate, Unidentified,
};
use crate::store::{BiometricRepository, FaceEnrolee, NewFaceTemplate};

const CONSENT_COLUMNS: &str = "id, client_id, purpose, granted_at, recorded_by, \
    guardian_name is not null as has_guardian, withdrawn_at, withdrawn_by";

const TEMPLATE_COLUMNS: &str =
    "id, client_id, thumbnail_encrypted is not null as has_thumbnail, enrolled_by, created_at";

fn corrupt_template() -> Error {
    Error::Database {
        code: None,
        message: "a stored face template is not 512 finite values; the database file may be \
                  damaged"
            .into(),
    }
}

/// A stored template's BLOB as an embedding.
fn embedding_of(bytes: &[u8]) -> Result<FaceEmbedding> {
    FaceEmbedding::from_le_bytes(bytes).map_err(|_| corrupt_template())
}

/// Templates inserted per statement by a bulk enrolment: 64 rows are 258 parameters,
/// well under SQLite's limit, and the statement is prepared once per connection.
const INSERT_ROWS: usize = 64;

/// Values as one JSON array, the form in which a statement takes a list of ids
/// (`… in (select value from json_each(?n))`).
fn json_list<T: serde::Serialize>(values: &T) -> Result<String> {
    serde_json::to_string(values).map_err(|e| Error::Database {
        code: None,
        message: format!("cannot list the ids: {e}"),
    })
}

fn client_of(id: &str) -> Result<ClientId> {
    Ok(ClientId::from_uuid(uuid_of(id)?))
}

/// The last `face_changes` row a [`FaceIndex`] applied.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Applied {
    /// Its id (0: the table was empty).
    id: i64,
    /// Whose change it was and when it was logged; checked against the row on the next
    /// sync. A change read by the index inside a transaction that then rolled back is
    /// gone from the log, and its id may be taken again by a later change (a rollback
    /// also rolls back AUTOINCREMENT's counter): either way the row no longer matches,
    /// and the index reloads instead of trusting what it applied.
    row: Option<(String, i64)>,
}

/// What the index's gallery scans: int8 rows beside the `f32` ones, a quarter more
/// memory (2.5 KB a template) for a scan reading a quarter of the bytes (about 1.5 ms
/// instead of 7 at 110 000 templates on the benchmark machine), still exact (see
/// [`Gallery::top_k_within`]). A single enrolment's duplicate check and a face check-in
/// are each one scan.
fn new_gallery() -> Gallery {
    Gallery::with_precision(Precision::Int8)
}

struct IndexState {
    gallery: Gallery,
    /// `None` until the first load.
    applied: Option<Applied>,
}

impl Default for IndexState {
    fn default() -> Self {
        Self {
            gallery: new_gallery(),
            applied: None,
        }
    }
}

/// Every active face template of one database file, in memory, for exact search.
///
/// Shared by all transactions of a store. It brings itself up to date inside the
/// transaction that searches, from the `face_changes` log (see the module's docs), so
/// it never needs to be told about changes; the first search loads every template.
pub(crate) struct FaceIndex {
    state: RwLock<IndexState>,
}

impl std::fmt::Debug for FaceIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.read();
        f.debug_struct("FaceIndex")
            .field("templates", &state.gallery.len())
            .field("loaded", &state.applied.is_some())
            .finish()
    }
}

impl Default for FaceIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl FaceIndex {
    /// An empty index; it loads at its first use.
    pub(crate) fn new() -> Self {
        Self {
            state: RwLock::new(IndexState::default()),
        }
    }

    // A panic while the lock was held leaves a gallery that is still whole (every
    // mutation is a single call), so a poisoned lock is used as it is.
    fn read(&self) -> RwLockReadGuard<'_, IndexState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, IndexState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Templates held (0 before the first load).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.read().gallery.len()
    }

    /// Brings the gallery up to date with what `conn`'s transaction sees: every change
    /// logged after the last one applied, or everything at the first use (and whenever
    /// the last change applied is no longer in the log).
    ///
    /// The gallery's lock is never held across an `await`: rows are read first, then
    /// applied in one short critical section, and only if no other transaction moved
    /// the index meanwhile (it would then be at least as fresh).
    ///
    /// `writer` says `conn`'s transaction holds the write lock (begun `IMMEDIATE`), so it
    /// sees the newest committed state. A read transaction's snapshot may be older than
    /// what the index applied, which from inside it looks just like a rolled-back
    /// change; it then gets the gallery of its own snapshot back (`Some`) to search,
    /// and the shared index is left as it is: it never moves back to an older state.
    pub(crate) async fn sync(
        &self,
        conn: &mut SqliteConnection,
        writer: bool,
    ) -> Result<Option<Gallery>> {
        let applied = self.read().applied.clone();
        let Some(applied) = applied else {
            return self.reload(conn, None, writer).await;
        };
        if applied.id > 0 {
            let still: Option<(String, i64)> =
                sqlx::query_as("select client_id, changed_at from face_changes where id = ?1")
                    .bind(applied.id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(errors::map)?;
            if still != applied.row {
                return self.reload(conn, Some(applied), writer).await;
            }
        }
        let changes: Vec<(i64, String, i64)> = sqlx::query_as(
            "select id, client_id, changed_at from face_changes where id > ?1 order by id",
        )
        .bind(applied.id)
        .fetch_all(&mut *conn)
        .await
        .map_err(errors::map)?;
        let Some((last_id, last_client, last_at)) = changes.last().cloned() else {
            return Ok(None);
        };
        let members: BTreeSet<String> = changes.into_iter().map(|(_, c, _)| c).collect();
        // One query for all changed members: their ids travel as one JSON array.
        let list = json_list(&members)?;
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "select client_id, embedding from biometrics where is_active and type = 'FACE' \
             and client_id in (select value from json_each(?1))",
        )
        .bind(list)
        .fetch_all(&mut *conn)
        .await
        .map_err(errors::map)?;
        let mut current = Vec::with_capacity(rows.len());
        for (client, blob) in rows {
            current.push((client, embedding_of(&blob)?));
        }
        // A set: after a bulk enrolment elsewhere both lists hold thousands.
        let found: std::collections::HashSet<&str> =
            current.iter().map(|(c, _)| c.as_str()).collect();
        let removed: Vec<ClientId> = members
            .iter()
            .filter(|m| !found.contains(m.as_str()))
            .map(|m| client_of(m))
            .collect::<Result<_>>()?;
        let current: Vec<(ClientId, FaceEmbedding)> = current
            .into_iter()
            .map(|(c, e)| Ok((client_of(&c)?, e)))
            .collect::<Result<_>>()?;
        let mut state = self.write();
        if state.applied.as_ref() != Some(&applied) {
            return Ok(None);
        }
        for (client, embedding) in &current {
            state.gallery.upsert(*client, embedding);
        }
        for client in removed {
            state.gallery.remove(client);
        }
        state.applied = Some(Applied {
            id: last_id,
            row: Some((last_client, last_at)),
        });
        Ok(None)
    }

    /// Loads every active template. The log's position is read in the same transaction
    /// as the templates, so the two agree. `seen` is what the caller found in the index
    /// (the result is kept only if nobody replaced it meanwhile). A read transaction
    /// (`writer` false) that found the index out of step with its snapshot gets the
    /// gallery back instead (see [`FaceIndex::sync`]).
    async fn reload(
        &self,
        conn: &mut SqliteConnection,
        seen: Option<Applied>,
        writer: bool,
    ) -> Result<Option<Gallery>> {
        let last: Option<(i64, String, i64)> = sqlx::query_as(
            "select id, client_id, changed_at from face_changes order by id desc limit 1",
        )
        .fetch_optional(&mut *conn)
        .await
        .map_err(errors::map)?;
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "select client_id, embedding from biometrics where is_active and type = 'FACE'",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(errors::map)?;
        let mut gallery = new_gallery();
        gallery.reserve(rows.len());
        for (client, blob) in rows {
            gallery.upsert(client_of(&client)?, &embedding_of(&blob)?);
        }
        if !writer && seen.is_some() {
            return Ok(Some(gallery));
        }
        let mut state = self.write();
        if state.applied != seen {
            return Ok(None);
        }
        state.gallery = gallery;
        state.applied = Some(match last {
            Some((id, client, at)) => Applied {
                id,
                row: Some((client, at)),
            },
            None => Applied { id: 0, row: None },
        });
        Ok(None)
    }
}

/// The `k` templates of `gallery` nearest to `probe` within `max_distance`, nearest
/// first (ties by client id, as PostgreSQL orders them), without `exclude`'s. Call
/// [`FaceIndex::sync`] first.
fn nearest_in(
    gallery: &Gallery,
    probe: &FaceEmbedding,
    k: usize,
    max_distance: f32,
    exclude: Option<ClientId>,
) -> Vec<ScoredCandidate> {
    let ranked = gallery.top_k_within(
        probe,
        k.saturating_add(usize::from(exclude.is_some())),
        max_distance,
    );
    rank(ranked, k, exclude)
}

/// Drops `exclude`, orders by distance then client id, keeps `k`.
fn rank(
    mut ranked: Vec<ScoredCandidate>,
    k: usize,
    exclude: Option<ClientId>,
) -> Vec<ScoredCandidate> {
    ranked.retain(|c| Some(c.client_id) != exclude);
    ranked.sort_by(|a, b| {
        a.distance
            .total_cmp(&b.distance)
            .then_with(|| a.client_id.as_uuid().cmp(&b.client_id.as_uuid()))
    });
    ranked.truncate(k);
    ranked
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: String,
    client_id: String,
    purpose: String,
    granted_at: i64,
    recorded_by: Option<String>,
    has_guardian: bool,
    withdrawn_at: Option<i64>,
    withdrawn_by: Option<String>,
}

impl TryFrom<ConsentRow> for BiometricConsent {
    type Error = Error;
    fn try_from(r: ConsentRow) -> Result<Self> {
        Ok(Self {
            id: uuid_of(&r.id)?,
            client_id: client_of(&r.client_id)?,
            purpose: r.purpose,
            granted_at: instant(r.granted_at)?,
            recorded_by: r.recorded_by,
            has_guardian: r.has_guardian,
            withdrawn_at: r.withdrawn_at.map(instant).transpose()?,
            withdrawn_by: r.withdrawn_by,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TemplateRow {
    id: String,
    client_id: String,
    has_thumbnail: bool,
    enrolled_by: Option<String>,
    created_at: i64,
}

impl TryFrom<TemplateRow> for FaceTemplate {
    type Error = Error;
    fn try_from(r: TemplateRow) -> Result<Self> {
        Ok(Self {
            id: uuid_of(&r.id)?,
            client_id: client_of(&r.client_id)?,
            has_thumbnail: r.has_thumbnail,
            enrolled_by: r.enrolled_by,
            enrolled_at: instant(r.created_at)?,
        })
    }
}

#[async_trait]
impl BiometricRepository for SqliteTransaction {
    async fn insert_consent(
        &mut self,
        consent: &NewConsent,
        recorded_by: &str,
    ) -> Result<BiometricConsent> {
        let (name, doc_type, number) = match &consent.guardian {
            Some((name, doc_type, number)) => (
                Some(name.as_str()),
                Some(doc_type.as_str()),
                Some(number.as_str()),
            ),
            None => (None, None, None),
        };
        let row: ConsentRow = sqlx::query_as(AssertSqlSafe(format!(
            "insert into biometric_consents (id, client_id, purpose, granted_at, recorded_by, \
             guardian_name, guardian_document_type, guardian_document_number) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) returning {CONSENT_COLUMNS}"
        )))
        .bind(Uuid::new_v4().to_string())
        .bind(consent.client_id.as_uuid().to_string())
        .bind(&consent.purpose)
        .bind(micros(consent.granted_at))
        .bind(recorded_by)
        .bind(name)
        .bind(doc_type)
        .bind(number)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        row.try_into()
    }

    async fn active_consent(&mut self, client: ClientId) -> Result<Option<BiometricConsent>> {
        // No row lock: the IMMEDIATE transaction is already the file's only writer, so
        // no withdrawal can pass this enrolment.
        let row: Option<ConsentRow> = sqlx::query_as(AssertSqlSafe(format!(
            "select {CONSENT_COLUMNS} from biometric_consents \
             where client_id = ?1 and withdrawn_at is null"
        )))
        .bind(client.as_uuid().to_string())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        row.map(BiometricConsent::try_from).transpose()
    }

    async fn consents(&mut self, client: ClientId) -> Result<Vec<BiometricConsent>> {
        let rows: Vec<ConsentRow> = sqlx::query_as(AssertSqlSafe(format!(
            "select {CONSENT_COLUMNS} from biometric_consents where client_id = ?1 \
             order by granted_at desc, id desc"
        )))
        .bind(client.as_uuid().to_string())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        rows.into_iter().map(BiometricConsent::try_from).collect()
    }

    async fn withdraw_consent(
        &mut self,
        client: ClientId,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<Option<BiometricConsent>> {
        // The schema's `biometric_consents_withdrawn` trigger erases the templates in
        // this same statement.
        let row: Option<ConsentRow> = sqlx::query_as(AssertSqlSafe(format!(
            "update biometric_consents set withdrawn_at = max(?2, granted_at), withdrawn_by = ?3 \
             where client_id = ?1 and withdrawn_at is null returning {CONSENT_COLUMNS}"
        )))
        .bind(client.as_uuid().to_string())
        .bind(micros(at))
        .bind(by)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        row.map(BiometricConsent::try_from).transpose()
    }

    async fn lock_face_enrolment(&mut self) -> Result<()> {
        // The transaction began IMMEDIATE: it is the only writer of the file until it
        // ends, so enrolments are already serialised.
        Ok(())
    }

    async fn replace_face_template(&mut self, t: &NewFaceTemplate) -> Result<FaceTemplate> {
        let client = t.client_id.as_uuid().to_string();
        // Old rows are deleted, not deactivated: a replaced template is biometric data
        // the gym no longer needs.
        sqlx::query("delete from biometrics where client_id = ?1 and type = 'FACE'")
            .bind(&client)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        let meta = serde_json::json!({
            "embedding_dimensions": crate::face::EMBEDDING_DIM,
            "normalised": true,
            "thumbnail_format": t.sealed_thumbnail.as_ref().map(|_| "aes-256-gcm/v1"),
        });
        // PostgreSQL's trigger links the template to the consent in force by assigning
        // `consent_id`; SQLite's triggers cannot assign, so the insert names it and the
        // schema's `biometrics_consent_required` trigger refuses a template without one
        // (or a minor's without a guardian's), with PostgreSQL's constraint names.
        let now = micros(Utc::now());
        let row: TemplateRow = sqlx::query_as(AssertSqlSafe(format!(
            "insert into biometrics (id, client_id, type, embedding, thumbnail_encrypted, is_active, \
             meta_info, enrolled_by, consent_id, created_at, updated_at) \
             values (?1, ?2, 'FACE', ?3, ?4, 1, ?5, ?6, \
             (select id from biometric_consents where client_id = ?2 and withdrawn_at is null), \
             ?7, ?7) returning {TEMPLATE_COLUMNS}"
        )))
        .bind(t.id.to_string())
        .bind(&client)
        .bind(t.embedding.to_le_bytes())
        .bind(t.sealed_thumbnail.as_deref())
        .bind(meta.to_string())
        .bind(t.enrolled_by.as_deref())
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        row.try_into()
    }

    async fn delete_face_templates(&mut self, client: ClientId) -> Result<u64> {
        let done = sqlx::query("delete from biometrics where client_id = ?1")
            .bind(client.as_uuid().to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(done.rows_affected())
    }

    async fn discard_face_templates(
        &mut self,
        templates: &[(Uuid, ClientId)],
        written_after: i64,
    ) -> Result<u64> {
        if templates.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = templates.iter().map(|(id, _)| id.to_string()).collect();
        let clients: Vec<String> = templates
            .iter()
            .map(|(_, c)| c.as_uuid().to_string())
            .collect();
        let (ids, clients) = (json_list(&ids)?, json_list(&clients)?);
        let done =
            sqlx::query("delete from biometrics where id in (select value from json_each(?1))")
                .bind(ids)
                .execute(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        // The log's entries for these members since the mark: the insert's, and the one
        // the delete above just added.
        sqlx::query(
            "delete from face_changes where id > ?1 \
             and client_id in (select value from json_each(?2))",
        )
        .bind(written_after)
        .bind(clients)
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(done.rows_affected())
    }

    async fn face_template(
        &mut self,
        client: ClientId,
    ) -> Result<Option<(FaceTemplate, FaceEmbedding)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            template: TemplateRow,
            embedding: Vec<u8>,
        }
        let row: Option<Row> = sqlx::query_as(AssertSqlSafe(format!(
            "select {TEMPLATE_COLUMNS}, embedding from biometrics \
             where client_id = ?1 and type = 'FACE' and is_active"
        )))
        .bind(client.as_uuid().to_string())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        row.map(|r| Ok((r.template.try_into()?, embedding_of(&r.embedding)?)))
            .transpose()
    }

    async fn sealed_thumbnail(&mut self, client: ClientId) -> Result<Option<(Uuid, Vec<u8>)>> {
        let row: Option<(String, Option<Vec<u8>>)> = sqlx::query_as(
            "select id, thumbnail_encrypted from biometrics \
             where client_id = ?1 and type = 'FACE' and is_active",
        )
        .bind(client.as_uuid().to_string())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        match row {
            Some((id, Some(sealed))) => Ok(Some((uuid_of(&id)?, sealed))),
            _ => Ok(None),
        }
    }

    async fn nearest_faces(
        &mut self,
        probe: &FaceEmbedding,
        k: usize,
        max_distance: f32,
        exclude: Option<ClientId>,
        // There is no approximate index on SQLite: the in-process gallery compares the
        // probe with every template, which is exact whatever search was asked for.
        _search: FaceSearch,
    ) -> Result<Vec<ScoredCandidate>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        Ok(
            match self.faces.sync(&mut self.tx, !self.read_only).await? {
                Some(snapshot) => nearest_in(&snapshot, probe, k, max_distance, exclude),
                None => nearest_in(&self.faces.read().gallery, probe, k, max_distance, exclude),
            },
        )
    }

    async fn visit_face_templates(
        &mut self,
        visit: &mut (dyn FnMut(ClientId, FaceEmbedding) + Send),
    ) -> Result<u64> {
        // One statement, streamed row by row: one snapshot, and the BLOBs are never all
        // held at once next to the gallery they fill.
        let mut rows = sqlx::query_as::<_, (String, Vec<u8>)>(
            "select client_id, embedding from biometrics where is_active and type = 'FACE'",
        )
        .fetch(&mut *self.tx);
        let mut seen = 0;
        while let Some((id, blob)) = rows.try_next().await.map_err(errors::map)? {
            visit(client_of(&id)?, embedding_of(&blob)?);
            seen += 1;
        }
        Ok(seen)
    }

    async fn count_face_templates(&mut self) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar("select count(*) from biometrics where is_active and type = 'FACE'")
                .fetch_one(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        Ok(n.max(0) as u64)
    }

    async fn lock_face_enrolees(&mut self, clients: &[ClientId]) -> Result<Vec<FaceEnrolee>> {
        // No row locks: the IMMEDIATE transaction is already the file's only writer.
        // The ids travel as one JSON array.
        let ids: Vec<String> = clients.iter().map(|c| c.as_uuid().to_string()).collect();
        let list = json_list(&ids)?;
        let rows: Vec<(String, bool, Option<String>, bool)> = sqlx::query_as(
            "select c.id, c.is_active, (select b.id from biometric_consents b \
                 where b.client_id = c.id and b.withdrawn_at is null), \
                 exists (select 1 from biometrics t where t.client_id = c.id) \
             from clients c where c.id in (select value from json_each(?1)) order by c.id",
        )
        .bind(list)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        rows.into_iter()
            .map(|(id, is_active, consent, has_biometrics)| {
                Ok(FaceEnrolee {
                    client_id: client_of(&id)?,
                    is_active,
                    consent: consent.map(|c| uuid_of(&c)).transpose()?,
                    has_biometrics,
                })
            })
            .collect()
    }

    async fn insert_face_templates(
        &mut self,
        templates: &[NewFaceTemplate],
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64> {
        // SQLite's equal of COPY: one prepared insert run once per row in this one
        // transaction (sqlx caches the prepared statement per connection).
        let meta = r#"{"embedding_dimensions":512,"normalised":true,"thumbnail_format":null}"#;
        let now = micros(Utc::now());
        // Replaced templates are deleted first, in one statement.
        let ids: Vec<String> = templates
            .iter()
            .map(|t| t.client_id.as_uuid().to_string())
            .collect();
        let list = json_list(&ids)?;
        sqlx::query(
            "delete from biometrics where type = 'FACE' \
             and client_id in (select value from json_each(?1))",
        )
        .bind(list)
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        // Many rows per statement: each statement is a trip to sqlx's worker thread
        // (about as long as SQLite's own work for a row), so one per row spent half the
        // time travelling. The triggers still check every row.
        let mut done = 0u64;
        for (chunk, clients) in templates.chunks(INSERT_ROWS).zip(ids.chunks(INSERT_ROWS)) {
            let mut sql = String::from(
                "insert into biometrics (id, client_id, type, embedding, is_active, meta_info, \
                 enrolled_by, consent_id, created_at, updated_at) values ",
            );
            for i in 0..chunk.len() {
                let p = i * 4;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(?{a}, ?{b}, 'FACE', ?{c}, 1, ?1, ?{d}, (select id from biometric_consents \
                     where client_id = ?{b} and withdrawn_at is null), ?2, ?2)",
                    a = p + 3,
                    b = p + 4,
                    c = p + 5,
                    d = p + 6,
                ));
            }
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(meta).bind(now);
            for (t, client) in chunk.iter().zip(clients) {
                query = query
                    .bind(t.id.to_string())
                    .bind(client.as_str())
                    .bind(t.embedding.to_le_bytes())
                    .bind(t.enrolled_by.as_deref());
            }
            query.execute(&mut *self.tx).await.map_err(errors::map)?;
            let before = done;
            done += chunk.len() as u64;
            // About every thousand rows: a host's callback (Python, Kotlin) costs more
            // than a chunk.
            if before / 1_000 != done / 1_000 || done == templates.len() as u64 {
                progress(done);
            }
        }
        Ok(done)
    }

    async fn face_change_mark(&mut self) -> Result<i64> {
        sqlx::query_scalar("select coalesce(max(id), 0) from face_changes")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)
    }

    async fn face_templates_changed_since(
        &mut self,
        mark: i64,
    ) -> Result<Vec<(ClientId, FaceEmbedding)>> {
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "select client_id, embedding from biometrics where is_active and type = 'FACE' \
             and client_id in (select client_id from face_changes where id > ?1) \
             order by client_id",
        )
        .bind(mark)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        rows.into_iter()
            .map(|(id, blob)| Ok((client_of(&id)?, embedding_of(&blob)?)))
            .collect()
    }

    async fn face_template_ids_changed_since(
        &mut self,
        mark: i64,
    ) -> Result<Vec<(ClientId, Uuid)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "select client_id, id from biometrics where is_active and type = 'FACE' \
             and client_id in (select client_id from face_changes where id > ?1)",
        )
        .bind(mark)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        rows.into_iter()
            .map(|(c, id)| Ok((client_of(&c)?, uuid_of(&id)?)))
            .collect()
    }

    async fn face_templates_of(
        &mut self,
        clients: &[ClientId],
    ) -> Result<Vec<(ClientId, FaceEmbedding)>> {
        let ids: Vec<String> = clients.iter().map(|c| c.as_uuid().to_string()).collect();
        let list = json_list(&ids)?;
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "select client_id, embedding from biometrics where is_active and type = 'FACE' \
             and client_id in (select value from json_each(?1))",
        )
        .bind(list)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        rows.into_iter()
            .map(|(id, blob)| Ok((client_of(&id)?, embedding_of(&blob)?)))
            .collect()
    }

    async fn count_face_changes_since(&mut self, mark: i64) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("select count(*) from face_changes where id > ?1")
            .bind(mark)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(n.max(0) as u64)
    }

    async fn insert_face_refusal(
        &mut self,
        refusal: Unidentified,
        at: DateTime<Utc>,
        on: NaiveDate,
        by: &str,
    ) -> Result<()> {
        super::attendance::insert_denial_row(
            self,
            None,
            refusal.code(),
            crate::domain::access::CheckInMethod::Face,
            at,
            on,
            by,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use super::super::testing::{TempDb, admin, client, day, migrated};
    use super::*;
    use crate::domain::client::{
        ClientInput, DocumentNumber, DocumentType, Gender, NewClient, PersonName,
    };
    use crate::face::EMBEDDING_DIM;
    use crate::store::Store;

    /// A unit vector along axis `i`: different axes are as far apart as faces get.
    fn face(i: usize) -> FaceEmbedding {
        let mut v = vec![0.0f32; EMBEDDING_DIM];
        v[i] = 1.0;
        FaceEmbedding::from_slice(&v).unwrap()
    }

    fn consent(client: ClientId, guardian: bool) -> NewConsent {
        NewConsent {
            client_id: client,
            purpose: "face check-in at the front desk".into(),
            guardian: guardian.then(|| {
                (
                    PersonName::parse("guardian_name", "Rosa Pérez").unwrap(),
                    DocumentType::Cc,
                    DocumentNumber::parse(DocumentType::Cc, "52000111").unwrap(),
                )
            }),
            granted_at: Utc::now(),
        }
    }

    fn template(client: ClientId, embedding: FaceEmbedding) -> NewFaceTemplate {
        NewFaceTemplate {
            id: Uuid::new_v4(),
            client_id: client,
            embedding,
            sealed_thumbnail: Some(vec![1, 2, 3, 4]),
            enrolled_by: Some("admin".into()),
            consent_id: None,
        }
    }

    async fn nearest(store: &SqliteStore, probe: &FaceEmbedding) -> Vec<ClientId> {
        let mut tx = store.begin().await.unwrap();
        tx.nearest_faces(probe, 2, f32::INFINITY, None, FaceSearch::default())
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.client_id)
            .collect()
    }

    #[tokio::test]
    async fn erasure_holds_for_a_program_that_leaves_foreign_keys_off() {
        use sqlx::Connection;
        let (store, db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let ana = client(&mut tx, "2001").await;
        let luz = client(&mut tx, "2002").await;
        for (who, axis) in [(ana.id, 3), (luz.id, 4)] {
            tx.insert_consent(&consent(who, false), "admin")
                .await
                .unwrap();
            tx.replace_face_template(&template(who, face(axis)))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        // Another program on the file: the sqlite3 shell's default is foreign_keys off.
        let mut other = sqlx::SqliteConnection::connect(&db.url()).await.unwrap();
        sqlx::query("pragma foreign_keys = off")
            .execute(&mut other)
            .await
            .unwrap();
        sqlx::query("delete from biometric_consents where client_id = ?1")
            .bind(ana.id.to_string())
            .execute(&mut other)
            .await
            .unwrap();
        sqlx::query("delete from clients where id = ?1")
            .bind(luz.id.to_string())
            .execute(&mut other)
            .await
            .unwrap();
        let left: i64 = sqlx::query_scalar("select count(*) from biometrics")
            .fetch_one(&mut other)
            .await
            .unwrap();
        assert_eq!(left, 0, "a template outlived its consent or its member");
        assert!(nearest(&store, &face(3)).await.is_empty());
        assert!(nearest(&store, &face(4)).await.is_empty());
    }

    #[tokio::test]
    async fn a_template_needs_consent_and_a_minor_a_guardian() {
        let (store, _db) = migrated().await;
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let ana = client(&mut tx, "1001").await;
        let err = tx.replace_face_template(&template(ana.id, face(0))).await;
        assert_eq!(err.unwrap_err(), Error::ConsentRequired { guardian: false });
        let given = tx
            .insert_consent(&consent(ana.id, false), "admin")
            .await
            .unwrap();
        assert!(given.is_active() && !given.has_guardian);
        let err = tx.insert_consent(&consent(ana.id, false), "admin").await;
        assert!(matches!(err, Err(Error::AlreadyExists { .. })), "{err:?}");
        assert_eq!(
            tx.active_consent(ana.id).await.unwrap(),
            Some(given.clone())
        );
        let stored = tx
            .replace_face_template(&template(ana.id, face(0)))
            .await
            .unwrap();
        assert!(stored.has_thumbnail);
        let (again, embedding) = tx.face_template(ana.id).await.unwrap().unwrap();
        assert_eq!((again, embedding), (stored.clone(), face(0)));
        assert_eq!(
            tx.sealed_thumbnail(ana.id).await.unwrap(),
            Some((stored.id, vec![1, 2, 3, 4]))
        );
        // Unknown members.
        let nobody = ClientId::from_uuid(Uuid::new_v4());
        let err = tx.insert_consent(&consent(nobody, false), "admin").await;
        assert_eq!(err.unwrap_err(), Error::NotFound { entity: "client" });

        // A minor (TI): no consent without a guardian's, no template under one either.
        let minor = NewClient::parse(
            ClientInput {
                document_type: DocumentType::Ti,
                document_number: "1012345678".into(),
                first_name: "Luis".into(),
                middle_name: None,
                last_name: "Gómez".into(),
                second_last_name: None,
                phone: "3001234567".into(),
                alternative_phone: None,
                email: None,
                birth_date: day("2012-05-01"),
                gender: Gender::Male,
                address: None,
            },
            day("2026-03-01"),
        )
        .unwrap();
        let luis = tx.insert_client(&minor, "admin").await.unwrap();
        let err = tx.insert_consent(&consent(luis.id, false), "admin").await;
        assert_eq!(err.unwrap_err(), Error::ConsentRequired { guardian: true });
        let err = tx.replace_face_template(&template(luis.id, face(1))).await;
        assert_eq!(err.unwrap_err(), Error::ConsentRequired { guardian: false });
        tx.insert_consent(&consent(luis.id, true), "admin")
            .await
            .unwrap();
        tx.replace_face_template(&template(luis.id, face(1)))
            .await
            .unwrap();

        // Withdrawal erases the templates with it; the consent stays as the record.
        let at = Utc::now();
        let withdrawn = tx
            .withdraw_consent(ana.id, at, "admin")
            .await
            .unwrap()
            .unwrap();
        assert!(!withdrawn.is_active());
        assert_eq!(tx.face_template(ana.id).await.unwrap(), None);
        assert_eq!(
            tx.withdraw_consent(ana.id, at, "admin").await.unwrap(),
            None
        );
        assert_eq!(tx.consents(ana.id).await.unwrap(), vec![withdrawn]);
        tx.commit().await.unwrap();
        assert_eq!(nearest(&store, &face(0)).await, vec![luis.id]);
    }

    #[tokio::test]
    async fn search_follows_enrolment_erasure_and_other_handles_on_the_file() {
        let (store, db) = migrated().await;
        let other = SqliteStore::open(&db.url()).await.unwrap();
        // The second handle loads its (empty) gallery before anything is enrolled.
        assert!(nearest(&other, &face(0)).await.is_empty());
        assert_eq!(other.faces.len(), 0);

        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let ana = client(&mut tx, "1001").await;
        let ben = client(&mut tx, "1002").await;
        for c in [&ana, &ben] {
            tx.insert_consent(&consent(c.id, false), "admin")
                .await
                .unwrap();
        }
        assert_eq!(tx.face_change_mark().await.unwrap(), 0);
        tx.lock_face_enrolment().await.unwrap();
        tx.replace_face_template(&template(ana.id, face(0)))
            .await
            .unwrap();
        tx.replace_face_template(&template(ben.id, face(1)))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        // Found by this handle, nearest first, and by the other one.
        let mut tx = store.begin().await.unwrap();
        let found = tx
            .nearest_faces(&face(0), 5, f32::INFINITY, None, FaceSearch::Exact)
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|c| c.client_id).collect::<Vec<_>>(),
            vec![ana.id, ben.id]
        );
        assert!(found[0].distance.abs() < 1e-6);
        let skip = tx
            .nearest_faces(&face(0), 1, f32::INFINITY, Some(ana.id), FaceSearch::Exact)
            .await
            .unwrap();
        assert_eq!(
            skip.iter().map(|c| c.client_id).collect::<Vec<_>>(),
            vec![ben.id]
        );
        let mark = tx.face_change_mark().await.unwrap();
        assert!(mark >= 2);
        drop(tx);
        assert_eq!(nearest(&other, &face(1)).await, vec![ben.id, ana.id]);
        assert_eq!(other.faces.len(), 2);

        // Re-enrolment moves a face; erasure removes it, for both handles.
        let mut tx = other.begin().await.unwrap();
        tx.replace_face_template(&template(ana.id, face(2)))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.count_face_changes_since(mark).await.unwrap(), 2);
        let changed = tx.face_templates_changed_since(mark).await.unwrap();
        assert_eq!(changed, vec![(ana.id, face(2))]);
        assert_eq!(tx.delete_face_templates(ben.id).await.unwrap(), 1);
        tx.commit().await.unwrap();
        assert_eq!(nearest(&store, &face(2)).await, vec![ana.id]);
        assert_eq!(nearest(&other, &face(1)).await, vec![ana.id]);
        let mut tx = store.begin().await.unwrap();
        let mut all = Vec::new();
        let seen = tx
            .visit_face_templates(&mut |c, e| all.push((c, e)))
            .await
            .unwrap();
        assert_eq!((seen, all), (1, vec![(ana.id, face(2))]));
        assert_eq!(tx.count_face_templates().await.unwrap(), 1);
        drop(tx);

        // A change the index read inside a transaction that then rolled back is not
        // kept: the next search reloads.
        let mut tx = store.begin().await.unwrap();
        tx.delete_face_templates(ana.id).await.unwrap();
        assert!(
            tx.nearest_faces(&face(2), 2, f32::INFINITY, None, FaceSearch::Exact)
                .await
                .unwrap()
                .is_empty()
        );
        drop(tx);
        assert_eq!(nearest(&store, &face(2)).await, vec![ana.id]);
        other.close().await;
        drop(db);
    }

    #[tokio::test]
    async fn an_index_loaded_from_an_empty_log_follows_its_first_change() {
        let db = TempDb::new();
        let store = SqliteStore::open(&db.url()).await.unwrap();
        crate::migrate::Migrations::sqlite(store.pool().clone())
            .run()
            .await
            .unwrap();
        assert!(nearest(&store, &face(0)).await.is_empty());
        let mut tx = store.begin().await.unwrap();
        admin(&mut tx).await;
        let ana = client(&mut tx, "1001").await;
        tx.insert_consent(&consent(ana.id, false), "admin")
            .await
            .unwrap();
        tx.replace_face_template(&template(ana.id, face(7)))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(nearest(&store, &face(7)).await, vec![ana.id]);
    }
}
