-- Catalog service: products and their variants. `min_price` and `currency`
-- are kept on the product so that filtering and sorting by price is one query.
-- `*_key` and `search_text` hold case-folded copies computed by the service
-- (SQLite folds ASCII only), so search, category match and title order are
-- the same on every runtime.
CREATE TABLE products (
  product_id TEXT PRIMARY KEY,
  sku TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  category TEXT NOT NULL,
  category_key TEXT NOT NULL,
  title_key TEXT NOT NULL,
  search_text TEXT NOT NULL,
  images TEXT NOT NULL,
  min_price INTEGER NOT NULL,
  currency TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  -- A fresh random token per write: an update applies only over the revision
  -- it read, so two concurrent admin edits cannot silently overwrite each other.
  revision TEXT NOT NULL
);
CREATE INDEX products_created ON products (created_at DESC, product_id);
CREATE INDEX products_category ON products (category_key);
CREATE INDEX products_title ON products (title_key, product_id);
CREATE INDEX products_price ON products (min_price, product_id);

CREATE TABLE variants (
  variant_id TEXT PRIMARY KEY,
  product_id TEXT NOT NULL REFERENCES products (product_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  sku TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  price INTEGER NOT NULL,
  currency TEXT NOT NULL,
  attributes TEXT NOT NULL,
  weight_grams INTEGER NOT NULL
);
CREATE INDEX variants_product ON variants (product_id, position);
