//! Adoption's SQL: recognising the original's schema, reading its rows, moving it aside
//! into `powergym_original`, migrating, and writing the adopted rows, all in one
//! transaction (rolled back for the dry run). The decisions are `adopt::rules`'.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use uuid::Uuid;

use crate::adopt::rules::{self, Findings};
use crate::adopt::{
    AdoptionOptions, AdoptionReport, ORIGINAL_REVISION, ORIGINAL_SCHEMA, TableAccount,
};
use crate::domain::inventory::ProductInput;
use crate::error::{Error, Result};
use crate::store::postgres::errors;

/// The original's tables, in the order their rows are accounted for.
const TABLES: [&str; 10] = [
    "users",
    "clients",
    "plans",
    "subscriptions",
    "payments",
    "attendances",
    "products",
    "inventory_movements",
    "rewards",
    "client_biometrics",
];

/// The original's enum types and their labels (spec §1.2).
const ENUMS: [(&str, &[&str]); 10] = [
    ("user_role_enum", &["ADMIN", "EMPLOYEE"]),
    ("document_type_enum", &["CC", "TI", "CE", "PP"]),
    ("gender_type_enum", &["MALE", "FEMALE", "OTHER"]),
    ("biometric_type_enum", &["FACE", "FINGERPRINT"]),
    ("duration_type_enum", &["DAY", "WEEK", "MONTH", "YEAR"]),
    (
        "subscription_status_enum",
        &[
            "ACTIVE",
            "EXPIRED",
            "PENDING_PAYMENT",
            "SCHEDULED",
            "CANCELED",
        ],
    ),
    ("payment_method_enum", &["CASH", "QR"]),
    (
        "stock_status_enum",
        &["NORMAL", "LOW_STOCK", "STOCK_OUT", "OVERSTOCK"],
    ),
    ("inventory_movement_enum", &["ENTRY", "EXIT"]),
    ("reward_status_enum", &["PENDING", "APPLIED", "EXPIRED"]),
];

/// The original's columns at `5ca3a67ca896` (spec §1.3): table, column, type, nullable.
const COLUMNS: &[(&str, &str, &str, bool)] = &[
    ("users", "username", "varchar", false),
    ("users", "email", "varchar", true),
    ("users", "full_name", "varchar", true),
    ("users", "hashed_password", "varchar", false),
    ("users", "role", "user_role_enum", false),
    ("users", "disabled", "bool", false),
    ("users", "created_at", "timestamptz", false),
    ("users", "updated_at", "timestamptz", false),
    ("clients", "id", "uuid", false),
    ("clients", "dni_type", "document_type_enum", false),
    ("clients", "dni_number", "varchar", false),
    ("clients", "first_name", "varchar", false),
    ("clients", "middle_name", "varchar", true),
    ("clients", "last_name", "varchar", false),
    ("clients", "second_last_name", "varchar", true),
    ("clients", "phone", "varchar", false),
    ("clients", "alternative_phone", "varchar", true),
    ("clients", "birth_date", "date", false),
    ("clients", "gender", "gender_type_enum", false),
    ("clients", "address", "varchar", true),
    ("clients", "is_active", "bool", false),
    ("clients", "meta_info", "json", false),
    ("clients", "created_at", "timestamptz", false),
    ("clients", "updated_at", "timestamptz", false),
    ("client_biometrics", "id", "uuid", false),
    ("client_biometrics", "client_id", "uuid", false),
    ("client_biometrics", "type", "biometric_type_enum", false),
    ("client_biometrics", "thumbnail", "text", true),
    ("client_biometrics", "embedding_vector", "vector", true),
    ("client_biometrics", "is_active", "bool", false),
    ("client_biometrics", "meta_info", "json", false),
    ("client_biometrics", "created_at", "timestamptz", false),
    ("client_biometrics", "updated_at", "timestamptz", false),
    ("attendances", "id", "uuid", false),
    ("attendances", "client_id", "uuid", false),
    ("attendances", "check_in", "timestamptz", false),
    ("attendances", "meta_info", "json", false),
    ("plans", "id", "uuid", false),
    ("plans", "name", "text", false),
    ("plans", "slug", "text", true),
    ("plans", "description", "text", true),
    ("plans", "price", "numeric", false),
    ("plans", "currency", "varchar", false),
    ("plans", "duration_unit", "duration_type_enum", false),
    ("plans", "duration_count", "int4", false),
    ("plans", "is_active", "bool", false),
    ("plans", "meta_info", "json", false),
    ("plans", "created_at", "timestamptz", false),
    ("plans", "updated_at", "timestamptz", false),
    ("subscriptions", "id", "uuid", false),
    ("subscriptions", "client_id", "uuid", false),
    ("subscriptions", "plan_id", "uuid", false),
    ("subscriptions", "start_date", "date", false),
    ("subscriptions", "end_date", "date", false),
    ("subscriptions", "status", "subscription_status_enum", false),
    ("subscriptions", "cancellation_date", "date", true),
    ("subscriptions", "cancellation_reason", "text", true),
    ("subscriptions", "final_price", "numeric", true),
    ("subscriptions", "meta_info", "json", false),
    ("subscriptions", "created_at", "timestamptz", false),
    ("subscriptions", "updated_at", "timestamptz", false),
    ("payments", "id", "uuid", false),
    ("payments", "subscription_id", "uuid", false),
    ("payments", "amount", "numeric", false),
    ("payments", "payment_method", "payment_method_enum", false),
    ("payments", "payment_date", "timestamptz", false),
    ("payments", "meta_info", "json", false),
    ("products", "id", "uuid", false),
    ("products", "name", "varchar", false),
    ("products", "description", "text", true),
    ("products", "capacity_value", "numeric", false),
    ("products", "unit_type", "varchar", false),
    ("products", "price", "numeric", false),
    ("products", "is_active", "bool", false),
    ("products", "currency", "varchar", false),
    ("products", "photo_url", "varchar", true),
    ("products", "available_quantity", "numeric", false),
    ("products", "min_stock", "numeric", false),
    ("products", "max_stock", "numeric", true),
    ("products", "stock_status", "stock_status_enum", false),
    ("products", "created_at", "timestamptz", false),
    ("products", "updated_at", "timestamptz", false),
    ("products", "meta_info", "json", false),
    ("inventory_movements", "id", "uuid", false),
    ("inventory_movements", "product_id", "uuid", false),
    (
        "inventory_movements",
        "movement_type",
        "inventory_movement_enum",
        false,
    ),
    ("inventory_movements", "quantity", "numeric", false),
    ("inventory_movements", "movement_date", "timestamptz", false),
    ("inventory_movements", "responsible", "varchar", true),
    ("inventory_movements", "notes", "text", true),
    ("inventory_movements", "created_at", "timestamptz", false),
    ("inventory_movements", "meta_info", "json", false),
    ("rewards", "id", "uuid", false),
    ("rewards", "subscription_id", "uuid", false),
    ("rewards", "client_id", "uuid", false),
    ("rewards", "attendance_count", "int4", false),
    ("rewards", "discount_percentage", "numeric", false),
    ("rewards", "eligible_date", "date", false),
    ("rewards", "expires_at", "timestamptz", false),
    ("rewards", "status", "reward_status_enum", false),
    ("rewards", "applied_at", "timestamptz", true),
    ("rewards", "applied_subscription_id", "uuid", true),
    ("rewards", "created_at", "timestamptz", false),
    ("rewards", "updated_at", "timestamptz", false),
    ("rewards", "meta_info", "json", false),
];

