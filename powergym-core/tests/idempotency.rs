//! Retry keys for sales and check-ins, as payments have: a call retried with the same key
//! returns the first result and writes nothing, the key reused for a different call is a
//! `Conflict`, and concurrent calls sharing a key write once.

mod common;

use common::world::*;
use powergym_core::{
    CheckInOutcome, ClientId, DenialReason, DocumentType, DurationUnit, Error, Product,
    ProductInput, StockChange,
};
use uuid::Uuid;

/// Rows that sales and check-ins write, in one tuple, to show that a retry wrote none.
async fn rows(w: &World) -> (i64, i64, i64) {
    (
        scalar(&w.db, "select count(*) from inventory_movements").await,
        scalar(&w.db, "select count(*) from attendances").await,
        scalar(&w.db, "select count(*) from access_denials").await,
    )
}

async fn stocked(w: &World, name: &str, units: &str) -> Product {
    let p = w
        .gym
        .create_product(
            &w.admin,
            ProductInput {
                name: name.into(),
                description: None,
                capacity_value: dec("600"),
                unit_type: "ml".into(),
                price: dec("2500"),
                currency: None,
                photo_url: None,
                min_stock: Some(dec("1")),
                max_stock: None,
            },
        )
        .await
        .unwrap();
    w.gym
        .add_stock(&w.admin, p.id, dec(units), None)
        .await
        .unwrap()
        .product
}

async fn sell(
    w: &World,
    product: Uuid,
    qty: &str,
    key: &str,
) -> powergym_core::Result<StockChange> {
    w.gym
        .sell_product_with_key(&w.desk, product, dec(qty), None, Some(key))
        .await
}

fn conflict(err: &Error) -> bool {
    matches!(err, Error::Conflict { reason } if reason.contains("idempotency key"))
}

// ------------------------------------------------------------------ sales

#[tokio::test]
async fn a_retried_sale_returns_the_first_and_writes_nothing() {
    let w = world().await;
    let water = stocked(&w, "Agua", "10").await;
    let first = sell(&w, water.id, "2", "sale-0001").await.unwrap();
    assert_eq!(first.product.available_quantity.value(), dec("8"));
    let before = rows(&w).await;

    let retry = sell(&w, water.id, "2", "sale-0001").await.unwrap();
    assert_eq!(retry, first);
    // The key is trimmed as payments' keys are; notes are not part of the sale's identity.
    let retry = w
        .gym
        .sell_product_with_key(
            &w.desk,
            water.id,
            dec("2.00"),
            Some("again"),
            Some(" sale-0001 "),
        )
        .await
        .unwrap();
    assert_eq!(retry.movement, first.movement);
    assert_eq!(rows(&w).await, before);
    assert_eq!(
        w.gym
            .product(&w.desk, water.id)
            .await
            .unwrap()
            .available_quantity
            .value(),
        dec("8")
    );

    // The retry reports the product as it is now, like a retried payment's balance.
    w.gym
        .sell_product(&w.desk, water.id, dec("1"), None)
        .await
        .unwrap();
    let retry = sell(&w, water.id, "2", "sale-0001").await.unwrap();
    assert_eq!(retry.movement, first.movement);
    assert_eq!(retry.product.available_quantity.value(), dec("7"));

    // Without a key, or with another one, a sale is a new sale.
    sell(&w, water.id, "2", "sale-0002").await.unwrap();
    assert_eq!(rows(&w).await.0, before.0 + 2);
}

