//! The front desk, PowerGym's main job: a day at the desk against a real database.
//! It migrates, signs the admin in, makes sure a plan and a product exist, registers
//! members, sells and collects subscriptions, checks members in by document, enrols a
//! face under recorded consent and checks in by face, and sells a bottle of water. Re-running it is safe: what exists is reused, and the second
//! check-in of the day is refused as it should be.
//!
//! Run with `scripts/demo.sh`: on an embedded SQLite file by default (no server), or on
//! PostgreSQL with `DATABASE_URL=postgres://…`. Directly:
//! `cargo run -p powergym-examples --bin front_desk` (`DATABASE_URL` names the store).

use std::process::ExitCode;

use chrono::NaiveDate;
use powergym_core::domain::consent::{ConsentInput, Guardian};
use powergym_core::face::{EMBEDDING_DIM, FaceEmbedding};
use powergym_core::{
    Actor, CheckInOutcome, Client, ClientInput, DocumentType, DurationUnit, Error, Gender, Gym,
    PageRequest, PaymentInput, PaymentMethod, Plan, PlanInput, ProductInput, StaffInput,
    SubscriptionInput,
};
use powergym_core::{ClientId, FaceCheckIn};
use rust_decimal::Decimal;

/// The embedded store, in the working directory: the demo needs no server.
const DEFAULT_URL: &str = "sqlite://powergym-demo.db";
/// Demo credentials: this program creates these accounts on an empty database.
const ADMIN: (&str, &str) = ("admin", "front-desk-demo-admin");
const DESK: (&str, &str) = ("desk", "front-desk-demo-desk");

struct Member {
    document_type: DocumentType,
    number: &'static str,
    first: &'static str,
    last: &'static str,
    phone: &'static str,
    born: (i32, u32, u32),
    gender: Gender,
    /// How much of the monthly price they pay today.
    pays: &'static str,
}

const MEMBERS: [Member; 3] = [
    Member {
        document_type: DocumentType::Cc,
        number: "1.020.304.050",
        first: "Ana",
        last: "Gómez",
        phone: "300 123 4567",
        born: (1994, 5, 17),
        gender: Gender::Female,
        pays: "80000",
    },
    Member {
        document_type: DocumentType::Ce,
        number: "E-482913",
        first: "Luis",
        last: "Pérez",
        phone: "+57 311 555 0101",
        born: (1988, 11, 2),
        gender: Gender::Male,
        pays: "30000",
    },
    Member {
        document_type: DocumentType::Ti,
        number: "1002003004",
        first: "Sofía",
        last: "Ramírez",
        phone: "320 444 1212",
        born: (2010, 1, 30),
        gender: Gender::Female,
        pays: "0",
    },
];

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("front desk: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("a decimal literal")
}

async fn staff(gym: &Gym) -> powergym_core::Result<(Actor, Actor)> {
    match gym.bootstrap_admin(ADMIN.0, ADMIN.1).await {
        Ok(_) => println!("created the first admin account '{}'", ADMIN.0),
        Err(Error::Conflict { .. }) => {}
        Err(e) => return Err(e),
    }
    let (admin, _) = gym.authenticate(ADMIN.0, ADMIN.1).await?;
    let desk_account = StaffInput {
        username: DESK.0.into(),
        password: DESK.1.into(),
        role: powergym_core::Role::Employee,
        email: None,
        full_name: Some("Front desk".into()),
    };
    match gym.create_staff(&admin, desk_account).await {
        Ok(_) | Err(Error::AlreadyExists { .. }) => {}
        Err(e) => return Err(e),
    }
    let (desk, _) = gym.authenticate(DESK.0, DESK.1).await?;
    Ok((admin, desk))
}

async fn monthly_plan(gym: &Gym, admin: &Actor) -> powergym_core::Result<Plan> {
    match gym.plan_by_slug(admin, "monthly").await {
        Ok(plan) => Ok(plan),
        Err(Error::NotFound { .. }) => {
            let input = PlanInput {
                name: "Mensualidad".into(),
                slug: Some("monthly".into()),
                description: Some("Acceso ilimitado por un mes".into()),
                price: dec("80000"),
                currency: None,
                duration_unit: DurationUnit::Month,
                duration_count: 1,
            };
            gym.create_plan(admin, input).await
        }
        Err(e) => Err(e),
    }
}

