-- PowerGym's SQLite schema: PostgreSQL's schema at its migration 0013, in one step.
--
-- Conventions (see src/store/sqlite/mod.rs): ids are TEXT hyphenated lower-case UUIDs;
-- instants INTEGER microseconds since the Unix epoch (UTC); calendar days TEXT
-- 'YYYY-MM-DD'; money, quantities and percentages INTEGER hundredths; enumerations TEXT
-- with PostgreSQL's labels; booleans INTEGER 0/1; jsonb TEXT JSON. A numeric(12, 2) column
-- of PostgreSQL's is bounded the same here: |value| <= 999999999999 hundredths.
-- Every table is STRICT,
-- so a value of the wrong type (a UUID bound as a blob, a timestamp as text) is refused
-- instead of stored.
--
-- Tables, columns and constraint names are PostgreSQL's, so one mapping of constraint
-- names to error kinds (src/store/constraints.rs) serves both stores. SQLite reports a
-- failed UNIQUE by its columns, a failed CHECK by its name, and a trigger's refusal by
-- its RAISE message, `constraint:<name>` with the name PostgreSQL's constraint has.
-- SQLite's own foreign-key failures carry no name, so AFTER triggers check each
-- reference first and name it (AFTER, so CHECKs and UNIQUEs are reported first, as
-- PostgreSQL reports them before its foreign keys).
--
-- Every id has a default, a random (version 4) UUID, as PostgreSQL's gen_random_uuid(), so
-- raw SQL inserts need not invent one; the library passes its own.
--
-- Defaults that read the clock use the expression
--   CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) * 1000
-- (microseconds at millisecond precision); the library writes its own instants and the
-- defaults only serve raw SQL.
--
-- PostgreSQL-only operations tables (powergym_size_history) have no counterpart here.

-- Staff accounts.
create table users (
    username        text    not null,
    email           text,
    full_name       text,
    hashed_password text    not null,
    role            text    not null default 'employee' check (role in ('admin', 'employee')),
    disabled        integer not null default 0 check (disabled in (0, 1)),
    created_at      integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    updated_at      integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    constraint idx_users_username primary key (username),
    constraint idx_users_email unique (email),
    constraint users_username_check check (
        length(username) between 3 and 50
        and username glob '[a-z0-9]*'
        and username not glob '*[^a-z0-9._-]*'
    ),
    constraint users_hashed_password_check check (length(hashed_password) > 0),
    check (email is null or length(email) <= 254),
    check (full_name is null or length(full_name) <= 200)
) strict;
create trigger users_touch_updated_at after update on users
    for each row when new.updated_at is old.updated_at
begin
    update users set updated_at = cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000
     where username = new.username;
end;

