//! Face recognition: validated embeddings, the matcher vocabulary, and the exact
//! in-process matcher. Callers bring the embeddings (the model stays outside the
//! library); PowerGym decides who they belong to.
//!
//! One threshold with one meaning everywhere: the **maximum cosine distance** at which
//! two faces count as the same person (default 0.4, the original guide's example).

mod embedding;
mod gallery;
mod in_memory;
mod kernel;
mod matcher;
mod thumbnail;

pub use embedding::{EMBEDDING_DIM, FaceEmbedding};
pub use gallery::{DEFAULT_RERANK, Gallery, Precision};
pub use in_memory::InMemoryMatcher;
pub use matcher::{
    DEFAULT_EF_SEARCH, FaceMatcher, FaceSearch, FaceTemplate, Identification, MatchPolicy,
    ScoredCandidate, Unidentified, Verification,
};
pub use thumbnail::{LEGACY_PBKDF2_ITERATIONS, ThumbnailKey, open_legacy_thumbnail};
