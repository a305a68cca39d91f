package com.powergym

import org.junit.jupiter.api.Assumptions.assumeTrue
import java.io.File
import java.math.BigDecimal
import java.nio.file.Files
import java.nio.file.Path
import java.sql.DriverManager
import java.time.Instant
import java.time.LocalDate
import java.time.temporal.ChronoUnit
import java.util.UUID

/** The stores a gym under test can open. */
enum class StoreKind { POSTGRES, SQLITE }

/**
 * The store this run's gyms open: `POWERGYM_TEST_STORE` as a system property or in the
 * environment, `postgres` (the default) or `sqlite`. scripts/kotlin-test.sh runs the suite
 * once on each.
 */
object TestStore {
    val kind: StoreKind = run {
        val named = (System.getProperty("POWERGYM_TEST_STORE") ?: System.getenv("POWERGYM_TEST_STORE"))
            ?.trim()?.lowercase().orEmpty()
        when (named) {
            "", "postgres", "postgresql" -> StoreKind.POSTGRES
            "sqlite" -> StoreKind.SQLITE
            else -> error("POWERGYM_TEST_STORE must be postgres or sqlite, not '$named'")
        }
    }

    val isSqlite: Boolean get() = kind == StoreKind.SQLITE

    /** Skips the calling test unless this run is on PostgreSQL; `reason` says why it checks PostgreSQL itself. */
    fun assumePostgres(reason: String) = assumeTrue(kind == StoreKind.POSTGRES) { "PostgreSQL only: $reason" }

    /** Skips the calling test unless this run is on SQLite. */
    fun assumeSqlite(reason: String) = assumeTrue(kind == StoreKind.SQLITE) { "SQLite only: $reason" }

    /**
     * The newest schema version the library ships for [kind], read from the migration files
     * (Kotlin's `latestSchemaVersion()` is PostgreSQL's).
     */
    fun latestVersion(kind: StoreKind = this.kind): Long {
        val dir = File(System.getProperty("migrations.dir") ?: "../../migrations", kind.name.lowercase())
        val versions = dir.listFiles { f -> f.name.endsWith(".up.sql") }!!.map { it.name.substringBefore('_').toLong() }
        check(versions.isNotEmpty()) { "no migrations in ${dir.absolutePath}" }
        return versions.max()
    }
}

/** Per-test databases on the real PostgreSQL server named by DATABASE_URL. */
object TestDatabase {
    val adminUrl: String =
        System.getenv("DATABASE_URL") ?: "postgres://powergym:powergym@127.0.0.1:5432/powergym"

    fun urlFor(name: String): String = adminUrl.substringBeforeLast('/') + "/" + name

    /** Runs `sql` with psql; psql's output (command tags such as `UPDATE 1`). */
    fun psql(sql: String, url: String = adminUrl): String {
        val process = ProcessBuilder("psql", "-X", "-v", "ON_ERROR_STOP=1", url, "-c", sql)
            .redirectErrorStream(true)
            .start()
        val output = process.inputStream.bufferedReader().readText()
        check(process.waitFor() == 0) { "psql failed: $output" }
        return output
    }
}

/**
 * A new, empty database on [kind], for one test: on PostgreSQL a database of its own on the
 * server, on SQLite a file in a temporary directory. [close] drops the database or deletes
 * the directory (with the file's -wal and -shm). Close the gyms on it first.
 *
 * Raw SQL ([exec]) is for what the public API cannot do, such as moving rows back in time;
 * it is written in both dialects, PostgreSQL's first, with `?` for each value. Values are
 * written in each store's storage convention (see powergym-core/src/store/sqlite/mod.rs):
 * on SQLite ids are hyphenated TEXT, days TEXT `YYYY-MM-DD`, instants INTEGER microseconds
 * since the epoch (UTC), money and quantities INTEGER hundredths, booleans 0/1.
 */
