//! The `Gym` class: a blocking handle over the core facade. Every call that waits on the
//! database releases the GIL and runs on the shared runtime.

use std::future::Future;
use std::time::Duration;

use chrono::NaiveDate;
use pyo3::prelude::*;
use uuid::Uuid;

use crate::errors::to_py;
use crate::face::{BiometricConsent, FaceCheckIn, FaceMatch, FaceTemplate, embedding};
use crate::health::{HealthReport, IndexRebuild};
use crate::runtime::{ProcessBound, runtime};
use crate::thumbnail::ThumbnailKey;
use crate::types::args;
use crate::types::{
    Actor, CheckIn, Client, ClientPage, MigrationRecord, PaymentReceipt, Plan, Product, Reward,
    Staff, StockChange, Subscription,
};
use powergym_core as core;
use rust_decimal::Decimal;

/// Runs a core future to completion with the GIL released.
pub(crate) fn wait<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = core::Result<T>> + Send,
    T: Send,
{
    py.detach(|| runtime().block_on(fut)).map_err(to_py)
}

fn seconds(field: &'static str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        to_py(core::Error::validation(
            field,
            "must be a non-negative number of seconds",
        ))
    })
}

/// A connection to a gym's database.
///
/// The handle belongs to the process that opened it: after `os.fork()` the child gets
/// `ConnectionFailedError` from every call, before any socket is touched, and dropping
/// the handle there leaves the parent's connections alone (see [`ProcessBound`]).
#[pyclass(frozen, module = "powergym")]
pub(crate) struct Gym(ProcessBound<core::Gym>);

impl Gym {
    /// Refuses a handle opened by another process (the parent of a fork).
    fn ensure_own(&self) -> PyResult<()> {
        if self.0.is_foreign() {
            return Err(to_py(core::Error::ConnectionFailed {
                reason: "this Gym was opened in another process; open a new one after fork".into(),
            }));
        }
        Ok(())
    }

