-- PowerGym schema, step 4: check-ins and attendance rewards.

create table attendances (
    id              uuid                 not null default gen_random_uuid(),
    client_id       uuid                 not null,
    entry_time      timestamptz          not null default now(),
    -- The gym's calendar day of entry_time (its IANA zone, America/Bogota by default),
    -- computed by the library's BusinessCalendar: the unique key below needs a day, and
    -- a UTC date would split a Bogotá evening in two.
    business_date   date                 not null,
    subscription_id uuid,
    method          check_in_method_enum not null default 'document',
    recorded_by     varchar(50),
    meta_info       jsonb                not null default '{}'::jsonb,
    constraint attendances_pkey primary key (id),
    constraint attendances_client_id_fkey foreign key (client_id)
        references clients (id) on delete cascade,
    constraint attendances_subscription_id_fkey foreign key (subscription_id)
        references subscriptions (id) on delete set null,
    constraint attendances_recorded_by_fkey foreign key (recorded_by)
        references users (username) on update cascade on delete set null,
    -- At most one check-in per client per business day, even under concurrent calls.
    constraint attendances_one_per_day unique (client_id, business_date),
    constraint attendances_meta_info_check check (jsonb_typeof(meta_info) = 'object')
);
create index idx_attendances_client on attendances (client_id, entry_time desc);
create index idx_attendances_date on attendances (entry_time);

create table rewards (
    id                      uuid               not null default gen_random_uuid(),
    subscription_id         uuid               not null,
    client_id               uuid               not null,
    attendance_count        integer            not null,
    discount_percentage     numeric(5, 2)      not null default 20.00,
    eligible_date           date               not null,
    -- Last business day on which the reward can be applied (inclusive).
    expires_on              date               not null,
    status                  reward_status_enum not null default 'pending',
    applied_at              timestamptz,
    applied_subscription_id uuid,
    applied_by              varchar(50),
    meta_info               jsonb              not null default '{}'::jsonb,
    created_at              timestamptz        not null default now(),
    updated_at              timestamptz        not null default now(),
    constraint rewards_pkey primary key (id),
    constraint rewards_subscription_id_fkey foreign key (subscription_id)
        references subscriptions (id) on delete cascade,
    constraint rewards_client_id_fkey foreign key (client_id)
        references clients (id) on delete cascade,
    constraint rewards_applied_subscription_id_fkey foreign key (applied_subscription_id)
        references subscriptions (id) on delete set null,
    constraint rewards_applied_by_fkey foreign key (applied_by)
        references users (username) on update cascade on delete set null,
    -- One reward per earning subscription; one reward discount per receiving subscription.
    constraint rewards_subscription_id_key unique (subscription_id),
    constraint rewards_applied_subscription_id_key unique (applied_subscription_id),
    constraint rewards_attendance_count_check check (attendance_count >= 0),
    constraint rewards_discount_check check (discount_percentage > 0 and discount_percentage <= 100),
    constraint rewards_expiry_check check (expires_on >= eligible_date),
    constraint rewards_applied_check check ((status = 'applied') = (applied_at is not null)),
    constraint rewards_meta_info_check check (jsonb_typeof(meta_info) = 'object')
);
create index idx_rewards_client on rewards (client_id);
create index idx_rewards_status on rewards (status);
create index idx_rewards_expires on rewards (expires_on);
create trigger rewards_touch_updated_at before update on rewards
    for each row execute function powergym_touch_updated_at();
