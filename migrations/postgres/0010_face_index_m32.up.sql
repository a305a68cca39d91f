-- PowerGym schema, step 10: a denser HNSW graph for face search.
--
-- Face embeddings of different people are nearly orthogonal, which gives a greedy graph
-- search little to follow. Measured on 100k synthetic identities (benches/README.md),
-- m = 32 / ef_construction = 128 reaches recall@1 0.992 at ef_search 400 where the
-- defaults (16 / 64) reach 0.904. Building it costs more (about 15 s per 10k templates
-- on two cores); check-in at large galleries should use the in-process cache anyway.

drop index if exists idx_biometrics_embedding;
create index idx_biometrics_embedding on biometrics
    using hnsw (embedding vector_cosine_ops) with (m = 32, ef_construction = 128)
    where is_active;
