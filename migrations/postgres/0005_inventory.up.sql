-- PowerGym schema, step 5: products and their stock movements.

create table products (
    id                 uuid              not null default gen_random_uuid(),
    name               varchar(150)      not null,
    description        varchar(500),
    capacity_value     numeric(12, 2)    not null,
    unit_type          varchar(10)       not null,
    price              numeric(12, 2)    not null,
    currency           varchar(3)        not null default 'COP',
    photo_url          varchar(500),
    is_active          boolean           not null default true,
    available_quantity numeric(12, 2)    not null default 0,
    min_stock          numeric(12, 2)    not null default 5.00,
    max_stock          numeric(12, 2),
    -- Derived from the quantities by one rule, on insert and on every update, so a new
    -- product with no stock reads STOCK_OUT (the original's trigger ran on update only).
    stock_status       stock_status_enum not null generated always as (
        case
            when available_quantity = 0 then 'STOCK_OUT'::stock_status_enum
            when available_quantity <= min_stock then 'LOW_STOCK'::stock_status_enum
            when max_stock is not null and available_quantity > max_stock then 'OVERSTOCK'::stock_status_enum
            else 'NORMAL'::stock_status_enum
        end
    ) stored,
    meta_info          jsonb             not null default '{}'::jsonb,
    created_by         varchar(50),
    created_at         timestamptz       not null default now(),
    updated_at         timestamptz       not null default now(),
    constraint products_pkey primary key (id),
    constraint products_created_by_fkey foreign key (created_by)
        references users (username) on update cascade on delete set null,
    constraint products_name_check check (length(btrim(name)) > 0),
    constraint products_capacity_value_check check (capacity_value > 0),
    constraint products_unit_type_check check (length(btrim(unit_type)) > 0),
    constraint check_product_price_positive check (price >= 0),
    constraint products_currency_check check (currency ~ '^[A-Z]{3}$'),
    -- Stock never goes below zero: the last line of defence behind every sale.
    constraint check_product_quantity_positive check (available_quantity >= 0),
    constraint products_min_stock_check check (min_stock >= 0),
    constraint check_product_min_max_stock check (max_stock is null or min_stock <= max_stock),
    constraint products_meta_info_check check (jsonb_typeof(meta_info) = 'object')
);
create index ix_products_name on products (name);
create index idx_products_active on products (is_active);
create index idx_products_stock_status on products (stock_status);
create trigger products_touch_updated_at before update on products
    for each row execute function powergym_touch_updated_at();

create table inventory_movements (
    id            uuid                    not null default gen_random_uuid(),
    product_id    uuid                    not null,
    movement_type inventory_movement_enum not null,
    -- Signed: entries add, exits (sales) subtract.
    quantity      numeric(12, 2)          not null,
    -- A sale keeps the price it was sold at; later price edits do not rewrite revenue.
    unit_price    numeric(12, 2),
    total_amount  numeric(12, 2) generated always as (round(abs(quantity) * unit_price, 2)) stored,
    movement_date timestamptz             not null default now(),
    responsible   varchar(50),
    notes         varchar(500),
    meta_info     jsonb                   not null default '{}'::jsonb,
    created_at    timestamptz             not null default now(),
    constraint inventory_movements_pkey primary key (id),
    constraint inventory_movements_product_id_fkey foreign key (product_id)
        references products (id) on delete cascade,
    constraint inventory_movements_responsible_fkey foreign key (responsible)
        references users (username) on update cascade on delete set null,
    constraint check_movement_quantity check (
        (movement_type = 'ENTRY' and quantity > 0) or (movement_type = 'EXIT' and quantity < 0)
    ),
    constraint inventory_movements_unit_price_check check (unit_price is null or unit_price >= 0),
    constraint inventory_movements_meta_info_check check (jsonb_typeof(meta_info) = 'object')
);
create index idx_inventory_movements_product on inventory_movements (product_id, movement_date desc);
create index idx_inventory_movements_type on inventory_movements (movement_type);
create index idx_inventory_movements_date on inventory_movements (movement_date);
create index idx_inventory_movements_responsible on inventory_movements (responsible);

-- A movement changes the stock in the same statement that records it: the product row is
-- locked by the update, so concurrent sales serialise, and the CHECK above refuses any
-- sale that would take the stock below zero.
create function powergym_apply_stock_movement() returns trigger
language plpgsql as $$
begin
    update products
       set available_quantity = available_quantity + new.quantity
     where id = new.product_id and is_active;
    if not found then
        raise exception 'inactive products do not move stock'
            using errcode = 'check_violation', constraint = 'inventory_movements_product_active';
    end if;
    return new;
end;
$$;
create trigger inventory_movements_apply_stock after insert on inventory_movements
    for each row execute function powergym_apply_stock_movement();

-- Deleting a movement (only possible in SQL) reverts its effect, as in the original.
create function powergym_revert_stock_movement() returns trigger
language plpgsql as $$
begin
    update products
       set available_quantity = available_quantity - old.quantity
     where id = old.product_id;
    return old;
end;
$$;
create trigger inventory_movements_revert_stock before delete on inventory_movements
    for each row execute function powergym_revert_stock_movement();

-- Movements are a ledger: corrections are new movements, never edits.
create function powergym_forbid_movement_update() returns trigger
language plpgsql as $$
begin
    raise exception 'inventory movements cannot be changed; record a new movement instead'
        using errcode = 'check_violation', constraint = 'inventory_movements_immutable';
end;
$$;
create trigger inventory_movements_immutable before update on inventory_movements
    for each row execute function powergym_forbid_movement_update();
