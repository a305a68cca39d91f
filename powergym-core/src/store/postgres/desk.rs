//! The desk's combined first statements on PostgreSQL: the acting staff member, the
//! row a use case locks and what its decision reads, in one round trip (see the
//! `StoreTransaction` methods they answer). The face identification through the cache
//! has one too, which locks nothing and runs outside any transaction
//! (`face_identify_context_pg`, for `Store::face_identify_context`): the account, the
//! templates changed since the cache's mark and the proposed member's template, all
//! from the statement's one snapshot.
//!
//! Every statement that locks has the same shape, and the shape is what keeps it as
//! correct as separate statements would be. READ COMMITTED gives a statement one snapshot, taken
//! when it starts; a statement that waits for a row lock would then read, everywhere but
//! in the locked row, the database as it was before the wait, missing what the lock's
//! holder committed. So:
//!
//! - the lock is taken in a `for update` subquery joined laterally, which the planner
//!   never merges into the outer query, so its rows come out only once locked; the
//!   server re-reads a locked row at its newest version;
//! - everything else the decision reads comes from a VOLATILE function of migration 0014
//!   joined laterally after that subquery (it takes the locked row's id, so it runs only
//!   once the row is held), and a volatile function takes a fresh snapshot for each
//!   query it runs: it sees every commit up to the lock, as a next statement would;
//! - the staff account and, for a face, the templates changed since the cache's mark
//!   need no lock and are read from the statement's own snapshot, as separate
//!   statements before the lock read them.
//!
//! A missing staff member, client, subscription or product comes back as `None` (the
//! left joins keep the one row), so the caller decides in the usual order: permission
//! first, then existence.

use pgvector::Vector;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use super::clients::{CLIENT_COLUMNS, ClientRow};
use super::inventory::{PRODUCT, ProductRow};
use super::payments::{COLUMNS as PAYMENT_COLUMNS, PaymentRow};
use super::subscriptions::{PREFIXED_WITH_PAID, PrefixedWithPaid};
use super::{PgTransaction, errors, staff};
use crate::domain::client::Client;
use crate::domain::ids::{ClientId, SubscriptionId};
use crate::domain::inventory::Product;
use crate::domain::payment::Payment;
use crate::domain::staff::Staff;
use crate::domain::subscription::SubscriptionStatus;
use crate::error::{Error, Result};
use crate::face::FaceEmbedding;
use crate::store::{
    CheckInContext, FaceCheckInContext, FaceIdentifyContext, MemberRef, NewPayment, PaymentContext,
};

fn db(e: sqlx::Error) -> Error {
    errors::map(e)
}

/// The check-in statement: `$1` the acting username, `$2` the member (id or document
/// number, by `filter`), `$3` the business day; `extra_from`/`extra_columns` add the
/// face check-in's parts.
fn check_in_sql(filter: &str, extra_from: &str, extra_columns: &str) -> String {
    let staff = staff::PREFIXED;
    format!(
        "select {staff}, c.*, m.attended, {PREFIXED_WITH_PAID}{extra_columns} \
         from (select 1) as one{extra_from} \
         left join users u on u.username = $1 \
         left join lateral (select {CLIENT_COLUMNS} from clients where {filter} for update) c on true \
         left join lateral (select powergym_attended_on(c.id, $3) as attended) m on true \
         left join lateral (select (f.sub).*, f.paid from powergym_client_subscriptions(c.id) f) s on true \
         order by s.created_at desc, s.id desc"
    )
}

