drop function if exists powergym_touch_updated_at();

drop type if exists check_in_method_enum;
drop type if exists reward_status_enum;
drop type if exists inventory_movement_enum;
drop type if exists stock_status_enum;
drop type if exists payment_method_enum;
drop type if exists subscription_status_enum;
drop type if exists duration_type_enum;
drop type if exists biometric_type_enum;
drop type if exists gender_type_enum;
drop type if exists document_type_enum;
drop type if exists user_role_enum;

-- The extensions may serve other schemas of a host application: drop them only when
-- nothing else depends on them.
do $$
begin
    drop extension if exists btree_gist;
exception when dependent_objects_still_exist then
    raise notice 'btree_gist kept: other objects depend on it';
end;
$$;
do $$
begin
    drop extension if exists vector;
exception when dependent_objects_still_exist then
    raise notice 'vector kept: other objects depend on it';
end;
$$;
