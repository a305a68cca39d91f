//! The front desk, PowerGym's main job: migrates the database, registers a few members
//! and lists them. Later steps of the library add plans, payments and check-in here.
//!
//! Run with `scripts/demo.sh` (it starts PostgreSQL), or with `DATABASE_URL` set:
//! `cargo run -p powergym-examples --bin front_desk`.

use std::process::ExitCode;

use chrono::NaiveDate;
use powergym_core::{ClientInput, DocumentType, Error, Gender, Gym, PageRequest};

const DEFAULT_URL: &str = "postgres://powergym:powergym@127.0.0.1:5432/powergym";

fn member(
    document_type: DocumentType,
    number: &str,
    first: &str,
    last: &str,
    phone: &str,
    born: (i32, u32, u32),
    gender: Gender,
) -> ClientInput {
    ClientInput {
        document_type,
        document_number: number.into(),
        first_name: first.into(),
        middle_name: None,
        last_name: last.into(),
        second_last_name: None,
        phone: phone.into(),
        alternative_phone: None,
        email: None,
        birth_date: NaiveDate::from_ymd_opt(born.0, born.1, born.2).expect("valid date"),
        gender,
        address: None,
    }
}

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

async fn run() -> powergym_core::Result<()> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let gym = Gym::connect(&url).await?;
    gym.migrations().run().await?;
    gym.migrations().check().await?;
    println!(
        "schema at version {} · business day {} ({})",
        gym.migrations().current_version().await?,
        gym.today(),
        gym.calendar().zone_name()
    );

    let members = [
        member(
            DocumentType::Cc,
            "1.020.304.050",
            "Ana",
            "Gómez",
            "300 123 4567",
            (1994, 5, 17),
            Gender::Female,
        ),
        member(
            DocumentType::Ce,
            "e-482913",
            "Luis",
            "Pérez",
            "+57 311 555 0101",
            (1988, 11, 2),
            Gender::Male,
        ),
        member(
            DocumentType::Ti,
            "1002003004",
            "Sofía",
            "Ramírez",
            "320 444 1212",
            (2010, 1, 30),
            Gender::Female,
        ),
    ];
    for input in members {
        match gym.register_client(input).await {
            Ok(c) => println!(
                "registered {} ({} {})",
                c.full_name(),
                c.document_type,
                c.document_number.masked()
            ),
            // The demo is re-runnable: members from an earlier run are already there.
            Err(Error::AlreadyExists { .. }) => println!("already registered, skipped"),
            Err(e) => return Err(e),
        }
    }

    let page = gym.list_clients(PageRequest::new(20, 0)?).await?;
    println!("\n{} members (newest first):", page.total);
    for c in &page.items {
        println!(
            "  {:<28} {} {:<12} {}",
            c.full_name(),
            c.document_type,
            c.document_number.masked(),
            if c.is_active { "active" } else { "inactive" }
        );
    }
    gym.close().await;
    Ok(())
}
