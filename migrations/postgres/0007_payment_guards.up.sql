-- PowerGym schema, step 7: money guards held by the database itself.
--
-- 1. Payments never add up past the subscription's final price, whatever the caller's
--    isolation level or code path: the trigger locks the subscription row (so inserts
--    for one subscription serialise) and checks the sum including the new payment.
-- 2. Payments are financial records: deleting a subscription that has payments is
--    refused instead of silently deleting the receipts.

create function powergym_check_payment_total() returns trigger
language plpgsql as $$
declare
    price numeric(12, 2);
    paid  numeric(12, 2);
begin
    select final_price into price from subscriptions where id = new.subscription_id for update;
    select coalesce(sum(amount), 0) into paid from payments where subscription_id = new.subscription_id;
    if paid > price then
        raise exception 'payments would exceed the subscription''s final price'
            using errcode = 'check_violation', constraint = 'payments_within_final_price';
    end if;
    return new;
end;
$$;
create trigger payments_within_final_price after insert on payments
    for each row execute function powergym_check_payment_total();

alter table payments drop constraint payments_subscription_id_fkey;
alter table payments add constraint payments_subscription_id_fkey foreign key (subscription_id)
    references subscriptions (id) on delete restrict;
