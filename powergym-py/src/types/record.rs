//! The one definition of a record class: [`record!`] turns a struct of [`Field`]s into a
//! frozen Python class with typed getters, `==` and a matching `__hash__`, pickling
//! (`__reduce__` through the constructor), `to_dict()` with JSON-ready values, and a
//! `__repr__` of the fields it is told to show (ids and states, never personal data).
//!
//! A record is plain Rust data (`Send`), built by `From<core::T>` without the GIL, so an
//! awaitable can make it on a runtime thread and hand it to Python later.

use std::hash::{Hash, Hasher};

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyList, PySequence, PyString, PyTuple};
use pyo3::{IntoPyObjectExt, PyClass};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::types::args;
use crate::types::enums::{Code, Enum};
use powergym_core as core;

/// An amount of money: always two decimal places (`Decimal('45000.00')`), in a record,
/// in `to_dict()` (`'45000.00'`) and in a pickle.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Money(Decimal);

impl Money {
    /// `amount` at two decimal places (core's amounts have at most two).
    pub(crate) fn of(mut amount: Decimal) -> Self {
        amount.rescale(2);
        Self(amount)
    }
}

impl From<core::Money> for Money {
    fn from(m: core::Money) -> Self {
        Self::of(m.amount())
    }
}

impl<'py> IntoPyObject<'py> for Money {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.0.into_bound_py_any(py)
    }
}

impl<'py> IntoPyObject<'py> for &Money {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (*self).into_pyobject(py)
    }
}

/// A value a record can hold: read from a constructor argument, written for `to_dict()`,
/// hashed consistently with `==`, and shown by `__repr__`.
pub(crate) trait Field: Sized {
    /// Reads a constructor argument; a wrong one is `ValidationError` naming `field`.
    fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self>;
    /// The JSON-ready value: str, int, float, bool, None, list or dict.
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
    /// Whether Python sees the same value (so `==` agrees with what the getters return).
    fn same(&self, other: &Self) -> bool;
    /// Feeds the value to `state`; values that are [`same`](Field::same) feed the same.
    fn hash_into<H: Hasher>(&self, state: &mut H);
    /// How `__repr__` shows it.
    fn repr(&self) -> String;
}

/// Text as a Python `repr` would quote it.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

impl Field for String {
    fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        args::text(field, obj)
    }
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, self).into_any())
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
    fn hash_into<H: Hasher>(&self, state: &mut H) {
        self.hash(state);
    }
    fn repr(&self) -> String {
        quoted(self)
    }
}

impl Field for bool {
    fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        args::boolean(field, obj)
    }
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.into_bound_py_any(py)
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
    fn hash_into<H: Hasher>(&self, state: &mut H) {
        self.hash(state);
    }
    fn repr(&self) -> String {
        (if *self { "True" } else { "False" }).to_owned()
    }
}

/// Whole numbers: read refusing `bool` and floats, written as `int`.
macro_rules! whole_fields {
    ($($ty:ty),*) => {$(
        impl Field for $ty {
            fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
                args::integer(field, obj)
            }
            fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                self.into_bound_py_any(py)
            }
            fn same(&self, other: &Self) -> bool {
                self == other
            }
            fn hash_into<H: Hasher>(&self, state: &mut H) {
                self.hash(state);
            }
            fn repr(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

whole_fields!(u32, u64, i32, i64);

/// Real numbers: read refusing `bool`, written as `float`, hashed by value (`0.0` and
/// `-0.0` alike, as they compare equal).
macro_rules! real_fields {
    ($($ty:ty => $read:ident),*) => {$(
        impl Field for $ty {
            fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
                args::$read(field, obj)
            }
            fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                self.into_bound_py_any(py)
            }
            fn same(&self, other: &Self) -> bool {
                self == other
            }
            fn hash_into<H: Hasher>(&self, state: &mut H) {
                let value = if *self == 0.0 { 0.0 } else { *self };
                value.to_bits().hash(state);
            }
            fn repr(&self) -> String {
                format!("{self:?}")
            }
        }
    )*};
}

real_fields!(f32 => real32, f64 => real);

impl Field for Decimal {
    fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        args::decimal(field, obj)
    }
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, &self.to_string()).into_any())
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
    fn hash_into<H: Hasher>(&self, state: &mut H) {
        // `==` ignores trailing zeros (1.5 == 1.50), so the hash must too.
        self.normalize().hash(state);
    }
    fn repr(&self) -> String {
        format!("Decimal('{self}')")
    }
}

