//! The PostgreSQL half of the face benchmarks: identification latency and recall@1 of
//! every way PostgreSQL can answer "who is this?" at 10k and 100k enrolled members, on
//! the same synthetic faces as the in-process bench (`FaceSet`, seed 2026).
//!
//! For each gallery size it creates a fresh database, runs the library's migrations,
//! bulk-loads clients, consents and templates (timed: multi-row `unnest` inserts and
//! binary `COPY`), then builds one vector index at a time (timed), and sends the probes
//! one by one, measuring the client-side wall time of each `identify` (the real round
//! trips: pool checkout, `BEGIN`, settings, query). Recall@1 is measured against the
//! exact answer, computed in process with `Gallery` (exact by construction).
//!
//! `pgvector [N ...] [--url URL] [--out DIR] [--phases LIST] [--cap SECONDS] [--quick]
//! [--keep]` (`benches/scripts/pgvector.sh` runs it for 10k and 100k). `DATABASE_URL`
//! (or `--url`) names a database of a role that may create databases; the bench
//! databases are `powergym_bench_<N>`, dropped at the end unless `--keep`.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use pgvector::Vector;
use powergym_benches::{FaceSet, Probe};
use powergym_core::face::{
    FaceEmbedding, FaceMatcher, FaceSearch, Gallery, Identification, InMemoryMatcher, MatchPolicy,
    Precision, ScoredCandidate,
};
use powergym_core::store::postgres::{PgStore, PgVectorMatcher};
use powergym_core::{ClientId, Gym};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use uuid::Uuid;

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The gallery seed of the in-process bench, so both benches search the same faces.
const GALLERY_SEED: u64 = 2026;
/// Probe seed of the in-process bench: its 300 genuine probes are our first 300.
const PROBE_SEED: u64 = 11;
/// Warm-up probes come from another seed, so no measured query is a repeat.
const WARMUP_SEED: u64 = 12;
const GENUINE: usize = 500;
const IMPOSTORS: usize = 100;
const WARMUP: usize = 60;
/// A configuration over its time cap stops after at least this many queries.
const MIN_QUERIES: usize = 200;
/// Rows per multi-row `unnest` insert.
const UNNEST_BATCH: usize = 1_000;
/// Rows per `COPY` data message batch.
const COPY_BATCH: usize = 2_000;

/// The KNN statement of `PgStore::nearest_faces` (store/postgres/biometrics.rs), copied
/// so `EXPLAIN` can show which plan the library's query gets under each index.
const LIBRARY_KNN: &str = "with knn as materialized ( \
     select client_id, embedding <=> $1 as distance from biometrics \
     where is_active and type = 'FACE' and ($2::uuid is null or client_id <> $2) \
     order by embedding <=> $1 limit $3) \
     select client_id, distance from knn order by distance, client_id";

/// The library's statement shape for searches with our own settings (`$2`: how many
/// rows the index returns).
const PLAIN_KNN: &str = "with knn as materialized ( \
     select client_id, embedding <=> $1 as distance from biometrics \
     where is_active and type = 'FACE' \
     order by embedding <=> $1 limit $2) \
     select client_id, distance from knn order by distance, client_id";

/// Sign bits (`binary_quantize`) searched by Hamming distance in an HNSW index, then the
/// `$2` candidates re-ranked by the exact cosine distance of their full vectors.
const BITS_RERANK: &str = "with candidates as materialized ( \
     select client_id, embedding from biometrics \
     where is_active and type = 'FACE' \
     order by binary_quantize(embedding)::bit(512) <~> binary_quantize($1) limit $2) \
     select client_id, (embedding <=> $1)::float8 as distance from candidates \
     order by distance, client_id limit 2";

/// Half-precision vectors in an HNSW expression index, then an exact re-rank.
const HALF_RERANK: &str = "with candidates as materialized ( \
     select client_id, embedding from biometrics \
     where is_active and type = 'FACE' \
     order by embedding::halfvec(512) <=> $1::halfvec(512) limit $2) \
     select client_id, (embedding <=> $1)::float8 as distance from candidates \
     order by distance, client_id limit 2";

/// The same transaction dance as a search (pool checkout with its ping, `BEGIN`,
/// isolation level, a statement) with no search: the floor under every row.
const FLOOR: &str = "select null::uuid, null::float8 where $1::vector is null and $2::int8 is null";

const ALL_PHASES: &[&str] = &[
    "floor", "hnsw", "exact", "cache", "hnsw-big", "ivfflat", "bits", "halfvec",
];
const DEFAULT_PHASES: &[&str] = &[
    "floor", "hnsw", "exact", "cache", "hnsw-big", "ivfflat", "bits",
];

struct Args {
    sizes: Vec<usize>,
    url: String,
    out: PathBuf,
    phases: Vec<String>,
    cap: Duration,
    quick: bool,
    keep: bool,
    big: (u32, u32),
    bits: (u32, u32),
}

