package com.powergym

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.assertThrows
import kotlinx.coroutines.runBlocking
import java.math.BigDecimal
import java.time.LocalDate
import kotlin.math.sqrt
import kotlin.random.Random

/** `a` and `b` are the same amount, whatever their scale. */
fun assertAmount(expected: String, actual: BigDecimal?) {
    assertNotNull(actual, "expected $expected, got null")
    assertEquals(0, BigDecimal(expected).compareTo(actual), "expected $expected, got $actual")
}

/** Runs a refused call and returns its exception (the call must throw `T`). */
inline fun <reified T : Throwable> refused(crossinline call: suspend () -> Any?): T =
    assertThrows<T> { runBlocking { call() } }

/**
 * A whole day at the front desk through the public Kotlin API: staff, plans, members,
 * subscriptions sold, renewed and cancelled, payments with history, check-ins by document and
 * face, rewards, inventory, reports and the daily jobs. Every value that comes back is checked
 * field by field, every enum value seen is collected, and each refusal is followed by a re-read
 * showing nothing changed.
 *
 * The day moves the calendar once: a few rows are dated back with SQL (as if days had passed;
 * [TestDb] writes it in the store's dialect), so the daily jobs have periods to activate and
 * expire and a reward to let run out.
 */
abstract class DeskDay : StaffedGymTest() {
    override fun connectOptions() = ConnectOptions(
        maxConnections = 5u,
        thumbnailKey = ThumbnailKey.generate(),
        // One attendance day earns a reward here, so a single day shows the whole life of one.
        rewards = RewardConfig(1u, BigDecimal("20"), 7u, listOf(DurationUnit.DAY, DurationUnit.WEEK, DurationUnit.MONTH)),
        faceSearch = "exact",
    )

    /** The members' names and document numbers (and a guardian's): personal data no log may hold. */
    protected val personalData = listOf(
        "Ana", "Gómez", "10203040", "Luis", "Pérez", "E123456", "E654321", "Sam", "Ortiz", "PA12345",
        "Tomás", "Ruiz", "1002003004", "Marta", "52123456", "Eva", "Díaz", "30405060",
    )

    /** Every enum value a call returned. */
    protected val seen = mutableSetOf<Enum<*>>()

    private fun see(vararg values: Enum<*>?) {
        values.filterNotNull().forEach { seen += it }
    }

    private val random = Random(13)

    private fun face(): DoubleArray {
        val v = DoubleArray(512) { random.nextDouble(-1.0, 1.0) }
        val n = sqrt(v.sumOf { it * it })
        return DoubleArray(512) { v[it] / n }
    }

    private fun DoubleArray.bytes(): ByteArray = FloatArray(size) { this[it].toFloat() }.toEmbeddingBytes()

    private fun see(o: CheckInOutcome) = when (o) {
        is CheckInOutcome.Granted -> see(o.attendance.method)
        is CheckInOutcome.Denied -> see(o.reason)
    }

    private fun see(s: Subscription) = see(s.status)

    private fun see(p: Product) = see(p.stockStatus)

