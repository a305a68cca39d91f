//! Face recognition: validated embeddings, the matcher vocabulary, and the exact
//! in-process matcher. Callers bring the embeddings (the model stays outside the
//! library); PowerGym decides who they belong to.
//!
//! One threshold with one meaning everywhere: the **maximum cosine distance** at which
//! two faces count as the same person (default 0.4, the original guide's example).

mod embedding;
mod kernel;
mod matcher;
mod memory;

pub use embedding::{EMBEDDING_DIM, FaceEmbedding};
pub use matcher::{Identification, MatchPolicy, ScoredCandidate};
pub use memory::Gallery;
