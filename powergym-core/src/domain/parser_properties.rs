//! Properties of every input parser in `domain/`, over arbitrary strings and numbers:
//! each answers a typed error naming a field, or a value that parses back to itself.
//! Never a panic (proptest fails a case that panics). The modules' own tables check the
//! particular answers; these check that no input, however strange, escapes the rules.

use chrono::{NaiveDate, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::calendar::{BusinessCalendar, EARLIEST_DATE, LATEST_DATE, check_business_date};
use super::client::{
    BirthDate, Client, ClientInput, ClientUpdate, DocumentNumber, DocumentType, Email, Gender,
    MIN_BIRTH_DATE, NewClient, PersonName, Phone, search_terms,
};
use super::consent::{ConsentInput, Guardian, NewConsent};
use super::ids::{ClientId, PlanId, SubscriptionId};
use super::inventory::{
    MovementType, NewProduct, ProductInput, Quantity, StockLimits, StockStatus,
};
use super::money::{Currency, DiscountPercent, MAX_AMOUNT, Money};
use super::paging::PageRequest;
use super::payment::{PaymentMethod, PriceSnapshot};
use super::plan::{DurationUnit, NewPlan, PlanDuration, PlanInput, parse_slug};
use super::reward::{RewardConfig, RewardStatus};
use super::staff::{AccountChange, Action, Role, Username, check_password_policy, parse_full_name};
use super::subscription::{SubscriptionEvent, SubscriptionStatus, daily_jobs_day};
use super::text::{self, TextRule, TextShape, is_forbidden};
use crate::error::{Error, Result};

/// `prop_assert!` for conditions whose source holds braces (closures, struct literals),
/// which `prop_assert!` would read as a format string.
macro_rules! check {
    ($cond:expr) => {{
        let ok: bool = $cond;
        prop_assert!(ok, "{}", stringify!($cond));
    }};
}

/// Characters that break naive text handling: controls, invisible and bidirectional
/// marks, separators people type, letters with accents, wide and astral characters.
const TRICKY: &[char] = &[
    '\0',
    '\u{7}',
    '\u{8}',
    '\t',
    '\n',
    '\r',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{a0}',
    '\u{ad}',
    '\u{200b}',
    '\u{200d}',
    '\u{200e}',
    '\u{202e}',
    '\u{2066}',
    '\u{2028}',
    '\u{feff}',
    '\u{e0041}',
    ' ',
    ' ',
    ' ',
    '.',
    '-',
    '\'',
    '+',
    '(',
    ')',
    '@',
    '_',
    'a',
    'Z',
    'é',
    'Ñ',
    'ß',
    'İ',
    '0',
    '1',
    '5',
    '9',
    '中',
    '😀',
    '%',
    '\\',
    '"',
];

/// Strings of up to `max` characters, mixing arbitrary characters with tricky ones.
fn text_of(max: usize) -> impl Strategy<Value = String> {
    let c = prop_oneof![
        3 => proptest::sample::select(TRICKY),
        1 => any::<char>(),
    ];
    proptest::collection::vec(c, 0..=max).prop_map(String::from_iter)
}

/// Mostly short strings, sometimes around or past the longest limits.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => text_of(24),
        1 => text_of(600),
        1 => (1usize..2_500, proptest::sample::select(TRICKY))
            .prop_map(|(n, c)| std::iter::repeat_n(c, n).collect()),
    ]
}

fn digits_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9 .\\-]{0,24}",
        "[A-Za-z0-9]{0,24}",
        "\\+?[0-9 ()\\-]{0,24}",
        text_of(24),
    ]
}

fn email_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9.+_\\-]{0,12}@[a-zA-Z0-9\\-]{0,8}(\\.[a-zA-Z]{0,4}){0,2}",
        (text_of(8), text_of(8)).prop_map(|(a, b)| format!("{a}@{b}.co")),
        text_of(30),
    ]
}