fn args() -> Args {
    let mut out = Args {
        sizes: Vec::new(),
        url: std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://powergym:powergym@127.0.0.1:5432/powergym".into()),
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-results"),
        phases: DEFAULT_PHASES.iter().map(|s| (*s).to_owned()).collect(),
        cap: Duration::from_secs(45),
        quick: false,
        keep: false,
        big: (32, 128),
        bits: (32, 200),
    };
    let usage = "usage: pgvector [N ...] [--url URL] [--out DIR] [--phases a,b,..] \
                 [--cap SECONDS] [--big M,EFC] [--bits M,EFC] [--quick] [--keep]";
    let pair = |s: String| -> (u32, u32) {
        let (a, b) = s.split_once(',').expect("a pair is written M,EFC");
        (a.parse().expect("M"), b.parse().expect("EFC"))
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| panic!("{a} needs a value\n{usage}"))
        };
        match a.as_str() {
            "--url" => out.url = value(),
            "--out" => out.out = PathBuf::from(value()),
            "--phases" => {
                out.phases = value().split(',').map(str::to_owned).collect();
                for p in &out.phases {
                    assert!(ALL_PHASES.contains(&p.as_str()), "unknown phase {p:?}");
                }
            }
            "--cap" => out.cap = Duration::from_secs_f64(value().parse().expect("seconds")),
            "--big" => out.big = pair(value()),
            "--bits" => out.bits = pair(value()),
            "--quick" => out.quick = true,
            "--keep" => out.keep = true,
            n if n.parse::<usize>().is_ok() => out.sizes.push(n.parse().expect("checked")),
            other => panic!("unknown argument {other:?}\n{usage}"),
        }
    }
    if out.sizes.is_empty() {
        out.sizes = vec![10_000];
    }
    out
}

/// The exact answer to one probe.
struct Truth {
    top1: Option<usize>,
    /// Within the policy's threshold: the probes whose top-1 decides a check-in.
    top1_within_threshold: bool,
    decision: DecisionKey,
}

/// An identification without its distances: pgvector and the in-process kernel round
/// differently in the last bits, and only who was chosen matters here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecisionKey {
    Match(usize),
    NoMatch,
    Ambiguous(usize, usize),
}

impl From<&Identification> for DecisionKey {
    fn from(d: &Identification) -> Self {
        match d {
            Identification::Match(c) => Self::Match(FaceSet::index_of(c.client_id)),
            Identification::NoMatch => Self::NoMatch,
            Identification::Ambiguous { best, runner_up } => Self::Ambiguous(
                FaceSet::index_of(best.client_id),
                FaceSet::index_of(runner_up.client_id),
            ),
        }
    }
}

/// One way of asking for the two nearest templates.
enum Searcher<'a> {
    /// A library matcher, called as the check-in use case calls it.
    Matcher(&'a dyn FaceMatcher),
    /// Our own statement in the library's transaction shape.
    Sql {
        pool: &'a PgPool,
        settings: Vec<(&'static str, String)>,
        sql: &'static str,
        candidates: i64,
    },
}

impl Searcher<'_> {
    async fn top2(&self, probe: &FaceEmbedding) -> BoxResult<Vec<ScoredCandidate>> {
        match self {
            Self::Matcher(m) => Ok(m.top_k(probe, 2).await?),
            Self::Sql {
                pool,
                settings,
                sql,
                candidates,
            } => {
                let mut tx = begin(pool, settings).await?;
                let rows: Vec<(Option<Uuid>, Option<f64>)> = sqlx::query_as(*sql)
                    .bind(Vector::from(probe.as_slice().to_vec()))
                    .bind(*candidates)
                    .fetch_all(&mut *tx)
                    .await?;
                Ok(rows
                    .into_iter()
                    .filter_map(|(id, d)| {
                        Some(ScoredCandidate::new(ClientId::from_uuid(id?), d? as f32))
                    })
                    .collect())
            }
        }
    }
}

