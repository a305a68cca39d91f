//! Core enumerations as members of the `str` enum classes of `powergym._enums`.
//!
//! A record holds an [`Enum`], a plain `Send` value, so it can be built on a runtime
//! thread without the GIL (an `AsyncGym` result); only the conversion to Python, which
//! has the GIL, looks the class up (once per class, then cached) and makes `cls(code)`.
//! The codes are core's own (`as_str`, `code`); `_enums.py` spells the same ones, and a
//! test compares the two through [`enum_codes`].

use std::collections::BTreeMap;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyType};

use crate::types::args;
use powergym_core as core;

/// A core enumeration with a `str` enum class of the same codes in `powergym._enums`.
pub(crate) trait Code: Copy + Eq + std::hash::Hash + Send + Sync + 'static {
    /// The class's name in `powergym._enums`.
    const CLASS: &'static str;
    /// Every member, in core's order.
    const ALL: &'static [Self];
    /// The stable code (core's `as_str`), which is the Python member's value.
    fn code(self) -> &'static str;
    /// The Python class, imported on first use and cached.
    fn class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>>;
}

/// A core enumeration on its way to Python, where it becomes a member of its class.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Enum<E>(pub(crate) E);

impl<E: Code> Enum<E> {
    /// Reads a member back from its Python member or its code; anything else is
    /// `ValidationError` naming `field`.
    pub(crate) fn parse(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = obj
            .cast::<PyString>()
            .map_err(|_| args::invalid(field, format!("must be a {}", E::CLASS)))?;
        let text = text.to_cow()?;
        E::ALL
            .iter()
            .copied()
            .find(|e| e.code() == text)
            .map(Enum)
            .ok_or_else(|| {
                let codes: Vec<&str> = E::ALL.iter().map(|e| e.code()).collect();
                args::invalid(field, format!("expected one of {}", codes.join(", ")))
            })
    }

    /// The member's code.
    pub(crate) fn code(self) -> &'static str {
        self.0.code()
    }
}

impl<E> From<E> for Enum<E> {
    fn from(e: E) -> Self {
        Self(e)
    }
}

impl<'py, E: Code> IntoPyObject<'py> for Enum<E> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        E::class(py)?.call1((self.0.code(),))
    }
}

impl<'py, E: Code> IntoPyObject<'py> for &Enum<E> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (*self).into_pyobject(py)
    }
}

/// How a face compared with the templates (`Gym.identify_face`, `Gym.verify_face`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum FaceMatchOutcome {
    /// One member, within the threshold.
    Match,
    /// Nobody within the threshold (or, verifying, not this member).
    NoMatch,
    /// Two members too close to tell apart.
    Ambiguous,
}

impl FaceMatchOutcome {
    /// The stable code.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::NoMatch => "no_match",
            Self::Ambiguous => "ambiguous",
        }
    }
}

/// What a face check-in came to (`Gym.check_in_by_face`), one per case of
/// [`core::FaceCheckIn`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum FaceCheckInOutcome {
    /// Identified and admitted.
    Granted,
    /// Identified and refused for a business reason.
    Denied,
    /// Nobody within the threshold.
    NoMatch,
    /// Two members too close to tell apart.
    Ambiguous,
}

impl FaceCheckInOutcome {
    /// The stable code.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Denied => "denied",
            Self::NoMatch => "no_match",
            Self::Ambiguous => "ambiguous",
        }
    }
}

/// Declares each enumeration's class name, members and code function once; the list
/// also feeds [`enum_codes`].
macro_rules! codes {
    ($( $class:ident = $ty:ty { $($variant:ident),+ $(,)? } by $code:ident; )*) => {
        $(
            impl Code for $ty {
                const CLASS: &'static str = stringify!($class);
                const ALL: &'static [Self] = &[$(<$ty>::$variant),+];
                fn code(self) -> &'static str {
                    // Fails to compile when core adds a member this list lacks.
                    match self {
                        $(<$ty>::$variant)|+ => self.$code(),
                    }
                }
                fn class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
                    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
                    CLASS.import(py, "powergym._enums", stringify!($class))
                }
            }
        )*

        /// Every enumeration's class name and codes, as core spells them: the test that
        /// `_enums.py` matches core reads it.
        #[pyfunction(name = "_enum_codes")]
        pub(crate) fn enum_codes() -> BTreeMap<&'static str, Vec<&'static str>> {
            BTreeMap::from([$(
                (stringify!($class), <$ty as Code>::ALL.iter().map(|e| e.code()).collect()),
            )*])
        }
    };
}

codes! {
    DocumentType = core::DocumentType { Cc, Ti, Ce, Pp } by as_str;
    Gender = core::Gender { Male, Female, Other } by as_str;
    SubscriptionStatus = core::SubscriptionStatus {
        PendingPayment, Scheduled, Active, Expired, Canceled
    } by as_str;
    SubscriptionEvent = core::SubscriptionEvent {
        Pay, StartDateReached, EndDatePassed, Cancel
    } by as_str;
    Role = core::Role { Admin, Employee } by as_str;
    PaymentMethod = core::PaymentMethod { Cash, Qr } by as_str;
    DurationUnit = core::DurationUnit { Day, Week, Month, Year } by as_str;
    DenialReason = core::DenialReason {
        ClientInactive, NoSubscription, NotStartedYet, Expired, Unpaid, AlreadyCheckedIn
    } by code;
    CheckInMethod = core::CheckInMethod { Document, Face, Manual } by as_str;
    StockStatus = core::StockStatus { Normal, LowStock, StockOut, Overstock } by as_str;
    MovementType = core::MovementType { Entry, Exit } by as_str;
    RewardStatus = core::RewardStatus { Pending, Applied, Expired } by as_str;
    Alert = core::Alert { LowStock, OutOfStock, SubscriptionsExpiring, PendingDebt } by as_str;
    ActivityKind = core::ActivityKind {
        CheckIn, Payment, ClientRegistered, SubscriptionCreated
    } by as_str;
    Verdict = core::Verdict { Ok, Warn, Critical } by as_str;
    FaceMatchOutcome = FaceMatchOutcome { Match, NoMatch, Ambiguous } by as_str;
    FaceCheckInOutcome = FaceCheckInOutcome { Granted, Denied, NoMatch, Ambiguous } by as_str;
}
