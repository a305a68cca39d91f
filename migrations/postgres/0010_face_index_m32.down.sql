drop index if exists idx_biometrics_embedding;
create index idx_biometrics_embedding on biometrics
    using hnsw (embedding vector_cosine_ops) where is_active;
