-- PowerGym schema, step 8: biometric consent, held by the database.
--
-- 1. A face template exists only under the member's recorded, unwithdrawn consent: a
--    trigger refuses an active template without one and links the template to it.
-- 2. A member with a minor's identity card (TI) needs a guardian's consent too.
-- 3. Withdrawing consent erases the member's templates and thumbnails in the same
--    statement: the rows are deleted, not flagged.
-- Consent rows themselves are the audit trail (who, when, for what) and are kept after
-- withdrawal; they hold no biometric data.

create table biometric_consents (
    id                       uuid               not null default gen_random_uuid(),
    client_id                uuid               not null,
    purpose                  varchar(200)       not null,
    granted_at               timestamptz        not null,
    recorded_by              varchar(50),
    guardian_name            varchar(200),
    guardian_document_type   document_type_enum,
    guardian_document_number varchar(20),
    withdrawn_at             timestamptz,
    withdrawn_by             varchar(50),
    constraint biometric_consents_pkey primary key (id),
    constraint biometric_consents_client_id_fkey foreign key (client_id)
        references clients (id) on delete cascade,
    constraint biometric_consents_recorded_by_fkey foreign key (recorded_by)
        references users (username) on update cascade on delete set null,
    constraint biometric_consents_withdrawn_by_fkey foreign key (withdrawn_by)
        references users (username) on update cascade on delete set null,
    constraint biometric_consents_purpose_check check (length(btrim(purpose)) > 0),
    -- A guardian is named and identified, or absent: never half recorded.
    constraint biometric_consents_guardian_check check (
        (guardian_name is null) = (guardian_document_number is null)
        and (guardian_name is null) = (guardian_document_type is null)
        and (guardian_name is null or length(btrim(guardian_name)) > 0)
    ),
    constraint biometric_consents_withdrawal_check check (
        withdrawn_at is null or withdrawn_at >= granted_at
    )
);
-- At most one consent in force per member.
create unique index biometric_consents_one_active_per_client on biometric_consents (client_id)
    where withdrawn_at is null;

create function powergym_consent_guardian() returns trigger
language plpgsql as $$
begin
    if new.guardian_name is null
       and exists (select 1 from clients where id = new.client_id and dni_type = 'TI') then
        raise exception 'a minor''s biometric consent needs a guardian''s consent too'
            using errcode = 'check_violation', constraint = 'biometric_consents_guardian_required';
    end if;
    return new;
end;
$$;
create trigger biometric_consents_guardian_required before insert on biometric_consents
    for each row execute function powergym_consent_guardian();

create function powergym_consent_withdrawn() returns trigger
language plpgsql as $$
begin
    delete from biometrics where client_id = new.client_id;
    return null;
end;
$$;
create trigger biometric_consents_withdrawn after update of withdrawn_at on biometric_consents
    for each row when (old.withdrawn_at is null and new.withdrawn_at is not null)
    execute function powergym_consent_withdrawn();

alter table biometrics add column consent_id uuid;
alter table biometrics add constraint biometrics_consent_id_fkey foreign key (consent_id)
    references biometric_consents (id) on delete cascade;

-- FOR SHARE holds off a concurrent withdrawal until this template is committed, so the
-- withdrawal's erasure then sees it; a withdrawal that went first makes the lookup fail.
create function powergym_biometric_consent() returns trigger
language plpgsql as $$
declare
    consent uuid;
begin
    if new.is_active then
        select id into consent from biometric_consents
            where client_id = new.client_id and withdrawn_at is null
            for share;
        if consent is null then
            raise exception 'a face template needs the member''s recorded biometric consent'
                using errcode = 'check_violation', constraint = 'biometrics_consent_required';
        end if;
        new.consent_id := consent;
    end if;
    return new;
end;
$$;
create trigger biometrics_consent_required
    before insert or update of is_active, client_id, embedding on biometrics
    for each row execute function powergym_biometric_consent();
