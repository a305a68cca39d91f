//! Strict conversions of call arguments, used with `#[pyo3(from_py_with = ...)]`.
//!
//! Python is loose where money and counts need to be exact: `True` is an `int` (so PyO3
//! would take it as 1, and as an amount of 1.00), a `decimal.Decimal` may be NaN or
//! infinite, an `int` may exceed any Rust integer (PyO3 raises `OverflowError`), and a
//! list of ints converts to bytes, and a `str` holding a lone surrogate cannot be UTF-8
//! (PyO3 raises `UnicodeEncodeError`). These conversions refuse each with `ValidationError`
//! naming the argument, so every bad input surfaces as the one typed error. Ids are a
//! `uuid.UUID` or its text; an instant is a timezone-aware `datetime` in any zone (a naive
//! one names no instant). They judge the Python type only; the rules (ranges, decimal
//! places, pool limits) stay in core.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateTime, PyFloat, PyInt, PyMemoryView, PyString,
    PyType,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::errors::to_py;
use powergym_core as core;

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TIMEZONE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UUID: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `ValidationError` naming `field`.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> PyErr {
    to_py(core::Error::validation(field, reason))
}

/// An exact number: a `decimal.Decimal` (finite) or an `int` (not a `bool`), within the
/// range of a 96-bit decimal. Floats and strings are refused: a float cannot hold cents
/// exactly, and a string is a caller's mistake.
pub(crate) fn decimal(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Decimal> {
    if obj.is_instance_of::<PyBool>() {
        return Err(invalid(field, "must be a number, not a bool"));
    }
    let is_decimal = obj.is_instance(DECIMAL.import(obj.py(), "decimal", "Decimal")?)?;
    if is_decimal && !obj.call_method0("is_finite")?.extract::<bool>()? {
        return Err(invalid(
            field,
            "must be a finite number, not NaN or infinity",
        ));
    }
    if !is_decimal && !obj.is_instance_of::<PyInt>() {
        return Err(invalid(field, "must be a decimal.Decimal or an int"));
    }
    let text = obj.str()?;
    let text = text.to_cow()?;
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| invalid(field, "is out of range"))
}

