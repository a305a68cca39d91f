drop trigger if exists biometrics_notify on biometrics;
drop function if exists powergym_notify_biometrics();
