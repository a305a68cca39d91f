-- PowerGym schema, step 13: sign-in throttling, and retry keys for sales and check-ins.

-- Consecutive failed sign-ins per account name, and how long the name is locked. Keyed
-- by the normalised name as typed, deliberately not a foreign key to users: a name that
-- belongs to nobody is throttled exactly like a real one, so neither the answer nor its
-- timing says whether an account exists. A successful sign-in deletes the row; a row
-- whose last failure is a day old counts as no row and is pruned.
create table sign_in_throttles (
    username        varchar(50) not null,
    failures        integer     not null default 0,
    locked_until    timestamptz,
    last_failure_at timestamptz,
    constraint sign_in_throttles_pkey primary key (username),
    constraint sign_in_throttles_failures_check check (failures >= 0)
);
create index idx_sign_in_throttles_last_failure on sign_in_throttles (last_failure_at);

-- A caller's retry key, as payments have: a sale or check-in retried with the same key
-- returns the first result instead of writing again. A refused check-in keeps its key
-- too, so a retried refusal is not counted twice.
alter table inventory_movements add column idempotency_key varchar(100);
alter table inventory_movements
    add constraint inventory_movements_idempotency_key_key unique (idempotency_key);
alter table attendances add column idempotency_key varchar(100);
alter table attendances
    add constraint attendances_idempotency_key_key unique (idempotency_key);
alter table access_denials add column idempotency_key varchar(100);
alter table access_denials
    add constraint access_denials_idempotency_key_key unique (idempotency_key);
