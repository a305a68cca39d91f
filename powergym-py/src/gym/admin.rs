//! Schema migrations and database operations: what an operator runs, from a script or
//! an admin endpoint, next to the `powergym` command line.

use crate::health::{HealthReport, IndexRebuild};
use crate::types::MigrationRecord;
use crate::types::args;
use powergym_core as core;

use_cases! {
    /// Applies every pending migration.
    fn migrate(gym) -> () {
        async move { gym.migrations().run().await }
    }

    /// Applies pending migrations up to and including `version`.
    fn migrate_to(gym, #[pyo3(from_py_with = args::version)] version: i64) -> () {
        async move { gym.migrations().run_to(version).await }
    }

    /// Reverts the newest applied migration.
    fn revert(gym) -> () {
        async move { gym.migrations().revert().await }
    }

    /// Reverts every migration newer than `version`; 0 (base: every table dropped) needs
    /// `confirm_data_loss=True`.
    #[pyo3(signature = (version, *, confirm_data_loss = false))]
    fn revert_to(
        gym,
        #[pyo3(from_py_with = args::version)] version: i64,
        confirm_data_loss: bool,
    ) -> () {
        async move {
            let m = gym.migrations();
            if confirm_data_loss {
                m.revert_to_confirmed(version, core::migrate::DataLoss::Accepted).await
            } else {
                m.revert_to(version).await
            }
        }
    }

    /// Marks the database as being at `version` without running scripts; going backwards
    /// needs `confirm_data_loss=True`.
    #[pyo3(signature = (version, *, confirm_data_loss = false))]
    fn stamp(
        gym,
        #[pyo3(from_py_with = args::version)] version: i64,
        confirm_data_loss: bool,
    ) -> () {
        async move {
            let m = gym.migrations();
            if confirm_data_loss {
                m.stamp_back(version, core::migrate::DataLoss::Accepted).await
            } else {
                m.stamp(version).await
            }
        }
    }

    /// The newest applied migration version (0 = none).
    fn current_version(gym) -> i64 {
        async move { gym.migrations().current_version().await }
    }

    /// Every migration, applied or pending, with checksums.
    fn history(gym) -> Vec<MigrationRecord> {
        async move {
            let records = gym.migrations().history().await?;
            Ok(records.into_iter().map(MigrationRecord::from).collect())
        }
    }

    /// Raises SchemaOutOfDateError unless the database is at this library's version.
    fn check_schema(gym) -> () {
        async move { gym.migrations().check().await }
    }

    /// The database's health report: one line per check with its verdict, and the facts
    /// behind them. Records the sizes it read, so the next report tells the growth.
    fn health_report(gym) -> HealthReport {
        async move { gym.operations().health_report().await.map(HealthReport::from) }
    }

    /// Lets `role` (not a superuser) read and write every PowerGym table and nothing
    /// else; run as the schema owner after migrating.
    fn grant_app_role(gym, #[pyo3(from_py_with = args::role)] role: String) -> () {
        async move { gym.operations().grant_app_role(&role).await }
    }

    /// `VACUUM (ANALYZE)` on every table, one at a time, blocking no reads or writes;
    /// returns the tables done.
    fn vacuum_analyze(gym) -> Vec<String> {
        async move {
            let mut ignore = |_: &core::ops::Progress| {};
            gym.operations().vacuum_analyze(&mut ignore).await
        }
    }

    /// Builds the face search index (HNSW) where there is none, else rebuilds it;
    /// concurrently either way (check-ins go on meanwhile), first dropping invalid
    /// leftovers of an interrupted rebuild. The schema has none since migration 0017:
    /// build it only where faces are searched in PostgreSQL (cache off or over its
    /// budget); `bytes_before` is 0 when it was built.
    fn rebuild_face_index(gym) -> IndexRebuild {
        async move {
            let mut ignore = |_: &core::ops::Progress| {};
            gym.operations()
                .rebuild_face_index(&mut ignore)
                .await
                .map(IndexRebuild::from)
        }
    }
}
