//! A face embedding that cannot be wrong: 512 finite numbers, stored unit-length.

use std::fmt;

use crate::error::{Error, Result};

/// Dimensions of an InsightFace/ArcFace embedding.
pub const EMBEDDING_DIM: usize = 512;

/// Exactly [`EMBEDDING_DIM`] finite `f32` with a non-zero norm, stored L2-normalised so
/// cosine similarity is a plain dot product.
#[derive(Clone, PartialEq)]
pub struct FaceEmbedding(Box<[f32]>);

impl FaceEmbedding {
    /// Validates and normalises a vector. Wrong length, NaN or infinity, and the zero
    /// vector are `Validation` errors that name the problem, never the values.
    pub fn from_slice(values: &[f32]) -> Result<Self> {
        if values.len() != EMBEDDING_DIM {
            return Err(Error::validation(
                "embedding",
                format!("must have {EMBEDDING_DIM} values, got {}", values.len()),
            ));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(Error::validation(
                "embedding",
                "must not contain NaN or infinity",
            ));
        }
        // Accumulate in f64: 512 squares of large f32 values can overflow f32.
        let norm = values
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt();
        // The values are finite, so the norm is a number ≥ 0; it can still overflow.
        if norm == 0.0 || !norm.is_finite() {
            return Err(Error::validation(
                "embedding",
                "must not be the zero vector",
            ));
        }
        Ok(Self(
            values
                .iter()
                .map(|&v| (f64::from(v) / norm) as f32)
                .collect(),
        ))
    }

    /// Reads 512 little-endian `f32` (2048 bytes), the one-buffer form the bindings use.
    pub fn from_le_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != EMBEDDING_DIM * 4 {
            return Err(Error::validation(
                "embedding",
                format!(
                    "must be {} bytes (512 little-endian f32), got {}",
                    EMBEDDING_DIM * 4,
                    bytes.len()
                ),
            ));
        }
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Self::from_slice(&values)
    }

    /// The unit-length values.
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// The values as 2048 little-endian bytes.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Cosine similarity with another embedding (both are unit-length).
    pub fn similarity(&self, other: &FaceEmbedding) -> f32 {
        super::kernel::dot(&self.0, &other.0)
    }

    /// Cosine distance (1 − similarity): 0 for the same direction, 2 for opposite.
    pub fn distance(&self, other: &FaceEmbedding) -> f32 {
        1.0 - self.similarity(other)
    }
}

impl fmt::Debug for FaceEmbedding {
    // Biometric data: never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FaceEmbedding(<512 values redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ones() -> Vec<f32> {
        vec![1.0; EMBEDDING_DIM]
    }

    #[test]
    fn validation() {
        for (values, reason) in [
            (vec![0.1; 128], "512"),
            (vec![0.0; EMBEDDING_DIM], "zero"),
            (
                {
                    let mut v = ones();
                    v[7] = f32::NAN;
                    v
                },
                "NaN",
            ),
            (
                {
                    let mut v = ones();
                    v[7] = f32::INFINITY;
                    v
                },
                "NaN",
            ),
        ] {
            match FaceEmbedding::from_slice(&values) {
                Err(Error::Validation {
                    field: "embedding",
                    reason: r,
                }) => assert!(r.contains(reason), "{r}"),
                other => panic!("expected a validation error, got {other:?}"),
            }
        }
        assert!(FaceEmbedding::from_le_bytes(&[0; 100]).is_err());
    }

    #[test]
    fn normalised_and_round_trips() {
        let e = FaceEmbedding::from_slice(&vec![3.0e30; EMBEDDING_DIM]).unwrap();
        let norm: f32 = e.as_slice().iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        assert!(e.distance(&e).abs() < 1e-5);
        assert_eq!(FaceEmbedding::from_le_bytes(&e.to_le_bytes()).unwrap(), e);
        let mut opposite: Vec<f32> = e.as_slice().iter().map(|v| -v).collect();
        opposite[0] -= 0.0;
        let o = FaceEmbedding::from_slice(&opposite).unwrap();
        assert!((e.distance(&o) - 2.0).abs() < 1e-4);
        assert!(!format!("{e:?}").contains('0'));
    }
}
