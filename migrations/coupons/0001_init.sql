-- Coupons service. `coupons` holds the definitions on the memory and node
-- runtimes (on Cloudflare they live in Workers KV, and this table stays
-- empty); `redemptions` holds the redemption counts in every runtime, because
-- usage limits must be enforced atomically and KV is eventually consistent.
-- Codes are stored upper-cased (codes are case-insensitive).
CREATE TABLE coupons (
  code TEXT PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('percent', 'fixed', 'free_shipping', 'percent_shipping', 'fixed_shipping')),
  value INTEGER NOT NULL CHECK (value >= 0),
  min_cart_amount INTEGER,
  min_cart_currency TEXT,
  expires_at TEXT,
  usage_limit INTEGER CHECK (usage_limit IS NULL OR usage_limit >= 1),
  per_customer_limit INTEGER CHECK (per_customer_limit IS NULL OR per_customer_limit >= 1),
  created_at TEXT NOT NULL,
  CHECK ((min_cart_amount IS NULL) = (min_cart_currency IS NULL))
);

-- One row per order that redeemed a coupon.
CREATE TABLE redemptions (
  code TEXT NOT NULL,
  order_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  redeemed_at INTEGER NOT NULL,
  PRIMARY KEY (code, order_id)
);
CREATE INDEX redemptions_customer ON redemptions (code, customer_id);