/// A transaction as `PgStore::begin` opens one, with `settings` applied `LOCAL`ly in
/// one statement, as `nearest_faces` does.
async fn begin(
    pool: &PgPool,
    settings: &[(&'static str, String)],
) -> BoxResult<sqlx::Transaction<'static, sqlx::Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level read committed")
        .execute(&mut *tx)
        .await?;
    if !settings.is_empty() {
        let calls: Vec<String> = (0..settings.len())
            .map(|i| format!("set_config(${}, ${}, true)", 2 * i + 1, 2 * i + 2))
            .collect();
        let mut q = sqlx::query(AssertSqlSafe(format!("select {}", calls.join(", "))));
        for (name, value) in settings {
            q = q.bind(*name).bind(value.as_str());
        }
        q.execute(&mut *tx).await?;
    }
    Ok(tx)
}

/// The settings `nearest_faces` applies for `search`.
fn library_settings(search: FaceSearch) -> Vec<(&'static str, String)> {
    match search {
        FaceSearch::Hnsw { ef_search } => vec![
            ("hnsw.ef_search", ef_search.to_string()),
            ("hnsw.iterative_scan", "relaxed_order".into()),
        ],
        FaceSearch::Exact => vec![("enable_indexscan", "off".into())],
    }
}

/// The scan nodes of the plan a statement gets under `settings`, to show which index
/// (if any) served it.
async fn plan(
    pool: &PgPool,
    settings: &[(&'static str, String)],
    sql: &str,
    library: bool,
    probe: &FaceEmbedding,
    candidates: i64,
) -> BoxResult<String> {
    let mut tx = begin(pool, settings).await?;
    let v = Vector::from(probe.as_slice().to_vec());
    let q = sqlx::query_scalar::<_, String>(AssertSqlSafe(format!("explain (costs off) {sql}")));
    let lines = if library {
        q.bind(v).bind(None::<Uuid>).bind(2_i64)
    } else {
        q.bind(v).bind(candidates)
    }
    .fetch_all(&mut *tx)
    .await?;
    let mut scans: Vec<String> = lines
        .iter()
        .filter(|l| l.contains("Scan"))
        .map(|l| l.trim().trim_start_matches("-> ").trim().to_owned())
        .collect();
    // Compiling the expressions costs milliseconds, more than a short search.
    if lines.iter().any(|l| l.trim_start().starts_with("JIT:")) {
        scans.push("JIT".into());
    }
    Ok(scans.join("; "))
}

/// Latency and answers of one configuration.
struct Measurement {
    latencies_ms: Vec<f64>,
    genuine: usize,
    recall_hits: usize,
    relevant: usize,
    relevant_hits: usize,
    identity_hits: usize,
    same_decision: usize,
    genuine_accepted: usize,
    impostors: usize,
    impostors_accepted: usize,
}

impl Measurement {
    fn json(&self) -> Value {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        json!({
            "queries": sorted.len(),
            "genuine": self.genuine,
            "impostors": self.impostors,
            "p50_ms": quantile(&sorted, 0.50),
            "p90_ms": quantile(&sorted, 0.90),
            "p99_ms": quantile(&sorted, 0.99),
            "mean_ms": sorted.iter().sum::<f64>() / sorted.len().max(1) as f64,
            "max_ms": sorted.last().copied().unwrap_or(0.0),
            "recall_at_1": ratio(self.recall_hits, self.genuine),
            "genuine_within_threshold": self.relevant,
            "recall_at_1_within_threshold": ratio(self.relevant_hits, self.relevant),
            "top1_is_identity": ratio(self.identity_hits, self.genuine),
            "same_decision_as_exact": ratio(self.same_decision, sorted.len()),
            "genuine_accepted": ratio(self.genuine_accepted, self.genuine),
            "impostors_accepted": ratio(self.impostors_accepted, self.impostors),
        })
    }
}

/// The `q` quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Everything one run of configurations needs.
struct Bench<'a> {
    probes: &'a [Probe],
    warmup: &'a [Probe],
    truth: &'a [Truth],
    policy: MatchPolicy,
    cap: Duration,
}

impl Bench<'_> {
    /// Warm-up, then the probes one at a time, each timed from the call to the decision
    /// (what `FaceMatcher::identify` does: top 2, then the policy).
    async fn measure(&self, searcher: &Searcher<'_>) -> BoxResult<Measurement> {
        for p in self.warmup {
            searcher.top2(&p.embedding).await?;
        }
        let mut m = Measurement {
            latencies_ms: Vec::with_capacity(self.probes.len()),
            genuine: 0,
            recall_hits: 0,
            relevant: 0,
            relevant_hits: 0,
            identity_hits: 0,
            same_decision: 0,
            genuine_accepted: 0,
            impostors: 0,
            impostors_accepted: 0,
        };
        let started = Instant::now();
        for (i, (p, truth)) in self.probes.iter().zip(self.truth).enumerate() {
            let t = Instant::now();
            let ranked = searcher.top2(&p.embedding).await?;
            let decision = self.policy.decide(&ranked);
            m.latencies_ms.push(t.elapsed().as_secs_f64() * 1e3);
            let top1 = ranked.first().map(|c| FaceSet::index_of(c.client_id));
            let key = DecisionKey::from(&decision);
            m.same_decision += usize::from(key == truth.decision);
            match p.identity {
                Some(identity) => {
                    m.genuine += 1;
                    let hit = top1.is_some() && top1 == truth.top1;
                    m.recall_hits += usize::from(hit);
                    if truth.top1_within_threshold {
                        m.relevant += 1;
                        m.relevant_hits += usize::from(hit);
                    }
                    m.identity_hits += usize::from(top1 == Some(identity));
                    m.genuine_accepted += usize::from(key == DecisionKey::Match(identity));
                }
                None => {
                    m.impostors += 1;
                    m.impostors_accepted += usize::from(matches!(key, DecisionKey::Match(_)));
                }
            }
            if started.elapsed() > self.cap && i + 1 >= MIN_QUERIES {
                break;
            }
        }
        Ok(m)
    }
}

/// 5 genuine probes, then 1 impostor, repeated: any prefix is a fair sample.
fn interleave(probes: Vec<Probe>) -> Vec<Probe> {
    let (genuine, impostors): (Vec<Probe>, Vec<Probe>) =
        probes.into_iter().partition(|p| p.identity.is_some());
    let mut g = genuine.into_iter();
    let mut out = Vec::new();
    for imp in impostors {
        out.extend(g.by_ref().take(5));
        out.push(imp);
    }
    out.extend(g);
    out
}

fn uuid_of(i: usize) -> Uuid {
    FaceSet::client_id(i).as_uuid()
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (server, _) = base
        .rsplit_once('/')
        .expect("a postgres:// URL with a database");
    match query {
        Some(q) => format!("{server}/{db}?{q}"),
        None => format!("{server}/{db}"),
    }
}

async fn exec(conn: &mut PgConnection, sql: &str) -> BoxResult<()> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await?;
    Ok(())
}

