//! The catalog and statistics queries behind [`crate::ops`]: the guide's monitoring SQL,
//! vacuum/analyze and the concurrent face-index rebuild.
//!
//! Nothing here reads a row of a member's data: only the server's statistics views,
//! the catalog and sizes. Lock waits are reported without `pg_stat_activity.query`,
//! whose text could hold a member's values.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use crate::error::{Error, Result};
use crate::migrate::Migrations;
use crate::ops::health::{
    ConnectionStats, DatabaseSize, DuplicateIndexes, FaceIndexStats, HealthReport, LockWait,
    SchemaState, SessionInfo, SlowQueries, SlowQuery, TableStats, UnusedIndex, available_memory,
};
use crate::ops::{IndexRebuild, Progress};
use crate::store::postgres::errors;

/// The HNSW index over active templates (migration 0010 built it, 0017 dropped it from
/// the schema; [`rebuild_face_index`] builds it on an operator's request).
pub(crate) const FACE_INDEX: &str = "idx_biometrics_embedding";

/// How [`rebuild_face_index`] builds the face index where there is none (migration 0017
/// dropped it from the schema): migration 0010's definition (m = 32, ef_construction =
/// 128, recall@1 0.992 at 100k with ef_search 400), without blocking writes.
const FACE_INDEX_BUILD: &str = "create index concurrently if not exists idx_biometrics_embedding \
     on biometrics using hnsw (embedding vector_cosine_ops) \
     with (m = 32, ef_construction = 128) where is_active";

/// Gives the connection room to build the HNSW graph of every active template in memory
/// (pgvector slows sharply once it does not fit): `maintenance_work_mem` of about 4 KiB a
/// template, at least 64 MiB, at most 2 GiB, never less than it was; for the transaction
/// only when `local`, else until reset.
pub(crate) async fn raise_build_memory(conn: &mut PgConnection, local: bool) -> Result<()> {
    sqlx::query(
        "select set_config('maintenance_work_mem', \
         greatest(pg_size_bytes(current_setting('maintenance_work_mem')) / 1024, \
                  least(greatest((select count(*) from biometrics \
                                  where is_active and type = 'FACE') * 4, 65536), 2097152)) \
         || 'kB', $1)",
    )
    .bind(local)
    .execute(conn)
    .await
    .map_err(errors::map)?;
    Ok(())
}

/// Snapshots older than this are deleted when a new one is written.
const SIZE_HISTORY_DAYS: i32 = 400;