#[tokio::test]
async fn a_key_reused_for_another_sale_is_a_conflict_and_bad_keys_are_refused() {
    let w = world().await;
    let water = stocked(&w, "Agua", "10").await;
    let soda = stocked(&w, "Soda", "10").await;
    sell(&w, water.id, "2", "k-1").await.unwrap();
    let before = rows(&w).await;
    for (product, qty) in [(water.id, "3"), (soda.id, "2")] {
        let err = sell(&w, product, qty, "k-1").await.unwrap_err();
        assert!(conflict(&err), "{err:?}");
    }
    let long = "k".repeat(101);
    for bad in ["", "   ", "k\u{202e}1", "k\u{0}1", long.as_str()] {
        let err = sell(&w, water.id, "2", bad).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Validation {
                    field: "idempotency_key",
                    ..
                }
            ),
            "{bad:?}: {err:?}"
        );
    }
    assert_eq!(rows(&w).await, before);
    assert_eq!(
        w.gym
            .product(&w.desk, soda.id)
            .await
            .unwrap()
            .available_quantity
            .value(),
        dec("10")
    );
    // 100 characters are fine.
    sell(&w, water.id, "1", &"k".repeat(100)).await.unwrap();
}

#[tokio::test]
async fn sixteen_concurrent_sales_with_one_key_write_once() {
    let w = world().await;
    let water = stocked(&w, "Agua", "10").await;
    let before = rows(&w).await;
    let tasks = (0..16).map(|_| {
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        tokio::spawn(async move {
            gym.sell_product_with_key(&desk, water.id, dec("3"), None, Some("burst"))
                .await
        })
    });
    let results: Vec<StockChange> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert!(results.iter().all(|r| r.movement == results[0].movement));
    assert_eq!(rows(&w).await, (before.0 + 1, before.1, before.2));
    assert_eq!(
        w.gym
            .product(&w.desk, water.id)
            .await
            .unwrap()
            .available_quantity
            .value(),
        dec("7")
    );
}

#[tokio::test]
async fn concurrent_sales_of_two_products_under_one_key_sell_one() {
    let w = world().await;
    let water = stocked(&w, "Agua", "10").await;
    let soda = stocked(&w, "Soda", "10").await;
    let tasks = (0..16).map(|i| {
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        let product = if i % 2 == 0 { water.id } else { soda.id };
        tokio::spawn(async move {
            gym.sell_product_with_key(&desk, product, dec("1"), None, Some("shared"))
                .await
        })
    });
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let sold: Vec<&StockChange> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        sold.len(),
        8,
        "the first product's calls all return its sale"
    );
    assert!(sold.iter().all(|s| s.movement == sold[0].movement));
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(conflict(err), "{err:?}");
    }
    assert_eq!(
        scalar(
            &w.db,
            "select count(*) from inventory_movements where movement_type = 'EXIT'"
        )
        .await,
        1
    );
}

// ------------------------------------------------------------------ check-ins

/// A client with a paid month, and another one with nothing.
async fn members(w: &World) -> (ClientId, ClientId) {
    let monthly = plan(w, "monthly", "50000", DurationUnit::Month, 1).await;
    let ana = client(w, "10203040").await;
    sold_and_paid(w, ana, &monthly, None).await;
    let bea = client(w, "50607080").await;
    (ana, bea)
}

#[tokio::test]
async fn a_retried_check_in_returns_the_first_outcome_and_writes_nothing() {
    let w = world().await;
    let (ana, _) = members(&w).await;
    let first = w
        .gym
        .check_in_with_key(&w.desk, ana, Some("door-1"))
        .await
        .unwrap();
    assert!(matches!(first, CheckInOutcome::Granted(_)), "{first:?}");
    let before = rows(&w).await;
    let retry = w
        .gym
        .check_in_with_key(&w.desk, ana, Some("door-1"))
        .await
        .unwrap();
    assert_eq!(retry, first);
    assert_eq!(rows(&w).await, before);

    // The same day under a new key it is a refusal, recorded once; its retry returns it.
    let second = w
        .gym
        .check_in_by_document_with_key(&w.desk, DocumentType::Cc, "10203040", Some("door-2"))
        .await
        .unwrap();
    assert_eq!(
        second,
        CheckInOutcome::Denied(DenialReason::AlreadyCheckedIn)
    );
    let before = rows(&w).await;
    let retry = w
        .gym
        .check_in_by_document_with_key(&w.desk, DocumentType::Cc, "10.203.040", Some("door-2"))
        .await
        .unwrap();
    assert_eq!(retry, second);
    assert_eq!(rows(&w).await, before);

    // A retry on a later day still returns the first outcome.
    let tomorrow = w.db.gym_at("2025-06-16T15:00:00Z").await;
    let retry = tomorrow
        .check_in_with_key(&w.desk, ana, Some("door-1"))
        .await
        .unwrap();
    assert_eq!(retry, first);
    assert_eq!(rows(&w).await, before);
}