create table clients (
    id                text    not null default (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    dni_type          text    not null check (dni_type in ('CC', 'TI', 'CE', 'PP')),
    dni_number        text    not null,
    first_name        text    not null,
    middle_name       text,
    last_name         text    not null,
    second_last_name  text,
    phone             text    not null,
    alternative_phone text,
    email             text,
    birth_date        text    not null check (date(birth_date) is birth_date),
    gender            text    not null check (gender in ('male', 'female', 'other')),
    address           text,
    is_active         integer not null default 1 check (is_active in (0, 1)),
    meta_info         text    not null default '{}',
    created_by        text,
    created_at        integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    updated_at        integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    -- SQLite-only: the names, document and phones folded for search (lower case, no
    -- accents) by the library's `fold_for_search` on every insert and update, since
    -- SQLite has no translate(); PostgreSQL folds in the query instead.
    search_text       text    not null default '',
    constraint clients_pkey primary key (id),
    constraint idx_clients_dni unique (dni_number),
    constraint clients_dni_number_check check (length(trim(dni_number)) > 0),
    constraint clients_first_name_check check (length(trim(first_name)) > 0),
    constraint clients_last_name_check check (length(trim(last_name)) > 0),
    constraint clients_phone_check check (length(trim(phone)) > 0),
    constraint clients_meta_info_check
        check (case when json_valid(meta_info) then json_type(meta_info) = 'object' else 0 end),
    constraint clients_created_by_fkey foreign key (created_by)
        references users (username) on update cascade on delete set null,
    check (length(id) = 36),
    check (length(dni_number) <= 20),
    check (length(first_name) <= 100 and length(last_name) <= 100),
    check (middle_name is null or length(middle_name) <= 100),
    check (second_last_name is null or length(second_last_name) <= 100),
    check (length(phone) <= 20),
    check (alternative_phone is null or length(alternative_phone) <= 20),
    check (email is null or length(email) <= 254),
    check (address is null or length(address) <= 300)
) strict;
create index idx_clients_active on clients (is_active);
create index idx_clients_name on clients (last_name, first_name);
create trigger clients_touch_updated_at after update on clients
    for each row when new.updated_at is old.updated_at
begin
    update clients set updated_at = cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000
     where id = new.id;
end;
create trigger clients_fkeys after insert on clients
begin
    select raise(abort, 'constraint:clients_created_by_fkey')
     where new.created_by is not null
       and not exists (select 1 from users where username = new.created_by);
end;

-- Biometric consent: the audit trail of who consented, when and for what; kept after
-- withdrawal, holding no biometric data.
create table biometric_consents (
    id                       text    not null default (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    client_id                text    not null,
    purpose                  text    not null,
    granted_at               integer not null,
    recorded_by              text,
    guardian_name            text,
    guardian_document_type   text    check (guardian_document_type in ('CC', 'TI', 'CE', 'PP')),
    guardian_document_number text,
    withdrawn_at             integer,
    withdrawn_by             text,
    constraint biometric_consents_pkey primary key (id),
    constraint biometric_consents_client_id_fkey foreign key (client_id)
        references clients (id) on delete cascade,
    constraint biometric_consents_recorded_by_fkey foreign key (recorded_by)
        references users (username) on update cascade on delete set null,
    constraint biometric_consents_withdrawn_by_fkey foreign key (withdrawn_by)
        references users (username) on update cascade on delete set null,
    constraint biometric_consents_purpose_check check (length(trim(purpose)) > 0),
    -- A guardian is named and identified, or absent: never half recorded.
    constraint biometric_consents_guardian_check check (
        (guardian_name is null) = (guardian_document_number is null)
        and (guardian_name is null) = (guardian_document_type is null)
        and (guardian_name is null or length(trim(guardian_name)) > 0)
    ),
    constraint biometric_consents_withdrawal_check check (
        withdrawn_at is null or withdrawn_at >= granted_at
    ),
    check (length(id) = 36),
    check (length(purpose) <= 200),
    check (guardian_name is null or length(guardian_name) <= 200),
    check (guardian_document_number is null or length(guardian_document_number) <= 20)
) strict;
-- At most one consent in force per member.
create unique index biometric_consents_one_active_per_client on biometric_consents (client_id)
    where withdrawn_at is null;
create index idx_biometric_consents_client on biometric_consents (client_id);

-- A minor (TI) needs a guardian's consent too.
create trigger biometric_consents_guardian_required before insert on biometric_consents
    for each row when new.guardian_name is null
begin
    select raise(abort, 'constraint:biometric_consents_guardian_required')
     where exists (select 1 from clients where id = new.client_id and dni_type = 'TI');
end;
create trigger biometric_consents_guardian_required_update
    before update of client_id, guardian_name, guardian_document_type, guardian_document_number
    on biometric_consents
    for each row when new.guardian_name is null
begin
    select raise(abort, 'constraint:biometric_consents_guardian_required')
     where exists (select 1 from clients where id = new.client_id and dni_type = 'TI');
end;
create trigger biometric_consents_fkeys after insert on biometric_consents
begin
    select raise(abort, 'constraint:biometric_consents_client_id_fkey')
     where not exists (select 1 from clients where id = new.client_id);
    select raise(abort, 'constraint:biometric_consents_recorded_by_fkey')
     where new.recorded_by is not null
       and not exists (select 1 from users where username = new.recorded_by);
end;
create trigger biometric_consents_withdrawn_by_fkey after update of withdrawn_by on biometric_consents
    for each row when new.withdrawn_by is not null
begin
    select raise(abort, 'constraint:biometric_consents_withdrawn_by_fkey')
     where not exists (select 1 from users where username = new.withdrawn_by);
end;

-- Face templates. `embedding` is 512 little-endian f32 (2048 bytes), searched by the
-- library's in-process gallery.
create table biometrics (
    id                  text    not null default (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    client_id           text    not null,
    type                text    not null default 'FACE' check (type in ('FACE', 'FINGERPRINT')),
    embedding           blob,
    thumbnail_encrypted blob,
    is_active           integer not null default 1 check (is_active in (0, 1)),
    meta_info           text    not null default '{}',
    enrolled_by         text,
    created_at          integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    updated_at          integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    -- The consent in force when the template was stored. SQLite triggers cannot fill
    -- it in, so the writer passes it: `(select id from biometric_consents where
    -- client_id = ? and withdrawn_at is null)`; the trigger below refuses any other.
    consent_id          text    not null,
    constraint biometrics_pkey primary key (id),
    constraint biometrics_client_id_fkey foreign key (client_id)
        references clients (id) on delete cascade,
    constraint biometrics_enrolled_by_fkey foreign key (enrolled_by)
        references users (username) on update cascade on delete set null,
    constraint biometrics_consent_id_fkey foreign key (consent_id)
        references biometric_consents (id) on delete cascade,
    constraint biometrics_face_embedding_check check (type <> 'FACE' or embedding is not null),
    constraint biometrics_meta_info_check
        check (case when json_valid(meta_info) then json_type(meta_info) = 'object' else 0 end),
    check (length(id) = 36),
    check (embedding is null or length(embedding) = 2048)
) strict;
create index idx_biometrics_client on biometrics (client_id);
-- One active template per client and kind: replacing a template is atomic, never two.
create unique index biometrics_one_active_per_client on biometrics (client_id, type)
    where is_active = 1;

-- A template exists only under the member's consent in force (with a guardian's for a
-- TI holder), and is linked to that consent.
create trigger biometrics_consent_required before insert on biometrics
begin
    select raise(abort, 'constraint:biometrics_consent_required')
     where not exists (select 1 from biometric_consents
                        where client_id = new.client_id and withdrawn_at is null);
    select raise(abort, 'constraint:biometric_consents_guardian_required')
     where exists (select 1 from clients where id = new.client_id and dni_type = 'TI')
       and not exists (select 1 from biometric_consents
                        where client_id = new.client_id and withdrawn_at is null
                          and guardian_name is not null);
    select raise(abort, 'constraint:biometrics_consent_id_fkey')
     where new.consent_id is not (select id from biometric_consents
                                   where client_id = new.client_id and withdrawn_at is null);
end;
create trigger biometrics_consent_required_update
    before update of is_active, client_id, embedding, consent_id on biometrics
begin
    select raise(abort, 'constraint:biometrics_consent_required')
     where not exists (select 1 from biometric_consents
                        where client_id = new.client_id and withdrawn_at is null);
    select raise(abort, 'constraint:biometric_consents_guardian_required')
     where exists (select 1 from clients where id = new.client_id and dni_type = 'TI')
       and not exists (select 1 from biometric_consents
                        where client_id = new.client_id and withdrawn_at is null
                          and guardian_name is not null);
    select raise(abort, 'constraint:biometrics_consent_id_fkey')
     where new.consent_id is not (select id from biometric_consents
                                   where client_id = new.client_id and withdrawn_at is null);
end;
create trigger biometrics_fkeys after insert on biometrics
begin
    select raise(abort, 'constraint:biometrics_client_id_fkey')
     where not exists (select 1 from clients where id = new.client_id);
    select raise(abort, 'constraint:biometrics_enrolled_by_fkey')
     where new.enrolled_by is not null
       and not exists (select 1 from users where username = new.enrolled_by);
end;
create trigger biometrics_touch_updated_at after update on biometrics
    for each row when new.updated_at is old.updated_at
begin
    update biometrics set updated_at = cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000
     where id = new.id;
end;

-- Withdrawing consent erases the member's templates and thumbnails in the same
-- statement: the rows are deleted, not flagged.
create trigger biometric_consents_withdrawn after update of withdrawn_at on biometric_consents
    for each row when old.withdrawn_at is null and new.withdrawn_at is not null
begin
    delete from biometrics where client_id = new.client_id;
end;

-- A member whose document becomes TI loses a guardian-less consent, and with it the
-- templates.
-- Erasure does not depend on the connection's `foreign_keys` setting, which is per
-- connection: another program on the file (the sqlite3 shell, a database browser)
-- deleting a consent or a member still takes the face templates with it.
create trigger biometric_consents_erase_templates before delete on biometric_consents
begin
    delete from biometrics where consent_id = old.id;
end;

create trigger clients_erase_biometrics before delete on clients
begin
    delete from biometrics where client_id = old.id;
    delete from biometric_consents where client_id = old.id;
end;

create trigger clients_became_minor after update of dni_type on clients
    for each row when new.dni_type = 'TI' and old.dni_type <> 'TI'
begin
    update biometric_consents
       set withdrawn_at = max(cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000, granted_at)
     where client_id = new.id and withdrawn_at is null and guardian_name is null;
end;

-- SQLite-only: the change log of face templates (PostgreSQL's NOTIFY and change_seq in
-- one). Every insert, update and delete of a template appends the member's id, so each
-- process's in-process gallery can follow changes made by any process on this file.
-- AUTOINCREMENT never reuses an id, and a single writer commits them in order, so a
-- reader that saw id n has seen every change up to n.
create table face_changes (
    id         integer not null primary key autoincrement,
    client_id  text    not null,
    changed_at integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000)
) strict;
create trigger biometrics_log_insert after insert on biometrics
begin
    insert into face_changes (client_id) values (new.client_id);
end;
-- Only the columns a gallery holds: the touch of updated_at logs nothing more.
create trigger biometrics_log_update
    after update of client_id, type, embedding, is_active on biometrics
begin
    insert into face_changes (client_id) values (new.client_id);
    insert into face_changes (client_id)
        select old.client_id where old.client_id <> new.client_id;
end;
create trigger biometrics_log_delete after delete on biometrics
begin
    insert into face_changes (client_id) values (old.client_id);
end;

create table plans (
    id             text    not null default (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    name           text    not null,
    slug           text,
    description    text,
    price          integer not null check (abs(price) <= 999999999999),
    currency       text    not null default 'COP',
    duration_unit  text    not null check (duration_unit in ('day', 'week', 'month', 'year')),
    duration_count integer not null,
    is_active      integer not null default 1 check (is_active in (0, 1)),
    meta_info      text    not null default '{}',
    created_by     text,
    created_at     integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    updated_at     integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    constraint plans_pkey primary key (id),
    constraint plans_slug_key unique (slug),
    constraint plans_name_check check (length(trim(name)) > 0),
    constraint plans_price_check check (price >= 0),
    constraint plans_currency_check
        check (length(currency) = 3 and currency not glob '*[^A-Z]*'),
    constraint plans_duration_count_check check (duration_count > 0),
    constraint plans_meta_info_check
        check (case when json_valid(meta_info) then json_type(meta_info) = 'object' else 0 end),
    constraint plans_created_by_fkey foreign key (created_by)
        references users (username) on update cascade on delete set null,
    check (length(id) = 36),
    check (length(name) <= 150),
    check (slug is null or length(slug) <= 150)
) strict;
create index idx_plans_active on plans (is_active);
create trigger plans_touch_updated_at after update on plans
    for each row when new.updated_at is old.updated_at
begin
    update plans set updated_at = cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000
     where id = new.id;
end;
create trigger plans_fkeys after insert on plans
begin
    select raise(abort, 'constraint:plans_created_by_fkey')
     where new.created_by is not null
       and not exists (select 1 from users where username = new.created_by);
end;

create table subscriptions (
    id                  text    not null default (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    client_id           text    not null,
    plan_id             text    not null,
    start_date          text    not null check (date(start_date) is start_date),
    end_date            text    not null check (date(end_date) is end_date),
    status              text    not null default 'pending_payment'
        check (status in ('active', 'expired', 'pending_payment', 'scheduled', 'canceled')),
    -- Price snapshot taken at purchase: later plan edits never change a debt.
    list_price          integer not null check (abs(list_price) <= 999999999999),
    discount_percentage integer,
    final_price         integer not null check (abs(final_price) <= 999999999999),
    currency            text    not null default 'COP',
    cancellation_date   text    check (cancellation_date is null or date(cancellation_date) is cancellation_date),
    cancellation_reason text,
    canceled_by         text,
    meta_info           text    not null default '{}',
    created_by          text,
    created_at          integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    updated_at          integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
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
        check (discount_percentage is null or (discount_percentage > 0 and discount_percentage <= 10000)),
    constraint subscriptions_final_price_check check (final_price >= 0 and final_price <= list_price),
    constraint subscriptions_currency_check
        check (length(currency) = 3 and currency not glob '*[^A-Z]*'),
    constraint subscriptions_canceled_check
        check ((status = 'canceled') = (cancellation_date is not null)),
    constraint subscriptions_meta_info_check
        check (case when json_valid(meta_info) then json_type(meta_info) = 'object' else 0 end),
    check (length(id) = 36)
) strict;
create index idx_subscriptions_client on subscriptions (client_id);
create index idx_subscriptions_plan on subscriptions (plan_id);
create index idx_subscriptions_status on subscriptions (status);
create index idx_subscriptions_dates on subscriptions (start_date, end_date);
create trigger subscriptions_touch_updated_at after update on subscriptions
    for each row when new.updated_at is old.updated_at
begin
    update subscriptions set updated_at = cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000
     where id = new.id;
end;
-- References first (named: SQLite's own report names none), then the overlap: two live
-- periods of one client never share a day, whatever the code path (PostgreSQL's
-- exclusion constraint). AFTER the write, so a CHECK failure is reported first, as
-- there; one trigger, because SQLite runs a table's triggers newest first.
create trigger subscriptions_insert_checks after insert on subscriptions
begin
    select raise(abort, 'constraint:subscriptions_client_id_fkey')
     where not exists (select 1 from clients where id = new.client_id);
    select raise(abort, 'constraint:subscriptions_plan_id_fkey')
     where not exists (select 1 from plans where id = new.plan_id);
    select raise(abort, 'constraint:subscriptions_created_by_fkey')
     where new.created_by is not null
       and not exists (select 1 from users where username = new.created_by);
    select raise(abort, 'constraint:subscriptions_canceled_by_fkey')
     where new.canceled_by is not null
       and not exists (select 1 from users where username = new.canceled_by);
    select raise(abort, 'constraint:subscriptions_no_overlap')
     where new.status <> 'canceled'
       and exists (select 1 from subscriptions s
                    where s.client_id = new.client_id and s.id <> new.id
                      and s.status <> 'canceled'
                      and s.start_date <= new.end_date and new.start_date <= s.end_date);
end;
create trigger subscriptions_canceled_by_fkey after update of canceled_by on subscriptions
    for each row when new.canceled_by is not null
begin
    select raise(abort, 'constraint:subscriptions_canceled_by_fkey')
     where not exists (select 1 from users where username = new.canceled_by);
end;
create trigger subscriptions_no_overlap_update
    after update of client_id, start_date, end_date, status on subscriptions
    for each row when new.status <> 'canceled'
begin
    select raise(abort, 'constraint:subscriptions_no_overlap')
     where exists (select 1 from subscriptions s
                    where s.client_id = new.client_id and s.id <> new.id
                      and s.status <> 'canceled'
                      and s.start_date <= new.end_date and new.start_date <= s.end_date);
end;

create table payments (
    id              text    not null default (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    subscription_id text    not null,
    amount          integer not null check (abs(amount) <= 999999999999),
    payment_method  text    not null check (payment_method in ('cash', 'qr')),
    payment_date    integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    received_by     text,
    notes           text,
    -- A retried call carrying the same key returns the first receipt instead of paying twice.
    idempotency_key text,
    meta_info       text    not null default '{}',
    constraint payments_pkey primary key (id),
    -- Payments are financial records: a subscription that has some cannot be deleted.
    constraint payments_subscription_id_fkey foreign key (subscription_id)
        references subscriptions (id) on delete restrict,
    constraint payments_received_by_fkey foreign key (received_by)
        references users (username) on update cascade on delete set null,
    constraint payments_amount_check check (amount > 0),
    constraint payments_idempotency_key_key unique (idempotency_key),
    constraint payments_meta_info_check
        check (case when json_valid(meta_info) then json_type(meta_info) = 'object' else 0 end),
    check (length(id) = 36),
    check (idempotency_key is null or length(idempotency_key) <= 100)
) strict;
create index idx_payments_subscription on payments (subscription_id);
create index idx_payments_date on payments (payment_date);
create trigger payments_fkeys after insert on payments
begin
    select raise(abort, 'constraint:payments_subscription_id_fkey')
     where not exists (select 1 from subscriptions where id = new.subscription_id);
    select raise(abort, 'constraint:payments_received_by_fkey')
     where new.received_by is not null
       and not exists (select 1 from users where username = new.received_by);
end;
-- Payments never add up past the subscription's final price (the single writer of an
-- IMMEDIATE transaction makes the sum exact).
create trigger payments_within_final_price after insert on payments
begin
    select raise(abort, 'constraint:payments_within_final_price')
     where (select coalesce(sum(amount), 0) from payments where subscription_id = new.subscription_id)
         > (select final_price from subscriptions where id = new.subscription_id);
end;
-- Receipts are a ledger: a correction is a new record, never an edit. (PostgreSQL's
-- library never updates a payment either; SQLite states it in the schema.)
create trigger payments_immutable before update on payments
begin
    select raise(abort, 'constraint:payments_immutable');
end;
-- A subscription with payments cannot be deleted (named, unlike SQLite's own report).
create trigger subscriptions_keep_payments before delete on subscriptions
begin
    select raise(abort, 'constraint:payments_subscription_id_fkey')
     where exists (select 1 from payments where subscription_id = old.id);
end;

create table attendances (
    id              text    not null default (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    client_id       text    not null,
    entry_time      integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    -- The gym's calendar day of entry_time, computed by the library's BusinessCalendar.
    business_date   text    not null check (date(business_date) is business_date),
    subscription_id text,
    method          text    not null default 'document' check (method in ('document', 'face', 'manual')),
    recorded_by     text,
    meta_info       text    not null default '{}',
    idempotency_key text,
    constraint attendances_pkey primary key (id),
    constraint attendances_client_id_fkey foreign key (client_id)
        references clients (id) on delete cascade,
    constraint attendances_subscription_id_fkey foreign key (subscription_id)
        references subscriptions (id) on delete set null,
    constraint attendances_recorded_by_fkey foreign key (recorded_by)
        references users (username) on update cascade on delete set null,
    -- At most one check-in per client per business day.
    constraint attendances_one_per_day unique (client_id, business_date),
    constraint attendances_meta_info_check
        check (case when json_valid(meta_info) then json_type(meta_info) = 'object' else 0 end),
    constraint attendances_idempotency_key_key unique (idempotency_key),
    check (length(id) = 36),
    check (idempotency_key is null or length(idempotency_key) <= 100)
) strict;
create index idx_attendances_client on attendances (client_id, entry_time desc);
create index idx_attendances_date on attendances (entry_time);
create index idx_attendances_business_date on attendances (business_date);
create trigger attendances_fkeys after insert on attendances
begin
    select raise(abort, 'constraint:attendances_client_id_fkey')
     where not exists (select 1 from clients where id = new.client_id);
    select raise(abort, 'constraint:attendances_subscription_id_fkey')
     where new.subscription_id is not null
       and not exists (select 1 from subscriptions where id = new.subscription_id);
    select raise(abort, 'constraint:attendances_recorded_by_fkey')
     where new.recorded_by is not null
       and not exists (select 1 from users where username = new.recorded_by);
end;

create table rewards (
    id                      text    not null default (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    subscription_id         text    not null,
    client_id               text    not null,
    attendance_count        integer not null,
    discount_percentage     integer not null default 2000,
    eligible_date           text    not null check (date(eligible_date) is eligible_date),
    -- Last business day on which the reward can be applied (inclusive).
    expires_on              text    not null check (date(expires_on) is expires_on),
    status                  text    not null default 'pending'
        check (status in ('pending', 'applied', 'expired')),
    applied_at              integer,
    applied_subscription_id text,
    applied_by              text,
    meta_info               text    not null default '{}',
    created_at              integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    updated_at              integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
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
    constraint rewards_discount_check check (discount_percentage > 0 and discount_percentage <= 10000),
    constraint rewards_expiry_check check (expires_on >= eligible_date),
    constraint rewards_applied_check check ((status = 'applied') = (applied_at is not null)),
    constraint rewards_meta_info_check
        check (case when json_valid(meta_info) then json_type(meta_info) = 'object' else 0 end),
    check (length(id) = 36)
) strict;
create index idx_rewards_client on rewards (client_id);
create index idx_rewards_status on rewards (status);
create index idx_rewards_expires on rewards (expires_on);
create trigger rewards_touch_updated_at after update on rewards
    for each row when new.updated_at is old.updated_at
begin
    update rewards set updated_at = cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000
     where id = new.id;
end;
create trigger rewards_fkeys after insert on rewards
begin
    select raise(abort, 'constraint:rewards_subscription_id_fkey')
     where not exists (select 1 from subscriptions where id = new.subscription_id);
    select raise(abort, 'constraint:rewards_client_id_fkey')
     where not exists (select 1 from clients where id = new.client_id);
    select raise(abort, 'constraint:rewards_applied_subscription_id_fkey')
     where new.applied_subscription_id is not null
       and not exists (select 1 from subscriptions where id = new.applied_subscription_id);
    select raise(abort, 'constraint:rewards_applied_by_fkey')
     where new.applied_by is not null
       and not exists (select 1 from users where username = new.applied_by);
end;
create trigger rewards_applied_fkeys after update of applied_subscription_id, applied_by on rewards
begin
    select raise(abort, 'constraint:rewards_applied_subscription_id_fkey')
     where new.applied_subscription_id is not null
       and not exists (select 1 from subscriptions where id = new.applied_subscription_id);
    select raise(abort, 'constraint:rewards_applied_by_fkey')
     where new.applied_by is not null
       and not exists (select 1 from users where username = new.applied_by);
end;

create table products (
    id                 text    not null default (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    name               text    not null,
    description        text,
    capacity_value     integer not null check (abs(capacity_value) <= 999999999999),
    unit_type          text    not null,
    price              integer not null check (abs(price) <= 999999999999),
    currency           text    not null default 'COP',
    photo_url          text,
    is_active          integer not null default 1 check (is_active in (0, 1)),
    available_quantity integer not null default 0 check (abs(available_quantity) <= 999999999999),
    min_stock          integer not null default 500 check (abs(min_stock) <= 999999999999),
    max_stock          integer check (abs(max_stock) <= 999999999999),
    -- Derived from the quantities by one rule, on insert and on every update.
    stock_status       text    not null generated always as (
        case
            when available_quantity = 0 then 'STOCK_OUT'
            when available_quantity <= min_stock then 'LOW_STOCK'
            when max_stock is not null and available_quantity > max_stock then 'OVERSTOCK'
            else 'NORMAL'
        end
    ) stored,
    meta_info          text    not null default '{}',
    created_by         text,
    created_at         integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    updated_at         integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    constraint products_pkey primary key (id),
    constraint products_created_by_fkey foreign key (created_by)
        references users (username) on update cascade on delete set null,
    constraint products_name_check check (length(trim(name)) > 0),
    constraint products_capacity_value_check check (capacity_value > 0),
    constraint products_unit_type_check check (length(trim(unit_type)) > 0),
    constraint check_product_price_positive check (price >= 0),
    constraint products_currency_check
        check (length(currency) = 3 and currency not glob '*[^A-Z]*'),
    -- Stock never goes below zero: the last line of defence behind every sale.
    constraint check_product_quantity_positive check (available_quantity >= 0),
    constraint products_min_stock_check check (min_stock >= 0),
    constraint check_product_min_max_stock check (max_stock is null or min_stock <= max_stock),
    constraint products_meta_info_check
        check (case when json_valid(meta_info) then json_type(meta_info) = 'object' else 0 end),
    check (length(id) = 36),
    check (length(name) <= 150),
    check (description is null or length(description) <= 500),
    check (length(unit_type) <= 10),
    check (photo_url is null or length(photo_url) <= 500)
) strict;
create index ix_products_name on products (name);
create index idx_products_active on products (is_active);
create index idx_products_stock_status on products (stock_status);
create trigger products_touch_updated_at after update on products
    for each row when new.updated_at is old.updated_at
begin
    update products set updated_at = cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000
     where id = new.id;
end;
create trigger products_fkeys after insert on products
begin
    select raise(abort, 'constraint:products_created_by_fkey')
     where new.created_by is not null
       and not exists (select 1 from users where username = new.created_by);
end;

create table inventory_movements (
    id              text    not null default (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    product_id      text    not null,
    movement_type   text    not null check (movement_type in ('ENTRY', 'EXIT')),
    -- Signed: entries add, exits (sales) subtract.
    quantity        integer not null check (abs(quantity) <= 999999999999),
    -- A sale keeps the price it was sold at; later price edits do not rewrite revenue.
    unit_price      integer check (abs(unit_price) <= 999999999999),
    -- round(|quantity| x unit_price, 2) in hundredths: both factors are hundredths, so
    -- the product is in ten-thousandths; + 50 then integer division rounds half away
    -- from zero (the product is never negative), as PostgreSQL's numeric round does.
    total_amount    integer generated always as ((abs(quantity) * unit_price + 50) / 100) stored,
    movement_date   integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    responsible     text,
    notes           text,
    meta_info       text    not null default '{}',
    created_at      integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    idempotency_key text,
    constraint inventory_movements_pkey primary key (id),
    constraint inventory_movements_product_id_fkey foreign key (product_id)
        references products (id) on delete cascade,
    constraint inventory_movements_responsible_fkey foreign key (responsible)
        references users (username) on update cascade on delete set null,
    constraint check_movement_quantity check (
        (movement_type = 'ENTRY' and quantity > 0) or (movement_type = 'EXIT' and quantity < 0)
    ),
    constraint inventory_movements_unit_price_check check (unit_price is null or unit_price >= 0),
    constraint inventory_movements_meta_info_check
        check (case when json_valid(meta_info) then json_type(meta_info) = 'object' else 0 end),
    constraint inventory_movements_idempotency_key_key unique (idempotency_key),
    check (length(id) = 36),
    check (notes is null or length(notes) <= 500),
    check (idempotency_key is null or length(idempotency_key) <= 100)
) strict;
create index idx_inventory_movements_product on inventory_movements (product_id, movement_date desc);
create index idx_inventory_movements_type on inventory_movements (movement_type);
create index idx_inventory_movements_date on inventory_movements (movement_date);
create index idx_inventory_movements_responsible on inventory_movements (responsible);

-- A movement changes the stock in the same statement that records it; the CHECK on
-- products refuses any sale that would take the stock below zero.
create trigger inventory_movements_apply_stock after insert on inventory_movements
begin
    select raise(abort, 'constraint:inventory_movements_product_id_fkey')
     where not exists (select 1 from products where id = new.product_id);
    select raise(abort, 'constraint:inventory_movements_responsible_fkey')
     where new.responsible is not null
       and not exists (select 1 from users where username = new.responsible);
    select raise(abort, 'constraint:inventory_movements_product_active')
     where not exists (select 1 from products where id = new.product_id and is_active = 1);
    update products
       set available_quantity = available_quantity + new.quantity
     where id = new.product_id;
end;
-- Deleting a movement (only possible in SQL) reverts its effect.
create trigger inventory_movements_revert_stock before delete on inventory_movements
begin
    update products
       set available_quantity = available_quantity - old.quantity
     where id = old.product_id;
end;
-- Movements are a ledger: corrections are new movements, never edits.
create trigger inventory_movements_immutable before update on inventory_movements
begin
    select raise(abort, 'constraint:inventory_movements_immutable');
end;

-- Refused check-ins, kept so reports can count them: a reason code, never the person's
-- data beyond the client id.
create table access_denials (
    id              text    not null default (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    client_id       text,
    reason          text    not null,
    method          text    not null default 'document' check (method in ('document', 'face', 'manual')),
    occurred_at     integer not null default (cast((julianday('now') - 2440587.5) * 86400000.0 as integer) * 1000),
    business_date   text    not null check (date(business_date) is business_date),
    recorded_by     text,
    idempotency_key text,
    constraint access_denials_pkey primary key (id),
    constraint access_denials_client_id_fkey foreign key (client_id)
        references clients (id) on delete cascade,
    constraint access_denials_recorded_by_fkey foreign key (recorded_by)
        references users (username) on update cascade on delete set null,
    constraint access_denials_reason_check check (reason in (
        'client_inactive', 'no_subscription', 'not_started_yet', 'subscription_expired',
        'unpaid', 'already_checked_in', 'no_match', 'ambiguous'
    )),
    constraint access_denials_idempotency_key_key unique (idempotency_key),
    check (length(id) = 36),
    check (idempotency_key is null or length(idempotency_key) <= 100)
) strict;
create index idx_access_denials_date on access_denials (business_date);
create index idx_access_denials_client on access_denials (client_id);
create trigger access_denials_fkeys after insert on access_denials
begin
    select raise(abort, 'constraint:access_denials_client_id_fkey')
     where new.client_id is not null
       and not exists (select 1 from clients where id = new.client_id);
    select raise(abort, 'constraint:access_denials_recorded_by_fkey')
     where new.recorded_by is not null
       and not exists (select 1 from users where username = new.recorded_by);
end;

-- Consecutive failed sign-ins per account name, and how long the name is locked. Keyed
-- by the normalised name as typed, deliberately not a foreign key to users: a name that
-- belongs to nobody is throttled exactly like a real one.
create table sign_in_throttles (
    username        text    not null,
    failures        integer not null default 0,
    locked_until    integer,
    last_failure_at integer,
    constraint sign_in_throttles_pkey primary key (username),
    constraint sign_in_throttles_failures_check check (failures >= 0),
    check (length(username) <= 50)
) strict;
create index idx_sign_in_throttles_last_failure on sign_in_throttles (last_failure_at);
