-- A committed hold whose order was cancelled goes back on the shelf and
-- becomes `restocked` (packages/inventory/src/InventoryRepositorySql.ts).
-- SQLite cannot change a CHECK in place, so `holds` is rebuilt with the new
-- status allowed.
--
-- hold_lines refers to holds ON DELETE CASCADE, and with foreign keys on (D1
-- always, node:sqlite by default) dropping a parent table deletes its rows
-- first, which would cascade into the lines. So the lines are rebuilt too, in
-- an order where no drop ever has a child row: the new lines refer to the new
-- holds from the start, the old lines go before the old holds, and the
-- renames carry the reference along (SQLite rewrites REFERENCES clauses on
-- RENAME). No PRAGMA is needed: the node runtime runs each migration inside a
-- transaction, where foreign_keys cannot be switched anyway, and D1 runs the
-- file as given.
CREATE TABLE holds_next (
  hold_id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('active', 'committed', 'released', 'expired', 'restocked')),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  -- When it left `active`, and the token of the last group that changed its
  -- status (its settlement, then its restock): the token ties the stock move
  -- to the status change that won.
  settled_at INTEGER,
  settle_token TEXT,
  CHECK ((status = 'active') = (settled_at IS NULL)),
  CHECK ((status = 'active') = (settle_token IS NULL))
);
INSERT INTO holds_next (hold_id, status, created_at, expires_at, settled_at, settle_token)
  SELECT hold_id, status, created_at, expires_at, settled_at, settle_token FROM holds;

CREATE TABLE hold_lines_next (
  hold_id TEXT NOT NULL REFERENCES holds_next (hold_id) ON DELETE CASCADE,
  variant_id TEXT NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  position INTEGER NOT NULL,
  PRIMARY KEY (hold_id, variant_id)
);
INSERT INTO hold_lines_next (hold_id, variant_id, quantity, position)
  SELECT hold_id, variant_id, quantity, position FROM hold_lines;

DROP TABLE hold_lines;
DROP TABLE holds;
ALTER TABLE holds_next RENAME TO holds;
ALTER TABLE hold_lines_next RENAME TO hold_lines;

-- The indexes went with the old table.
CREATE INDEX holds_active_expiry ON holds (expires_at) WHERE status = 'active';
CREATE INDEX holds_settle_token ON holds (settle_token) WHERE settle_token IS NOT NULL;
