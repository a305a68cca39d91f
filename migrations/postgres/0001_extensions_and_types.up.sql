-- PowerGym schema, step 1: the extensions the schema needs and every enum type.
--
-- The original created `vector` outside its migrations (a Docker init script); here the
-- schema owns its prerequisites. btree_gist lets one exclusion constraint combine the
-- client id (equality) with the subscription period (range overlap).
create extension if not exists vector;
create extension if not exists btree_gist;

-- Labels follow the original database guide: lowercase where the guide lists lowercase
-- values, uppercase where it shows uppercase. Types the guide omits take the original
-- API's values.
create type user_role_enum as enum ('admin', 'employee');
create type document_type_enum as enum ('CC', 'TI', 'CE', 'PP');
create type gender_type_enum as enum ('male', 'female', 'other');
create type biometric_type_enum as enum ('FACE', 'FINGERPRINT');
create type duration_type_enum as enum ('day', 'week', 'month', 'year');
create type subscription_status_enum as enum ('active', 'expired', 'pending_payment', 'scheduled', 'canceled');
create type payment_method_enum as enum ('cash', 'qr');
create type stock_status_enum as enum ('NORMAL', 'LOW_STOCK', 'STOCK_OUT', 'OVERSTOCK');
create type inventory_movement_enum as enum ('ENTRY', 'EXIT');
create type reward_status_enum as enum ('pending', 'applied', 'expired');
create type check_in_method_enum as enum ('document', 'face', 'manual');

-- Every table with an updated_at column keeps it current through this one function, so
-- raw SQL writes (operators, adoption scripts) keep the same guarantee as the library.
create function powergym_touch_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;
