-- Reverts 0001_schema: drops every table (their indexes and triggers go with them),
-- children before parents so no foreign key is left dangling mid-way.
drop table if exists sign_in_throttles;
drop table if exists access_denials;
drop table if exists inventory_movements;
drop table if exists products;
drop table if exists rewards;
drop table if exists attendances;
drop table if exists payments;
drop table if exists subscriptions;
drop table if exists plans;
drop table if exists face_changes;
drop table if exists biometrics;
drop table if exists biometric_consents;
drop table if exists clients;
drop table if exists users;
