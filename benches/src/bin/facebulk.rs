//! Face enrolment and cache loading at 100k members on PostgreSQL, through the Gym API:
//! bulk enrolment (`Gym::enroll_faces`), loading the in-process cache in a fresh process,
//! and single enrolments with the cache loaded.
//!
//! `facebulk PHASE [--n N] [--url URL]`, phases run in order by separate invocations so
//! each load is the first of its process:
//!
//! - `setup`: (re)creates the database `powergym_facebulk`, migrates it with the library,
//!   and inserts N + 20,200 members with consents by SQL;
//! - `seed`: N templates by binary COPY (a gallery built up over time);
//! - `bulk`: enrols members `0..N` in one `enroll_faces` call (timed, by phase);
//! - `more`: enrols 10,000 more into the N-member gallery in one call;
//! - `load`: a fresh process loads the cache (`enable_face_cache`, int8) and, in a second
//!   gym, by the default path (the first `identify_face`);
//! - `single`: 200 single `enroll_face` calls with the cache loaded (p50/p99);
//! - `again`: erases by SQL whatever an earlier run enrolled for the next 10,000 members,
//!   loads the cache, then enrols their new faces in one call (the cache kept up to date);
//! - `replace`: after `again`, enrols the same 10,000 again, each replacing the template
//!   they have;
//! - `scan`: the batch's duplicate check alone, in process (10,000 probes × N);
//! - `sqlite`: the bulk and single enrolments on an embedded SQLite file.
//!
//! Synthetic faces: `FaceSet` (seed 2026), so a duplicate is never expected.

use std::time::Instant;

use powergym_benches::FaceSet;
use powergym_core::face::{FaceEmbedding, Identification, Precision};
use powergym_core::{BulkProgress, ClientId, Gym};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

const DB: &str = "powergym_facebulk";
const SEED: u64 = 2026;
const MORE: usize = 10_000;
const SINGLES: usize = 200;

fn with_database(url: &str, db: &str) -> String {
    let (server, _) = url
        .rsplit_once('/')
        .expect("a postgres:// URL with a database");
    format!("{server}/{db}")
}

fn member(i: usize) -> ClientId {
    FaceSet::client_id(i)
}

async fn gym(url: &str) -> BoxResult<(Gym, powergym_core::Actor)> {
    let gym = Gym::open(url).await?;
    let admin = gym.acting_as("admin").await?;
    Ok((gym, admin))
}

fn flat(faces: &[FaceEmbedding]) -> Vec<f32> {
    faces
        .iter()
        .flat_map(|f| f.as_slice().iter().copied())
        .collect()
}

async fn bulk(
    gym: &Gym,
    admin: &powergym_core::Actor,
    range: std::ops::Range<usize>,
    set: &FaceSet,
) -> BoxResult<()> {
    let clients: Vec<ClientId> = range.clone().map(member).collect();
    let embeddings = flat(&set.identities[range.clone()]);
    let cpu_before = (
        process_ticks(|c| c == "self"),
        process_ticks(|c| c == "postgres"),
    );
    let started = Instant::now();
    let mut checked = None;
    let mut written = None;
    let n = clients.len();
    let result = gym
        .enroll_faces(admin, &clients, &embeddings, &mut |p: BulkProgress| {
            if checked.is_none() && p.done == 0 {
                checked = Some(started.elapsed());
            }
            if p.done == p.total && written.is_none() {
                written = Some(started.elapsed());
            }
        })
        .await?;
    let total = started.elapsed();
    let ours = cpu_since(&cpu_before.0, &process_ticks(|c| c == "self"));
    let server = cpu_since(&cpu_before.1, &process_ticks(|c| c == "postgres"));
    let refused = result.refused().count();
    println!(
        "enroll_faces {n} (gallery before: {}): {:.2} s, {:.0} templates/s; in-process checks \
         done at {:.2} s, rows sent by {:.2} s; enrolled {}, refused {refused}",
        range.start,
        total.as_secs_f64(),
        result.enrolled as f64 / total.as_secs_f64(),
        checked.map_or(f64::NAN, |d| d.as_secs_f64()),
        written.map_or(f64::NAN, |d| d.as_secs_f64()),
        result.enrolled,
    );
    println!(
        "  CPU during the call: this process {ours:.2} s, the PostgreSQL server's processes \
         {server:.2} s, together {:.2} s ({:.2} s of wall time on {} cores at best)",
        ours + server,
        (ours + server) / std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    Ok(())
}

/// CPU time (user + system, clock ticks of 10 ms) of each process whose command name
/// passes `which` (`"self"` is this process), by process id, from `/proc`; empty where
/// `/proc` cannot be read.
fn process_ticks(which: impl Fn(&str) -> bool) -> std::collections::HashMap<String, u64> {
    let ticks = |stat: &str| -> Option<u64> {
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    };
    let mut out = std::collections::HashMap::new();
    if which("self") {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        out.insert("self".to_owned(), ticks(&stat).unwrap_or(0));
        return out;
    }
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let comm = stat
            .split_once('(')
            .and_then(|(_, r)| r.rsplit_once(')'))
            .map_or("", |(c, _)| c);
        if which(comm) {
            let pid = entry.file_name().to_string_lossy().into_owned();
            out.insert(pid, ticks(&stat).unwrap_or(0));
        }
    }
    out
}

