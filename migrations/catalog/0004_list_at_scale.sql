-- Listing and search whose cost does not grow with the catalog (issue 11).
-- Everything below is kept in step with `products` by triggers, so every
-- write path (insert, replace, remove, and any future one) updates it in the
-- same statement, atomically, on SQLite and D1 alike.

-- Every sort has an index that gives its exact order (ties broken by id in
-- the sort's direction), alone and inside a category, so a page (and a
-- cursor's next page) is read from the index and stops after `limit` rows.
-- SQLite can walk an index backwards, but not with the two columns in mixed
-- directions: `price_desc` (price down, id up) has its own.
DROP INDEX products_created;
DROP INDEX products_category;
CREATE INDEX products_newest ON products (created_at, product_id);
CREATE INDEX products_price_desc ON products (min_price DESC, product_id);
CREATE INDEX products_category_newest ON products (category_key, created_at, product_id);
CREATE INDEX products_category_price ON products (category_key, min_price, product_id);
CREATE INDEX products_category_price_desc ON products (category_key, min_price DESC, product_id);
CREATE INDEX products_category_title ON products (category_key, title_key, product_id);

-- Search: a trigram index over the already folded `search_text` (so
-- `case_sensitive 1`: folding is the service's, the same on every runtime).
-- A query of 3+ characters is a phrase of trigrams, which matches exactly the
-- texts holding it as a substring; the list still checks `instr` on the row,
-- so the index only narrows and never changes what matches. The FTS rowid
-- must survive VACUUM, which may renumber the implicit rowids of `products`:
-- `product_search_docs` gives each product a stable INTEGER PRIMARY KEY.
CREATE TABLE product_search_docs (
  doc INTEGER PRIMARY KEY,
  product TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE products_fts USING fts5(text, tokenize = 'trigram case_sensitive 1');

-- Exact counts for every filter but `q`, without counting rows: how many
-- products have a lowest price in each bucket, at 14 levels of 16x wider
-- buckets (level L's bucket of price p is p >> 4L; 16^14 > 2^53 covers every
-- price), per category and for the whole catalog (category_key ''; a real
-- category is never empty). A price range is then the sum of at most ~30
-- aligned buckets per level boundary, whatever the number of products.
CREATE TABLE product_count_levels (
  level INTEGER PRIMARY KEY,
  shift INTEGER NOT NULL
);
INSERT INTO product_count_levels (level, shift) VALUES
  (0, 0), (1, 4), (2, 8), (3, 12), (4, 16), (5, 20), (6, 24), (7, 28),
  (8, 32), (9, 36), (10, 40), (11, 44), (12, 48), (13, 52);
CREATE TABLE product_counts (
  category_key TEXT NOT NULL,
  level INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (category_key, level, bucket)
) WITHOUT ROWID;

-- The products already there.
INSERT INTO product_search_docs (product) SELECT product_id FROM products ORDER BY created_at, product_id;
INSERT INTO products_fts (rowid, text)
  SELECT d.doc, p.search_text FROM product_search_docs d JOIN products p ON p.product_id = d.product;
INSERT INTO product_counts (category_key, level, bucket, n)
  SELECT p.category_key, l.level, p.min_price >> l.shift, count(*)
  FROM products p, product_count_levels l GROUP BY 1, 2, 3;
INSERT INTO product_counts (category_key, level, bucket, n)
  SELECT '', l.level, p.min_price >> l.shift, count(*)
  FROM products p, product_count_levels l GROUP BY 1, 2, 3;

CREATE TRIGGER products_index_insert AFTER INSERT ON products BEGIN
  INSERT INTO product_search_docs (product) VALUES (new.product_id);
  INSERT INTO products_fts (rowid, text)
    VALUES ((SELECT doc FROM product_search_docs WHERE product = new.product_id), new.search_text);
  INSERT INTO product_counts (category_key, level, bucket, n)
    SELECT new.category_key, level, new.min_price >> shift, 1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
  INSERT INTO product_counts (category_key, level, bucket, n)
    SELECT '', level, new.min_price >> shift, 1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER products_index_search AFTER UPDATE OF search_text ON products
WHEN old.search_text IS NOT new.search_text BEGIN
  UPDATE products_fts SET text = new.search_text
    WHERE rowid = (SELECT doc FROM product_search_docs WHERE product = new.product_id);
END;

CREATE TRIGGER products_index_counts AFTER UPDATE OF category_key, min_price ON products
WHEN old.category_key IS NOT new.category_key OR old.min_price IS NOT new.min_price BEGIN
  INSERT INTO product_counts (category_key, level, bucket, n)
    SELECT old.category_key, level, old.min_price >> shift, -1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
  INSERT INTO product_counts (category_key, level, bucket, n)
    SELECT '', level, old.min_price >> shift, -1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
  INSERT INTO product_counts (category_key, level, bucket, n)
    SELECT new.category_key, level, new.min_price >> shift, 1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
  INSERT INTO product_counts (category_key, level, bucket, n)
    SELECT '', level, new.min_price >> shift, 1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER products_index_delete AFTER DELETE ON products BEGIN
  DELETE FROM products_fts WHERE rowid = (SELECT doc FROM product_search_docs WHERE product = old.product_id);
  DELETE FROM product_search_docs WHERE product = old.product_id;
  INSERT INTO product_counts (category_key, level, bucket, n)
    SELECT old.category_key, level, old.min_price >> shift, -1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
  INSERT INTO product_counts (category_key, level, bucket, n)
    SELECT '', level, old.min_price >> shift, -1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
END;
