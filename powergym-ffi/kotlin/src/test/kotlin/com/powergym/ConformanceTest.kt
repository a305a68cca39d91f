package com.powergym

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import java.io.File
import java.math.BigDecimal
import java.time.Instant
import java.time.LocalDate
import java.util.UUID

/**
 * Runs the shared conformance vectors (the JSON files in conformance/) through the Kotlin bindings.
 * The Rust and Python suites run the same files; together they show the languages agree.
 */
class ConformanceTest {
    private val dir = File(System.getProperty("conformance.dir") ?: "../../conformance")
    private val owner = UUID(0, 1)
    private val other = UUID(0, 2)

    private fun files(): List<File> =
        dir.listFiles { f -> f.name.endsWith(".json") }!!.sortedBy { it.name }

    private fun JSONObject.str(k: String): String = getString(k)
    private fun JSONObject.date(k: String): LocalDate = LocalDate.parse(getString(k))
    private fun JSONObject.optDate(k: String): LocalDate? = if (isNull(k)) null else LocalDate.parse(getString(k))
    private fun JSONObject.dec(k: String): BigDecimal = BigDecimal(getString(k))
    private fun JSONObject.optDec(k: String): BigDecimal? = if (isNull(k)) null else BigDecimal(getString(k))

    private fun run(op: String, i: JSONObject): Map<String, Any?> = when (op) {
        "end_date" -> mapOf("end" to endDate(i.date("start"), parseDurationUnit(i.str("unit")), i.getInt("count").toUInt()).toString())
        "renewal_start" -> mapOf("start" to renewalStart(i.optDate("latest_end"), i.date("today")).toString())
        "transition" -> mapOf(
            "status" to label(
                transition(
                    parseSubscriptionStatus(i.str("status")), parseSubscriptionEvent(i.str("event")),
                    i.getBoolean("fully_paid"), i.getBoolean("start_reached"),
                ),
            ),
        )
        "initial_status" -> mapOf("status" to label(initialStatus(i.date("start"), i.date("today"), i.getBoolean("price_is_zero"))))
        "price" -> priceSnapshot(i.dec("list_price"), i.optDec("discount")).let {
            mapOf("final_price" to it.finalPrice.toPlainString(), "discount_amount" to it.discountAmount.toPlainString())
        }
        "payment" -> acceptPayment(
            parseSubscriptionStatus(i.str("status")), i.dec("list_price"), i.optDec("discount"), i.dec("paid"),
            i.dec("amount"), i.date("start"), i.date("today"),
        ).let { mapOf("status" to label(it.status), "balance" to it.balance.toPlainString()) }
        "reward_evaluate" -> {
            val c = i.getJSONObject("config")
            val units = c.getJSONArray("eligible_units").map { parseDurationUnit(it as String) }
            val config = RewardConfig(c.getInt("attendance_threshold").toUInt(), c.dec("discount_percentage"), c.getInt("expiration_days").toUInt(), units)
            val r = evaluateReward(
                config, parseSubscriptionStatus(i.str("status")), parseDurationUnit(i.str("unit")),
                i.date("start"), i.date("end"), i.date("today"), i.getInt("attendance_days").toUInt(),
            )
            when (r) {
                is RewardDecision.NotEligible -> mapOf("eligible" to false, "attendance_count" to r.attendanceCount.toInt())
                is RewardDecision.Eligible -> mapOf(
                    "eligible" to true,
                    "attendance_count" to r.attendanceCount.toInt(),
                    "eligible_date" to r.eligibleDate.toString(),
                    "expires_on" to r.expiresOn.toString(),
                    "discount" to r.discount.toPlainString(),
                )
            }
        }
        "reward_apply" -> applyReward(
            parseRewardStatus(i.str("reward_status")), owner, i.date("expires_on"), i.dec("reward_discount"),
            if (i.getBoolean("same_client")) owner else other, parseSubscriptionStatus(i.str("target_status")),
            i.dec("list_price"), i.optDec("discount"), i.dec("paid"), i.date("today"),
        ).let { mapOf("final_price" to it.finalPrice.toPlainString()) }
        "reward_expired" -> mapOf("expired" to rewardExpired(parseRewardStatus(i.str("status")), i.date("expires_on"), i.date("today")))
        "stock_status" -> mapOf("status" to stockStatus(i.dec("quantity"), i.dec("min_stock"), i.optDec("max_stock")).name)
        "stock_entry" -> mapOf("stock" to stockAfterEntry(i.dec("current"), i.dec("size"), i.dec("min_stock"), i.optDec("max_stock")).toPlainString())
        "stock_exit" -> mapOf("stock" to stockAfterExit(i.dec("current"), i.dec("size")).toPlainString())
        "sale_total" -> mapOf("total" to saleTotal(i.dec("size"), i.dec("unit_price")).toPlainString())
        "movement_quantity" -> mapOf("signed" to movementQuantity(parseMovementType(i.str("movement_type")), i.dec("size")).toPlainString())
        "access" -> {
            val arr = i.getJSONArray("subscriptions")
            val views = (0 until arr.length()).map { k ->
                val s = arr.getJSONObject(k)
                SubscriptionView(UUID(0, k.toLong()), parseSubscriptionStatus(s.str("status")), s.date("start"), s.date("end"), s.getBoolean("fully_paid"))
            }
            when (val a = decideAccess(i.getBoolean("client_active"), i.getBoolean("already_checked_in"), views, i.date("today"))) {
                is AccessDecision.Granted -> mapOf("decision" to "granted", "subscription_index" to a.subscriptionId.leastSignificantBits.toInt())
                is AccessDecision.Denied -> mapOf("decision" to "denied", "reason" to reasonCode(a.reason))
            }
        }
        "business_date" -> mapOf("date" to businessDate(Instant.parse(i.str("instant")), i.str("time_zone")).toString())
        "authorize" -> {
            authorize(parseRole(i.str("role")), i.getBoolean("disabled"), parseAction(i.str("action")))
            mapOf("allowed" to true)
        }
        "last_admin" -> {
            guardLastAdmin(parseRole(i.str("role")), i.getBoolean("disabled"), parseAccountChange(i.str("change")), i.getInt("active_admins").toUInt())
            mapOf("allowed" to true)
        }
        else -> error("unknown op $op")
    }

