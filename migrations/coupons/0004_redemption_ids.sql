-- Redemptions keyed by the checkout that made them (its payment or hold id,
-- `redemption_id`), so a repeated redeem finds its own row instead of
-- counting twice, and a release deletes exactly that one. The limits are
-- enforced by one conditional INSERT ... SELECT (CouponsRepositorySql.ts),
-- which counts the code's rows and the user's with the index below.
-- SQLite cannot change a primary key in place, so the table is rebuilt; rows
-- of the old shape (none were written: nothing redeemed before this) keep
-- their first code per order id.
CREATE TABLE redemptions_by_id (
  redemption_id TEXT PRIMARY KEY,
  code TEXT NOT NULL,
  user_id TEXT NOT NULL,
  redeemed_at INTEGER NOT NULL
);
INSERT OR IGNORE INTO redemptions_by_id (redemption_id, code, user_id, redeemed_at)
  SELECT order_id, code, customer_id, redeemed_at FROM redemptions ORDER BY redeemed_at;
DROP TABLE redemptions;
ALTER TABLE redemptions_by_id RENAME TO redemptions;
-- Serves both counts: a code's (its prefix) and a user's of that code.
CREATE INDEX redemptions_code_user ON redemptions (code, user_id);