    protected suspend fun deskDay() {
        val today = gym.today()
        assertEquals("America/Bogota", gym.timeZone())

        // ---- Staff -------------------------------------------------------------------------
        val adminProfile = admin.profile()!!
        assertEquals("admin", adminProfile.username)
        see(adminProfile.role)
        assertNull(gym.actingAs("desk").profile())
        val coach = gym.createStaff(admin, "coach", "coach-password", Role.EMPLOYEE, email = "coach@example.com", fullName = "Carla Coach")
        assertEquals("coach@example.com", coach.email)
        assertEquals("Carla Coach", coach.fullName)
        assertFalse(coach.disabled)
        see(gym.setStaffRole(admin, "coach", Role.ADMIN).role, coach.role)
        assertEquals(Role.EMPLOYEE, gym.setStaffRole(admin, "coach", Role.EMPLOYEE).role)
        assertTrue(gym.setStaffDisabled(admin, "coach", true).disabled)
        refused<PowergymException.PermissionDenied> { gym.authenticate("coach", "coach-password") }
        assertFalse(gym.setStaffDisabled(admin, "coach", false).disabled)
        gym.resetPassword(admin, "coach", "coach-password-2")
        val coachActor = gym.authenticate("coach", "coach-password-2")
        refused<PowergymException.PermissionDenied> { gym.changeOwnPassword(coachActor, "wrong-password", "coach-password-3") }
        gym.changeOwnPassword(coachActor, "coach-password-2", "coach-password-3")
        assertEquals("coach", gym.authenticate("coach", "coach-password-3").username())
        refused<PowergymException.PermissionDenied> { gym.listStaff(desk) }
        assertEquals(listOf("admin", "coach", "desk"), gym.listStaff(admin).map { it.username }.sorted())
        refused<PowergymException.Conflict> { gym.removeStaff(admin, "admin") }
        gym.removeStaff(admin, "coach")
        assertEquals(listOf("admin", "desk"), gym.listStaff(admin).map { it.username }.sorted())

        // ---- Plans -------------------------------------------------------------------------
        var monthly = gym.createPlan(
            admin,
            PlanInput("Mensual", BigDecimal("50000"), DurationUnit.MONTH, 1u, slug = "mensual", description = "Acceso total", currency = "COP"),
        )
        assertEquals("Acceso total", monthly.description)
        assertEquals("COP", monthly.currency)
        assertEquals(1u, monthly.durationCount)
        assertTrue(monthly.isActive)
        val weekly = gym.createPlan(admin, PlanInput("Semanal", BigDecimal("15000"), DurationUnit.WEEK, 1u, slug = "semanal"))
        val daily = gym.createPlan(admin, PlanInput("Día", BigDecimal("5000"), DurationUnit.DAY, 1u, slug = "dia"))
        val yearly = gym.createPlan(admin, PlanInput("Anual", BigDecimal("500000"), DurationUnit.YEAR, 1u, slug = "anual"))
        listOf(monthly, weekly, daily, yearly).forEach { see(it.durationUnit) }
        assertEquals(weekly, gym.getPlanBySlug(desk, "semanal"))
        monthly = gym.updatePlan(admin, monthly.id, PlanUpdate(price = BigDecimal("55000"), description = "Todo incluido"))
        assertAmount("55000", monthly.price)
        assertEquals("Todo incluido", monthly.description)
        assertEquals(monthly, gym.getPlan(desk, monthly.id))
        assertFalse(gym.deactivatePlan(admin, yearly.id).isActive)
        assertEquals(3uL, gym.listPlans(desk).total)
        assertEquals(4uL, gym.listPlans(desk, activeOnly = false).total)

        // ---- Members -----------------------------------------------------------------------
        val born = LocalDate.of(1990, 3, 4)
        val ana = gym.registerClient(
            desk,
            ClientInput(DocumentType.CC, "10203040", "Ana", lastName = "Gómez", phone = "3001234567", birthDate = born, gender = Gender.FEMALE, email = "ana@example.com", address = "Calle 1"),
        )
        val luis = gym.registerClient(desk, ClientInput(DocumentType.CE, "E123456", "Luis", lastName = "Pérez", phone = "3007654321", birthDate = born, gender = Gender.MALE))
        val sam = gym.registerClient(desk, ClientInput(DocumentType.PP, "PA12345", "Sam", lastName = "Ortiz", phone = "3001112233", birthDate = born, gender = Gender.OTHER))
        val tomas = gym.registerClient(desk, ClientInput(DocumentType.TI, "1002003004", "Tomás", lastName = "Ruiz", phone = "3004445566", birthDate = today.minusYears(14), gender = Gender.MALE))
        val eva = gym.registerClient(desk, ClientInput(DocumentType.CC, "30405060", "Eva", lastName = "Díaz", phone = "3009998877", birthDate = born, gender = Gender.FEMALE))
        for (c in listOf(ana, luis, sam, tomas, eva)) see(c.documentType, c.gender)
        assertEquals("ana@example.com", ana.email)
        assertEquals("Calle 1", ana.address)
        val anaNow = gym.updateClient(desk, ana.id, ClientUpdate(phone = "310 987 6543", address = ""))
        assertEquals("3109876543", anaNow.phone)
        assertNull(anaNow.address)
        assertEquals("Ana Gómez", anaNow.fullName)
        val luisNow = gym.updateClient(desk, luis.id, ClientUpdate(document = DocumentChange(DocumentType.CE, "E654321")))
        assertEquals("E654321", luisNow.documentNumber)
        refused<PowergymException.AlreadyExists> { gym.updateClient(desk, luis.id, ClientUpdate(document = DocumentChange(DocumentType.CC, "10203040"))) }
        assertEquals(luisNow, gym.getClient(desk, luis.id))
        assertEquals(1uL, gym.searchClients(desk, "gomez").total)
        assertEquals(5uL, gym.listClientsFiltered(desk, ActiveFilter.ALL).total)
        assertFalse(gym.setClientActive(desk, sam.id, false).isActive)
        assertEquals(listOf(sam.id), gym.listClientsFiltered(desk, ActiveFilter.INACTIVE).items.map { it.id })
        assertEquals(4uL, gym.listClientsFiltered(desk, ActiveFilter.ACTIVE).total)

        // ---- Subscriptions and payments ----------------------------------------------------
        val anaSub = gym.createSubscription(desk, ana.id, monthly.id, discountPercentage = BigDecimal("10"))
        see(anaSub)
        assertEquals(SubscriptionStatus.PENDING_PAYMENT, anaSub.status)
        assertAmount("55000", anaSub.listPrice)
        assertAmount("10", anaSub.discountPercentage)
        assertAmount("5500", anaSub.discountAmount)
        assertAmount("49500", anaSub.finalPrice)
        assertEquals("COP", anaSub.currency)
        assertEquals(today, anaSub.startDate)
        assertNull(anaSub.cancellationDate)
        see(gym.checkInByDocument(desk, DocumentType.CC, "10203040"))
        val first = gym.recordPayment(desk, PaymentInput(anaSub.id, BigDecimal("20000"), PaymentMethod.CASH, notes = "first half"))
        assertAmount("29500", first.balance)
        assertEquals(SubscriptionStatus.PENDING_PAYMENT, first.status)
        assertEquals("first half", first.payment.notes)
        assertEquals("desk", first.payment.receivedBy)
        assertEquals(anaSub.id, first.payment.subscriptionId)
        val statsBefore = gym.subscriptionPaymentStats(desk, anaSub.id)
        val tooMuch = refused<PowergymException.PaymentExceedsBalance> {
            gym.recordPayment(desk, PaymentInput(anaSub.id, BigDecimal("30000"), PaymentMethod.QR))
        }
        assertEquals("29500", tooMuch.balance)
        assertEquals(statsBefore, gym.subscriptionPaymentStats(desk, anaSub.id))
        val rest = gym.recordPayment(desk, PaymentInput(anaSub.id, BigDecimal("29500"), PaymentMethod.QR, idempotencyKey = "ana-rest"))
        assertEquals(SubscriptionStatus.ACTIVE, rest.status)
        assertEquals("ana-rest", rest.payment.idempotencyKey)
        see(first.payment.method, rest.payment.method, rest.status)
        val history = gym.subscriptionPayments(desk, anaSub.id)
        assertEquals(setOf(first.payment, rest.payment), history.items.toSet())
        assertEquals(history, gym.clientPayments(desk, ana.id))
        val paid = gym.subscriptionPaymentStats(desk, anaSub.id)
        assertEquals(2uL, paid.count)
        assertAmount("49500", paid.totalPaid)
        assertAmount("0", paid.remainingDebt)
        assertNotNull(paid.lastPaymentDate)
        assertEquals(paid, gym.clientPaymentStats(desk, ana.id))

        val luisSub = gym.createSubscription(desk, luis.id, weekly.id, startDate = today.plusDays(3))
        see(luisSub)
        assertEquals(SubscriptionStatus.SCHEDULED, gym.recordPayment(desk, PaymentInput(luisSub.id, BigDecimal("15000"), PaymentMethod.CASH)).status)
        val tomasSub = gym.createSubscription(desk, tomas.id, daily.id)
        val canceled = gym.cancelSubscription(desk, tomasSub.id, reason = "changed his mind")
        see(canceled)
        assertEquals(SubscriptionStatus.CANCELED, canceled.status)
        assertEquals(today, canceled.cancellationDate)
        assertEquals("changed his mind", canceled.cancellationReason)
        val twice = refused<PowergymException.InvalidTransition> { gym.cancelSubscription(desk, tomasSub.id) }
        assertEquals(SubscriptionStatus.CANCELED, twice.from)
        see(twice.event)
        assertEquals(canceled, gym.getSubscription(desk, tomasSub.id))
        refused<PowergymException.Conflict> { gym.createSubscription(desk, eva.id, yearly.id) }
        assertEquals(emptyList<Subscription>(), gym.clientSubscriptions(desk, eva.id))
        val evaSub = gym.createSubscription(desk, eva.id, weekly.id)
        gym.recordPayment(desk, PaymentInput(evaSub.id, BigDecimal("15000"), PaymentMethod.CASH))
        val renewal = gym.renewSubscription(desk, anaSub.id, discountPercentage = BigDecimal("5"))
        see(renewal)
        assertEquals(anaSub.endDate.plusDays(1), renewal.startDate)
        assertEquals(SubscriptionStatus.SCHEDULED, renewal.status)
        assertEquals(monthly.id, renewal.planId)
        assertEquals(listOf(anaSub.id, renewal.id).sorted(), gym.clientSubscriptions(desk, ana.id).map { it.id }.sorted())
        assertEquals(anaSub.id, gym.currentSubscription(desk, ana.id)?.id)
        assertNull(gym.currentSubscription(desk, tomas.id))
        assertEquals(setOf(luisSub.id, renewal.id), gym.listSubscriptions(desk, SubscriptionStatus.SCHEDULED).items.map { it.id }.toSet())
        assertEquals(listOf(tomasSub.id), gym.listSubscriptions(desk, SubscriptionStatus.CANCELED).items.map { it.id })
        assertEquals(5uL, gym.listSubscriptions(desk).total)

        // ---- Check-ins by document and by hand ---------------------------------------------
        val granted = gym.checkInByDocument(desk, DocumentType.CC, "10.203.040")
        see(granted)
        val attendance = (granted as CheckInOutcome.Granted).attendance
        assertEquals(ana.id, attendance.clientId)
        assertEquals(anaSub.id, attendance.subscriptionId)
        assertEquals(today, attendance.businessDate)
        assertEquals(CheckInMethod.DOCUMENT, attendance.method)
        assertEquals("desk", attendance.recordedBy)
        see(gym.checkIn(desk, ana.id))
        see(gym.checkIn(desk, luis.id))
        see(gym.checkIn(desk, tomas.id))
        see(gym.checkIn(desk, sam.id))
        assertEquals(listOf(attendance), gym.clientAttendances(desk, ana.id, from = today, to = today).items)
        assertEquals(listOf(attendance), gym.attendances(admin, from = today).items)
        val dashboard = gym.clientDashboard(desk, ana.id)
        assertEquals(anaNow.id, dashboard.client.id)
        assertEquals(2uL, dashboard.totalSubscriptions)
        assertEquals("Mensual", dashboard.latestPlanName)
        assertNotNull(dashboard.lastAttendance)
        assertEquals(ana.createdAt, dashboard.clientSince)
        // Printed (logged), records with a member's data show ids and kinds, never the person.
        val change = ClientUpdate(firstName = "Ana", document = DocumentChange(DocumentType.CC, "10203040"))
        for (printed in listOf(dashboard.toString(), change.toString(), change.document.toString(), anaNow.toString())) {
            assertTrue(personalData.none { printed.contains(it) }, printed)
        }
        assertTrue(change.toString().contains("first_name"), change.toString())

        // ---- Faces -------------------------------------------------------------------------
        val anaFace = face()
        refused<PowergymException.ConsentRequired> { gym.enrollFace(desk, ana.id, anaFace.bytes()) }
        val consent = gym.recordBiometricConsent(desk, ana.id, "face check-in")
        assertEquals("desk", consent.recordedBy)
        assertFalse(consent.hasGuardian)
        val template = gym.enrollFace(desk, ana.id, anaFace.bytes(), ByteArray(1000) { it.toByte() })
        assertEquals(template, gym.faceTemplate(desk, ana.id))
        assertTrue(template.hasThumbnail)
        assertEquals("desk", template.enrolledBy)
        // A minor's consent needs the guardian's three fields together: core decides it.
        val partial = refused<PowergymException.Validation> {
            gym.recordBiometricConsent(desk, tomas.id, "face check-in", guardianName = "Marta Ruiz")
        }
        assertEquals("guardian", partial.field)
        assertEquals(emptyList<BiometricConsent>(), gym.biometricConsents(desk, tomas.id))
        val minor = gym.recordBiometricConsent(desk, tomas.id, "face check-in", "Marta Ruiz", DocumentType.CC, "52123456")
        assertTrue(minor.hasGuardian)
        assertEquals(listOf(minor), gym.biometricConsents(desk, tomas.id))
        val again = gym.checkInByFace(desk, anaFace.bytes())
        assertTrue(again is FaceCheckInOutcome.Denied && again.clientId == ana.id && again.reason == DenialReason.ALREADY_CHECKED_IN, "$again")
        assertEquals(FaceCheckInOutcome.NoMatch, gym.checkInByFace(desk, face().bytes()))
        // Sam comes back, buys a day and walks in by face.
        assertTrue(gym.setClientActive(desk, sam.id, true).isActive)
        val samSub = gym.createSubscription(desk, sam.id, daily.id)
        gym.recordPayment(desk, PaymentInput(samSub.id, BigDecimal("5000"), PaymentMethod.CASH))
        val samFace = face()
        gym.recordBiometricConsent(desk, sam.id, "face check-in")
        gym.enrollFace(desk, sam.id, samFace.bytes())
        for (precision in Precision.entries) {
            assertEquals(2uL, gym.enableFaceCache(desk, precision))
            see(precision)
        }
        gym.disableFaceCache()
        val samIn = gym.checkInByFace(desk, samFace.bytes())
        assertTrue(samIn is FaceCheckInOutcome.Granted, "$samIn")
        val samAttendance = (samIn as FaceCheckInOutcome.Granted).attendance
        assertEquals(sam.id, samAttendance.clientId)
        assertEquals(samSub.id, samAttendance.subscriptionId)
        see(samAttendance.method)
        assertTrue(samIn.distance < 0.01f && samIn.similarity > 0.99f)

        // ---- Rewards -----------------------------------------------------------------------
        val earned = gym.evaluateReward(desk, anaSub.id)
        assertTrue(earned is RewardEvaluation.Earned, "$earned")
        val reward = (earned as RewardEvaluation.Earned).reward
        assertEquals(1u, earned.attendanceCount)
        assertEquals(anaSub.id, reward.subscriptionId)
        assertEquals(ana.id, reward.clientId)
        assertAmount("20", reward.discountPercentage)
        assertEquals(today, reward.eligibleDate)
        assertEquals(today.plusDays(6), reward.expiresOn)
        assertNull(reward.appliedAt)
        see(reward.status)
        assertEquals(earned, gym.evaluateReward(desk, anaSub.id))
        assertEquals(listOf(reward), gym.availableRewards(desk, ana.id))
        assertEquals(RewardEvaluation.NotEarned(0u), gym.evaluateReward(desk, luisSub.id))
        val otherClient = refused<PowergymException.Validation> { gym.applyReward(desk, reward.id, luisSub.id) }
        assertEquals("subscription_id", otherClient.field)
        assertEquals(listOf(reward), gym.availableRewards(desk, ana.id))
        val applied = gym.applyReward(desk, reward.id, renewal.id)
        see(applied.status)
        assertEquals(RewardStatus.APPLIED, applied.status)
        assertEquals(renewal.id, applied.appliedSubscriptionId)
        assertNotNull(applied.appliedAt)
        assertEquals(emptyList<Reward>(), gym.availableRewards(desk, ana.id))
        val discounted = gym.getSubscription(desk, renewal.id)
        assertTrue(discounted.finalPrice < renewal.finalPrice, "${discounted.finalPrice} vs ${renewal.finalPrice}")
        val samReward = (gym.evaluateReward(desk, samSub.id) as RewardEvaluation.Earned).reward

        // ---- Inventory ---------------------------------------------------------------------
        val water = gym.createProduct(
            admin,
            ProductInput(
                "Agua", BigDecimal("600"), "ml", BigDecimal("2500"), description = "Sin gas", currency = "COP",
                photoUrl = "https://example.com/agua.png", minStock = BigDecimal("5"), maxStock = BigDecimal("20"),
            ),
        )
        see(water)
        assertEquals("Sin gas", water.description)
        assertEquals("https://example.com/agua.png", water.photoUrl)
        assertEquals("ml", water.unitType)
        assertAmount("600", water.capacityValue)
        assertAmount("5", water.minStock)
        assertAmount("20", water.maxStock)
        val entry = gym.addStock(admin, water.id, BigDecimal("3"), notes = "supplier A")
        see(entry.product.stockStatus, entry.movement.movementType)
        assertEquals("supplier A", entry.movement.notes)
        assertEquals("admin", entry.movement.responsible)
        assertNull(entry.movement.totalAmount)
        see(gym.addStock(admin, water.id, BigDecimal("10")).product)
        val sale = gym.sellProduct(desk, water.id, BigDecimal("2"), notes = "locker 4", idempotencyKey = "sale-1")
        see(sale.movement.movementType, sale.product.stockStatus)
        assertAmount("-2", sale.movement.quantity)
        assertAmount("2500", sale.movement.unitPrice)
        assertAmount("5000", sale.movement.totalAmount)
        assertEquals("locker 4", sale.movement.notes)
        assertAmount("11", sale.product.availableQuantity)
        val beforeShort = gym.getProduct(desk, water.id)
        val short = refused<PowergymException.InsufficientStock> { gym.sellProduct(desk, water.id, BigDecimal("12")) }
        assertEquals("11", short.available)
        assertEquals(beforeShort, gym.getProduct(desk, water.id))
        val renamed = gym.updateProduct(admin, water.id, ProductUpdate(name = "Agua 600", price = BigDecimal("3000"), maxStock = MaxStockChange.Clear))
        assertNull(renamed.maxStock)
        assertAmount("3000", renamed.price)
        val bar = gym.createProduct(admin, ProductInput("Barra", BigDecimal("50"), "g", BigDecimal("4000"), minStock = BigDecimal("1"), maxStock = BigDecimal("3")))
        gym.addStock(admin, bar.id, BigDecimal("3"))
        val over = gym.updateProduct(admin, bar.id, ProductUpdate(maxStock = MaxStockChange.Set(BigDecimal("2"))))
        see(over)
        assertEquals(StockStatus.OVERSTOCK, over.stockStatus)
        val barLow = gym.createProduct(admin, ProductInput("Guantes", BigDecimal("1"), "par", BigDecimal("30000"), minStock = BigDecimal("2")))
        see(gym.addStock(admin, barLow.id, BigDecimal("1")).product)
        val towel = gym.createProduct(admin, ProductInput("Toalla", BigDecimal("1"), "unidad", BigDecimal("20000")))
        see(towel)
        assertFalse(gym.setProductActive(admin, towel.id, false).isActive)
        refused<PowergymException.Conflict> { gym.addStock(admin, towel.id, BigDecimal("1")) }
        assertAmount("0", gym.getProduct(desk, towel.id).availableQuantity)
        assertTrue(gym.setProductActive(admin, towel.id, true).isActive)
        assertEquals(listOf(renamed.id), gym.listProducts(desk, search = "agua").items.map { it.id })
        assertEquals(4uL, gym.listProducts(desk).total)
        assertEquals(3uL, gym.listMovements(desk, productId = water.id).total)
        assertEquals(5uL, gym.listMovements(desk).total)
        val byStaff = gym.movementsByStaff(admin, today, today).associateBy { it.responsible }
        assertEquals(1uL, byStaff["desk"]!!.salesCount)
        assertAmount("5000", byStaff["desk"]!!.salesAmount)
        assertAmount("17", byStaff["admin"]!!.unitsEntered)
        val waterHistory = gym.productHistory(desk, water.id)
        assertEquals(3uL, waterHistory.totals.count)
        assertEquals(2uL, waterHistory.totals.entries)
        assertEquals(1uL, waterHistory.totals.exits)
        assertAmount("13", waterHistory.totals.entered)
        assertAmount("2", waterHistory.totals.exited)
        assertEquals(sale.movement, waterHistory.recent.first())
        assertEquals(listOf(barLow.id), gym.stockReport(admin, StockReport.LOW_STOCK).map { it.id })
        assertEquals(listOf(towel.id), gym.stockReport(admin, StockReport.OUT_OF_STOCK).map { it.id })
        assertEquals(listOf(bar.id), gym.stockReport(admin, StockReport.OVERSTOCK).map { it.id })

        // ---- Reports -----------------------------------------------------------------------
        val stats = gym.statistics(admin, today, today)
        assertEquals(today, stats.from)
        assertEquals(5uL, stats.clients.total)
        assertEquals(2uL, stats.attendance.totalAttendances)
        assertTrue(stats.attendance.deniedCheckIns >= 6uL, "${stats.attendance}")
        assertAmount("55000", stats.financial.revenueCash)
        assertAmount("29500", stats.financial.revenueQr)
        assertAmount("84500", stats.financial.periodRevenue)
        assertEquals(5uL, stats.financial.paymentsCount)
        assertEquals(1uL, stats.subscriptions.canceled)
        assertEquals(1uL, stats.inventory.salesCount)
        assertEquals(Alert.entries.toSet(), stats.alerts.toSet())
        see(*stats.alerts.toTypedArray())
        refused<PowergymException.PermissionDenied> { gym.statistics(desk, today, today) }
        val denials = gym.deniedCheckIns(admin, today, today)
        assertTrue(denials.all { it.count > 0uL })
        val activity = gym.recentActivity(admin, 50u)
        activity.forEach { see(it.kind) }
        assertAmount("29500", activity.first { it.kind == ActivityKind.PAYMENT && it.amount?.compareTo(BigDecimal("29500")) == 0 }.amount)

        // ---- The daily jobs, after moving the calendar -------------------------------------
        // Eva's week ended long ago, Luis's paid week starts today, Sam's reward ran out.
        db.moveSubscriptionBack(evaSub.id, 30)
        db.setSubscriptionPeriod(luisSub.id, today.minusDays(1), today.plusDays(5))
        db.moveRewardBack(samReward.id, 10)
        refused<PowergymException.PermissionDenied> { gym.runDailyJobs(desk, today) }
        val counts = gym.runDailyJobs(admin, today)
        assertEquals(DailyJobCounts(activated = 1uL, awaitingPayment = 0uL, expired = 1uL, expiredUnpaid = 0uL, expiredRewards = 1uL), counts)
        assertEquals(DailyJobCounts(0uL, 0uL, 0uL, 0uL, 0uL), gym.runDailyJobs(admin, today))
        see(gym.getSubscription(desk, evaSub.id).status, gym.getSubscription(desk, luisSub.id).status)
        assertEquals(SubscriptionStatus.EXPIRED, gym.getSubscription(desk, evaSub.id).status)
        val samRewardNow = (gym.evaluateReward(desk, samSub.id) as RewardEvaluation.Earned).reward
        assertEquals(RewardStatus.EXPIRED, samRewardNow.status)
        see(samRewardNow.status)
        // Luis's week has started: he walks in, let in by hand. Eva's week is over.
        val luisIn = gym.checkIn(desk, luis.id, idempotencyKey = "luis-door")
        assertEquals(luisIn, gym.checkIn(desk, luis.id, idempotencyKey = "luis-door"))
        see(luisIn)
        assertEquals(CheckInMethod.MANUAL, (luisIn as CheckInOutcome.Granted).attendance.method)
        assertEquals(luisSub.id, luisIn.attendance.subscriptionId)
        val evaIn = gym.checkInByDocument(desk, DocumentType.CC, "30405060")
        assertEquals(CheckInOutcome.Denied(DenialReason.EXPIRED), evaIn)
        see(evaIn)
        gym.deniedCheckIns(admin, today, today).forEach { see(it.reason) }
    }
}
