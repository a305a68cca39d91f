//! Shared helpers of the benchmarks: deterministic synthetic faces, so every run, every
//! harness and every language (the raw `f32` files) measures the same data.
//!
//! Real galleries are not uniform noise: a genuine probe (the same person, another
//! photo) sits at an ArcFace cosine distance of roughly 0.2–0.6 from the enrolled
//! template, while a stranger sits near 1.0 from everyone (512-d directions are nearly
//! orthogonal). [`FaceSet`] reproduces that shape exactly:
//!
//! - identities are uniformly random unit vectors (Gaussian components, normalised);
//! - a genuine probe of identity `t` at target distance `d` is `cos·t + sin·u`, with
//!   `cos = 1 − d` and `u` a random unit vector orthogonal to `t`, so its distance to
//!   `t` is `d` up to `f32` rounding; [`FaceSet::probes`] draws `d` uniformly from
//!   [`GENUINE_DISTANCES`];
//! - an impostor probe is one more random unit vector (distance ≈ 1 ± 0.04 to each
//!   identity, ≈ 0.8 to the nearest of 100k).
//!
//! Everything is a pure function of its seed (SplitMix64 + Box–Muller, no RNG crate),
//! so two processes rebuild the same set.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::RangeInclusive;
use std::path::Path;

use powergym_core::ClientId;
use powergym_core::face::{EMBEDDING_DIM, FaceEmbedding, Gallery, Precision};

/// A deterministic pseudo-random unit vector for identity `seed` (xorshift64), so every
/// run and every language's harness can rebuild the same gallery. Components are
/// uniform in a cube, not on the sphere: kept for the benches written before
/// [`FaceSet`]; prefer [`random_face`] for new ones.
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

/// Cosine distances of genuine probes to their identity, like real ArcFace pairs of
/// the same person (same day ≈ 0.2, years apart or poor light ≈ 0.6).
pub const GENUINE_DISTANCES: RangeInclusive<f64> = 0.2..=0.6;

/// SplitMix64: tiny, fast, and good enough for test vectors.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn gaussian(&mut self) -> f64 {
        let u = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// A uniformly random direction, in `f64`, unit length.
    fn direction(&mut self) -> Vec<f64> {
        let v: Vec<f64> = (0..EMBEDDING_DIM).map(|_| self.gaussian()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.into_iter().map(|x| x / norm).collect()
    }
}

/// A seed for item `index` of a set seeded `seed`, so items are independent of how
/// many come before them.
fn item_seed(seed: u64, index: u64) -> u64 {
    Rng::new(seed ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93)).next_u64()
}

fn embedding(values: &[f64]) -> FaceEmbedding {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    FaceEmbedding::from_slice(&v).expect("a random direction is finite and non-zero")
}

/// A uniformly random unit vector: a stranger to every other seed's vector.
pub fn random_face(seed: u64) -> FaceEmbedding {
    embedding(&Rng::new(seed).direction())
}

/// `n` identities (uniformly random unit vectors); identity `i` depends only on
/// `(seed, i)`, so a 10k set is the first tenth of the 100k set.
pub fn identities(n: usize, seed: u64) -> Vec<FaceEmbedding> {
    (0..n as u64)
        .map(|i| random_face(item_seed(seed, i)))
        .collect()
}

/// Another photo of `identity`: a unit vector at cosine distance `target_distance`
/// (0 to 2) from it, in a random direction.
pub fn genuine_probe(identity: &FaceEmbedding, seed: u64, target_distance: f64) -> FaceEmbedding {
    let t: Vec<f64> = identity.as_slice().iter().map(|&x| f64::from(x)).collect();
    let mut rng = Rng::new(seed);
    // A random direction with its component along `t` removed (Gram–Schmidt). The
    // chance that it is parallel to `t` is nil in 512 dimensions.
    let r = rng.direction();
    let along: f64 = r.iter().zip(&t).map(|(a, b)| a * b).sum();
    let u: Vec<f64> = r.iter().zip(&t).map(|(x, a)| x - along * a).collect();
    let norm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
    let cos = (1.0 - target_distance).clamp(-1.0, 1.0);
    let sin = (1.0 - cos * cos).sqrt();
    let v: Vec<f64> = t
        .iter()
        .zip(&u)
        .map(|(a, x)| cos * a + sin * x / norm)
        .collect();
    embedding(&v)
}

/// A probe and what it should match.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The probe itself.
    pub embedding: FaceEmbedding,
    /// Index of the identity it was drawn from; `None` for an impostor.
    pub identity: Option<usize>,
    /// The distance it was built at from that identity; `None` for an impostor.
    pub target_distance: Option<f64>,
}

