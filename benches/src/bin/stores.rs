//! SQLite against PostgreSQL through the public `Gym` API, in one run: p50/p99 of the
//! front desk's writes (check-in by document, a partial payment, a one-unit sale, check-in
//! by face) at 1k and 10k members, plus, on SQLite, the time to open a 10k-member file
//! and make the first face search, and the resident memory that search adds.
//!
//! `cargo run --release -p powergym-benches --bin stores -- [--sizes 1000,10000]
//! [--calls 300] [--warmup 20] [--url URL] [--data DIR] [--out DIR] [--opens 5]`
//! (`benches/scripts/stores.sh` runs it). `DATABASE_URL` (or `--url`) names a database of
//! a role that may create databases: each size gets a fresh `powergym_bench_stores_<N>`,
//! dropped at the end of that size. SQLite files are `<data>/stores-<N>.db`, kept (the
//! open measurement reads the 10k one).
//!
//! Setup (not timed) goes through the API too: per member `register_client`,
//! `create_subscription` (monthly, 80 000), `record_payment` of the whole price (except
//! the payment targets, left pending), `record_biometric_consent` and `enroll_face`, the
//! identities from `FaceSet` (seed 2026). Every member is enrolled. PostgreSQL is
//! populated by 8 concurrent tasks, SQLite by one task through one `Gym` (its writes are
//! serialised by the file lock anyway); both stores at the same time.
//!
//! Timed calls: each is a real write on a fresh target. Check-ins by document and by face
//! go to members who have not checked in today (one check-in per member and day), each
//! payment is 10 000 on a different pending subscription, each sale is one unit of one
//! stocked product. The two stores are timed in alternating blocks of 25 calls, after a
//! warm-up of `--warmup` calls each, so a noisy minute on this shared machine hits both.
//!
//! `stores --open-probe FILE` is the child the parent runs to measure the open: a fresh
//! process opens the file, searches one face and reports times and `/proc/self/status`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use powergym_benches::{FaceSet, genuine_probe, identities};
use powergym_core::domain::consent::ConsentInput;
use powergym_core::face::{FaceEmbedding, Identification};
use powergym_core::{
    Actor, CheckInOutcome, ClientId, ClientInput, DocumentType, DurationUnit, FaceCheckIn, Gender,
    Gym, PaymentInput, PaymentMethod, PlanId, PlanInput, ProductInput, Role, StaffInput,
    SubscriptionId, SubscriptionInput, SubscriptionStatus,
};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

type BoxResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const GALLERY_SEED: u64 = 2026;
const ADMIN: (&str, &str) = ("admin", "stores-bench-admin");
const DESK: (&str, &str) = ("desk", "stores-bench-desk");
/// Calls per store before it hands over to the other one.
const BLOCK: usize = 25;
/// Tasks writing the PostgreSQL setup at once.
const PG_SETUP_TASKS: usize = 8;

struct Args {
    sizes: Vec<usize>,
    calls: usize,
    warmup: usize,
    url: String,
    data: PathBuf,
    out: PathBuf,
    opens: usize,
}

