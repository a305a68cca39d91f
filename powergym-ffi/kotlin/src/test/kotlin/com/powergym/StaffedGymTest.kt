package com.powergym

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach

/**
 * A migrated gym on a database of its own, on the store this run tests ([TestStore]: a
 * PostgreSQL database or a SQLite file), with its admin and a desk employee.
 */
abstract class StaffedGymTest {
    /** The test's own database. */
    protected lateinit var db: TestDb
    protected lateinit var gym: Gym
    protected lateinit var admin: Actor
    protected lateinit var desk: Actor

    /** How the test's gym connects. */
    protected open fun connectOptions(): ConnectOptions = ConnectOptions(maxConnections = 5u)

    @BeforeEach
    fun setUpGym() = runBlocking {
        db = TestDb.create()
        gym = Gym.connect(db.url, connectOptions())
        gym.migrate()
        gym.bootstrapAdmin("admin", "admin-password")
        admin = gym.authenticate("admin", "admin-password")
        gym.createStaff(admin, "desk", "desk-password", Role.EMPLOYEE)
        desk = gym.authenticate("desk", "desk-password")
    }

    @AfterEach
    fun tearDownGym() = runBlocking {
        try {
            if (::gym.isInitialized) {
                gym.disconnect()
                gym.close()
            }
        } finally {
            if (::db.isInitialized) db.close()
        }
    }
}