/// [`decimal`], or `None`.
pub(crate) fn optional_decimal(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Option<Decimal>> {
    if obj.is_none() {
        return Ok(None);
    }
    decimal(field, obj).map(Some)
}

/// A whole number (an `int` or anything with `__index__`, never a `bool`) that fits `T`.
pub(crate) fn integer<T: TryFrom<i128>>(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<T> {
    if obj.is_instance_of::<PyBool>() {
        return Err(invalid(field, "must be a whole number, not a bool"));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Err(invalid(field, "must be a whole number"));
    }
    // Wider than any target, so only a truly huge int fails here; both failures are
    // the same refusal to the caller.
    let wide: i128 = obj
        .extract()
        .map_err(|_| invalid(field, "must be a whole number within range"))?;
    T::try_from(wide).map_err(|_| invalid(field, "must be a whole number within range"))
}

/// A non-negative whole number up to 2³² − 1.
pub(crate) fn unsigned32(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    integer(field, obj)
}

/// A non-negative whole number up to 2⁶⁴ − 1.
pub(crate) fn unsigned64(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    integer(field, obj)
}

/// A whole number within ±2⁶³.
pub(crate) fn signed64(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    integer(field, obj)
}

/// A real number (a `float` or an `int`, never a `bool`); whether NaN or a negative
/// value is acceptable is the rule's to say.
pub(crate) fn real(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    if obj.is_instance_of::<PyBool>() {
        return Err(invalid(field, "must be a number, not a bool"));
    }
    if !obj.is_instance_of::<PyFloat>() && !obj.is_instance_of::<PyInt>() {
        return Err(invalid(field, "must be a float or an int"));
    }
    obj.extract()
        .map_err(|_| invalid(field, "must be a number within range"))
}

/// [`real`] as a single-precision float (face distances); a value past `f32`'s range
/// becomes infinite, which the rule then refuses.
pub(crate) fn real32(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<f32> {
    real(field, obj).map(|v| v as f32)
}

/// [`real`], or `None`.
pub(crate) fn optional_real(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
    if obj.is_none() {
        return Ok(None);
    }
    real(field, obj).map(Some)
}

/// Text: a `str` that is valid Unicode (no lone surrogates, which no UTF-8 store can
/// hold). Which characters a field accepts is core's rule.
pub(crate) fn text(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let s = obj
        .cast::<PyString>()
        .map_err(|_| invalid(field, "must be a str"))?;
    s.to_cow()
        .map(|cow| cow.into_owned())
        .map_err(|_| invalid(field, "must be valid Unicode text (no lone surrogates)"))
}

/// The `text` argument of a search, by [`text`] (a converter named `text` would be
/// this module's [`text`] itself).
pub(crate) fn search_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    text("text", obj)
}

/// [`text`], or `None`.
pub(crate) fn optional_text(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Option<String>> {
    if obj.is_none() {
        return Ok(None);
    }
    text(field, obj).map(Some)
}

/// Binary data: `bytes`, `bytearray` or `memoryview`, never a list of ints or a string.
pub(crate) fn binary(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        Ok(b.as_bytes().to_vec())
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        Ok(b.to_vec())
    } else if obj.is_instance_of::<PyMemoryView>() {
        let copy = obj.call_method0("tobytes")?;
        Ok(copy.cast::<PyBytes>()?.as_bytes().to_vec())
    } else {
        Err(invalid(field, "must be bytes, bytearray or memoryview"))
    }
}

/// [`binary`], or `None`.
pub(crate) fn optional_binary(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Option<Vec<u8>>> {
    if obj.is_none() {
        return Ok(None);
    }
    binary(field, obj).map(Some)
}

/// A `bool`, and only a `bool` (not an int or another truthy object).
pub(crate) fn boolean(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    obj.cast::<PyBool>()
        .map(|b| b.is_true())
        .map_err(|_| invalid(field, "must be a bool"))
}

/// An id: a `uuid.UUID` or its string form (`'0b6e…'`, with or without hyphens).
pub(crate) fn uuid(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Uuid> {
    if obj.is_instance(UUID.import(obj.py(), "uuid", "UUID")?)? {
        return obj.extract();
    }
    let text = obj
        .cast::<PyString>()
        .map_err(|_| invalid(field, "must be a uuid.UUID or its string form"))?;
    Uuid::parse_str(text.to_cow()?.trim()).map_err(|_| invalid(field, "is not a valid UUID"))
}

/// [`uuid`], or `None`.
pub(crate) fn optional_uuid(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Option<Uuid>> {
    if obj.is_none() {
        return Ok(None);
    }
    uuid(field, obj).map(Some)
}

/// A calendar day: a `datetime.date`, not a `datetime.datetime` (whose time of day and
/// zone would be silently dropped).
pub(crate) fn date(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<NaiveDate> {
    if obj.is_instance_of::<PyDateTime>() || !obj.is_instance_of::<PyDate>() {
        return Err(invalid(field, "must be a datetime.date"));
    }
    obj.extract()
        .map_err(|_| invalid(field, "must be a datetime.date"))
}

/// An instant: a timezone-aware `datetime.datetime` in any zone (`timezone.utc`,
/// `ZoneInfo('America/Bogota')`, a fixed offset...), converted to UTC by Python's own
/// rules. A naive datetime names no instant and is refused.
pub(crate) fn aware_datetime(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<DateTime<Utc>> {
    if !obj.is_instance_of::<PyDateTime>() {
        return Err(invalid(field, "must be a datetime.datetime"));
    }
    if obj.call_method0("utcoffset")?.is_none() {
        return Err(invalid(
            field,
            "must be timezone-aware (a naive datetime names no instant)",
        ));
    }
    let utc = TIMEZONE
        .import(obj.py(), "datetime", "timezone")?
        .getattr("utc")?;
    obj.call_method1("astimezone", (utc,))
        .and_then(|in_utc| in_utc.extract())
        .map_err(|_| invalid(field, "is out of range"))
}

/// One converter per argument name, for `from_py_with` (which takes a function of the
/// object alone), so each error names the argument the caller wrote.
/// `name("field")` names the argument when the function's name differs from it (an
/// optional form of a required argument, say).
macro_rules! arguments {
    ($( $name:ident $(($field:literal))? -> $ty:ty = $conv:ident; )*) => {$(
        #[doc = concat!("The `", stringify!($name), "` argument, by [`", stringify!($conv), "`].")]
        pub(crate) fn $name(obj: &Bound<'_, PyAny>) -> PyResult<$ty> {
            $conv(arguments!(@field $name $($field)?), obj)
        }
    )*};
    (@field $name:ident) => { stringify!($name) };
    (@field $name:ident $field:literal) => { $field };
}

arguments! {
    list_price -> Decimal = decimal;
    paid -> Decimal = decimal;
    reward_discount -> Decimal = decimal;
    current -> Decimal = decimal;
    size -> Decimal = decimal;
    unit_price -> Decimal = decimal;
    discount -> Option<Decimal> = optional_decimal;
    amount -> Decimal = decimal;
    price -> Decimal = decimal;
    quantity -> Decimal = decimal;
    capacity_value -> Decimal = decimal;
    min_stock -> Option<Decimal> = optional_decimal;
    max_stock -> Option<Decimal> = optional_decimal;
    discount_percentage -> Option<Decimal> = optional_decimal;
    duration_count -> u32 = unsigned32;
    limit -> u32 = unsigned32;
    offset -> u64 = unsigned64;
    version -> i64 = signed64;
    max_connections -> u32 = unsigned32;
    min_connections -> u32 = unsigned32;
    acquire_timeout -> f64 = real;
    max_lifetime -> Option<f64> = optional_real;
    idle_timeout -> Option<f64> = optional_real;
    statement_timeout -> Option<f64> = optional_real;
    lock_timeout -> Option<f64> = optional_real;
    idle_in_transaction_timeout -> Option<f64> = optional_real;
    call_timeout -> Option<f64> = optional_real;
    max_face_distance -> f32 = real32;
    face_ambiguity_margin -> f32 = real32;
    thumbnail -> Option<Vec<u8>> = optional_binary;
    jpeg -> Vec<u8> = binary;
    sealed -> Vec<u8> = binary;
    url -> String = text;
    document_type -> String = text;
    document_number -> String = text;
    first_name -> String = text;
    last_name -> String = text;
    phone -> String = text;
    gender -> String = text;
    middle_name -> Option<String> = optional_text;
    second_last_name -> Option<String> = optional_text;
    alternative_phone -> Option<String> = optional_text;
    email -> Option<String> = optional_text;
    address -> Option<String> = optional_text;
    username -> String = text;
    password -> String = text;
    role -> String = text;
    full_name -> Option<String> = optional_text;
    name -> String = text;
    duration_unit -> String = text;
    slug -> Option<String> = optional_text;
    description -> Option<String> = optional_text;
    currency -> Option<String> = optional_text;
    method -> String = text;
    notes -> Option<String> = optional_text;
    idempotency_key -> Option<String> = optional_text;
    purpose -> String = text;
    guardian_name -> Option<String> = optional_text;
    guardian_document_type -> Option<String> = optional_text;
    guardian_document_number -> Option<String> = optional_text;
    unit_type -> String = text;
    instant -> DateTime<Utc> = aware_datetime;
    client_id -> Uuid = uuid;
    plan_id -> Uuid = uuid;
    subscription_id -> Uuid = uuid;
    product_id -> Uuid = uuid;
    reward_id -> Uuid = uuid;
    reward_client_id -> Uuid = uuid;
    target_client_id -> Uuid = uuid;
}

/// A required `min_stock` (the rule functions take one; products default it).
pub(crate) fn min_stock_value(obj: &Bound<'_, PyAny>) -> PyResult<Decimal> {
    decimal("min_stock", obj)
}

/// `RewardConfig`'s required `discount_percentage`.
pub(crate) fn reward_percentage(obj: &Bound<'_, PyAny>) -> PyResult<Decimal> {
    decimal("discount_percentage", obj)
}

/// [`unsigned32`], or `None`.
pub(crate) fn optional_unsigned32(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Option<u32>> {
    if obj.is_none() {
        return Ok(None);
    }
    unsigned32(field, obj).map(Some)
}

/// [`date`], or `None`.
pub(crate) fn optional_date(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Option<NaiveDate>> {
    if obj.is_none() {
        return Ok(None);
    }
    date(field, obj).map(Some)
}

// Arguments of the use cases added with `AsyncGym`; the same converters as above.
arguments! {
    birth_date -> NaiveDate = date;
    optional_birth_date("birth_date") -> Option<NaiveDate> = optional_date;
    start_date -> Option<NaiveDate> = optional_date;
    start -> NaiveDate = date;
    end -> NaiveDate = date;
    optional_start("start") -> Option<NaiveDate> = optional_date;
    optional_end("end") -> Option<NaiveDate> = optional_date;
    today -> NaiveDate = date;
    ef_search_value("ef_search") -> Option<u32> = optional_unsigned32;
    face_cache_budget_bytes -> u64 = unsigned64;
    optional_plan_id("plan_id") -> Option<Uuid> = optional_uuid;
    optional_product_id("product_id") -> Option<Uuid> = optional_uuid;
    optional_document_type("document_type") -> Option<String> = optional_text;
    optional_document_number("document_number") -> Option<String> = optional_text;
    optional_first_name("first_name") -> Option<String> = optional_text;
    optional_last_name("last_name") -> Option<String> = optional_text;
    optional_phone("phone") -> Option<String> = optional_text;
    optional_gender("gender") -> Option<String> = optional_text;
    optional_name("name") -> Option<String> = optional_text;
    optional_price("price") -> Option<Decimal> = optional_decimal;
    slug_value("slug") -> String = text;
    current_password -> String = text;
    new_password -> String = text;
    reason -> Option<String> = optional_text;
    status -> Option<String> = optional_text;
    photo_url -> Option<String> = optional_text;
    search -> Option<String> = optional_text;
    report -> String = text;
}
