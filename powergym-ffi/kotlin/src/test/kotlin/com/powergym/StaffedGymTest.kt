package com.powergym

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import java.util.UUID

/** A migrated gym on a database of its own, with its admin and a desk employee. */
abstract class StaffedGymTest {
    /** The test's own database. */
    protected lateinit var dbName: String
    protected lateinit var gym: Gym
    protected lateinit var admin: Actor
    protected lateinit var desk: Actor

    /** How the test's gym connects. */
    protected open fun connectOptions(): ConnectOptions = ConnectOptions(maxConnections = 5u)

    @BeforeEach
    fun setUpGym() = runBlocking {
        dbName = "powergym_kt_" + UUID.randomUUID().toString().replace("-", "").take(12)
        TestDatabase.psql("create database \"$dbName\"")
        gym = Gym.connect(TestDatabase.urlFor(dbName), connectOptions())
        gym.migrate()
        gym.bootstrapAdmin("admin", "admin-password")
        admin = gym.authenticate("admin", "admin-password")
        gym.createStaff(admin, "desk", "desk-password", Role.EMPLOYEE)
        desk = gym.authenticate("desk", "desk-password")
    }

    @AfterEach
    fun tearDownGym() = runBlocking {
        gym.disconnect()
        gym.close()
        TestDatabase.psql("drop database if exists \"$dbName\" with (force)")
    }
}
