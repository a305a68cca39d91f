package com.powergym

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.math.BigDecimal
import java.time.LocalDate

/** A representative use case of each area through the Kotlin bindings. */
class StoreTest : StaffedGymTest() {
    @Test
    fun sellPayAndCheckIn() = runBlocking {
        val plan = gym.createPlan(admin, PlanInput("Mensual", BigDecimal("50000"), DurationUnit.MONTH, 1u, slug = "monthly"))
        val input = ClientInput(DocumentType.CC, "10203040", "Ana", lastName = "Gómez", phone = "3001234567", birthDate = LocalDate.of(1990, 1, 1), gender = Gender.FEMALE)
        val ana = gym.registerClient(desk, input)
        // A logged member or registration shows no personal data.
        for (printed in listOf(ana.toString(), input.toString(), gym.listClients(desk, 10u, 0uL).toString())) {
            for (secret in listOf("Ana", "Gómez", "10203040", "3001234567")) {
                assertFalse(printed.contains(secret), printed)
            }
        }
        assertTrue(ana.toString().contains(ana.id.toString()))
        val sub = gym.createSubscription(desk, ana.id, plan.id, null, BigDecimal("10"))
        assertEquals(SubscriptionStatus.PENDING_PAYMENT, sub.status)
        assertEquals(0, BigDecimal("45000").compareTo(sub.finalPrice))

        val denied = gym.checkInByDocument(desk, DocumentType.CC, "10203040")
        assertEquals(CheckInOutcome.Denied(DenialReason.UNPAID), denied)

        val tooMuch = assertThrows<PowergymException.PaymentExceedsBalance> {
            runBlocking { gym.recordPayment(desk, PaymentInput(sub.id, BigDecimal("45000.01"), PaymentMethod.CASH)) }
        }
        assertEquals("45000", tooMuch.balance)
        val receipt = gym.recordPayment(desk, PaymentInput(sub.id, BigDecimal("45000"), PaymentMethod.QR, idempotencyKey = "k-1"))
        assertEquals(SubscriptionStatus.ACTIVE, receipt.status)
        assertEquals(receipt, gym.recordPayment(desk, PaymentInput(sub.id, BigDecimal("45000"), PaymentMethod.QR, idempotencyKey = "k-1")))

        val granted = gym.checkInByDocument(desk, DocumentType.CC, "10.203.040")
        assertTrue(granted is CheckInOutcome.Granted)
        assertEquals(RewardEvaluation.NotEarned(1u), gym.evaluateReward(desk, sub.id))
        val stats = gym.statistics(admin, sub.startDate, sub.startDate)
        assertEquals(0, BigDecimal("45000").compareTo(stats.financial.periodRevenue))
        assertEquals(1uL, stats.attendance.totalAttendances)
        assertEquals(1uL, stats.attendance.deniedCheckIns)
        // The jobs may catch up past days but never run ahead of the gym's business day.
        assertThrows<PowergymException.Validation> { runBlocking { gym.runDailyJobs(admin, sub.endDate.plusDays(1)) } }
        // The gym's business day, not the machine's: between 19:00 and midnight in Bogotá the
        // machine's UTC date is already tomorrow, which the jobs refuse before asking who acts.
        val counts = gym.runDailyJobs(admin, gym.today())
        assertEquals(0uL, counts.expired)
        assertThrows<PowergymException.PermissionDenied> { runBlocking { gym.runDailyJobs(desk, gym.today()) } }
        Unit
    }

    @Test
    fun inventory() = runBlocking {
        val water = gym.createProduct(admin, ProductInput("Agua", BigDecimal("600"), "ml", BigDecimal("2500")))
        assertEquals(StockStatus.STOCK_OUT, water.stockStatus)
        gym.addStock(admin, water.id, BigDecimal("3"))
        val sale = gym.sellProduct(desk, water.id, BigDecimal("2"))
        assertEquals(0, BigDecimal("5000").compareTo(sale.movement.totalAmount))
        assertEquals(StockStatus.LOW_STOCK, sale.product.stockStatus)
        val short = assertThrows<PowergymException.InsufficientStock> {
            runBlocking { gym.sellProduct(desk, water.id, BigDecimal("2")) }
        }
        assertEquals("1", short.available)
        assertEquals(0uL, gym.searchClients(admin, "nobody", 10u, 0uL).total)
    }
}
