//! Runs the shared conformance vectors (`conformance/*.json`) through the Rust API. The
//! Python and Kotlin suites run the same files through their bindings.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use powergym_core::domain::access::{AccessDecision, SubscriptionView, decide_access};
use powergym_core::domain::inventory::{
    MovementType, Quantity, StockLimits, StockStatus, sale_total, stock_after_entry,
    stock_after_exit,
};
use powergym_core::domain::money::{DiscountPercent, Money};
use powergym_core::domain::payment::{PriceSnapshot, accept_payment};
use powergym_core::domain::plan::{DurationUnit, PlanDuration, renewal_start};
use powergym_core::domain::reward::{
    EarningSubscription, RewardConfig, RewardDecision, RewardStatus, RewardView,
    TargetSubscription, apply_reward, evaluate_reward, reward_expired,
};
use powergym_core::domain::staff::{AccountChange, Role, authorize, guard_last_admin};
use powergym_core::{
    BusinessCalendar, ClientId, Error, Result, SubscriptionId, SubscriptionStatus,
    TransitionContext, initial_status, transition,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance")
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} is not a string in {v}"))
        .to_owned()
}
fn date(v: &Value, k: &str) -> NaiveDate {
    s(v, k).parse().unwrap()
}
fn opt_date(v: &Value, k: &str) -> Option<NaiveDate> {
    v[k].as_str().map(|x| x.parse().unwrap())
}
fn dec(v: &Value, k: &str) -> Decimal {
    s(v, k).parse().unwrap()
}
fn opt_dec(v: &Value, k: &str) -> Option<Decimal> {
    v[k].as_str().map(|x| x.parse().unwrap())
}
fn b(v: &Value, k: &str) -> bool {
    v[k].as_bool().unwrap()
}
fn n(v: &Value, k: &str) -> u32 {
    v[k].as_u64().unwrap() as u32
}
/// Decimals compare by value, so "45000" matches 45000.00.
fn d_str(d: Decimal) -> String {
    d.normalize().to_string()
}

