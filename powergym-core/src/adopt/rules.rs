//! The decisions of adoption, as pure functions over the original's rows: which rows are
//! adopted, with which values, and which are set aside and why. Each uses the library's
//! own rules (the same `parse` as a new record, the business calendar, the price
//! snapshot, the overlap rule), so an adopted row is one the library could have written.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Change, SetAside};
use crate::domain::calendar::BusinessCalendar;
use crate::domain::client::{ClientInput, DocumentType, Gender, NewClient};
use crate::domain::inventory::{NewProduct, ProductInput};
use crate::domain::payment::PriceSnapshot;
use crate::domain::plan::{DurationUnit, NewPlan, PlanInput};
use crate::domain::staff::Username;
use crate::domain::subscription::{Period, SubscriptionStatus};
use crate::error::{Error, Result};

/// What the decisions found, accumulated table by table.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) set_aside: Vec<SetAside>,
    pub(crate) changes: Vec<Change>,
}

impl Findings {
    fn aside(
        &mut self,
        table: &'static str,
        id: impl ToString,
        reason: &'static str,
        detail: String,
    ) {
        self.set_aside.push(SetAside {
            table,
            id: id.to_string(),
            reason,
            detail,
        });
    }

    fn change(
        &mut self,
        table: &'static str,
        id: impl ToString,
        kind: &'static str,
        detail: String,
    ) {
        self.changes.push(Change {
            table,
            id: id.to_string(),
            kind,
            detail,
        });
    }
}