fn decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<bool>(),
            0u32..=28
        )
            .prop_map(|(lo, mid, hi, neg, scale)| Decimal::from_parts(lo, mid, hi, neg, scale)),
        (-1_000_000i64..100_000_000_000_000, 0u32..=4).prop_map(|(n, s)| Decimal::new(n, s)),
        proptest::sample::select(vec![
            Decimal::ZERO,
            Decimal::ONE,
            Decimal::ONE_HUNDRED,
            MAX_AMOUNT,
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(-1, 2),
            Decimal::new(10_001, 2),
        ]),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        (1i32..=9999, 1u32..=366).prop_map(|(y, d)| {
            NaiveDate::from_yo_opt(y, d).unwrap_or(NaiveDate::from_yo_opt(y, 1).unwrap_or_default())
        }),
        proptest::sample::select(vec![
            NaiveDate::MIN,
            NaiveDate::MAX,
            EARLIEST_DATE,
            LATEST_DATE,
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default(),
            NaiveDate::from_ymd_opt(1899, 12, 31).unwrap_or_default(),
        ]),
    ]
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 15).unwrap_or_default()
}

fn document_type() -> impl Strategy<Value = DocumentType> {
    proptest::sample::select(DocumentType::ALL.to_vec())
}

fn unit() -> impl Strategy<Value = DurationUnit> {
    proptest::sample::select(DurationUnit::ALL.to_vec())
}

/// The answer is a validation error naming a field, or a value for which `check` holds.
fn typed<T>(result: Result<T>, check: impl FnOnce(T) -> bool) -> bool {
    match result {
        Ok(v) => check(v),
        Err(Error::Validation { field, reason }) => !field.is_empty() && !reason.is_empty(),
        Err(_) => false,
    }
}

fn same_field<T>(result: &Result<T>, expected: &str) -> bool {
    match result {
        Err(Error::Validation { field, .. }) => *field == expected,
        _ => true,
    }
}

fn clean(s: &str, shape: TextShape) -> bool {
    s == s.trim()
        && s.chars().all(|c| match shape {
            TextShape::Lines => matches!(c, '\n' | '\r' | '\t') || !is_forbidden(c),
            TextShape::Line | TextShape::Words => !is_forbidden(c),
        })
}

