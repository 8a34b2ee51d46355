-- Holds: stock set aside for a checkout until it is committed (sold),
-- released, or expires. stock_levels.reserved is always the sum of the lines
-- of the active holds, because every change of a hold's status and the move of
-- its stock are one atomic group (packages/inventory/src/InventoryRepositorySql.ts).
CREATE TABLE holds (
  hold_id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('active', 'committed', 'released', 'expired')),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  -- When and by which group it left `active`: the token ties the stock move
  -- to the status change that won.
  settled_at INTEGER,
  settle_token TEXT,
  CHECK ((status = 'active') = (settled_at IS NULL)),
  CHECK ((status = 'active') = (settle_token IS NULL))
);
-- The sweep: active holds by expiry.
CREATE INDEX holds_active_expiry ON holds (expires_at) WHERE status = 'active';
CREATE INDEX holds_settle_token ON holds (settle_token) WHERE settle_token IS NOT NULL;

-- One row per variant of a hold. variant_id is NOT NULL and filled from
-- stock_levels when the hold is placed, so a line for an unknown variant
-- fails the whole reserve. No foreign key to stock_levels: removing a variant
-- must not be blocked by, or cascade into, the history of holds.
CREATE TABLE hold_lines (
  hold_id TEXT NOT NULL REFERENCES holds (hold_id) ON DELETE CASCADE,
  variant_id TEXT NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  -- The order of the reserve's lines.
  position INTEGER NOT NULL,
  PRIMARY KEY (hold_id, variant_id)
);