async fn scalar(conn: &mut PgConnection, sql: &str) -> BoxResult<String> {
    Ok(sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
        .fetch_one(conn)
        .await?)
}

/// Appends rows `range` of `set` in `COPY … (format binary)` tuple format:
/// `(client_id uuid, embedding vector)`.
fn copy_tuples(buf: &mut Vec<u8>, set: &FaceSet, range: Range<usize>) {
    for i in range {
        let v = set.identities[i].as_slice();
        buf.extend_from_slice(&2_i16.to_be_bytes());
        buf.extend_from_slice(&16_i32.to_be_bytes());
        buf.extend_from_slice(uuid_of(i).as_bytes());
        // pgvector's binary form: dimensions (int16), unused (int16), float4s.
        buf.extend_from_slice(&((4 + 4 * v.len()) as i32).to_be_bytes());
        buf.extend_from_slice(&(v.len() as u16).to_be_bytes());
        buf.extend_from_slice(&0_u16.to_be_bytes());
        for x in v {
            buf.extend_from_slice(&x.to_be_bytes());
        }
    }
}

fn rate(rows: usize, secs: f64) -> f64 {
    if secs > 0.0 { rows as f64 / secs } else { 0.0 }
}

/// Clients, one consent each, one template each. Templates `0..u` go in as multi-row
/// `unnest` inserts and the rest by binary `COPY`, so one run reports both rates.
async fn load(conn: &mut PgConnection, set: &FaceSet) -> BoxResult<Value> {
    let n = set.identities.len();
    let t = Instant::now();
    sqlx::query(
        "insert into clients (id, dni_type, dni_number, first_name, last_name, phone, \
         birth_date, gender) \
         select ('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid, 'CC', \
                'B' || i, 'Bench', 'Member ' || i, '3000000000', date '1990-01-01', 'other' \
         from generate_series(0, $1 - 1) as i",
    )
    .bind(n as i64)
    .execute(&mut *conn)
    .await?;
    let clients_s = t.elapsed().as_secs_f64();
    eprintln!("  clients: {clients_s:.1} s");

    let t = Instant::now();
    sqlx::query(
        "insert into biometric_consents (client_id, purpose, granted_at) \
         select id, 'face check-in (benchmark)', now() from clients",
    )
    .execute(&mut *conn)
    .await?;
    let consents_s = t.elapsed().as_secs_f64();
    eprintln!("  consents: {consents_s:.1} s");

    let u = (n / 10).min(10_000);
    let t = Instant::now();
    for start in (0..u).step_by(UNNEST_BATCH) {
        let end = (start + UNNEST_BATCH).min(u);
        let ids: Vec<Uuid> = (start..end).map(uuid_of).collect();
        let vectors: Vec<Vector> = (start..end)
            .map(|i| Vector::from(set.identities[i].as_slice().to_vec()))
            .collect();
        sqlx::query(
            "insert into biometrics (client_id, embedding) \
             select * from unnest($1::uuid[], $2::vector[])",
        )
        .bind(ids)
        .bind(vectors)
        .execute(&mut *conn)
        .await?;
    }
    let unnest_s = t.elapsed().as_secs_f64();
    eprintln!(
        "  templates by unnest: {u} in {unnest_s:.1} s ({:.0}/s)",
        rate(u, unnest_s)
    );

    let t = Instant::now();
    let mut copy = conn
        .copy_in_raw("copy biometrics (client_id, embedding) from stdin (format binary)")
        .await?;
    let mut buf = Vec::with_capacity(COPY_BATCH * 2_100);
    buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buf.extend_from_slice(&0_i32.to_be_bytes()); // flags
    buf.extend_from_slice(&0_i32.to_be_bytes()); // header extension
    for start in (u..n).step_by(COPY_BATCH) {
        copy_tuples(&mut buf, set, start..(start + COPY_BATCH).min(n));
        copy.send(std::mem::take(&mut buf)).await?;
    }
    copy.send((-1_i16).to_be_bytes().as_slice()).await?;
    let copied = copy.finish().await? as usize;
    let copy_s = t.elapsed().as_secs_f64();
    eprintln!(
        "  templates by COPY: {copied} in {copy_s:.1} s ({:.0}/s)",
        rate(copied, copy_s)
    );

    let t = Instant::now();
    exec(
        conn,
        "vacuum analyze clients, biometric_consents, biometrics",
    )
    .await?;
    let vacuum_s = t.elapsed().as_secs_f64();
    let (unnest_rate, copy_rate) = (rate(u, unnest_s), rate(copied, copy_s));
    let best = unnest_rate.max(copy_rate);
    Ok(json!({
        "clients": { "rows": n, "seconds": clients_s, "rows_per_s": rate(n, clients_s) },
        "consents": { "rows": n, "seconds": consents_s, "rows_per_s": rate(n, consents_s) },
        "templates_unnest": {
            "rows": u, "batch": UNNEST_BATCH, "seconds": unnest_s, "rows_per_s": unnest_rate,
        },
        "templates_copy": { "rows": copied, "seconds": copy_s, "rows_per_s": copy_rate },
        "templates_seconds": unnest_s + copy_s,
        "templates_projected_seconds_faster_method": n as f64 / best,
        "faster_method": if copy_rate >= unnest_rate { "copy" } else { "unnest" },
        "vacuum_analyze_seconds": vacuum_s,
        "heap_bytes": scalar(conn, "select pg_table_size('biometrics')::text").await?
            .parse::<i64>()?,
    }))
}

