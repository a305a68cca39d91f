package com.powergym

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.ConcurrentLinkedQueue

/** One forwarded event. */
data class LogEvent(val level: LogLevel, val target: String, val message: String)

/** Collects events; called on the library's worker threads, hence the concurrent queue. */
class CollectingSink : LogSink {
    val events = ConcurrentLinkedQueue<LogEvent>()

    override fun log(level: LogLevel, target: String, message: String) {
        events += LogEvent(level, target, message)
    }
}

/**
 * The logging hook: a sink installed with `installLogSink` receives PowerGym's events during a
 * whole desk day, and none of them holds a member's name or document number.
 */
class LoggingTest : DeskDay() {
    @Test
    fun aDeskDayIsLoggedWithoutPersonalData() = runBlocking {
        val sink = CollectingSink()
        // The sink is the process's for good: this is the one test that installs one.
        assertTrue(installLogSink(sink, LogLevel.DEBUG), "a log sink was installed already")
        assertFalse(installLogSink(CollectingSink(), LogLevel.TRACE), "a second sink replaced the first")

        deskDay()

        val events = sink.events.toList()
        val messages = events.map { it.message }
        for (expected in listOf("client registered", "payment recorded", "biometric consent recorded", "face enrolled", "daily jobs ran")) {
            assertTrue(messages.any { it.startsWith(expected) }, "no '$expected' event in $messages")
        }
        assertTrue(events.all { it.target.startsWith("powergym") }, "events of other crates: ${events.map { it.target }.toSet()}")
        assertTrue(events.none { it.level == LogLevel.TRACE }, "events finer than the level asked for")
        assertTrue(events.any { it.level == LogLevel.INFO })
        // Ids, not people: the registered client is named by id.
        assertTrue(messages.any { it.startsWith("client registered client_id=") }, "$messages")
        for (secret in personalData) {
            val leaks = messages.filter { it.contains(secret, ignoreCase = true) }
            assertTrue(leaks.isEmpty(), "personal data '$secret' in the log: $leaks")
        }
    }
}
