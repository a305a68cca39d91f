//! The in-process comparison, our half: builds the synthetic galleries, writes them as
//! raw `f32` files for the Python half (`benches/inprocess/compare.py`: numpy and faiss
//! on the same files), times our `Gallery::identify` at every precision and scan-thread
//! count, and measures the machine's memory-bandwidth floor. Prints one JSON document
//! (also written to `<data>/inprocess.json`).
//!
//! `cargo run --release -p powergym-benches --bin inprocess -- [--data DIR] [--quick]`
//! (`benches/scripts/inprocess.sh` runs both halves).
//!
//! The machine is shared and noisy, so the configurations are timed in interleaved
//! rounds (a slow minute hits all of them alike), and the bandwidth is read before and
//! after the queries.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use powergym_benches::{FaceSet, write_f32_le};
use powergym_core::face::{
    DEFAULT_RERANK, FaceEmbedding, Gallery, Identification, MatchPolicy, Precision,
};
use serde_json::{Value, json};

/// Seeds of the gallery and of the probes; the Python half reads the files, not these.
const GALLERY_SEED: u64 = 2026;
const PROBE_SEED: u64 = 11;
const GENUINE: usize = 300;
const IMPOSTORS: usize = 100;

struct Args {
    data: PathBuf,
    quick: bool,
}

fn args() -> Args {
    let mut out = Args {
        data: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data"),
        quick: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data" => out.data = PathBuf::from(it.next().expect("--data needs a directory")),
            "--quick" => out.quick = true,
            other => panic!("unknown argument {other:?} (expected --data DIR, --quick)"),
        }
    }
    out
}

/// One configuration of ours under test.
struct Config {
    name: &'static str,
    threads: usize,
    gallery: Gallery,
    micros: Vec<f64>,
}

fn main() -> std::io::Result<()> {
    let args = args();
    std::fs::create_dir_all(&args.data)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let thread_counts: Vec<usize> = if cores > 1 { vec![1, cores] } else { vec![1] };
    let sizes: &[usize] = if args.quick {
        &[10_000]
    } else {
        &[10_000, 100_000]
    };
    let policy = MatchPolicy::default();
    let mut sets = Vec::new();
    for &n in sizes {
        eprintln!("{n} templates: generating");
        let set = FaceSet::new(n, GALLERY_SEED);
        let probes = set.probes(GENUINE, IMPOSTORS, PROBE_SEED);
        let gallery_file = args.data.join(format!("gallery_{n}.f32"));
        let probes_file = args.data.join(format!("probes_{n}.f32"));
        write_f32_le(&gallery_file, &set.identities)?;
        let embeddings: Vec<FaceEmbedding> = probes.iter().map(|p| p.embedding.clone()).collect();
        write_f32_le(&probes_file, &embeddings)?;
        let identity: Vec<i64> = probes
            .iter()
            .map(|p| p.identity.map_or(-1, |i| i as i64))
            .collect();

        let mut configs = Vec::new();
        for (precision, name) in [
            (Precision::F32, "f32"),
            (Precision::F16, "f16"),
            (Precision::Int8, "int8"),
        ] {
            for &threads in &thread_counts {
                configs.push(Config {
                    name,
                    threads,
                    gallery: set.gallery(precision).with_scan_threads(threads),
                    micros: Vec::new(),
                });
            }
        }
        let bytes = n * 2048;
        let mut bandwidth = Vec::new();
        for &threads in &thread_counts {
            bandwidth.push(read_bandwidth(bytes, threads, "before"));
        }
        // Fewer rounds at 100k: each query is ten times longer.
        let rounds = match (args.quick, n) {
            (true, _) => 1,
            (false, n) if n <= 10_000 => 5,
            _ => 3,
        };
        for c in &configs {
            for p in &embeddings {
                black_box(c.gallery.identify(black_box(p), &policy));
            }
        }
        for round in 0..rounds {
            eprintln!("{n} templates: round {}/{rounds}", round + 1);
            for c in &mut configs {
                for p in &embeddings {
                    let start = Instant::now();
                    black_box(c.gallery.identify(black_box(p), &policy));
                    c.micros.push(start.elapsed().as_secs_f64() * 1e6);
                }
            }
        }
        for &threads in &thread_counts {
            bandwidth.push(read_bandwidth(bytes, threads, "after"));
        }

        let answers = |g: &Gallery| -> (Vec<usize>, Vec<Identification>) {
            embeddings
                .iter()
                .map(|p| {
                    (
                        FaceSet::index_of(g.top_k(p, 1)[0].client_id),
                        g.identify(p, &policy),
                    )
                })
                .unzip()
        };
        let (exact_top1, exact_decisions) = answers(&configs[0].gallery);
        let ours: Vec<Value> = configs
            .iter_mut()
            .map(|c| {
                let (top1, decisions) = answers(&c.gallery);
                c.micros.sort_by(f64::total_cmp);
                let agree = top1.iter().zip(&exact_top1).filter(|(a, b)| a == b).count();
                let same_decision = decisions
                    .iter()
                    .zip(&exact_decisions)
                    .filter(|(a, b)| a == b)
                    .count();
                let genuine_correct = top1
                    .iter()
                    .zip(&identity)
                    .filter(|&(&t, &i)| i >= 0 && t as i64 == i)
                    .count();
                json!({
                    "precision": c.name,
                    "threads": c.threads,
                    "queries": c.micros.len(),
                    "p50_us": quantile(&c.micros, 0.50),
                    "p99_us": quantile(&c.micros, 0.99),
                    "mean_us": c.micros.iter().sum::<f64>() / c.micros.len() as f64,
                    "top1": top1,
                    "top1_agree_with_f32": agree,
                    "same_decision_as_f32": same_decision,
                    "genuine_top1_correct": genuine_correct,
                })
            })
            .collect();
        sets.push(json!({
            "templates": n,
            "gallery_file": gallery_file,
            "probes_file": probes_file,
            "genuine": GENUINE,
            "impostors": IMPOSTORS,
            "rounds": rounds,
            "probe_identity": identity,
            "bandwidth": { "bytes": bytes, "runs": bandwidth },
            "ours": ours,
        }));
    }
    let report = json!({
        "machine": {
            "cpu": cpu_name(),
            "cores": cores,
            "avx2": has("avx2"),
            "fma": has("fma"),
            "f16c": has("f16c"),
            "loadavg": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        },
        "rerank": DEFAULT_RERANK,
        "sets": sets,
    });
    let text = serde_json::to_string_pretty(&report).expect("JSON values serialise");
    std::fs::write(args.data.join("inprocess.json"), &text)?;
    println!("{text}");
    Ok(())
}