/// Parses with `parse`; when it fails on one of the `optional` fields, clears that field
/// (recording the change) and tries again. A required field that fails is returned as
/// the error.
fn parse_dropping<I, T>(
    mut input: I,
    optional: &[&'static str],
    clear: impl Fn(&mut I, &str),
    parse: impl Fn(I) -> Result<T>,
    dropped: &mut Vec<&'static str>,
) -> Result<T>
where
    I: Clone,
{
    loop {
        match parse(input.clone()) {
            Err(Error::Validation { field, .. }) if optional.contains(&field) => {
                if dropped.contains(&field) {
                    return Err(Error::validation(field, "cannot be cleared"));
                }
                clear(&mut input, field);
                dropped.push(field);
            }
            other => return other,
        }
    }
}

fn why(e: &Error) -> String {
    match e {
        Error::Validation { field, reason } => format!("{field} {reason}"),
        other => other.to_string(),
    }
}

/// A staff account as the original stored it.
#[derive(Debug, Clone)]
pub(crate) struct RawUser {
    pub(crate) username: String,
    pub(crate) email: Option<String>,
}

/// Adopted accounts: original username → the library's, and the e-mail kept.
pub(crate) fn adopt_users(
    users: &[RawUser],
    f: &mut Findings,
) -> BTreeMap<String, (String, Option<String>)> {
    let mut out = BTreeMap::new();
    let mut taken = BTreeSet::new();
    for u in users {
        let name = match Username::parse(&u.username) {
            Ok(n) => n.as_str().to_owned(),
            Err(e) => {
                f.aside(
                    "users",
                    "(an account)",
                    "invalid_username",
                    format!(
                        "{}: the account is not adopted; create it again with a valid username",
                        why(&e)
                    ),
                );
                continue;
            }
        };
        if !taken.insert(name.clone()) {
            f.aside(
                "users",
                &name,
                "invalid_username",
                "another account has the same username once lower-cased".into(),
            );
            continue;
        }
        let email = match crate::domain::client::Email::parse_optional(u.email.as_deref()) {
            Ok(e) => e.map(|e| e.as_str().to_owned()),
            Err(_) => {
                f.change(
                    "users",
                    &name,
                    "field_dropped",
                    "email is not a valid address and was left empty".into(),
                );
                None
            }
        };
        out.insert(u.username.clone(), (name, email));
    }
    out
}

/// A client as the original stored it; labels as text.
#[derive(Debug, Clone)]
pub(crate) struct RawClient {
    pub(crate) id: Uuid,
    pub(crate) document_type: String,
    pub(crate) document_number: String,
    pub(crate) first_name: String,
    pub(crate) middle_name: Option<String>,
    pub(crate) last_name: String,
    pub(crate) second_last_name: Option<String>,
    pub(crate) phone: String,
    pub(crate) alternative_phone: Option<String>,
    pub(crate) birth_date: NaiveDate,
    pub(crate) gender: String,
    pub(crate) address: Option<String>,
}

const CLIENT_OPTIONAL: [&str; 5] = [
    "middle_name",
    "second_last_name",
    "alternative_phone",
    "email",
    "address",
];

/// Clients validated as a registration is; an invalid optional field is dropped, an
/// invalid required one sets the client aside (with everything that hangs from it).
pub(crate) fn adopt_clients(
    clients: &[RawClient],
    today: NaiveDate,
    f: &mut Findings,
) -> BTreeMap<Uuid, NewClient> {
    let mut out = BTreeMap::new();
    let mut documents: HashMap<String, Uuid> = HashMap::new();
    for c in clients {
        let parsed = (|| {
            let input = ClientInput {
                document_type: c.document_type.parse::<DocumentType>()?,
                document_number: c.document_number.clone(),
                first_name: c.first_name.clone(),
                middle_name: c.middle_name.clone(),
                last_name: c.last_name.clone(),
                second_last_name: c.second_last_name.clone(),
                phone: c.phone.clone(),
                alternative_phone: c.alternative_phone.clone(),
                email: None,
                birth_date: c.birth_date,
                gender: c.gender.parse::<Gender>()?,
                address: c.address.clone(),
            };
            let mut dropped = Vec::new();
            let parsed = parse_dropping(
                input,
                &CLIENT_OPTIONAL,
                |i, field| match field {
                    "middle_name" => i.middle_name = None,
                    "second_last_name" => i.second_last_name = None,
                    "alternative_phone" => i.alternative_phone = None,
                    "email" => i.email = None,
                    _ => i.address = None,
                },
                |i| NewClient::parse(i, today),
                &mut dropped,
            )?;
            Ok::<_, Error>((parsed, dropped))
        })();
        match parsed {
            Ok((new, dropped)) => {
                let number = new.document_number.as_str().to_owned();
                if let Some(first) = documents.get(&number) {
                    f.aside(
                        "clients",
                        c.id,
                        "duplicate_document",
                        format!(
                            "its document number is client {first}'s once normalised; merge \
                             the two by hand"
                        ),
                    );
                    continue;
                }
                documents.insert(number, c.id);
                for field in dropped {
                    f.change(
                        "clients",
                        c.id,
                        "field_dropped",
                        format!("{field} failed validation and was left empty"),
                    );
                }
                out.insert(c.id, new);
            }
            Err(e) => f.aside(
                "clients",
                c.id,
                "invalid_value",
                format!(
                    "{}: fix it in the original and adopt again (its subscriptions, payments, \
                     attendances and rewards are set aside with it)",
                    why(&e)
                ),
            ),
        }
    }
    out
}

/// A plan as the original stored it.
#[derive(Debug, Clone)]
pub(crate) struct RawPlan {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) slug: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) price: Decimal,
    pub(crate) currency: String,
    pub(crate) duration_unit: String,
    pub(crate) duration_count: i32,
}

/// Plans validated as a new plan is; an invalid slug or description is dropped.
pub(crate) fn adopt_plans(plans: &[RawPlan], f: &mut Findings) -> BTreeMap<Uuid, NewPlan> {
    let mut out = BTreeMap::new();
    for p in plans {
        let parsed = (|| {
            let input = PlanInput {
                name: p.name.clone(),
                slug: p.slug.clone(),
                description: p.description.clone(),
                price: p.price,
                currency: Some(p.currency.clone()),
                duration_unit: p
                    .duration_unit
                    .to_ascii_lowercase()
                    .parse::<DurationUnit>()?,
                duration_count: u32::try_from(p.duration_count).map_err(|_| {
                    Error::validation("duration_count", "must be greater than zero")
                })?,
            };
            let mut dropped = Vec::new();
            let plan = parse_dropping(
                input,
                &["slug", "description"],
                |i, field| match field {
                    "slug" => i.slug = None,
                    _ => i.description = None,
                },
                NewPlan::parse,
                &mut dropped,
            )?;
            Ok::<_, Error>((plan, dropped))
        })();
        match parsed {
            Ok((plan, dropped)) => {
                for field in dropped {
                    f.change(
                        "plans",
                        p.id,
                        "field_dropped",
                        format!("{field} failed validation and was left empty"),
                    );
                }
                out.insert(p.id, plan);
            }
            Err(e) => f.aside(
                "plans",
                p.id,
                "invalid_value",
                format!("{}: its subscriptions are set aside with it", why(&e)),
            ),
        }
    }
    out
}