fn unsigned(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Reads every fact of the report; the verdicts are left to [`crate::ops::health::judge`].
pub(crate) async fn gather_health(pool: &PgPool) -> Result<HealthReport> {
    let schema = schema_state(pool).await?;
    // A report must come back even while someone holds a table exclusively (a
    // migration, a LOCK TABLE): sizes of such tables are read from the catalog
    // instead, and every other lock wait is bounded.
    let mut tx = pool.begin().await.map_err(errors::map)?;
    sqlx::query("set local lock_timeout = '2s'")
        .execute(&mut *tx)
        .await
        .map_err(errors::map)?;
    let conn: &mut PgConnection = &mut tx;
    let (name, bytes): (String, i64) =
        sqlx::query_as("select current_database()::text, pg_database_size(current_database())")
            .fetch_one(&mut *conn)
            .await
            .map_err(errors::map)?;
    let previous = previous_sizes(conn).await?;
    let mut tables = table_stats(conn).await?;
    if let Some((_, _, by_table)) = &previous {
        for t in &mut tables {
            t.previous_bytes = by_table.get(&t.name).copied();
        }
    }
    let report = HealthReport {
        generated_at: Utc::now(),
        checks: Vec::new(),
        schema,
        database: DatabaseSize {
            name,
            bytes: unsigned(bytes),
            previous_bytes: previous.as_ref().map(|p| p.1),
            previous_at: previous.as_ref().map(|p| p.0),
        },
        connections: connection_stats(conn).await?,
        slow_queries: slow_queries(conn).await?,
        unused_indexes: unused_indexes(conn).await?,
        duplicate_indexes: duplicate_indexes(conn).await?,
        invalid_indexes: invalid_indexes(conn).await?,
        lock_waits: lock_waits(conn).await?,
        face: face_stats(conn).await?,
        tables,
    };
    record_sizes(conn, &report).await;
    tx.commit().await.map_err(errors::map)?;
    Ok(report)
}

/// Relations someone holds (or waits for) in ACCESS EXCLUSIVE mode: reading their
/// size would wait behind that lock, so their size comes from the catalog's page
/// counts (as of the last vacuum or analyze).
const LOCKED: &str = "(select l.relation from pg_locks l \
     where l.locktype = 'relation' and l.mode = 'AccessExclusiveLock' \
       and l.database = (select oid from pg_database where datname = current_database()))";

async fn schema_state(pool: &PgPool) -> Result<SchemaState> {
    let history = Migrations::new(pool.clone()).history().await?;
    let count = |f: &dyn Fn(&crate::migrate::MigrationRecord) -> bool| {
        u32::try_from(history.iter().filter(|r| f(r)).count()).unwrap_or(u32::MAX)
    };
    Ok(SchemaState {
        database_version: history
            .iter()
            .filter(|r| r.is_applied())
            .map(|r| r.version)
            .max()
            .unwrap_or(0),
        library_version: crate::migrate::latest_version(),
        pending: count(&|r| !r.is_applied()),
        unknown: count(&|r| r.is_applied() && r.checksum.is_empty()),
        edited: count(&|r| r.checksum_mismatch),
    })
}

type PreviousSizes = (DateTime<Utc>, u64, BTreeMap<String, u64>);

#[derive(sqlx::FromRow)]
struct SizesRow {
    taken_at: DateTime<Utc>,
    database_bytes: i64,
    table_bytes: sqlx::types::Json<BTreeMap<String, i64>>,
}

#[derive(sqlx::FromRow)]
struct StatementRow {
    queryid: i64,
    calls: i64,
    mean_exec_time: f64,
    total_exec_time: f64,
    query: String,
}

async fn previous_sizes(conn: &mut PgConnection) -> Result<Option<PreviousSizes>> {
    let exists: bool =
        sqlx::query_scalar("select to_regclass('powergym_size_history') is not null")
            .fetch_one(&mut *conn)
            .await
            .map_err(errors::map)?;
    if !exists {
        return Ok(None);
    }
    let row: Option<SizesRow> = sqlx::query_as(
        "select taken_at, database_bytes, table_bytes from powergym_size_history \
         order by id desc limit 1",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(errors::map)?;
    Ok(row.map(|r| {
        let tables = r
            .table_bytes
            .0
            .into_iter()
            .map(|(k, v)| (k, unsigned(v)))
            .collect();
        (r.taken_at, unsigned(r.database_bytes), tables)
    }))
}

/// Best effort: a role that may not write still gets its report, without growth next
/// time.
async fn record_sizes(conn: &mut PgConnection, report: &HealthReport) {
    let tables: BTreeMap<&str, u64> = report
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t.total_bytes))
        .collect();
    let result = sqlx::query(
        "with pruned as (delete from powergym_size_history \
             where taken_at < now() - make_interval(days => $3)) \
         insert into powergym_size_history (database_bytes, table_bytes) values ($1, $2)",
    )
    .bind(i64::try_from(report.database.bytes).unwrap_or(i64::MAX))
    .bind(sqlx::types::Json(tables))
    .bind(SIZE_HISTORY_DAYS)
    .execute(&mut *conn)
    .await;
    if let Err(e) = result {
        tracing::debug!(error = %errors::map(e), "sizes of this health report not recorded");
    }
}

#[derive(sqlx::FromRow)]
struct TableRow {
    name: String,
    total_bytes: i64,
    live_rows: i64,
    dead_rows: i64,
    last_vacuum: Option<DateTime<Utc>>,
    last_analyze: Option<DateTime<Utc>>,
}

