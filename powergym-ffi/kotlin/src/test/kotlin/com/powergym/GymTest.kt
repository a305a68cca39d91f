package com.powergym

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.time.LocalDate
import java.util.UUID

/** Clients, typed errors and the schema's versions on a fresh database of the store under test. */
class GymTest {
    private lateinit var db: TestDb
    private val dbUrl: String get() = db.url

    @BeforeEach
    fun createDatabase() {
        db = TestDb.create()
    }

    @AfterEach
    fun dropDatabase() {
        db.close()
    }

    private fun input(number: String = "1020304050") = ClientInput(
        documentType = DocumentType.CC,
        documentNumber = number,
        firstName = "Ana",
        middleName = "María",
        lastName = "Gómez",
        phone = "300 123 4567",
        birthDate = LocalDate.of(1994, 5, 17),
        gender = Gender.FEMALE,
        email = "ana@example.com",
    )

    private fun <T> withGym(block: suspend (Gym, Actor) -> T): T = runBlocking {
        val gym = Gym.connect(dbUrl, ConnectOptions(maxConnections = 5u))
        try {
            gym.migrate()
            gym.bootstrapAdmin("admin", "admin-password")
            val admin = gym.authenticate("admin", "admin-password")
            block(gym, admin)
        } finally {
            gym.disconnect()
            gym.close()
        }
    }

    @Test
    fun registerFindAndListClients() = withGym { gym, admin ->
        val client = gym.registerClient(admin, input("1.020.304.050"))
        assertEquals("1020304050", client.documentNumber)
        assertEquals("Ana María Gómez", client.fullName)
        assertEquals(LocalDate.of(1994, 5, 17), client.birthDate)
        assertEquals(Gender.FEMALE, client.gender)
        assertTrue(client.isActive)
        assertEquals(client, gym.getClient(admin, client.id))
        assertEquals(client, gym.getClientByDocument(admin, DocumentType.CC, "1020304050"))

        gym.registerClient(admin, input("5550001"))
        val page = gym.listClients(admin, 1u, 0uL)
        assertEquals(2uL, page.total)
        assertEquals(1, page.items.size)
        assertEquals("5550001", page.items[0].documentNumber)
    }

    @Test
    fun errorsAreTypedAndCarryNoPersonalData() = withGym { gym, admin ->
        val invalid = assertThrows<PowergymException.Validation> {
            runBlocking { gym.registerClient(admin, input("12AB")) }
        }
        assertEquals("document_number", invalid.field)
        assertFalse(invalid.detail.contains("12AB"))

        gym.registerClient(admin, input("777888999"))
        val duplicate = assertThrows<PowergymException.AlreadyExists> {
            runBlocking { gym.registerClient(admin, input("777888999")) }
        }
        assertEquals("document_number", duplicate.field)
        assertFalse(duplicate.detail.contains("777888999"))

        assertThrows<PowergymException.NotFound> {
            runBlocking { gym.getClient(admin, UUID.randomUUID()) }
        }
        Unit
    }

    @Test
    fun aUrlOfNoStoreIsInvalid() = runBlocking {
        val badUrl = assertThrows<PowergymException.InvalidDatabaseUrl> {
            runBlocking { Gym.connect("mysql://u:hunter2@localhost/db", ConnectOptions()) }
        }
        assertFalse(badUrl.detail.contains("hunter2"))
    }

    @Test
    fun anUnreachableServerIsConnectionFailed() = runBlocking {
        TestStore.assumePostgres("reaches for a PostgreSQL server; SQLite's failures are sqliteFilesThatCannotBeUsed")
        assertThrows<PowergymException.ConnectionFailed> {
            runBlocking { Gym.connect("postgres://u:p@127.0.0.1:1/db", ConnectOptions(acquireTimeoutMs = 5000uL)) }
        }
        Unit
    }

    @Test
    fun schemaVersions() = runBlocking {
        val latest = TestStore.latestVersion()
        if (db.kind == StoreKind.POSTGRES) assertEquals(latestSchemaVersion(), latest)
        val gym = Gym.connect(dbUrl, ConnectOptions())
        try {
            val behind = assertThrows<PowergymException.SchemaOutOfDate> {
                runBlocking { gym.checkSchema() }
            }
            assertEquals(0L, behind.databaseVersion)
            assertEquals(latest, behind.libraryVersion)
            assertEquals((1L..latest).toList(), gym.history().map { it.version })
            // Part of the way, where the store has more than one version.
            val partial = minOf(2L, latest)
            gym.migrateTo(partial)
            assertEquals((1L..partial).toList(), gym.history().filter { it.appliedAt != null }.map { it.version })
            assertEquals(partial, gym.currentVersion())
            gym.migrate()
            gym.checkSchema()
            assertThrows<PowergymException.Validation> { runBlocking { gym.revertTo(0L) } }
            assertEquals(latest, gym.currentVersion())
            gym.revertTo(0L, confirmDataLoss = true)
            assertEquals(0L, gym.currentVersion())
        } finally {
            gym.disconnect()
            gym.close()
        }
    }

    /** A SQLite file that cannot be used is a typed error, each kind its own. */
    @Test
    fun sqliteFilesThatCannotBeUsed() = runBlocking {
        TestStore.assumeSqlite("opens SQLite files")
        val dir = db.file.parent
        assertThrows<PowergymException.InvalidDatabaseUrl> {
            runBlocking { Gym.connect("sqlite://$dir/no/such/dir/gym.db", ConnectOptions()) }
        }

        val corrupt = dir.resolve("corrupt.db").toFile()
        corrupt.writeBytes("this is not a database at all".repeat(200).toByteArray())
        assertThrows<PowergymException.Database> {
            runBlocking { Gym.connect("sqlite://$corrupt", ConnectOptions()) }
        }

        val gym = Gym.connect(dbUrl, ConnectOptions())
        try {
            gym.migrate()
        } finally {
            gym.disconnect()
            gym.close()
        }
        db.sql(
            "insert into powergym_schema_migrations (version, description, success, checksum, execution_time) " +
                "values (999, 'from the future', 1, x'00', 0)",
        )
        val newer = assertThrows<PowergymException.SchemaOutOfDate> {
            runBlocking { Gym.connect(dbUrl, ConnectOptions()) }
        }
        assertEquals(999L, newer.databaseVersion)
        assertEquals(TestStore.latestVersion(), newer.libraryVersion)
        Unit
    }

    @Test
    fun stateMachine() {
        assertEquals(
            SubscriptionStatus.ACTIVE,
            transition(SubscriptionStatus.PENDING_PAYMENT, SubscriptionEvent.PAY, fullyPaid = true, startReached = true),
        )
        val illegal = assertThrows<PowergymException.InvalidTransition> {
            transition(SubscriptionStatus.CANCELED, SubscriptionEvent.CANCEL, fullyPaid = true, startReached = true)
        }
        assertEquals(SubscriptionStatus.CANCELED, illegal.from)
        assertEquals(SubscriptionEvent.CANCEL, illegal.event)
        val today = LocalDate.of(2025, 6, 15)
        assertEquals(SubscriptionStatus.SCHEDULED, initialStatus(today.plusDays(1), today, priceIsZero = true))
    }
}
