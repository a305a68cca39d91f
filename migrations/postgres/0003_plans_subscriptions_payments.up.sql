-- PowerGym schema, step 3: plans, subscriptions with their price snapshot, payments.

create table plans (
    id             uuid               not null default gen_random_uuid(),
    name           varchar(150)       not null,
    slug           varchar(150),
    description    text,
    price          numeric(12, 2)     not null,
    currency       varchar(3)         not null default 'COP',
    duration_unit  duration_type_enum not null,
    duration_count integer            not null,
    is_active      boolean            not null default true,
    meta_info      jsonb              not null default '{}'::jsonb,
    created_by     varchar(50),
    created_at     timestamptz        not null default now(),
    updated_at     timestamptz        not null default now(),
    constraint plans_pkey primary key (id),
    constraint plans_slug_key unique (slug),
    constraint plans_name_check check (length(btrim(name)) > 0),
    constraint plans_price_check check (price >= 0),
    constraint plans_currency_check check (currency ~ '^[A-Z]{3}$'),
    constraint plans_duration_count_check check (duration_count > 0),
    constraint plans_meta_info_check check (jsonb_typeof(meta_info) = 'object'),
    constraint plans_created_by_fkey foreign key (created_by)
        references users (username) on update cascade on delete set null
);
create index idx_plans_active on plans (is_active);
create trigger plans_touch_updated_at before update on plans
    for each row execute function powergym_touch_updated_at();

create table subscriptions (
    id                  uuid                     not null default gen_random_uuid(),
    client_id           uuid                     not null,
    plan_id             uuid                     not null,
    start_date          date                     not null,
    end_date            date                     not null,
    status              subscription_status_enum not null default 'pending_payment',
    -- Price snapshot taken at purchase: later plan edits never change a debt.
    list_price          numeric(12, 2)           not null,
    discount_percentage numeric(5, 2),
    final_price         numeric(12, 2)           not null,
    currency            varchar(3)               not null default 'COP',
    cancellation_date   date,
    cancellation_reason text,
    canceled_by         varchar(50),
    meta_info           jsonb                    not null default '{}'::jsonb,
    created_by          varchar(50),
    created_at          timestamptz              not null default now(),
    updated_at          timestamptz              not null default now(),
    constraint subscriptions_pkey primary key (id),
    constraint subscriptions_client_id_fkey foreign key (client_id)
        references clients (id) on delete cascade,
    constraint subscriptions_plan_id_fkey foreign key (plan_id)
        references plans (id) on delete restrict,
    constraint subscriptions_canceled_by_fkey foreign key (canceled_by)
        references users (username) on update cascade on delete set null,
    constraint subscriptions_created_by_fkey foreign key (created_by)
        references users (username) on update cascade on delete set null,
    constraint subscriptions_dates_check check (end_date >= start_date),
    constraint subscriptions_list_price_check check (list_price >= 0),
    constraint subscriptions_discount_check
        check (discount_percentage is null or (discount_percentage > 0 and discount_percentage <= 100)),
    constraint subscriptions_final_price_check check (final_price >= 0 and final_price <= list_price),
    constraint subscriptions_currency_check check (currency ~ '^[A-Z]{3}$'),
    constraint subscriptions_canceled_check
        check ((status = 'canceled') = (cancellation_date is not null)),
    constraint subscriptions_meta_info_check check (jsonb_typeof(meta_info) = 'object'),
    -- Two live periods of one client never share a day, whatever the code path or race.
    constraint subscriptions_no_overlap exclude using gist (
        client_id with =,
        daterange(start_date, end_date, '[]') with &&
    ) where (status <> 'canceled')
);
create index idx_subscriptions_client on subscriptions (client_id);
create index idx_subscriptions_plan on subscriptions (plan_id);
create index idx_subscriptions_status on subscriptions (status);
create index idx_subscriptions_dates on subscriptions (start_date, end_date);
create trigger subscriptions_touch_updated_at before update on subscriptions
    for each row execute function powergym_touch_updated_at();

create table payments (
    id              uuid                not null default gen_random_uuid(),
    subscription_id uuid                not null,
    amount          numeric(12, 2)      not null,
    payment_method  payment_method_enum not null,
    payment_date    timestamptz         not null default now(),
    received_by     varchar(50),
    notes           text,
    -- A retried call carrying the same key returns the first receipt instead of paying twice.
    idempotency_key varchar(100),
    meta_info       jsonb               not null default '{}'::jsonb,
    constraint payments_pkey primary key (id),
    constraint payments_subscription_id_fkey foreign key (subscription_id)
        references subscriptions (id) on delete cascade,
    constraint payments_received_by_fkey foreign key (received_by)
        references users (username) on update cascade on delete set null,
    constraint payments_amount_check check (amount > 0),
    constraint payments_idempotency_key_key unique (idempotency_key),
    constraint payments_meta_info_check check (jsonb_typeof(meta_info) = 'object')
);
create index idx_payments_subscription on payments (subscription_id);
create index idx_payments_date on payments (payment_date);
