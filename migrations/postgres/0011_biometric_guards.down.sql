drop trigger if exists biometrics_next_change on biometrics;
drop function if exists powergym_biometrics_next_change();
drop index if exists idx_biometrics_change_seq;
alter table biometrics drop column if exists change_seq;
drop sequence if exists biometrics_change_seq;
drop trigger if exists clients_became_minor on clients;
drop function if exists powergym_client_became_minor();
drop trigger if exists biometric_consents_guardian_required on biometric_consents;
create trigger biometric_consents_guardian_required before insert on biometric_consents
    for each row execute function powergym_consent_guardian();
drop trigger if exists biometrics_consent_required on biometrics;
create or replace function powergym_biometric_consent() returns trigger
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
alter table biometrics alter column consent_id drop not null;
