package com.powergym

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.math.BigDecimal
import java.time.LocalDate

/**
 * The whole desk day (see [DeskDay]) through the Kotlin API, and then every case of every enum
 * a use case returns must have come back from a real call during it.
 */
class DeskDayTest : DeskDay() {
    @Test
    fun aWholeDeskDayAndEveryEnumCaseComesBack() = runBlocking {
        deskDay()
        val returned: List<List<Any>> = listOf(
            DocumentType.entries, Gender.entries, SubscriptionStatus.entries, PaymentMethod.entries,
            DurationUnit.entries, Role.entries, CheckInMethod.entries, DenialReason.entries,
            RewardStatus.entries, StockStatus.entries, MovementType.entries, Alert.entries,
            ActivityKind.entries, Precision.entries,
        )
        val missing = returned.flatten().filter { it !in seen }.map { "${it.javaClass.simpleName}.$it" }
        assertTrue(missing.isEmpty(), "enum cases no call returned during the day: $missing")
    }

    /** The face search is named, and its bounds checked, by core (`FaceSearch::parse`). */
    @Test
    fun theFaceSearchOptionIsParsedByCore() {
        val unreachable = "postgres://u:p@127.0.0.1:1/db"
        val kind = refused<PowergymException.Validation> { Gym.connect(unreachable, ConnectOptions(faceSearch = "ivfflat")) }
        assertEquals("face_search", kind.field)
        val exact = refused<PowergymException.Validation> { Gym.connect(unreachable, ConnectOptions(faceSearch = "exact", efSearch = 40u)) }
        assertEquals("ef_search", exact.field)
        val bound = refused<PowergymException.Validation> { Gym.connect(unreachable, ConnectOptions(efSearch = 0u)) }
        assertEquals("ef_search", bound.field)
        // Valid options get as far as the (unreachable) server.
        refused<PowergymException.ConnectionFailed> {
            Gym.connect(unreachable, ConnectOptions(faceSearch = "hnsw", efSearch = 100u, acquireTimeoutMs = 2000uL))
        }
    }

    /**
     * Enum cases that only rules take or return (no use case returns them): each crosses
     * into a core rule and back, and core's own labels parse to every case.
     */
    @Test
    fun enumsOfTheRulesCrossBothWays() {
        val today = LocalDate.of(2025, 6, 15)
        val labels = mapOf(
            "pay" to SubscriptionEvent.PAY,
            "start_date_reached" to SubscriptionEvent.START_DATE_REACHED,
            "end_date_passed" to SubscriptionEvent.END_DATE_PASSED,
            "cancel" to SubscriptionEvent.CANCEL,
        )
        labels.forEach { (label, event) -> assertEquals(event, parseSubscriptionEvent(label)) }
        assertEquals(SubscriptionEvent.entries.toSet(), labels.values.toSet())
        for (event in SubscriptionEvent.entries) {
            val e = refused<PowergymException.InvalidTransition> {
                transition(SubscriptionStatus.CANCELED, event, fullyPaid = true, startReached = true)
            }
            assertEquals(event, e.event)
        }
        // Every action is allowed to an admin and refused to a disabled one, naming it.
        for (action in Action.entries) {
            authorize(Role.ADMIN, false, action)
            val e = refused<PowergymException.PermissionDenied> { authorize(Role.ADMIN, true, action) }
            assertEquals(action, parseAction(e.action))
        }
        for (change in AccountChange.entries) {
            refused<PowergymException.Conflict> { guardLastAdmin(Role.ADMIN, false, change, 1u) }
            guardLastAdmin(Role.ADMIN, false, change, 2u)
        }
        assertEquals(
            RewardDecision.Eligible(1u, today, today.plusDays(6), BigDecimal("20")),
            evaluateReward(
                RewardConfig(1u, BigDecimal("20"), 7u, listOf(DurationUnit.MONTH)),
                SubscriptionStatus.ACTIVE, DurationUnit.MONTH, today, today.plusMonths(1), today, 1u,
            ),
        )
    }
}
