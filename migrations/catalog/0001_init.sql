-- Catalog service: products and their variants. `min_price` and `currency`
-- are kept on the product so that filtering and sorting by price is one query.
CREATE TABLE products (
  product_id TEXT PRIMARY KEY,
  sku TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  category TEXT NOT NULL,
  images TEXT NOT NULL,
  min_price INTEGER NOT NULL,
  currency TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX products_created ON products (created_at DESC, product_id);
CREATE INDEX products_category ON products (category);
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
