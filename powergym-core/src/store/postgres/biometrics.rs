//! Consents, face templates and the pgvector search on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use pgvector::Vector;
use uuid::Uuid;

use super::{PgTransaction, errors};
use crate::domain::consent::{BiometricConsent, NewConsent};
use crate::domain::ids::ClientId;
use crate::error::Result;
use crate::face::{FaceEmbedding, FaceSearch, FaceTemplate, ScoredCandidate, Unidentified};
use crate::store::{BiometricRepository, NewFaceTemplate};

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
             where client_id = $1 and withdrawn_at is null for update"
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
            "insert into biometrics (id, client_id, type, embedding, thumbnail_encrypted, is_active, meta_info, enrolled_by) \
             values ($1, $2, 'FACE', $3, $4, true, $5, $6) \
             returning id, client_id, thumbnail_encrypted is not null as has_thumbnail, enrolled_by, created_at",
        )
        .bind(t.id)
        .bind(t.client_id.as_uuid())
        .bind(vector(&t.embedding))
        .bind(t.sealed_thumbnail.as_deref())
        .bind(meta)
        .bind(t.enrolled_by.as_deref())
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
        exclude: Option<ClientId>,
        search: FaceSearch,
    ) -> Result<Vec<ScoredCandidate>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        // Settings are transaction-local (`set_config(.., true)` is `SET LOCAL`): they
        // end with this unit of work and never leak into a pooled connection.
        let mut restore_indexscan = None;
        match search.validate()? {
            FaceSearch::Hnsw { ef_search } => {
                sqlx::query(
                    "select set_config('hnsw.ef_search', $1, true), \
                     set_config('hnsw.iterative_scan', 'relaxed_order', true)",
                )
                .bind(ef_search.to_string())
                .execute(&mut *self.tx)
                .await
                .map_err(errors::map)?;
            }
            FaceSearch::Exact => {
                let previous: String = sqlx::query_scalar(
                    "select current_setting('enable_indexscan') from set_config('enable_indexscan', 'off', true)",
                )
                .fetch_one(&mut *self.tx)
                .await
                .map_err(errors::map)?;
                restore_indexscan = Some(previous);
            }
        }
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
        if let Some(previous) = restore_indexscan {
            sqlx::query("select set_config('enable_indexscan', $1, true)")
                .bind(previous)
                .execute(&mut *self.tx)
                .await
                .map_err(errors::map)?;
        }
        Ok(rows
            .into_iter()
            .map(|(id, d)| ScoredCandidate::new(ClientId::from_uuid(id), d as f32))
            .collect())
    }

    async fn face_templates_page(
        &mut self,
        after: Option<ClientId>,
        limit: u32,
    ) -> Result<Vec<(ClientId, FaceEmbedding)>> {
        let rows: Vec<(Uuid, Vector)> = sqlx::query_as(
            "select client_id, embedding from biometrics \
             where is_active and type = 'FACE' and ($1::uuid is null or client_id > $1) \
             order by client_id limit $2",
        )
        .bind(after.map(|c| c.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(errors::map)?;
        rows.into_iter()
            .map(|(id, v)| Ok((ClientId::from_uuid(id), embedding(v)?)))
            .collect()
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
