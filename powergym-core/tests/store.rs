//! Every use case of the first store slice on the real database: staff, plans,
//! subscriptions, daily jobs, payments and check-in, with the invariants held under
//! concurrency.

mod common;

use common::TestDb;
use common::sql::{Arg, id};
use common::world::*;
use powergym_core::{
    CheckInOutcome, ClientId, DenialReason, DocumentType, DurationUnit, Error, PaymentInput,
    PaymentMethod, Plan, PlanInput, Role, SubscriptionInput, SubscriptionStatus,
};
use rust_decimal::Decimal;

// ------------------------------------------------------------------ staff

#[tokio::test]
async fn staff_accounts_sign_in_and_permissions() {
    let w = world().await;
    let err = w
        .gym
        .bootstrap_admin("second", "another-password")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");

    let refused = Error::PermissionDenied {
        action: "sign_in".into(),
    };
    assert_eq!(
        w.gym
            .authenticate("desk", "wrong-password")
            .await
            .unwrap_err(),
        refused
    );
    assert_eq!(
        w.gym
            .authenticate("nobody", "desk-password")
            .await
            .unwrap_err(),
        refused
    );
    let (_, staff) = w.gym.authenticate("DESK", "desk-password").await.unwrap();
    assert_eq!(
        (staff.role, staff.full_name.as_deref()),
        (Role::Employee, Some("Front Desk"))
    );

    // Employees sell, admins price.
    let err = w
        .gym
        .create_plan(
            &w.desk,
            PlanInput {
                name: "x".into(),
                slug: None,
                description: None,
                price: dec("1"),
                currency: None,
                duration_unit: DurationUnit::Day,
                duration_count: 1,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::PermissionDenied {
            action: "manage_plans".into()
        }
    );

    // A disabled account can do nothing, at once.
    let c = client(&w, "1001").await;
    w.gym
        .set_staff_disabled(&w.admin, "desk", true)
        .await
        .unwrap();
    assert_eq!(
        w.gym
            .authenticate("desk", "desk-password")
            .await
            .unwrap_err(),
        refused
    );
    assert!(matches!(
        w.gym.check_in(&w.desk, c).await,
        Err(Error::PermissionDenied { .. })
    ));
    assert!(matches!(
        w.gym.acting_as("desk").await,
        Err(Error::PermissionDenied { .. })
    ));

    // The last active admin stays.
    for err in [
        w.gym
            .set_staff_disabled(&w.admin, "admin", true)
            .await
            .unwrap_err(),
        w.gym
            .set_staff_role(&w.admin, "admin", Role::Employee)
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    }
    assert!(matches!(
        w.gym.remove_staff(&w.admin, "admin").await,
        Err(Error::Conflict { .. })
    ));
    w.gym
        .set_staff_role(&w.admin, "desk", Role::Admin)
        .await
        .unwrap();
    w.gym
        .set_staff_disabled(&w.admin, "desk", false)
        .await
        .unwrap();
    w.gym
        .set_staff_role(&w.admin, "admin", Role::Employee)
        .await
        .unwrap();

    // Passwords: policy, own change, admin reset.
    assert!(matches!(
        w.gym.reset_password(&w.desk, "admin", "short").await,
        Err(Error::Validation {
            field: "password",
            ..
        })
    ));
    w.gym
        .change_own_password(&w.desk, "desk-password", "a-new-desk-password")
        .await
        .unwrap();
    assert!(
        w.gym
            .authenticate("desk", "a-new-desk-password")
            .await
            .is_ok()
    );
    assert_eq!(w.gym.list_staff(&w.desk).await.unwrap().len(), 2);
}

#[tokio::test]
async fn accounts_moved_from_the_original_keep_their_passwords() {
    let w = world().await;
    // A row as the original's pwdlib/argon2-cffi wrote it.
    w.db.sql(
        "insert into users (username, hashed_password, role) values ('legacy', \
         '$argon2id$v=19$m=65536,t=3,p=4$TwPlM+uTYtvx/HxJaq4Vew$A9k7OOp045MJEvLfU3b9Sc4AUyWHvUHInWgbmw3buZA', 'employee')",
        &[],
    )
    .await;
    assert!(
        w.gym
            .authenticate("legacy", "Original-Passw0rd!")
            .await
            .is_ok()
    );
}

// ------------------------------------------------------------------ plans & subscriptions

#[tokio::test]
async fn plans_and_the_life_of_a_subscription() {
    let w = world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    assert!(matches!(
        w.gym
            .create_plan(
                &w.admin,
                PlanInput {
                    name: "dup".into(),
                    slug: Some("monthly".into()),
                    description: None,
                    price: dec("1"),
                    currency: None,
                    duration_unit: DurationUnit::Day,
                    duration_count: 1,
                }
            )
            .await,
        Err(Error::AlreadyExists {
            entity: "plan",
            field: "slug"
        })
    ));
    assert_eq!(
        w.gym.plan_by_slug(&w.desk, "monthly").await.unwrap(),
        monthly
    );
    let ana = client(&w, "2002").await;

    let sub = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, None))
        .await
        .unwrap();
    assert_eq!(
        (sub.start_date, sub.end_date, sub.status),
        (
            d("2025-06-15"),
            d("2025-07-14"),
            SubscriptionStatus::PendingPayment
        )
    );
    assert_eq!(sub.price.final_price().amount(), dec("50000"));

    // No second live period sharing a day, whichever way it is sold.
    let err = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, Some("2025-07-14")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");

    // A renewal starts the day after; a later start is scheduled.
    let next = w
        .gym
        .renew_subscription(&w.desk, sub.id, None, Some(dec("10")))
        .await
        .unwrap();
    assert_eq!(
        (next.start_date, next.status),
        (d("2025-07-15"), SubscriptionStatus::Scheduled)
    );
    assert_eq!(next.price.final_price().amount(), dec("45000"));

    // Later plan price changes never change a debt.
    w.db.sql("update plans set price = $1", &[Arg::Decimal(dec("99999"))])
        .await;
    let again = w.gym.subscription(&w.desk, sub.id).await.unwrap();
    assert_eq!(again.price.final_price().amount(), dec("50000"));

    // Cancel frees the days; canceled is terminal.
    let canceled = w
        .gym
        .cancel_subscription(&w.desk, next.id, Some(" moved away "))
        .await
        .unwrap();
    assert_eq!(
        (canceled.status, canceled.cancellation_reason.as_deref()),
        (SubscriptionStatus::Canceled, Some("moved away"))
    );
    assert!(matches!(
        w.gym.cancel_subscription(&w.desk, next.id, None).await,
        Err(Error::InvalidTransition {
            from: SubscriptionStatus::Canceled,
            ..
        })
    ));
    w.gym
        .create_subscription(&w.desk, sale(ana, &monthly, Some("2025-07-15")))
        .await
        .unwrap();

    // A period wholly in the past, an inactive plan, unknown ids.
    assert!(matches!(
        w.gym
            .create_subscription(&w.desk, sale(ana, &monthly, Some("2025-01-01")))
            .await,
        Err(Error::Validation {
            field: "start_date",
            ..
        })
    ));
    w.gym.deactivate_plan(&w.admin, monthly.id).await.unwrap();
    let bob = client(&w, "3003").await;
    assert!(matches!(
        w.gym
            .create_subscription(&w.desk, sale(bob, &monthly, None))
            .await,
        Err(Error::Conflict { .. })
    ));
    let ghost = ClientId::from_uuid(uuid::Uuid::new_v4());
    assert_eq!(
        w.gym
            .create_subscription(&w.desk, sale(ghost, &monthly, None))
            .await
            .unwrap_err(),
        Error::NotFound { entity: "client" }
    );
    assert_eq!(
        w.gym
            .client_subscriptions(&w.desk, ana)
            .await
            .unwrap()
            .len(),
        3
    );
    let page = w
        .gym
        .list_subscriptions(
            &w.desk,
            Some(SubscriptionStatus::Canceled),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1);
}

