-- Cart service, on the node runtime (one SQLite file) and wherever a SQL store
-- holds many carts. A cart is read and written whole, by its single writer
-- (CartWriter), so it is kept as one JSON document: the CartRecord, as
-- `encodeRecord` writes it. `expires_at` repeats the record's expiry (epoch
-- milliseconds) so that the sweep deletes expired carts by index, without
-- reading a document.
CREATE TABLE carts (
  cart_id TEXT PRIMARY KEY NOT NULL,
  record TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX carts_expires_at ON carts (expires_at);