/// One vector index: how it is built and what it is called.
struct IndexSpec {
    name: &'static str,
    label: String,
    ddl: String,
}

/// Builds `spec` (timed), analyses, and loads the heap and the index into shared
/// buffers: a check-in desk queries a hot index, and the first query should not pay
/// for the build's cold pages.
async fn build(conn: &mut PgConnection, spec: &IndexSpec) -> BoxResult<Value> {
    eprintln!("  building {}", spec.label);
    let t = Instant::now();
    exec(conn, &spec.ddl).await?;
    let secs = t.elapsed().as_secs_f64();
    exec(conn, "analyze biometrics").await?;
    let bytes: i64 = scalar(
        conn,
        &format!("select pg_relation_size('{}')::text", spec.name),
    )
    .await?
    .parse()?;
    exec(
        conn,
        &format!(
            "select pg_prewarm('biometrics'), pg_prewarm('{}')",
            spec.name
        ),
    )
    .await?;
    eprintln!(
        "  built in {secs:.1} s, {:.0} MB",
        bytes as f64 / 1_048_576.0
    );
    Ok(
        json!({ "index": spec.name, "label": spec.label, "ddl": spec.ddl,
               "build_seconds": secs, "bytes": bytes }),
    )
}

/// One index at a time: with two on the column the planner, not the bench, would
/// choose which one a configuration measures.
async fn drop_index(conn: &mut PgConnection, name: &str) -> BoxResult<()> {
    exec(conn, &format!("drop index if exists {name}")).await
}

/// Results of one gallery size, in the order measured.
struct Report {
    rows: Vec<Value>,
    indexes: Vec<Value>,
}

impl Report {
    fn push(&mut self, config: String, family: &str, index: &Value, plan: String, m: &Measurement) {
        let mut row = m.json();
        let obj = row.as_object_mut().expect("an object");
        obj.insert("config".into(), json!(config));
        obj.insert("family".into(), json!(family));
        obj.insert("index".into(), index.clone());
        obj.insert("plan".into(), json!(plan));
        eprintln!(
            "    {config}: p50 {:.2} ms, p99 {:.2} ms, recall@1 {:.3} ({} queries)",
            row["p50_ms"].as_f64().unwrap_or(0.0),
            row["p99_ms"].as_f64().unwrap_or(0.0),
            row["recall_at_1"].as_f64().unwrap_or(0.0),
            row["queries"]
        );
        self.rows.push(row);
    }
}

/// What every phase needs: the pool the searches use, the probes, and the report.
struct Runner<'a> {
    pool: &'a PgPool,
    bench: Bench<'a>,
    probe0: &'a FaceEmbedding,
    report: Report,
}

impl Runner<'_> {
    /// Builds an index and records the build.
    async fn build(&mut self, conn: &mut PgConnection, spec: &IndexSpec) -> BoxResult<Value> {
        let built = build(conn, spec).await?;
        self.report.indexes.push(built.clone());
        Ok(built)
    }

    /// Measures the library's own matcher with `search`.
    async fn library(
        &mut self,
        config: String,
        family: &str,
        index: &Value,
        search: FaceSearch,
    ) -> BoxResult<()> {
        let matcher = PgVectorMatcher::new(self.pool.clone(), self.bench.policy, search)?;
        let settings = library_settings(search);
        let p = plan(self.pool, &settings, LIBRARY_KNN, true, self.probe0, 2).await?;
        let m = self.bench.measure(&Searcher::Matcher(&matcher)).await?;
        self.report.push(config, family, index, p, &m);
        Ok(())
    }

    /// Measures one of our statements (`$1` the probe, `$2` `candidates`) in the
    /// library's transaction shape.
    async fn sql(
        &mut self,
        config: String,
        family: &str,
        index: &Value,
        settings: Vec<(&'static str, String)>,
        sql: &'static str,
        candidates: i64,
    ) -> BoxResult<()> {
        let p = plan(self.pool, &settings, sql, false, self.probe0, candidates).await?;
        let s = Searcher::Sql {
            pool: self.pool,
            settings,
            sql,
            candidates,
        };
        let m = self.bench.measure(&s).await?;
        self.report.push(config, family, index, p, &m);
        Ok(())
    }
}

