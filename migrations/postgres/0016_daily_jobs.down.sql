-- The pages keep the room 0016 gave them; new rows are packed again.
drop index idx_subscriptions_dates;
create index idx_subscriptions_dates on subscriptions (start_date, end_date);

alter table subscriptions reset (fillfactor);

drop trigger subscriptions_touch_updated_at on subscriptions;
create trigger subscriptions_touch_updated_at before update on subscriptions
    for each row execute function powergym_touch_updated_at();

create index idx_subscriptions_status on subscriptions (status);

alter table subscriptions drop constraint subscriptions_no_overlap;
alter table subscriptions add constraint subscriptions_no_overlap exclude using gist (
    client_id with =,
    daterange(start_date, end_date, '[]') with &&
) where (status <> 'canceled');
