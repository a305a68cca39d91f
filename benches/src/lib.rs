//! Shared helpers of the benchmarks.

use powergym_core::face::{EMBEDDING_DIM, FaceEmbedding};

/// A deterministic pseudo-random unit vector for identity `seed` (xorshift64), so every
/// run and every language's harness can rebuild the same gallery.
pub fn synthetic_face(seed: u64) -> FaceEmbedding {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let values: Vec<f32> = (0..EMBEDDING_DIM)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x as f64 / u64::MAX as f64 * 2.0 - 1.0) as f32
        })
        .collect();
    FaceEmbedding::from_slice(&values).expect("a random vector is finite and non-zero")
}