/// A subscription as the original stored it, with what adoption needs of its plan.
#[derive(Debug, Clone)]
pub(crate) struct RawSubscription {
    pub(crate) id: Uuid,
    pub(crate) client_id: Uuid,
    pub(crate) plan_id: Uuid,
    pub(crate) start_date: NaiveDate,
    pub(crate) end_date: NaiveDate,
    pub(crate) status: String,
    pub(crate) cancellation_date: Option<NaiveDate>,
    pub(crate) final_price: Option<Decimal>,
    /// `meta_info.original_price`, when the original recorded a discount.
    pub(crate) meta_original_price: Option<Decimal>,
    /// `meta_info.discount_percentage`.
    pub(crate) meta_discount: Option<Decimal>,
    pub(crate) created_at: DateTime<Utc>,
}

/// A subscription as it is adopted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AdoptedSubscription {
    pub(crate) status: SubscriptionStatus,
    pub(crate) list_price: Decimal,
    pub(crate) discount: Option<Decimal>,
    pub(crate) final_price: Decimal,
    pub(crate) cancellation_date: Option<NaiveDate>,
    /// Set when adoption cancels it.
    pub(crate) cancellation_reason: Option<String>,
}

/// Prices snapshotted, statuses mapped, and overlaps resolved: of a client's live
/// subscriptions sharing a day, the one starting first (then the older) is kept and each
/// later one is adopted as canceled, with its payments, so no money leaves the ledger.
pub(crate) fn adopt_subscriptions(
    subs: &[RawSubscription],
    clients: &BTreeMap<Uuid, NewClient>,
    plans: &BTreeMap<Uuid, NewPlan>,
    today: NaiveDate,
    calendar: &BusinessCalendar,
    f: &mut Findings,
) -> BTreeMap<Uuid, AdoptedSubscription> {
    let mut out = BTreeMap::new();
    let mut order: Vec<&RawSubscription> = subs.iter().collect();
    order.sort_by_key(|s| (s.client_id, s.start_date, s.created_at, s.id));
    let mut live: HashMap<Uuid, Vec<(Uuid, Period)>> = HashMap::new();
    for s in order {
        if !clients.contains_key(&s.client_id) {
            f.aside(
                "subscriptions",
                s.id,
                "client_set_aside",
                "its client was set aside".into(),
            );
            continue;
        }
        let Some(plan) = plans.get(&s.plan_id) else {
            f.aside(
                "subscriptions",
                s.id,
                "plan_set_aside",
                "its plan was set aside".into(),
            );
            continue;
        };
        let Ok(mut status) = s.status.to_ascii_lowercase().parse::<SubscriptionStatus>() else {
            f.aside(
                "subscriptions",
                s.id,
                "invalid_value",
                "its status is not one the original knew".into(),
            );
            continue;
        };
        // The price: the original's final_price when it set one, else the snapshot the
        // original would have taken (its list price, less its recorded discount).
        let list = s
            .meta_original_price
            .filter(|p| *p >= Decimal::ZERO)
            .unwrap_or(plan.price.amount());
        let discount = s
            .meta_discount
            .filter(|d| *d > Decimal::ZERO && *d <= Decimal::ONE_HUNDRED);
        let (list_price, final_price) = match s.final_price {
            Some(fp) if fp < Decimal::ZERO => {
                f.aside(
                    "subscriptions",
                    s.id,
                    "invalid_value",
                    "final_price is negative".into(),
                );
                continue;
            }
            Some(fp) => (list.max(fp), fp),
            None => match PriceSnapshot::parse(list, discount) {
                Ok(snap) => {
                    f.change(
                        "subscriptions",
                        s.id,
                        "price_snapshot",
                        format!(
                            "final price {} taken from the list price {list}{}",
                            snap.final_price().amount(),
                            discount.map_or(String::new(), |d| format!(" less {d} %"))
                        ),
                    );
                    (list, snap.final_price().amount())
                }
                Err(e) => {
                    f.aside("subscriptions", s.id, "invalid_value", why(&e));
                    continue;
                }
            },
        };
        let mut cancellation_date = s.cancellation_date;
        let mut cancellation_reason = None;
        if status == SubscriptionStatus::Canceled {
            if cancellation_date.is_none() {
                let day = calendar.date_of(s.created_at);
                cancellation_date = Some(day);
                f.change(
                    "subscriptions",
                    s.id,
                    "cancellation_date_set",
                    format!("canceled without a date; dated {day}, the day it was created"),
                );
            }
        } else {
            cancellation_date = None;
            let period = Period {
                start: s.start_date,
                end: s.end_date,
                status,
            };
            let kept = live.entry(s.client_id).or_default();
            if let Some((other, _)) = kept.iter().find(|(_, p)| p.overlaps(&period)) {
                status = SubscriptionStatus::Canceled;
                cancellation_date = Some(today);
                let reason =
                    format!("adoption: shared days with subscription {other}, which was kept");
                f.change("subscriptions", s.id, "overlap_canceled", reason.clone());
                cancellation_reason = Some(reason);
            } else {
                kept.push((s.id, period));
            }
        }
        out.insert(
            s.id,
            AdoptedSubscription {
                status,
                list_price,
                discount: if s.final_price.is_some() || discount.is_some() {
                    discount
                } else {
                    None
                },
                final_price,
                cancellation_date,
                cancellation_reason,
            },
        );
    }
    out
}

