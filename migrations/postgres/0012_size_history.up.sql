-- Sizes recorded by each health report (`powergym health`, Gym::operations), so the
-- next report can say how much the database and each table grew since.
-- Only sizes and table names: nothing about members.
create table powergym_size_history (
    id bigint generated always as identity,
    taken_at timestamptz not null default now(),
    database_bytes bigint not null,
    -- {"table name": total bytes, ...}
    table_bytes jsonb not null default '{}'::jsonb,
    constraint powergym_size_history_pkey primary key (id)
);
create index idx_powergym_size_history_taken_at on powergym_size_history (taken_at);
