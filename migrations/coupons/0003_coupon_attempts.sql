-- Bad coupon codes per throttle key (`cart:<id>`, `client:<ip>`), counted in
-- a fixed window that starts at the key's first bad code. One row per key:
-- a new window overwrites the ended one in place, and rows of windows that
-- ended are pruned (by window_start) at most once per window per process.
-- In SQL on every runtime, D1 on Cloudflare: counts must be exact under
-- concurrency, which KV cannot give.
CREATE TABLE coupon_attempts (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  window_start INTEGER NOT NULL
);
CREATE INDEX coupon_attempts_window ON coupon_attempts (window_start);
