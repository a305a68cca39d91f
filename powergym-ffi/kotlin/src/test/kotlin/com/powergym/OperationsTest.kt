package com.powergym

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.time.Duration
import java.time.Instant
import java.util.UUID

/**
 * Operating the database through the Kotlin bindings: the health report, vacuum, the face-index
 * rebuild. The report, the application role and the index are PostgreSQL's (its catalogs,
 * roles and pgvector index): on SQLite they are `Unsupported`, and vacuum compacts the file.
 */
class OperationsTest : StaffedGymTest() {
    private val lines = listOf(
        "schema",
        "database_size",
        "connections",
        "slow_queries",
        "unused_indexes",
        "duplicate_indexes",
        "invalid_indexes",
        "dead_rows",
        "lock_waits",
        "face_index",
        "face_cache_memory",
    )

    @Test
    fun aMigratedDatabaseReportsEveryLineInOrder() = runBlocking {
        TestStore.assumePostgres("the health report reads PostgreSQL's catalogs and statistics")
        val report = gym.healthReport()
        assertEquals(lines, report.checks.map { it.name })
        assertTrue(report.checks.all { it.summary.isNotEmpty() })
        assertTrue(report.verdict in report.checks.map { it.verdict })

        val schema = report.checks.first { it.name == "schema" }
        assertEquals(Verdict.OK, schema.verdict)
        assertEquals(latestSchemaVersion(), report.schema.databaseVersion)
        assertEquals(latestSchemaVersion(), report.schema.libraryVersion)
        assertEquals(0u, report.schema.pending)

        assertTrue(Duration.between(report.generatedAt, Instant.now()).abs() < Duration.ofMinutes(5))
        assertTrue(report.database.bytes > 0uL)
        assertNull(report.database.previousBytes)
        assertTrue(report.tables.any { it.name == "clients" })
        assertTrue(report.connections.thisDatabase >= 1u)
        assertTrue(report.slowQueries.available || report.slowQueries.note != null)
        assertEquals(emptyList<String>(), report.invalidIndexes)
        assertEquals(emptyList<LockWait>(), report.lockWaits)
        assertEquals(0uL, report.face.templates)
        // No face index since migration 0017: the in-process cache searches.
        assertFalse(report.face.indexValid)
        assertNull(report.face.indexBytes)
        assertEquals(Verdict.OK, report.checks.first { it.name == "face_index" }.verdict)
    }

    @Test
    fun aSecondReportKnowsThePreviousSize() = runBlocking {
        TestStore.assumePostgres("the health report reads PostgreSQL's catalogs and statistics")
        val first = gym.healthReport()
        val second = gym.healthReport()
        assertEquals(first.database.bytes, second.database.previousBytes)
        assertNotNull(second.database.previousAt)
        assertNotNull(second.tables.first { it.name == "clients" }.previousBytes)
    }

    @Test
    fun vacuumAnalyzeReturnsTheTablesDone() = runBlocking {
        val tables = gym.vacuumAnalyze()
        assertTrue("clients" in tables, tables.toString())
        assertTrue("biometrics" in tables, tables.toString())
    }

    @Test
    fun onSqliteThePostgresOperationsAreUnsupported() = runBlocking {
        TestStore.assumeSqlite("what SQLite refuses")
        val report = assertThrows<PowergymException.Unsupported> { runBlocking { gym.healthReport() } }
        assertEquals("sqlite", report.store)
        assertTrue(report.operation.isNotEmpty() && report.remedy.isNotEmpty(), report.toString())
        assertEquals("sqlite", assertThrows<PowergymException.Unsupported> { runBlocking { gym.grantAppRole("powergym_app") } }.store)
        assertEquals("sqlite", assertThrows<PowergymException.Unsupported> { runBlocking { gym.rebuildFaceIndex() } }.store)
        // The gym is unharmed: vacuum still works and the data is there.
        assertTrue("clients" in gym.vacuumAnalyze())
        assertEquals(listOf("admin", "desk"), gym.listStaff(admin).map { it.username }.sorted())
    }

    @Test
    fun grantAppRoleRefusesASuperuser() = runBlocking {
        TestStore.assumePostgres("grants a PostgreSQL role; a SQLite file has no roles")
        gym.grantAppRole("powergym_app") // made by scripts/setup-postgres.sh
        val refused = assertThrows<PowergymException.Validation> { runBlocking { gym.grantAppRole("powergym") } }
        assertEquals("role", refused.field)
    }

    @Test
    fun rebuildFaceIndex() = runBlocking {
        TestStore.assumePostgres("rebuilds the pgvector index; SQLite searches faces in process")
        val built = gym.rebuildFaceIndex() // none in the schema: built
        assertTrue(built.bytesBefore == 0uL && built.bytesAfter > 0uL)
        val rebuilt = gym.rebuildFaceIndex()
        assertEquals("idx_biometrics_embedding", rebuilt.index)
        assertTrue(rebuilt.bytesBefore > 0uL && rebuilt.bytesAfter > 0uL)
        assertEquals(emptyList<String>(), rebuilt.droppedLeftovers)
        assertTrue(rebuilt.elapsedSeconds >= 0.0)
        assertTrue(gym.healthReport().face.indexValid)
    }

    @Test
    fun aRoleOutOfConnectionSlotsIsResourceExhausted() {
        TestStore.assumePostgres("PostgreSQL's per-role connection limit (SQLSTATE 53300)")
        // The server answers SQLSTATE 53300 (too many connections for role), as it does
        // when every slot of the server is taken.
        val role = "powergym_kt_noslots_" + UUID.randomUUID().toString().replace("-", "").take(8)
        TestDatabase.psql("create role $role login password 'x' connection limit 0")
        try {
            val hostAndDb = TestDatabase.adminUrl.substringAfterLast('@')
            val scheme = TestDatabase.adminUrl.substringBefore("://")
            val exhausted = assertThrows<PowergymException.ResourceExhausted> {
                runBlocking { Gym.connect("$scheme://$role:x@$hostAndDb", ConnectOptions()) }
            }
            assertEquals("connections", exhausted.resource)
            assertTrue(exhausted.hint.contains("max_connections"))
            assertFalse(exhausted.detail.contains(role))
        } finally {
            TestDatabase.psql("drop role if exists $role")
        }
    }
}