const RULES: [TextRule; 15] = [
    text::ADDRESS,
    text::PLAN_NAME,
    text::PLAN_DESCRIPTION,
    text::PRODUCT_NAME,
    text::PRODUCT_DESCRIPTION,
    text::UNIT_TYPE,
    text::PHOTO_URL,
    text::CONSENT_PURPOSE,
    text::STAFF_FULL_NAME,
    text::PAYMENT_NOTES,
    text::MOVEMENT_NOTES,
    text::CANCELLATION_REASON,
    text::CLIENT_SEARCH,
    text::PRODUCT_SEARCH,
    text::IDEMPOTENCY_KEY,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn text_rules_refuse_or_keep_a_clean_bounded_value(raw in any_text(), i in 0usize..RULES.len()) {
        let rule = RULES[i];
        let got = rule.parse(&raw);
        check!(same_field(&got, rule.field()));
        check!(typed(got, |v| {
            !v.is_empty()
                && v.chars().count() <= rule.max_chars()
                && clean(&v, rule.shape())
                && rule.parse(&v).as_ref() == Ok(&v)
                && (rule.shape() != TextShape::Words || !v.contains("  "))
        }));
        let optional = rule.parse_optional(Some(&raw));
        check!(typed(optional, |v| v.is_none() == raw.trim().is_empty()));
    }

    #[test]
    fn forbidden_characters_are_refused_wherever_they_stand(
        before in text_of(10), after in text_of(10),
        c in proptest::sample::select(vec!['\0', '\u{7}', '\u{1b}', '\u{200b}', '\u{202e}', '\u{2069}', '\u{feff}']),
        i in 0usize..RULES.len(),
    ) {
        let rule = RULES[i];
        let got = rule.parse(&format!("a{before}{c}{after}b"));
        let refused = matches!(got, Err(Error::Validation { field, .. }) if field == rule.field());
        check!(refused);
    }

    #[test]
    fn bounded_text_is_the_line_rule(raw in any_text(), max in 0usize..40) {
        prop_assert_eq!(
            text::bounded_text("x", &raw, max),
            TextRule::new("x", max, TextShape::Line).parse(&raw)
        );
    }

    #[test]
    fn document_numbers(t in document_type(), raw in digits_like()) {
        let got = DocumentNumber::parse(t, &raw);
        check!(same_field(&got, "document_number"));
        check!(typed(got, |n| {
            DocumentNumber::parse(t, n.as_str()).as_ref() == Ok(&n)
                && n.as_str().chars().all(|c| c.is_ascii_alphanumeric())
        }));
    }

    #[test]
    fn person_names(raw in any_text()) {
        let got = PersonName::parse("first_name", &raw);
        check!(same_field(&got, "first_name"));
        check!(typed(got, |n| {
            PersonName::parse("first_name", n.as_str()).as_ref() == Ok(&n)
                && clean(n.as_str(), TextShape::Words)
        }));
        check!(typed(PersonName::parse_optional("middle_name", Some(&raw)), |_| true));
    }

    #[test]
    fn phones(raw in digits_like()) {
        let got = Phone::parse("phone", &raw);
        check!(same_field(&got, "phone"));
        check!(typed(got, |p| Phone::parse("phone", p.as_str()).as_ref() == Ok(&p)));
        check!(typed(Phone::parse_optional("alternative_phone", Some(&raw)), |_| true));
    }

    #[test]
    fn emails(raw in email_like()) {
        let got = Email::parse(&raw);
        check!(same_field(&got, "email"));
        check!(typed(got, |e| {
            Email::parse(e.as_str()).as_ref() == Ok(&e)
                && !e.as_str().chars().any(is_forbidden)
        }));
    }

    #[test]
    fn birth_dates(date in date(), today in date()) {
        let got = BirthDate::parse(date, today);
        check!(same_field(&got, "birth_date"));
        check!(typed(got, |b| b.date() <= today && b.date() >= MIN_BIRTH_DATE));
    }

    #[test]
    fn business_dates_and_daily_jobs(date in date(), today in date()) {
        let got = check_business_date("start_date", date);
        check!(typed(got, |d| (EARLIEST_DATE..=LATEST_DATE).contains(&d)));
        let jobs = daily_jobs_day(date, today);
        check!(same_field(&jobs, "today"));
        check!(typed(jobs, |d| d <= today && d <= LATEST_DATE));
    }

    #[test]
    fn clients(
        t in document_type(), number in digits_like(), first in text_of(20), middle in proptest::option::of(text_of(10)),
        last in text_of(20), phone in digits_like(), email in proptest::option::of(email_like()),
        birth in date(), address in proptest::option::of(any_text()), gender in proptest::sample::select(Gender::ALL.to_vec()),
    ) {
        let input = ClientInput {
            document_type: t,
            document_number: number,
            first_name: first,
            middle_name: middle,
            last_name: last,
            second_last_name: None,
            phone,
            alternative_phone: None,
            email,
            birth_date: birth,
            gender,
            address,
        };
        check!(typed(NewClient::parse(input, today()), |c| {
            let again = ClientInput {
                document_type: c.document_type,
                document_number: c.document_number.as_str().to_owned(),
                first_name: c.first_name.as_str().to_owned(),
                middle_name: c.middle_name.as_ref().map(|n| n.as_str().to_owned()),
                last_name: c.last_name.as_str().to_owned(),
                second_last_name: None,
                phone: c.phone.as_str().to_owned(),
                alternative_phone: None,
                email: c.email.as_ref().map(|e| e.as_str().to_owned()),
                birth_date: c.birth_date.date(),
                gender: c.gender,
                address: c.address.clone(),
            };
            NewClient::parse(again, today()).as_ref() == Ok(&c)
        }));
    }

    #[test]
    fn client_updates(address in any_text(), phone in digits_like(), first in text_of(20)) {
        let client = stored_client();
        let update = ClientUpdate {
            address: Some(address),
            phone: Some(phone),
            first_name: Some(first),
            ..ClientUpdate::default()
        };
        check!(typed(update.apply_to(&client, today()), |_| true));
    }

    #[test]
    fn client_searches(raw in any_text()) {
        let got = search_terms(&raw);
        check!(same_field(&got, "text"));
        // Lower-casing may lengthen a few characters (`İ` becomes two), never threefold.
        check!(typed(got, |s| !s.is_empty() && s.chars().count() <= 3 * 200 && !s.chars().any(is_forbidden)));
    }

    #[test]
    fn plans(
        name in any_text(), slug in proptest::option::of(text_of(20)), description in proptest::option::of(any_text()),
        price in decimal(), currency in proptest::option::of(text_of(4)), unit in unit(), count in any::<u32>(),
    ) {
        let input = PlanInput { name, slug, description, price, currency, duration_unit: unit, duration_count: count };
        check!(typed(NewPlan::parse(input), |p| {
            let again = PlanInput {
                name: p.name.clone(),
                slug: p.slug.clone(),
                description: p.description.clone(),
                price: p.price.amount(),
                currency: Some(p.currency.as_str().to_owned()),
                duration_unit: p.duration.unit(),
                duration_count: p.duration.count(),
            };
            NewPlan::parse(again).as_ref() == Ok(&p)
        }));
    }

    #[test]
    fn slugs(raw in prop_oneof!["[a-z0-9\\-]{0,20}", text_of(20)]) {
        check!(typed(parse_slug(&raw), |s| parse_slug(&s).as_ref() == Ok(&s)));
    }

    #[test]
    fn durations_and_end_dates(unit in unit(), count in any::<u32>(), start in date()) {
        check!(typed(PlanDuration::new(unit, count), |d| {
            let end = d.end_date(start);
            same_field(&end, "start_date")
                && typed(end, |e| e >= start && e < NaiveDate::from_ymd_opt(3100, 1, 1).unwrap_or_default())
        }));
    }

    #[test]
    fn products(
        name in any_text(), description in proptest::option::of(any_text()), capacity in decimal(),
        unit_type in text_of(12), price in decimal(), photo in proptest::option::of(any_text()),
        min in proptest::option::of(decimal()), max in proptest::option::of(decimal()),
    ) {
        let input = ProductInput {
            name, description, capacity_value: capacity, unit_type, price, currency: None,
            photo_url: photo, min_stock: min, max_stock: max,
        };
        check!(typed(NewProduct::parse(input), |p| {
            let again = ProductInput {
                name: p.name.clone(),
                description: p.description.clone(),
                capacity_value: p.capacity_value,
                unit_type: p.unit_type.clone(),
                price: p.price.amount(),
                currency: Some(p.currency.as_str().to_owned()),
                photo_url: p.photo_url.clone(),
                min_stock: Some(p.limits.min_stock().value()),
                max_stock: p.limits.max_stock().map(|q| q.value()),
            };
            NewProduct::parse(again).as_ref() == Ok(&p)
        }));
    }

    #[test]
    fn amounts_quantities_and_percentages(d in decimal(), raw in text_of(12)) {
        check!(typed(Money::parse("amount", d), |m| Money::parse("amount", m.amount()) == Ok(m)));
        check!(typed(Money::parse_positive("amount", d), |m| !m.is_zero()));
        check!(typed(Money::parse_str("amount", &raw), |m| Money::parse("amount", m.amount()) == Ok(m)));
        check!(typed(Money::parse_str("amount", &d.to_string()), |_| true));
        check!(typed(Quantity::parse("quantity", d), |q| Quantity::parse("quantity", q.value()) == Ok(q)));
        check!(typed(Quantity::parse_positive("quantity", d), |q| q.value() > Decimal::ZERO));
        check!(typed(DiscountPercent::parse(d), |p| DiscountPercent::parse(p.value()) == Ok(p)));
        check!(typed(StockLimits::parse(d, Some(d)), |_| true));
        check!(typed(PriceSnapshot::parse(d, Some(d)), |_| true));
        check!(typed(RewardConfig::new(1, d, 7, vec![DurationUnit::Month]), |_| true));
    }

    #[test]
    fn currencies_ids_and_pages(raw in text_of(40), limit in any::<u32>(), offset in any::<u64>()) {
        check!(typed(Currency::parse(&raw), |c| Currency::parse(c.as_str()) == Ok(c)));
        check!(typed(ClientId::parse(&raw), |id| ClientId::parse(&id.to_string()) == Ok(id)));
        check!(typed(PlanId::parse(&raw), |_| true));
        check!(typed(SubscriptionId::parse(&raw), |_| true));
        check!(typed(PageRequest::new(limit, offset), |p| p.limit() == limit && p.offset() == offset));
        check!(typed(BusinessCalendar::new(&raw), |c| BusinessCalendar::new(c.zone_name()) == Ok(c)));
    }

    #[test]
    fn named_values(raw in prop_oneof![text_of(20), "[a-zA-Z_ ]{0,24}"]) {
        check!(typed(raw.parse::<DocumentType>(), |t| t.as_str().parse() == Ok(t)));
        check!(typed(raw.parse::<Gender>(), |g| g.as_str().parse() == Ok(g)));
        check!(typed(raw.parse::<DurationUnit>(), |u| u.as_str().parse() == Ok(u)));
        check!(typed(raw.parse::<Role>(), |r| r.as_str().parse() == Ok(r)));
        check!(typed(raw.parse::<Action>(), |a| a.as_str().parse() == Ok(a)));
        check!(typed(raw.parse::<AccountChange>(), |_| true));
        check!(typed(raw.parse::<MovementType>(), |m| m.as_str().parse() == Ok(m)));
        check!(typed(raw.parse::<StockStatus>(), |s| s.as_str().parse() == Ok(s)));
        check!(typed(raw.parse::<SubscriptionStatus>(), |s| s.as_str().parse() == Ok(s)));
        check!(typed(raw.parse::<SubscriptionEvent>(), |e| e.as_str().parse() == Ok(e)));
        check!(typed(raw.parse::<PaymentMethod>(), |m| m.as_str().parse() == Ok(m)));
        check!(typed(raw.parse::<RewardStatus>(), |s| s.as_str().parse() == Ok(s)));
        check!(typed(raw.parse::<super::access::CheckInMethod>(), |m| m.as_str().parse() == Ok(m)));
    }

    #[test]
    fn staff_inputs(raw in any_text()) {
        check!(typed(Username::parse(&raw), |u| Username::parse(u.as_str()).as_ref() == Ok(&u)));
        check!(typed(check_password_policy(&raw), |()| true));
        let full = parse_full_name(Some(&raw));
        check!(same_field(&full, "full_name"));
        check!(typed(full, |n| n.is_none_or(|n| parse_full_name(Some(&n)) == Ok(Some(n.clone())))));
    }

    #[test]
    fn consents(purpose in any_text(), guardian in proptest::option::of((text_of(20), document_type(), digits_like()))) {
        let client = stored_client();
        let input = ConsentInput {
            purpose,
            guardian: guardian.map(|(name, document_type, document_number)| Guardian { name, document_type, document_number }),
        };
        let got = NewConsent::parse(&client, input, Utc::now(), today());
        let ok = match got {
            Ok(c) => text::CONSENT_PURPOSE.parse(&c.purpose).as_ref() == Ok(&c.purpose),
            Err(Error::Validation { field, .. }) => {
                ["purpose", "guardian_name", "guardian_document_number"].contains(&field)
            }
            Err(_) => false,
        };
        check!(ok);
    }
}

/// An adult member as the store returns one.
fn stored_client() -> Client {
    let at = chrono::DateTime::<Utc>::default();
    Client {
        id: ClientId::from_uuid(uuid::Uuid::nil()),
        document_type: DocumentType::Cc,
        document_number: DocumentNumber::from_stored("1020304050".into()),
        first_name: PersonName::from_stored("Ana".into()),
        middle_name: None,
        last_name: PersonName::from_stored("Gómez".into()),
        second_last_name: None,
        phone: Phone::from_stored("3001234567".into()),
        alternative_phone: None,
        email: None,
        birth_date: BirthDate::from_stored(NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default()),
        gender: Gender::Female,
        address: None,
        is_active: true,
        created_at: at,
        updated_at: at,
    }
}
