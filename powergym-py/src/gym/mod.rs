//! The `Gym` and `AsyncGym` classes: one handle over the core facade, offered blocking
//! and as awaitables. Every use case is written once, in the `use_cases!` blocks of this
//! module's children, and the macro makes both methods from it: the blocking one runs
//! the call on the shared runtime with the GIL released; the async one hands the same
//! call to that runtime and returns an `asyncio` future. Cancelling the future drops the
//! call when the event loop next runs: a call stopped before its commit writes nothing
//! (its transaction rolls back); one whose commit was already sent may have written, so
//! a caller that must know retries with the call's idempotency key.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::runtime::{ProcessBound, Shared, runtime};
use crate::thumbnail::ThumbnailKey;
use crate::types::args;
use powergym_core as core;

/// Runs a core future to completion with the GIL released.
pub(crate) fn wait<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = core::Result<T>> + Send,
    T: Send,
{
    py.detach(|| runtime().block_on(fut)).map_err(to_py)
}

/// The awaitable of a core future: an `asyncio` future on the running loop, completed
/// from the shared runtime.
pub(crate) fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = core::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    pyo3_async_runtimes::generic::future_into_py::<Shared, _, T>(py, async move {
        fut.await.map_err(to_py)
    })
}

/// Writes each use case once for both classes.
///
/// ```text
/// use_cases! {
///     /// Doc comment (shared).
///     #[pyo3(signature = (actor, client_id))]
///     fn get_client(gym, actor: &Actor, client_id: Uuid) -> Client {
///         let actor = actor.0.clone();            // arguments are converted here,
///         async move { gym.client(&actor, id).await.map(Client::from) }  // then a future
///     }
/// }
/// ```
///
/// The body gets `gym`, an owned handle to the core facade, and returns a `'static`
/// future of `core::Result<Ret>`: everything it needs from the borrowed arguments is
/// converted or cloned before the `async move`.
macro_rules! use_cases {
    ($(
        $(#[$($meta:tt)*])*
        fn $name:ident($gym:ident $(, $(#[$($pattr:tt)*])* $arg:ident : $ty:ty)* $(,)?) -> $ret:ty
        $body:block
    )*) => {
        #[pyo3::pymethods]
        impl $crate::gym::Gym {
            $(
                $(#[$($meta)*])*
                #[allow(clippy::too_many_arguments)]
                fn $name(
                    &self,
                    py: pyo3::Python<'_>
                    $(, $(#[$($pattr)*])* $arg: $ty)*
                ) -> pyo3::PyResult<$ret> {
                    let $gym = self.shared()?;
                    let call = $body;
                    $crate::gym::wait(py, call)
                }
            )*
        }

        #[pyo3::pymethods]
        impl $crate::gym::AsyncGym {
            $(
                $(#[$($meta)*])*
                #[allow(clippy::too_many_arguments)]
                fn $name<'py>(
                    &self,
                    py: pyo3::Python<'py>
                    $(, $(#[$($pattr)*])* $arg: $ty)*
                ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                    let $gym = self.shared()?;
                    let call = $body;
                    $crate::gym::awaitable::<$ret, _>(py, call)
                }
            )*
        }
    };
}

mod admin;
mod checkin;
mod clients;
mod face;
mod inventory;
mod payments;
mod plans;
mod reports;
mod rewards;
mod staff;
mod subscriptions;

fn seconds(field: &'static str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        to_py(core::Error::validation(
            field,
            "must be a non-negative number of seconds",
        ))
    })
}

fn optional_seconds(field: &'static str, value: Option<f64>) -> PyResult<Option<Duration>> {
    value.map(|s| seconds(field, s)).transpose()
}

/// How `connect` was asked to open the gym, before it becomes [`core::GymOptions`].
struct ConnectArgs {
    max_connections: u32,
    min_connections: u32,
    acquire_timeout: f64,
    max_lifetime: Option<f64>,
    idle_timeout: Option<f64>,
    test_before_acquire: bool,
    time_zone: String,
    max_face_distance: f32,
    face_ambiguity_margin: f32,
    face_search: String,
    ef_search: Option<u32>,
    face_cache_budget_bytes: u64,
    thumbnail_key: Option<core::face::ThumbnailKey>,
    statement_timeout: Option<f64>,
    lock_timeout: Option<f64>,
    idle_in_transaction_timeout: Option<f64>,
    call_timeout: Option<f64>,
}

impl ConnectArgs {
    fn options(self) -> PyResult<core::GymOptions> {
        Ok(core::GymOptions {
            pool: core::PoolSettings {
                max_connections: self.max_connections,
                min_connections: self.min_connections,
                acquire_timeout: seconds("acquire_timeout", self.acquire_timeout)?,
                max_lifetime: optional_seconds("max_lifetime", self.max_lifetime)?,
                idle_timeout: optional_seconds("idle_timeout", self.idle_timeout)?,
                test_before_acquire: self.test_before_acquire,
                statement_timeout: optional_seconds("statement_timeout", self.statement_timeout)?,
                lock_timeout: optional_seconds("lock_timeout", self.lock_timeout)?,
                idle_in_transaction_timeout: optional_seconds(
                    "idle_in_transaction_timeout",
                    self.idle_in_transaction_timeout,
                )?,
            },
            calendar: core::BusinessCalendar::new(&self.time_zone).map_err(to_py)?,
            face: core::FaceOptions {
                policy: core::face::MatchPolicy::new(
                    self.max_face_distance,
                    self.face_ambiguity_margin,
                )
                .map_err(to_py)?,
                search: core::face::FaceSearch::parse(&self.face_search, self.ef_search)
                    .map_err(to_py)?,
                thumbnail_key: self.thumbnail_key,
                cache_budget_bytes: self.face_cache_budget_bytes,
            },
            call_timeout: optional_seconds("call_timeout", self.call_timeout)?,
            ..core::GymOptions::default()
        })
    }
}

/// The one `connect` signature of both classes; `$finish` turns the opening future
/// into the method's result.
macro_rules! connect_method {
    ($class:ty, $doc:literal, $ret:ty, |$py:ident, $opening:ident| $finish:expr) => {
        #[pymethods]
        impl $class {
        #[doc = $doc]
        #[staticmethod]
        #[pyo3(signature = (
            url, *, max_connections = 30, min_connections = 0, acquire_timeout = 30.0,
            max_lifetime = Some(3600.0), idle_timeout = Some(600.0), test_before_acquire = true,
            time_zone = "America/Bogota", max_face_distance = 0.4, face_ambiguity_margin = 0.05,
            face_search = "hnsw", ef_search = None,
            face_cache_budget_bytes = core::DEFAULT_FACE_CACHE_BUDGET, thumbnail_key = None,
            statement_timeout = Some(30.0), lock_timeout = Some(5.0),
            idle_in_transaction_timeout = Some(60.0), call_timeout = Some(120.0)
        ))]
        #[pyo3(text_signature = "(url, *, max_connections=30, min_connections=0, \
            acquire_timeout=30.0, max_lifetime=3600.0, idle_timeout=600.0, \
            test_before_acquire=True, time_zone='America/Bogota', max_face_distance=0.4, \
            face_ambiguity_margin=0.05, face_search='hnsw', ef_search=None, \
            face_cache_budget_bytes=536870912, thumbnail_key=None, \
            statement_timeout=30.0, lock_timeout=5.0, idle_in_transaction_timeout=60.0, \
            call_timeout=120.0)")]
        #[allow(clippy::too_many_arguments)]
        fn connect<'py>(
            $py: Python<'py>,
            #[pyo3(from_py_with = args::url)] url: String,
            #[pyo3(from_py_with = args::max_connections)] max_connections: u32,
            #[pyo3(from_py_with = args::min_connections)] min_connections: u32,
            #[pyo3(from_py_with = args::acquire_timeout)] acquire_timeout: f64,
            #[pyo3(from_py_with = args::max_lifetime)] max_lifetime: Option<f64>,
            #[pyo3(from_py_with = args::idle_timeout)] idle_timeout: Option<f64>,
            test_before_acquire: bool,
            time_zone: &str,
            #[pyo3(from_py_with = args::max_face_distance)] max_face_distance: f32,
            #[pyo3(from_py_with = args::face_ambiguity_margin)] face_ambiguity_margin: f32,
            face_search: &str,
            #[pyo3(from_py_with = args::ef_search_value)] ef_search: Option<u32>,
            #[pyo3(from_py_with = args::face_cache_budget_bytes)] face_cache_budget_bytes: u64,
            thumbnail_key: Option<PyRef<'_, ThumbnailKey>>,
            #[pyo3(from_py_with = args::statement_timeout)] statement_timeout: Option<f64>,
            #[pyo3(from_py_with = args::lock_timeout)] lock_timeout: Option<f64>,
            #[pyo3(from_py_with = args::idle_in_transaction_timeout)]
            idle_in_transaction_timeout: Option<f64>,
            #[pyo3(from_py_with = args::call_timeout)] call_timeout: Option<f64>,
        ) -> PyResult<$ret> {
            let options = ConnectArgs {
                max_connections,
                min_connections,
                acquire_timeout,
                max_lifetime,
                idle_timeout,
                test_before_acquire,
                time_zone: time_zone.to_owned(),
                max_face_distance,
                face_ambiguity_margin,
                face_search: face_search.to_owned(),
                ef_search,
                face_cache_budget_bytes,
                thumbnail_key: thumbnail_key.map(|k| k.0.clone()),
                statement_timeout,
                lock_timeout,
                idle_in_transaction_timeout,
                call_timeout,
            }
            .options()?;
            let $opening = async move { core::Gym::open_with(&url, options).await };
            $finish
        }
        }
    };
}