impl Field for Money {
    fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let amount = args::decimal(field, obj)?;
        core::Money::parse(field, amount)
            .map(Self::from)
            .map_err(crate::errors::to_py)
    }
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.0.to_json(py)
    }
    fn same(&self, other: &Self) -> bool {
        self.0 == other.0
    }
    fn hash_into<H: Hasher>(&self, state: &mut H) {
        self.0.hash_into(state);
    }
    fn repr(&self) -> String {
        self.0.repr()
    }
}

impl Field for Uuid {
    fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        args::uuid(field, obj)
    }
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, &self.to_string()).into_any())
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
    fn hash_into<H: Hasher>(&self, state: &mut H) {
        self.hash(state);
    }
    fn repr(&self) -> String {
        quoted(&self.to_string())
    }
}

impl Field for NaiveDate {
    fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        args::date(field, obj)
    }
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, &self.format("%Y-%m-%d").to_string()).into_any())
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
    fn hash_into<H: Hasher>(&self, state: &mut H) {
        self.hash(state);
    }
    fn repr(&self) -> String {
        quoted(&self.format("%Y-%m-%d").to_string())
    }
}

/// An instant as Python's `datetime.isoformat()` writes a UTC datetime.
fn isoformat(at: &DateTime<Utc>) -> String {
    if at.nanosecond() / 1000 == 0 {
        at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}

impl Field for DateTime<Utc> {
    fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        args::aware_datetime(field, obj)
    }
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, &isoformat(self)).into_any())
    }
    // Python's datetime holds microseconds: an instant made in Rust (`now()`) may carry
    // nanoseconds that no getter, pickle or `to_dict` shows, so they do not count.
    fn same(&self, other: &Self) -> bool {
        self.timestamp_micros() == other.timestamp_micros()
    }
    fn hash_into<H: Hasher>(&self, state: &mut H) {
        self.timestamp_micros().hash(state);
    }
    fn repr(&self) -> String {
        quoted(&isoformat(self))
    }
}

impl<E: Code> Field for Enum<E> {
    fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        Enum::parse(field, obj)
    }
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, self.code()).into_any())
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
    fn hash_into<H: Hasher>(&self, state: &mut H) {
        self.hash(state);
    }
    fn repr(&self) -> String {
        quoted(self.code())
    }
}

impl<T: Field> Field for Option<T> {
    fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if obj.is_none() {
            Ok(None)
        } else {
            T::from_arg(field, obj).map(Some)
        }
    }
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Some(v) => v.to_json(py),
            None => Ok(py.None().into_bound(py)),
        }
    }
    fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (Some(a), Some(b)) => a.same(b),
            (a, b) => a.is_none() && b.is_none(),
        }
    }
    fn hash_into<H: Hasher>(&self, state: &mut H) {
        self.is_some().hash(state);
        if let Some(v) = self {
            v.hash_into(state);
        }
    }
    fn repr(&self) -> String {
        self.as_ref().map_or_else(|| "None".to_owned(), T::repr)
    }
}

impl<T: Field> Field for Vec<T> {
    fn from_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyString>() {
            return Err(args::invalid(field, "must be a list"));
        }
        let items = obj
            .cast::<PySequence>()
            .map_err(|_| args::invalid(field, "must be a list"))?;
        items
            .try_iter()?
            .map(|item| T::from_arg(field, &item?))
            .collect()
    }
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let items = self
            .iter()
            .map(|v| v.to_json(py))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, items)?.into_any())
    }
    fn same(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a.same(b))
    }
    fn hash_into<H: Hasher>(&self, state: &mut H) {
        self.len().hash(state);
        for v in self {
            v.hash_into(state);
        }
    }
    fn repr(&self) -> String {
        format!("<{} items>", self.len())
    }
}