/// A payment as the original stored it.
#[derive(Debug, Clone)]
pub(crate) struct RawPayment {
    pub(crate) id: Uuid,
    pub(crate) subscription_id: Uuid,
    pub(crate) amount: Decimal,
    pub(crate) payment_date: DateTime<Utc>,
}

/// Payments adopted in date order while their running total stays within the
/// subscription's final price (the database refuses more); one that would pass it is set
/// aside as money to settle by hand.
pub(crate) fn adopt_payments(
    payments: &[RawPayment],
    subs: &BTreeMap<Uuid, AdoptedSubscription>,
    f: &mut Findings,
) -> BTreeSet<Uuid> {
    let mut order: Vec<&RawPayment> = payments.iter().collect();
    order.sort_by_key(|p| (p.subscription_id, p.payment_date, p.id));
    let mut paid: HashMap<Uuid, Decimal> = HashMap::new();
    let mut out = BTreeSet::new();
    for p in order {
        let Some(sub) = subs.get(&p.subscription_id) else {
            f.aside(
                "payments",
                p.id,
                "subscription_set_aside",
                format!("{} on a subscription that was set aside", p.amount),
            );
            continue;
        };
        let total = paid.entry(p.subscription_id).or_default();
        if *total + p.amount > sub.final_price {
            f.aside(
                "payments",
                p.id,
                "payment_exceeds_price",
                format!(
                    "{} would bring the subscription's payments to {}, above its price {}: \
                     refund or credit it by hand",
                    p.amount,
                    *total + p.amount,
                    sub.final_price
                ),
            );
            continue;
        }
        *total += p.amount;
        out.insert(p.id);
    }
    out
}

/// A check-in as the original stored it.
#[derive(Debug, Clone)]
pub(crate) struct RawAttendance {
    pub(crate) id: Uuid,
    pub(crate) client_id: Uuid,
    pub(crate) check_in: DateTime<Utc>,
}

/// Each check-in gets its business date in the gym's zone; the first of a client's day
/// is kept, later ones are duplicates (the library admits a member once a day).
pub(crate) fn adopt_attendances(
    attendances: &[RawAttendance],
    clients: &BTreeMap<Uuid, NewClient>,
    calendar: &BusinessCalendar,
    f: &mut Findings,
) -> BTreeMap<Uuid, NaiveDate> {
    let mut order: Vec<&RawAttendance> = attendances.iter().collect();
    order.sort_by_key(|a| (a.client_id, a.check_in, a.id));
    let mut seen: HashMap<(Uuid, NaiveDate), Uuid> = HashMap::new();
    let mut out = BTreeMap::new();
    for a in order {
        if !clients.contains_key(&a.client_id) {
            f.aside(
                "attendances",
                a.id,
                "client_set_aside",
                "its client was set aside".into(),
            );
            continue;
        }
        let day = calendar.date_of(a.check_in);
        if let Some(first) = seen.get(&(a.client_id, day)) {
            f.aside(
                "attendances",
                a.id,
                "duplicate_attendance",
                format!("a second check-in on {day} (the first, {first}, is kept)"),
            );
            continue;
        }
        seen.insert((a.client_id, day), a.id);
        out.insert(a.id, day);
    }
    out
}

