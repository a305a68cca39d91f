//! Consents, face templates and the pgvector search on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use pgvector::Vector;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{PgTransaction, errors};
use crate::domain::consent::{BiometricConsent, NewConsent};
use crate::domain::ids::ClientId;
use crate::error::Result;
use crate::face::{FaceEmbedding, FaceSearch, FaceTemplate, ScoredCandidate, Unidentified};
use crate::store::{BiometricRepository, FaceEnrolee, NewFaceTemplate};

use super::ops::FACE_INDEX;

const CONSENT_COLUMNS: &str = "id, client_id, purpose, granted_at, recorded_by, \
    guardian_name is not null as has_guardian, withdrawn_at, withdrawn_by";

/// Key of the transaction-scoped advisory lock that serialises enrolments
/// (`'powergym.face.enrol'` folded to 64 bits; any constant unique to this use works).
const ENROLMENT_LOCK: i64 = 0x5057_4745_4e52_4f4c;

#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: Uuid,
    client_id: Uuid,
    purpose: String,
    granted_at: DateTime<Utc>,
    recorded_by: Option<String>,
    has_guardian: bool,
    withdrawn_at: Option<DateTime<Utc>>,
    withdrawn_by: Option<String>,
}

impl From<ConsentRow> for BiometricConsent {
    fn from(r: ConsentRow) -> Self {
        Self {
            id: r.id,
            client_id: ClientId::from_uuid(r.client_id),
            purpose: r.purpose,
            granted_at: r.granted_at,
            recorded_by: r.recorded_by,
            has_guardian: r.has_guardian,
            withdrawn_at: r.withdrawn_at,
            withdrawn_by: r.withdrawn_by,
        }
    }
}