/// A record nested in another: read from an instance of its class, written as its
/// `to_dict()`.
pub(crate) fn nested_arg<T>(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<T>
where
    T: PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync + Clone,
{
    obj.cast::<T>()
        .map(|b| b.get().clone())
        .map_err(|_| args::invalid(field, format!("must be a {}", T::NAME)))
}

/// The positional arguments that rebuild a record, for `__reduce__`.
pub(crate) fn reduce_args<'py>(
    py: Python<'py>,
    values: Vec<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, values)
}

/// Declares a record class once (see the module docs). `repr(...)` names the fields
/// `__repr__` shows: ids and states, never a name, document, phone, e-mail, address,
/// note or embedding.
macro_rules! record {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $(#[$fdoc:meta])* $field:ident : $ty:ty ),* $(,)?
        }
        repr($($shown:ident),* $(,)?)
    ) => {
        $(#[$doc])*
        #[pyo3::pyclass(frozen, eq, get_all, module = "powergym")]
        #[derive(Clone)]
        pub(crate) struct $name {
            $( $(#[$fdoc])* pub(crate) $field: $ty, )*
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                $crate::types::record::Field::same(self, other)
            }
        }

        #[pyo3::pymethods]
        impl $name {
            #[new]
            #[pyo3(signature = ($($field),*))]
            #[allow(clippy::too_many_arguments)] // one per field, as Python calls it
            fn __new__($($field: &pyo3::Bound<'_, pyo3::PyAny>),*) -> pyo3::PyResult<Self> {
                Ok(Self {
                    $( $field: $crate::types::record::Field::from_arg(stringify!($field), $field)?, )*
                })
            }

            /// Pickles through the constructor.
            fn __reduce__<'py>(
                slf: &pyo3::Bound<'py, Self>,
            ) -> pyo3::PyResult<(pyo3::Bound<'py, pyo3::types::PyType>, pyo3::Bound<'py, pyo3::types::PyTuple>)> {
                use pyo3::IntoPyObjectExt;
                use pyo3::types::PyAnyMethods;
                let py = slf.py();
                let this = slf.get();
                let values = vec![$( this.$field.clone().into_bound_py_any(py)?, )*];
                Ok((slf.get_type(), $crate::types::record::reduce_args(py, values)?))
            }

            fn __hash__(&self) -> u64 {
                let mut state = std::collections::hash_map::DefaultHasher::new();
                $crate::types::record::Field::hash_into(self, &mut state);
                std::hash::Hasher::finish(&state)
            }

            /// The fields as a dict of JSON-ready values: ids, dates, datetimes (ISO 8601)
            /// and decimals (money with two places) as strings, enumerations as their
            /// values, nested records as dicts.
            fn to_dict<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyDict>> {
                use pyo3::types::PyDictMethods;
                let dict = pyo3::types::PyDict::new(py);
                $( dict.set_item(stringify!($field), $crate::types::record::Field::to_json(&self.$field, py)?)?; )*
                Ok(dict)
            }

            fn __repr__(&self) -> String {
                $crate::types::record::Field::repr(self)
            }
        }

        impl $crate::types::record::Field for $name {
            fn from_arg(
                field: &'static str,
                obj: &pyo3::Bound<'_, pyo3::PyAny>,
            ) -> pyo3::PyResult<Self> {
                $crate::types::record::nested_arg(field, obj)
            }
            fn to_json<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                Ok(self.to_dict(py)?.into_any())
            }
            fn same(&self, other: &Self) -> bool {
                true $( && $crate::types::record::Field::same(&self.$field, &other.$field) )*
            }
            fn hash_into<H: std::hash::Hasher>(&self, state: &mut H) {
                $( $crate::types::record::Field::hash_into(&self.$field, state); )*
            }
            fn repr(&self) -> String {
                let shown: Vec<String> = vec![$(
                    format!(
                        "{}={}",
                        stringify!($shown),
                        $crate::types::record::Field::repr(&self.$shown)
                    ),
                )*];
                format!("{}({})", stringify!($name), shown.join(", "))
            }
        }
    };
}

pub(crate) use record;
