-- Idempotency service: one row per (scope, key), from the first request's
-- claim until 24 h later. A claim is one conditional INSERT ... ON CONFLICT
-- (no transactions needed, so the same statements run on D1): of two
-- concurrent claims of one key exactly one inserts.
CREATE TABLE idempotency_keys (
  -- The caller, method and path (`user:usr_... POST /api/...`).
  scope TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  -- Hex SHA-256 of method, path and body: a repeat must match it.
  fingerprint TEXT NOT NULL,
  -- JSON {status, headers, body} once the first request finished; NULL while
  -- it runs.
  response TEXT,
  -- Epoch milliseconds. claimed_at dates the running request (a stale claim
  -- can be taken over); expires_at is claimed_at + 24 h.
  claimed_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (scope, idempotency_key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