/// A product as the original stored it.
#[derive(Debug, Clone)]
pub(crate) struct RawProduct {
    pub(crate) id: Uuid,
    pub(crate) input: ProductInput,
}

/// Products validated as a new product is; an invalid one is set aside with its
/// movements.
pub(crate) fn adopt_products(
    products: &[RawProduct],
    f: &mut Findings,
) -> BTreeMap<Uuid, NewProduct> {
    let mut out = BTreeMap::new();
    for p in products {
        let mut dropped = Vec::new();
        let parsed = parse_dropping(
            p.input.clone(),
            &["description", "photo_url"],
            |i, field| match field {
                "description" => i.description = None,
                _ => i.photo_url = None,
            },
            NewProduct::parse,
            &mut dropped,
        );
        match parsed {
            Ok(new) => {
                for field in dropped {
                    f.change(
                        "products",
                        p.id,
                        "field_dropped",
                        format!("{field} failed validation and was left empty"),
                    );
                }
                out.insert(p.id, new);
            }
            Err(e) => f.aside(
                "products",
                p.id,
                "invalid_value",
                format!("{}: its movements are set aside with it", why(&e)),
            ),
        }
    }
    out
}

/// The entry (positive) or exit (negative) that makes a product's adopted movements add
/// up to the stock the original recorded, when they disagree.
pub(crate) fn stock_adjustment(recorded: Decimal, movements_sum: Decimal) -> Option<Decimal> {
    let diff = recorded - movements_sum;
    (!diff.is_zero()).then_some(diff)
}

/// A reward as the original stored it.
#[derive(Debug, Clone)]
pub(crate) struct RawReward {
    pub(crate) id: Uuid,
    pub(crate) subscription_id: Uuid,
    pub(crate) client_id: Uuid,
    pub(crate) eligible_date: NaiveDate,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) status: String,
    pub(crate) applied_at: Option<DateTime<Utc>>,
    pub(crate) applied_subscription_id: Option<Uuid>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// A reward as it is adopted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AdoptedReward {
    pub(crate) status: String,
    pub(crate) expires_on: NaiveDate,
    pub(crate) applied_at: Option<DateTime<Utc>>,
    pub(crate) applied_subscription_id: Option<Uuid>,
}