/// What both classes share: the handle, bound to the process that opened it.
///
/// After `os.fork()` the child gets `ConnectionFailedError` from every call, before any
/// socket is touched, and dropping the handle there leaves the parent's connections
/// alone (see [`ProcessBound`]).
struct Handle(ProcessBound<core::Gym>);

impl Handle {
    /// The facade, once sure the handle is this process's. Building a core future runs
    /// none of it, so checking here is before any socket is touched.
    fn shared(&self) -> PyResult<Arc<core::Gym>> {
        if self.0.is_foreign() {
            return Err(to_py(core::Error::ConnectionFailed {
                reason: "this Gym was opened in another process; open a new one after fork".into(),
            }));
        }
        Ok(self.0.shared())
    }

    fn repr(&self, class: &str) -> String {
        format!("{class}(time_zone='{}')", self.0.calendar().zone_name())
    }
}

/// A connection to a gym's database; every call blocks (with the GIL released).
#[pyclass(frozen, module = "powergym")]
pub(crate) struct Gym(Handle);

/// A connection to a gym's database whose calls are awaitables, for asyncio programs
/// (FastAPI and the like). Opened with `await AsyncGym.connect(...)`; many awaits may
/// be pending on one handle at once.
#[pyclass(frozen, module = "powergym")]
pub(crate) struct AsyncGym(Handle);

