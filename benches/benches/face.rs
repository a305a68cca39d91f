//! The exact in-process matcher: one identification against 10k and 100k templates, at
//! each storage precision (the compact ones re-rank their best candidates in `f32`).
//! Run with `cargo bench -p powergym-benches --bench face`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use powergym_benches::FaceSet;
use powergym_core::face::{MatchPolicy, Precision};

fn bench_identify(c: &mut Criterion) {
    let mut group = c.benchmark_group("in_memory_identify");
    group.sample_size(20);
    let policy = MatchPolicy::default();
    for n in [10_000usize, 100_000] {
        let set = FaceSet::new(n, 2026);
        // A genuine probe at a typical distance (0.2–0.6) of a random identity.
        let probe = set.probes(1, 0, 11).remove(0).embedding;
        for (precision, name, bytes_per_row) in [
            (Precision::F32, "f32", 2048u64),
            (Precision::F16, "f16", 1024),
            // An int8 gallery's identify reads its 4-bit rows, a scale and a residual.
            (Precision::Int8, "int8", 264),
        ] {
            let gallery = set.gallery(precision);
            group.throughput(Throughput::Bytes(n as u64 * bytes_per_row));
            group.bench_function(format!("{name}/{n}"), |b| {
                b.iter(|| gallery.identify(black_box(&probe), &policy))
            });
        }
    }
    group.finish();
}

// criterion's macros generate undocumented public functions.
#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, bench_identify);
}
criterion_main!(harness::benches);
