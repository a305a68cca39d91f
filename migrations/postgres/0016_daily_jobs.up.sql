-- PowerGym schema, step 16: the daily jobs move a million subscriptions in seconds.
--
-- A status change is now a heap-only (HOT) update whenever its page has room for the new
-- version: no index entry is written, none of the table's five indexes is touched. That
-- needs no index to read `status`:
--
-- 1. The overlap rule keeps its meaning but names the live periods by
--    `cancellation_date is null`, which subscriptions_canceled_check makes equivalent to
--    `status <> 'canceled'` on every row; expired periods still block overlaps. Only a
--    cancellation changes the predicate's column.
-- 2. idx_subscriptions_status goes (a name the original's database guide lists; SQLite
--    keeps it, having no heap-only updates to protect): the list reads filter
--    `status::text = $1`, which that index never served, and the reports that could use
--    it count over the whole table.
-- 3. The touch trigger runs only when an update left updated_at different from now(),
--    i.e. exactly when it would change something (the daily jobs set it themselves).
-- 4. Pages keep half their room for new versions (fillfactor 50), so even a day on which
--    every period is due moves each row on its own page. The table is rewritten once here
--    (CLUSTER, by client, so a member's periods share pages) so the rows already stored
--    get that room too. The price: the heap about doubles (about 290 MB per million
--    subscriptions), and scans of the whole table (status counts, the debt report) read
--    that much more.
-- 5. The dates index leads with end_date: the current and future periods are found
--    without reading the history, as the daily jobs' lock of the periods whose start
--    arrived does.
--
-- The whole step holds an exclusive lock on subscriptions: about 24 s per million rows
-- (measured: 19 s of it the overlap constraint, 4 s the rewrite).
alter table subscriptions drop constraint subscriptions_no_overlap;
drop index idx_subscriptions_status;
drop index idx_subscriptions_dates;

-- The rewrite before the indexes that are built anew, so each is built once.
alter table subscriptions set (fillfactor = 50);
cluster subscriptions using idx_subscriptions_client;
alter table subscriptions set without cluster;

alter table subscriptions add constraint subscriptions_no_overlap exclude using gist (
    client_id with =,
    daterange(start_date, end_date, '[]') with &&
) where (cancellation_date is null);
create index idx_subscriptions_dates on subscriptions (end_date, start_date);

drop trigger subscriptions_touch_updated_at on subscriptions;
create trigger subscriptions_touch_updated_at before update on subscriptions
    for each row when (new.updated_at is distinct from now())
    execute function powergym_touch_updated_at();
