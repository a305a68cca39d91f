//! The exact in-process matcher: the gallery as one contiguous matrix, every probe
//! compared with every template by the SIMD kernel. This is the matcher of the embedded
//! store and of mobile apps; it is also a cache in front of pgvector.

use std::collections::HashMap;

use ndarray::ArrayView2;

use super::embedding::{EMBEDDING_DIM, FaceEmbedding};
use super::kernel::dot;
use super::matcher::{Identification, MatchPolicy, ScoredCandidate};
use crate::domain::ids::ClientId;

/// One active template per client, held in a row-major `n × 512` matrix.
#[derive(Default)]
pub struct Gallery {
    ids: Vec<ClientId>,
    rows: Vec<f32>,
    position: HashMap<ClientId, usize>,
}

impl std::fmt::Debug for Gallery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gallery")
            .field("templates", &self.ids.len())
            .finish()
    }
}

impl Gallery {
    /// An empty gallery.
    pub fn new() -> Self {
        Self::default()
    }

    /// Templates held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when no template is held.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The gallery as an `n × 512` matrix view (row `i` belongs to the `i`-th id).
    pub fn gallery(&self) -> ArrayView2<'_, f32> {
        ArrayView2::from_shape((self.ids.len(), EMBEDDING_DIM), &self.rows)
            .expect("rows always hold n × 512 values")
    }

    /// Sets the client's template, replacing the one it had.
    pub fn upsert(&mut self, client: ClientId, embedding: &FaceEmbedding) {
        match self.position.get(&client) {
            Some(&i) => {
                self.rows[i * EMBEDDING_DIM..(i + 1) * EMBEDDING_DIM]
                    .copy_from_slice(embedding.as_slice());
            }
            None => {
                self.position.insert(client, self.ids.len());
                self.ids.push(client);
                self.rows.extend_from_slice(embedding.as_slice());
            }
        }
    }

    /// Deletes the client's template (the last row moves into its place). Returns
    /// whether there was one.
    pub fn remove(&mut self, client: ClientId) -> bool {
        let Some(i) = self.position.remove(&client) else {
            return false;
        };
        let last = self.ids.len() - 1;
        if i != last {
            let (head, tail) = self.rows.split_at_mut(last * EMBEDDING_DIM);
            head[i * EMBEDDING_DIM..(i + 1) * EMBEDDING_DIM]
                .copy_from_slice(&tail[..EMBEDDING_DIM]);
            self.ids.swap(i, last);
            self.position.insert(self.ids[i], i);
        }
        self.ids.pop();
        self.rows.truncate(last * EMBEDDING_DIM);
        true
    }

    /// The `k` closest templates, nearest first.
    pub fn top_k(&self, probe: &FaceEmbedding, k: usize) -> Vec<ScoredCandidate> {
        let mut best: Vec<ScoredCandidate> = Vec::with_capacity(k + 1);
        if k == 0 {
            return best;
        }
        for (i, row) in self.rows.chunks_exact(EMBEDDING_DIM).enumerate() {
            let distance = 1.0 - dot(row, probe.as_slice());
            if best.len() == k && distance >= best[k - 1].distance {
                continue;
            }
            let at = best.partition_point(|c| c.distance <= distance);
            best.insert(at, ScoredCandidate::new(self.ids[i], distance));
            best.truncate(k);
        }
        best
    }

    /// Who the probe belongs to, under `policy`.
    pub fn identify(&self, probe: &FaceEmbedding, policy: &MatchPolicy) -> Identification {
        policy.decide(&self.top_k(probe, 2))
    }

    /// Whether the probe matches this client's template; `None` when the client has
    /// none.
    pub fn verify(
        &self,
        client: ClientId,
        probe: &FaceEmbedding,
        policy: &MatchPolicy,
    ) -> Option<(bool, ScoredCandidate)> {
        let &i = self.position.get(&client)?;
        let row = &self.rows[i * EMBEDDING_DIM..(i + 1) * EMBEDDING_DIM];
        let c = ScoredCandidate::new(client, 1.0 - dot(row, probe.as_slice()));
        Some((policy.verifies(c.distance), c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A deterministic pseudo-random unit vector (xorshift), no RNG crate needed.
    fn random_face(seed: u64) -> FaceEmbedding {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let v: Vec<f32> = (0..EMBEDDING_DIM)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x as f64 / u64::MAX as f64 * 2.0 - 1.0) as f32
            })
            .collect();
        FaceEmbedding::from_slice(&v).unwrap()
    }

    /// `face` moved toward another random direction by `noise` (0 = unchanged).
    fn noisy(face: &FaceEmbedding, seed: u64, noise: f32) -> FaceEmbedding {
        let other = random_face(seed);
        let v: Vec<f32> = face
            .as_slice()
            .iter()
            .zip(other.as_slice())
            .map(|(a, b)| a + noise * b)
            .collect();
        FaceEmbedding::from_slice(&v).unwrap()
    }

    fn id(n: u128) -> ClientId {
        ClientId::from_uuid(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn identify_verify_replace_and_remove() {
        let mut m = Gallery::new();
        for n in 0..200u64 {
            m.upsert(id(u128::from(n)), &random_face(n));
        }
        let policy = MatchPolicy::default();
        let probe = noisy(&random_face(42), 10_000, 0.3);
        match m.identify(&probe, &policy) {
            Identification::Match(c) => assert_eq!(c.client_id, id(42)),
            other => panic!("{other:?}"),
        }
        // A stranger matches nobody: random 512-d directions are nearly orthogonal.
        assert_eq!(
            m.identify(&random_face(99_999), &policy),
            Identification::NoMatch
        );
        let (ok, c) = m.verify(id(42), &probe, &policy).unwrap();
        assert!(ok && c.distance < 0.1);
        assert!(!m.verify(id(41), &probe, &policy).unwrap().0);

        // Replacing a template is atomic in the gallery: one row per client.
        m.upsert(id(42), &random_face(7_777));
        assert_eq!(m.len(), 200);
        assert_ne!(
            m.identify(&probe, &policy),
            Identification::Match(ScoredCandidate::new(id(42), 0.0))
        );
        assert!(m.remove(id(7)));
        assert!(!m.remove(id(7)));
        assert_eq!((m.len(), m.gallery().nrows()), (199, 199));
        assert!(m.verify(id(7), &probe, &policy).is_none());
    }

    #[test]
    fn two_templates_of_near_twins_are_ambiguous() {
        let mut m = Gallery::new();
        let face = random_face(1);
        m.upsert(id(1), &noisy(&face, 2, 0.05));
        m.upsert(id(2), &noisy(&face, 3, 0.05));
        assert!(matches!(
            m.identify(&face, &MatchPolicy::default()),
            Identification::Ambiguous { .. }
        ));
    }

    proptest! {
        #[test]
        fn top_k_equals_a_full_sort(seeds in proptest::collection::vec(0u64..1_000_000, 1..60), probe in 0u64..1_000_000, k in 1usize..8) {
            let mut m = Gallery::new();
            for (n, s) in seeds.iter().enumerate() {
                m.upsert(id(n as u128), &random_face(*s));
            }
            let p = random_face(probe);
            let mut all: Vec<f32> = m.gallery().rows().into_iter().map(|r| 1.0 - r.iter().zip(p.as_slice()).map(|(a, b)| a * b).sum::<f32>()).collect();
            all.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let got: Vec<f32> = m.top_k(&p, k).iter().map(|c| c.distance).collect();
            prop_assert_eq!(got.len(), k.min(seeds.len()));
            for (g, w) in got.iter().zip(&all) {
                prop_assert!((g - w).abs() < 1e-4);
            }
        }
    }
}
