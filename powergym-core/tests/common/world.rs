//! A staffed gym for use-case tests: migrated, with an admin and a desk employee, and
//! shorthands for the records most tests need.

use chrono::NaiveDate;
use powergym_core::{
    Actor, ClientId, ClientInput, DocumentType, DurationUnit, Gender, Gym, PaymentInput,
    PaymentMethod, Plan, PlanInput, Role, StaffInput, SubscriptionInput,
};
use rust_decimal::Decimal;

use super::TestDb;

/// 10:00 in Bogotá on 2025-06-15.
pub const NOW: &str = "2025-06-15T15:00:00Z";

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}
pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub struct World {
    pub db: TestDb,
    pub gym: Gym,
    pub admin: Actor,
    pub desk: Actor,
}

pub async fn world() -> World {
    world_at(NOW).await
}

pub async fn world_at(now: &str) -> World {
    let db = TestDb::new().await;
    let gym = db.gym_at(now).await;
    staffed(db, gym).await
}

/// Migrates, bootstraps the admin and adds the desk employee.
pub async fn staffed(db: TestDb, gym: Gym) -> World {
    gym.migrations().run().await.unwrap();
    gym.bootstrap_admin("admin", "admin-password")
        .await
        .unwrap();
    let (admin, _) = gym.authenticate("admin", "admin-password").await.unwrap();
    gym.create_staff(
        &admin,
        StaffInput {
            username: "desk".into(),
            password: "desk-password".into(),
            role: Role::Employee,
            email: None,
            full_name: Some("Front Desk".into()),
        },
    )
    .await
    .unwrap();
    let desk = gym.acting_as("desk").await.unwrap();
    World {
        db,
        gym,
        admin,
        desk,
    }
}

/// An adult member's registration with this document number.
pub fn client_input(number: &str) -> ClientInput {
    ClientInput {
        document_type: DocumentType::Cc,
        document_number: number.into(),
        first_name: "Ana".into(),
        middle_name: None,
        last_name: "Gómez".into(),
        second_last_name: None,
        phone: "3001234567".into(),
        alternative_phone: None,
        email: None,
        birth_date: d("1990-01-01"),
        gender: Gender::Female,
        address: None,
    }
}

pub async fn client(w: &World, number: &str) -> ClientId {
    w.gym
        .register_client(&w.desk, client_input(number))
        .await
        .unwrap()
        .id
}

pub async fn plan(w: &World, slug: &str, price: &str, unit: DurationUnit, count: u32) -> Plan {
    w.gym
        .create_plan(
            &w.admin,
            PlanInput {
                name: format!("Plan {slug}"),
                slug: Some(slug.into()),
                description: None,
                price: dec(price),
                currency: None,
                duration_unit: unit,
                duration_count: count,
            },
        )
        .await
        .unwrap()
}

pub fn sale(client: ClientId, plan: &Plan, start: Option<&str>) -> SubscriptionInput {
    SubscriptionInput {
        client_id: client,
        plan_id: plan.id,
        start_date: start.map(d),
        discount_percentage: None,
    }
}

pub fn pay(sub: powergym_core::SubscriptionId, amount: &str) -> PaymentInput {
    PaymentInput {
        subscription_id: sub,
        amount: dec(amount),
        method: PaymentMethod::Cash,
        notes: None,
        idempotency_key: None,
    }
}

/// An integer (such as a count) selected by SQL that reads the same on both stores.
pub async fn scalar(db: &TestDb, sql: &str) -> i64 {
    db.int(sql, &[]).await
}

/// Sells `plan` to `client` (from today, or `start`) and pays its whole final price.
pub async fn sold_and_paid(
    w: &World,
    client: ClientId,
    plan: &Plan,
    start: Option<&str>,
) -> powergym_core::Subscription {
    let sub = w
        .gym
        .create_subscription(&w.desk, sale(client, plan, start))
        .await
        .unwrap();
    let price = sub.price.final_price().amount().to_string();
    w.gym
        .record_payment(&w.desk, pay(sub.id, &price))
        .await
        .unwrap();
    sub
}
