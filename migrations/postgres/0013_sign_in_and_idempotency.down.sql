alter table access_denials drop column if exists idempotency_key;
alter table attendances drop column if exists idempotency_key;
alter table inventory_movements drop column if exists idempotency_key;
drop table if exists sign_in_throttles;
