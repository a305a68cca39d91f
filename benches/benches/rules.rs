//! Benchmarks of the pure rules.
//! Cost of the pure rules a front desk runs on every call: validating a registration and
//! deciding a subscription transition. Run with `cargo bench -p powergym-benches`.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use powergym_core::{
    ClientInput, DocumentType, Gender, NewClient, SubscriptionEvent, SubscriptionStatus,
    TransitionContext, transition,
};

fn registration() -> ClientInput {
    ClientInput {
        document_type: DocumentType::Cc,
        document_number: "1.020.304.050".into(),
        first_name: "  María  José ".into(),
        middle_name: None,
        last_name: "Pérez".into(),
        second_last_name: Some("Gómez".into()),
        phone: "+57 (300) 123-4567".into(),
        alternative_phone: None,
        email: Some("maria@example.com".into()),
        birth_date: NaiveDate::from_ymd_opt(1990, 2, 28).unwrap(),
        gender: Gender::Female,
        address: Some("Calle 10 # 5-20".into()),
    }
}

fn bench_rules(c: &mut Criterion) {
    let today = NaiveDate::from_ymd_opt(2025, 6, 15).unwrap();
    let input = registration();
    c.bench_function("validate_client_registration", |b| {
        b.iter(|| NewClient::parse(black_box(input.clone()), black_box(today)).unwrap())
    });
    let ctx = TransitionContext {
        fully_paid: true,
        start_reached: true,
    };
    c.bench_function("subscription_transition_all_pairs", |b| {
        b.iter(|| {
            let mut legal = 0u32;
            for from in SubscriptionStatus::ALL {
                for event in SubscriptionEvent::ALL {
                    legal += u32::from(transition(black_box(from), black_box(event), ctx).is_ok());
                }
            }
            legal
        })
    });
}

// criterion's macros generate undocumented public functions.
#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, bench_rules);
}
criterion_main!(harness::benches);