fn args() -> Args {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target");
    let mut out = Args {
        sizes: vec![1_000, 10_000],
        calls: 300,
        warmup: 20,
        url: std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://powergym:powergym@127.0.0.1:5432/powergym".into()),
        data: root.join("bench-data"),
        out: root.join("bench-results"),
        opens: 5,
    };
    let usage = "usage: stores [--sizes N,N] [--calls C] [--warmup W] [--url URL] \
                 [--data DIR] [--out DIR] [--opens K] | stores --open-probe FILE";
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| panic!("{a} needs a value; {usage}"))
        };
        match a.as_str() {
            "--sizes" => {
                out.sizes = value()
                    .split(',')
                    .map(|s| s.trim().parse().expect("sizes are numbers"))
                    .collect()
            }
            "--calls" => out.calls = value().parse().expect("--calls is a number"),
            "--warmup" => out.warmup = value().parse().expect("--warmup is a number"),
            "--url" => out.url = value(),
            "--data" => out.data = PathBuf::from(value()),
            "--out" => out.out = PathBuf::from(value()),
            "--opens" => out.opens = value().parse().expect("--opens is a number"),
            other => panic!("unknown argument {other:?}; {usage}"),
        }
    }
    out
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let mut raw = std::env::args().skip(1);
    if raw.next().as_deref() == Some("--open-probe") {
        let file = raw.next().expect("--open-probe needs a file");
        let report = open_probe(&file).await?;
        println!("{report}");
        return Ok(());
    }
    let args = args();
    std::fs::create_dir_all(&args.data)?;
    std::fs::create_dir_all(&args.out)?;
    let started = Instant::now();
    let load_before = loadavg();
    let mut sizes = Vec::new();
    let mut open = Value::Null;
    for &n in &args.sizes {
        let (report, sqlite_file) = run_size(&args, n).await?;
        sizes.push(report);
        if n == *args.sizes.iter().max().expect("at least one size") {
            open = measure_open(&sqlite_file, n, args.opens)?;
        }
    }
    let report = json!({
        "date": chrono::Utc::now().to_rfc3339(),
        "machine": {
            "cpu": cpu_name(),
            "cores": std::thread::available_parallelism().map_or(1, |c| c.get()),
            "loadavg_before": load_before,
            "loadavg_after": loadavg(),
        },
        "calls": args.calls,
        "warmup": args.warmup,
        "block": BLOCK,
        "sizes": sizes,
        "open": open,
        "seconds": started.elapsed().as_secs_f64(),
    });
    let md = markdown(&report);
    std::fs::write(
        args.out.join("stores.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(args.out.join("stores.md"), &md)?;
    println!("{md}");
    Ok(())
}

/// What one store holds after the setup, in member order.
struct Fixture {
    gym: Gym,
    desk: Actor,
    clients: Vec<ClientId>,
    /// Pending subscription of member `i`, for the payment targets.
    pending: Vec<Option<SubscriptionId>>,
    product: uuid::Uuid,
}

/// Which members each operation uses: `targets` = warm-up + timed calls per operation,
/// spread over the whole membership so that no operation only touches the newest rows.
struct Layout {
    n: usize,
    targets: usize,
}

const OPS: [&str; 4] = [
    "check-in by document",
    "payment (partial, pending subscription)",
    "sale (1 unit)",
    "check-in by face (genuine probe)",
];

impl Layout {
    /// The member the `k`-th call of operation `op` goes to (`op` 0: document, 1:
    /// payment, 2: face; sales need no member).
    fn member(&self, op: usize, k: usize) -> usize {
        (k * 3 + op) * self.n / (self.targets * 3)
    }
    fn is_pending(&self, i: usize) -> bool {
        (0..self.targets).any(|k| self.member(1, k) == i)
    }
}

fn document(i: usize) -> String {
    (70_000_000 + i).to_string()
}

/// A genuine probe of member `i`'s face at a cosine distance from 0.20 to 0.35, inside
/// the 0.40 threshold, so the check-in matches and is recorded.
fn probe(set_identity: &FaceEmbedding, k: usize) -> FaceEmbedding {
    let golden = 0.618_033_988_749_895_f64;
    let d = 0.20 + 0.15 * ((k as f64 * golden) % 1.0);
    genuine_probe(set_identity, 0xFACE ^ k as u64, d)
}

async fn run_size(args: &Args, n: usize) -> BoxResult<(Value, PathBuf)> {
    let layout = Layout {
        n,
        targets: args.warmup + args.calls,
    };
    assert!(
        layout.targets * 3 <= n,
        "{n} members cannot give {} fresh targets to each of three operations",
        layout.targets
    );
    eprintln!("== {n} members: generating faces");
    let faces = FaceSet::new(n, GALLERY_SEED);

    let file = args.data.join(format!("stores-{n}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let sqlite_url = format!("sqlite://{}", file.display());
    let db = format!("powergym_bench_stores_{n}");
    let pg_url = with_database(&args.url, &db);
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

    eprintln!("== {n} members: setup through the API (load {})", loadavg());
    let (sqlite_setup, pg_setup) = tokio::join!(
        populate(&sqlite_url, &faces.identities, &layout, 1),
        populate(&pg_url, &faces.identities, &layout, PG_SETUP_TASKS),
    );
    let (sqlite_setup, pg_setup) = (sqlite_setup?, pg_setup?);
    eprintln!(
        "   setup: SQLite {:.1} s, PostgreSQL {:.1} s",
        sqlite_setup.1, pg_setup.1
    );
    let (sqlite_clients, sqlite_pending) = sqlite_setup.0;
    let (pg_clients, pg_pending) = pg_setup.0;

    // Measured on handles opened afresh with the defaults an application gets.
    let mut stores = Vec::new();
    for (url, clients, pending) in [
        (&sqlite_url, sqlite_clients, sqlite_pending),
        (&pg_url, pg_clients, pg_pending),
    ] {
        let gym = Gym::open(url).await?;
        let desk = gym.acting_as(DESK.0).await?;
        let product = gym
            .list_products(&desk, true, Some("agua"), Default::default())
            .await?
            .items
            .into_iter()
            .next()
            .expect("the setup created the product")
            .id;
        stores.push(Fixture {
            gym,
            desk,
            clients,
            pending,
            product,
        });
    }

    let mut rows = Vec::new();
    for (op, name) in OPS.iter().enumerate() {
        eprintln!("== {n} members: {name} (load {})", loadavg());
        let mut micros = [Vec::new(), Vec::new()];
        // Warm-up: connections, statement caches, the SQLite gallery.
        for (s, store) in stores.iter().enumerate() {
            for k in 0..args.warmup {
                call(store, op, k, &layout, &faces.identities)
                    .await
                    .map_err(|e| format!("warm-up on store {s}: {e}"))?;
            }
        }
        let mut k = args.warmup;
        let mut block = 0;
        while k < layout.targets {
            let end = (k + BLOCK).min(layout.targets);
            // Alternate which store goes first.
            let order = if block % 2 == 0 { [0, 1] } else { [1, 0] };
            for s in order {
                for j in k..end {
                    let t = Instant::now();
                    call(&stores[s], op, j, &layout, &faces.identities).await?;
                    micros[s].push(t.elapsed().as_secs_f64() * 1e6);
                }
            }
            k = end;
            block += 1;
        }
        for m in &mut micros {
            m.sort_by(f64::total_cmp);
        }
        rows.push(json!({
            "operation": name,
            "calls": micros[0].len(),
            "sqlite": summary(&micros[0]),
            "postgres": summary(&micros[1]),
        }));
    }
    for s in &stores {
        s.gym.close().await;
    }
    {
        let mut admin = PgConnection::connect(&args.url).await?;
        exec(
            &mut admin,
            &format!("drop database if exists {db} with (force)"),
        )
        .await?;
        admin.close().await?;
    }
    let report = json!({
        "members": n,
        "templates": n,
        "setup_seconds": { "sqlite": sqlite_setup.1, "postgres": pg_setup.1 },
        "sqlite_file_bytes": file_bytes(&file),
        "operations": rows,
    });
    Ok((report, file))
}

fn file_bytes(file: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", file.display())).ok())
        .map(|m| m.len())
        .sum()
}

/// One timed call of operation `op` on its `k`-th target, checked to have done the
/// write it was meant to (a call that took another path would time something else).
async fn call(
    store: &Fixture,
    op: usize,
    k: usize,
    layout: &Layout,
    identities: &[FaceEmbedding],
) -> BoxResult<()> {
    let (gym, desk) = (&store.gym, &store.desk);
    match op {
        0 => {
            let i = layout.member(0, k);
            match gym
                .check_in_by_document(desk, DocumentType::Cc, &document(i))
                .await?
            {
                CheckInOutcome::Granted(_) => Ok(()),
                other => Err(format!("document check-in of member {i}: {other:?}").into()),
            }
        }
        1 => {
            let i = layout.member(1, k);
            let sub = store.pending[i].ok_or("a payment target without a pending subscription")?;
            let receipt = gym
                .record_payment(
                    desk,
                    PaymentInput {
                        subscription_id: sub,
                        amount: "10000".parse()?,
                        method: PaymentMethod::Cash,
                        notes: None,
                        idempotency_key: None,
                    },
                )
                .await?;
            if receipt.status != SubscriptionStatus::PendingPayment {
                return Err(format!("payment left {:?}", receipt.status).into());
            }
            Ok(())
        }
        2 => {
            gym.sell_product(desk, store.product, "1".parse()?, None)
                .await?;
            Ok(())
        }
        _ => {
            let i = layout.member(2, k);
            match gym
                .check_in_by_face(desk, &probe(&identities[i], k))
                .await?
            {
                FaceCheckIn::Granted { candidate, .. }
                    if candidate.client_id == store.clients[i] =>
                {
                    Ok(())
                }
                other => Err(format!("face check-in of member {i}: {other:?}").into()),
            }
        }
    }
}

type Populated = ((Vec<ClientId>, Vec<Option<SubscriptionId>>), f64);

/// Migrates a fresh store and fills it through the API: staff, the monthly plan, one
/// stocked product, then every member (see the module's docs) from `tasks` tasks.
async fn populate(
    url: &str,
    faces: &[FaceEmbedding],
    layout: &Layout,
    tasks: usize,
) -> BoxResult<Populated> {
    let started = Instant::now();
    let gym = Gym::open(url).await?;
    gym.migrations().run().await?;
    gym.bootstrap_admin(ADMIN.0, ADMIN.1).await?;
    let (admin, _) = gym.authenticate(ADMIN.0, ADMIN.1).await?;
    gym.create_staff(
        &admin,
        StaffInput {
            username: DESK.0.into(),
            password: DESK.1.into(),
            role: Role::Employee,
            email: None,
            full_name: Some("Front desk".into()),
        },
    )
    .await?;
    let desk = gym.acting_as(DESK.0).await?;
    let plan = gym
        .create_plan(
            &admin,
            PlanInput {
                name: "Mensualidad".into(),
                slug: Some("monthly".into()),
                description: None,
                price: "80000".parse()?,
                currency: None,
                duration_unit: DurationUnit::Month,
                duration_count: 1,
            },
        )
        .await?;
    let product = gym
        .create_product(
            &admin,
            ProductInput {
                name: "Agua 600 ml".into(),
                description: None,
                capacity_value: "600".parse()?,
                unit_type: "ml".into(),
                price: "2500".parse()?,
                currency: None,
                photo_url: None,
                min_stock: None,
                max_stock: None,
            },
        )
        .await?;
    gym.add_stock(&admin, product.id, "100000".parse()?, Some("bench stock"))
        .await?;

    let pending: Arc<Vec<bool>> = Arc::new((0..layout.n).map(|i| layout.is_pending(i)).collect());
    let faces: Arc<Vec<FaceEmbedding>> = Arc::new(faces.to_vec());
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (gym, desk, faces, pending) = (
            gym.clone(),
            desk.clone(),
            Arc::clone(&faces),
            Arc::clone(&pending),
        );
        let plan = plan.id;
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in (t..faces.len()).step_by(tasks) {
                let made = member(&gym, &desk, plan, i, &faces[i], pending[i]).await?;
                out.push((i, made));
            }
            BoxResult::Ok(out)
        }));
    }
    let mut clients = vec![None; layout.n];
    let mut subs = vec![None; layout.n];
    for h in handles {
        for (i, (client, sub)) in h.await?? {
            clients[i] = Some(client);
            subs[i] = sub;
        }
    }
    gym.close().await;
    let clients = clients
        .into_iter()
        .map(|c| c.ok_or("a member was not set up"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(((clients, subs), started.elapsed().as_secs_f64()))
}

/// One member: registration, a monthly subscription (paid unless `pending`), consent and
/// the enrolled face. Returns the client and, when pending, the subscription.
async fn member(
    gym: &Gym,
    desk: &Actor,
    plan: PlanId,
    i: usize,
    face: &FaceEmbedding,
    pending: bool,
) -> BoxResult<(ClientId, Option<SubscriptionId>)> {
    let client = gym
        .register_client(
            desk,
            ClientInput {
                document_type: DocumentType::Cc,
                document_number: document(i),
                first_name: "Miembro".into(),
                middle_name: None,
                last_name: "Prueba".into(),
                second_last_name: None,
                phone: format!("300 {:07}", i),
                alternative_phone: None,
                email: None,
                birth_date: chrono::NaiveDate::from_ymd_opt(1990, 1, 1).expect("a date"),
                gender: if i.is_multiple_of(2) {
                    Gender::Female
                } else {
                    Gender::Male
                },
                address: None,
            },
        )
        .await?;
    let sub = gym
        .create_subscription(
            desk,
            SubscriptionInput {
                client_id: client.id,
                plan_id: plan,
                start_date: None,
                discount_percentage: None,
            },
        )
        .await?;
    if !pending {
        gym.record_payment(
            desk,
            PaymentInput {
                subscription_id: sub.id,
                amount: "80000".parse()?,
                method: PaymentMethod::Cash,
                notes: None,
                idempotency_key: None,
            },
        )
        .await?;
    }
    gym.record_biometric_consent(
        desk,
        client.id,
        ConsentInput {
            purpose: "face check-in at the front desk".into(),
            guardian: None,
        },
    )
    .await?;
    gym.enroll_face(desk, client.id, face, None).await?;
    Ok((client.id, pending.then_some(sub.id)))
}

/// Runs `--open-probe` in `k` fresh processes (the file is in the page cache after the
/// first: these are warm opens) and keeps every run.
fn measure_open(file: &Path, n: usize, k: usize) -> BoxResult<Value> {
    eprintln!("== open of the {n}-member SQLite file, {k} fresh processes");
    let exe = std::env::current_exe()?;
    let mut runs = Vec::new();
    for _ in 0..k {
        let out = Command::new(&exe).arg("--open-probe").arg(file).output()?;
        if !out.status.success() {
            return Err(format!(
                "open probe failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        runs.push(serde_json::from_slice::<Value>(&out.stdout)?);
    }
    Ok(json!({ "members": n, "file_bytes": file_bytes(file), "runs": runs }))
}

/// The child: open, first face search (which loads the gallery), a second search, with
/// the resident set read before and after each step.
async fn open_probe(file: &str) -> BoxResult<Value> {
    // Member 1's face, rebuilt from the seed (identities are prefix-stable).
    let face = identities(2, GALLERY_SEED).pop().expect("two identities");
    let probe = probe(&face, 0);
    let rss_start = status_kb("VmRSS");
    let t = Instant::now();
    let gym = Gym::open(&format!("sqlite://{file}")).await?;
    let desk = gym.acting_as(DESK.0).await?;
    let open_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss_open = status_kb("VmRSS");
    let t = Instant::now();
    let first = gym.identify_face(&desk, &probe).await?;
    let first_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss_first = status_kb("VmRSS");
    let t = Instant::now();
    let second = gym.identify_face(&desk, &probe).await?;
    let second_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss_second = status_kb("VmRSS");
    let matched = matches!(first, Identification::Match(_)) && first == second;
    gym.close().await;
    Ok(json!({
        "open_ms": open_ms,
        "first_search_ms": first_ms,
        "open_and_first_search_ms": open_ms + first_ms,
        "second_search_ms": second_ms,
        "matched": matched,
        "rss_kb": {
            "start": rss_start,
            "after_open": rss_open,
            "after_first_search": rss_first,
            "after_second_search": rss_second,
            "peak": status_kb("VmHWM"),
        },
    }))
}

/// A field of `/proc/self/status`, in kB.
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(&format!("{field}:")))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn summary(sorted: &[f64]) -> Value {
    json!({
        "p50_us": quantile(sorted, 0.50),
        "p99_us": quantile(sorted, 0.99),
        "mean_us": sorted.iter().sum::<f64>() / sorted.len().max(1) as f64,
        "max_us": sorted.last().copied().unwrap_or(0.0),
    })
}

/// The `q` quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(us: f64) -> String {
    format!("{:.2} ms", us / 1e3)
}

fn markdown(r: &Value) -> String {
    let mut s = String::from(
        "| members | operation | SQLite p50 | SQLite p99 | PostgreSQL p50 | PostgreSQL p99 | \
         SQLite/PG p50 | SQLite/PG p99 |\n|---|---|---|---|---|---|---|---|\n",
    );
    for size in r["sizes"].as_array().into_iter().flatten() {
        for op in size["operations"].as_array().into_iter().flatten() {
            let (a, b) = (&op["sqlite"], &op["postgres"]);
            let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            s += &format!(
                "| {} | {} | {} | {} | {} | {} | {:.2} | {:.2} |\n",
                size["members"],
                op["operation"].as_str().unwrap_or(""),
                ms(f(a, "p50_us")),
                ms(f(a, "p99_us")),
                ms(f(b, "p50_us")),
                ms(f(b, "p99_us")),
                f(a, "p50_us") / f(b, "p50_us"),
                f(a, "p99_us") / f(b, "p99_us"),
            );
        }
    }
    s += "\nsetup through the API (not timed above):";
    for size in r["sizes"].as_array().into_iter().flatten() {
        s += &format!(
            " {} members: SQLite {:.0} s, PostgreSQL {:.0} s;",
            size["members"],
            size["setup_seconds"]["sqlite"].as_f64().unwrap_or(f64::NAN),
            size["setup_seconds"]["postgres"]
                .as_f64()
                .unwrap_or(f64::NAN),
        );
    }
    s += "\n";
    if let Some(runs) = r["open"]["runs"].as_array() {
        s += &format!(
            "\nSQLite, {}-member file ({:.1} MB), fresh process each run:\n\n\
             | run | open | first search | open + first search | second search | \
             RSS after open | RSS growth, first search | peak RSS |\n|---|---|---|---|---|---|---|---|\n",
            r["open"]["members"],
            r["open"]["file_bytes"].as_f64().unwrap_or(0.0) / 1e6
        );
        for (i, run) in runs.iter().enumerate() {
            let kb = |k: &str| run["rss_kb"][k].as_f64().unwrap_or(f64::NAN);
            let f = |k: &str| run[k].as_f64().unwrap_or(f64::NAN);
            s += &format!(
                "| {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} ms | {:.1} MB (+{:.1}) | +{:.1} MB | {:.1} MB |\n",
                i + 1,
                f("open_ms"),
                f("first_search_ms"),
                f("open_and_first_search_ms"),
                f("second_search_ms"),
                kb("after_open") / 1024.0,
                (kb("after_open") - kb("start")) / 1024.0,
                (kb("after_first_search") - kb("after_open")) / 1024.0,
                kb("peak") / 1024.0,
            );
        }
    }
    s += &format!(
        "\nload average before {}, after {}; {:.0} s in all\n",
        r["machine"]["loadavg_before"],
        r["machine"]["loadavg_after"],
        r["seconds"].as_f64().unwrap_or(0.0)
    );
    s
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

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
