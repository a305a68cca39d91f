-- PowerGym schema, step 17: enrolling many faces at once costs what writing the rows
-- costs.
--
-- 1. The HNSW index on the templates is no longer part of the schema. Face searches go
--    through the in-process cache by default (exact, about 2 ms at 100k templates), and
--    every enrolment paid ~85 ms to keep a graph that nothing read (11 templates a second
--    in bulk). A deployment that searches in PostgreSQL (cache turned off, or a gallery
--    over its memory budget) builds it deliberately with `powergym maintain
--    --reindex-face` (`Operations::rebuild_face_index`), which builds it when missing;
--    without it such a search is an exact scan. `powergym health` says which.
-- 2. Change notifications are sent per statement, not per row: a statement that touches
--    at most 256 templates announces each member, as before; a larger one sends one
--    notification: `*` and the batch's first change mark when templates were added (a
--    follower reads the changes since the earlier of its mark and that one), `-` when
--    any may have gone (a follower reloads).
-- 3. A template may arrive with its consent named (a bulk enrolment reads the consents
--    under the members' locks and sends their ids): the per-row lookup then does not run,
--    and one check per statement refuses the statement if any named consent is
--    withdrawn, another member's, or lacks the guardian a minor needs. A template without
--    a consent id is filled in by the row trigger, as before.
--
--    A withdrawal racing such an insert: the check takes no lock on the consents (locking
--    ten thousand rows FOR SHARE cost as much as writing the templates). Instead the
--    withdrawal now locks its member's row FOR UPDATE before erasing the templates, and
--    every template insert holds that row FOR KEY SHARE (its foreign key) until it
--    commits. So a withdrawal either commits before the insert's check reads the consent
--    (the check sees it and refuses), or waits for the insert to commit and then erases
--    what it stored. Either way no template outlives its consent. That reasoning needs
--    each statement to see what committed before it (READ COMMITTED, as the library's
--    writes run); a writer in REPEATABLE READ or SERIALIZABLE has its consents locked
--    FOR SHARE instead, as the row trigger does, so a withdrawal committed after its
--    snapshot is a serialization failure rather than a template without consent. A
--    withdrawal must itself run at READ COMMITTED (the library's do): at REPEATABLE READ
--    its erasure would read its old snapshot and miss a template committed meanwhile.
--    The withdrawal takes the consent, then the member; the library's enrolments take
--    the member and never lock the consent, so only two withdrawals or a raw insert
--    without a consent id can meet in the other order, which PostgreSQL detects and
--    refuses as a deadlock (Error::Contention), never a hang.
drop index if exists idx_biometrics_embedding;

drop trigger biometrics_notify on biometrics;
drop function powergym_notify_biometrics();

create function powergym_notify_biometric_rows() returns trigger
language plpgsql as $$
declare
    changed bigint;
begin
    if tg_op = 'INSERT' then
        select count(*) into changed from new_rows;
        if changed > 256 then
            -- With the first change mark of the batch: marks are taken at insert, and a
            -- follower may already be past it when this commits.
            perform pg_notify('powergym_biometrics', '*' || (select min(change_seq) from new_rows));
        else
            perform pg_notify('powergym_biometrics', client_id::text)
                from (select distinct client_id from new_rows) c;
        end if;
    elsif tg_op = 'UPDATE' then
        select count(*) into changed from new_rows;
        if changed > 256 then
            perform pg_notify('powergym_biometrics', '-');
        else
            perform pg_notify('powergym_biometrics', client_id::text)
                from (select client_id from new_rows union select client_id from old_rows) c;
        end if;
    else
        select count(*) into changed from old_rows;
        if changed > 256 then
            perform pg_notify('powergym_biometrics', '-');
        else
            perform pg_notify('powergym_biometrics', client_id::text)
                from (select distinct client_id from old_rows) c;
        end if;
    end if;
    return null;
end;
$$;
create trigger biometrics_notify_insert after insert on biometrics
    referencing new table as new_rows
    for each statement execute function powergym_notify_biometric_rows();
create trigger biometrics_notify_update after update on biometrics
    referencing old table as old_rows new table as new_rows
    for each statement execute function powergym_notify_biometric_rows();
create trigger biometrics_notify_delete after delete on biometrics
    referencing old table as old_rows
    for each statement execute function powergym_notify_biometric_rows();

drop trigger biometrics_consent_required on biometrics;
create trigger biometrics_consent_required
    before update of is_active, client_id, embedding, consent_id on biometrics
    for each row execute function powergym_biometric_consent();
create trigger biometrics_consent_filled before insert on biometrics
    for each row when (new.consent_id is null)
    execute function powergym_biometric_consent();

create function powergym_biometric_consents_named() returns trigger
language plpgsql as $$
begin
    if current_setting('transaction_isolation') <> 'read committed' then
        perform 1 from biometric_consents c
            where c.id in (select consent_id from new_rows)
            order by c.id
            for share;
    end if;
    if exists (
        select 1 from new_rows n
        left join biometric_consents c on c.id = n.consent_id
        where c.id is null or c.client_id <> n.client_id or c.withdrawn_at is not null
    ) then
        raise exception 'a face template needs the member''s recorded biometric consent'
            using errcode = 'check_violation', constraint = 'biometrics_consent_required';
    end if;
    if exists (
        select 1 from new_rows n
        join biometric_consents c on c.id = n.consent_id
        join clients k on k.id = n.client_id
        where c.guardian_name is null and k.dni_type = 'TI'
    ) then
        raise exception 'a minor''s face template needs a guardian''s consent'
            using errcode = 'check_violation', constraint = 'biometric_consents_guardian_required';
    end if;
    return null;
end;
$$;
create trigger biometrics_consent_named after insert on biometrics
    referencing new table as new_rows
    for each statement execute function powergym_biometric_consents_named();

create or replace function powergym_consent_withdrawn() returns trigger
language plpgsql as $$
begin
    -- Waits for any insert of this member's template in flight (see 3. above).
    perform 1 from clients where id = new.client_id for update;
    delete from biometrics where client_id = new.client_id;
    return null;
end;
$$;