/// One reward per earning subscription (the oldest is kept), expiry as a business date,
/// and "applied" exactly when it has an application time.
pub(crate) fn adopt_rewards(
    rewards: &[RawReward],
    clients: &BTreeMap<Uuid, NewClient>,
    subs: &BTreeMap<Uuid, AdoptedSubscription>,
    calendar: &BusinessCalendar,
    f: &mut Findings,
) -> BTreeMap<Uuid, AdoptedReward> {
    let mut order: Vec<&RawReward> = rewards.iter().collect();
    order.sort_by_key(|r| (r.created_at, r.id));
    let mut earned: HashMap<Uuid, Uuid> = HashMap::new();
    let mut discounted: BTreeSet<Uuid> = BTreeSet::new();
    let mut out = BTreeMap::new();
    for r in order {
        if !clients.contains_key(&r.client_id) {
            f.aside(
                "rewards",
                r.id,
                "client_set_aside",
                "its client was set aside".into(),
            );
            continue;
        }
        if !subs.contains_key(&r.subscription_id) {
            f.aside(
                "rewards",
                r.id,
                "subscription_set_aside",
                "the subscription that earned it was set aside".into(),
            );
            continue;
        }
        if let Some(first) = earned.get(&r.subscription_id) {
            f.aside(
                "rewards",
                r.id,
                "duplicate_reward",
                format!("its subscription already earned reward {first}, which is kept"),
            );
            continue;
        }
        earned.insert(r.subscription_id, r.id);
        let mut status = r.status.to_ascii_lowercase();
        let mut expires_on = calendar.date_of(r.expires_at);
        if expires_on < r.eligible_date {
            expires_on = r.eligible_date;
            f.change(
                "rewards",
                r.id,
                "reward_fixed",
                "expired before it was eligible; now expires the day it became eligible".into(),
            );
        }
        let mut applied_subscription_id = r.applied_subscription_id;
        if let Some(target) = applied_subscription_id
            && (!subs.contains_key(&target) || !discounted.insert(target))
        {
            applied_subscription_id = None;
            f.change(
                "rewards",
                r.id,
                "reward_fixed",
                "the subscription it discounted was set aside or discounted twice; the link \
                 was removed"
                    .into(),
            );
        }
        let applied_at = match (status.as_str(), r.applied_at) {
            ("applied", None) => {
                f.change(
                    "rewards",
                    r.id,
                    "reward_fixed",
                    "applied without a time; dated when it was last updated".into(),
                );
                Some(r.updated_at)
            }
            ("applied", Some(at)) => Some(at),
            (_, Some(_)) => {
                status = "applied".into();
                f.change(
                    "rewards",
                    r.id,
                    "reward_fixed",
                    "had an application time but was not marked applied; now applied".into(),
                );
                r.applied_at
            }
            (_, None) => None,
        };
        out.insert(
            r.id,
            AdoptedReward {
                status,
                expires_on,
                applied_at,
                applied_subscription_id,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn client(n: u128, number: &str) -> RawClient {
        RawClient {
            id: id(n),
            document_type: "CC".into(),
            document_number: number.into(),
            first_name: "Ana".into(),
            middle_name: None,
            last_name: "Gómez".into(),
            second_last_name: None,
            phone: "3001234567".into(),
            alternative_phone: Some("12".into()),
            birth_date: day("1990-01-01"),
            gender: "FEMALE".into(),
            address: None,
        }
    }

    #[test]
    fn clients_are_validated_like_registrations() {
        let mut f = Findings::default();
        let mut blank = client(2, "1020304051");
        blank.first_name = "   ".into();
        let clients = [
            client(1, "1.020.304.050"),
            blank,
            client(3, "1020304050"), // the same as client 1 once normalised
            client(4, "12AB45"),
        ];
        let adopted = adopt_clients(&clients, day("2026-12-01"), &mut f);
        assert_eq!(adopted.keys().copied().collect::<Vec<_>>(), [id(1)]);
        assert_eq!(adopted[&id(1)].document_number.as_str(), "1020304050");
        assert!(
            adopted[&id(1)].alternative_phone.is_none(),
            "bad optional phone dropped"
        );
        let reasons: Vec<(&str, String)> = f
            .set_aside
            .iter()
            .map(|s| (s.reason, s.id.clone()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("invalid_value", id(2).to_string()),
                ("duplicate_document", id(3).to_string()),
                ("invalid_value", id(4).to_string()),
            ]
        );
        assert!(f.set_aside.iter().all(|s| !s.detail.contains("12AB45")));
        assert_eq!(f.changes.len(), 1);
        assert_eq!(f.changes[0].kind, "field_dropped");
    }

    fn plan() -> NewPlan {
        NewPlan::parse(PlanInput {
            name: "Monthly".into(),
            slug: None,
            description: None,
            price: Decimal::from(80000),
            currency: None,
            duration_unit: DurationUnit::Month,
            duration_count: 1,
        })
        .unwrap()
    }

    fn sub(n: u128, start: &str, end: &str, status: &str) -> RawSubscription {
        RawSubscription {
            id: id(n),
            client_id: id(1),
            plan_id: id(100),
            start_date: day(start),
            end_date: day(end),
            status: status.into(),
            cancellation_date: None,
            final_price: None,
            meta_original_price: None,
            meta_discount: None,
            created_at: DateTime::from_timestamp(1_760_000_000 + n as i64, 0).unwrap(),
        }
    }

    #[test]
    fn overlapping_subscriptions_keep_the_first_and_cancel_the_rest_with_their_money() {
        let mut f = Findings::default();
        let clients = adopt_clients(&[client(1, "1020304050")], day("2026-12-01"), &mut f);
        let plans = BTreeMap::from([(id(100), plan())]);
        let mut discounted = sub(12, "2026-11-15", "2026-12-14", "PENDING_PAYMENT");
        discounted.meta_original_price = Some(Decimal::from(80000));
        discounted.meta_discount = Some(Decimal::from(10));
        let subs = [
            sub(11, "2026-11-01", "2026-11-30", "ACTIVE"),
            discounted,
            sub(13, "2026-12-01", "2026-12-31", "SCHEDULED"),
            sub(14, "2026-11-10", "2026-11-20", "CANCELED"),
        ];
        let cal = BusinessCalendar::default();
        let adopted = adopt_subscriptions(&subs, &clients, &plans, day("2026-12-01"), &cal, &mut f);
        assert_eq!(adopted[&id(11)].status, SubscriptionStatus::Active);
        assert_eq!(adopted[&id(12)].status, SubscriptionStatus::Canceled);
        assert_eq!(adopted[&id(12)].cancellation_date, Some(day("2026-12-01")));
        assert_eq!(adopted[&id(12)].final_price, Decimal::from(72000));
        assert_eq!(adopted[&id(13)].status, SubscriptionStatus::Scheduled);
        assert_eq!(adopted[&id(14)].status, SubscriptionStatus::Canceled);
        assert_eq!(
            adopted[&id(14)].cancellation_date,
            Some(cal.date_of(subs[3].created_at))
        );
        let overlaps: Vec<&str> = f
            .changes
            .iter()
            .filter(|c| c.kind == "overlap_canceled")
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(overlaps, [id(12).to_string()]);

        // Payments: the running total may not pass the price.
        let pay = |n: u128, sub: u128, amount: i64, t: i64| RawPayment {
            id: id(n),
            subscription_id: id(sub),
            amount: Decimal::from(amount),
            payment_date: DateTime::from_timestamp(1_760_000_000 + t, 0).unwrap(),
        };
        let payments = [
            pay(21, 13, 50000, 1),
            pay(22, 13, 50000, 2), // 100 000 > 80 000: set aside
            pay(23, 13, 30000, 3), // 80 000: fits
            pay(24, 99, 10000, 4), // unknown subscription
        ];
        let kept = adopt_payments(&payments, &adopted, &mut f);
        assert_eq!(kept, BTreeSet::from([id(21), id(23)]));
        assert_eq!(f.set_aside.len(), 2);
        assert_eq!(f.set_aside[0].reason, "payment_exceeds_price");
    }

    #[test]
    fn attendances_take_the_gyms_day_and_keep_the_first_of_each() {
        let mut f = Findings::default();
        let clients = adopt_clients(&[client(1, "1020304050")], day("2026-12-01"), &mut f);
        let at = |n: u128, instant: &str| RawAttendance {
            id: id(n),
            client_id: id(1),
            check_in: instant.parse().unwrap(),
        };
        let rows = [
            at(31, "2026-11-10T23:00:00Z"), // 18:00 in Bogotá, Nov 10
            at(32, "2026-11-11T03:00:00Z"), // 22:00 in Bogotá, still Nov 10: duplicate
            at(33, "2026-11-11T12:00:00Z"), // Nov 11
        ];
        let cal = BusinessCalendar::default();
        let kept = adopt_attendances(&rows, &clients, &cal, &mut f);
        assert_eq!(
            kept,
            BTreeMap::from([(id(31), day("2026-11-10")), (id(33), day("2026-11-11"))])
        );
        assert_eq!(f.set_aside[0].reason, "duplicate_attendance");
        assert_eq!(f.set_aside[0].id, id(32).to_string());
    }

    #[test]
    fn stock_adjustments_and_usernames() {
        assert_eq!(stock_adjustment(Decimal::from(10), Decimal::from(10)), None);
        assert_eq!(
            stock_adjustment(Decimal::from(7), Decimal::from(10)),
            Some(Decimal::from(-3))
        );
        let mut f = Findings::default();
        let users = adopt_users(
            &[
                RawUser {
                    username: "Admin".into(),
                    email: Some("not-an-address".into()),
                },
                RawUser {
                    username: "admin".into(),
                    email: None,
                },
                RawUser {
                    username: "x".into(),
                    email: None,
                },
            ],
            &mut f,
        );
        assert_eq!(users["Admin"], ("admin".to_owned(), None));
        assert_eq!(users.len(), 1);
        assert_eq!(f.set_aside.len(), 2);
        assert_eq!(f.changes[0].kind, "field_dropped");
    }
}