/// HNSW search settings as the library sets them.
fn hnsw_settings(ef_search: u32) -> Vec<(&'static str, String)> {
    library_settings(FaceSearch::Hnsw { ef_search })
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let args = args();
    std::fs::create_dir_all(&args.out)?;
    for &n in &args.sizes {
        let report = run(&args, n).await?;
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(args.out.join(format!("pgvector-{n}.json")), &text)?;
        let md = markdown(&report);
        std::fs::write(args.out.join(format!("pgvector-{n}.md")), &md)?;
        println!("{text}");
        println!("{md}");
    }
    Ok(())
}

/// One gallery size from an empty database to its report; the database is dropped at
/// the end (unless `--keep`) so a 100k run leaves no half-gigabyte behind.
async fn run(args: &Args, n: usize) -> BoxResult<Value> {
    let policy = MatchPolicy::default();
    let (genuine, impostors, warmup) = if args.quick {
        (100, 20, 10)
    } else {
        (GENUINE, IMPOSTORS, WARMUP)
    };
    eprintln!("{n} templates: generating faces and the exact answers");
    let set = FaceSet::new(n, GALLERY_SEED);
    let probes = interleave(set.probes(genuine, impostors, PROBE_SEED));
    let warmup = set.probes(warmup * 5 / 6, warmup / 6, WARMUP_SEED);
    let exact = set.gallery(Precision::F32);
    let truth: Vec<Truth> = probes
        .iter()
        .map(|p| {
            let ranked = exact.top_k(&p.embedding, 2);
            Truth {
                top1: ranked.first().map(|c| FaceSet::index_of(c.client_id)),
                top1_within_threshold: ranked
                    .first()
                    .is_some_and(|c| c.distance <= policy.max_distance()),
                decision: DecisionKey::from(&policy.decide(&ranked)),
            }
        })
        .collect();
    drop(exact);

    let db = format!("powergym_bench_{n}");
    let url = with_database(&args.url, &db);
    {
        let mut admin = PgConnection::connect(&args.url).await?;
        exec(
            &mut admin,
            &format!("drop database if exists {db} with (force)"),
        )
        .await?;
        exec(&mut admin, &format!("create database {db}")).await?;
        admin.close().await?;
    }
    let gym = Gym::connect(&url).await?;
    gym.migrations().run().await?;
    gym.close().await;

    let mut conn = PgConnection::connect(&url).await?;
    exec(
        &mut conn,
        // `select …::vector` loads pgvector, which registers its settings.
        "set maintenance_work_mem = '1GB'; create extension if not exists pg_prewarm; \
         select '[1]'::vector",
    )
    .await?;
    let mut server = serde_json::Map::new();
    for (key, sql) in [
        ("version", "select version()"),
        (
            "pgvector",
            "select extversion from pg_extension where extname = 'vector'",
        ),
        ("shared_buffers", "select current_setting('shared_buffers')"),
        ("work_mem", "select current_setting('work_mem')"),
        (
            "maintenance_work_mem_server",
            "select reset_val || coalesce(unit, '') from pg_settings where name = 'maintenance_work_mem'",
        ),
        (
            "maintenance_work_mem_build",
            "select current_setting('maintenance_work_mem')",
        ),
        (
            "max_parallel_maintenance_workers",
            "select current_setting('max_parallel_maintenance_workers')",
        ),
        (
            "max_parallel_workers_per_gather",
            "select current_setting('max_parallel_workers_per_gather')",
        ),
        ("jit", "select current_setting('jit')"),
        ("ivfflat_probes", "select current_setting('ivfflat.probes')"),
    ] {
        server.insert(key.into(), json!(scalar(&mut conn, sql).await?));
    }

    eprintln!("{n} templates: loading");
    drop_index(&mut conn, "idx_biometrics_embedding").await?;
    let load = load(&mut conn, &set).await?;

    // Configured as `Gym::connect` configures its pool (a ping before each checkout).
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .test_before_acquire(true)
        .connect(&url)
        .await?;
    let bench = Bench {
        probes: &probes,
        warmup: &warmup,
        truth: &truth,
        policy,
        cap: args.cap,
    };
    let mut r = Runner {
        pool: &pool,
        bench,
        probe0: &probes[0].embedding,
        report: Report {
            rows: Vec::new(),
            indexes: Vec::new(),
        },
    };
    let has = |p: &str| args.phases.iter().any(|q| q == p);
    let none = Value::Null;

    if has("floor") {
        let config = "round-trip floor (no search)".to_owned();
        r.sql(config, "floor", &none, Vec::new(), FLOOR, 2).await?;
    }

    // (a) HNSW at pgvector's defaults (m 16, ef_construction 64: migration 0002's index),
    // and (c) the exact scan with that index in place, as in production.
    let migration = IndexSpec {
        name: "idx_biometrics_embedding",
        label: "HNSW m=16 ef_construction=64 (migration 0002; 0010 replaces it)".into(),
        ddl: "create index idx_biometrics_embedding on biometrics \
              using hnsw (embedding vector_cosine_ops) where is_active"
            .into(),
    };
    if has("hnsw") || has("exact") {
        let built = r.build(&mut conn, &migration).await?;
        if has("hnsw") {
            for ef in [40_u32, 100, 200, 400, 800, 1000] {
                let config = format!("(a) PgVectorMatcher HNSW m=16/64 ef_search={ef}");
                let search = FaceSearch::Hnsw { ef_search: ef };
                r.library(config, "hnsw", &built, search).await?;
            }
        }
        if has("exact") {
            let config = "(c) PgVectorMatcher Exact".to_owned();
            r.library(config, "exact", &none, FaceSearch::Exact).await?;
        }
        drop_index(&mut conn, migration.name).await?;
    }

    // (e) The exact in-process matcher as a cache over the store of record.
    if has("cache") {
        let store = PgStore::new(pool.clone());
        for precision in [Precision::F32, Precision::Int8] {
            // Bytes held per template (the `Precision` table in gallery.rs).
            let (name, per_template) = match precision {
                Precision::F32 => ("f32", 2_048),
                Precision::F16 => ("f16", 3_072),
                Precision::Int8 => ("int8", 2_564),
            };
            let t = Instant::now();
            let matcher =
                InMemoryMatcher::load(&store, Gallery::with_precision(precision), policy).await?;
            let load_s = t.elapsed().as_secs_f64();
            eprintln!("  cache {name}: loaded {} in {load_s:.1} s", matcher.len());
            let m = r.bench.measure(&Searcher::Matcher(&matcher)).await?;
            r.report.push(
                format!("(e) InMemoryMatcher {name}, loaded from PostgreSQL"),
                "cache",
                &json!({
                    "load_seconds": load_s,
                    "templates": matcher.len(),
                    "approx_bytes": matcher.len() * per_template,
                }),
                format!("in process, {name} scan + f32 re-rank"),
                &m,
            );
        }
    }

    // (a) A larger HNSW build.
    if has("hnsw-big") {
        let (m, efc) = args.big;
        let spec = IndexSpec {
            name: "idx_bench_hnsw_big",
            label: format!("HNSW m={m} ef_construction={efc}"),
            ddl: format!(
                "create index idx_bench_hnsw_big on biometrics \
                 using hnsw (embedding vector_cosine_ops) \
                 with (m = {m}, ef_construction = {efc}) where is_active"
            ),
        };
        let built = r.build(&mut conn, &spec).await?;
        for ef in [100_u32, 200, 400, 800] {
            let config = format!("(a) PgVectorMatcher HNSW m={m}/{efc} ef_search={ef}");
            let search = FaceSearch::Hnsw { ef_search: ef };
            r.library(config, "hnsw", &built, search).await?;
        }
        drop_index(&mut conn, spec.name).await?;
    }

    // (b) The original guide's IVFFlat.
    if has("ivfflat") {
        let spec = IndexSpec {
            name: "idx_bench_ivfflat",
            label: "IVFFlat lists=100 (the original guide)".into(),
            ddl: "create index idx_bench_ivfflat on biometrics \
                  using ivfflat (embedding vector_cosine_ops) with (lists = 100) where is_active"
                .into(),
        };
        let built = r.build(&mut conn, &spec).await?;
        // The library's own call: its HNSW settings do not touch IVFFlat, so this is
        // the guide's setup with the default `ivfflat.probes` (1).
        let config = "(b) IVFFlat lists=100, probes=1 (default), library query".to_owned();
        let search = FaceSearch::Hnsw { ef_search: 40 };
        r.library(config, "ivfflat", &built, search).await?;
        for probes in [10_u32, 30] {
            let config = format!("(b') IVFFlat lists=100, probes={probes}");
            let settings = vec![("ivfflat.probes", probes.to_string())];
            r.sql(config, "ivfflat", &built, settings, PLAIN_KNN, 2)
                .await?;
        }
        drop_index(&mut conn, spec.name).await?;
    }

    // (d) Quantised HNSW, then an exact re-rank of the candidates.
    if has("bits") {
        let (m, efc) = args.bits;
        let spec = IndexSpec {
            name: "idx_bench_bits",
            label: format!("HNSW on binary_quantize bit(512), m={m} ef_construction={efc}"),
            ddl: format!(
                "create index idx_bench_bits on biometrics using hnsw \
                 ((binary_quantize(embedding)::bit(512)) bit_hamming_ops) \
                 with (m = {m}, ef_construction = {efc}) where is_active"
            ),
        };
        let built = r.build(&mut conn, &spec).await?;
        for ef in [100_u32, 200, 400, 1000] {
            let config = format!("(d) bits HNSW m={m}/{efc} ef_search={ef}, re-rank {ef} in f32");
            let settings = hnsw_settings(ef);
            r.sql(config, "bits", &built, settings, BITS_RERANK, i64::from(ef))
                .await?;
        }
        drop_index(&mut conn, spec.name).await?;
    }
    if has("halfvec") {
        let (m, efc) = (16, 64);
        let spec = IndexSpec {
            name: "idx_bench_half",
            label: format!("HNSW on halfvec(512), m={m} ef_construction={efc}"),
            ddl: format!(
                "create index idx_bench_half on biometrics using hnsw \
                 ((embedding::halfvec(512)) halfvec_cosine_ops) \
                 with (m = {m}, ef_construction = {efc}) where is_active"
            ),
        };
        let built = r.build(&mut conn, &spec).await?;
        for ef in [200_u32, 800] {
            let config = format!("(d) halfvec HNSW m={m}/{efc} ef_search={ef}, re-rank 100 in f32");
            let settings = hnsw_settings(ef);
            r.sql(config, "halfvec", &built, settings, HALF_RERANK, 100)
                .await?;
        }
        drop_index(&mut conn, spec.name).await?;
    }
    let report = r.report;

    // Leave the schema as the migrations made it, in case the database is kept.
    if args.keep {
        exec(&mut conn, &migration.ddl).await?;
    }
    pool.close().await;
    conn.close().await?;
    if !args.keep {
        let mut admin = PgConnection::connect(&args.url).await?;
        exec(
            &mut admin,
            &format!("drop database if exists {db} with (force)"),
        )
        .await?;
        admin.close().await?;
    }

    Ok(json!({
        "templates": n,
        "date": chrono::Utc::now().to_rfc3339(),
        "machine": {
            "cores": std::thread::available_parallelism().map_or(1, |c| c.get()),
            "loadavg_after": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        },
        "server": server,
        "probes": {
            "genuine": genuine, "impostors": impostors, "warmup_per_config": warmup.len(),
            "gallery_seed": GALLERY_SEED, "probe_seed": PROBE_SEED,
            "cap_seconds_per_config": args.cap.as_secs_f64(), "min_queries": MIN_QUERIES,
        },
        "policy": { "max_distance": policy.max_distance(), "ambiguity_margin": policy.ambiguity_margin() },
        "load": load,
        "indexes": report.indexes,
        "results": report.rows,
    }))
}

