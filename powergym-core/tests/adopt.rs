//! Adoption of a database built by the original backend (fixture: its schema at Alembic
//! head `5ca3a67ca896` and a realistic gym with the inconsistencies of spec §13).

mod common;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use common::TestDb;
use powergym_core::{
    AdoptionOptions, AdoptionReport, CheckInOutcome, DocumentType, Error, Gym, PaymentInput,
    PaymentMethod, SubscriptionId,
};
use rust_decimal::Decimal;
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

fn fixture_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/original")
}

/// The `-- expect: key=value` lines of the fixture's data file.
fn expectations() -> HashMap<String, String> {
    let text = std::fs::read_to_string(fixture_dir().join("data.sql")).unwrap();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("-- expect:"))
        .filter_map(|kv| kv.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn expect_u64(e: &HashMap<String, String>, key: &str) -> u64 {
    e.get(key)
        .unwrap_or_else(|| panic!("the fixture states no {key}"))
        .parse()
        .unwrap()
}

/// A database holding the original's schema and data.
async fn original() -> TestDb {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    for file in ["schema.sql", "data.sql"] {
        let sql = std::fs::read_to_string(fixture_dir().join(file)).unwrap();
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    db
}

/// The catalog and every row, summarised: equal before and after means nothing changed.
async fn fingerprint(conn: &mut PgConnection) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let relations: Vec<(String, String)> = sqlx::query_as(
        "select n.nspname || '.' || c.relname, c.relkind::text from pg_class c \
         join pg_namespace n on n.oid = c.relnamespace \
         where n.nspname not in ('pg_catalog', 'information_schema') \
           and n.nspname not like 'pg_toast%' order by 1",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    out.insert("catalog".into(), format!("{relations:?}"));
    let types: Vec<String> = sqlx::query_scalar(
        "select n.nspname || '.' || t.typname from pg_type t \
         join pg_namespace n on n.oid = t.typnamespace \
         where n.nspname not in ('pg_catalog', 'information_schema') \
           and n.nspname not like 'pg_toast%' and t.typtype = 'e' order by 1",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    out.insert("types".into(), format!("{types:?}"));
    for (name, kind) in relations {
        if kind != "r" {
            continue;
        }
        let sum: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "select md5(string_agg(x::text, '|' order by x::text)) from {name} x"
        )))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        out.insert(name, sum.unwrap_or_default());
    }
    out
}

fn options() -> AdoptionOptions {
    AdoptionOptions::default()
}

#[tokio::test]
async fn the_dry_run_reports_every_row_and_changes_nothing() {
    let db = original().await;
    let e = expectations();
    let mut conn = db.conn().await;
    let before = fingerprint(&mut conn).await;
    let report = Gym::adoption_plan(&db.url, &options()).await.unwrap();
    assert_eq!(
        fingerprint(&mut conn).await,
        before,
        "the dry run changed something"
    );
    assert!(!report.applied);
    check_accounting(&report, &e);
    check_snapshots(&mut conn, "public.subscriptions", &report).await;
}

fn check_accounting(report: &AdoptionReport, e: &HashMap<String, String>) {
    for t in &report.tables {
        assert_eq!(
            t.before,
            t.adopted + t.set_aside,
            "{}: before = adopted + set aside",
            t.table
        );
        assert_eq!(
            t.before,
            expect_u64(e, &format!("rows_{}", t.table)),
            "{} rows",
            t.table
        );
    }
    assert_eq!(report.tables.len(), 10);
    let payments_total: Decimal = e["payments_total"].parse().unwrap();
    assert_eq!(report.payments_before, payments_total);
    assert_eq!(
        report.payments_adopted + report.payments_set_aside,
        report.payments_before
    );
    assert_eq!(
        report.changes_of("overlap_canceled") as u64,
        expect_u64(e, "overlapping_subscriptions")
    );
    assert_eq!(
        report.set_aside_for("duplicate_attendance") as u64,
        expect_u64(e, "duplicate_attendances")
    );
    assert_eq!(
        report.set_aside_for("payment_exceeds_price") as u64,
        expect_u64(e, "overpaying_payments")
    );
    assert_eq!(
        report.changes_of("stock_adjusted") as u64,
        expect_u64(e, "stock_mismatches")
    );
    assert_eq!(
        report.set_aside_for("no_biometric_consent") as u64,
        expect_u64(e, "biometrics")
    );
    assert_eq!(report.templates_set_aside, expect_u64(e, "biometrics"));
    assert_eq!(
        report.set_aside_for("duplicate_reward") as u64,
        expect_u64(e, "duplicate_rewards")
    );
    let invalid_clients = report
        .set_aside
        .iter()
        .filter(|s| s.table == "clients" && s.reason == "invalid_value")
        .count() as u64;
    assert_eq!(invalid_clients, expect_u64(e, "invalid_clients"));
    // No detail carries a member's data.
    let text = serde_json::to_string(report).unwrap();
    assert!(!text.contains("Gómez") && !text.contains("@"), "{text}");
}