/// The original's `json` meta_info as our `jsonb` object (a non-object is wrapped).
const META: &str = "case when json_typeof(o.meta_info) = 'object' then o.meta_info::jsonb \
                    else jsonb_build_object('original', o.meta_info::jsonb) end";

fn db(e: sqlx::Error) -> Error {
    errors::map(e)
}

fn refused(reason: String) -> Error {
    Error::Conflict { reason }
}

/// Recognises the original at its head revision, or says what differs.
async fn recognise(conn: &mut PgConnection) -> Result<String> {
    let (alembic, ours, kept): (bool, bool, bool) = sqlx::query_as(
        "select to_regclass('public.alembic_version') is not null, \
                to_regclass('public.powergym_schema_migrations') is not null, \
                exists (select 1 from pg_namespace where nspname = $1)",
    )
    .bind(ORIGINAL_SCHEMA)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    if ours || kept {
        return Err(refused(
            "this database was adopted already (it has PowerGym's migration history or the \
             powergym_original schema); nothing to do"
                .into(),
        ));
    }
    if !alembic {
        return Err(refused(
            "not a database of the original PowerGym backend: it has no alembic_version table"
                .into(),
        ));
    }
    let revisions: Vec<String> =
        sqlx::query_scalar("select version_num::text from alembic_version")
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
    if revisions != [ORIGINAL_REVISION] {
        return Err(refused(format!(
            "the original database is at Alembic revision {}, not {ORIGINAL_REVISION}: \
             bring it to head with the original backend (`alembic upgrade head`) first",
            if revisions.is_empty() {
                "none".to_owned()
            } else {
                revisions.join(", ")
            }
        )));
    }
    let mut differences = Vec::new();
    let found: Vec<(String, String, String, String)> = sqlx::query_as(
        "select table_name::text, column_name::text, udt_name::text, is_nullable::text \
         from information_schema.columns where table_schema = 'public' \
           and table_name = any($1)",
    )
    .bind(TABLES.as_slice())
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let found: BTreeMap<(String, String), (String, bool)> = found
        .into_iter()
        .map(|(t, c, u, n)| ((t, c), (u, n == "YES")))
        .collect();
    for table in TABLES {
        if !found.keys().any(|(t, _)| t == table) {
            differences.push(format!("table {table} is missing"));
        }
    }
    for (table, column, udt, nullable) in COLUMNS {
        match found.get(&((*table).to_owned(), (*column).to_owned())) {
            None if found.keys().any(|(t, _)| t == table) => {
                differences.push(format!("column {table}.{column} is missing"))
            }
            None => {}
            Some((u, n)) if u != udt || n != nullable => differences.push(format!(
                "column {table}.{column} is {u}{} (expected {udt}{})",
                if *n { " null" } else { " not null" },
                if *nullable { " null" } else { " not null" }
            )),
            Some(_) => {}
        }
    }
    for (table, column) in found.keys() {
        if !COLUMNS.iter().any(|(t, c, _, _)| t == table && c == column) {
            differences.push(format!(
                "column {table}.{column} is not in the original's schema (its data would be lost)"
            ));
        }
    }
    let labels: Vec<(String, Vec<String>)> = sqlx::query_as(
        "select t.typname::text, array_agg(e.enumlabel::text order by e.enumsortorder) \
         from pg_type t join pg_enum e on e.enumtypid = t.oid \
         join pg_namespace n on n.oid = t.typnamespace \
         where n.nspname = 'public' group by t.typname",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let labels: BTreeMap<String, Vec<String>> = labels.into_iter().collect();
    for (name, want) in ENUMS {
        match labels.get(name) {
            None => differences.push(format!("enum type {name} is missing")),
            Some(got) if got != want => differences.push(format!(
                "enum type {name} has labels {} (expected {})",
                got.join(", "),
                want.join(", ")
            )),
            Some(_) => {}
        }
    }
    if !differences.is_empty() {
        return Err(refused(format!(
            "the database differs from the original's schema at {ORIGINAL_REVISION}: {}",
            differences.join("; ")
        )));
    }
    Ok(ORIGINAL_REVISION.to_owned())
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: Uuid,
    dni_type: String,
    dni_number: String,
    first_name: String,
    middle_name: Option<String>,
    last_name: String,
    second_last_name: Option<String>,
    phone: String,
    alternative_phone: Option<String>,
    birth_date: NaiveDate,
    gender: String,
    address: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: Uuid,
    name: String,
    slug: Option<String>,
    description: Option<String>,
    price: Decimal,
    currency: String,
    duration_unit: String,
    duration_count: i32,
}

#[derive(sqlx::FromRow)]
struct SubscriptionRow {
    id: Uuid,
    client_id: Uuid,
    plan_id: Uuid,
    start_date: NaiveDate,
    end_date: NaiveDate,
    status: String,
    cancellation_date: Option<NaiveDate>,
    final_price: Option<Decimal>,
    original_price: Option<String>,
    discount_percentage: Option<String>,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: Uuid,
    name: String,
    description: Option<String>,
    capacity_value: Decimal,
    unit_type: String,
    price: Decimal,
    currency: String,
    photo_url: Option<String>,
    min_stock: Decimal,
    max_stock: Option<Decimal>,
    available_quantity: Decimal,
}

#[derive(sqlx::FromRow)]
struct RewardRow {
    id: Uuid,
    subscription_id: Uuid,
    client_id: Uuid,
    eligible_date: NaiveDate,
    expires_at: DateTime<Utc>,
    status: String,
    applied_at: Option<DateTime<Utc>>,
    applied_subscription_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A decimal the original wrote into JSON as a float (`72000.0`), read exactly.
fn json_decimal(s: Option<String>) -> Option<Decimal> {
    s.and_then(|s| {
        s.parse::<Decimal>()
            .ok()
            .or_else(|| Decimal::from_scientific(&s).ok())
    })
    .map(crate::domain::money::round_cents)
}

/// Adoption as a boxed `Send` future owning its arguments, which the bindings hand to
/// their runtimes as it is.
pub(crate) type Adoption =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<AdoptionReport>> + Send>>;

/// Runs the adoption of the database at `url`; commits only when `apply`.
pub(crate) fn run(url: &str, options: &AdoptionOptions, apply: bool) -> Adoption {
    let url = url.to_owned();
    let options = options.clone();
    Box::pin(async move { run_owned(&url, &options, apply).await })
}

async fn run_owned(url: &str, options: &AdoptionOptions, apply: bool) -> Result<AdoptionReport> {
    let connect = crate::gym::parse_url(url)?;
    let mut conn = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        PgConnection::connect_with(&connect),
    )
    .await
    .map_err(|_| Error::ConnectionFailed {
        reason: "the server did not answer in time: check the host, port and firewall".into(),
    })?
    .map_err(db)?;
    let mut tx = conn.begin().await.map_err(db)?;
    // Nobody may write to the original while it is read and moved.
    sqlx::query("set local lock_timeout = '10s'")
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let revision = recognise(&mut tx).await?;
    // The original's tables are held against writes from here on (reads go on), so no
    // row written by a running original backend can slip past the counts; and no
    // PowerGym migration runs meanwhile. Both are released at commit or rollback.
    sqlx::raw_sql(AssertSqlSafe(format!(
        "lock table {} in exclusive mode",
        TABLES.join(", ")
    )))
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(crate::migrate::LOCK_KEY)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let report = adopt_in(&mut tx, revision, options).await?;
    if apply {
        tx.commit().await.map_err(db)?;
    } else {
        tx.rollback().await.map_err(db)?;
    }
    let _ = conn.close().await;
    Ok(AdoptionReport {
        applied: apply,
        ..report
    })
}

async fn count(conn: &mut PgConnection, schema: &str, table: &str) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "select count(*) from {schema}.{table}"
    )))
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

