alter table payments drop constraint payments_subscription_id_fkey;
alter table payments add constraint payments_subscription_id_fkey foreign key (subscription_id)
    references subscriptions (id) on delete cascade;
drop trigger if exists payments_within_final_price on payments;
drop function if exists powergym_check_payment_total();
