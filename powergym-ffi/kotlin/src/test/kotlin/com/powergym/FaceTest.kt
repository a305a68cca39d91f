package com.powergym

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.math.BigDecimal
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.time.LocalDate
import kotlin.math.sqrt
import kotlin.random.Random

/** An embedding crosses as one buffer: 512 little-endian floats. */
fun FloatArray.toEmbeddingBytes(): ByteArray {
    val buffer = ByteBuffer.allocate(size * 4).order(ByteOrder.LITTLE_ENDIAN)
    buffer.asFloatBuffer().put(this)
    return buffer.array()
}

/** Face check-in through the Kotlin bindings: consent, enrolment, identification, check-in, erasure. */
class FaceTest : StaffedGymTest() {
    override fun connectOptions() = ConnectOptions(maxConnections = 5u, thumbnailKey = ThumbnailKey.generate())

    private val random = Random(2026)

    private fun unit(v: DoubleArray): DoubleArray {
        val n = sqrt(v.sumOf { it * it })
        return DoubleArray(v.size) { v[it] / n }
    }

    private fun randomFace(): DoubleArray = unit(DoubleArray(512) { random.nextDouble(-1.0, 1.0) })

    /** Another photo of the same face at exactly this cosine distance. */
    private fun photoOf(face: DoubleArray, distance: Double): DoubleArray {
        val r = DoubleArray(512) { random.nextDouble(-1.0, 1.0) }
        val along = r.indices.sumOf { r[it] * face[it] }
        val u = unit(DoubleArray(512) { r[it] - along * face[it] })
        val cos = 1.0 - distance
        val sin = sqrt(1.0 - cos * cos)
        return DoubleArray(512) { cos * face[it] + sin * u[it] }
    }

    private fun DoubleArray.bytes(): ByteArray = FloatArray(size) { this[it].toFloat() }.toEmbeddingBytes()

    @Test
    fun consentEnrolCheckInAndErase() = runBlocking {
        val ana = gym.registerClient(
            desk,
            ClientInput(DocumentType.CC, "10203040", "Ana", lastName = "Gómez", phone = "3001234567", birthDate = LocalDate.of(1990, 1, 1), gender = Gender.FEMALE),
        )
        val face = randomFace()
        val refused = assertThrows<PowergymException.ConsentRequired> {
            runBlocking { gym.enrollFace(desk, ana.id, face.bytes(), null) }
        }
        assertFalse(refused.guardian)
        assertTrue(gym.recordBiometricConsent(desk, ana.id, "face check-in", null, null, null).withdrawnAt == null)
        val jpeg = ByteArray(3000) { (it % 251).toByte() }
        val template = gym.enrollFace(desk, ana.id, face.bytes(), jpeg)
        assertTrue(template.hasThumbnail)
        assertArrayEquals(jpeg, gym.faceThumbnail(desk, ana.id))

        val match = gym.identifyFace(desk, photoOf(face, 0.3).bytes())
        assertTrue(match is FaceMatch.Match && match.clientId == ana.id)
        assertEquals(0.3f, (match as FaceMatch.Match).distance, 1e-3f)
        assertEquals(0.7f, match.similarity, 1e-3f)
        assertEquals(FaceMatch.NoMatch, gym.identifyFace(desk, randomFace().bytes()))
        val far = gym.verifyFace(desk, ana.id, photoOf(face, 0.45).bytes())
        assertFalse(far.matched)
        assertEquals(0.45f, far.distance, 1e-3f)
        assertTrue(gym.verifyFace(desk, ana.id, photoOf(face, 0.2).bytes()).matched)

        val plan = gym.createPlan(admin, PlanInput("Mensual", BigDecimal("50000"), DurationUnit.MONTH, 1u))
        val sub = gym.createSubscription(desk, ana.id, plan.id, null, null)
        gym.recordPayment(desk, PaymentInput(sub.id, BigDecimal("50000"), PaymentMethod.CASH))
        val granted = gym.checkInByFace(desk, photoOf(face, 0.25).bytes())
        assertTrue(granted is FaceCheckInOutcome.Granted && granted.attendance.clientId == ana.id && granted.attendance.method == CheckInMethod.FACE)
        val again = gym.checkInByFace(desk, photoOf(face, 0.25).bytes())
        assertTrue(again is FaceCheckInOutcome.Denied && again.clientId == ana.id && again.reason == DenialReason.ALREADY_CHECKED_IN)
        assertEquals(0.25f, (again as FaceCheckInOutcome.Denied).distance, 1e-3f)
        assertEquals(FaceCheckInOutcome.NoMatch, gym.checkInByFace(desk, randomFace().bytes()))
        assertEquals(1uL, gym.enableFaceCache(desk, Precision.INT8))
        val cached = gym.identifyFace(desk, photoOf(face, 0.2).bytes())
        assertTrue(cached is FaceMatch.Match && cached.clientId == ana.id)
        gym.disableFaceCache()

        val bad = assertThrows<PowergymException.Validation> {
            runBlocking { gym.identifyFace(desk, ByteArray(100)) }
        }
        assertEquals("embedding", bad.field)

        assertTrue(gym.withdrawBiometricConsent(desk, ana.id).withdrawnAt != null)
        assertNull(gym.faceThumbnail(desk, ana.id))
        assertFalse(gym.removeFace(desk, ana.id))
        assertEquals(FaceMatch.NoMatch, gym.identifyFace(desk, face.bytes()))
    }

    @Test
    fun enrolManyFacesInOneBuffer() = runBlocking {
        val members = (0 until 5).map { i ->
            val c = gym.registerClient(
                desk,
                ClientInput(DocumentType.CC, "5060700$i", "Ana", lastName = "Gómez", phone = "3001234567", birthDate = LocalDate.of(1990, 1, 1), gender = Gender.FEMALE),
            )
            if (i != 3) gym.recordBiometricConsent(desk, c.id, "face check-in", null, null, null)
            c.id
        }
        val faces = List(5) { randomFace() }
        // Member 4 shows member 0's face again: both refused, as one face for two members.
        val rows = listOf(faces[0], faces[1], faces[2], faces[3], photoOf(faces[0], 0.1))
        val buffer = FloatArray(5 * 512) { rows[it / 512][it % 512].toFloat() }.toEmbeddingBytes()
        val result = gym.enrollFaces(desk, members, buffer)
        assertEquals(2uL, result.enrolled)
        assertEquals(listOf("duplicate_in_batch", null, null, "no_consent", "duplicate_in_batch"), result.outcomes)
        val match = gym.identifyFace(desk, photoOf(faces[1], 0.2).bytes())
        assertTrue(match is FaceMatch.Match && match.clientId == members[1])
        assertNull(gym.faceTemplate(desk, members[0]))

        val bad = assertThrows<PowergymException.Validation> {
            runBlocking { gym.enrollFaces(desk, members, ByteArray(100)) }
        }
        assertEquals("embeddings", bad.field)
    }
}
