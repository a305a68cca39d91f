-- PowerGym schema, step 2: staff accounts, clients and their face templates.

create table users (
    username        varchar(50)     not null,
    email           varchar(254),
    full_name       varchar(200),
    hashed_password varchar         not null,
    role            user_role_enum  not null default 'employee',
    disabled        boolean         not null default false,
    created_at      timestamptz     not null default now(),
    updated_at      timestamptz     not null default now(),
    -- The guide's idx_users_username / idx_users_email are the indexes behind these
    -- constraints, so lookups are served without a second, redundant index.
    constraint idx_users_username primary key (username),
    constraint idx_users_email unique (email),
    constraint users_username_check check (username ~ '^[a-z0-9][a-z0-9._-]{2,49}$'),
    constraint users_hashed_password_check check (length(hashed_password) > 0)
);
create trigger users_touch_updated_at before update on users
    for each row execute function powergym_touch_updated_at();

create table clients (
    id                uuid               not null default gen_random_uuid(),
    dni_type          document_type_enum not null,
    dni_number        varchar(20)        not null,
    first_name        varchar(100)       not null,
    middle_name       varchar(100),
    last_name         varchar(100)       not null,
    second_last_name  varchar(100),
    phone             varchar(20)        not null,
    alternative_phone varchar(20),
    email             varchar(254),
    birth_date        date               not null,
    gender            gender_type_enum   not null,
    address           varchar(300),
    is_active         boolean            not null default true,
    meta_info         jsonb              not null default '{}'::jsonb,
    created_by        varchar(50),
    created_at        timestamptz        not null default now(),
    updated_at        timestamptz        not null default now(),
    constraint clients_pkey primary key (id),
    -- Unique across all clients, active or not, as in the original.
    constraint idx_clients_dni unique (dni_number),
    constraint clients_dni_number_check check (length(btrim(dni_number)) > 0),
    constraint clients_first_name_check check (length(btrim(first_name)) > 0),
    constraint clients_last_name_check check (length(btrim(last_name)) > 0),
    constraint clients_phone_check check (length(btrim(phone)) > 0),
    constraint clients_meta_info_check check (jsonb_typeof(meta_info) = 'object'),
    constraint clients_created_by_fkey foreign key (created_by)
        references users (username) on update cascade on delete set null
);
create index idx_clients_active on clients (is_active);
create index idx_clients_name on clients (last_name, first_name);
create trigger clients_touch_updated_at before update on clients
    for each row execute function powergym_touch_updated_at();

create table biometrics (
    id                  uuid                not null default gen_random_uuid(),
    client_id           uuid                not null,
    type                biometric_type_enum not null default 'FACE',
    embedding           vector(512),
    thumbnail_encrypted bytea,
    is_active           boolean             not null default true,
    meta_info           jsonb               not null default '{}'::jsonb,
    enrolled_by         varchar(50),
    created_at          timestamptz         not null default now(),
    updated_at          timestamptz         not null default now(),
    constraint biometrics_pkey primary key (id),
    constraint biometrics_client_id_fkey foreign key (client_id)
        references clients (id) on delete cascade,
    constraint biometrics_enrolled_by_fkey foreign key (enrolled_by)
        references users (username) on update cascade on delete set null,
    constraint biometrics_face_embedding_check check (type <> 'FACE' or embedding is not null),
    constraint biometrics_meta_info_check check (jsonb_typeof(meta_info) = 'object')
);
-- 512 floats are 2 KiB: kept inline (no TOAST detour) so a scan reads them in place.
alter table biometrics alter column embedding set storage plain;
create index idx_biometrics_client on biometrics (client_id);
-- One active template per client and kind: replacing a template is atomic, never two.
create unique index biometrics_one_active_per_client on biometrics (client_id, type) where is_active;
-- Approximate nearest-neighbour search over the active templates only.
create index idx_biometrics_embedding on biometrics
    using hnsw (embedding vector_cosine_ops) where is_active;
create trigger biometrics_touch_updated_at before update on biometrics
    for each row execute function powergym_touch_updated_at();