#[tokio::test]
async fn a_retried_refusal_stays_the_first_outcome() {
    let w = world().await;
    let (_, bea) = members(&w).await;
    let first = w
        .gym
        .check_in_with_key(&w.desk, bea, Some("door-3"))
        .await
        .unwrap();
    assert_eq!(first, CheckInOutcome::Denied(DenialReason::NoSubscription));
    let before = rows(&w).await;
    // She buys a month meanwhile: the retry is still the first call's answer, while a
    // new check-in lets her in.
    let monthly = w.gym.plan_by_slug(&w.desk, "monthly").await.unwrap();
    sold_and_paid(&w, bea, &monthly, None).await;
    let retry = w
        .gym
        .check_in_with_key(&w.desk, bea, Some("door-3"))
        .await
        .unwrap();
    assert_eq!(retry, first);
    assert_eq!(rows(&w).await, before);
    let fresh = w
        .gym
        .check_in_with_key(&w.desk, bea, Some("door-4"))
        .await
        .unwrap();
    assert!(matches!(fresh, CheckInOutcome::Granted(_)), "{fresh:?}");
}

#[tokio::test]
async fn a_check_in_key_reused_for_another_client_or_method_is_a_conflict() {
    let w = world().await;
    let (ana, bea) = members(&w).await;
    w.gym
        .check_in_with_key(&w.desk, ana, Some("door-5"))
        .await
        .unwrap();
    let refused = w
        .gym
        .check_in_with_key(&w.desk, bea, Some("door-6"))
        .await
        .unwrap();
    assert!(matches!(refused, CheckInOutcome::Denied(_)));
    let before = rows(&w).await;
    for (who, key) in [(bea, "door-5"), (ana, "door-6")] {
        let err = w
            .gym
            .check_in_with_key(&w.desk, who, Some(key))
            .await
            .unwrap_err();
        assert!(conflict(&err), "{err:?}");
    }
    let err = w
        .gym
        .check_in_by_document_with_key(&w.desk, DocumentType::Cc, "10203040", Some("door-5"))
        .await
        .unwrap_err();
    assert!(conflict(&err), "{err:?}");
    let err = w
        .gym
        .check_in_with_key(&w.desk, ana, Some("door\u{200b}7"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Validation {
                field: "idempotency_key",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(rows(&w).await, before);
}

#[tokio::test]
async fn sixteen_concurrent_check_ins_with_one_key_write_once() {
    let w = world().await;
    let (ana, _) = members(&w).await;
    let before = rows(&w).await;
    let tasks = (0..16).map(|i| {
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        tokio::spawn(async move {
            if i % 2 == 0 {
                gym.check_in_with_key(&desk, ana, Some("burst")).await
            } else {
                gym.check_in_with_key(&desk, ana, Some(" burst")).await
            }
        })
    });
    let outcomes: Vec<CheckInOutcome> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert!(
        matches!(outcomes[0], CheckInOutcome::Granted(_)),
        "{:?}",
        outcomes[0]
    );
    assert!(outcomes.iter().all(|o| *o == outcomes[0]));
    // One attendance and not a single "already checked in" refusal.
    assert_eq!(rows(&w).await, (before.0, before.1 + 1, before.2));
}
