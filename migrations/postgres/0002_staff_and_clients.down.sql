drop table if exists biometrics;
drop table if exists clients;
drop table if exists users;