async fn member(gym: &Gym, desk: &Actor, m: &Member) -> powergym_core::Result<Client> {
    let input = ClientInput {
        document_type: m.document_type,
        document_number: m.number.into(),
        first_name: m.first.into(),
        middle_name: None,
        last_name: m.last.into(),
        second_last_name: None,
        phone: m.phone.into(),
        alternative_phone: None,
        email: None,
        birth_date: NaiveDate::from_ymd_opt(m.born.0, m.born.1, m.born.2).expect("valid date"),
        gender: m.gender,
        address: None,
    };
    match gym.register_client(desk, input).await {
        Ok(c) => {
            println!(
                "registered {} ({} {})",
                c.full_name(),
                c.document_type,
                c.document_number.masked()
            );
            Ok(c)
        }
        Err(Error::AlreadyExists { .. }) => {
            gym.client_by_document(desk, m.document_type, m.number)
                .await
        }
        Err(e) => Err(e),
    }
}

/// What the camera's face model would hand over: person `who`'s embedding, blurred by
/// `shot` (0 = the enrolment photo). The model stays outside the library; these are
/// deterministic stand-ins with the geometry of real embeddings.
fn camera(who: u64, shot: u64) -> FaceEmbedding {
    let mut x = who.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut y = (who ^ (shot << 32)).wrapping_mul(0xD1B5_4A32_D192_ED03) | 1;
    let next = |s: &mut u64| {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        (*s as f64 / u64::MAX as f64 * 2.0 - 1.0) as f32
    };
    let noise = if shot == 0 { 0.0 } else { 1.0 };
    let values: Vec<f32> = (0..EMBEDDING_DIM)
        .map(|_| next(&mut x) + noise * next(&mut y))
        .collect();
    FaceEmbedding::from_slice(&values).expect("finite, non-zero")
}

/// Consent (a guardian's too for a minor), then enrolment; re-running re-enrols.
async fn enrol(
    gym: &Gym,
    desk: &Actor,
    client: ClientId,
    who: u64,
    guardian: Option<Guardian>,
) -> powergym_core::Result<()> {
    let consent = ConsentInput {
        purpose: "face check-in at the front desk".into(),
        guardian,
    };
    match gym.record_biometric_consent(desk, client, consent).await {
        Ok(_) | Err(Error::AlreadyExists { .. }) => {}
        Err(e) => return Err(e),
    }
    gym.enroll_face(desk, client, &camera(who, 0), None).await?;
    Ok(())
}

fn say(outcome: &FaceCheckIn) -> String {
    match outcome {
        FaceCheckIn::Granted { candidate, .. } => {
            format!("welcome (distance {:.2})", candidate.distance)
        }
        FaceCheckIn::Denied { reason, candidate } => {
            format!(
                "recognised (distance {:.2}) but refused — {reason}",
                candidate.distance
            )
        }
        FaceCheckIn::NoMatch => "nobody we know: use the document".into(),
        FaceCheckIn::Ambiguous => "two members look alike: use the document".into(),
    }
}

