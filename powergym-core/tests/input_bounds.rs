//! Bad input through the use cases: each is refused with a `Validation` error naming the
//! field, before anything is stored, and leaves the data as it was. One test per failure
//! the hardening review reproduced (NUL bytes, invisible and bidirectional characters,
//! a 10 MB description, a start on 9999-12-31, daily jobs run for a future day).

mod common;

use std::time::{Duration, Instant};

use common::world::*;
use powergym_core::domain::consent::{ConsentInput, Guardian};
use powergym_core::domain::inventory::{ProductInput, ProductUpdate};
use powergym_core::domain::plan::PlanUpdate;
use powergym_core::{
    ClientInput, ClientUpdate, DocumentType, DurationUnit, Error, PageRequest, PlanInput,
};

/// A field that a case spoils, and how.
type Spoil<T> = (&'static str, fn(&mut T));

fn refused<T: std::fmt::Debug>(result: powergym_core::Result<T>, expected: &str) {
    match result {
        Err(Error::Validation { field, .. }) if field == expected => {}
        other => panic!("expected a validation error on {expected}, got {other:?}"),
    }
}

fn registration(number: &str) -> ClientInput {
    ClientInput {
        address: Some("Calle 10 # 20-30".into()),
        ..client_input(number)
    }
}

fn plan_input(name: &str, description: Option<String>) -> PlanInput {
    PlanInput {
        name: name.into(),
        slug: None,
        description,
        price: dec("50000"),
        currency: None,
        duration_unit: DurationUnit::Month,
        duration_count: 1,
    }
}

fn product_input() -> ProductInput {
    ProductInput {
        name: "Agua".into(),
        description: None,
        capacity_value: dec("600"),
        unit_type: "ml".into(),
        price: dec("2500"),
        currency: None,
        photo_url: None,
        min_stock: None,
        max_stock: None,
    }
}

#[tokio::test]
async fn control_and_invisible_characters_in_client_fields_are_refused() {
    let w = world().await;
    let cases: [Spoil<ClientInput>; 6] = [
        ("first_name", |i| i.first_name = "An\0a".into()),
        ("last_name", |i| i.last_name = "Gó\u{200B}mez".into()),
        ("address", |i| {
            i.address = Some("Calle 10\u{202E}03-02".into())
        }),
        ("address", |i| i.address = Some("Calle\u{7} 10".into())),
        ("email", |i| i.email = Some("ana\0@example.com".into())),
        ("phone", |i| i.phone = "300\u{0}1234567".into()),
    ];
    for (field, spoil) in cases {
        let mut input = registration("1020304050");
        spoil(&mut input);
        refused(w.gym.register_client(&w.desk, input).await, field);
    }
    let page = w
        .gym
        .list_clients(&w.desk, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 0, "nothing was stored");

    let id = client(&w, "1020304050").await;
    let before = w.gym.client(&w.desk, id).await.unwrap();
    let update = ClientUpdate {
        address: Some("Calle\u{FEFF} 11".into()),
        ..Default::default()
    };
    refused(w.gym.update_client(&w.desk, id, update).await, "address");
    let update = ClientUpdate {
        address: Some("x".repeat(301)),
        ..Default::default()
    };
    refused(w.gym.update_client(&w.desk, id, update).await, "address");
    assert_eq!(w.gym.client(&w.desk, id).await.unwrap(), before);
}

#[tokio::test]
async fn a_ten_megabyte_plan_description_is_refused_at_once() {
    let w = world().await;
    let huge = "x".repeat(10 * 1024 * 1024);
    let started = Instant::now();
    refused(
        w.gym
            .create_plan(&w.admin, plan_input("Mensual", Some(huge.clone())))
            .await,
        "description",
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    refused(
        w.gym
            .create_plan(&w.admin, plan_input("Mensual", Some("a\0b".into())))
            .await,
        "description",
    );
    refused(
        w.gym
            .create_plan(&w.admin, plan_input("Men\u{202E}sual", None))
            .await,
        "name",
    );
    let page = w
        .gym
        .list_plans(&w.admin, false, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 0, "nothing was stored");

    // The longest description and a multi-line one are stored and read back as given.
    let longest = "d".repeat(2_000);
    let plan = w
        .gym
        .create_plan(&w.admin, plan_input("Mensual", Some(longest.clone())))
        .await
        .unwrap();
    assert_eq!(plan.description.as_deref(), Some(longest.as_str()));
    let multi = "Incluye:\n\t- clases\r\n\t- casillero".to_owned();
    let update = PlanUpdate {
        description: Some(multi.clone()),
        ..Default::default()
    };
    let plan = w.gym.update_plan(&w.admin, plan.id, update).await.unwrap();
    assert_eq!(plan.description.as_deref(), Some(multi.as_str()));
    let update = PlanUpdate {
        description: Some(huge),
        ..Default::default()
    };
    refused(
        w.gym.update_plan(&w.admin, plan.id, update).await,
        "description",
    );
    assert_eq!(w.gym.plan(&w.admin, plan.id).await.unwrap(), plan);
    refused(w.gym.plan_by_slug(&w.admin, "mon\0thly").await, "slug");
}

#[tokio::test]
async fn product_text_is_bounded_and_visible() {
    let w = world().await;
    let cases: [Spoil<ProductInput>; 5] = [
        ("name", |p| p.name = "Agua\u{202E}".into()),
        ("unit_type", |p| p.unit_type = "m\u{7}l".into()),
        ("photo_url", |p| {
            p.photo_url = Some("https://x.co/\0.jpg".into())
        }),
        ("description", |p| {
            p.description = Some("\u{2066}fría".into())
        }),
        ("description", |p| p.description = Some("y".repeat(501))),
    ];
    for (field, spoil) in cases {
        let mut input = product_input();
        spoil(&mut input);
        refused(w.gym.create_product(&w.admin, input).await, field);
    }
    let product = w
        .gym
        .create_product(&w.admin, product_input())
        .await
        .unwrap();
    let update = ProductUpdate {
        name: Some("Agua\u{200B}".into()),
        ..Default::default()
    };
    refused(
        w.gym.update_product(&w.admin, product.id, update).await,
        "name",
    );
    assert_eq!(w.gym.product(&w.admin, product.id).await.unwrap(), product);
}

#[tokio::test]
async fn consent_purposes_and_guardian_names_are_bounded_and_visible() {
    let w = world().await;
    let id = client(&w, "1020304050").await;
    let consent = |purpose: &str| ConsentInput {
        purpose: purpose.into(),
        guardian: None,
    };
    refused(
        w.gym
            .record_biometric_consent(&w.desk, id, consent("check-in\u{202E}"))
            .await,
        "purpose",
    );
    refused(
        w.gym
            .record_biometric_consent(&w.desk, id, consent(&"p".repeat(201)))
            .await,
        "purpose",
    );
    let with_guardian = ConsentInput {
        purpose: "face check-in".into(),
        guardian: Some(Guardian {
            name: "Luis\0 Gómez".into(),
            document_type: DocumentType::Cc,
            document_number: "79123456".into(),
        }),
    };
    refused(
        w.gym
            .record_biometric_consent(&w.desk, id, with_guardian)
            .await,
        "guardian_name",
    );
    assert!(
        w.gym
            .biometric_consents(&w.desk, id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_start_on_9999_12_31_is_refused_before_any_end_date_is_computed() {
    let w = world().await;
    let yearly = plan(&w, "yearly", "500000", DurationUnit::Year, 100).await;
    let id = client(&w, "1020304050").await;
    for start in ["9999-12-31", "3000-01-01"] {
        refused(
            w.gym
                .create_subscription(&w.desk, sale(id, &yearly, Some(start)))
                .await,
            "start_date",
        );
    }
    assert!(
        w.gym
            .client_subscriptions(&w.desk, id)
            .await
            .unwrap()
            .is_empty()
    );
    // The latest start accepted ends within years every binding reads back.
    let last = w
        .gym
        .create_subscription(&w.desk, sale(id, &yearly, Some("2999-12-31")))
        .await
        .unwrap();
    assert_eq!(last.end_date, d("3099-12-30"));
    assert_eq!(w.gym.subscription(&w.desk, last.id).await.unwrap(), last);
}

#[tokio::test]
async fn daily_jobs_refuse_a_day_after_the_current_business_day() {
    let w = world().await; // the clock reads 2025-06-15 in Bogotá
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    let id = client(&w, "1020304050").await;
    let sold = sold_and_paid(&w, id, &monthly, None).await;
    let sub = w.gym.subscription(&w.desk, sold.id).await.unwrap();
    for day in ["2025-06-16", "9999-12-31"] {
        refused(w.gym.run_daily_jobs(&w.admin, d(day)).await, "today");
    }
    let now = w.gym.subscription(&w.desk, sub.id).await.unwrap();
    assert_eq!(now.status, sub.status, "nothing expired");
    // Today and past days (catching up) run.
    assert!(
        w.gym
            .run_daily_jobs(&w.admin, d("2025-06-15"))
            .await
            .is_ok()
    );
    assert!(
        w.gym
            .run_daily_jobs(&w.admin, d("2025-06-01"))
            .await
            .is_ok()
    );
    assert_eq!(
        w.gym.subscription(&w.desk, sub.id).await.unwrap().status,
        sub.status
    );
}

#[tokio::test]
async fn a_ten_megabyte_search_is_refused_at_once() {
    let w = world().await;
    client(&w, "1020304050").await;
    let huge = "ana ".repeat(2_500_000);
    let started = Instant::now();
    refused(
        w.gym
            .search_clients(&w.desk, &huge, PageRequest::default())
            .await,
        "text",
    );
    refused(
        w.gym
            .list_products(&w.desk, false, Some(&huge), PageRequest::default())
            .await,
        "search",
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    for bad in ["an\0a", "ana\u{202E}", "   "] {
        refused(
            w.gym
                .search_clients(&w.desk, bad, PageRequest::default())
                .await,
            "text",
        );
    }
    let found = w
        .gym
        .search_clients(&w.desk, &"ana ".repeat(50), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(found.total, 1);
}

#[tokio::test]
async fn notes_reasons_and_staff_names_follow_the_text_rule() {
    let w = world().await;
    let monthly = plan(&w, "monthly", "50000", DurationUnit::Month, 1).await;
    let id = client(&w, "1020304050").await;
    let sub = w
        .gym
        .create_subscription(&w.desk, sale(id, &monthly, None))
        .await
        .unwrap();
    let mut payment = pay(sub.id, "1000");
    payment.notes = Some("cash\0".into());
    refused(w.gym.record_payment(&w.desk, payment).await, "notes");
    assert!(
        w.gym
            .subscription_payments(&w.desk, sub.id, PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    refused(
        w.gym
            .cancel_subscription(&w.desk, sub.id, Some("moved\u{202E}"))
            .await,
        "reason",
    );
    let product = w
        .gym
        .create_product(&w.admin, product_input())
        .await
        .unwrap();
    refused(
        w.gym
            .add_stock(&w.admin, product.id, dec("3"), Some("delivery\u{7}"))
            .await,
        "notes",
    );
    assert_eq!(w.gym.product(&w.admin, product.id).await.unwrap(), product);
    let staff = powergym_core::StaffInput {
        username: "night".into(),
        password: "night-password".into(),
        role: powergym_core::Role::Employee,
        email: None,
        full_name: Some("Night\u{200B} Desk".into()),
    };
    refused(w.gym.create_staff(&w.admin, staff).await, "full_name");
    // A multi-line note is kept as written.
    let mut payment = pay(sub.id, "1000");
    payment.notes = Some("first\npart".into());
    assert!(w.gym.record_payment(&w.desk, payment).await.is_ok());
}
