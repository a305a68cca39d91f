package com.powergym

import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File

/**
 * Every public use case of core's `Gym` is a method of the Kotlin `Gym`. The list comes from
 * conformance/use-cases.txt, which a core test generates from core's source and keeps current,
 * so a use case added to core fails this test until the binding offers it (or it is listed
 * below as left out, with the reason).
 */
class CoverageTest {
    /** Core's name → the Kotlin method that offers it, where the name differs from camelCase. */
    private val renamed = mapOf(
        // One-record lookups read as getters, like `getClient` always has.
        "client" to "getClient",
        "client_by_document" to "getClientByDocument",
        "plan" to "getPlan",
        "plan_by_slug" to "getPlanBySlug",
        "product" to "getProduct",
        "subscription" to "getSubscription",
        // Core has a variant with a retry key; Kotlin has one method whose key defaults to null.
        "check_in_with_key" to "checkIn",
        "check_in_by_document_with_key" to "checkInByDocument",
        "sell_product_with_key" to "sellProduct",
        // `connect` takes the options (Kotlin's default arguments stand for core's defaults).
        "connect_with" to "connect",
        // `connect` opens either store from its URL (sqlite://… or postgres://…).
        "open" to "connect",
        "open_with" to "connect",
        // `close()` is the generated AutoCloseable that frees the handle itself.
        "close" to "disconnect",
        // A `BusinessCalendar` is a Rust value; what it holds is the zone name.
        "calendar" to "timeZone",
    )

    /** Core's use cases Kotlin deliberately lacks, each with the reason. */
    private val leftOut = mapOf(
        "from_pool" to "takes a Rust sqlx PgPool, which cannot cross the FFI; Kotlin connects with Gym.connect(url, options)",
        "migrations" to "returns core's Migrations handle; its operations are offered flat on Gym " +
            "(migrate, migrateTo, revert, revertTo, stamp, currentVersion, history, checkSchema)",
        "operations" to "returns core's Operations handle; its operations are offered flat on Gym " +
            "(healthReport, grantAppRole, vacuumAnalyze, rebuildFaceIndex)",
        "from_sqlite" to "takes a Rust SqliteStore value; Kotlin opens SQLite with Gym.connect(\"sqlite://…\")",
        "load_face_matcher" to "builds a Rust-only in-memory FaceMatcher from a Gallery the caller owns; " +
            "Kotlin uses the gym's own cache instead (enableFaceCache / disableFaceCache)",
    )

    private fun useCases(): List<String> {
        val dir = File(System.getProperty("conformance.dir") ?: "../../conformance")
        val file = File(dir, "use-cases.txt")
        assertTrue(file.isFile, "no use-case list at ${file.absolutePath}")
        return file.readLines().map { it.trim() }.filter { it.isNotEmpty() && !it.startsWith("#") }
    }

    private fun camel(snake: String): String =
        snake.split('_').mapIndexed { i, part -> if (i == 0) part else part.replaceFirstChar { it.uppercase() } }
            .joinToString("")

    /** Method names of the Kotlin Gym and its companion (constructors live there). JVM names of
     *  functions taking unsigned (inline-class) arguments carry a `-hash` suffix: dropped. */
    private fun kotlinMethods(): Set<String> =
        (Gym::class.java.methods + Gym.Companion::class.java.methods)
            .map { it.name.substringBefore('-') }
            .toSet()

    @Test
    fun everyUseCaseOfCoreIsAMethodOfTheKotlinGym() {
        val cases = useCases()
        assertTrue(cases.size >= 80, "only ${cases.size} use cases read: is the list complete?")
        val methods = kotlinMethods()
        val missing = cases.filter { it !in leftOut }.filter { (renamed[it] ?: camel(it)) !in methods }
        assertTrue(missing.isEmpty(), "use cases of powergym_core::Gym missing from Kotlin: $missing")
    }

    @Test
    fun theExceptionListsNameOnlyRealUseCases() {
        // A rename or omission left behind after core drops a use case would hide nothing but
        // would mislead: each must name a current use case, and each rename a real method.
        val cases = useCases().toSet()
        val stale = (renamed.keys + leftOut.keys).filter { it !in cases }
        assertTrue(stale.isEmpty(), "renames or omissions of use cases core no longer has: $stale")
        val methods = kotlinMethods()
        val dangling = renamed.filterValues { it !in methods }
        assertTrue(dangling.isEmpty(), "renames to methods Kotlin does not have: $dangling")
        assertTrue(leftOut.keys.none { camel(it) in methods }, "listed as left out but offered: ${leftOut.keys}")
    }
}
