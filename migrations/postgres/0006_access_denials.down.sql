drop table if exists access_denials;
