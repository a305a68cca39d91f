-- PowerGym schema, step 14: reads that the desk's combined statements run after a lock.
--
-- A check-in, a payment and a face check-in each open with one statement that reads the
-- acting staff member, locks the row the use case decides on and reads what the
-- decision needs. In READ COMMITTED a statement reads from a snapshot taken when it
-- started, so whatever it reads after waiting for a lock would miss what the lock's
-- holder committed meanwhile. The locked row itself is re-read at its newest version by
-- the server; everything else is read through these functions, called laterally after
-- the lock: a VOLATILE function takes a fresh snapshot for each query it runs, so it
-- sees every commit up to the moment the lock was granted, as a separate statement
-- would. They hold no rule: the decisions stay in the library.

-- A client's subscriptions with the total paid on each, from one snapshot (a payment
-- and the status change it causes are seen together or not at all).
create function powergym_client_subscriptions(p_client uuid)
returns table (sub subscriptions, paid numeric)
language plpgsql volatile as $$
begin
    return query
        select s, coalesce((select sum(p.amount) from payments p where p.subscription_id = s.id), 0)
        from subscriptions s where s.client_id = p_client;
end;
$$;

-- Whether the client has an attendance on this business day.
create function powergym_attended_on(p_client uuid, p_day date) returns boolean
language plpgsql volatile as $$
declare
    found_one boolean;
begin
    select exists (select 1 from attendances a where a.client_id = p_client and a.business_date = p_day)
        into found_one;
    return found_one;
end;
$$;

-- The total paid on a subscription.
create function powergym_paid(p_subscription uuid) returns numeric
language plpgsql volatile as $$
declare
    total numeric;
begin
    select coalesce(sum(p.amount), 0) into total from payments p where p.subscription_id = p_subscription;
    return total;
end;
$$;

-- The payment recorded under a retry key, if any.
create function powergym_payment_by_key(p_key text) returns setof payments
language plpgsql volatile as $$
begin
    return query select * from payments p where p.idempotency_key = p_key;
end;
$$;

-- A member's active face template, if any.
create function powergym_face_embedding(p_client uuid) returns vector
language plpgsql volatile as $$
declare
    found_one vector;
begin
    select b.embedding into found_one from biometrics b
        where b.client_id = p_client and b.type = 'FACE' and b.is_active;
    return found_one;
end;
$$;
