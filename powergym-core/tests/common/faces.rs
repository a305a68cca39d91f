//! Face-like test vectors: random unit directions (512-d random vectors are nearly
//! orthogonal, like different people's embeddings) and exact rotations of them at a
//! chosen cosine distance (another photo of the same person).

use powergym_core::face::{EMBEDDING_DIM, FaceEmbedding};

fn raw(seed: u64) -> Vec<f64> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..EMBEDDING_DIM)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as f64 / u64::MAX as f64 * 2.0 - 1.0
        })
        .collect()
}

fn unit(v: Vec<f64>) -> Vec<f64> {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

fn embed(v: &[f64]) -> FaceEmbedding {
    FaceEmbedding::from_slice(&v.iter().map(|x| *x as f32).collect::<Vec<_>>()).unwrap()
}

/// Person `seed`'s face.
pub fn face(seed: u64) -> FaceEmbedding {
    embed(&unit(raw(seed)))
}

/// A unit vector orthogonal to `of`, from `seed`.
fn orthogonal(of: &[f64], seed: u64) -> Vec<f64> {
    let r = raw(seed ^ 0xA5A5_A5A5);
    let dot: f64 = r.iter().zip(of).map(|(a, b)| a * b).sum();
    unit(r.iter().zip(of).map(|(a, b)| a - dot * b).collect())
}

/// A face at exactly cosine `distance` from `of` (rotated towards direction `seed`).
pub fn near(of: &FaceEmbedding, seed: u64, distance: f64) -> FaceEmbedding {
    let t: Vec<f64> = of.as_slice().iter().map(|x| f64::from(*x)).collect();
    let t = unit(t);
    let u = orthogonal(&t, seed);
    let cos = 1.0 - distance;
    let sin = (1.0 - cos * cos).max(0.0).sqrt();
    embed(
        &t.iter()
            .zip(&u)
            .map(|(a, b)| cos * a + sin * b)
            .collect::<Vec<_>>(),
    )
}