/// The member's check-in context from the rows of [`check_in_sql`] (one per
/// subscription, or one with no subscription), if the member was found.
fn check_in_context(rows: &[PgRow]) -> Result<Option<CheckInContext>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    if first
        .try_get::<Option<Uuid>, _>("id")
        .map_err(db)?
        .is_none()
    {
        return Ok(None);
    }
    let client: Client = sqlx::FromRow::from_row(first)
        .map_err(db)
        .and_then(|r: ClientRow| r.try_into())?;
    let attended_today = first
        .try_get::<Option<bool>, _>("attended")
        .map_err(db)?
        .unwrap_or(false);
    let mut subscriptions = Vec::new();
    for row in rows {
        if row
            .try_get::<Option<Uuid>, _>("s_id")
            .map_err(db)?
            .is_some()
        {
            let sub: PrefixedWithPaid = sqlx::FromRow::from_row(row).map_err(db)?;
            subscriptions.push(sub.into_pair()?);
        }
    }
    Ok(Some(CheckInContext {
        client,
        attended_today,
        subscriptions,
    }))
}

/// The staff account of a combined statement's rows (the same on each).
fn staff_of(rows: &[PgRow]) -> Result<Option<Staff>> {
    match rows.first() {
        Some(row) => staff::prefixed(row),
        None => Ok(None),
    }
}

pub(super) async fn check_in_context_pg(
    tx: &mut PgTransaction,
    actor: &str,
    member: MemberRef<'_>,
    day: chrono::NaiveDate,
) -> Result<(Option<Staff>, Option<CheckInContext>)> {
    let rows = match member {
        MemberRef::Id(id) => {
            sqlx::query(AssertSqlSafe(check_in_sql("id = $2", "", "")))
                .bind(actor)
                .bind(id.as_uuid())
                .bind(day)
                .fetch_all(&mut *tx.tx)
                .await
        }
        MemberRef::Document(number) => {
            sqlx::query(AssertSqlSafe(check_in_sql("dni_number = $2", "", "")))
                .bind(actor)
                .bind(number.as_str())
                .bind(day)
                .fetch_all(&mut *tx.tx)
                .await
        }
    }
    .map_err(db)?;
    Ok((staff_of(&rows)?, check_in_context(&rows)?))
}