    /// [`wait`], once sure the handle is this process's. Building a core future runs
    /// none of it, so checking here is before any socket is touched.
    fn wait<T, F>(&self, py: Python<'_>, fut: F) -> PyResult<T>
    where
        F: Future<Output = core::Result<T>> + Send,
        T: Send,
    {
        self.ensure_own()?;
        wait(py, fut)
    }
}

#[pymethods]
impl Gym {
    /// Connects to PostgreSQL; raises at once when the URL, server or credentials are wrong.
    #[staticmethod]
    #[pyo3(signature = (
        url, *, max_connections = 30, min_connections = 0, acquire_timeout = 30.0,
        max_lifetime = Some(3600.0), idle_timeout = Some(600.0), test_before_acquire = true,
        time_zone = "America/Bogota", max_face_distance = 0.4, face_ambiguity_margin = 0.05,
        face_search = "hnsw", ef_search = 400, thumbnail_key = None,
        statement_timeout = Some(30.0), lock_timeout = Some(5.0),
        idle_in_transaction_timeout = Some(60.0), call_timeout = Some(120.0)
    ))]
    #[pyo3(text_signature = "(url, *, max_connections=30, min_connections=0, \
        acquire_timeout=30.0, max_lifetime=3600.0, idle_timeout=600.0, \
        test_before_acquire=True, time_zone='America/Bogota', max_face_distance=0.4, \
        face_ambiguity_margin=0.05, face_search='hnsw', ef_search=400, thumbnail_key=None, \
        statement_timeout=30.0, lock_timeout=5.0, idle_in_transaction_timeout=60.0, \
        call_timeout=120.0)")]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        py: Python<'_>,
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
        #[pyo3(from_py_with = args::ef_search)] ef_search: u32,
        thumbnail_key: Option<PyRef<'_, ThumbnailKey>>,
        #[pyo3(from_py_with = args::statement_timeout)] statement_timeout: Option<f64>,
        #[pyo3(from_py_with = args::lock_timeout)] lock_timeout: Option<f64>,
        #[pyo3(from_py_with = args::idle_in_transaction_timeout)]
        idle_in_transaction_timeout: Option<f64>,
        #[pyo3(from_py_with = args::call_timeout)] call_timeout: Option<f64>,
    ) -> PyResult<Self> {
        let search = match face_search {
            "hnsw" => core::face::FaceSearch::Hnsw { ef_search },
            "exact" => core::face::FaceSearch::Exact,
            _ => {
                return Err(to_py(core::Error::validation(
                    "face_search",
                    "expected 'hnsw' or 'exact'",
                )));
            }
        };
        let options = core::GymOptions {
            pool: core::PoolSettings {
                max_connections,
                min_connections,
                acquire_timeout: seconds("acquire_timeout", acquire_timeout)?,
                max_lifetime: max_lifetime
                    .map(|s| seconds("max_lifetime", s))
                    .transpose()?,
                idle_timeout: idle_timeout
                    .map(|s| seconds("idle_timeout", s))
                    .transpose()?,
                test_before_acquire,
                statement_timeout: statement_timeout
                    .map(|s| seconds("statement_timeout", s))
                    .transpose()?,
                lock_timeout: lock_timeout
                    .map(|s| seconds("lock_timeout", s))
                    .transpose()?,
                idle_in_transaction_timeout: idle_in_transaction_timeout
                    .map(|s| seconds("idle_in_transaction_timeout", s))
                    .transpose()?,
            },
            calendar: core::BusinessCalendar::new(time_zone).map_err(to_py)?,
            face: core::FaceOptions {
                policy: core::face::MatchPolicy::new(max_face_distance, face_ambiguity_margin)
                    .map_err(to_py)?,
                search: search.validate().map_err(to_py)?,
                thumbnail_key: thumbnail_key.map(|k| k.0.clone()),
            },
            call_timeout: call_timeout
                .map(|s| seconds("call_timeout", s))
                .transpose()?,
            ..core::GymOptions::default()
        };
        let url = url.to_owned();
        wait(
            py,
            async move { core::Gym::connect_with(&url, options).await },
        )
        .map(|gym| Self(ProcessBound::new(gym)))
    }

    /// Applies every pending migration.
    fn migrate(&self, py: Python<'_>) -> PyResult<()> {
        self.wait(py, self.0.migrations().run())
    }

    /// Applies pending migrations up to and including `version`.
    fn migrate_to(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::version)] version: i64,
    ) -> PyResult<()> {
        self.wait(py, self.0.migrations().run_to(version))
    }

    /// Reverts the newest applied migration.
    fn revert(&self, py: Python<'_>) -> PyResult<()> {
        self.wait(py, self.0.migrations().revert())
    }

    /// Reverts every migration newer than `version`; 0 (base: every table dropped) needs
    /// `confirm_data_loss=True`.
    #[pyo3(signature = (version, *, confirm_data_loss = false))]
    fn revert_to(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::version)] version: i64,
        confirm_data_loss: bool,
    ) -> PyResult<()> {
        let m = self.0.migrations();
        if confirm_data_loss {
            self.wait(
                py,
                m.revert_to_confirmed(version, core::migrate::DataLoss::Accepted),
            )
        } else {
            self.wait(py, m.revert_to(version))
        }
    }

    /// Marks the database as being at `version` without running scripts; going backwards
    /// needs `confirm_data_loss=True`.
    #[pyo3(signature = (version, *, confirm_data_loss = false))]
    fn stamp(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::version)] version: i64,
        confirm_data_loss: bool,
    ) -> PyResult<()> {
        let m = self.0.migrations();
        if confirm_data_loss {
            self.wait(py, m.stamp_back(version, core::migrate::DataLoss::Accepted))
        } else {
            self.wait(py, m.stamp(version))
        }
    }

    /// The newest applied migration version (0 = none).
    fn current_version(&self, py: Python<'_>) -> PyResult<i64> {
        self.wait(py, self.0.migrations().current_version())
    }

    /// Every migration, applied or pending, with checksums.
    fn history(&self, py: Python<'_>) -> PyResult<Vec<MigrationRecord>> {
        let records = self.wait(py, self.0.migrations().history())?;
        Ok(records.into_iter().map(MigrationRecord).collect())
    }

    /// Raises SchemaOutOfDateError unless the database is at this library's version.
    fn check_schema(&self, py: Python<'_>) -> PyResult<()> {
        self.wait(py, self.0.migrations().check())
    }

    /// The database's health report: one line per check with its verdict, and the facts
    /// behind them. Records the sizes it read, so the next report tells the growth.
    fn health_report(&self, py: Python<'_>) -> PyResult<HealthReport> {
        self.wait(py, self.0.operations().health_report())
            .map(HealthReport)
    }

    /// Lets `role` (not a superuser) read and write every PowerGym table and nothing
    /// else; run as the schema owner after migrating.
    fn grant_app_role(&self, py: Python<'_>, role: &str) -> PyResult<()> {
        let role = role.to_owned();
        self.wait(py, async move {
            self.0.operations().grant_app_role(&role).await
        })
    }

    /// `VACUUM (ANALYZE)` on every table, one at a time, blocking no reads or writes;
    /// returns the tables done.
    fn vacuum_analyze(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.wait(py, async move {
            let mut ignore = |_: &core::ops::Progress| {};
            self.0.operations().vacuum_analyze(&mut ignore).await
        })
    }

    /// Rebuilds the face search index concurrently (check-ins go on meanwhile), first
    /// dropping invalid leftovers of an interrupted rebuild.
    fn rebuild_face_index(&self, py: Python<'_>) -> PyResult<IndexRebuild> {
        self.wait(py, async move {
            let mut ignore = |_: &core::ops::Progress| {};
            self.0.operations().rebuild_face_index(&mut ignore).await
        })
        .map(Into::into)
    }

    /// Today's business date in the gym's time zone.
    fn today(&self) -> NaiveDate {
        self.0.today()
    }

    /// Registers a client after validating every field.
    #[pyo3(signature = (
        actor, *, document_type, document_number, first_name, last_name, phone, birth_date, gender,
        middle_name = None, second_last_name = None, alternative_phone = None, email = None,
        address = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn register_client(
        &self,
        py: Python<'_>,
        actor: &Actor,
        #[pyo3(from_py_with = args::document_type)] document_type: String,
        #[pyo3(from_py_with = args::document_number)] document_number: String,
        #[pyo3(from_py_with = args::first_name)] first_name: String,
        #[pyo3(from_py_with = args::last_name)] last_name: String,
        #[pyo3(from_py_with = args::phone)] phone: String,
        birth_date: NaiveDate,
        #[pyo3(from_py_with = args::gender)] gender: String,
        #[pyo3(from_py_with = args::middle_name)] middle_name: Option<String>,
        #[pyo3(from_py_with = args::second_last_name)] second_last_name: Option<String>,
        #[pyo3(from_py_with = args::alternative_phone)] alternative_phone: Option<String>,
        #[pyo3(from_py_with = args::email)] email: Option<String>,
        #[pyo3(from_py_with = args::address)] address: Option<String>,
    ) -> PyResult<Client> {
        let input = core::ClientInput {
            document_type: document_type.parse().map_err(to_py)?,
            document_number,
            first_name,
            middle_name,
            last_name,
            second_last_name,
            phone,
            alternative_phone,
            email,
            birth_date,
            gender: gender.parse().map_err(to_py)?,
            address,
        };
        self.wait(py, self.0.register_client(&actor.0, input))
            .map(Client)
    }

    /// The client with this id.
    fn get_client(&self, py: Python<'_>, actor: &Actor, client_id: Uuid) -> PyResult<Client> {
        self.wait(
            py,
            self.0
                .client(&actor.0, core::ClientId::from_uuid(client_id)),
        )
        .map(Client)
    }

    /// The client holding this document.
    fn get_client_by_document(
        &self,
        py: Python<'_>,
        actor: &Actor,
        #[pyo3(from_py_with = args::document_type)] document_type: String,
        #[pyo3(from_py_with = args::document_number)] document_number: String,
    ) -> PyResult<Client> {
        let doc_type: core::DocumentType = document_type.parse().map_err(to_py)?;
        let number = document_number.to_owned();
        self.wait(py, async move {
            self.0.client_by_document(&actor.0, doc_type, &number).await
        })
        .map(Client)
    }

    /// A page of clients, newest first; `active` filters by state when given.
    #[pyo3(signature = (actor, *, limit = 100, offset = 0, active = None))]
    fn list_clients(
        &self,
        py: Python<'_>,
        actor: &Actor,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
        active: Option<bool>,
    ) -> PyResult<ClientPage> {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let filter = match active {
            None => core::ActiveFilter::All,
            Some(true) => core::ActiveFilter::Active,
            Some(false) => core::ActiveFilter::Inactive,
        };
        let result = self.wait(py, self.0.list_clients_filtered(&actor.0, filter, page))?;
        ClientPage::new(py, result)
    }

    /// Clients matching every word of `text`, ignoring case and accents.
    #[pyo3(signature = (actor, text, *, limit = 100, offset = 0))]
    fn search_clients(
        &self,
        py: Python<'_>,
        actor: &Actor,
        #[pyo3(from_py_with = args::search_text)] text: String,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
    ) -> PyResult<ClientPage> {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let text = text.to_owned();
        let result = self.wait(py, async move {
            self.0.search_clients(&actor.0, &text, page).await
        })?;
        ClientPage::new(py, result)
    }

    /// Creates the first admin of an empty installation.
    fn bootstrap_admin(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::username)] username: String,
        #[pyo3(from_py_with = args::password)] password: String,
    ) -> PyResult<Staff> {
        let (u, p) = (username.to_owned(), password.to_owned());
        self.wait(py, async move { self.0.bootstrap_admin(&u, &p).await })
            .map(Into::into)
    }

    /// Signs a staff member in; a wrong password, unknown user or disabled account
    /// raise PermissionDeniedError alike.
    fn authenticate(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::username)] username: String,
        #[pyo3(from_py_with = args::password)] password: String,
    ) -> PyResult<Actor> {
        let (u, p) = (username.to_owned(), password.to_owned());
        self.wait(py, async move { self.0.authenticate(&u, &p).await })
            .map(|(a, _)| Actor(a))
    }

    /// An actor for a staff member the host application has already authenticated.
    fn acting_as(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::username)] username: String,
    ) -> PyResult<Actor> {
        let u = username.to_owned();
        self.wait(py, async move { self.0.acting_as(&u).await })
            .map(Actor)
    }

    /// Creates a staff account (admins only).
    #[pyo3(signature = (actor, *, username, password, role, email = None, full_name = None))]
    #[allow(clippy::too_many_arguments)]
    fn create_staff(
        &self,
        py: Python<'_>,
        actor: &Actor,
        #[pyo3(from_py_with = args::username)] username: String,
        #[pyo3(from_py_with = args::password)] password: String,
        #[pyo3(from_py_with = args::role)] role: String,
        #[pyo3(from_py_with = args::email)] email: Option<String>,
        #[pyo3(from_py_with = args::full_name)] full_name: Option<String>,
    ) -> PyResult<Staff> {
        let input = core::StaffInput {
            username,
            password,
            role: role.parse().map_err(to_py)?,
            email,
            full_name,
        };
        self.wait(py, self.0.create_staff(&actor.0, input))
            .map(Into::into)
    }

    /// Creates a plan (admins only).
    #[pyo3(signature = (actor, *, name, price, duration_unit, duration_count, slug = None, description = None, currency = None))]
    #[allow(clippy::too_many_arguments)]
    fn create_plan(
        &self,
        py: Python<'_>,
        actor: &Actor,
        #[pyo3(from_py_with = args::name)] name: String,
        #[pyo3(from_py_with = args::price)] price: Decimal,
        #[pyo3(from_py_with = args::duration_unit)] duration_unit: String,
        #[pyo3(from_py_with = args::duration_count)] duration_count: u32,
        #[pyo3(from_py_with = args::slug)] slug: Option<String>,
        #[pyo3(from_py_with = args::description)] description: Option<String>,
        #[pyo3(from_py_with = args::currency)] currency: Option<String>,
    ) -> PyResult<Plan> {
        let input = core::PlanInput {
            name,
            slug,
            description,
            price,
            currency,
            duration_unit: duration_unit.parse().map_err(to_py)?,
            duration_count,
        };
        self.wait(py, self.0.create_plan(&actor.0, input))
            .map(Into::into)
    }

    /// Sells a plan to a client.
    #[pyo3(signature = (actor, *, client_id, plan_id, start_date = None, discount_percentage = None))]
    fn create_subscription(
        &self,
        py: Python<'_>,
        actor: &Actor,
        client_id: Uuid,
        plan_id: Uuid,
        start_date: Option<NaiveDate>,
        #[pyo3(from_py_with = args::discount_percentage)] discount_percentage: Option<Decimal>,
    ) -> PyResult<Subscription> {
        let input = core::SubscriptionInput {
            client_id: core::ClientId::from_uuid(client_id),
            plan_id: core::PlanId::from_uuid(plan_id),
            start_date,
            discount_percentage,
        };
        self.wait(py, self.0.create_subscription(&actor.0, input))
            .map(Into::into)
    }

    /// Records a payment; a retried call with the same `idempotency_key` returns the
    /// first receipt.
    #[pyo3(signature = (actor, *, subscription_id, amount, method, notes = None, idempotency_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn record_payment(
        &self,
        py: Python<'_>,
        actor: &Actor,
        subscription_id: Uuid,
        #[pyo3(from_py_with = args::amount)] amount: Decimal,
        #[pyo3(from_py_with = args::method)] method: String,
        #[pyo3(from_py_with = args::notes)] notes: Option<String>,
        #[pyo3(from_py_with = args::idempotency_key)] idempotency_key: Option<String>,
    ) -> PyResult<PaymentReceipt> {
        let input = core::PaymentInput {
            subscription_id: core::SubscriptionId::from_uuid(subscription_id),
            amount,
            method: method.parse().map_err(to_py)?,
            notes,
            idempotency_key,
        };
        self.wait(py, self.0.record_payment(&actor.0, input))
            .map(Into::into)
    }

    /// Records a member's consent to face check-in. A minor (a `TI` holder or anyone
    /// under 18) needs the guardian's name and document in the same call.
    #[pyo3(signature = (
        actor, client_id, *, purpose, guardian_name = None, guardian_document_type = None,
        guardian_document_number = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn record_biometric_consent(
        &self,
        py: Python<'_>,
        actor: &Actor,
        client_id: Uuid,
        #[pyo3(from_py_with = args::purpose)] purpose: String,
        #[pyo3(from_py_with = args::guardian_name)] guardian_name: Option<String>,
        #[pyo3(from_py_with = args::guardian_document_type)] guardian_document_type: Option<String>,
        #[pyo3(from_py_with = args::guardian_document_number)] guardian_document_number: Option<
            String,
        >,
    ) -> PyResult<BiometricConsent> {
        use core::domain::consent::{ConsentInput, Guardian};
        let guardian = match (
            guardian_name,
            guardian_document_type,
            guardian_document_number,
        ) {
            (None, None, None) => None,
            (Some(name), Some(doc_type), Some(number)) => Some(Guardian {
                name,
                document_type: doc_type.parse().map_err(to_py)?,
                document_number: number,
            }),
            _ => {
                return Err(to_py(core::Error::validation(
                    "guardian",
                    "give the guardian's name, document type and number together",
                )));
            }
        };
        let id = core::ClientId::from_uuid(client_id);
        self.wait(py, async move {
            self.0
                .record_biometric_consent(&actor.0, id, ConsentInput { purpose, guardian })
                .await
        })
        .map(Into::into)
    }

    /// Withdraws a member's consent; their face template and thumbnail are erased with it.
    fn withdraw_biometric_consent(
        &self,
        py: Python<'_>,
        actor: &Actor,
        client_id: Uuid,
    ) -> PyResult<BiometricConsent> {
        let id = core::ClientId::from_uuid(client_id);
        self.wait(py, self.0.withdraw_biometric_consent(&actor.0, id))
            .map(Into::into)
    }

    /// Every consent the member gave, newest first.
    fn biometric_consents(
        &self,
        py: Python<'_>,
        actor: &Actor,
        client_id: Uuid,
    ) -> PyResult<Vec<BiometricConsent>> {
        let id = core::ClientId::from_uuid(client_id);
        let all = self.wait(py, self.0.biometric_consents(&actor.0, id))?;
        Ok(all.into_iter().map(Into::into).collect())
    }

    /// Enrols (or replaces) a member's face. `embedding` is a numpy array of 512 floats
    /// or 2048 bytes of little-endian float32; `thumbnail` an optional small JPEG, sealed
    /// with the gym's thumbnail key.
    #[pyo3(signature = (actor, client_id, embedding, *, thumbnail = None))]
    fn enroll_face(
        &self,
        py: Python<'_>,
        actor: &Actor,
        client_id: Uuid,
        embedding: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = args::thumbnail)] thumbnail: Option<Vec<u8>>,
    ) -> PyResult<FaceTemplate> {
        let face = self::embedding(embedding)?;
        let id = core::ClientId::from_uuid(client_id);
        self.wait(py, async move {
            self.0
                .enroll_face(&actor.0, id, &face, thumbnail.as_deref())
                .await
        })
        .map(Into::into)
    }

    /// Deletes a member's face template and thumbnail; returns whether there was one.
    fn remove_face(&self, py: Python<'_>, actor: &Actor, client_id: Uuid) -> PyResult<bool> {
        let id = core::ClientId::from_uuid(client_id);
        self.wait(py, self.0.remove_face(&actor.0, id))
    }

    /// The member's enrolled template (without its vector), or None.
    fn face_template(
        &self,
        py: Python<'_>,
        actor: &Actor,
        client_id: Uuid,
    ) -> PyResult<Option<FaceTemplate>> {
        let id = core::ClientId::from_uuid(client_id);
        Ok(self
            .wait(py, self.0.face_template(&actor.0, id))?
            .map(Into::into))
    }

    /// The member's decrypted thumbnail, or None.
    fn face_thumbnail<'py>(
        &self,
        py: Python<'py>,
        actor: &Actor,
        client_id: Uuid,
    ) -> PyResult<Option<Bound<'py, pyo3::types::PyBytes>>> {
        let id = core::ClientId::from_uuid(client_id);
        let jpeg = self.wait(py, self.0.face_thumbnail(&actor.0, id))?;
        Ok(jpeg.map(|j| pyo3::types::PyBytes::new(py, &j)))
    }

    /// Who this face belongs to (1:N).
    fn identify_face(
        &self,
        py: Python<'_>,
        actor: &Actor,
        embedding: &Bound<'_, PyAny>,
    ) -> PyResult<FaceMatch> {
        let face = self::embedding(embedding)?;
        self.wait(
            py,
            async move { self.0.identify_face(&actor.0, &face).await },
        )
        .map(Into::into)
    }

    /// Whether this face is this member (1:1).
    fn verify_face(
        &self,
        py: Python<'_>,
        actor: &Actor,
        client_id: Uuid,
        embedding: &Bound<'_, PyAny>,
    ) -> PyResult<FaceMatch> {
        let face = self::embedding(embedding)?;
        let id = core::ClientId::from_uuid(client_id);
        self.wait(
            py,
            async move { self.0.verify_face(&actor.0, id, &face).await },
        )
        .map(Into::into)
    }

    /// Loads every template into an exact in-process search cache (`precision` is
    /// `f32`, `f16` or `int8`) kept in step with the database; returns how many.
    #[pyo3(signature = (actor, precision = "f32"))]
    fn enable_face_cache(&self, py: Python<'_>, actor: &Actor, precision: &str) -> PyResult<usize> {
        let precision: core::face::Precision = precision.parse().map_err(to_py)?;
        self.wait(py, self.0.enable_face_cache(&actor.0, precision))
    }

    /// Stops using the in-process cache; faces are searched in the database again.
    fn disable_face_cache(&self) -> PyResult<()> {
        self.ensure_own()?;
        self.0.disable_face_cache();
        Ok(())
    }

    /// Checks in whoever this face belongs to; every outcome is returned, not raised.
    fn check_in_by_face(
        &self,
        py: Python<'_>,
        actor: &Actor,
        embedding: &Bound<'_, PyAny>,
    ) -> PyResult<FaceCheckIn> {
        let face = self::embedding(embedding)?;
        self.wait(
            py,
            async move { self.0.check_in_by_face(&actor.0, &face).await },
        )
        .map(Into::into)
    }

    /// Checks in the client holding this document; a refusal is returned, not raised.
    /// A retried call with the same `idempotency_key` returns the first outcome.
    #[pyo3(signature = (actor, document_type, document_number, *, idempotency_key = None))]
    fn check_in_by_document(
        &self,
        py: Python<'_>,
        actor: &Actor,
        #[pyo3(from_py_with = args::document_type)] document_type: String,
        #[pyo3(from_py_with = args::document_number)] document_number: String,
        #[pyo3(from_py_with = args::idempotency_key)] idempotency_key: Option<String>,
    ) -> PyResult<CheckIn> {
        let doc_type: core::DocumentType = document_type.parse().map_err(to_py)?;
        let number = document_number.to_owned();
        self.wait(py, async move {
            self.0
                .check_in_by_document_with_key(
                    &actor.0,
                    doc_type,
                    &number,
                    idempotency_key.as_deref(),
                )
                .await
        })
        .map(Into::into)
    }

    /// Checks in a client chosen by staff; a refusal is returned, not raised. A retried
    /// call with the same `idempotency_key` returns the first outcome.
    #[pyo3(signature = (actor, client_id, *, idempotency_key = None))]
    fn check_in(
        &self,
        py: Python<'_>,
        actor: &Actor,
        client_id: Uuid,
        #[pyo3(from_py_with = args::idempotency_key)] idempotency_key: Option<String>,
    ) -> PyResult<CheckIn> {
        let id = core::ClientId::from_uuid(client_id);
        self.wait(py, async move {
            self.0
                .check_in_with_key(&actor.0, id, idempotency_key.as_deref())
                .await
        })
        .map(Into::into)
    }

    /// Runs the daily jobs for `today` (admins only); returns what changed.
    fn run_daily_jobs(
        &self,
        py: Python<'_>,
        actor: &Actor,
        today: NaiveDate,
    ) -> PyResult<std::collections::BTreeMap<&'static str, u64>> {
        let c = self.wait(py, self.0.run_daily_jobs(&actor.0, today))?;
        Ok([
            ("activated", c.activated),
            ("awaiting_payment", c.awaiting_payment),
            ("expired", c.expired),
            ("expired_unpaid", c.expired_unpaid),
            ("expired_rewards", c.expired_rewards),
        ]
        .into_iter()
        .collect())
    }

    /// Creates a product with no stock (admins only).
    #[pyo3(signature = (actor, *, name, capacity_value, unit_type, price, min_stock = None, max_stock = None))]
    #[allow(clippy::too_many_arguments)]
    fn create_product(
        &self,
        py: Python<'_>,
        actor: &Actor,
        #[pyo3(from_py_with = args::name)] name: String,
        #[pyo3(from_py_with = args::capacity_value)] capacity_value: Decimal,
        #[pyo3(from_py_with = args::unit_type)] unit_type: String,
        #[pyo3(from_py_with = args::price)] price: Decimal,
        #[pyo3(from_py_with = args::min_stock)] min_stock: Option<Decimal>,
        #[pyo3(from_py_with = args::max_stock)] max_stock: Option<Decimal>,
    ) -> PyResult<Product> {
        let input = core::ProductInput {
            name,
            description: None,
            capacity_value,
            unit_type,
            price,
            currency: None,
            photo_url: None,
            min_stock,
            max_stock,
        };
        self.wait(py, self.0.create_product(&actor.0, input))
            .map(Into::into)
    }

    /// Adds stock (admins only).
    #[pyo3(signature = (actor, product_id, quantity, *, notes = None))]
    fn add_stock(
        &self,
        py: Python<'_>,
        actor: &Actor,
        product_id: Uuid,
        #[pyo3(from_py_with = args::quantity)] quantity: Decimal,
        #[pyo3(from_py_with = args::notes)] notes: Option<String>,
    ) -> PyResult<StockChange> {
        self.wait(py, async move {
            self.0
                .add_stock(&actor.0, product_id, quantity, notes.as_deref())
                .await
        })
        .map(Into::into)
    }

    /// Sells at the product's current price; raises InsufficientStockError when short.
    /// A retried call with the same `idempotency_key` returns the first sale.
    #[pyo3(signature = (actor, product_id, quantity, *, notes = None, idempotency_key = None))]
    fn sell_product(
        &self,
        py: Python<'_>,
        actor: &Actor,
        product_id: Uuid,
        #[pyo3(from_py_with = args::quantity)] quantity: Decimal,
        #[pyo3(from_py_with = args::notes)] notes: Option<String>,
        #[pyo3(from_py_with = args::idempotency_key)] idempotency_key: Option<String>,
    ) -> PyResult<StockChange> {
        self.wait(py, async move {
            self.0
                .sell_product_with_key(
                    &actor.0,
                    product_id,
                    quantity,
                    notes.as_deref(),
                    idempotency_key.as_deref(),
                )
                .await
        })
        .map(Into::into)
    }

    /// Evaluates a subscription's attendance; returns the reward it earned, if any.
    fn evaluate_reward(
        &self,
        py: Python<'_>,
        actor: &Actor,
        subscription_id: Uuid,
    ) -> PyResult<Option<Reward>> {
        let id = core::SubscriptionId::from_uuid(subscription_id);
        let eval = self.wait(py, self.0.evaluate_reward(&actor.0, id))?;
        Ok(eval.reward.map(Into::into))
    }

    /// Applies a reward to a payable subscription of the same client.
    fn apply_reward(
        &self,
        py: Python<'_>,
        actor: &Actor,
        reward_id: Uuid,
        subscription_id: Uuid,
    ) -> PyResult<Reward> {
        let target = core::SubscriptionId::from_uuid(subscription_id);
        self.wait(py, self.0.apply_reward(&actor.0, reward_id, target))
            .map(Into::into)
    }

    /// The gym's statistics between two business days (admins only), as nested dicts.
    fn statistics<'py>(
        &self,
        py: Python<'py>,
        actor: &Actor,
        start: NaiveDate,
        end: NaiveDate,
    ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        use pyo3::types::PyDict;
        let s = self.wait(py, self.0.statistics(&actor.0, start, end))?;
        let out = PyDict::new(py);
        let clients = PyDict::new(py);
        clients.set_item("total", s.clients.total)?;
        clients.set_item("active", s.clients.active)?;
        clients.set_item("new_in_period", s.clients.new_in_period)?;
        clients.set_item(
            "with_active_subscription",
            s.clients.with_active_subscription,
        )?;
        clients.set_item("with_pending_payment", s.clients.with_pending_payment)?;
        out.set_item("clients", clients)?;
        let money = PyDict::new(py);
        money.set_item("period_revenue", s.financial.period_revenue.amount())?;
        money.set_item("payments_count", s.financial.payments_count)?;
        money.set_item("average_payment", s.financial.average_payment.amount())?;
        money.set_item("pending_debt", s.financial.pending_debt.amount())?;
        money.set_item("debt_count", s.financial.debt_count)?;
        out.set_item("financial", money)?;
        let att = PyDict::new(py);
        att.set_item("total_attendances", s.attendance.total_attendances)?;
        att.set_item("unique_visitors", s.attendance.unique_visitors)?;
        att.set_item("peak_hour", s.attendance.peak_hour)?;
        att.set_item("average_daily", s.attendance.average_daily)?;
        att.set_item("attendance_rate", s.attendance.attendance_rate)?;
        att.set_item("denied_check_ins", s.attendance.denied_check_ins)?;
        out.set_item("attendance", att)?;
        let inv = PyDict::new(py);
        inv.set_item("low_stock", s.inventory.low_stock)?;
        inv.set_item("out_of_stock", s.inventory.out_of_stock)?;
        inv.set_item("overstock", s.inventory.overstock)?;
        inv.set_item("sales_amount", s.inventory.sales_amount.amount())?;
        out.set_item("inventory", inv)?;
        let alerts: Vec<&str> = s
            .alerts
            .iter()
            .map(|a| match a {
                core::Alert::LowStock => "low_stock",
                core::Alert::OutOfStock => "out_of_stock",
                core::Alert::SubscriptionsExpiring => "subscriptions_expiring",
                core::Alert::PendingDebt => "pending_debt",
            })
            .collect();
        out.set_item("alerts", alerts)?;
        Ok(out)
    }

    /// Closes every connection. In a forked child it does nothing: the connections are
    /// the parent's to close.
    fn close(&self, py: Python<'_>) {
        if !self.0.is_foreign() {
            py.detach(|| runtime().block_on(self.0.close()));
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
        format!("Gym(time_zone='{}')", self.0.calendar().zone_name())
    }
}