/// The results as markdown tables: the load, the index builds, the searches.
fn markdown(r: &Value) -> String {
    let mut s = String::new();
    let n = r["templates"].as_u64().unwrap_or(0);
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let l = &r["load"];
    let _ = writeln!(s, "### {n} templates\n");
    let _ = writeln!(s, "| load step | rows | time | rows/s |\n|---|---|---|---|");
    for (label, key) in [
        ("clients (insert … select)", "clients"),
        ("consents (insert … select)", "consents"),
        ("templates, unnest batches of 1 000", "templates_unnest"),
        ("templates, binary COPY", "templates_copy"),
    ] {
        let _ = writeln!(
            s,
            "| {label} | {} | {:.2} s | {:.0} |",
            l[key]["rows"],
            f(&l[key]["seconds"]),
            f(&l[key]["rows_per_s"])
        );
    }
    let _ = writeln!(s, "\n| index | build | size |\n|---|---|---|");
    for i in r["indexes"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {:.1} s | {:.0} MB |",
            i["label"].as_str().unwrap_or(""),
            f(&i["build_seconds"]),
            f(&i["bytes"]) / 1_048_576.0
        );
    }
    let _ = writeln!(
        s,
        "\n| configuration | plan | p50 | p99 | recall@1 | recall@1, exact top-1 ≤ {:.2} | same decision as exact | queries |\n|---|---|---|---|---|---|---|---|",
        f(&r["policy"]["max_distance"])
    );
    for row in r["results"].as_array().into_iter().flatten() {
        let mut config = row["config"].as_str().unwrap_or("").to_owned();
        if let Some(load) = row["index"]["load_seconds"].as_f64() {
            let _ = write!(config, " (load {load:.1} s)");
        }
        let ratio = |key: &str| {
            if row["family"] == "floor" {
                "–".to_owned()
            } else {
                format!("{:.3}", f(&row[key]))
            }
        };
        let _ = writeln!(
            s,
            "| {config} | {} | {:.2} ms | {:.2} ms | {} | {} | {} | {} |",
            short_plan(row["plan"].as_str().unwrap_or("")),
            f(&row["p50_ms"]),
            f(&row["p99_ms"]),
            ratio("recall_at_1"),
            ratio("recall_at_1_within_threshold"),
            ratio("same_decision_as_exact"),
            row["queries"]
        );
    }
    s
}

/// The scan that served a query, in a few words.
fn short_plan(plan: &str) -> String {
    let first = plan.split("; ").next().unwrap_or("");
    if first.starts_with("Parallel Seq Scan") {
        "parallel seq scan".into()
    } else if first.starts_with("Seq Scan") {
        "seq scan".into()
    } else if let Some(rest) = first.strip_prefix("Index Scan using ") {
        format!("`{}`", rest.split(' ').next().unwrap_or(rest))
    } else {
        first.to_owned()
    }
}