#[tokio::test]
async fn free_subscriptions_activate_at_once() {
    let w = world().await;
    let free = plan(&w, "trial", "0", DurationUnit::Week, 1).await;
    let ana = client(&w, "4004").await;
    let sub = w
        .gym
        .create_subscription(&w.desk, sale(ana, &free, None))
        .await
        .unwrap();
    assert_eq!(sub.status, SubscriptionStatus::Active);
    assert!(matches!(
        w.gym.check_in(&w.desk, ana).await.unwrap(),
        CheckInOutcome::Granted(_)
    ));
}

// ------------------------------------------------------------------ payments

#[tokio::test]
async fn payments_partial_full_too_much_and_idempotent() {
    let w = world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    let ana = client(&w, "5005").await;
    let sub = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, None))
        .await
        .unwrap();

    let first = w
        .gym
        .record_payment(&w.desk, pay(sub.id, "20000"))
        .await
        .unwrap();
    assert_eq!(
        (first.status, first.balance.amount()),
        (SubscriptionStatus::PendingPayment, dec("30000"))
    );
    assert_eq!(first.payment.received_by.as_deref(), Some("desk"));

    let err = w
        .gym
        .record_payment(&w.desk, pay(sub.id, "30000.01"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::PaymentExceedsBalance {
            amount: dec("30000.01"),
            balance: dec("30000")
        }
    );

    let keyed = PaymentInput {
        idempotency_key: Some("till-7-0042".into()),
        ..pay(sub.id, "30000")
    };
    let done = w.gym.record_payment(&w.desk, keyed.clone()).await.unwrap();
    assert_eq!(
        (done.status, done.balance.amount()),
        (SubscriptionStatus::Active, dec("0"))
    );
    let retried = w.gym.record_payment(&w.desk, keyed.clone()).await.unwrap();
    assert_eq!(
        retried.payment, done.payment,
        "a retry returns the first receipt"
    );
    assert_eq!(
        scalar(&w.db, "select count(*) from payments").await,
        2,
        "and writes nothing"
    );
    let misuse = PaymentInput {
        amount: dec("1"),
        ..keyed
    };
    assert!(matches!(
        w.gym.record_payment(&w.desk, misuse).await,
        Err(Error::Conflict { .. })
    ));

    assert!(matches!(
        w.gym.record_payment(&w.desk, pay(sub.id, "1")).await,
        Err(Error::InvalidTransition {
            from: SubscriptionStatus::Active,
            ..
        })
    ));
    let stats = w
        .gym
        .subscription_payment_stats(&w.desk, sub.id)
        .await
        .unwrap();
    assert_eq!(
        (
            stats.count,
            stats.total_paid.amount(),
            stats.remaining_debt.amount()
        ),
        (2, dec("50000"), dec("0"))
    );

    // The client's real debt comes from the price snapshots of payable subscriptions.
    let next = w
        .gym
        .renew_subscription(&w.desk, sub.id, None, Some(dec("20")))
        .await
        .unwrap();
    w.gym
        .record_payment(&w.desk, pay(next.id, "15000"))
        .await
        .unwrap();
    let stats = w.gym.client_payment_stats(&w.desk, ana).await.unwrap();
    assert_eq!(
        (stats.count, stats.remaining_debt.amount()),
        (3, dec("25000"))
    );
    assert_eq!(
        w.gym
            .client_payments(&w.desk, ana, Default::default())
            .await
            .unwrap()
            .total,
        3
    );
    for bad in ["0", "-1", "1.001"] {
        assert!(
            matches!(
                w.gym.record_payment(&w.desk, pay(next.id, bad)).await,
                Err(Error::Validation { .. })
            ),
            "{bad}"
        );
    }
}

// ------------------------------------------------------------------ daily jobs

#[tokio::test]
async fn daily_jobs_follow_the_state_machine_and_are_idempotent() {
    let w = world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    let (a, b, c, e) = (
        client(&w, "6001").await,
        client(&w, "6002").await,
        client(&w, "6003").await,
        client(&w, "6004").await,
    );
    // a: paid ahead, starts 07-01; b: unpaid, starts 07-01; c: active, ends 07-14; e: unpaid, ends 07-14.
    let sa = w
        .gym
        .create_subscription(&w.desk, sale(a, &monthly, Some("2025-07-01")))
        .await
        .unwrap();
    w.gym
        .record_payment(&w.desk, pay(sa.id, "50000"))
        .await
        .unwrap();
    let sb = w
        .gym
        .create_subscription(&w.desk, sale(b, &monthly, Some("2025-07-01")))
        .await
        .unwrap();
    let sc = sold_and_paid(&w, c, &monthly, None).await;
    let se = w
        .gym
        .create_subscription(&w.desk, sale(e, &monthly, None))
        .await
        .unwrap();

    // The jobs run for a day up to the gym's current one: a gym whose clock reads
    // 07-16 catches up on 07-01 and 07-15.
    let later = w.db.gym_at("2025-07-16T15:00:00Z").await;
    assert!(matches!(
        w.gym.run_daily_jobs(&w.admin, d("2025-07-01")).await,
        Err(Error::Validation { field: "today", .. })
    ));
    let counts = later
        .run_daily_jobs(&w.admin, d("2025-07-01"))
        .await
        .unwrap();
    assert_eq!(
        (
            counts.activated,
            counts.awaiting_payment,
            counts.expired,
            counts.expired_unpaid
        ),
        (1, 1, 0, 0)
    );
    assert_eq!(
        later
            .run_daily_jobs(&w.admin, d("2025-07-01"))
            .await
            .unwrap(),
        Default::default()
    );
    let (gym, desk) = (&w.gym, &w.desk);
    let status = |id| async move { gym.subscription(desk, id).await.unwrap().status };
    assert_eq!(status(sa.id).await, SubscriptionStatus::Active);
    assert_eq!(status(sb.id).await, SubscriptionStatus::PendingPayment);

    let counts = later
        .run_daily_jobs(&w.admin, d("2025-07-15"))
        .await
        .unwrap();
    assert_eq!((counts.expired, counts.expired_unpaid), (1, 1));
    assert_eq!(status(sc.id).await, SubscriptionStatus::Expired);
    assert_eq!(status(se.id).await, SubscriptionStatus::Expired);
    assert!(matches!(
        later.run_daily_jobs(&w.desk, d("2025-07-16")).await,
        Err(Error::PermissionDenied { .. })
    ));
}