fn config(v: &Value) -> Result<RewardConfig> {
    let units = v["eligible_units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().parse::<DurationUnit>())
        .collect::<Result<Vec<_>>>()?;
    RewardConfig::new(
        n(v, "attendance_threshold"),
        dec(v, "discount_percentage"),
        n(v, "expiration_days"),
        units,
    )
}

fn run(op: &str, i: &Value) -> Result<Value> {
    Ok(match op {
        "end_date" => {
            let duration = PlanDuration::new(s(i, "unit").parse()?, n(i, "count"))?;
            json!({"end": duration.end_date(date(i, "start"))?.to_string()})
        }
        "renewal_start" => {
            json!({"start": renewal_start(opt_date(i, "latest_end"), date(i, "today")).to_string()})
        }
        "transition" => {
            let to = transition(
                s(i, "status").parse()?,
                s(i, "event").parse()?,
                TransitionContext {
                    fully_paid: b(i, "fully_paid"),
                    start_reached: b(i, "start_reached"),
                },
            )?;
            json!({"status": to.as_str()})
        }
        "initial_status" => {
            let st = initial_status(date(i, "start"), date(i, "today"), b(i, "price_is_zero"));
            json!({"status": st.as_str()})
        }
        "price" => {
            let p = PriceSnapshot::parse(dec(i, "list_price"), opt_dec(i, "discount"))?;
            json!({"final_price": d_str(p.final_price().amount()), "discount_amount": d_str(p.discount_amount().amount())})
        }
        "payment" => {
            let price = PriceSnapshot::parse(dec(i, "list_price"), opt_dec(i, "discount"))?;
            let o = accept_payment(
                s(i, "status").parse()?,
                &price,
                Money::parse("paid", dec(i, "paid"))?,
                dec(i, "amount"),
                date(i, "start"),
                date(i, "today"),
            )?;
            json!({"status": o.status.as_str(), "balance": d_str(o.balance.amount())})
        }
        "reward_evaluate" => {
            let sub = EarningSubscription {
                status: s(i, "status").parse()?,
                unit: s(i, "unit").parse()?,
                start: date(i, "start"),
                end: date(i, "end"),
            };
            match evaluate_reward(
                &config(&i["config"])?,
                &sub,
                n(i, "attendance_days"),
                date(i, "today"),
            )? {
                RewardDecision::NotEligible { attendance_count } => {
                    json!({"eligible": false, "attendance_count": attendance_count})
                }
                RewardDecision::Eligible {
                    attendance_count,
                    eligible_date,
                    expires_on,
                    discount,
                } => json!({
                    "eligible": true,
                    "attendance_count": attendance_count,
                    "eligible_date": eligible_date.to_string(),
                    "expires_on": expires_on.to_string(),
                    "discount": d_str(discount.value()),
                }),
            }
        }
        "reward_apply" => {
            let owner = ClientId::from_uuid(uuid::Uuid::from_u128(1));
            let other = ClientId::from_uuid(uuid::Uuid::from_u128(2));
            let reward = RewardView {
                status: s(i, "reward_status").parse()?,
                client_id: owner,
                expires_on: date(i, "expires_on"),
                discount: DiscountPercent::parse(dec(i, "reward_discount"))?,
            };
            let target = TargetSubscription {
                client_id: if b(i, "same_client") { owner } else { other },
                status: s(i, "target_status").parse()?,
                price: PriceSnapshot::parse(dec(i, "list_price"), opt_dec(i, "discount"))?,
                paid: Money::parse("paid", dec(i, "paid"))?,
            };
            let p = apply_reward(&reward, &target, date(i, "today"))?;
            json!({"final_price": d_str(p.final_price().amount())})
        }
        "reward_expired" => {
            let status: RewardStatus = s(i, "status").parse()?;
            json!({"expired": reward_expired(status, date(i, "expires_on"), date(i, "today"))})
        }
        "stock_status" => {
            let limits = StockLimits::parse(dec(i, "min_stock"), opt_dec(i, "max_stock"))?;
            let q = Quantity::parse("quantity", dec(i, "quantity"))?;
            json!({"status": StockStatus::of(q, limits.min_stock(), limits.max_stock()).as_str()})
        }
        "stock_entry" => {
            let limits = StockLimits::parse(dec(i, "min_stock"), opt_dec(i, "max_stock"))?;
            let after = stock_after_entry(
                Quantity::parse("current", dec(i, "current"))?,
                Quantity::parse_positive("quantity", dec(i, "size"))?,
                &limits,
            )?;
            json!({"stock": d_str(after.value())})
        }
        "stock_exit" => {
            let after = stock_after_exit(
                Quantity::parse("current", dec(i, "current"))?,
                Quantity::parse_positive("quantity", dec(i, "size"))?,
            )?;
            json!({"stock": d_str(after.value())})
        }
        "sale_total" => {
            let total = sale_total(
                Quantity::parse_positive("quantity", dec(i, "size"))?,
                Money::parse("unit_price", dec(i, "unit_price"))?,
            )?;
            json!({"total": d_str(total.amount())})
        }
        "movement_quantity" => {
            let t: MovementType = s(i, "movement_type").parse()?;
            json!({"signed": d_str(t.signed(Quantity::parse_positive("quantity", dec(i, "size"))?))})
        }
        "access" => {
            let subs = i["subscriptions"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(k, v)| {
                    Ok(SubscriptionView {
                        id: SubscriptionId::from_uuid(uuid::Uuid::from_u128(k as u128)),
                        status: s(v, "status").parse::<SubscriptionStatus>()?,
                        start: date(v, "start"),
                        end: date(v, "end"),
                        fully_paid: b(v, "fully_paid"),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            match decide_access(
                b(i, "client_active"),
                b(i, "already_checked_in"),
                &subs,
                date(i, "today"),
            ) {
                AccessDecision::Granted { subscription_id } => json!({
                    "decision": "granted",
                    "subscription_index": subscription_id.as_uuid().as_u128(),
                }),
                AccessDecision::Denied(reason) => {
                    json!({"decision": "denied", "reason": reason.code()})
                }
            }
        }
        "business_date" => {
            let calendar = BusinessCalendar::new(&s(i, "time_zone"))?;
            let instant: DateTime<Utc> = s(i, "instant").parse().unwrap();
            json!({"date": calendar.date_of(instant).to_string()})
        }
        "authorize" => {
            let role: Role = s(i, "role").parse()?;
            authorize(role, b(i, "disabled"), s(i, "action").parse()?)?;
            json!({"allowed": true})
        }
        "last_admin" => {
            let change: AccountChange = s(i, "change").parse()?;
            guard_last_admin(
                s(i, "role").parse()?,
                b(i, "disabled"),
                change,
                n(i, "active_admins"),
            )?;
            json!({"allowed": true})
        }
        other => panic!("unknown op {other}"),
    })
}

/// The error's kind plus the fields a vector may pin down.
fn error_json(e: &Error) -> Value {
    let mut v = json!({"error": e.kind()});
    match e {
        Error::PaymentExceedsBalance { balance, .. } => v["balance"] = json!(d_str(*balance)),
        Error::InsufficientStock {
            requested,
            available,
        } => {
            v["requested"] = json!(d_str(*requested));
            v["available"] = json!(d_str(*available));
        }
        Error::InvalidTransition { from, event } => {
            v["from"] = json!(from.as_str());
            v["event"] = json!(event.as_str());
        }
        Error::PermissionDenied { action } => v["action"] = json!(action),
        _ => {}
    }
    v
}

/// Compares only the keys the vector states; decimals by value.
fn matches(expected: &Value, got: &Value) -> bool {
    expected
        .as_object()
        .unwrap()
        .iter()
        .all(|(k, want)| match (want, &got[k]) {
            (Value::String(w), Value::String(g)) => {
                match (w.parse::<Decimal>(), g.parse::<Decimal>()) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => w == g,
                }
            }
            (w, g) => w == g,
        })
}

#[test]
fn every_vector_passes_through_the_rust_api() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("conformance/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 7, "one file per rule family");
    let mut total = 0;
    let mut failures = Vec::new();
    for file in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            total += 1;
            let got = match run(case["op"].as_str().unwrap(), &case["input"]) {
                Ok(v) => v,
                Err(e) => error_json(&e),
            };
            if !matches(&case["expected"], &got) {
                failures.push(format!(
                    "{} / {}: expected {}, got {}",
                    doc["family"], case["name"], case["expected"], got
                ));
            }
        }
    }
    assert!(total >= 200, "only {total} cases");
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