class TestDb private constructor(
    val kind: StoreKind,
    /** The URL a gym opens it with. */
    val url: String,
    private val pgName: String?,
    private val dir: Path?,
) : AutoCloseable {
    companion object {
        fun create(kind: StoreKind = TestStore.kind): TestDb = when (kind) {
            StoreKind.POSTGRES -> {
                val name = "powergym_kt_" + UUID.randomUUID().toString().replace("-", "").take(12)
                TestDatabase.psql("create database \"$name\"")
                TestDb(kind, TestDatabase.urlFor(name), name, null)
            }
            StoreKind.SQLITE -> {
                val dir = Files.createTempDirectory("powergym_kt_")
                TestDb(kind, "sqlite://" + dir.resolve("gym.db"), null, dir)
            }
        }
    }

    /** The SQLite file (SQLite only). */
    val file: Path get() = checkNotNull(dir) { "not a SQLite database" }.resolve("gym.db")

    /** Runs `postgres` on PostgreSQL or `sqlite` on SQLite (one statement); the rows it changed. */
    fun exec(postgres: String, sqlite: String, vararg args: Any?): Long = when (kind) {
        StoreKind.POSTGRES -> {
            val output = TestDatabase.psql(pgInline(postgres, args), url)
            // The command tag: `UPDATE 1`, `INSERT 0 1`, `DELETE 3`.
            output.lines().last { it.isNotBlank() }.trim().substringAfterLast(' ').toLongOrNull() ?: 0L
        }
        StoreKind.SQLITE -> DriverManager.getConnection("jdbc:sqlite:$file").use { c ->
            c.createStatement().use { it.execute("pragma foreign_keys = on"); it.execute("pragma busy_timeout = 30000") }
            c.prepareStatement(sqlite).use { st ->
                args.forEachIndexed { i, a -> st.setObject(i + 1, sqliteValue(a)) }
                st.executeUpdate().toLong()
            }
        }
    }

    /** A statement that reads the same in both dialects. */
    fun sql(statement: String, vararg args: Any?): Long = exec(statement, statement, *args)

    /** Runs `postgres` or `sqlite`, which must change exactly one row. */
    fun execOne(postgres: String, sqlite: String, vararg args: Any?) {
        val changed = exec(postgres, sqlite, *args)
        check(changed == 1L) { "expected one row changed on $kind, got $changed: ${if (kind == StoreKind.POSTGRES) postgres else sqlite}" }
    }

    // ---- Moving rows back in time (as if days had passed) ---------------------------------

    /** Moves a subscription's period `days` days earlier. */
    fun moveSubscriptionBack(id: UUID, days: Int) = execOne(
        "update subscriptions set start_date = start_date - ?, end_date = end_date - ? where id = ?",
        "update subscriptions set start_date = date(start_date, '-' || ? || ' days'), " +
            "end_date = date(end_date, '-' || ? || ' days') where id = ?",
        days, days, id,
    )

    /** Sets a subscription's period. */
    fun setSubscriptionPeriod(id: UUID, start: LocalDate, end: LocalDate) =
        execOne("update subscriptions set start_date = ?, end_date = ? where id = ?",
            "update subscriptions set start_date = ?, end_date = ? where id = ?", start, end, id)

    /** Moves a reward's eligibility and expiry `days` days earlier. */
    fun moveRewardBack(id: UUID, days: Int) = execOne(
        "update rewards set eligible_date = eligible_date - ?, expires_on = expires_on - ? where id = ?",
        "update rewards set eligible_date = date(eligible_date, '-' || ? || ' days'), " +
            "expires_on = date(expires_on, '-' || ? || ' days') where id = ?",
        days, days, id,
    )

    override fun close() {
        when (kind) {
            StoreKind.POSTGRES -> TestDatabase.psql("drop database if exists \"$pgName\" with (force)")
            StoreKind.SQLITE -> dir!!.toFile().deleteRecursively()
        }
    }

    /** `sql` with each `?` replaced by its value as a PostgreSQL literal. */
    private fun pgInline(sql: String, args: Array<out Any?>): String {
        val parts = sql.split('?')
        check(parts.size == args.size + 1) { "${parts.size - 1} placeholders for ${args.size} values" }
        return buildString {
            append(parts[0])
            args.forEachIndexed { i, a -> append(pgLiteral(a)); append(parts[i + 1]) }
        }
    }

    private fun pgLiteral(a: Any?): String = when (a) {
        null -> "null"
        is UUID -> "'$a'::uuid"
        is LocalDate -> "date '$a'"
        is Instant -> "timestamptz '$a'"
        is BigDecimal -> a.toPlainString()
        is Int, is Long -> a.toString()
        is Boolean -> a.toString()
        is String -> "'" + a.replace("'", "''") + "'"
        else -> error("no PostgreSQL literal for ${a::class}")
    }

    private fun sqliteValue(a: Any?): Any? = when (a) {
        null -> null
        is UUID -> a.toString()
        is LocalDate -> a.toString()
        is Instant -> ChronoUnit.MICROS.between(Instant.EPOCH, a)
        is BigDecimal -> a.movePointRight(2).longValueExact() // hundredths; more places fail
        is Int -> a.toLong()
        is Long -> a
        is Boolean -> if (a) 1L else 0L
        is String -> a
        else -> error("no SQLite value for ${a::class}")
    }
}
