-- The daily-jobs bench's data (benches/src/bin/daily.rs substitutes :'today' and
-- :'scenario' before running it; the admin account exists already).
--   'a' = 1,000,000 subscriptions all due: every period active, every end in the past;
--   'b' = the realistic day: per client 9 expired periods and a current one; 30,000
--         current periods (3 % of all rows) ended yesterday and are due, 2,000 are
--         scheduled to start today (1,000 paid in full, 1,000 partly), the rest active
--         with future ends.
-- 100,000 clients x 10 consecutive 30-day periods, one payment per subscription, 10,000
-- rewards (1,000 pending past their last day). Set-based, ids deterministic (md5), rows in
-- period order, as a gym's history accumulates.
insert into plans (id, name, price, duration_unit, duration_count, created_by)
values (md5('plan')::uuid, 'Monthly', 100000.00, 'month', 1, 'admin');

insert into clients (id, dni_type, dni_number, first_name, last_name, phone, birth_date, gender,
                     created_by, created_at)
select md5('cli:' || i)::uuid, 'CC', (10000000 + i)::text, 'First' || i, 'Last' || i,
       '300' || lpad(i::text, 7, '0'), date '1970-01-01' + (i % 12000),
       (array['male', 'female', 'other'])[1 + i % 3]::gender_type_enum, 'admin',
       now() - interval '400 days' + i * interval '1 second'
from generate_series(1, 100000) i;

create temp table gen_subs as
with c as (
    select i, k,
           -- current period (k = 9) of scenario b
           case when i % 100 in (5, 15) then (:'today'::date)          -- scheduled, starts today
                when i % 10 < 3         then (:'today'::date) - 30     -- due: ended yesterday
                else (:'today'::date) + 1 + (i % 28) - 29              -- active, ends in the future
           end as b_cur_start
    from generate_series(0, 9) k, generate_series(1, 100000) i
)
select md5('sub:' || i || ':' || k)::uuid as id, md5('cli:' || i)::uuid as client_id, i, k,
       case when :'scenario' = 'a'
            then (:'today'::date) - 2 - (i % 5) - 30 * (9 - k) - 29
            else b_cur_start - 30 * (9 - k) end as start_date,
       case when :'scenario' = 'a' then 'active'
            when k < 9 then 'expired'
            when i % 100 in (5, 15) then 'scheduled'
            else 'active' end::subscription_status_enum as status
from c;

insert into subscriptions (id, client_id, plan_id, start_date, end_date, status, list_price,
                           final_price, currency, created_by, created_at, updated_at)
select id, client_id, md5('plan')::uuid, start_date, start_date + 29, status, 100000.00, 100000.00,
       'COP', 'admin', (start_date - 2)::timestamptz + i * interval '100 ms',
       (start_date - 2)::timestamptz + i * interval '100 ms'
from gen_subs order by k, i;

-- Payments: loaded with the guard trigger off (it would lock every subscription row); the
-- amounts respect the guard (never above the final price).
alter table payments disable trigger payments_within_final_price;
insert into payments (subscription_id, amount, payment_method, payment_date, received_by)
select id, case when status = 'scheduled' and i % 100 = 15 then 30000.00 else 100000.00 end,
       'cash', (start_date - 2)::timestamptz + i * interval '100 ms', 'admin'
from gen_subs order by k, i;
alter table payments enable trigger payments_within_final_price;

insert into rewards (subscription_id, client_id, attendance_count, eligible_date, expires_on, status)
select md5('sub:' || (j * 10) || ':8')::uuid, md5('cli:' || (j * 10))::uuid, 12, (:'today'::date) - 40,
       case when j % 10 = 0 then (:'today'::date) - 1 else (:'today'::date) + 20 end, 'pending'
from generate_series(1, 10000) j;