pub(super) async fn face_check_in_context_pg(
    tx: &mut PgTransaction,
    actor: &str,
    changed_since: i64,
    member: Option<ClientId>,
    day: chrono::NaiveDate,
) -> Result<FaceCheckInContext> {
    // The changed templates come as one array of ids and one bytea of their vectors in
    // pgvector's binary form, on the first row, so the statement keeps one row per
    // subscription of the proposed member whatever the number of changes. The member's own template is read
    // after their lock, like the rest of their context.
    let sql = check_in_sql(
        "id = $2",
        &format!(" cross join {}", changed_since_sql("$4")),
        // The changes come on the first row only (the caller reads them there): up to a
        // few hundred templates need not be repeated on every subscription row.
        ", case when row_number() over (order by s.created_at desc, s.id desc) = 1 \
           then ch.ids end as changed_ids, \
         case when row_number() over (order by s.created_at desc, s.id desc) = 1 \
           then ch.vectors end as changed_vectors, e.embedding as member_embedding",
    )
    .replace(
        " left join lateral (select (f.sub)",
        " left join lateral (select powergym_face_embedding(c.id) as embedding) e on true \
         left join lateral (select (f.sub)",
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(actor)
        .bind(member.map(|m| m.as_uuid()))
        .bind(day)
        .bind(changed_since)
        .fetch_all(&mut *tx.tx)
        .await
        .map_err(db)?;
    let first = rows.first().ok_or_else(|| Error::Database {
        code: None,
        message: "the face check-in statement returned no row".into(),
    })?;
    let ids: Option<Vec<Uuid>> = first.try_get("changed_ids").map_err(db)?;
    let vectors: Option<Vec<u8>> = first.try_get("changed_vectors").map_err(db)?;
    let changed = decode_changed(ids.unwrap_or_default(), vectors.unwrap_or_default())?;
    let member = match check_in_context(&rows)? {
        None => None,
        Some(context) => {
            let template: Option<Vector> = first.try_get("member_embedding").map_err(db)?;
            let template = template
                .map(|v| FaceEmbedding::from_slice(v.as_slice()))
                .transpose()?;
            Some((context, template))
        }
    };
    Ok(FaceCheckInContext {
        staff: staff::prefixed(first)?,
        changed,
        member,
    })
}

/// The active templates changed after the mark `$n`, as a from-item `ch` of one row:
/// `ids` (a uuid array) and `vectors` (their binary vectors, concatenated in the same
/// order, for [`decode_changed`]). A function of migration 0015, so the statement's
/// generic plan is priced right and kept (see the migration).
fn changed_since_sql(mark: &str) -> String {
    format!("powergym_face_changes_since({mark}) ch")
}

/// [`Store::face_identify_context`](crate::store::Store::face_identify_context): one
/// statement outside any transaction (it locks nothing and writes nothing), so one
/// snapshot and one round trip. `$1` the acting username, `$2` the proposed member,
/// `$3` the cache's mark.
pub(super) async fn face_identify_context_pg(
    store: &super::PgStore,
    actor: &str,
    changed_since: i64,
    member: Option<ClientId>,
) -> Result<FaceIdentifyContext> {
    let sql = format!(
        "select {staff}, ch.ids as changed_ids, ch.vectors as changed_vectors, \
           (select b.embedding from biometrics b \
            where b.client_id = $2 and b.type = 'FACE' and b.is_active) as member_embedding \
         from (select 1) as one cross join {changed} \
         left join users u on u.username = $1",
        staff = staff::PREFIXED,
        changed = changed_since_sql("$3"),
    );
    let row = store
        .on_live_connection(|conn| {
            let (sql, actor) = (sql.clone(), actor.to_owned());
            Box::pin(async move {
                sqlx::query(AssertSqlSafe(sql))
                    .bind(actor)
                    .bind(member.map(|m| m.as_uuid()))
                    .bind(changed_since)
                    .fetch_one(&mut **conn)
                    .await
            })
        })
        .await?;
    let ids: Option<Vec<Uuid>> = row.try_get("changed_ids").map_err(db)?;
    let vectors: Option<Vec<u8>> = row.try_get("changed_vectors").map_err(db)?;
    let template: Option<Vector> = row.try_get("member_embedding").map_err(db)?;
    Ok(FaceIdentifyContext {
        staff: staff::prefixed(&row)?,
        changed: decode_changed(ids.unwrap_or_default(), vectors.unwrap_or_default())?,
        template: template
            .map(|v| FaceEmbedding::from_slice(v.as_slice()))
            .transpose()?,
    })
}

/// Splits pgvector's binary vectors (per vector: dimensions as a big-endian u16, two
/// unused bytes, then each value a big-endian f32), one per id.
fn decode_changed(ids: Vec<Uuid>, bytes: Vec<u8>) -> Result<Vec<(ClientId, FaceEmbedding)>> {
    let malformed = || Error::Database {
        code: None,
        message: "a face template arrived malformed".into(),
    };
    let mut out = Vec::with_capacity(ids.len());
    let mut rest = bytes.as_slice();
    for id in ids {
        let (head, tail) = rest.split_at_checked(4).ok_or_else(malformed)?;
        let dim = usize::from(u16::from_be_bytes([head[0], head[1]]));
        let (body, tail) = tail.split_at_checked(dim * 4).ok_or_else(malformed)?;
        let values: Vec<f32> = body
            .chunks_exact(4)
            .map(|b| f32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.push((ClientId::from_uuid(id), FaceEmbedding::from_slice(&values)?));
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(malformed());
    }
    Ok(out)
}

pub(super) async fn payment_context_pg(
    tx: &mut PgTransaction,
    actor: &str,
    subscription: SubscriptionId,
    key: Option<&str>,
) -> Result<PaymentContext> {
    // The paid total and the retry key's payment are read after the subscription's lock
    // (through the volatile functions, which take the locked row's id), so they count
    // every payment committed before it was granted: a concurrent first call under the
    // same key is found here rather than at the unique index.
    let sql = format!(
        "select {staff}, {PREFIXED_WITH_PAID}, {PAYMENT_COLUMNS} \
         from (select 1) as one \
         left join users u on u.username = $1 \
         left join lateral (select s0.*, powergym_paid(s0.id) as paid \
             from (select * from subscriptions where id = $2 for update) s0) s on true \
         left join lateral powergym_payment_by_key(case when s.id is not null then $3::text end) p on true",
        staff = staff::PREFIXED,
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(actor)
        .bind(subscription.as_uuid())
        .bind(key)
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(db)?;
    let subscription = if row
        .try_get::<Option<Uuid>, _>("s_id")
        .map_err(db)?
        .is_some()
    {
        let sub: PrefixedWithPaid = sqlx::FromRow::from_row(&row).map_err(db)?;
        Some(sub.into_pair()?)
    } else {
        None
    };
    let first = if row.try_get::<Option<Uuid>, _>("id").map_err(db)?.is_some() {
        let payment: PaymentRow = sqlx::FromRow::from_row(&row).map_err(db)?;
        Some(Payment::try_from(payment)?)
    } else {
        None
    };
    Ok(PaymentContext {
        staff: staff::prefixed(&row)?,
        subscription,
        first,
    })
}

pub(super) async fn insert_payment_with_status_pg(
    tx: &mut PgTransaction,
    n: &NewPayment,
    status: Option<(SubscriptionStatus, SubscriptionStatus)>,
) -> Result<Payment> {
    // One statement: the payment (its trigger, migration 0007, checks the total at the
    // end of the statement) and the status move, guarded by the status it leaves.
    let sql = format!(
        "with p as (insert into payments as p (subscription_id, amount, payment_method, \
           received_by, notes, idempotency_key, payment_date) \
           values ($1, $2, $3::payment_method_enum, $4, $5, $6, $7) returning {PAYMENT_COLUMNS}), \
         moved as (update subscriptions set status = $9::subscription_status_enum \
           where $8::text is not null and id = $1 and status::text = $8 returning 1) \
         select p.*, (select count(*) from moved) as moved from p"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(n.subscription_id.as_uuid())
        .bind(n.amount.amount())
        .bind(n.method.as_str())
        .bind(&n.received_by)
        .bind(n.notes.as_deref())
        .bind(n.idempotency_key.as_deref())
        .bind(n.payment_date)
        .bind(status.map(|(from, _)| from.as_str()))
        .bind(status.map(|(_, to)| to.as_str()))
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(errors::map)?;
    if let Some((from, _)) = status
        && row.try_get::<i64, _>("moved").map_err(db)? == 0
    {
        return Err(Error::Conflict {
            reason: format!("the subscription is no longer {from}; reload it and try again"),
        });
    }
    let payment: PaymentRow = sqlx::FromRow::from_row(&row).map_err(db)?;
    payment.try_into()
}

pub(super) async fn stock_context_pg(
    tx: &mut PgTransaction,
    actor: &str,
    product: Uuid,
) -> Result<(Option<Staff>, Option<Product>)> {
    // The product row is all a movement decides on, and a locked row is read at its
    // newest version.
    let sql = format!(
        "select {staff}, p.* from (select 1) as one \
         left join users u on u.username = $1 \
         left join lateral (select {PRODUCT} from products where id = $2 for update) p on true",
        staff = staff::PREFIXED,
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(actor)
        .bind(product)
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(db)?;
    let product = if row.try_get::<Option<Uuid>, _>("id").map_err(db)?.is_some() {
        let p: ProductRow = sqlx::FromRow::from_row(&row).map_err(db)?;
        Some(p.try_into()?)
    } else {
        None
    };
    Ok((staff::prefixed(&row)?, product))
}