impl Gym {
    fn shared(&self) -> PyResult<Arc<core::Gym>> {
        self.0.shared()
    }
}

impl AsyncGym {
    fn shared(&self) -> PyResult<Arc<core::Gym>> {
        self.0.shared()
    }
}

connect_method!(
    Gym,
    "Opens the gym's store: `sqlite://path/to/gym.db` (or `sqlite::memory:`), embedded \
     and serverless, or `postgres://…`. Raises at once when the URL, file, server or \
     credentials are wrong.",
    Gym,
    |py, opening| wait(py, opening).map(|gym| Gym(Handle(ProcessBound::new(gym))))
);

#[pymethods]
impl Gym {
    /// Today's business date in the gym's time zone.
    fn today(&self) -> PyResult<NaiveDate> {
        Ok(self.shared()?.today())
    }

    /// Stops using the in-process face cache; faces are searched in the database again.
    fn disable_face_cache(&self) -> PyResult<()> {
        self.shared()?.disable_face_cache();
        Ok(())
    }

    /// Templates in the in-process face cache, or None when faces are searched in the
    /// database (no cache loaded yet, the gallery over `face_cache_budget_bytes`, or
    /// disabled).
    fn face_cache_size(&self) -> PyResult<Option<usize>> {
        Ok(self.shared()?.face_cache_size())
    }

    /// Closes every connection. In a forked child it does nothing: the connections are
    /// the parent's to close.
    fn close(&self, py: Python<'_>) {
        if let Ok(gym) = self.shared() {
            py.detach(|| runtime().block_on(gym.close()));
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<Bound<'_, PyAny>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) {
        self.close(py);
    }

    fn __repr__(&self) -> String {
        self.0.repr("Gym")
    }
}

connect_method!(
    AsyncGym,
    "Opens the gym's store (`sqlite://…` or `postgres://…`); the awaitable raises at \
     once when the URL, file, server or credentials are wrong.",
    Bound<'py, PyAny>,
    |py, opening| {
        pyo3_async_runtimes::generic::future_into_py::<Shared, _, AsyncGym>(py, async move {
            opening
                .await
                .map(|gym| AsyncGym(Handle(ProcessBound::new(gym))))
                .map_err(to_py)
        })
    }
);

#[pymethods]
impl AsyncGym {
    /// Today's business date in the gym's time zone.
    fn today(&self) -> PyResult<NaiveDate> {
        Ok(self.shared()?.today())
    }

    /// Stops using the in-process face cache; faces are searched in the database again.
    fn disable_face_cache(&self) -> PyResult<()> {
        self.shared()?.disable_face_cache();
        Ok(())
    }

    /// Templates in the in-process face cache, or None when faces are searched in the
    /// database (no cache loaded yet, the gallery over `face_cache_budget_bytes`, or
    /// disabled).
    fn face_cache_size(&self) -> PyResult<Option<usize>> {
        Ok(self.shared()?.face_cache_size())
    }

    /// Closes every connection (an awaitable). In a forked child it does nothing.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let gym = self.shared().ok();
        awaitable(py, async move {
            if let Some(gym) = gym {
                gym.close().await;
            }
            Ok(())
        })
    }

    fn __aenter__<'py>(slf: Py<Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, async move { Ok(slf) })
    }

    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc_type: Option<Bound<'_, PyAny>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.close(py)
    }

    fn __repr__(&self) -> String {
        self.0.repr("AsyncGym")
    }
}
