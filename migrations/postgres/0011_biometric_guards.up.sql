-- PowerGym schema, step 11: biometric guards without gaps, and a change sequence.
--
-- 1. Every template row needs the member's consent in force, active or not, and is
--    linked to it (`consent_id` not null). Rows without one cannot be kept: they are
--    biometric data held without consent. (A database adopted from the original system
--    has such rows; its members re-enrol under consent.)
-- 2. A TI holder's template needs a consent that includes a guardian's, checked when the
--    template is stored as well as when the consent is; a consent cannot lose its
--    guardian later; a member whose document becomes TI loses a guardian-less consent,
--    and with it the templates.
-- 3. Each insert or update of a template takes the next value of
--    `biometrics_change_seq`, so an in-process search cache can ask the database what
--    changed since it loaded, whatever its notifications have delivered.

delete from biometrics where consent_id is null;
alter table biometrics alter column consent_id set not null;

create or replace function powergym_biometric_consent() returns trigger
language plpgsql as $$
declare
    consent  uuid;
    guardian boolean;
begin
    select c.id, c.guardian_name is not null into consent, guardian
        from biometric_consents c
        where c.client_id = new.client_id and c.withdrawn_at is null
        for share;
    if consent is null then
        raise exception 'a face template needs the member''s recorded biometric consent'
            using errcode = 'check_violation', constraint = 'biometrics_consent_required';
    end if;
    if not guardian and exists (select 1 from clients where id = new.client_id and dni_type = 'TI') then
        raise exception 'a minor''s face template needs a guardian''s consent'
            using errcode = 'check_violation', constraint = 'biometric_consents_guardian_required';
    end if;
    new.consent_id := consent;
    return new;
end;
$$;
drop trigger biometrics_consent_required on biometrics;
create trigger biometrics_consent_required
    before insert or update of is_active, client_id, embedding, consent_id on biometrics
    for each row execute function powergym_biometric_consent();

drop trigger biometric_consents_guardian_required on biometric_consents;
create trigger biometric_consents_guardian_required
    before insert or update of client_id, guardian_name, guardian_document_type,
        guardian_document_number on biometric_consents
    for each row execute function powergym_consent_guardian();

create function powergym_client_became_minor() returns trigger
language plpgsql as $$
begin
    update biometric_consents set withdrawn_at = greatest(now(), granted_at)
        where client_id = new.id and withdrawn_at is null and guardian_name is null;
    return null;
end;
$$;
create trigger clients_became_minor after update of dni_type on clients
    for each row when (new.dni_type = 'TI' and old.dni_type <> 'TI')
    execute function powergym_client_became_minor();

create sequence biometrics_change_seq;
alter table biometrics add column change_seq bigint not null default nextval('biometrics_change_seq');
create index idx_biometrics_change_seq on biometrics (change_seq);
create function powergym_biometrics_next_change() returns trigger
language plpgsql as $$
begin
    new.change_seq := nextval('biometrics_change_seq');
    return new;
end;
$$;
create trigger biometrics_next_change before update on biometrics
    for each row execute function powergym_biometrics_next_change();
