drop table if exists rewards;
drop table if exists attendances;
