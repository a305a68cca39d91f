drop trigger if exists biometrics_consent_required on biometrics;
drop function if exists powergym_biometric_consent();
alter table biometrics drop constraint if exists biometrics_consent_id_fkey;
alter table biometrics drop column if exists consent_id;
drop table if exists biometric_consents;
drop function if exists powergym_consent_withdrawn();
drop function if exists powergym_consent_guardian();
