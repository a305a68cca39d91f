package com.powergym

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.math.BigDecimal
import java.time.LocalDate

/** Retry keys for sales and check-ins: a retried call returns the first result. */
class IdempotencyTest : StaffedGymTest() {
    @Test
    fun aRetriedSaleOrCheckInReturnsTheFirstResult() = runBlocking {
        val water = gym.createProduct(admin, ProductInput("Agua", BigDecimal("600"), "ml", BigDecimal("2500")))
        gym.addStock(admin, water.id, BigDecimal("10"))
        val sale = gym.sellProduct(desk, water.id, BigDecimal("2"), idempotencyKey = "sale-1")
        assertEquals(sale, gym.sellProduct(desk, water.id, BigDecimal("2"), idempotencyKey = "sale-1"))
        assertEquals(0, BigDecimal("8").compareTo(sale.product.availableQuantity))
        assertThrows<PowergymException.Conflict> {
            runBlocking { gym.sellProduct(desk, water.id, BigDecimal("3"), idempotencyKey = "sale-1") }
        }

        val free = gym.createPlan(admin, PlanInput("Libre", BigDecimal("0"), DurationUnit.MONTH, 1u, slug = "free"))
        val input = ClientInput(DocumentType.CC, "10203040", "Ana", lastName = "Gómez", phone = "3001234567", birthDate = LocalDate.of(1990, 1, 1), gender = Gender.FEMALE)
        val ana = gym.registerClient(desk, input)
        gym.createSubscription(desk, ana.id, free.id, null, null)
        val first = gym.checkIn(desk, ana.id, idempotencyKey = "door-1")
        assertTrue(first is CheckInOutcome.Granted)
        assertEquals(first, gym.checkIn(desk, ana.id, idempotencyKey = "door-1"))
        val refused = gym.checkInByDocument(desk, DocumentType.CC, "10203040", idempotencyKey = "door-2")
        assertEquals(CheckInOutcome.Denied(DenialReason.ALREADY_CHECKED_IN), refused)
        assertEquals(refused, gym.checkInByDocument(desk, DocumentType.CC, "10.203.040", "door-2"))
        Unit
    }
}