async fn table_stats(conn: &mut PgConnection) -> Result<Vec<TableStats>> {
    let rows: Vec<TableRow> = sqlx::query_as(AssertSqlSafe(format!(
        "select case when schemaname = 'public' then relname::text \
                     else schemaname || '.' || relname end as name, \
                case when relid in {LOCKED} \
                     then (select sum(c.relpages)::int8 * current_setting('block_size')::int8 \
                           from pg_class c where c.oid = relid \
                              or c.oid = (select reltoastrelid from pg_class where oid = relid) \
                              or c.oid in (select indexrelid from pg_index where indrelid = relid)) \
                     else pg_total_relation_size(relid) end as total_bytes, \
                n_live_tup as live_rows, n_dead_tup as dead_rows, \
                greatest(last_vacuum, last_autovacuum) as last_vacuum, \
                greatest(last_analyze, last_autoanalyze) as last_analyze \
         from pg_stat_user_tables order by total_bytes desc, name"
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(errors::map)?;
    Ok(rows
        .into_iter()
        .map(|r| TableStats {
            name: r.name,
            total_bytes: unsigned(r.total_bytes),
            previous_bytes: None,
            live_rows: unsigned(r.live_rows),
            dead_rows: unsigned(r.dead_rows),
            last_vacuum: r.last_vacuum,
            last_analyze: r.last_analyze,
        })
        .collect())
}

async fn connection_stats(conn: &mut PgConnection) -> Result<ConnectionStats> {
    let (in_use, usable, this_database, active, idle_in_transaction): (i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "select count(*) filter (where backend_type = 'client backend'), \
                    current_setting('max_connections')::int8 \
                      - current_setting('superuser_reserved_connections')::int8, \
                    count(*) filter (where backend_type = 'client backend' \
                                     and datname = current_database()), \
                    count(*) filter (where backend_type = 'client backend' \
                                     and datname = current_database() and state = 'active'), \
                    count(*) filter (where backend_type = 'client backend' \
                                     and datname = current_database() \
                                     and state like 'idle in transaction%') \
             from pg_stat_activity",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(errors::map)?;
    let small = |v: i64| u32::try_from(v).unwrap_or(0);
    Ok(ConnectionStats {
        in_use: small(in_use),
        usable: small(usable),
        this_database: small(this_database),
        active: small(active),
        idle_in_transaction: small(idle_in_transaction),
    })
}

const NOT_INSTALLED: &str = "pg_stat_statements is not installed in this database: add \
    `shared_preload_libraries = 'pg_stat_statements'` to postgresql.conf, restart the \
    server, then run `CREATE EXTENSION pg_stat_statements;`";

const NOT_LOADED: &str = "pg_stat_statements is installed but not loaded: add \
    `shared_preload_libraries = 'pg_stat_statements'` to postgresql.conf and restart the \
    server";

async fn slow_queries(conn: &mut PgConnection) -> Result<SlowQueries> {
    let installed: bool = sqlx::query_scalar(
        "select exists (select 1 from pg_extension where extname = 'pg_stat_statements')",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(errors::map)?;
    let unavailable = |note: &str| SlowQueries {
        available: false,
        note: Some(note.to_owned()),
        queries: Vec::new(),
    };
    if !installed {
        return Ok(unavailable(NOT_INSTALLED));
    }
    // Only statements pg_stat_statements normalises (constants become $n): a utility
    // statement's text is kept verbatim and could carry a password or a name.
    let rows: std::result::Result<Vec<StatementRow>, sqlx::Error> = sqlx::query_as(
        "select queryid, calls, mean_exec_time, total_exec_time, \
                    left(regexp_replace(query, '\\s+', ' ', 'g'), 160) as query \
             from pg_stat_statements \
             where dbid = (select oid from pg_database where datname = current_database()) \
               and queryid is not null \
               and query ~* '^\\s*(select|insert|update|delete|with)\\M' \
             order by mean_exec_time desc limit 5",
    )
    .fetch_all(&mut *conn)
    .await;
    match rows {
        Ok(rows) => Ok(SlowQueries {
            available: true,
            note: None,
            queries: rows
                .into_iter()
                .map(|r| SlowQuery {
                    query_id: r.queryid,
                    calls: unsigned(r.calls),
                    mean_ms: r.mean_exec_time,
                    total_ms: r.total_exec_time,
                    query: r.query,
                })
                .collect(),
        }),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("55000") => {
            Ok(unavailable(NOT_LOADED))
        }
        Err(e) => Err(errors::map(e)),
    }
}

async fn unused_indexes(conn: &mut PgConnection) -> Result<Vec<UnusedIndex>> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "select t.relname::text, s.indexrelname::text, \
                case when s.relid in {LOCKED} \
                     then (select relpages::int8 * current_setting('block_size')::int8 \
                           from pg_class where oid = s.indexrelid) \
                     else pg_relation_size(s.indexrelid) end, \
                coalesce(t.seq_scan, 0) + coalesce(t.idx_scan, 0) \
         from pg_stat_user_indexes s \
         join pg_index i on i.indexrelid = s.indexrelid \
         join pg_stat_user_tables t on t.relid = s.relid \
         where s.idx_scan = 0 and i.indisvalid and not i.indisunique and not i.indisprimary \
           and not exists (select 1 from pg_constraint c where c.conindid = s.indexrelid) \
         order by 3 desc, 2"
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(errors::map)?;
    Ok(rows
        .into_iter()
        .map(|(table, index, bytes, scans)| UnusedIndex {
            table,
            index,
            bytes: unsigned(bytes),
            table_scans: unsigned(scans),
        })
        .collect())
}

async fn duplicate_indexes(conn: &mut PgConnection) -> Result<Vec<DuplicateIndexes>> {
    let rows: Vec<(String, Vec<String>, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "select c.relname::text, array_agg(ic.relname::text order by ic.relname), \
                (sum(sized.bytes) - min(sized.bytes))::int8 \
         from pg_index i \
         cross join lateral (select case when i.indrelid in {LOCKED} \
                 then ic2.relpages::int8 * current_setting('block_size')::int8 \
                 else pg_relation_size(i.indexrelid) end as bytes \
             from pg_class ic2 where ic2.oid = i.indexrelid) sized \
         join pg_class c on c.oid = i.indrelid \
         join pg_class ic on ic.oid = i.indexrelid \
         join pg_namespace n on n.oid = c.relnamespace \
         where n.nspname not in ('pg_catalog', 'information_schema') \
           and n.nspname not like 'pg_toast%' \
         group by c.relname, i.indrelid, i.indkey::text, i.indclass::text, \
                  i.indcollation::text, i.indoption::text, ic.relam, \
                  coalesce(pg_get_expr(i.indexprs, i.indrelid), ''), \
                  coalesce(pg_get_expr(i.indpred, i.indrelid), '') \
         having count(*) > 1 order by 1"
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(errors::map)?;
    Ok(rows
        .into_iter()
        .map(|(table, indexes, wasted)| DuplicateIndexes {
            table,
            indexes,
            wasted_bytes: unsigned(wasted),
        })
        .collect())
}

async fn invalid_indexes(conn: &mut PgConnection) -> Result<Vec<String>> {
    sqlx::query_scalar(
        "select ic.relname::text from pg_index i \
         join pg_class ic on ic.oid = i.indexrelid \
         join pg_namespace n on n.oid = ic.relnamespace \
         where not i.indisvalid and n.nspname not in ('pg_catalog', 'information_schema') \
         order by 1",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(errors::map)
}

#[derive(sqlx::FromRow)]
struct WaitRow {
    pid: i32,
    role: Option<String>,
    application: Option<String>,
    state: Option<String>,
    transaction_seconds: Option<f64>,
    waiting_seconds: Option<f64>,
    lock_type: String,
    mode: String,
    relation: Option<String>,
    blocked_by: Vec<i32>,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    pid: i32,
    role: Option<String>,
    application: Option<String>,
    state: Option<String>,
    transaction_seconds: Option<f64>,
}

impl From<SessionRow> for SessionInfo {
    fn from(r: SessionRow) -> Self {
        Self {
            pid: r.pid,
            role: r.role,
            application: r.application,
            state: r.state,
            transaction_seconds: r.transaction_seconds,
        }
    }
}

async fn lock_waits(conn: &mut PgConnection) -> Result<Vec<LockWait>> {
    // Never `query`: its text could hold a member's name or document.
    let waits: Vec<WaitRow> = sqlx::query_as(
        "select a.pid, a.usename::text as role, nullif(a.application_name, '') as application, \
                a.state, extract(epoch from now() - a.xact_start)::float8 as transaction_seconds, \
                extract(epoch from now() - coalesce(l.waitstart, a.state_change))::float8 \
                    as waiting_seconds, \
                l.locktype as lock_type, l.mode, \
                case when l.relation is not null then l.relation::regclass::text end as relation, \
                pg_blocking_pids(a.pid) as blocked_by \
         from pg_locks l join pg_stat_activity a on a.pid = l.pid \
         where not l.granted and a.datname = current_database() \
         order by waiting_seconds desc nulls last",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(errors::map)?;
    let blockers: Vec<i32> = waits.iter().flat_map(|w| w.blocked_by.clone()).collect();
    let sessions: BTreeMap<i32, SessionInfo> = sqlx::query_as::<_, SessionRow>(
        "select pid, usename::text as role, nullif(application_name, '') as application, state, \
                extract(epoch from now() - xact_start)::float8 as transaction_seconds \
         from pg_stat_activity where pid = any($1)",
    )
    .bind(&blockers)
    .fetch_all(&mut *conn)
    .await
    .map_err(errors::map)?
    .into_iter()
    .map(|r| (r.pid, SessionInfo::from(r)))
    .collect();
    Ok(waits
        .into_iter()
        .map(|w| LockWait {
            blocked_by: w
                .blocked_by
                .iter()
                .map(|pid| {
                    sessions.get(pid).cloned().unwrap_or(SessionInfo {
                        pid: *pid,
                        role: None,
                        application: None,
                        state: None,
                        transaction_seconds: None,
                    })
                })
                .collect(),
            waiting: SessionInfo {
                pid: w.pid,
                role: w.role,
                application: w.application,
                state: w.state,
                transaction_seconds: w.transaction_seconds,
            },
            waiting_seconds: w.waiting_seconds.unwrap_or(0.0).max(0.0),
            lock_type: w.lock_type,
            mode: w.mode,
            relation: w.relation,
        })
        .collect())
}

async fn face_stats(conn: &mut PgConnection) -> Result<FaceIndexStats> {
    let (has_table, locked): (bool, bool) = sqlx::query_as(AssertSqlSafe(format!(
        "select to_regclass('biometrics') is not null, \
                coalesce(to_regclass('biometrics') in {LOCKED}, false)"
    )))
    .fetch_one(&mut *conn)
    .await
    .map_err(errors::map)?;
    let templates: i64 = match (has_table, locked) {
        (false, _) => 0,
        (true, false) => sqlx::query_scalar("select count(*) from biometrics where is_active")
            .fetch_one(&mut *conn)
            .await
            .map_err(errors::map)?,
        // Counting would wait behind the lock: the planner's estimate will do.
        (true, true) => sqlx::query_scalar(
            "select greatest(reltuples, 0)::int8 from pg_class where oid = 'biometrics'::regclass",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(errors::map)?,
    };
    let index: Option<(i64, bool)> = sqlx::query_as(AssertSqlSafe(format!(
        "select case when indrelid in {LOCKED} \
                     then (select relpages::int8 * current_setting('block_size')::int8 \
                           from pg_class where oid = indexrelid) \
                     else pg_relation_size(indexrelid) end, indisvalid \
         from pg_index where indexrelid = to_regclass($1)"
    )))
    .bind(FACE_INDEX)
    .fetch_optional(&mut *conn)
    .await
    .map_err(errors::map)?;
    let templates = unsigned(templates);
    Ok(FaceIndexStats {
        templates,
        index_bytes: index.map(|(b, _)| unsigned(b)),
        index_valid: index.is_some_and(|(_, valid)| valid),
        cache_bytes: crate::gym::int8_cache_bytes(templates),
        available_memory: available_memory(),
    })
}

/// A pooled connection whose statements may run as long as they need: maintenance on a
/// large table outlasts the front desk's statement timeout. [`Unbounded::finish`] puts
/// the timeout back before the pool reuses it; dropped unfinished (an error, a canceled
/// call), the connection is closed instead, so no use case ever gets a connection with
/// the timeout lifted.
struct Unbounded(Option<sqlx::pool::PoolConnection<sqlx::Postgres>>);

impl Unbounded {
    async fn acquire(pool: &PgPool) -> Result<Self> {
        let mut conn = pool.acquire().await.map_err(errors::map)?;
        // Maintenance waits for running transactions (REINDEX CONCURRENTLY must), longer
        // than a desk call would: ten minutes, not the pool's seconds.
        sqlx::raw_sql("set statement_timeout = 0; set lock_timeout = '10min'")
            .execute(&mut *conn)
            .await
            .map_err(errors::map)?;
        Ok(Self(Some(conn)))
    }

    fn conn(&mut self) -> &mut PgConnection {
        self.0.as_mut().expect("present until finished")
    }

    async fn finish(mut self) {
        if let Some(mut conn) = self.0.take()
            && sqlx::raw_sql(
                "reset statement_timeout; reset lock_timeout; reset maintenance_work_mem",
            )
            .execute(&mut *conn)
            .await
            .is_err()
        {
            let _ = sqlx::Connection::close(conn.detach()).await;
        }
    }
}

impl Drop for Unbounded {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(conn.detach());
        }
    }
}

/// `VACUUM (ANALYZE)` one table at a time, so progress can be told and no single
/// statement runs for long.
pub(crate) async fn vacuum_analyze(
    pool: &PgPool,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Vec<String>> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "select quote_ident(schemaname) || '.' || quote_ident(relname), relname::text \
         from pg_stat_user_tables order by schemaname, relname",
    )
    .fetch_all(pool)
    .await
    .map_err(errors::map)?;
    let total = tables.len() as u64;
    let mut done = Vec::with_capacity(tables.len());
    let mut conn = Unbounded::acquire(pool).await?;
    for (i, (qualified, name)) in tables.into_iter().enumerate() {
        progress(&Progress {
            phase: format!("vacuum analyze {name}"),
            done: i as u64,
            total,
        });
        // The name was quoted by the server (quote_ident), and VACUUM takes no
        // parameters; it must also run outside a transaction block, hence raw_sql.
        sqlx::raw_sql(AssertSqlSafe(format!("vacuum (analyze) {qualified}")))
            .execute(conn.conn())
            .await
            .map_err(errors::map)?;
        done.push(name);
    }
    conn.finish().await;
    progress(&Progress {
        phase: "vacuum analyze done".into(),
        done: total,
        total,
    });
    Ok(done)
}

async fn index_bytes(pool: &PgPool) -> Result<Option<i64>> {
    sqlx::query_scalar("select pg_relation_size(to_regclass($1))")
        .bind(FACE_INDEX)
        .fetch_one(pool)
        .await
        .map_err(errors::map)
}

pub(crate) async fn rebuild_face_index(
    pool: &PgPool,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<IndexRebuild> {
    if !sqlx::query_scalar::<_, bool>("select to_regclass('biometrics') is not null")
        .fetch_one(pool)
        .await
        .map_err(errors::map)?
    {
        return Err(Error::NotFound {
            entity: "face templates table (run the migrations first)",
        });
    }
    // Missing (the schema leaves it to the operator since migration 0017): built.
    let before = index_bytes(pool).await?;
    let started = Instant::now();
    // An interrupted REINDEX CONCURRENTLY leaves an invalid `<name>_ccnew` copy that
    // every write still maintains; it cannot be rebuilt, only dropped.
    let leftovers: Vec<String> = sqlx::query_scalar(
        "select quote_ident(ic.relname) from pg_index i \
         join pg_class ic on ic.oid = i.indexrelid \
         where not i.indisvalid and ic.relname like $1 || '\\_ccnew%'",
    )
    .bind(FACE_INDEX)
    .fetch_all(pool)
    .await
    .map_err(errors::map)?;
    for name in &leftovers {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "drop index concurrently if exists {name}"
        )))
        .execute(pool)
        .await
        .map_err(errors::map)?;
    }
    let mut conn = Unbounded::acquire(pool).await?;
    let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(conn.conn())
        .await
        .map_err(errors::map)?;
    raise_build_memory(conn.conn(), false).await?;
    {
        let statement = match before {
            Some(_) => format!("reindex index concurrently {FACE_INDEX}"),
            None => FACE_INDEX_BUILD.to_owned(),
        };
        let reindex = sqlx::raw_sql(AssertSqlSafe(statement)).execute(conn.conn());
        tokio::pin!(reindex);
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                result = &mut reindex => {
                    result.map_err(errors::map)?;
                    break;
                }
                _ = tick.tick() => {
                    let row: Option<(String, i64, i64, i64, i64)> = sqlx::query_as(
                        "select phase, blocks_done, blocks_total, tuples_done, tuples_total \
                         from pg_stat_progress_create_index where pid = $1",
                    )
                    .bind(pid)
                    .fetch_optional(pool)
                    .await
                    // Progress is a courtesy: a failed look never abandons the rebuild.
                    .unwrap_or(None);
                    if let Some((phase, blocks_done, blocks_total, tuples_done, tuples_total)) = row {
                        let (done, total) = if blocks_total > 0 {
                            (blocks_done, blocks_total)
                        } else {
                            (tuples_done, tuples_total)
                        };
                        progress(&Progress { phase, done: unsigned(done), total: unsigned(total) });
                    }
                }
            }
        }
    }
    conn.finish().await;
    let after = index_bytes(pool).await?.unwrap_or(0);
    progress(&Progress {
        phase: "index rebuilt".into(),
        done: 1,
        total: 1,
    });
    Ok(IndexRebuild {
        index: FACE_INDEX.to_owned(),
        bytes_before: unsigned(before.unwrap_or(0)),
        bytes_after: unsigned(after),
        dropped_leftovers: leftovers,
        elapsed: started.elapsed(),
    })
}

pub(crate) async fn grant_app_role(pool: &PgPool, role: &str) -> Result<()> {
    let quoted: Option<String> = sqlx::query_scalar(
        "select quote_ident(rolname) from pg_roles where rolname = $1 and not rolsuper",
    )
    .bind(role)
    .fetch_optional(pool)
    .await
    .map_err(errors::map)?;
    let Some(r) = quoted else {
        return Err(Error::validation(
            "role",
            "no such role, or it is a superuser (which needs no grant and should not run an \
             application)",
        ));
    };
    // The name was quoted by the server (quote_ident); GRANT takes no parameters.
    let sql = format!(
        "grant usage on schema public to {r}; \
         grant select, insert, update, delete on all tables in schema public to {r}; \
         grant usage, select on all sequences in schema public to {r}; \
         grant execute on all functions in schema public to {r}; \
         alter default privileges in schema public \
             grant select, insert, update, delete on tables to {r}; \
         alter default privileges in schema public grant usage, select on sequences to {r}; \
         alter default privileges in schema public grant execute on functions to {r}; \
         revoke insert, update, delete on powergym_schema_migrations from {r};"
    );
    // The migration history is the owner's: the app may read it (to check the schema
    // version) but never rewrite it.
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(pool)
        .await
        .map_err(errors::map)?;
    Ok(())
}
