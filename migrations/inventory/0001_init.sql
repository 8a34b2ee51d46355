-- Inventory service: stock levels per variant. `reserved` is the quantity
-- held by active reservations; available = stock - reserved.
CREATE TABLE stock_levels (
  variant_id TEXT PRIMARY KEY,
  stock INTEGER NOT NULL CHECK (stock >= 0),
  reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  updated_at INTEGER NOT NULL,
  CHECK (stock >= reserved)
);