#[derive(sqlx::FromRow)]
struct TemplateRow {
    id: Uuid,
    client_id: Uuid,
    has_thumbnail: bool,
    enrolled_by: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<TemplateRow> for FaceTemplate {
    fn from(r: TemplateRow) -> Self {
        Self {
            id: r.id,
            client_id: ClientId::from_uuid(r.client_id),
            has_thumbnail: r.has_thumbnail,
            enrolled_by: r.enrolled_by,
            enrolled_at: r.created_at,
        }
    }
}

/// Rows per `COPY` data message of a bulk enrolment.
const COPY_CHUNK: usize = 1_000;
/// Bytes a template takes in `COPY … (format binary)`, about.
const COPY_ROW_BYTES: usize = 2_200;

/// A bulk load builds the HNSW index after the rows, instead of inserting each into it,
/// when it adds at least this many templates to an empty gallery (a first import): the
/// index is dropped inside the load's transaction, which holds an exclusive lock on the
/// templates table until it commits. With no face enrolled yet no door depends on it;
/// into a gallery in use, each row goes into the live index instead, and face search
/// goes on meanwhile.
const REBUILD_INDEX_FROM: usize = 10_000;

/// `COPY` binary metadata of a template, as a single enrolment writes it.
const META_NO_THUMBNAIL: &str =
    r#"{"normalised": true, "thumbnail_format": null, "embedding_dimensions": 512}"#;

/// Appends one `(id, client_id, embedding, meta_info, enrolled_by)` tuple in `COPY`
/// binary format.
fn copy_row(buf: &mut Vec<u8>, t: &NewFaceTemplate) {
    buf.extend_from_slice(&6_i16.to_be_bytes());
    buf.extend_from_slice(&16_i32.to_be_bytes());
    buf.extend_from_slice(t.id.as_bytes());
    buf.extend_from_slice(&16_i32.to_be_bytes());
    buf.extend_from_slice(t.client_id.as_uuid().as_bytes());
    // pgvector's binary form: dimensions (int16), unused (int16), big-endian float4s.
    let v = t.embedding.as_slice();
    buf.extend_from_slice(&((4 + 4 * v.len()) as i32).to_be_bytes());
    buf.extend_from_slice(&(v.len() as u16).to_be_bytes());
    buf.extend_from_slice(&0_u16.to_be_bytes());
    for x in v {
        buf.extend_from_slice(&x.to_be_bytes());
    }
    // jsonb's binary form: a version byte (1), then the text.
    buf.extend_from_slice(&(1 + META_NO_THUMBNAIL.len() as i32).to_be_bytes());
    buf.push(1);
    buf.extend_from_slice(META_NO_THUMBNAIL.as_bytes());
    match &t.enrolled_by {
        Some(by) => {
            buf.extend_from_slice(&(by.len() as i32).to_be_bytes());
            buf.extend_from_slice(by.as_bytes());
        }
        None => buf.extend_from_slice(&(-1_i32).to_be_bytes()),
    }
    // Named, the consent is checked once per statement (migration 0017); absent, the row
    // trigger finds it.
    match &t.consent_id {
        Some(id) => {
            buf.extend_from_slice(&16_i32.to_be_bytes());
            buf.extend_from_slice(id.as_bytes());
        }
        None => buf.extend_from_slice(&(-1_i32).to_be_bytes()),
    }
}

impl PgTransaction {
    /// The definition of the face index when a bulk load of `adding` templates should
    /// drop it and build it again afterwards (see [`REBUILD_INDEX_FROM`]).
    async fn face_index_to_rebuild(&mut self, adding: usize) -> Result<Option<String>> {
        if adding < REBUILD_INDEX_FROM {
            return Ok(None);
        }
        // Whether any template is active, asked only where the index exists: the schema
        // has none by default, and counting 100k rows cost a bulk call 10 ms.
        let definition: Option<String> = sqlx::query_scalar(
            "select d from (select pg_get_indexdef(to_regclass($1)) as d) i \
             where d is not null \
               and not exists (select 1 from biometrics where is_active and type = 'FACE')",
        )
        .bind(FACE_INDEX)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(definition)
    }
}

fn vector(e: &FaceEmbedding) -> Vector {
    Vector::from(e.as_slice().to_vec())
}

fn embedding(v: Vector) -> Result<FaceEmbedding> {
    FaceEmbedding::from_slice(v.as_slice())
}

#[async_trait]
impl BiometricRepository for PgTransaction {
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
        let row: ConsentRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "insert into biometric_consents (client_id, purpose, granted_at, recorded_by, \
             guardian_name, guardian_document_type, guardian_document_number) \
             values ($1, $2, $3, $4, $5, $6::document_type_enum, $7) returning {CONSENT_COLUMNS}"
        )))
        .bind(consent.client_id.as_uuid())
        .bind(&consent.purpose)
        .bind(consent.granted_at)
        .bind(recorded_by)
        .bind(name)
        .bind(doc_type)
        .bind(number)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(row.into())
    }

    async fn active_consent(&mut self, client: ClientId) -> Result<Option<BiometricConsent>> {
        let row: Option<ConsentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CONSENT_COLUMNS} from biometric_consents \
             where client_id = $1 and withdrawn_at is null"
        )))
        .bind(client.as_uuid())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(row.map(Into::into))
    }

    async fn consents(&mut self, client: ClientId) -> Result<Vec<BiometricConsent>> {
        let rows: Vec<ConsentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CONSENT_COLUMNS} from biometric_consents where client_id = $1 \
             order by granted_at desc, id desc"
        )))
        .bind(client.as_uuid())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn withdraw_consent(
        &mut self,
        client: ClientId,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<Option<BiometricConsent>> {
        // The table's trigger erases the templates in this same statement.
        let row: Option<ConsentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update biometric_consents set withdrawn_at = greatest($2, granted_at), withdrawn_by = $3 \
             where client_id = $1 and withdrawn_at is null returning {CONSENT_COLUMNS}"
        )))
        .bind(client.as_uuid())
        .bind(at)
        .bind(by)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(row.map(Into::into))
    }

    async fn lock_face_enrolment(&mut self) -> Result<()> {
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(ENROLMENT_LOCK)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(())
    }

    async fn replace_face_template(&mut self, t: &NewFaceTemplate) -> Result<FaceTemplate> {
        // Old rows are deleted, not deactivated: a replaced template is biometric data
        // the gym no longer needs.
        sqlx::query("delete from biometrics where client_id = $1 and type = 'FACE'")
            .bind(t.client_id.as_uuid())
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        let meta = serde_json::json!({
            "embedding_dimensions": crate::face::EMBEDDING_DIM,
            "normalised": true,
            "thumbnail_format": t.sealed_thumbnail.as_ref().map(|_| "aes-256-gcm/v1"),
        });
        let row: TemplateRow = sqlx::query_as(
            "insert into biometrics (id, client_id, type, embedding, thumbnail_encrypted, is_active, meta_info, enrolled_by, consent_id) \
             values ($1, $2, 'FACE', $3, $4, true, $5, $6, $7) \
             returning id, client_id, thumbnail_encrypted is not null as has_thumbnail, enrolled_by, created_at",
        )
        .bind(t.id)
        .bind(t.client_id.as_uuid())
        .bind(vector(&t.embedding))
        .bind(t.sealed_thumbnail.as_deref())
        .bind(meta)
        .bind(t.enrolled_by.as_deref())
        .bind(t.consent_id)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(row.into())
    }

    async fn delete_face_templates(&mut self, client: ClientId) -> Result<u64> {
        let done = sqlx::query("delete from biometrics where client_id = $1")
            .bind(client.as_uuid())
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        Ok(done.rows_affected())
    }

    async fn discard_face_templates(
        &mut self,
        templates: &[(Uuid, ClientId)],
        _written_after: i64,
    ) -> Result<u64> {
        if templates.is_empty() {
            return Ok(0);
        }
        let ids: Vec<Uuid> = templates.iter().map(|(id, _)| *id).collect();
        let done = sqlx::query("delete from biometrics where id = any($1)")
            .bind(ids)
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
            embedding: Vector,
        }
        let row: Option<Row> = sqlx::query_as(
            "select id, client_id, thumbnail_encrypted is not null as has_thumbnail, enrolled_by, \
             created_at, embedding from biometrics \
             where client_id = $1 and type = 'FACE' and is_active",
        )
        .bind(client.as_uuid())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        row.map(|r| Ok((r.template.into(), embedding(r.embedding)?)))
            .transpose()
    }

    async fn sealed_thumbnail(&mut self, client: ClientId) -> Result<Option<(Uuid, Vec<u8>)>> {
        let row: Option<(Uuid, Option<Vec<u8>>)> = sqlx::query_as(
            "select id, thumbnail_encrypted from biometrics \
             where client_id = $1 and type = 'FACE' and is_active",
        )
        .bind(client.as_uuid())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(row.and_then(|(id, sealed)| sealed.map(|s| (id, s))))
    }

    async fn nearest_faces(
        &mut self,
        probe: &FaceEmbedding,
        k: usize,
        max_distance: f32,
        exclude: Option<ClientId>,
        search: FaceSearch,
    ) -> Result<Vec<ScoredCandidate>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        // Settings are transaction-local (`set_config(.., true)` is `SET LOCAL`): they
        // end with this unit of work and never leak into a pooled connection.
        // The planner setting each search turns off, and its value to put back after.
        let (setting, previous): (&str, String) = match search.validate()? {
            FaceSearch::Hnsw { ef_search } => {
                // HNSW was chosen deliberately (the in-process cache is the default), so
                // the plan must use it: at a large ef_search pgvector's cost estimate
                // makes a full scan and a sort look cheaper below some 50k templates, and
                // the search silently becomes an exact 10 ms scan. Only the index yields
                // rows in distance order, so with sorts priced out it is chosen (checked
                // with EXPLAIN at 10k; `enable_seqscan` off is not enough: the planner
                // then sorts a bitmap scan of the one-active-template index).
                // The target list is evaluated left to right: the old value is read
                // before it is set.
                let (previous, ..): (String, String, String, String) = sqlx::query_as(
                    "select current_setting('enable_sort'), \
                     set_config('hnsw.ef_search', $1, true), \
                     set_config('hnsw.iterative_scan', 'relaxed_order', true), \
                     set_config('enable_sort', 'off', true)",
                )
                .bind(ef_search.to_string())
                .fetch_one(&mut *self.tx)
                .await
                .map_err(errors::map)?;
                ("enable_sort", previous)
            }
            FaceSearch::Exact => {
                let (previous, _): (String, String) = sqlx::query_as(
                    "select current_setting('enable_indexscan'), \
                     set_config('enable_indexscan', 'off', true)",
                )
                .fetch_one(&mut *self.tx)
                .await
                .map_err(errors::map)?;
                ("enable_indexscan", previous)
            }
        };
        // The nearest neighbours first (materialised, so the planner cannot push the
        // outer ordering into the index scan), then an exact re-sort: relaxed-order
        // iterative scans may return rows slightly out of order.
        let rows: Vec<(Uuid, f64)> = sqlx::query_as(
            "with knn as materialized ( \
                 select client_id, embedding <=> $1 as distance from biometrics \
                 where is_active and type = 'FACE' and ($2::uuid is null or client_id <> $2) \
                 order by embedding <=> $1 limit $3) \
             select client_id, distance from knn order by distance, client_id",
        )
        .bind(vector(probe))
        .bind(exclude.map(|c| c.as_uuid()))
        .bind(i64::try_from(k).unwrap_or(i64::MAX))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        // The rest of the transaction (a check-in) plans with the setting it had.
        sqlx::query("select set_config($1, $2, true)")
            .bind(setting)
            .bind(previous)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        // Filtered here rather than in the query, so the HNSW plan stays a plain
        // nearest-neighbour scan.
        Ok(rows
            .into_iter()
            .map(|(id, d)| ScoredCandidate::new(ClientId::from_uuid(id), d as f32))
            .filter(|c| c.distance <= max_distance)
            .collect())
    }

    async fn visit_face_templates(
        &mut self,
        visit: &mut (dyn FnMut(ClientId, FaceEmbedding) + Send),
    ) -> Result<u64> {
        // One statement, streamed: one snapshot, a plan that is a plain scan whatever the
        // plan cache decides (the old keyset pages went generic after five executions and
        // rescanned from the start on every page), and each row handed on as it arrives
        // so the templates are never held twice.
        let mut rows = sqlx::query_as::<_, (Uuid, Vector)>(
            "select client_id, embedding from biometrics where is_active and type = 'FACE'",
        )
        .fetch(&mut *self.tx);
        let mut seen = 0;
        while let Some((id, v)) = rows.try_next().await.map_err(errors::map)? {
            visit(ClientId::from_uuid(id), embedding(v)?);
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
        // A bulk enrolment's statements may run long (a COPY of 100k rows, more where an
        // operator built the HNSW index, which it maintains or rebuilds): the pool's
        // statement timeout is lifted for this transaction.
        // Waiting for a lock stays bounded even on a host pool that sets no lock timeout.
        sqlx::query(
            "select set_config('statement_timeout', '0', true), \
             set_config('lock_timeout', case current_setting('lock_timeout') \
               when '0' then '60s' else current_setting('lock_timeout') end, true)",
        )
        .execute(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        let ids: Vec<Uuid> = clients.iter().map(|c| c.as_uuid()).collect();
        // Locked first, then read by a statement that starts once every lock is held,
        // so the consents it reads are the ones in force now, not when the wait began.
        sqlx::query("select 1 from clients where id = any($1) order by id for update")
            .bind(&ids)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        let rows: Vec<(Uuid, bool, Option<Uuid>, bool)> = sqlx::query_as(
            "select c.id, c.is_active, (select b.id from biometric_consents b \
                 where b.client_id = c.id and b.withdrawn_at is null), \
                 exists (select 1 from biometrics t where t.client_id = c.id) \
             from clients c where c.id = any($1)",
        )
        .bind(ids)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(rows
            .into_iter()
            .map(|(id, is_active, consent, has_biometrics)| FaceEnrolee {
                client_id: ClientId::from_uuid(id),
                is_active,
                consent,
                has_biometrics,
            })
            .collect())
    }

    async fn insert_face_templates(
        &mut self,
        templates: &[NewFaceTemplate],
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64> {
        if templates.is_empty() {
            return Ok(0);
        }
        let ids: Vec<Uuid> = templates.iter().map(|t| t.client_id.as_uuid()).collect();
        // Replaced templates are deleted, as a single enrolment deletes them.
        sqlx::query("delete from biometrics where client_id = any($1) and type = 'FACE'")
            .bind(ids)
            .execute(&mut *self.tx)
            .await
            .map_err(errors::map)?;
        let rebuild = self.face_index_to_rebuild(templates.len()).await?;
        if let Some(definition) = &rebuild {
            sqlx::raw_sql(AssertSqlSafe(format!("drop index {FACE_INDEX}")))
                .execute(&mut *self.tx)
                .await
                .map_err(errors::map)?;
            tracing::debug!(
                definition = definition.as_str(),
                "face index dropped for a bulk load"
            );
        }
        let mut copy = self
            .tx
            .copy_in_raw(
                "copy biometrics (id, client_id, embedding, meta_info, enrolled_by, consent_id) \
                 from stdin (format binary)",
            )
            .await
            .map_err(errors::map)?;
        let mut buf = Vec::with_capacity(COPY_CHUNK * COPY_ROW_BYTES + 32);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0_i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0_i32.to_be_bytes()); // header extension
        let mut sent = 0u64;
        for chunk in templates.chunks(COPY_CHUNK) {
            for t in chunk {
                copy_row(&mut buf, t);
            }
            if let Err(e) = copy.send(std::mem::take(&mut buf)).await {
                let _ = copy.abort("bulk enrolment failed").await;
                return Err(errors::map(e));
            }
            buf.reserve(COPY_CHUNK * COPY_ROW_BYTES);
            sent += chunk.len() as u64;
            progress(sent);
        }
        if let Err(e) = copy.send((-1_i16).to_be_bytes().as_slice()).await {
            let _ = copy.abort("bulk enrolment failed").await;
            return Err(errors::map(e));
        }
        let copied = copy.finish().await.map_err(errors::map)?;
        if let Some(definition) = rebuild {
            super::ops::raise_build_memory(&mut self.tx, true).await?;
            sqlx::raw_sql(AssertSqlSafe(definition))
                .execute(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        }
        // The planner's row estimates, refreshed when the load is a tenth of the table
        // or more (the share at which autovacuum would, a minute or more later): after a
        // first import the table has never been analysed, and until it is, the reads by
        // change mark that every face check-in and enrolment makes scan the whole table
        // (an enrolment at 100k took 20 ms instead of 4-6). Through migration 0018's
        // function, which runs with the owner's rights (only an owner may analyse) and
        // never waits for a lock. The column statistics commit with this transaction;
        // the row count does not (the server writes it in place), so a load that rolls
        // back leaves it counting the rows that were not kept, until the next analyse.
        let rows: f32 = sqlx::query_scalar(
            "select greatest(reltuples, 0) from pg_class where oid = 'biometrics'::regclass",
        )
        .fetch_one(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        if copied as f64 * 10.0 >= f64::from(rows) + copied as f64 {
            sqlx::query("select powergym_analyze_biometrics()")
                .execute(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        }
        Ok(copied)
    }

    async fn face_change_mark(&mut self) -> Result<i64> {
        sqlx::query_scalar("select coalesce(max(change_seq), 0) from biometrics")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(errors::map)
    }

    async fn face_templates_changed_since(
        &mut self,
        mark: i64,
    ) -> Result<Vec<(ClientId, FaceEmbedding)>> {
        let rows: Vec<(Uuid, Vector)> = sqlx::query_as(
            "select client_id, embedding from biometrics \
             where change_seq > $1 and is_active and type = 'FACE'",
        )
        .bind(mark)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        rows.into_iter()
            .map(|(id, v)| Ok((ClientId::from_uuid(id), embedding(v)?)))
            .collect()
    }

    async fn face_template_ids_changed_since(
        &mut self,
        mark: i64,
    ) -> Result<Vec<(ClientId, Uuid)>> {
        let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "select client_id, id from biometrics \
             where change_seq > $1 and is_active and type = 'FACE'",
        )
        .bind(mark)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        Ok(rows
            .into_iter()
            .map(|(c, id)| (ClientId::from_uuid(c), id))
            .collect())
    }

    async fn face_templates_of(
        &mut self,
        clients: &[ClientId],
    ) -> Result<Vec<(ClientId, FaceEmbedding)>> {
        let ids: Vec<Uuid> = clients.iter().map(|c| c.as_uuid()).collect();
        let rows: Vec<(Uuid, Vector)> = sqlx::query_as(
            "select client_id, embedding from biometrics \
             where client_id = any($1) and is_active and type = 'FACE'",
        )
        .bind(ids)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        rows.into_iter()
            .map(|(id, v)| Ok((ClientId::from_uuid(id), embedding(v)?)))
            .collect()
    }

    async fn count_face_changes_since(&mut self, mark: i64) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("select count(*) from biometrics where change_seq > $1")
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
        day: NaiveDate,
        by: &str,
    ) -> Result<()> {
        super::attendance::insert_denial_row(
            self,
            None,
            refusal.code(),
            crate::domain::access::CheckInMethod::Face,
            at,
            day,
            by,
        )
        .await
    }
}
