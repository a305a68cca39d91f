-- PowerGym schema, step 18: a bulk enrolment may refresh the templates table's planner
-- statistics, whatever role it runs as.
--
-- After a first import the table has never been analysed, and until autovacuum gets to
-- it (a minute or more later) the planner has no row estimates: every read of the
-- templates changed since a cache's mark (each single enrolment, each cached face
-- check-in, each cache catch-up) then scans the whole table, 20 ms instead of 4-6 at
-- 100k templates. Only the table's owner may ANALYZE it on PostgreSQL 15 (17 adds a
-- MAINTAIN privilege), and the application's role is not the owner. So the owner
-- provides this one function, run with the owner's rights, which analyses this table's
-- filtering columns and nothing else:
--
-- - the columns the reads filter on, not the 2 KB embeddings, whose sample is most of
--   an ANALYZE's time and which no plan uses;
-- - `skip_locked`: it never waits. `powergym maintain`'s VACUUM or a concurrent index
--   build holds the lock ANALYZE needs; waiting inside an import's transaction would
--   time the import out or deadlock with the index build. Skipped, the statistics come
--   from autovacuum as before.
--
-- A fixed search path (temporary objects last), so no object of the caller's can stand
-- in for anything it names. Callable by the roles granted it (`powergym db grant-app`
-- grants every function of the schema to the application's role), not by every login:
-- while an ANALYZE's transaction is open it holds a lock that VACUUM waits for.
create function powergym_analyze_biometrics() returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    analyze (skip_locked) public.biometrics (client_id, type, is_active, change_seq);
end;
$$;
revoke execute on function powergym_analyze_biometrics() from public;
