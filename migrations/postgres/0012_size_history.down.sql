drop table if exists powergym_size_history;
