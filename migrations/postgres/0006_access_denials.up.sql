-- PowerGym schema, step 6: refused check-ins, kept so reports can count them.
-- Rows carry a reason code, never the person's data beyond the client id.

create table access_denials (
    id            uuid                 not null default gen_random_uuid(),
    client_id     uuid,
    reason        varchar(40)          not null,
    method        check_in_method_enum not null default 'document',
    occurred_at   timestamptz          not null default now(),
    business_date date                 not null,
    recorded_by   varchar(50),
    constraint access_denials_pkey primary key (id),
    constraint access_denials_client_id_fkey foreign key (client_id)
        references clients (id) on delete cascade,
    constraint access_denials_recorded_by_fkey foreign key (recorded_by)
        references users (username) on update cascade on delete set null,
    constraint access_denials_reason_check check (reason in (
        'client_inactive', 'no_subscription', 'not_started_yet', 'subscription_expired',
        'unpaid', 'already_checked_in', 'no_match', 'ambiguous'
    ))
);
create index idx_access_denials_date on access_denials (business_date);
create index idx_access_denials_client on access_denials (client_id);