/// A synthetic gallery of `n` identities, plus the probes to search it with.
#[derive(Debug, Clone)]
pub struct FaceSet {
    /// One template per identity; identity `i` is enrolled as [`FaceSet::client_id`]`(i)`.
    pub identities: Vec<FaceEmbedding>,
    seed: u64,
}

impl FaceSet {
    /// `n` identities drawn from `seed` (see [`identities`]).
    pub fn new(n: usize, seed: u64) -> Self {
        Self {
            identities: identities(n, seed),
            seed,
        }
    }

    /// The client id identity `i` is enrolled under (a UUID whose value is `i`), so a
    /// matcher's answer maps back to an index.
    pub fn client_id(i: usize) -> ClientId {
        ClientId::from_uuid(uuid::Uuid::from_u128(i as u128))
    }

    /// The identity index of a client id made by [`FaceSet::client_id`].
    pub fn index_of(client: ClientId) -> usize {
        client.as_uuid().as_u128() as usize
    }

    /// A gallery holding every identity at `precision`.
    pub fn gallery(&self, precision: Precision) -> Gallery {
        let mut g = Gallery::with_precision(precision);
        for (i, face) in self.identities.iter().enumerate() {
            g.upsert(Self::client_id(i), face);
        }
        g
    }

    /// `genuine` probes of identities drawn at random, each at a distance drawn
    /// uniformly from [`GENUINE_DISTANCES`], then `impostors` strangers; a pure
    /// function of the set and `seed`.
    pub fn probes(&self, genuine: usize, impostors: usize, seed: u64) -> Vec<Probe> {
        let n = self.identities.len();
        let mut out = Vec::with_capacity(genuine + impostors);
        for j in 0..genuine as u64 {
            let mut rng = Rng::new(item_seed(seed ^ self.seed, j));
            let identity = (rng.next_u64() % n as u64) as usize;
            let (lo, hi) = (*GENUINE_DISTANCES.start(), *GENUINE_DISTANCES.end());
            let distance = lo + (hi - lo) * rng.uniform();
            out.push(Probe {
                embedding: genuine_probe(&self.identities[identity], rng.next_u64(), distance),
                identity: Some(identity),
                target_distance: Some(distance),
            });
        }
        for j in 0..impostors as u64 {
            out.push(Probe {
                embedding: random_face(item_seed(!seed, j)),
                identity: None,
                target_distance: None,
            });
        }
        out
    }
}

/// Writes embeddings as one raw row-major `len × 512` matrix of little-endian `f32`
/// (no header), the form `numpy.fromfile(path, "<f4").reshape(-1, 512)` reads and
/// `COPY … (FORMAT binary)` loaders can stream.
pub fn write_f32_le(path: &Path, embeddings: &[FaceEmbedding]) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    for e in embeddings {
        out.write_all(&e.to_le_bytes())?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genuine_probes_sit_at_their_target_distance() {
        let set = FaceSet::new(50, 7);
        let probes = set.probes(40, 10, 1);
        for p in &probes[..40] {
            let (i, d) = (p.identity.unwrap(), p.target_distance.unwrap());
            assert!(GENUINE_DISTANCES.contains(&d));
            let got = f64::from(p.embedding.distance(&set.identities[i]));
            assert!((got - d).abs() < 1e-5, "{got} vs {d}");
        }
        for p in &probes[40..] {
            assert!(p.identity.is_none());
            for t in &set.identities {
                assert!((f64::from(p.embedding.distance(t)) - 1.0).abs() < 0.3);
            }
        }
    }

    #[test]
    fn deterministic_and_prefix_stable() {
        let small = FaceSet::new(10, 3);
        let large = FaceSet::new(20, 3);
        assert_eq!(small.identities[..], large.identities[..10]);
        assert_eq!(
            small.probes(5, 5, 9)[7].embedding,
            FaceSet::new(10, 3).probes(5, 5, 9)[7].embedding
        );
        assert_eq!(FaceSet::index_of(FaceSet::client_id(12_345)), 12_345);
    }

    #[test]
    fn raw_files_hold_512_le_floats_per_row() {
        let set = FaceSet::new(3, 1);
        let path = std::env::temp_dir().join(format!("faceset-{}.f32", std::process::id()));
        write_f32_le(&path, &set.identities).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(bytes.len(), 3 * 2048);
        let second = FaceEmbedding::from_le_bytes(&bytes[2048..4096]).unwrap();
        assert_eq!(second, set.identities[1]);
    }
}