/// Every adopted subscription that had no final price gets a snapshot (a change), and
/// only those: counted from the original's rows in `table`, less the set-aside ones.
async fn check_snapshots(conn: &mut PgConnection, table: &str, report: &AdoptionReport) {
    let aside: Vec<Uuid> = report
        .set_aside
        .iter()
        .filter(|s| s.table == "subscriptions")
        .map(|s| s.id.parse().unwrap())
        .collect();
    let expected: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "select count(*) from {table} where final_price is null and not (id = any($1))"
    )))
    .bind(&aside)
    .fetch_one(conn)
    .await
    .unwrap();
    assert!(expected > 1000, "the fixture has many such subscriptions");
    assert_eq!(report.changes_of("price_snapshot") as i64, expected);
}

#[tokio::test]
async fn adoption_keeps_every_row_or_lists_it_and_the_gym_runs_on_the_result() {
    let db = original().await;
    let e = expectations();
    let plan = Gym::adoption_plan(&db.url, &options()).await.unwrap();
    let report = Gym::adopt(&db.url, &options()).await.unwrap();
    assert!(report.applied);
    assert_eq!(
        report.tables, plan.tables,
        "the dry run foretold the adoption"
    );
    assert_eq!(report.set_aside, plan.set_aside);
    assert_eq!(report.changes, plan.changes);
    check_accounting(&report, &e);

    let mut conn = db.conn().await;
    check_snapshots(&mut conn, "powergym_original.subscriptions", &report).await;
    // Rows in the library's tables are the adopted ones, UUIDs kept.
    for t in &report.tables {
        let ours = match t.table.as_str() {
            "client_biometrics" => "biometrics",
            other => other,
        };
        let n: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!("select count(*) from public.{ours}")))
                .fetch_one(&mut conn)
                .await
                .unwrap();
        let adjustments = if ours == "inventory_movements" {
            report.changes_of("stock_adjusted") as u64
        } else {
            0
        };
        assert_eq!(n as u64, t.adopted + adjustments, "{ours}");
    }
    let kept_ids: i64 = sqlx::query_scalar(
        "select count(*) from public.clients c join powergym_original.clients o using (id)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(kept_ids as u64, report.table("clients").unwrap().adopted);

    // Money: per subscription, adopted + set aside = the original's payments.
    let set_aside_payments: Vec<Uuid> = report
        .set_aside
        .iter()
        .filter(|s| s.table == "payments")
        .map(|s| s.id.parse().unwrap())
        .collect();
    let mismatched: i64 = sqlx::query_scalar(
        "with orig as (select subscription_id, sum(amount) total from powergym_original.payments \
                       group by 1), \
              adopted as (select subscription_id, sum(amount) total from public.payments \
                          group by 1), \
              aside as (select subscription_id, sum(amount) total from powergym_original.payments \
                        where id = any($1) group by 1) \
         select count(*) from orig o \
         left join adopted a using (subscription_id) left join aside s using (subscription_id) \
         where o.total <> coalesce(a.total, 0) + coalesce(s.total, 0)",
    )
    .bind(&set_aside_payments)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(mismatched, 0, "per-subscription payment sums");
    let (ours, theirs): (Decimal, Decimal) = sqlx::query_as(
        "select (select coalesce(sum(amount), 0) from public.payments), \
                (select coalesce(sum(amount), 0) from powergym_original.payments)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(ours + report.payments_set_aside, theirs);

    // Stock agrees with the movements, and with what the original recorded.
    let disagreeing: i64 = sqlx::query_scalar(
        "select count(*) from public.products p \
         join powergym_original.products o using (id) \
         where p.available_quantity <> o.available_quantity \
            or p.available_quantity <> (select coalesce(sum(quantity), 0) \
                                        from public.inventory_movements m where m.product_id = p.id)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(disagreeing, 0);

    // Attendances carry their business date in Bogotá.
    let wrong_day: i64 = sqlx::query_scalar(
        "select count(*) from public.attendances \
         where business_date <> (entry_time at time zone 'America/Bogota')::date",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(wrong_day, 0);

    // The gym runs on it: the schema is current, staff sign in with their passwords.
    let today: NaiveDate = "2026-12-01".parse().unwrap();
    let gym = db.gym_at("2026-12-01T15:00:00Z").await;
    gym.migrations().check().await.unwrap();
    let (admin, _) = gym
        .authenticate("admin", &e["admin_password"])
        .await
        .expect("the original's password verifies");

    // A member with an active, covering subscription checks in by document.
    let member: (String, String) = sqlx::query_as(
        "select c.dni_type::text, c.dni_number from public.clients c \
         join public.subscriptions s on s.client_id = c.id \
         where c.is_active and s.status = 'active' and s.start_date <= $1 and s.end_date >= $1 \
           and (select coalesce(sum(amount), 0) from public.payments p \
                where p.subscription_id = s.id) >= s.final_price \
           and not exists (select 1 from public.attendances a \
                           where a.client_id = c.id and a.business_date = $1) \
         order by c.id limit 1",
    )
    .bind(today)
    .fetch_one(&mut conn)
    .await
    .expect("the fixture has a member who may enter today");
    let doc: DocumentType = member.0.parse().unwrap();
    let outcome = gym
        .check_in_by_document(&admin, doc, &member.1)
        .await
        .unwrap();
    assert!(matches!(outcome, CheckInOutcome::Granted(_)), "{outcome:?}");

    // A partly paid subscription is paid off.
    let (sub_id, balance): (Uuid, Decimal) = sqlx::query_as(
        "select s.id, s.final_price - sum(p.amount) from public.subscriptions s \
         join public.payments p on p.subscription_id = s.id \
         join public.clients c on c.id = s.client_id \
         where s.status in ('pending_payment', 'scheduled') and c.is_active \
         group by s.id having sum(p.amount) < s.final_price order by s.id limit 1",
    )
    .fetch_one(&mut conn)
    .await
    .expect("the fixture has a partly paid subscription");
    let receipt = gym
        .record_payment(
            &admin,
            PaymentInput {
                subscription_id: SubscriptionId::from(sub_id),
                amount: balance,
                method: PaymentMethod::Cash,
                notes: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(receipt.balance.amount(), Decimal::ZERO);

    // A member renews.
    let renewable: Uuid = sqlx::query_scalar(
        "select s.id from public.subscriptions s join public.clients c on c.id = s.client_id \
         join public.plans p on p.id = s.plan_id \
         where c.is_active and p.is_active and s.status in ('active', 'expired') \
           and not exists (select 1 from public.subscriptions later \
                           where later.client_id = s.client_id and later.status <> 'canceled' \
                             and later.end_date > s.end_date) \
         order by s.end_date desc, s.id limit 1",
    )
    .fetch_one(&mut conn)
    .await
    .expect("the fixture has a renewable subscription");
    gym.renew_subscription(&admin, SubscriptionId::from(renewable), None, None)
        .await
        .unwrap();

    // A thumbnail of the original still opens with the original's key.
    let stored: String = sqlx::query_scalar(
        "select thumbnail from powergym_original.client_biometrics \
         where thumbnail is not null limit 1",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let opened =
        powergym_core::face::open_legacy_thumbnail(&stored, &e["thumbnail_key_base64"]).unwrap();
    assert_eq!(hex::encode(opened), e["thumbnail_plaintext_hex"]);

    // Adopting twice is refused, and changes nothing.
    let before = fingerprint(&mut conn).await;
    for result in [
        Gym::adopt(&db.url, &options()).await,
        Gym::adoption_plan(&db.url, &options()).await,
    ] {
        match result {
            Err(Error::Conflict { reason }) => {
                assert!(reason.contains("adopted already"), "{reason}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(fingerprint(&mut conn).await, before);
}

#[tokio::test]
async fn another_revision_or_a_different_schema_is_refused_with_what_differs() {
    let db = original().await;
    let mut conn = db.conn().await;
    sqlx::query("update alembic_version set version_num = '4731e465a2d9'")
        .execute(&mut conn)
        .await
        .unwrap();
    match Gym::adoption_plan(&db.url, &options()).await {
        Err(Error::Conflict { reason }) => {
            assert!(
                reason.contains("4731e465a2d9") && reason.contains("alembic upgrade head"),
                "{reason}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    sqlx::raw_sql(
        "update alembic_version set version_num = '5ca3a67ca896'; \
         alter table clients drop column address; \
         alter table plans add column colour text;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let before = fingerprint(&mut conn).await;
    match Gym::adopt(&db.url, &options()).await {
        Err(Error::Conflict { reason }) => {
            assert!(
                reason.contains("column clients.address is missing"),
                "{reason}"
            );
            assert!(reason.contains("plans.colour"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(fingerprint(&mut conn).await, before);

    // An empty database is not the original's.
    let empty = TestDb::new().await;
    assert!(matches!(
        Gym::adoption_plan(&empty.url, &options()).await,
        Err(Error::Conflict { .. })
    ));
}

#[tokio::test]
async fn a_fresh_original_install_adopts_to_an_empty_gym() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let sql = std::fs::read_to_string(fixture_dir().join("schema.sql")).unwrap();
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    let report = Gym::adopt(&db.url, &options()).await.unwrap();
    assert!(
        report
            .tables
            .iter()
            .all(|t| t.before == 0 && t.adopted == 0)
    );
    assert_eq!(report.payments_before, Decimal::ZERO);
    let gym = db.gym().await;
    gym.migrations().check().await.unwrap();
    gym.bootstrap_admin("admin", "a-new-admin-pw")
        .await
        .unwrap();
}
