//! What a matcher answers, and the one decision rule every matcher shares.

use crate::domain::ids::ClientId;
use crate::error::{Error, Result};

/// A gallery entry scored against a probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredCandidate {
    /// Whose template it is.
    pub client_id: ClientId,
    /// Cosine distance to the probe (0 = identical direction).
    pub distance: f32,
    /// Cosine similarity (1 − distance).
    pub similarity: f32,
}

impl ScoredCandidate {
    /// A candidate at `distance`.
    pub fn new(client_id: ClientId, distance: f32) -> Self {
        Self {
            client_id,
            distance,
            similarity: 1.0 - distance,
        }
    }
}

/// The answer to "who is this?".
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Identification {
    /// One client, clearly.
    Match(ScoredCandidate),
    /// Nobody within the threshold.
    NoMatch,
    /// Two different clients are both within the threshold and too close to tell apart;
    /// the desk should fall back to the document.
    Ambiguous {
        /// The closest.
        best: ScoredCandidate,
        /// The next closest, another client.
        runner_up: ScoredCandidate,
    },
}

/// The threshold and the ambiguity margin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchPolicy {
    max_distance: f32,
    ambiguity_margin: f32,
}

impl Default for MatchPolicy {
    /// Maximum cosine distance 0.4 (the original guide's example), margin 0.05.
    fn default() -> Self {
        Self {
            max_distance: 0.4,
            ambiguity_margin: 0.05,
        }
    }
}

impl MatchPolicy {
    /// A policy: `0 < max_distance < 2`, `0 ≤ ambiguity_margin < max_distance`.
    pub fn new(max_distance: f32, ambiguity_margin: f32) -> Result<Self> {
        if max_distance.is_nan() || max_distance <= 0.0 || max_distance >= 2.0 {
            return Err(Error::validation(
                "max_distance",
                "must be between 0 and 2 (cosine distance)",
            ));
        }
        if ambiguity_margin.is_nan() || ambiguity_margin < 0.0 || ambiguity_margin >= max_distance {
            return Err(Error::validation(
                "ambiguity_margin",
                "must be at least 0 and below max_distance",
            ));
        }
        Ok(Self {
            max_distance,
            ambiguity_margin,
        })
    }

    /// The maximum cosine distance of a match.
    pub fn max_distance(&self) -> f32 {
        self.max_distance
    }

    /// How much farther the runner-up must be for the best to count.
    pub fn ambiguity_margin(&self) -> f32 {
        self.ambiguity_margin
    }

    /// Decides from candidates ranked by ascending distance, at most one per client.
    pub fn decide(&self, ranked: &[ScoredCandidate]) -> Identification {
        let within: Vec<&ScoredCandidate> = ranked
            .iter()
            .filter(|c| c.distance <= self.max_distance)
            .collect();
        match within.as_slice() {
            [] => Identification::NoMatch,
            [best] => Identification::Match(**best),
            [best, runner_up, ..] => {
                if runner_up.client_id != best.client_id
                    && runner_up.distance - best.distance < self.ambiguity_margin
                {
                    Identification::Ambiguous {
                        best: **best,
                        runner_up: **runner_up,
                    }
                } else {
                    Identification::Match(**best)
                }
            }
        }
    }

    /// Whether one client's template matches a probe at `distance`.
    pub fn verifies(&self, distance: f32) -> bool {
        distance <= self.max_distance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n: u128, d: f32) -> ScoredCandidate {
        ScoredCandidate::new(ClientId::from_uuid(uuid::Uuid::from_u128(n)), d)
    }

    #[test]
    fn decisions() {
        let p = MatchPolicy::default();
        assert_eq!(p.decide(&[]), Identification::NoMatch);
        assert_eq!(p.decide(&[c(1, 0.41)]), Identification::NoMatch);
        assert_eq!(p.decide(&[c(1, 0.40)]), Identification::Match(c(1, 0.40)));
        assert_eq!(
            p.decide(&[c(1, 0.20), c(2, 0.45)]),
            Identification::Match(c(1, 0.20))
        );
        assert_eq!(
            p.decide(&[c(1, 0.20), c(2, 0.26)]),
            Identification::Match(c(1, 0.20))
        );
        assert_eq!(
            p.decide(&[c(1, 0.20), c(2, 0.24)]),
            Identification::Ambiguous {
                best: c(1, 0.20),
                runner_up: c(2, 0.24)
            }
        );
        assert!(MatchPolicy::new(0.0, 0.0).is_err());
        assert!(MatchPolicy::new(0.4, 0.4).is_err());
        assert!(MatchPolicy::new(0.5, 0.1).is_ok());
        assert!(MatchPolicy::new(f32::NAN, 0.1).is_err());
        assert!(MatchPolicy::new(0.5, f32::NAN).is_err());
    }
}
