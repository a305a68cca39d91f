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

/** Per-test databases on the real PostgreSQL server named by DATABASE_URL. */
object TestDatabase {
    val adminUrl: String =
        System.getenv("DATABASE_URL") ?: "postgres://powergym:powergym@127.0.0.1:5432/powergym"

    fun urlFor(name: String): String = adminUrl.substringBeforeLast('/') + "/" + name

    fun psql(sql: String, url: String = adminUrl) {
        val process = ProcessBuilder("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql)
            .redirectErrorStream(true)
            .start()
        val output = process.inputStream.bufferedReader().readText()
        check(process.waitFor() == 0) { "psql failed: $output" }
    }
}

class GymTest {
    private lateinit var dbName: String
    private lateinit var dbUrl: String

    @BeforeEach
    fun createDatabase() {
        dbName = "powergym_kt_" + UUID.randomUUID().toString().replace("-", "").take(12)
        TestDatabase.psql("create database \"$dbName\"")
        dbUrl = TestDatabase.urlFor(dbName)
    }

    @AfterEach
    fun dropDatabase() {
        TestDatabase.psql("drop database if exists \"$dbName\" with (force)")
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
    fun connectionAndSchemaErrors() = runBlocking {
        val badUrl = assertThrows<PowergymException.InvalidDatabaseUrl> {
            runBlocking { Gym.connect("mysql://u:hunter2@localhost/db", ConnectOptions()) }
        }
        assertFalse(badUrl.detail.contains("hunter2"))
        assertThrows<PowergymException.ConnectionFailed> {
            runBlocking { Gym.connect("postgres://u:p@127.0.0.1:1/db", ConnectOptions(acquireTimeoutMs = 5000uL)) }
        }
        val gym = Gym.connect(dbUrl, ConnectOptions())
        try {
            val behind = assertThrows<PowergymException.SchemaOutOfDate> {
                runBlocking { gym.checkSchema() }
            }
            assertEquals(0L, behind.databaseVersion)
            assertEquals(latestSchemaVersion(), behind.libraryVersion)
            gym.migrateTo(2L)
            assertEquals(listOf(1L, 2L), gym.history().filter { it.appliedAt != null }.map { it.version })
            gym.migrate()
            gym.checkSchema()
            assertThrows<PowergymException.Validation> { runBlocking { gym.revertTo(0L) } }
            assertEquals(latestSchemaVersion(), gym.currentVersion())
            gym.revertTo(0L, confirmDataLoss = true)
            assertEquals(0L, gym.currentVersion())
        } finally {
            gym.disconnect()
            gym.close()
        }
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
