drop table if exists inventory_movements;
drop function if exists powergym_forbid_movement_update();
drop function if exists powergym_revert_stock_movement();
drop function if exists powergym_apply_stock_movement();
drop table if exists products;
