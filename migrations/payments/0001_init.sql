-- Payments service: one row per payment (per inventory hold). What is looked
-- up, constrained or changed in one conditional statement is a column; the
-- lists (`captures`, `refunds`) and `failure` are JSON, rewritten together
-- with `status`, the sums and `version` by one compare-and-set UPDATE (no
-- transactions needed, so the same statements run on D1).
CREATE TABLE payments (
  payment_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  cart_id TEXT NOT NULL,
  -- The inventory hold the payment is for. UNIQUE is what makes creation
  -- idempotent: a repeat is an INSERT that does nothing.
  reservation_id TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  -- The provider's order: webhooks and the buyer's return name it.
  provider_order_id TEXT NOT NULL UNIQUE,
  approve_url TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('created', 'captured', 'refunded', 'partially_refunded', 'failed')),
  currency TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  -- Sums of `captures` and `refunds`, kept beside them so the store itself
  -- refuses a record that gives back more than was taken.
  captured_amount INTEGER NOT NULL CHECK (captured_amount >= 0),
  refunded_amount INTEGER NOT NULL CHECK (refunded_amount >= 0 AND refunded_amount <= captured_amount),
  captures TEXT NOT NULL,
  refunds TEXT NOT NULL,
  failure TEXT,
  -- Bumped by every change; a change applies only to the version it read.
  version INTEGER NOT NULL,
  -- Epoch milliseconds.
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX payments_user ON payments (user_id, created_at DESC);

-- Webhook events seen: the provider delivers an event at least once, and the
-- PRIMARY KEY lets exactly one delivery of each be processed.
CREATE TABLE webhook_events (
  event_id TEXT PRIMARY KEY,
  -- Epoch milliseconds.
  received_at INTEGER NOT NULL
);