async fn run() -> powergym_core::Result<()> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let gym = Gym::open(&url).await?;
    gym.migrations().run().await?;
    gym.migrations().check().await?;
    println!(
        "{} store, schema at version {} · business day {} ({})",
        if url.starts_with("sqlite") {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        gym.migrations().current_version().await?,
        gym.today(),
        gym.calendar().zone_name()
    );
    let (admin, desk) = staff(&gym).await?;
    let plan = monthly_plan(&gym, &admin).await?;
    println!(
        "plan '{}': {} {} per {} {}\n",
        plan.name,
        plan.price,
        plan.currency,
        plan.duration.count(),
        plan.duration.unit()
    );

    for m in &MEMBERS {
        let client = member(&gym, &desk, m).await?;
        let sold = gym
            .create_subscription(
                &desk,
                SubscriptionInput {
                    client_id: client.id,
                    plan_id: plan.id,
                    start_date: None,
                    discount_percentage: None,
                },
            )
            .await;
        match sold {
            Ok(sub) => {
                println!(
                    "  sold {} → {} ({} to {})",
                    plan.name, sub.status, sub.start_date, sub.end_date
                );
                if m.pays != "0" {
                    let payment = PaymentInput {
                        subscription_id: sub.id,
                        amount: dec(m.pays),
                        method: PaymentMethod::Cash,
                        notes: None,
                        idempotency_key: Some(format!("demo-{}-{}", sub.id, m.pays)),
                    };
                    let receipt = gym.record_payment(&desk, payment).await?;
                    println!(
                        "  paid {} → {}, balance {}",
                        receipt.payment.amount, receipt.status, receipt.balance
                    );
                }
            }
            Err(Error::Conflict { .. }) => println!("  already has a subscription for today"),
            Err(e) => return Err(e),
        }
        match gym
            .check_in_by_document(&desk, m.document_type, m.number)
            .await?
        {
            CheckInOutcome::Granted(att) => {
                println!("  check-in: welcome (business day {})", att.business_date)
            }
            CheckInOutcome::Denied(reason) => println!("  check-in: refused — {reason}"),
        }
    }

    println!("\nface check-in (a simulated camera stands in for the face model):");
    let ana = gym
        .client_by_document(&desk, MEMBERS[0].document_type, MEMBERS[0].number)
        .await?;
    enrol(&gym, &desk, ana.id, 1, None).await?;
    println!(
        "  {} consented and enrolled her face",
        ana.first_name.as_str()
    );
    let sofia = gym
        .client_by_document(&desk, MEMBERS[2].document_type, MEMBERS[2].number)
        .await?;
    match enrol(&gym, &desk, sofia.id, 3, None).await {
        Err(Error::ConsentRequired { guardian: true }) => {
            println!(
                "  {} is a minor: her consent alone is refused",
                sofia.first_name.as_str()
            )
        }
        other => other?,
    }
    let guardian = Guardian {
        name: "Marta Ramírez".into(),
        document_type: DocumentType::Cc,
        document_number: "52123456".into(),
    };
    enrol(&gym, &desk, sofia.id, 3, Some(guardian)).await?;
    println!(
        "  with her guardian's consent, {} is enrolled",
        sofia.first_name.as_str()
    );
    let at_door = gym.check_in_by_face(&desk, &camera(1, 7)).await?;
    println!("  Ana at the door: {}", say(&at_door));
    let stranger = gym.check_in_by_face(&desk, &camera(999, 0)).await?;
    println!("  a stranger at the door: {}", say(&stranger));

    let water = match gym
        .list_products(&desk, true, Some("agua"), PageRequest::default())
        .await?
        .items
        .into_iter()
        .next()
    {
        Some(p) => p,
        None => {
            let input = ProductInput {
                name: "Agua 600 ml".into(),
                description: None,
                capacity_value: dec("600"),
                unit_type: "ml".into(),
                price: dec("2500"),
                currency: None,
                photo_url: None,
                min_stock: Some(dec("5")),
                max_stock: Some(dec("200")),
            };
            let p = gym.create_product(&admin, input).await?;
            gym.add_stock(&admin, p.id, dec("24"), Some("first delivery"))
                .await?
                .product
        }
    };
    match gym.sell_product(&desk, water.id, dec("2"), None).await {
        Ok(sale) => println!(
            "\nsold 2 × {} for {} · stock {} ({})",
            sale.product.name,
            sale.movement
                .total_amount
                .map(|t| t.to_string())
                .unwrap_or_default(),
            sale.product.available_quantity,
            sale.product.stock_status
        ),
        Err(Error::InsufficientStock { available, .. }) => {
            println!("\nwater is sold out ({available} left)")
        }
        Err(e) => return Err(e),
    }

    let page = gym.list_clients(&desk, PageRequest::new(20, 0)?).await?;
    println!("\n{} members (newest first):", page.total);
    for c in &page.items {
        let current = gym.current_subscription(&desk, c.id).await?;
        println!(
            "  {:<22} {} {:<12} {}",
            c.full_name(),
            c.document_type,
            c.document_number.masked(),
            current.map_or("no current subscription".to_owned(), |s| format!(
                "{} until {}",
                s.status, s.end_date
            ))
        );
    }
    gym.close().await;
    Ok(())
}
