-- Orders service: one row per order. What is searched, sorted, constrained
-- or changed in one conditional statement is a column; what is only ever read
-- back whole is JSON: `details` (items, address, shipping method, summary)
-- never changes after creation; `history`, `shipments` and `refunds` are
-- rewritten together with `status` and `version` by one compare-and-set
-- UPDATE (no transactions needed, so the same statements run on D1).
CREATE TABLE orders (
  order_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  -- The inventory hold the order was sold from. UNIQUE is what makes
  -- creation idempotent: a repeat is an INSERT that does nothing.
  reservation_id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('paid', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded')),
  payment_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  capture_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  captured_amount INTEGER NOT NULL CHECK (captured_amount >= 0),
  -- A last guard behind the service's own check: never more back than taken.
  refunded_amount INTEGER NOT NULL CHECK (refunded_amount >= 0 AND refunded_amount <= captured_amount),
  coupon_code TEXT,
  details TEXT NOT NULL,
  history TEXT NOT NULL,
  shipments TEXT NOT NULL,
  refunds TEXT NOT NULL,
  -- Bumped by every change; a change applies only to the version it read.
  version INTEGER NOT NULL,
  -- Epoch milliseconds.
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- Newest first: a user's orders, the admin list by status, and all orders.
CREATE INDEX orders_user ON orders (user_id, created_at DESC, order_id DESC);
CREATE INDEX orders_status ON orders (status, created_at DESC, order_id DESC);
CREATE INDEX orders_created ON orders (created_at DESC, order_id DESC);
