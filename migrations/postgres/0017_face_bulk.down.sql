create or replace function powergym_consent_withdrawn() returns trigger
language plpgsql as $$
begin
    delete from biometrics where client_id = new.client_id;
    return null;
end;
$$;

drop trigger biometrics_consent_named on biometrics;
drop function powergym_biometric_consents_named();
drop trigger biometrics_consent_filled on biometrics;
drop trigger biometrics_consent_required on biometrics;
create trigger biometrics_consent_required
    before insert or update of is_active, client_id, embedding, consent_id on biometrics
    for each row execute function powergym_biometric_consent();

drop trigger biometrics_notify_insert on biometrics;
drop trigger biometrics_notify_update on biometrics;
drop trigger biometrics_notify_delete on biometrics;
drop function powergym_notify_biometric_rows();
create function powergym_notify_biometrics() returns trigger
language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        perform pg_notify('powergym_biometrics', old.client_id::text);
    else
        perform pg_notify('powergym_biometrics', new.client_id::text);
        if tg_op = 'UPDATE' and old.client_id <> new.client_id then
            perform pg_notify('powergym_biometrics', old.client_id::text);
        end if;
    end if;
    return null;
end;
$$;
create trigger biometrics_notify after insert or update or delete on biometrics
    for each row execute function powergym_notify_biometrics();

-- As migration 0010 built it; many minutes at 100k templates on two cores.
create index if not exists idx_biometrics_embedding on biometrics
    using hnsw (embedding vector_cosine_ops) with (m = 32, ef_construction = 128)
    where is_active;