async fn adopt_in(
    conn: &mut PgConnection,
    revision: String,
    options: &AdoptionOptions,
) -> Result<AdoptionReport> {
    let calendar = options.calendar;
    let today = calendar.date_of(Utc::now());
    let mut before = BTreeMap::new();
    for table in TABLES {
        before.insert(table, count(conn, "public", table).await?);
    }
    let payments_before: Decimal =
        sqlx::query_scalar("select coalesce(sum(amount), 0)::numeric from public.payments")
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;

    // Read what the decisions need.
    let users: Vec<(String, Option<String>)> = sqlx::query_as(
        "select username::text, email::text from public.users order by created_at, username",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let users: Vec<rules::RawUser> = users
        .into_iter()
        .map(|(username, email)| rules::RawUser { username, email })
        .collect();
    let clients: Vec<ClientRow> = sqlx::query_as(
        "select id, dni_type::text, dni_number, first_name, middle_name, last_name, \
                second_last_name, phone, alternative_phone, birth_date, gender::text, address \
         from public.clients order by created_at, id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let plans: Vec<PlanRow> = sqlx::query_as(
        "select id, name, slug, description, price, currency::text, duration_unit::text, \
                duration_count from public.plans order by created_at, id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let subs: Vec<SubscriptionRow> = sqlx::query_as(
        "select id, client_id, plan_id, start_date, end_date, status::text, cancellation_date, \
                final_price, meta_info->>'original_price' as original_price, \
                meta_info->>'discount_percentage' as discount_percentage, created_at \
         from public.subscriptions",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let payments: Vec<(Uuid, Uuid, Decimal, DateTime<Utc>)> =
        sqlx::query_as("select id, subscription_id, amount, payment_date from public.payments")
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
    let attendances: Vec<(Uuid, Uuid, DateTime<Utc>)> =
        sqlx::query_as("select id, client_id, check_in from public.attendances")
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
    let products: Vec<ProductRow> = sqlx::query_as(
        "select id, name::text, description, capacity_value, unit_type::text, price, \
                currency::text, photo_url::text, min_stock, max_stock, available_quantity \
         from public.products order by created_at, id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let movements: Vec<(Uuid, Uuid, Decimal, Option<String>)> = sqlx::query_as(
        "select id, product_id, quantity, responsible::text from public.inventory_movements",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let rewards: Vec<RewardRow> = sqlx::query_as(
        "select id, subscription_id, client_id, eligible_date, expires_at, status::text, \
                applied_at, applied_subscription_id, created_at, updated_at from public.rewards",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let templates: Vec<Uuid> =
        sqlx::query_scalar("select id from public.client_biometrics order by id")
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;

    // Decide.
    let mut f = Findings::default();
    let users = rules::adopt_users(&users, &mut f);
    let raw_clients: Vec<rules::RawClient> = clients
        .into_iter()
        .map(|c| rules::RawClient {
            id: c.id,
            document_type: c.dni_type,
            document_number: c.dni_number,
            first_name: c.first_name,
            middle_name: c.middle_name,
            last_name: c.last_name,
            second_last_name: c.second_last_name,
            phone: c.phone,
            alternative_phone: c.alternative_phone,
            birth_date: c.birth_date,
            gender: c.gender,
            address: c.address,
        })
        .collect();
    let clients = rules::adopt_clients(&raw_clients, today, &mut f);
    let raw_plans: Vec<rules::RawPlan> = plans
        .into_iter()
        .map(|p| rules::RawPlan {
            id: p.id,
            name: p.name,
            slug: p.slug,
            description: p.description,
            price: p.price,
            currency: p.currency,
            duration_unit: p.duration_unit,
            duration_count: p.duration_count,
        })
        .collect();
    let plans = rules::adopt_plans(&raw_plans, &mut f);
    let raw_subs: Vec<rules::RawSubscription> = subs
        .into_iter()
        .map(|s| rules::RawSubscription {
            id: s.id,
            client_id: s.client_id,
            plan_id: s.plan_id,
            start_date: s.start_date,
            end_date: s.end_date,
            status: s.status,
            cancellation_date: s.cancellation_date,
            final_price: s.final_price,
            meta_original_price: json_decimal(s.original_price),
            meta_discount: json_decimal(s.discount_percentage),
            created_at: s.created_at,
        })
        .collect();
    let subs = rules::adopt_subscriptions(&raw_subs, &clients, &plans, today, &calendar, &mut f);
    let raw_payments: Vec<rules::RawPayment> = payments
        .iter()
        .map(|(id, sub, amount, at)| rules::RawPayment {
            id: *id,
            subscription_id: *sub,
            amount: *amount,
            payment_date: *at,
        })
        .collect();
    let kept_payments = rules::adopt_payments(&raw_payments, &subs, &mut f);
    let raw_attendances: Vec<rules::RawAttendance> = attendances
        .iter()
        .map(|(id, client, at)| rules::RawAttendance {
            id: *id,
            client_id: *client,
            check_in: *at,
        })
        .collect();
    let kept_attendances = rules::adopt_attendances(&raw_attendances, &clients, &calendar, &mut f);
    let recorded: BTreeMap<Uuid, (Decimal, Option<String>)> = products
        .iter()
        .map(|p| (p.id, (p.available_quantity, None)))
        .collect();
    let raw_products: Vec<rules::RawProduct> = products
        .into_iter()
        .map(|p| rules::RawProduct {
            id: p.id,
            input: ProductInput {
                name: p.name,
                description: p.description,
                capacity_value: p.capacity_value,
                unit_type: p.unit_type,
                price: p.price,
                currency: Some(p.currency),
                photo_url: p.photo_url,
                min_stock: Some(p.min_stock),
                max_stock: p.max_stock,
            },
        })
        .collect();
    let products = rules::adopt_products(&raw_products, &mut f);
    let mut sums: BTreeMap<Uuid, Decimal> = BTreeMap::new();
    let mut kept_movements = Vec::new();
    for (id, product, quantity, responsible) in &movements {
        if !products.contains_key(product) {
            f.set_aside.push(crate::adopt::SetAside {
                table: "inventory_movements",
                id: id.to_string(),
                reason: "product_set_aside",
                detail: "its product was set aside".into(),
            });
            continue;
        }
        if responsible.as_ref().is_some_and(|r| !users.contains_key(r)) {
            f.changes.push(crate::adopt::Change {
                table: "inventory_movements",
                id: id.to_string(),
                kind: "staff_unlinked",
                detail: "its responsible account was not adopted; left empty".into(),
            });
        }
        *sums.entry(*product).or_default() += *quantity;
        kept_movements.push(*id);
    }
    let mut adjustments = Vec::new();
    for id in products.keys() {
        let recorded_qty = recorded[id].0;
        let sum = sums.get(id).copied().unwrap_or_default();
        if let Some(diff) = rules::stock_adjustment(recorded_qty, sum) {
            f.changes.push(crate::adopt::Change {
                table: "products",
                id: id.to_string(),
                kind: "stock_adjusted",
                detail: format!(
                    "the original recorded a stock of {recorded_qty} but its movements add up to \
                     {sum}: an adjustment of {diff} was recorded so both agree"
                ),
            });
            adjustments.push((*id, diff));
        }
    }
    let raw_rewards: Vec<rules::RawReward> = rewards
        .into_iter()
        .map(|r| rules::RawReward {
            id: r.id,
            subscription_id: r.subscription_id,
            client_id: r.client_id,
            eligible_date: r.eligible_date,
            expires_at: r.expires_at,
            status: r.status,
            applied_at: r.applied_at,
            applied_subscription_id: r.applied_subscription_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect();
    let kept_rewards = rules::adopt_rewards(&raw_rewards, &clients, &subs, &calendar, &mut f);
    for id in &templates {
        f.set_aside.push(crate::adopt::SetAside {
            table: "client_biometrics",
            id: id.to_string(),
            reason: "no_biometric_consent",
            detail: "the original recorded no biometric consent, which the library requires; \
                     the member enrols again under consent (the row stays in powergym_original)"
                .into(),
        });
    }

    // Move the original aside and build the library's schema beside it.
    move_original(conn).await?;
    crate::migrate::run_on(conn).await?;

    // Write.
    let mut written: BTreeMap<&str, u64> = BTreeMap::new();
    written.insert("users", write_users(conn, users.clone()).await?);
    written.insert("clients", write_clients(conn, clients).await?);
    written.insert("plans", write_plans(conn, plans).await?);
    written.insert("subscriptions", write_subscriptions(conn, subs).await?);
    written.insert("payments", write_payments(conn, kept_payments).await?);
    written.insert(
        "attendances",
        write_attendances(conn, &kept_attendances).await?,
    );
    let (products_written, movements_written) =
        write_inventory(conn, products, kept_movements, users, adjustments).await?;
    written.insert("products", products_written);
    written.insert("inventory_movements", movements_written);
    written.insert("rewards", write_rewards(conn, kept_rewards).await?);
    written.insert("client_biometrics", 0);

    // Every row is adopted or listed: check it, so a bug cannot drop one silently.
    let mut tables = Vec::new();
    for table in TABLES {
        let set_aside = f.set_aside.iter().filter(|s| s.table == table).count() as u64;
        let adopted = written[table];
        if adopted + set_aside != before[table] {
            return Err(Error::Database {
                code: None,
                message: format!(
                    "adoption accounting of {table} does not add up ({} before, {adopted} \
                     adopted, {set_aside} set aside); nothing was changed",
                    before[table]
                ),
            });
        }
        tables.push(TableAccount {
            table: table.to_owned(),
            before: before[table],
            adopted,
            set_aside,
        });
    }
    let payments_adopted: Decimal =
        sqlx::query_scalar("select coalesce(sum(amount), 0)::numeric from public.payments")
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
    let set_aside_ids: BTreeSet<String> = f
        .set_aside
        .iter()
        .filter(|s| s.table == "payments")
        .map(|s| s.id.clone())
        .collect();
    let payments_set_aside: Decimal = payments
        .iter()
        .filter(|(id, ..)| set_aside_ids.contains(&id.to_string()))
        .map(|(_, _, amount, _)| *amount)
        .sum();
    if payments_adopted + payments_set_aside != payments_before {
        return Err(Error::Database {
            code: None,
            message: "adoption accounting of payment amounts does not add up; nothing was \
                      changed"
                .into(),
        });
    }
    Ok(AdoptionReport {
        revision,
        applied: false,
        schema_version: crate::migrate::latest_version(),
        tables,
        templates_set_aside: templates.len() as u64,
        set_aside: f.set_aside,
        changes: f.changes,
        payments_before,
        payments_adopted,
        payments_set_aside,
    })
}

/// Moves the original's tables, enum types and functions into `powergym_original`, where
/// they stay as they were.
async fn move_original(conn: &mut PgConnection) -> Result<()> {
    let mut sql = format!("create schema {ORIGINAL_SCHEMA};");
    for table in TABLES.iter().chain(["alembic_version"].iter()) {
        sql.push_str(&format!(
            "alter table public.{table} set schema {ORIGINAL_SCHEMA};"
        ));
    }
    for (name, _) in ENUMS {
        sql.push_str(&format!(
            "alter type public.{name} set schema {ORIGINAL_SCHEMA};"
        ));
    }
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    // The original's trigger functions; an extension's (pgvector's) stay.
    let functions: Vec<String> = sqlx::query_scalar(
        "select p.oid::regprocedure::text from pg_proc p \
         join pg_namespace n on n.oid = p.pronamespace \
         where n.nspname = 'public' \
           and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    for f in functions {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "alter function {f} set schema {ORIGINAL_SCHEMA}"
        )))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(())
}

async fn write_users(
    conn: &mut PgConnection,
    users: BTreeMap<String, (String, Option<String>)>,
) -> Result<u64> {
    let orig: Vec<String> = users.keys().cloned().collect();
    let names: Vec<String> = users.values().map(|(n, _)| n.clone()).collect();
    let emails: Vec<Option<String>> = users.values().map(|(_, e)| e.clone()).collect();
    let done = sqlx::query(
        "insert into public.users (username, email, full_name, hashed_password, role, disabled, \
                                   created_at, updated_at) \
         select n.username, n.email, left(o.full_name, 200), o.hashed_password, \
                lower(o.role::text)::public.user_role_enum, o.disabled, o.created_at, o.updated_at \
         from unnest($1::text[], $2::text[], $3::text[]) as n(orig, username, email) \
         join powergym_original.users o on o.username = n.orig",
    )
    .bind(orig)
    .bind(names)
    .bind(emails)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected())
}

async fn write_clients(
    conn: &mut PgConnection,
    clients: BTreeMap<Uuid, crate::domain::client::NewClient>,
) -> Result<u64> {
    let ids: Vec<Uuid> = clients.keys().copied().collect();
    let c: Vec<&crate::domain::client::NewClient> = clients.values().collect();
    let arg1 = c
        .iter()
        .map(|c| c.document_type.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg2 = c
        .iter()
        .map(|c| c.document_number.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg3 = c
        .iter()
        .map(|c| c.first_name.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg4 = c
        .iter()
        .map(|c| c.middle_name.as_ref().map(|n| n.as_str().to_owned()))
        .collect::<Vec<_>>();
    let arg5 = c
        .iter()
        .map(|c| c.last_name.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg6 = c
        .iter()
        .map(|c| c.second_last_name.as_ref().map(|n| n.as_str().to_owned()))
        .collect::<Vec<_>>();
    let arg7 = c
        .iter()
        .map(|c| c.phone.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg8 = c
        .iter()
        .map(|c| c.alternative_phone.as_ref().map(|n| n.as_str().to_owned()))
        .collect::<Vec<_>>();
    let arg9 = c.iter().map(|c| c.birth_date.date()).collect::<Vec<_>>();
    let arg10 = c
        .iter()
        .map(|c| c.gender.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg11 = c.iter().map(|c| c.address.clone()).collect::<Vec<_>>();
    let done = sqlx::query(AssertSqlSafe(format!(
        "insert into public.clients (id, dni_type, dni_number, first_name, middle_name, \
             last_name, second_last_name, phone, alternative_phone, birth_date, gender, address, \
             is_active, meta_info, created_at, updated_at) \
         select o.id, n.dni_type::public.document_type_enum, n.dni_number, n.first_name, \
                n.middle_name, n.last_name, n.second_last_name, n.phone, n.alternative_phone, \
                n.birth_date, n.gender::public.gender_type_enum, n.address, o.is_active, {META}, \
                o.created_at, o.updated_at \
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                     $7::text[], $8::text[], $9::text[], $10::date[], $11::text[], $12::text[]) \
              as n(id, dni_type, dni_number, first_name, middle_name, last_name, \
                   second_last_name, phone, alternative_phone, birth_date, gender, address) \
         join powergym_original.clients o on o.id = n.id"
    )))
    .bind(ids)
    .bind(arg1)
    .bind(arg2)
    .bind(arg3)
    .bind(arg4)
    .bind(arg5)
    .bind(arg6)
    .bind(arg7)
    .bind(arg8)
    .bind(arg9)
    .bind(arg10)
    .bind(arg11)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected())
}

async fn write_plans(
    conn: &mut PgConnection,
    plans: BTreeMap<Uuid, crate::domain::plan::NewPlan>,
) -> Result<u64> {
    let ids: Vec<Uuid> = plans.keys().copied().collect();
    let p: Vec<&crate::domain::plan::NewPlan> = plans.values().collect();
    let arg12 = p
        .iter()
        .map(|p| p.name.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg13 = p.iter().map(|p| p.slug.clone()).collect::<Vec<_>>();
    let arg14 = p.iter().map(|p| p.description.clone()).collect::<Vec<_>>();
    let arg15 = p.iter().map(|p| p.price.amount()).collect::<Vec<_>>();
    let arg16 = p
        .iter()
        .map(|p| p.currency.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg17 = p
        .iter()
        .map(|p| p.duration.unit().as_str().to_owned())
        .collect::<Vec<_>>();
    let arg18 = p
        .iter()
        .map(|p| i32::try_from(p.duration.count()).unwrap_or(i32::MAX))
        .collect::<Vec<_>>();
    let done = sqlx::query(AssertSqlSafe(format!(
        "insert into public.plans (id, name, slug, description, price, currency, duration_unit, \
             duration_count, is_active, meta_info, created_at, updated_at) \
         select o.id, n.name, n.slug, n.description, n.price, n.currency, \
                n.unit::public.duration_type_enum, n.count, o.is_active, {META}, o.created_at, \
                o.updated_at \
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[], \
                     $7::text[], $8::int4[]) \
              as n(id, name, slug, description, price, currency, unit, count) \
         join powergym_original.plans o on o.id = n.id"
    )))
    .bind(ids)
    .bind(arg12)
    .bind(arg13)
    .bind(arg14)
    .bind(arg15)
    .bind(arg16)
    .bind(arg17)
    .bind(arg18)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected())
}

async fn write_subscriptions(
    conn: &mut PgConnection,
    subs: BTreeMap<Uuid, rules::AdoptedSubscription>,
) -> Result<u64> {
    let ids: Vec<Uuid> = subs.keys().copied().collect();
    let s: Vec<&rules::AdoptedSubscription> = subs.values().collect();
    let arg19 = s
        .iter()
        .map(|s| s.status.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg20 = s.iter().map(|s| s.list_price).collect::<Vec<_>>();
    let arg21 = s.iter().map(|s| s.discount).collect::<Vec<_>>();
    let arg22 = s.iter().map(|s| s.final_price).collect::<Vec<_>>();
    let arg23 = s.iter().map(|s| s.cancellation_date).collect::<Vec<_>>();
    let arg24 = s
        .iter()
        .map(|s| s.cancellation_reason.clone())
        .collect::<Vec<_>>();
    let done = sqlx::query(AssertSqlSafe(format!(
        "insert into public.subscriptions (id, client_id, plan_id, start_date, end_date, status, \
             list_price, discount_percentage, final_price, currency, cancellation_date, \
             cancellation_reason, meta_info, created_at, updated_at) \
         select o.id, o.client_id, o.plan_id, o.start_date, o.end_date, \
                n.status::public.subscription_status_enum, n.list_price, n.discount, \
                n.final_price, p.currency, n.cancellation_date, \
                coalesce(n.reason, o.cancellation_reason), {META}, o.created_at, o.updated_at \
         from unnest($1::uuid[], $2::text[], $3::numeric[], $4::numeric[], $5::numeric[], \
                     $6::date[], $7::text[]) \
              as n(id, status, list_price, discount, final_price, cancellation_date, reason) \
         join powergym_original.subscriptions o on o.id = n.id \
         join public.plans p on p.id = o.plan_id"
    )))
    .bind(ids)
    .bind(arg19)
    .bind(arg20)
    .bind(arg21)
    .bind(arg22)
    .bind(arg23)
    .bind(arg24)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected())
}

async fn write_payments(conn: &mut PgConnection, kept: BTreeSet<Uuid>) -> Result<u64> {
    let ids: Vec<Uuid> = kept.iter().copied().collect();
    let done = sqlx::query(AssertSqlSafe(format!(
        "insert into public.payments (id, subscription_id, amount, payment_method, payment_date, \
             meta_info) \
         select o.id, o.subscription_id, o.amount, \
                lower(o.payment_method::text)::public.payment_method_enum, o.payment_date, {META} \
         from powergym_original.payments o where o.id = any($1) \
         order by o.payment_date, o.id"
    )))
    .bind(ids)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected())
}

async fn write_attendances(
    conn: &mut PgConnection,
    kept: &BTreeMap<Uuid, NaiveDate>,
) -> Result<u64> {
    let ids: Vec<Uuid> = kept.keys().copied().collect();
    let days: Vec<NaiveDate> = kept.values().copied().collect();
    // The original recorded `authenticated_by` only on face check-ins (spec §1.3).
    let done = sqlx::query(AssertSqlSafe(format!(
        "insert into public.attendances (id, client_id, entry_time, business_date, method, \
             meta_info) \
         select o.id, o.client_id, o.check_in, n.day, \
                case when o.meta_info::jsonb ? 'authenticated_by' then 'face' else 'manual' end \
                    ::public.check_in_method_enum, {META} \
         from unnest($1::uuid[], $2::date[]) as n(id, day) \
         join powergym_original.attendances o on o.id = n.id"
    )))
    .bind(ids)
    .bind(days)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected())
}

/// Products (with no stock yet), their movements as they were, an adjustment where the
/// original's stock and movements disagree, then the recorded stock and active flag.
/// The movement trigger is off meanwhile: replaying history through it could pass
/// below zero where the original's stock was once set by hand.
async fn write_inventory(
    conn: &mut PgConnection,
    products: BTreeMap<Uuid, crate::domain::inventory::NewProduct>,
    kept_movements: Vec<Uuid>,
    users: BTreeMap<String, (String, Option<String>)>,
    adjustments: Vec<(Uuid, Decimal)>,
) -> Result<(u64, u64)> {
    let ids: Vec<Uuid> = products.keys().copied().collect();
    let p: Vec<&crate::domain::inventory::NewProduct> = products.values().collect();
    let arg25 = p
        .iter()
        .map(|p| p.name.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg26 = p.iter().map(|p| p.description.clone()).collect::<Vec<_>>();
    let arg27 = p.iter().map(|p| p.capacity_value).collect::<Vec<_>>();
    let arg28 = p
        .iter()
        .map(|p| p.unit_type.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg29 = p.iter().map(|p| p.price.amount()).collect::<Vec<_>>();
    let arg30 = p
        .iter()
        .map(|p| p.currency.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg31 = p.iter().map(|p| p.photo_url.clone()).collect::<Vec<_>>();
    let arg32 = p
        .iter()
        .map(|p| p.limits.min_stock().value())
        .collect::<Vec<_>>();
    let arg33 = p
        .iter()
        .map(|p| p.limits.max_stock().map(|q| q.value()))
        .collect::<Vec<_>>();
    let done = sqlx::query(AssertSqlSafe(format!(
        "insert into public.products (id, name, description, capacity_value, unit_type, price, \
             currency, photo_url, is_active, available_quantity, min_stock, max_stock, meta_info, \
             created_at, updated_at) \
         select o.id, n.name, n.description, n.capacity_value, n.unit_type, n.price, n.currency, \
                n.photo_url, true, 0, n.min_stock, n.max_stock, {META}, o.created_at, o.updated_at \
         from unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[], $5::text[], \
                     $6::numeric[], $7::text[], $8::text[], $9::numeric[], $10::numeric[]) \
              as n(id, name, description, capacity_value, unit_type, price, currency, photo_url, \
                   min_stock, max_stock) \
         join powergym_original.products o on o.id = n.id"
    )))
    .bind(ids)
    .bind(arg25)
    .bind(arg26)
    .bind(arg27)
    .bind(arg28)
    .bind(arg29)
    .bind(arg30)
    .bind(arg31)
    .bind(arg32)
    .bind(arg33)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    let products_written = done.rows_affected();
    sqlx::raw_sql(
        "alter table public.inventory_movements disable trigger inventory_movements_apply_stock; \
         alter table public.products disable trigger products_touch_updated_at;",
    )
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    let orig: Vec<String> = users.keys().cloned().collect();
    let names: Vec<String> = users.values().map(|(n, _)| n.clone()).collect();
    let done = sqlx::query(AssertSqlSafe(format!(
        "insert into public.inventory_movements (id, product_id, movement_type, quantity, \
             movement_date, responsible, notes, meta_info, created_at) \
         select o.id, o.product_id, o.movement_type::text::public.inventory_movement_enum, \
                o.quantity, o.movement_date, u.username, left(o.notes, 500), {META}, o.created_at \
         from powergym_original.inventory_movements o \
         left join unnest($2::text[], $3::text[]) as u(orig, username) on u.orig = o.responsible \
         where o.id = any($1)"
    )))
    .bind(kept_movements)
    .bind(orig)
    .bind(names)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    let movements_written = done.rows_affected();
    let (adj_ids, adj_qty): (Vec<Uuid>, Vec<Decimal>) = adjustments.iter().copied().unzip();
    sqlx::query(
        "insert into public.inventory_movements (product_id, movement_type, quantity, notes, \
             meta_info) \
         select n.id, case when n.qty > 0 then 'ENTRY' else 'EXIT' end::public.inventory_movement_enum, \
                n.qty, 'adoption: brings the movements to the stock the original recorded', \
                '{\"adoption\": true}'::jsonb \
         from unnest($1::uuid[], $2::numeric[]) as n(id, qty)",
    )
    .bind(adj_ids)
    .bind(adj_qty)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    sqlx::query(
        "update public.products p set available_quantity = o.available_quantity, \
                is_active = o.is_active, updated_at = o.updated_at \
         from powergym_original.products o where o.id = p.id",
    )
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    sqlx::raw_sql(
        "alter table public.inventory_movements enable trigger inventory_movements_apply_stock; \
         alter table public.products enable trigger products_touch_updated_at;",
    )
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok((products_written, movements_written))
}

async fn write_rewards(
    conn: &mut PgConnection,
    kept: BTreeMap<Uuid, rules::AdoptedReward>,
) -> Result<u64> {
    let ids: Vec<Uuid> = kept.keys().copied().collect();
    let r: Vec<&rules::AdoptedReward> = kept.values().collect();
    let arg34 = r
        .iter()
        .map(|r| r.status.as_str().to_owned())
        .collect::<Vec<_>>();
    let arg35 = r.iter().map(|r| r.expires_on).collect::<Vec<_>>();
    let arg36 = r.iter().map(|r| r.applied_at).collect::<Vec<_>>();
    let arg37 = r
        .iter()
        .map(|r| r.applied_subscription_id)
        .collect::<Vec<_>>();
    let done = sqlx::query(AssertSqlSafe(format!(
        "insert into public.rewards (id, subscription_id, client_id, attendance_count, \
             discount_percentage, eligible_date, expires_on, status, applied_at, \
             applied_subscription_id, meta_info, created_at, updated_at) \
         select o.id, o.subscription_id, o.client_id, o.attendance_count, o.discount_percentage, \
                o.eligible_date, n.expires_on, n.status::public.reward_status_enum, n.applied_at, \
                n.applied_sub, {META}, o.created_at, o.updated_at \
         from unnest($1::uuid[], $2::text[], $3::date[], $4::timestamptz[], $5::uuid[]) \
              as n(id, status, expires_on, applied_at, applied_sub) \
         join powergym_original.rewards o on o.id = n.id"
    )))
    .bind(ids)
    .bind(arg34)
    .bind(arg35)
    .bind(arg36)
    .bind(arg37)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected())
}
