//! The exact in-process matcher: one identification against 10k and 100k templates.
//! Run with `cargo bench -p powergym-benches --bench face`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use powergym_benches::synthetic_face;
use powergym_core::ClientId;
use powergym_core::face::{Gallery, MatchPolicy};

fn bench_identify(c: &mut Criterion) {
    let mut group = c.benchmark_group("in_memory_identify");
    group.sample_size(20);
    for n in [10_000u64, 100_000] {
        let mut matcher = Gallery::new();
        for i in 0..n {
            matcher.upsert(
                ClientId::from_uuid(uuid::Uuid::from_u128(u128::from(i))),
                &synthetic_face(i),
            );
        }
        let probe = synthetic_face(n / 2);
        let policy = MatchPolicy::default();
        group.throughput(criterion::Throughput::Bytes(n * 512 * 4));
        group.bench_function(format!("{n}"), |b| {
            b.iter(|| matcher.identify(black_box(&probe), &policy))
        });
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