fn has(feature: &str) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        match feature {
            "avx2" => std::is_x86_feature_detected!("avx2"),
            "fma" => std::is_x86_feature_detected!("fma"),
            "f16c" => std::is_x86_feature_detected!("f16c"),
            _ => false,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = feature;
        false
    }
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

/// The `q` quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// A STREAM-style read: sums a `bytes`-long buffer split across `threads` (new threads
/// each pass, as a split scan does), for at least ten passes and two seconds. The best
/// pass is the floor (what the machine can do); the median says how noisy it was.
fn read_bandwidth(bytes: usize, threads: usize, when: &str) -> Value {
    let buf: Vec<u64> = (0..bytes / 8).map(|i| i as u64).collect();
    let share = buf.len().div_ceil(threads);
    let pass = || {
        std::thread::scope(|s| {
            let others: Vec<_> = buf
                .chunks(share)
                .skip(1)
                .map(|c| s.spawn(move || read(c)))
                .collect();
            let mut total = read(&buf[..share.min(buf.len())]);
            for o in others {
                total = total.wrapping_add(o.join().expect("reader threads do not panic"));
            }
            total
        })
    };
    black_box(pass());
    let mut seconds = Vec::new();
    let started = Instant::now();
    while seconds.len() < 10 || (started.elapsed() < Duration::from_secs(2) && seconds.len() < 500)
    {
        let t = Instant::now();
        black_box(pass());
        seconds.push(t.elapsed().as_secs_f64());
    }
    seconds.sort_by(f64::total_cmp);
    json!({
        "threads": threads,
        "when": when,
        "passes": seconds.len(),
        "best_gb_per_s": bytes as f64 / seconds[0] / 1e9,
        "median_gb_per_s": bytes as f64 / quantile(&seconds, 0.5) / 1e9,
    })
}

/// Sums the buffer with eight independent accumulators (vectorised; bound by memory,
/// not by the additions).
fn read(buf: &[u64]) -> u64 {
    let mut acc = [0u64; 8];
    let mut chunks = buf.chunks_exact(8);
    for c in &mut chunks {
        for j in 0..8 {
            acc[j] = acc[j].wrapping_add(c[j]);
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(0u64, |a, &x| a.wrapping_add(x));
    acc.iter().fold(tail, |a, &x| a.wrapping_add(x))
}
