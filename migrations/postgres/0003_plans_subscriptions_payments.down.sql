drop table if exists payments;
drop table if exists subscriptions;
drop table if exists plans;