    private fun label(s: SubscriptionStatus) = s.name.lowercase()

    private fun reasonCode(r: DenialReason) = when (r) {
        DenialReason.CLIENT_INACTIVE -> "client_inactive"
        DenialReason.NO_SUBSCRIPTION -> "no_subscription"
        DenialReason.NOT_STARTED_YET -> "not_started_yet"
        DenialReason.EXPIRED -> "subscription_expired"
        DenialReason.UNPAID -> "unpaid"
        DenialReason.ALREADY_CHECKED_IN -> "already_checked_in"
    }

    private fun errorFields(e: PowergymException): Map<String, Any?> = when (e) {
        is PowergymException.NotFound -> mapOf("error" to "not_found")
        is PowergymException.AlreadyExists -> mapOf("error" to "already_exists")
        is PowergymException.Validation -> mapOf("error" to "validation")
        is PowergymException.InvalidTransition -> mapOf("error" to "invalid_transition", "from" to label(e.from), "event" to e.event.name.lowercase())
        is PowergymException.PaymentExceedsBalance -> mapOf("error" to "payment_exceeds_balance", "balance" to e.balance)
        is PowergymException.InsufficientStock -> mapOf("error" to "insufficient_stock", "requested" to e.requested, "available" to e.available)
        is PowergymException.AccessDenied -> mapOf("error" to "access_denied")
        is PowergymException.ConsentRequired -> mapOf("error" to "consent_required", "guardian" to e.guardian)
        is PowergymException.PermissionDenied -> mapOf("error" to "permission_denied", "action" to e.action)
        is PowergymException.Conflict -> mapOf("error" to "conflict")
        is PowergymException.SchemaOutOfDate -> mapOf("error" to "schema_out_of_date")
        is PowergymException.ExtensionMissing -> mapOf("error" to "extension_missing")
        is PowergymException.InvalidDatabaseUrl -> mapOf("error" to "invalid_database_url")
        is PowergymException.ConnectionFailed -> mapOf("error" to "connection_failed")
        is PowergymException.Timeout -> mapOf("error" to "timeout")
        is PowergymException.ResourceExhausted -> mapOf("error" to "resource_exhausted")
        is PowergymException.Unsupported -> mapOf("error" to "unsupported")
        is PowergymException.Database -> mapOf("error" to "database")
    }

    private fun same(want: Any?, got: Any?): Boolean {
        if (want is String && got is String) {
            val a = want.toBigDecimalOrNull()
            val b = got.toBigDecimalOrNull()
            return if (a != null && b != null) a.compareTo(b) == 0 else want == got
        }
        return want == got
    }

    @TestFactory
    fun vectors(): List<DynamicTest> = files().flatMap { file ->
        val doc = JSONObject(file.readText())
        val cases = doc.getJSONArray("cases")
        (0 until cases.length()).map { k ->
            val case = cases.getJSONObject(k)
            DynamicTest.dynamicTest("${doc.getString("family")}/${case.getString("name")}") {
                val got = try {
                    run(case.getString("op"), case.getJSONObject("input"))
                } catch (e: PowergymException) {
                    errorFields(e)
                }
                val expected = case.getJSONObject("expected")
                for (key in expected.keySet()) {
                    val want = expected.get(key)
                    assertTrue(same(want, got[key]), "$key: expected $want, got $got")
                }
            }
        }
    }

    @Test
    fun sevenFamiliesAndAtLeast200Vectors() {
        val files = files()
        assertEquals(7, files.size)
        val total = files.sumOf { JSONObject(it.readText()).getJSONArray("cases").length() }
        assertTrue(total >= 200, "only $total vectors")
    }
}
