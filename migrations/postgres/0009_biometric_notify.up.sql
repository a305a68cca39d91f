-- PowerGym schema, step 9: every change to a face template is announced on the
-- `powergym_biometrics` channel, so in-process search caches (in this process or any
-- other) refresh that member. The payload is the member's id only, sent at commit.

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