// ------------------------------------------------------------------ check-in

#[tokio::test]
async fn check_in_decisions_are_answers_and_are_counted() {
    let w = world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    let ana = client(&w, "7007").await;
    let sub = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, None))
        .await
        .unwrap();
    assert_eq!(
        w.gym.check_in(&w.desk, ana).await.unwrap(),
        CheckInOutcome::Denied(DenialReason::Unpaid)
    );
    w.gym
        .record_payment(&w.desk, pay(sub.id, "50000"))
        .await
        .unwrap();
    match w
        .gym
        .check_in_by_document(&w.desk, DocumentType::Cc, "7.007")
        .await
        .unwrap()
    {
        CheckInOutcome::Granted(att) => {
            assert_eq!(
                (att.client_id, att.business_date, att.subscription_id),
                (ana, d("2025-06-15"), Some(sub.id))
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        w.gym.check_in(&w.desk, ana).await.unwrap(),
        CheckInOutcome::Denied(DenialReason::AlreadyCheckedIn)
    );
    let bob = client(&w, "8008").await;
    assert_eq!(
        w.gym.check_in(&w.desk, bob).await.unwrap(),
        CheckInOutcome::Denied(DenialReason::NoSubscription)
    );
    assert_eq!(
        w.gym
            .check_in_by_document(&w.desk, DocumentType::Cc, "999999")
            .await
            .unwrap_err(),
        Error::NotFound { entity: "client" }
    );
    let counts = w
        .gym
        .denied_check_ins(&w.admin, d("2025-06-01"), d("2025-06-30"))
        .await
        .unwrap();
    assert_eq!(counts.len(), 3);
    assert!(counts.iter().all(|(_, n)| *n == 1));
    let history = w
        .gym
        .client_attendances(&w.desk, ana, None, None, Default::default())
        .await
        .unwrap();
    assert_eq!(history.total, 1);
}

#[tokio::test]
async fn the_business_day_is_bogotas_not_utcs() {
    // 23:30 in Bogotá on 06-15 is 04:30 UTC on 06-16.
    let w = world_at("2025-06-16T04:30:00Z").await;
    let monthly = plan(&w, "monthly", "0", DurationUnit::Month, 1).await;
    let ana = client(&w, "9009").await;
    w.gym
        .create_subscription(&w.desk, sale(ana, &monthly, None))
        .await
        .unwrap();
    match w.gym.check_in(&w.desk, ana).await.unwrap() {
        CheckInOutcome::Granted(att) => assert_eq!(att.business_date, d("2025-06-15")),
        other => panic!("{other:?}"),
    }
}

// ------------------------------------------------------------------ concurrency

#[tokio::test]
async fn fifty_concurrent_payments_never_overpay_and_activate_once() {
    let w = world().await;
    let monthly = plan(&w, "monthly", "20000", DurationUnit::Month, 1).await;
    let ana = client(&w, "1111").await;
    let sub = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, None))
        .await
        .unwrap();
    let tasks = (0..50).map(|_| {
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        tokio::spawn(async move { gym.record_payment(&desk, pay(sub.id, "1000")).await })
    });
    let results = futures::future::join_all(tasks).await;
    let mut ok = 0;
    let mut activations = 0;
    for r in results {
        match r.unwrap() {
            Ok(receipt) => {
                ok += 1;
                activations += usize::from(receipt.status == SubscriptionStatus::Active);
            }
            Err(Error::PaymentExceedsBalance { .. } | Error::InvalidTransition { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 20);
    assert_eq!(activations, 1, "exactly one payment activated it");
    assert_eq!(w.db.sum_decimal("payments", "amount").await, dec("20000"));
    assert_eq!(
        w.gym.subscription(&w.desk, sub.id).await.unwrap().status,
        SubscriptionStatus::Active
    );
}

#[tokio::test]
async fn twenty_concurrent_check_ins_record_exactly_one_attendance() {
    let w = world().await;
    let free = plan(&w, "free", "0", DurationUnit::Month, 1).await;
    let ana = client(&w, "2222").await;
    w.gym
        .create_subscription(&w.desk, sale(ana, &free, None))
        .await
        .unwrap();
    let tasks = (0..20).map(|_| {
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        tokio::spawn(async move { gym.check_in(&desk, ana).await })
    });
    let outcomes: Vec<CheckInOutcome> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    let granted = outcomes
        .iter()
        .filter(|o| matches!(o, CheckInOutcome::Granted(_)))
        .count();
    assert_eq!(granted, 1);
    assert!(outcomes.iter().all(|o| matches!(
        o,
        CheckInOutcome::Granted(_) | CheckInOutcome::Denied(DenialReason::AlreadyCheckedIn)
    )));
    assert_eq!(scalar(&w.db, "select count(*) from attendances").await, 1);
}

#[tokio::test]
async fn concurrent_sales_and_renewals_never_overlap() {
    let w = world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    let ana = client(&w, "3333").await;
    let first = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, None))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        let plan = monthly.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                gym.renew_subscription(&desk, first.id, None, None)
                    .await
                    .map(|_| ())
            } else {
                gym.create_subscription(&desk, sale(ana, &plan, Some("2025-07-15")))
                    .await
                    .map(|_| ())
            }
        }));
    }
    for r in futures::future::join_all(tasks).await {
        match r.unwrap() {
            Ok(()) | Err(Error::Conflict { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    // Inclusive periods that share a day (daterange '[]' overlap, in either dialect).
    let overlaps = scalar(
        &w.db,
        "select count(*) from subscriptions a join subscriptions b on a.client_id = b.client_id and a.id < b.id \
         where a.status <> 'canceled' and b.status <> 'canceled' \
           and a.start_date <= b.end_date and b.start_date <= a.end_date",
    )
    .await;
    assert_eq!(overlaps, 0);
    assert!(
        scalar(&w.db, "select count(*) from subscriptions").await >= 11,
        "renewals chain on"
    );
}

// ------------------------------------------------------------------ inventory

fn water() -> powergym_core::ProductInput {
    powergym_core::ProductInput {
        name: "Agua 600 ml".into(),
        description: Some("Botella".into()),
        capacity_value: dec("600"),
        unit_type: "ml".into(),
        price: dec("2500"),
        currency: None,
        photo_url: None,
        min_stock: Some(dec("5")),
        max_stock: Some(dec("100")),
    }
}

#[tokio::test]
async fn products_entries_sales_and_reports() {
    use powergym_core::{MovementType, ProductUpdate, StockReport, StockStatus};
    let w = world().await;
    let p = w.gym.create_product(&w.admin, water()).await.unwrap();
    assert_eq!(
        (p.available_quantity.value(), p.stock_status),
        (dec("0"), StockStatus::StockOut)
    );
    assert!(matches!(
        w.gym.create_product(&w.desk, water()).await,
        Err(Error::PermissionDenied { .. })
    ));
    assert!(matches!(
        w.gym.add_stock(&w.desk, p.id, dec("10"), None).await,
        Err(Error::PermissionDenied { .. })
    ));

    let entry = w
        .gym
        .add_stock(&w.admin, p.id, dec("10"), Some("proveedor"))
        .await
        .unwrap();
    assert_eq!(
        (
            entry.product.available_quantity.value(),
            entry.product.stock_status
        ),
        (dec("10"), StockStatus::Normal)
    );
    assert_eq!(
        entry.movement.responsible.as_deref(),
        Some("admin"),
        "who added it is recorded"
    );
    assert!(matches!(
        w.gym.add_stock(&w.admin, p.id, dec("91"), None).await,
        Err(Error::Validation {
            field: "quantity",
            ..
        })
    ));

    let sale = w
        .gym
        .sell_product(&w.desk, p.id, dec("6"), None)
        .await
        .unwrap();
    assert_eq!(sale.movement.movement_type, MovementType::Exit);
    assert_eq!(sale.movement.quantity, dec("-6"));
    assert_eq!(sale.movement.unit_price.unwrap().amount(), dec("2500"));
    assert_eq!(sale.movement.total_amount.unwrap().amount(), dec("15000"));
    assert_eq!(sale.product.stock_status, StockStatus::LowStock);

    // A later price change does not rewrite a past sale.
    w.gym
        .update_product(
            &w.admin,
            p.id,
            ProductUpdate {
                price: Some(dec("3000")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let movements = w
        .gym
        .list_movements(&w.desk, Some(p.id), Default::default())
        .await
        .unwrap();
    assert_eq!(movements.total, 2);
    assert_eq!(
        movements.items[0].total_amount.unwrap().amount(),
        dec("15000")
    );

    assert_eq!(
        w.gym
            .sell_product(&w.desk, p.id, dec("4.5"), None)
            .await
            .unwrap_err(),
        Error::InsufficientStock {
            requested: dec("4.5"),
            available: dec("4")
        }
    );
    assert_eq!(
        w.gym
            .stock_report(&w.admin, StockReport::LowStock)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        w.gym
            .stock_report(&w.admin, StockReport::OutOfStock)
            .await
            .unwrap()
            .is_empty()
    );

    // min ≤ max is checked on the product as a whole; inactive products do not move.
    assert!(matches!(
        w.gym
            .update_product(
                &w.admin,
                p.id,
                ProductUpdate {
                    min_stock: Some(dec("200")),
                    ..Default::default()
                }
            )
            .await,
        Err(Error::Validation {
            field: "max_stock",
            ..
        })
    ));
    w.gym
        .set_product_active(&w.admin, p.id, false)
        .await
        .unwrap();
    assert!(matches!(
        w.gym.sell_product(&w.desk, p.id, dec("1"), None).await,
        Err(Error::Conflict { .. })
    ));
    let found = w
        .gym
        .list_products(&w.desk, false, Some("AGUA"), Default::default())
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(
        w.gym
            .list_products(&w.desk, true, None, Default::default())
            .await
            .unwrap()
            .total,
        0
    );
}

#[tokio::test]
async fn the_database_status_column_and_the_rust_rule_agree() {
    use powergym_core::StockStatus;
    use powergym_core::domain::inventory::Quantity;
    let w = world().await;
    let cases = [
        ("0", "5", Some("20")),
        ("3", "5", None),
        ("5", "5", Some("20")),
        ("6", "5", Some("20")),
        ("20", "5", Some("20")),
        ("21", "5", None),
        ("21", "5", Some("20")),
        ("1", "0", Some("0")),
    ];
    for (qty, min, max) in cases {
        let input = powergym_core::ProductInput {
            min_stock: Some(dec(min)),
            max_stock: max.map(dec),
            ..water()
        };
        let p = w.gym.create_product(&w.admin, input).await.unwrap();
        // Stock moves only through movements; write one directly to pass the maximum too.
        if qty != "0" {
            w.db.sql(
                "insert into inventory_movements (product_id, movement_type, quantity) values ($1, 'ENTRY', $2)",
                &[id(p.id), Arg::Decimal(dec(qty))],
            )
            .await;
        }
        let stored = w.gym.product(&w.desk, p.id).await.unwrap().stock_status;
        let q = |s: &str| Quantity::parse("q", dec(s)).unwrap();
        assert_eq!(
            stored,
            StockStatus::of(q(qty), q(min), max.map(q)),
            "qty {qty} min {min} max {max:?}"
        );
    }
}

#[tokio::test]
async fn fifty_concurrent_sales_never_take_stock_below_zero() {
    let w = world().await;
    let p = w.gym.create_product(&w.admin, water()).await.unwrap();
    w.gym
        .add_stock(&w.admin, p.id, dec("30"), None)
        .await
        .unwrap();
    let tasks = (0..50).map(|_| {
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        tokio::spawn(async move { gym.sell_product(&desk, p.id, dec("1"), None).await })
    });
    let mut sold = 0;
    for r in futures::future::join_all(tasks).await {
        match r.unwrap() {
            Ok(_) => sold += 1,
            Err(Error::InsufficientStock { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(sold, 30);
    let stock: Decimal = w.db.sum_decimal("products", "available_quantity").await;
    let ledger: Decimal = w.db.sum_decimal("inventory_movements", "quantity").await;
    assert_eq!(
        (stock, ledger),
        (dec("0"), dec("0")),
        "the movements add up to the stock"
    );
}

// ------------------------------------------------------------------ rewards

/// Attendance on `days` distinct business days, written as the check-in would.
async fn attend(db: &TestDb, client: ClientId, sub: powergym_core::SubscriptionId, days: &[&str]) {
    for day in days {
        let entry = d(day).and_hms_opt(15, 0, 0).unwrap().and_utc();
        db.sql(
            "insert into attendances (client_id, subscription_id, entry_time, business_date) \
             values ($1, $2, $3, $4)",
            &[id(client), id(sub), Arg::Instant(entry), Arg::Day(d(day))],
        )
        .await;
    }
}

async fn earned_reward(
    w: &World,
) -> (ClientId, powergym_core::Subscription, powergym_core::Reward) {
    let monthly = plan(w, "monthly", "50000", DurationUnit::Month, 1).await;
    let ana = client(w, "5151").await;
    let sub = sold_and_paid(w, ana, &monthly, Some("2025-06-01")).await;
    let days: Vec<String> = (1..=14).map(|n| format!("2025-06-{n:02}")).collect();
    let days: Vec<&str> = days.iter().map(String::as_str).collect();
    attend(&w.db, ana, sub.id, &days).await;
    let eval = w.gym.evaluate_reward(&w.desk, sub.id).await.unwrap();
    (
        ana,
        sub,
        eval.reward
            .expect("14 days earn a reward with threshold 10"),
    )
}

async fn reward_world() -> World {
    let db = TestDb::new().await;
    let now: chrono::DateTime<chrono::Utc> = NOW.parse().unwrap();
    let options = powergym_core::GymOptions {
        clock: std::sync::Arc::new(powergym_core::FixedClock(now)),
        rewards: powergym_core::RewardConfig::new(10, dec("20"), 7, vec![DurationUnit::Month])
            .unwrap(),
        pool: powergym_core::PoolSettings {
            max_connections: 40,
            ..Default::default()
        },
        ..Default::default()
    };
    let gym = powergym_core::Gym::open_with(&db.url, options)
        .await
        .unwrap();
    staffed(db, gym).await
}

#[tokio::test]
async fn rewards_are_earned_once_and_applied_once() {
    let w = reward_world().await;
    let (ana, sub, reward) = earned_reward(&w).await;
    assert_eq!(
        (
            reward.attendance_count,
            reward.eligible_date,
            reward.expires_on
        ),
        (14, d("2025-06-15"), d("2025-06-21"))
    );
    let again = w.gym.evaluate_reward(&w.desk, sub.id).await.unwrap();
    assert_eq!(
        again.reward.as_ref().map(|r| r.id),
        Some(reward.id),
        "one reward per earning subscription"
    );
    assert_eq!(
        w.gym.available_rewards(&w.desk, ana).await.unwrap().len(),
        1
    );

    // Not to another client's subscription; to the client's renewal, once.
    let bob = client(&w, "5252").await;
    let monthly = w.gym.plan_by_slug(&w.desk, "monthly").await.unwrap();
    let bobs = w
        .gym
        .create_subscription(&w.desk, sale(bob, &monthly, None))
        .await
        .unwrap();
    assert!(matches!(
        w.gym.apply_reward(&w.desk, reward.id, bobs.id).await,
        Err(Error::Validation { .. })
    ));
    let renewal = w
        .gym
        .renew_subscription(&w.desk, sub.id, None, None)
        .await
        .unwrap();
    let applied = w
        .gym
        .apply_reward(&w.desk, reward.id, renewal.id)
        .await
        .unwrap();
    assert_eq!(
        (applied.status, applied.applied_subscription_id),
        (powergym_core::RewardStatus::Applied, Some(renewal.id))
    );
    let discounted = w.gym.subscription(&w.desk, renewal.id).await.unwrap();
    assert_eq!(discounted.price.final_price().amount(), dec("40000"));
    assert_eq!(discounted.price.list_price().amount(), dec("50000"));
    assert!(matches!(
        w.gym.apply_reward(&w.desk, reward.id, renewal.id).await,
        Err(Error::Conflict { .. })
    ));
    assert!(
        w.gym
            .available_rewards(&w.desk, ana)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn too_few_days_earn_nothing() {
    let w = reward_world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    let ana = client(&w, "5353").await;
    let sub = sold_and_paid(&w, ana, &monthly, Some("2025-06-01")).await;
    attend(&w.db, ana, sub.id, &["2025-06-02", "2025-06-03"]).await;
    let eval = w.gym.evaluate_reward(&w.desk, sub.id).await.unwrap();
    assert_eq!((eval.attendance_count, eval.reward), (2, None));
}

#[tokio::test]
async fn concurrent_applications_of_one_reward_apply_it_once() {
    let w = reward_world().await;
    let (_, sub, reward) = earned_reward(&w).await;
    let renewal = w
        .gym
        .renew_subscription(&w.desk, sub.id, None, None)
        .await
        .unwrap();
    let tasks = (0..10).map(|_| {
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        tokio::spawn(async move { gym.apply_reward(&desk, reward.id, renewal.id).await })
    });
    let mut applied = 0;
    for r in futures::future::join_all(tasks).await {
        match r.unwrap() {
            Ok(_) => applied += 1,
            Err(Error::Conflict { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(applied, 1);
    let discounted = w.gym.subscription(&w.desk, renewal.id).await.unwrap();
    assert_eq!(
        discounted.price.final_price().amount(),
        dec("40000"),
        "discounted once, not compounded"
    );
}

// ------------------------------------------------------------------ reports

#[tokio::test]
async fn statistics_use_snapshots_business_days_and_one_stock_rule() {
    use powergym_core::{ActivityKind, Alert};
    let w = world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    let (ana, bob) = (client(&w, "1212").await, client(&w, "3434").await);
    let paid = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, None))
        .await
        .unwrap();
    w.gym
        .record_payment(&w.desk, pay(paid.id, "50000"))
        .await
        .unwrap();
    let owed = w
        .gym
        .create_subscription(
            &w.desk,
            SubscriptionInput {
                discount_percentage: Some(dec("20")),
                ..sale(bob, &monthly, None)
            },
        )
        .await
        .unwrap();
    w.gym
        .record_payment(
            &w.desk,
            PaymentInput {
                method: PaymentMethod::Qr,
                ..pay(owed.id, "10000")
            },
        )
        .await
        .unwrap();
    // The plan's price changes; the debt does not.
    w.db.sql("update plans set price = $1", &[Arg::Decimal(dec("99999"))])
        .await;
    w.gym.check_in(&w.desk, ana).await.unwrap();
    w.gym.check_in(&w.desk, bob).await.unwrap(); // unpaid: refused
    let p = w.gym.create_product(&w.admin, water()).await.unwrap();
    w.gym
        .add_stock(&w.admin, p.id, dec("6"), None)
        .await
        .unwrap();
    w.gym
        .sell_product(&w.desk, p.id, dec("1"), None)
        .await
        .unwrap(); // 5 left = min → low stock

    let s = w
        .gym
        .statistics(&w.admin, d("2025-06-01"), d("2025-06-30"))
        .await
        .unwrap();
    assert_eq!(
        (
            s.clients.total,
            s.clients.active,
            s.clients.with_active_subscription,
            s.clients.with_pending_payment
        ),
        (2, 2, 1, 1)
    );
    assert_eq!(
        (s.subscriptions.active, s.subscriptions.pending_payment),
        (1, 1)
    );
    assert_eq!(s.financial.period_revenue.amount(), dec("60000"));
    assert_eq!(
        (
            s.financial.revenue_cash.amount(),
            s.financial.revenue_qr.amount()
        ),
        (dec("50000"), dec("10000"))
    );
    assert_eq!(s.financial.average_payment.amount(), dec("30000"));
    assert_eq!(
        (s.financial.pending_debt.amount(), s.financial.debt_count),
        (dec("30000"), 1)
    );
    assert_eq!(
        (
            s.attendance.total_attendances,
            s.attendance.unique_visitors,
            s.attendance.denied_check_ins
        ),
        (1, 1, 1)
    );
    assert_eq!(
        s.attendance.peak_hour,
        Some(10),
        "10:00 in Bogotá, not 15:00 UTC"
    );
    assert_eq!(s.attendance.attendance_rate, dec("50"));
    assert_eq!((s.inventory.low_stock, s.inventory.sales_count), (1, 1));
    assert_eq!(s.inventory.sales_amount.amount(), dec("2500"));
    assert_eq!(s.alerts, [Alert::LowStock, Alert::PendingDebt]);

    // The day before the period's first business day is outside it.
    let before = w
        .gym
        .statistics(&w.admin, d("2025-06-01"), d("2025-06-14"))
        .await
        .unwrap();
    assert_eq!(
        (
            before.financial.payments_count,
            before.attendance.total_attendances
        ),
        (0, 0)
    );
    assert!(matches!(
        w.gym
            .statistics(&w.admin, d("2025-06-30"), d("2025-06-01"))
            .await,
        Err(Error::Validation { .. })
    ));
    assert!(matches!(
        w.gym
            .statistics(&w.desk, d("2025-06-01"), d("2025-06-30"))
            .await,
        Err(Error::PermissionDenied { .. })
    ));

    let feed = w.gym.recent_activity(&w.admin, 50).await.unwrap();
    let count = |k| feed.iter().filter(|a| a.kind == k).count();
    assert_eq!(
        (
            count(ActivityKind::CheckIn),
            count(ActivityKind::Payment),
            count(ActivityKind::ClientRegistered),
            count(ActivityKind::SubscriptionCreated)
        ),
        (1, 2, 2, 2)
    );
    assert!(feed.windows(2).all(|p| p[0].at >= p[1].at), "newest first");
    assert!(matches!(
        w.gym.recent_activity(&w.admin, 51).await,
        Err(Error::Validation { .. })
    ));
}

#[tokio::test]
async fn dashboard_history_plan_updates_and_attendance_lists() {
    use powergym_core::PlanUpdate;
    let w = world().await;
    let monthly = plan(&w, "monthly", "0", DurationUnit::Month, 1).await;
    let ana = client(&w, "6161").await;
    let sub = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, None))
        .await
        .unwrap();
    w.gym.check_in(&w.desk, ana).await.unwrap();

    let dash = w.gym.client_dashboard(&w.desk, ana).await.unwrap();
    assert_eq!(
        dash.latest_subscription.as_ref().map(|s| s.id),
        Some(sub.id)
    );
    assert_eq!(dash.latest_plan_name.as_deref(), Some("Plan monthly"));
    assert_eq!(
        (dash.total_subscriptions, dash.attendances_since_start),
        (1, 1)
    );
    assert!(dash.last_attendance.is_some());

    let all = w
        .gym
        .attendances(
            &w.admin,
            Some(d("2025-06-15")),
            Some(d("2025-06-15")),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(all.total, 1);
    assert!(matches!(
        w.gym
            .attendances(&w.desk, None, None, Default::default())
            .await,
        Err(Error::PermissionDenied { .. })
    ));

    let renamed = w
        .gym
        .update_plan(
            &w.admin,
            monthly.id,
            PlanUpdate {
                name: Some("Mensual".into()),
                price: Some(dec("60000")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.price.amount()),
        ("Mensual", dec("60000"))
    );
    assert!(matches!(
        w.gym
            .update_plan(
                &w.admin,
                monthly.id,
                PlanUpdate {
                    price: Some(dec("-1")),
                    ..Default::default()
                }
            )
            .await,
        Err(Error::Validation { field: "price", .. })
    ));
    assert_eq!(
        w.gym
            .subscription(&w.desk, sub.id)
            .await
            .unwrap()
            .price
            .final_price()
            .amount(),
        dec("0")
    );

    let p = w.gym.create_product(&w.admin, water()).await.unwrap();
    w.gym
        .add_stock(&w.admin, p.id, dec("10"), None)
        .await
        .unwrap();
    w.gym
        .sell_product(&w.desk, p.id, dec("3"), None)
        .await
        .unwrap();
    let by_staff = w
        .gym
        .movements_by_staff(&w.admin, d("2025-06-15"), d("2025-06-15"))
        .await
        .unwrap();
    let desk_line = by_staff
        .iter()
        .find(|m| m.responsible.as_deref() == Some("desk"))
        .unwrap();
    assert_eq!(
        (
            desk_line.sales_count,
            desk_line.units_sold,
            desk_line.sales_amount.amount()
        ),
        (1, dec("3"), dec("7500"))
    );
    let admin_line = by_staff
        .iter()
        .find(|m| m.responsible.as_deref() == Some("admin"))
        .unwrap();
    assert_eq!(admin_line.units_entered, dec("10"));
    assert!(
        w.gym
            .movements_by_staff(&w.admin, d("2025-06-16"), d("2025-06-16"))
            .await
            .unwrap()
            .is_empty()
    );
    let history = w.gym.product_history(&w.desk, p.id).await.unwrap();
    let t = &history.totals;
    assert_eq!(
        (t.count, t.entries, t.exits, t.entered, t.exited),
        (2, 1, 1, dec("10"), dec("3"))
    );
    assert_eq!(history.recent.len(), 2);
}

// ------------------------------------------------------------------ review fixes

#[tokio::test]
async fn daily_jobs_agree_with_the_state_machine_row_by_row() {
    let w = world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    let weekly = plan(&w, "weekly", "10000", DurationUnit::Week, 1).await;
    let mut subs = Vec::new();
    // (start, plan, amount paid)
    let cases: [(&str, &Plan, &str); 7] = [
        ("2025-06-15", &monthly, "50000"), // active, ends 07-14
        ("2025-06-15", &monthly, "0"),     // pending, ends 07-14
        ("2025-06-20", &weekly, "10000"),  // scheduled paid, whole week before 07-20
        ("2025-06-20", &weekly, "0"),      // scheduled unpaid, whole week before 07-20
        ("2025-07-10", &monthly, "50000"), // scheduled paid, started by 07-20
        ("2025-07-10", &monthly, "100"),   // scheduled part-paid, started by 07-20
        ("2025-08-01", &monthly, "0"),     // scheduled, still ahead
    ];
    for (i, (start, p, paid)) in cases.iter().enumerate() {
        let c = client(&w, &format!("7000{i}")).await;
        let s = w
            .gym
            .create_subscription(&w.desk, sale(c, p, Some(start)))
            .await
            .unwrap();
        if *paid != "0" {
            w.gym
                .record_payment(&w.desk, pay(s.id, paid))
                .await
                .unwrap();
        }
        subs.push(s.id);
    }
    let today = d("2025-07-20");
    let mut expected = Vec::new();
    for id in &subs {
        let sub = w.gym.subscription(&w.desk, *id).await.unwrap();
        let paid = w
            .gym
            .subscription_payment_stats(&w.desk, *id)
            .await
            .unwrap()
            .total_paid;
        expected.push(sub.status_on(paid, today));
    }
    let later = w.db.gym_at("2025-07-20T15:00:00Z").await;
    let counts = later.run_daily_jobs(&w.admin, today).await.unwrap();
    for (id, want) in subs.iter().zip(&expected) {
        assert_eq!(
            w.gym.subscription(&w.desk, *id).await.unwrap().status,
            *want,
            "{id}"
        );
    }
    assert_eq!(
        (
            counts.activated,
            counts.awaiting_payment,
            counts.expired,
            counts.expired_unpaid
        ),
        (1, 1, 1, 3),
        "whole past scheduled periods expire without counting as started"
    );
    assert_eq!(
        later.run_daily_jobs(&w.admin, today).await.unwrap(),
        Default::default()
    );
}

#[tokio::test]
async fn an_ended_period_takes_no_payment_before_the_job_runs() {
    // Bought on 06-15 for one week; it is 06-25 and the jobs have not run.
    let w = world().await;
    let weekly = plan(&w, "weekly", "10000", DurationUnit::Week, 1).await;
    let ana = client(&w, "8181").await;
    let sub = w
        .gym
        .create_subscription(&w.desk, sale(ana, &weekly, None))
        .await
        .unwrap();
    let later = w.db.gym_at("2025-06-25T15:00:00Z").await;
    let err = later
        .record_payment(&w.desk, pay(sub.id, "10000"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::InvalidTransition {
            from: SubscriptionStatus::Expired,
            event: powergym_core::SubscriptionEvent::Pay
        }
    );
}

#[tokio::test]
async fn the_database_refuses_overpayment_and_keeps_receipts() {
    let w = world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    let ana = client(&w, "9191").await;
    let sub = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, None))
        .await
        .unwrap();
    w.gym
        .record_payment(&w.desk, pay(sub.id, "40000"))
        .await
        .unwrap();
    // Raw SQL, bypassing the library: still refused.
    let insert =
        "insert into payments (subscription_id, amount, payment_method) values ($1, $2, 'cash')";
    let raw =
        w.db.try_exec(insert, insert, &[id(sub.id), Arg::Decimal(dec("10000.01"))])
            .await
            .unwrap_err();
    assert_eq!(
        w.db.constraint_of(&raw).as_deref(),
        Some("payments_within_final_price")
    );
    // A subscription with payments cannot be deleted, so its receipts cannot vanish.
    let delete = "delete from subscriptions where id = $1";
    let gone =
        w.db.try_exec(delete, delete, &[id(sub.id)])
            .await
            .unwrap_err();
    assert_eq!(
        w.db.constraint_of(&gone).as_deref(),
        Some("payments_subscription_id_fkey")
    );
    assert_eq!(w.db.sum_decimal("payments", "amount").await, dec("40000"));
}

#[tokio::test]
async fn concurrent_payments_hold_under_a_repeatable_read_default() {
    // PostgreSQL's isolation-level setting; SQLite transactions are always serializable.
    postgres_only!();
    let w = world().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "alter database \"{}\" set default_transaction_isolation = 'repeatable read'",
        w.db.name
    )))
    .execute(&mut w.db.conn().await)
    .await
    .unwrap();
    let gym = w.db.gym_at(NOW).await; // new connections pick up the default
    let monthly = plan(&w, "monthly", "20000", DurationUnit::Month, 1).await;
    let ana = client(&w, "9292").await;
    let sub = gym
        .create_subscription(&w.desk, sale(ana, &monthly, None))
        .await
        .unwrap();
    let tasks = (0..30).map(|_| {
        let gym = gym.clone();
        let desk = w.desk.clone();
        tokio::spawn(async move { gym.record_payment(&desk, pay(sub.id, "1000")).await })
    });
    for r in futures::future::join_all(tasks).await {
        match r.unwrap() {
            Ok(_) | Err(Error::PaymentExceedsBalance { .. } | Error::InvalidTransition { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(w.db.sum_decimal("payments", "amount").await, dec("20000"));
}

// ------------------------------------------------------------------ several processes

/// Set (to `url|subscription|product`) only in the writer processes
/// `two_processes_write_to_one_database_and_the_invariants_hold` starts.
const WRITER_ENV: &str = "POWERGYM_TEST_WRITER";

/// One writer process: pays 1000 on the subscription and sells one unit of the product,
/// 25 times each, all at once; prints how many of each went through.
#[tokio::test]
async fn writer_process() {
    let Ok(job) = std::env::var(WRITER_ENV) else {
        return; // run by hand or by the suite: nothing to do
    };
    let mut parts = job.split('|');
    let (url, sub, product) = (
        parts.next().unwrap(),
        parts.next().unwrap().parse().unwrap(),
        parts.next().unwrap().parse().unwrap(),
    );
    let now: chrono::DateTime<chrono::Utc> = NOW.parse().unwrap();
    let gym = powergym_core::Gym::open_with(
        url,
        powergym_core::GymOptions {
            clock: std::sync::Arc::new(powergym_core::FixedClock(now)),
            ..powergym_core::GymOptions::default()
        },
    )
    .await
    .unwrap();
    let desk = gym.acting_as("desk").await.unwrap();
    let payments = (0..25).map(|_| {
        let (gym, desk) = (gym.clone(), desk.clone());
        tokio::spawn(async move { gym.record_payment(&desk, pay(sub, "1000")).await.is_ok() })
    });
    let sales = (0..25).map(|_| {
        let (gym, desk) = (gym.clone(), desk.clone());
        tokio::spawn(async move {
            match gym.sell_product(&desk, product, dec("1"), None).await {
                Ok(_) => true,
                Err(Error::InsufficientStock { .. }) => false,
                Err(other) => panic!("unexpected {other:?}"),
            }
        })
    });
    let (payments, sales) = futures::future::join(
        futures::future::join_all(payments),
        futures::future::join_all(sales),
    )
    .await;
    let ok = |v: Vec<Result<bool, tokio::task::JoinError>>| {
        v.into_iter()
            .map(|r| usize::from(r.unwrap()))
            .sum::<usize>()
    };
    println!("\nwriter: payments={} sales={}", ok(payments), ok(sales));
    gym.close().await;
}

#[tokio::test]
async fn two_processes_write_to_one_database_and_the_invariants_hold() {
    let w = world().await;
    let monthly = plan(&w, "monthly", "20000", DurationUnit::Month, 1).await;
    let ana = client(&w, "7777").await;
    let sub = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, None))
        .await
        .unwrap();
    let p = w.gym.create_product(&w.admin, water()).await.unwrap();
    w.gym
        .add_stock(&w.admin, p.id, dec("30"), None)
        .await
        .unwrap();
    // Two copies of this test binary, each running only `writer_process`.
    let exe = std::env::current_exe().unwrap();
    let writers: Vec<_> = (0..2)
        .map(|_| {
            tokio::process::Command::new(&exe)
                .args([
                    "--exact",
                    "writer_process",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(WRITER_ENV, format!("{}|{}|{}", w.db.url, sub.id, p.id))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap()
        })
        .collect();
    let mut paid = 0;
    let mut sold = 0;
    for writer in writers {
        let out = writer.wait_with_output().await.unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "a writer failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("writer: ").map(|(_, report)| report))
            .unwrap_or_else(|| panic!("no report from a writer: {stdout}"));
        let counts: Vec<usize> = line
            .split(' ')
            .map(|kv| kv.split_once('=').unwrap().1.parse().unwrap())
            .collect();
        paid += counts[0];
        sold += counts[1];
    }
    assert_eq!(
        (paid, sold),
        (20, 30),
        "50 payments of 1000 on 20000, 50 sales of 30 units"
    );
    assert_eq!(w.db.sum_decimal("payments", "amount").await, dec("20000"));
    assert_eq!(
        w.gym.subscription(&w.desk, sub.id).await.unwrap().status,
        SubscriptionStatus::Active
    );
    assert_eq!(
        (
            w.db.sum_decimal("products", "available_quantity").await,
            w.db.sum_decimal("inventory_movements", "quantity").await
        ),
        (dec("0"), dec("0")),
        "the stock is zero and the movements add up to it"
    );
}

#[tokio::test]
async fn daily_jobs_wait_for_a_payment_in_flight_and_never_overwrite_a_cancellation() {
    // Both races need a second writer inside the job's statements; SQLite has one writer.
    postgres_only!();
    let w = world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    // Scheduled from 07-10 and part-paid: its balance is being paid as the job runs.
    let ana = client(&w, "7200").await;
    let starting = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, Some("2025-07-10")))
        .await
        .unwrap();
    w.gym
        .record_payment(&w.desk, pay(starting.id, "100"))
        .await
        .unwrap();
    // Over by 07-20: being canceled as the job runs.
    let bea = client(&w, "7201").await;
    let ended = w
        .gym
        .create_subscription(&w.desk, sale(bea, &monthly, Some("2025-06-15")))
        .await
        .unwrap();
    w.gym
        .record_payment(&w.desk, pay(ended.id, "50000"))
        .await
        .unwrap();

    let exec = |sql: &'static str, sub: powergym_core::SubscriptionId| {
        sqlx::query(sql).bind(sub.as_uuid())
    };
    let mut paying = w.db.conn().await;
    sqlx::query("begin").execute(&mut paying).await.unwrap();
    exec(
        "insert into payments (subscription_id, amount, payment_method) \
         values ($1, 49900, 'cash')",
        starting.id,
    )
    .execute(&mut paying)
    .await
    .unwrap();
    let mut canceling = w.db.conn().await;
    sqlx::query("begin").execute(&mut canceling).await.unwrap();
    exec(
        "update subscriptions set status = 'canceled', cancellation_date = '2025-07-20', \
         cancellation_reason = 'moved away' where id = $1",
        ended.id,
    )
    .execute(&mut canceling)
    .await
    .unwrap();

    // Whether some backend waits on a lock `holder`'s backend holds (polled, bounded).
    let mut watch = w.db.conn().await;
    let pid = async |conn: &mut sqlx::PgConnection| -> i32 {
        sqlx::query_scalar("select pg_backend_pid()")
            .fetch_one(conn)
            .await
            .unwrap()
    };
    let (paying_pid, canceling_pid) = (pid(&mut paying).await, pid(&mut canceling).await);
    let mut blocked_by = async |holder: i32| {
        for _ in 0..200 {
            let waiting: i64 = sqlx::query_scalar(
                "select count(*) from pg_stat_activity where $1 = any(pg_blocking_pids(pid))",
            )
            .bind(holder)
            .fetch_one(&mut watch)
            .await
            .unwrap();
            if waiting > 0 {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        false
    };

    let later = w.db.gym_at("2025-07-20T15:00:00Z").await;
    let admin = w.admin.clone();
    let job = tokio::spawn(async move { later.run_daily_jobs(&admin, d("2025-07-20")).await });
    assert!(
        blocked_by(paying_pid).await,
        "the job waits for the payment in flight"
    );
    sqlx::query("commit").execute(&mut paying).await.unwrap();
    // The job now moves the due rows and reaches the one being canceled.
    assert!(
        blocked_by(canceling_pid).await,
        "the job waits for the cancellation in flight"
    );
    sqlx::query("commit").execute(&mut canceling).await.unwrap();
    let counts = job.await.unwrap().unwrap();

    let status = |id| {
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        async move { gym.subscription(&desk, id).await.unwrap().status }
    };
    // The payment committed while the job waited counts: paid in full, so active.
    assert_eq!(status(starting.id).await, SubscriptionStatus::Active);
    assert_eq!(status(ended.id).await, SubscriptionStatus::Canceled);
    assert_eq!(
        (counts.activated, counts.awaiting_payment, counts.expired),
        (1, 0, 0)
    );
}

#[tokio::test]
async fn a_second_daily_jobs_run_at_once_is_told_and_changes_nothing() {
    // The advisory lock is PostgreSQL's; SQLite has one writer at a time anyway.
    postgres_only!();
    let w = world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    let ana = client(&w, "7300").await;
    let sub = w
        .gym
        .create_subscription(&w.desk, sale(ana, &monthly, Some("2025-06-15")))
        .await
        .unwrap();
    // Another run holds the job's key (the value of DAILY_JOBS_LOCK).
    let mut running = w.db.conn().await;
    sqlx::query("begin").execute(&mut running).await.unwrap();
    sqlx::query("select pg_advisory_xact_lock(5784667293573994826)")
        .execute(&mut running)
        .await
        .unwrap();
    let later = w.db.gym_at("2025-07-20T15:00:00Z").await;
    assert!(matches!(
        later.run_daily_jobs(&w.admin, d("2025-07-20")).await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(
        w.gym.subscription(&w.desk, sub.id).await.unwrap().status,
        SubscriptionStatus::PendingPayment
    );
    sqlx::query("rollback").execute(&mut running).await.unwrap();
    assert_eq!(
        later
            .run_daily_jobs(&w.admin, d("2025-07-20"))
            .await
            .unwrap()
            .expired_unpaid,
        1
    );
}