/// Seconds of CPU the processes of `after` used since `before`, process by process: one
/// that ended in between is left out rather than counted as having given its time
/// back, and one that started counts whole.
fn cpu_since(
    before: &std::collections::HashMap<String, u64>,
    after: &std::collections::HashMap<String, u64>,
) -> f64 {
    const TICKS_PER_SECOND: f64 = 100.0;
    let ticks: u64 = after
        .iter()
        .map(|(pid, t)| t.saturating_sub(before.get(pid).copied().unwrap_or(0)))
        .sum();
    ticks as f64 / TICKS_PER_SECOND
}

/// Single `enroll_face` calls for the members in `range`, one after the other: p50, p99
/// and max in milliseconds.
async fn singles(
    gym: &Gym,
    admin: &powergym_core::Actor,
    range: std::ops::Range<usize>,
    set: &FaceSet,
) -> BoxResult<(f64, f64, f64)> {
    let mut times = Vec::new();
    for i in range {
        let t = Instant::now();
        gym.enroll_face(admin, member(i), &set.identities[i], None)
            .await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1],
    ))
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let mut args = std::env::args().skip(1);
    let phase = args.next().unwrap_or_else(|| "setup".into());
    let mut n = 100_000usize;
    let mut url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://powergym:powergym@127.0.0.1:5432/powergym".into());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--n" => n = args.next().expect("--n N").parse()?,
            "--url" => url = args.next().expect("--url URL"),
            other => panic!("unknown argument {other}"),
        }
    }
    let db_url = with_database(&url, DB);
    match phase.as_str() {
        "setup" => {
            let mut admin_conn = PgConnection::connect(&url).await?;
            sqlx::raw_sql(AssertSqlSafe(format!(
                "drop database if exists {DB} with (force)"
            )))
            .execute(&mut admin_conn)
            .await?;
            sqlx::raw_sql(AssertSqlSafe(format!("create database {DB}")))
                .execute(&mut admin_conn)
                .await?;
            let gym = Gym::connect(&db_url).await?;
            gym.migrations().run().await?;
            gym.bootstrap_admin("admin", "admin-password-123").await?;
            let mut conn = PgConnection::connect(&db_url).await?;
            let t = Instant::now();
            sqlx::query(
                "insert into clients (id, dni_type, dni_number, first_name, last_name, phone, \
                 birth_date, gender) \
                 select ('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid, 'CC', \
                        'B' || i, 'Bench', 'Member ' || i, '3000000000', date '1990-01-01', 'other' \
                 from generate_series(0, $1 - 1) as i",
            )
            .bind((n + MORE * 2 + SINGLES) as i64)
            .execute(&mut conn)
            .await?;
            sqlx::query(
                "insert into biometric_consents (client_id, purpose, granted_at) \
                 select id, 'face check-in (benchmark)', now() from clients",
            )
            .execute(&mut conn)
            .await?;
            sqlx::raw_sql("vacuum analyze clients, biometric_consents")
                .execute(&mut conn)
                .await?;
            println!(
                "setup: {} members with consent in {:.1} s",
                n + MORE * 2 + SINGLES,
                t.elapsed().as_secs_f64()
            );
        }
        "seed" => {
            // The gallery by SQL, as a gym that enrolled N members over time has it:
            // binary COPY (the schema has no vector index since migration 0017).
            let set = FaceSet::new(n, SEED);
            let mut conn = PgConnection::connect(&db_url).await?;
            let t = Instant::now();
            let mut copy = conn
                .copy_in_raw("copy biometrics (client_id, embedding) from stdin (format binary)")
                .await?;
            let mut buf = Vec::new();
            buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
            buf.extend_from_slice(&0_i32.to_be_bytes());
            buf.extend_from_slice(&0_i32.to_be_bytes());
            for (i, face) in set.identities.iter().enumerate() {
                let v = face.as_slice();
                buf.extend_from_slice(&2_i16.to_be_bytes());
                buf.extend_from_slice(&16_i32.to_be_bytes());
                buf.extend_from_slice(member(i).as_uuid().as_bytes());
                buf.extend_from_slice(&((4 + 4 * v.len()) as i32).to_be_bytes());
                buf.extend_from_slice(&(v.len() as u16).to_be_bytes());
                buf.extend_from_slice(&0_u16.to_be_bytes());
                for x in v {
                    buf.extend_from_slice(&x.to_be_bytes());
                }
                if buf.len() > 4 << 20 {
                    copy.send(std::mem::take(&mut buf)).await?;
                }
            }
            buf.extend_from_slice(&(-1_i16).to_be_bytes());
            copy.send(buf).await?;
            copy.finish().await?;
            sqlx::raw_sql("vacuum analyze biometrics")
                .execute(&mut conn)
                .await?;
            println!(
                "seed: {n} templates by COPY in {:.1} s",
                t.elapsed().as_secs_f64()
            );
        }
        "bulk" => {
            let set = FaceSet::new(n, SEED);
            let (gym, admin) = gym(&db_url).await?;
            bulk(&gym, &admin, 0..n, &set).await?;
        }
        "more" | "again" | "replace" => {
            // `more`: 10,000 more into the N-template gallery; `again`: the next 10,000,
            // new faces (whatever an earlier run enrolled for them is erased first, by
            // SQL), with this process's cache loaded first (the enrolling gym keeps it);
            // `replace`: the same 10,000 again, each replacing the template they have.
            let set = FaceSet::new(n + MORE * 2, SEED);
            if phase == "again" {
                let mut conn = PgConnection::connect(&db_url).await?;
                let ids: Vec<uuid::Uuid> = (n + MORE..n + 2 * MORE)
                    .map(|i| member(i).as_uuid())
                    .collect();
                let erased = sqlx::query("delete from biometrics where client_id = any($1)")
                    .bind(ids)
                    .execute(&mut conn)
                    .await?
                    .rows_affected();
                sqlx::raw_sql("vacuum analyze biometrics")
                    .execute(&mut conn)
                    .await?;
                println!("erased {erased} templates of the range first");
            }
            let (gym, admin) = gym(&db_url).await?;
            let range = if phase == "more" {
                n..n + MORE
            } else {
                let t = Instant::now();
                let loaded = gym.enable_face_cache(&admin, Precision::Int8).await?;
                println!(
                    "cache of {loaded} loaded in {:.2} s",
                    t.elapsed().as_secs_f64()
                );
                n + MORE..n + 2 * MORE
            };
            bulk(&gym, &admin, range, &set).await?;
        }
        "load" => {
            let (gym, admin) = gym(&db_url).await?;
            let t = Instant::now();
            let loaded = gym.enable_face_cache(&admin, Precision::Int8).await?;
            println!(
                "enable_face_cache(int8), first load of this process: {loaded} templates in {:.3} s",
                t.elapsed().as_secs_f64()
            );
            let t = Instant::now();
            let again = gym.enable_face_cache(&admin, Precision::Int8).await?;
            println!(
                "  again (reload): {again} in {:.3} s",
                t.elapsed().as_secs_f64()
            );
            let (other, admin) = self::gym(&db_url).await?;
            let probe = FaceSet::new(1, SEED).identities[0].clone();
            let t = Instant::now();
            let who = other.identify_face(&admin, &probe).await?;
            println!(
                "default cache, first identify_face (load included): {:.3} s, cache {:?}, match {}",
                t.elapsed().as_secs_f64(),
                other.face_cache_size(),
                matches!(who, Identification::Match(c) if c.client_id == member(0)),
            );
        }
        "single" => {
            let set = FaceSet::new(n + 2 * MORE + SINGLES, SEED);
            let (gym, admin) = gym(&db_url).await?;
            let loaded = gym.enable_face_cache(&admin, Precision::Int8).await?;
            let (p50, p99, max) =
                singles(&gym, &admin, n + 2 * MORE..n + 2 * MORE + SINGLES, &set).await?;
            println!(
                "enroll_face with the cache loaded ({loaded} templates): p50 {p50:.2} ms, \
                 p99 {p99:.2} ms, max {max:.2} ms"
            );
        }
        "sqlite" => {
            // The same enrolments on an embedded SQLite file (target/bench-data): members
            // and consents by SQL, then N into an empty gallery, MORE into N by a fresh
            // process-like gym, and SINGLES single enrolments.
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("facebulk.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            let url = format!("sqlite://{}", path.display());
            let set = FaceSet::new(n + MORE + SINGLES, SEED);
            {
                let gym = Gym::open(&url).await?;
                gym.migrations().run().await?;
                gym.bootstrap_admin("admin", "admin-password-123").await?;
                gym.close().await;
            }
            let t = Instant::now();
            let mut conn = sqlx::SqliteConnection::connect(&url).await?;
            sqlx::query(
                "with recursive i(n) as (select 0 union all select n + 1 from i where n < ?1 - 1) \
                 insert into clients (id, dni_type, dni_number, first_name, last_name, phone, \
                 birth_date, gender) \
                 select printf('00000000-0000-0000-0000-%012x', n), 'CC', 'B' || n, 'Bench', \
                        'Member ' || n, '3000000000', '1990-01-01', 'other' from i",
            )
            .bind((n + MORE + SINGLES) as i64)
            .execute(&mut conn)
            .await?;
            sqlx::query(
                "insert into biometric_consents (client_id, purpose, granted_at) \
                 select id, 'face check-in (benchmark)', ?1 from clients",
            )
            .bind(chrono::Utc::now().timestamp_micros())
            .execute(&mut conn)
            .await?;
            drop(conn);
            println!(
                "sqlite setup: {} members with consent in {:.1} s",
                n + MORE + SINGLES,
                t.elapsed().as_secs_f64()
            );
            {
                let (gym, admin) = gym(&url).await?;
                bulk(&gym, &admin, 0..n, &set).await?;
                gym.close().await;
            }
            let (gym, admin) = gym(&url).await?;
            bulk(&gym, &admin, n..n + MORE, &set).await?;
            let (p50, p99, max) = singles(&gym, &admin, n + MORE..n + MORE + SINGLES, &set).await?;
            println!(
                "sqlite enroll_face ({} templates): p50 {p50:.2} ms, p99 {p99:.2} ms, \
                 max {max:.2} ms",
                n + MORE
            );
        }
        "scan" => {
            // The bulk duplicate check alone, in process: MORE probes against an N-template
            // int8 gallery (no database).
            let set = FaceSet::new(n + MORE, SEED);
            let gallery = set.gallery(Precision::Int8);
            let probes = &set.identities[n..n + MORE];
            let mut g = powergym_core::face::Gallery::with_precision(Precision::Int8);
            for (i, f) in set.identities[..n].iter().enumerate() {
                g.upsert(member(i), f);
            }
            drop(gallery);
            let threads: usize = std::env::var("SCAN_THREADS")
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            if threads > 0 {
                g = g.with_scan_threads(threads);
            }
            for _ in 0..3 {
                let t = Instant::now();
                let hits = g.within(probes, 0.4);
                println!(
                    "within: {MORE} probes x {n} templates: {:.3} s ({:.2} ns a pair), {} hits",
                    t.elapsed().as_secs_f64(),
                    t.elapsed().as_secs_f64() * 1e9 / (MORE * n) as f64,
                    hits.len()
                );
            }
        }
        other => panic!("unknown phase {other}"),
    }
    Ok(())
}
