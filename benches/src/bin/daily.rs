//! The daily jobs at a million subscriptions on PostgreSQL, through the Gym API.
//!
//! `daily [--url URL] [--runs N] [--scenario a|b]... [--reuse]`: for each scenario it
//! builds a template database once (kept; `--reuse` takes the one a previous run left) (`powergym_daily_tpl_<s>`: migrated by the library, then the
//! rows of `benches/daily/data.sql`, vacuumed and analysed as autovacuum would leave
//! them), then per run copies it (`create database … template …`), opens a Gym on the
//! copy and times one `run_daily_jobs` call, checking its counts.
//!
//! - `a`: 1,000,000 subscriptions, all due (every period over);
//! - `b`: the realistic day: 1,000,000 subscriptions, 3 % due (30,000 periods over,
//!   2,000 scheduled starting today, half of them fully paid).
//!
//! Prints one line per run and a median per scenario.

use std::time::Instant;

use powergym_core::{DailyJobCounts, Gym};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

const DATA: &str = include_str!("../../daily/data.sql");

fn with_database(url: &str, db: &str) -> String {
    let (server, _) = url
        .rsplit_once('/')
        .expect("a postgres:// URL with a database");
    format!("{server}/{db}")
}

async fn exec(url: &str, sql: &str) -> BoxResult<()> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// The counts each scenario's job must report.
fn expected(scenario: &str) -> DailyJobCounts {
    match scenario {
        "a" => DailyJobCounts {
            expired: 1_000_000,
            expired_rewards: 1_000,
            ..DailyJobCounts::default()
        },
        _ => DailyJobCounts {
            expired: 30_000,
            activated: 1_000,
            awaiting_payment: 1_000,
            expired_rewards: 1_000,
            ..DailyJobCounts::default()
        },
    }
}

async fn template(url: &str, scenario: &str, reuse: bool) -> BoxResult<chrono::NaiveDate> {
    let tpl = format!("powergym_daily_tpl_{scenario}");
    if reuse {
        let mut conn = PgConnection::connect(url).await?;
        let exists: bool =
            sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                .bind(&tpl)
                .fetch_one(&mut conn)
                .await?;
        let has_day = exists && {
            let mut conn = PgConnection::connect(&with_database(url, &tpl)).await?;
            sqlx::query_scalar::<_, bool>("select to_regclass('bench_day') is not null")
                .fetch_one(&mut conn)
                .await?
        };
        if has_day {
            // The data's dates are relative to the day it was made for.
            let mut conn = PgConnection::connect(&with_database(url, &tpl)).await?;
            let today: chrono::NaiveDate = sqlx::query_scalar("select today from bench_day")
                .fetch_one(&mut conn)
                .await?;
            return Ok(today);
        }
    }
    exec(url, &format!("drop database if exists {tpl} with (force)")).await?;
    exec(url, &format!("create database {tpl}")).await?;
    let tpl_url = with_database(url, &tpl);
    let gym = Gym::connect(&tpl_url).await?;
    gym.migrations().run().await?;
    gym.bootstrap_admin("admin", "admin-password-123").await?;
    let today = gym.today();
    gym.close().await;
    let started = Instant::now();
    let sql = DATA
        .replace(":'today'", &format!("'{today}'"))
        .replace(":'scenario'", &format!("'{scenario}'"));
    exec(
        &tpl_url,
        &format!(
            "begin; {sql} create table bench_day (today date not null); \
             insert into bench_day values ('{today}'); commit;"
        ),
    )
    .await?;
    exec(&tpl_url, "vacuum analyze").await?;
    eprintln!(
        "scenario {scenario}: data in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(today)
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let mut args = std::env::args().skip(1);
    let mut url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://powergym:powergym@127.0.0.1:5432/powergym".into());
    let mut runs = 3usize;
    let mut scenarios = Vec::new();
    let mut reuse = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--url" => url = args.next().expect("--url URL"),
            "--runs" => runs = args.next().expect("--runs N").parse()?,
            "--scenario" => scenarios.push(args.next().expect("--scenario a|b")),
            "--reuse" => reuse = true,
            other => panic!("unknown argument {other}"),
        }
    }
    if scenarios.is_empty() {
        scenarios = vec!["a".into(), "b".into()];
    }
    for scenario in &scenarios {
        let today = template(&url, scenario, reuse).await?;
        let tpl = format!("powergym_daily_tpl_{scenario}");
        let run_db = "powergym_daily_run";
        let mut times = Vec::new();
        for run in 1..=runs {
            exec(
                &url,
                &format!("drop database if exists {run_db} with (force)"),
            )
            .await?;
            exec(&url, &format!("create database {run_db} template {tpl}")).await?;
            let gym = Gym::connect(&with_database(&url, run_db)).await?;
            let admin = gym.acting_as("admin").await?;
            // A gym that runs its daily jobs has its connection open: the first one to a
            // fresh database costs ~0.1 s of the server's start-up alone. The one opened
            // above is back in the pool once its return check is done.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let started = Instant::now();
            let counts = gym.run_daily_jobs(&admin, today).await?;
            let took = started.elapsed().as_secs_f64();
            gym.close().await;
            assert_eq!(counts, expected(scenario), "scenario {scenario}");
            println!("scenario {scenario} run {run}: {took:.3} s ({counts:?})");
            times.push(took);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "scenario {scenario}: median {:.3} s over {runs} runs (min {:.3}, max {:.3})",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
        exec(
            &url,
            &format!("drop database if exists {run_db} with (force)"),
        )
        .await?;
    }
    Ok(())
}
