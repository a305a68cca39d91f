//! What a matcher answers, and the one decision rule every matcher shares.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::embedding::FaceEmbedding;
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

impl Identification {
    /// The member a match names; `None` for no match or an ambiguous one.
    pub fn member(&self) -> Option<ClientId> {
        match self {
            Self::Match(c) => Some(c.client_id),
            _ => None,
        }
    }
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

/// The answer to "is this that member?".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verification {
    /// Whether the probe is within the policy's maximum distance of the template.
    pub matched: bool,
    /// The member's template scored against the probe.
    pub candidate: ScoredCandidate,
}

/// Why a face check-in identified nobody. Recorded with the refused check-ins, naming no
/// one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unidentified {
    /// No template within the threshold.
    NoMatch,
    /// Two members within the threshold, too close to tell apart.
    Ambiguous,
}

impl Unidentified {
    /// Stable snake_case code, as stored with refused check-ins.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoMatch => "no_match",
            Self::Ambiguous => "ambiguous",
        }
    }
}

/// The default `ef_search` (see [`FaceSearch::default`]).
pub const DEFAULT_EF_SEARCH: u32 = 400;

/// How the vector index is searched.
///
/// Approximate search trades recall for speed; [`FaceSearch::Exact`] compares the probe
/// with every template and never misses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceSearch {
    /// The HNSW index, visiting `ef_search` candidates (pgvector's `hnsw.ef_search`,
    /// 1 to 1000) with iterative scans so filtered rows never cost matches.
    Hnsw {
        /// Size of the dynamic candidate list.
        ef_search: u32,
    },
    /// A full scan: exact, and cheap for small galleries.
    Exact,
}

impl Default for FaceSearch {
    /// HNSW with `ef_search` 400: recall@1 0.992 over 100k templates, every decision the
    /// same as an exact search's (benches/README.md). Used only when the in-process cache
    /// is not (`FaceOptions::cache_budget_bytes` 0, or a gallery over it); the search
    /// then always goes through the index, whatever the planner would estimate.
    fn default() -> Self {
        Self::Hnsw {
            ef_search: DEFAULT_EF_SEARCH,
        }
    }
}

impl FaceSearch {
    /// The search named by a binding's option: `"hnsw"` with its `ef_search`, or
    /// `"exact"` (which takes no `ef_search`). Every binding parses through this, so
    /// the names and bounds are the same everywhere.
    pub fn parse(kind: &str, ef_search: Option<u32>) -> Result<Self> {
        match (kind, ef_search) {
            ("hnsw", ef) => Self::Hnsw {
                ef_search: ef.unwrap_or(DEFAULT_EF_SEARCH),
            }
            .validate(),
            ("exact", None) => Ok(Self::Exact),
            ("exact", Some(_)) => Err(Error::validation(
                "ef_search",
                "applies to the 'hnsw' search only",
            )),
            _ => Err(Error::validation(
                "face_search",
                "expected 'hnsw' or 'exact'",
            )),
        }
    }

    /// The name [`parse`](Self::parse) reads.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Hnsw { .. } => "hnsw",
            Self::Exact => "exact",
        }
    }

    /// Checks the parameters.
    pub fn validate(self) -> Result<Self> {
        match self {
            Self::Hnsw { ef_search } if !(1..=1000).contains(&ef_search) => {
                Err(Error::validation("ef_search", "must be between 1 and 1000"))
            }
            other => Ok(other),
        }
    }
}

/// A stored face template, without its vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceTemplate {
    /// The biometric row's id (thumbnails are bound to it).
    pub id: Uuid,
    /// Whose face.
    pub client_id: ClientId,
    /// Whether an encrypted thumbnail is stored.
    pub has_thumbnail: bool,
    /// Staff member who enrolled it.
    pub enrolled_by: Option<String>,
    /// When it was enrolled.
    pub enrolled_at: DateTime<Utc>,
}

/// A face matcher: one active template per member, 1:N identification and 1:1
/// verification under one [`MatchPolicy`].
///
/// Implemented by `store::postgres::PgVectorMatcher` (pgvector, the store of record;
/// feature `postgres`) and [`InMemoryMatcher`](super::InMemoryMatcher) (exact, in
/// process).
#[async_trait]
pub trait FaceMatcher: Send + Sync {
    /// The threshold and margin this matcher decides with.
    fn policy(&self) -> MatchPolicy;

    /// Sets the member's template, replacing the one they had atomically.
    async fn enroll(&self, client: ClientId, embedding: &FaceEmbedding) -> Result<()>;

    /// Deletes the member's template (erasure, not a flag). Returns whether there was
    /// one.
    async fn remove(&self, client: ClientId) -> Result<bool>;

    /// The `k` nearest templates, nearest first.
    async fn top_k(&self, probe: &FaceEmbedding, k: usize) -> Result<Vec<ScoredCandidate>>;

    /// The `k` nearest templates within `max_distance`, nearest first: what an
    /// identification reads (a candidate past the threshold never decides one), and
    /// cheaper to answer exactly from a compact scan than the nearest ones at any
    /// distance.
    async fn top_k_within(
        &self,
        probe: &FaceEmbedding,
        k: usize,
        max_distance: f32,
    ) -> Result<Vec<ScoredCandidate>> {
        let mut ranked = self.top_k(probe, k).await?;
        ranked.retain(|c| c.distance <= max_distance);
        Ok(ranked)
    }

    /// Who the probe belongs to.
    async fn identify(&self, probe: &FaceEmbedding) -> Result<Identification> {
        let policy = self.policy();
        Ok(policy.decide(&self.top_k_within(probe, 2, policy.max_distance()).await?))
    }

    /// Whether the probe is this member; `NotFound` when they have no template.
    async fn verify(&self, client: ClientId, probe: &FaceEmbedding) -> Result<Verification>;
}

#[cfg(test)]
mod tests {
    #[test]
    fn face_search_parses_the_binding_names_once() {
        assert_eq!(
            FaceSearch::parse("hnsw", None).unwrap(),
            FaceSearch::default()
        );
        assert_eq!(
            FaceSearch::parse("hnsw", Some(40)).unwrap(),
            FaceSearch::Hnsw { ef_search: 40 }
        );
        assert_eq!(FaceSearch::parse("exact", None).unwrap(), FaceSearch::Exact);
        for (kind, ef, field) in [
            ("hnsw", Some(0), "ef_search"),
            ("hnsw", Some(1001), "ef_search"),
            ("exact", Some(10), "ef_search"),
            ("ivfflat", None, "face_search"),
            ("HNSW", None, "face_search"),
        ] {
            match FaceSearch::parse(kind, ef) {
                Err(Error::Validation { field: f, .. }) => assert_eq!(f, field, "{kind} {ef:?}"),
                other => panic!("{kind} {ef:?}: {other:?}"),
            }
        }
        for search in [FaceSearch::default(), FaceSearch::Exact] {
            let ef = match search {
                FaceSearch::Hnsw { ef_search } => Some(ef_search),
                FaceSearch::Exact => None,
            };
            assert_eq!(FaceSearch::parse(search.kind(), ef).unwrap(), search);
        }
    }

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
