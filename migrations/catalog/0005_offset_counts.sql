-- A deep `offset` whose cost does not grow with the catalog (issue 11).
-- `product_counts` (0004) already counts products by price bucket at 14
-- levels of 16x wider buckets, which is enough to find, from the top level
-- down, the price at which the offset-th product of a price sort sits. This
-- table does the same for creation time (the `newest` sort): how many
-- products of each category (and of the whole catalog, category_key '') were
-- created in each bucket of `created_at >> shift` (product_count_levels).
-- Kept in step by triggers like the price counts, so every write path updates
-- it in the same statement, on SQLite and D1 alike.
CREATE TABLE product_time_counts (
  category_key TEXT NOT NULL,
  level INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (category_key, level, bucket)
) WITHOUT ROWID;

-- The products already there.
INSERT INTO product_time_counts (category_key, level, bucket, n)
  SELECT p.category_key, l.level, p.created_at >> l.shift, count(*)
  FROM products p, product_count_levels l GROUP BY 1, 2, 3;
INSERT INTO product_time_counts (category_key, level, bucket, n)
  SELECT '', l.level, p.created_at >> l.shift, count(*)
  FROM products p, product_count_levels l GROUP BY 1, 2, 3;

CREATE TRIGGER products_time_insert AFTER INSERT ON products BEGIN
  INSERT INTO product_time_counts (category_key, level, bucket, n)
    SELECT new.category_key, level, new.created_at >> shift, 1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
  INSERT INTO product_time_counts (category_key, level, bucket, n)
    SELECT '', level, new.created_at >> shift, 1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
END;

-- The service never changes `created_at`; a category change moves the
-- product between categories (the catalog-wide counts stay as they are
-- unless the time changes too).
CREATE TRIGGER products_time_update AFTER UPDATE OF category_key, created_at ON products
WHEN old.category_key IS NOT new.category_key OR old.created_at IS NOT new.created_at BEGIN
  INSERT INTO product_time_counts (category_key, level, bucket, n)
    SELECT old.category_key, level, old.created_at >> shift, -1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
  INSERT INTO product_time_counts (category_key, level, bucket, n)
    SELECT '', level, old.created_at >> shift, -1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
  INSERT INTO product_time_counts (category_key, level, bucket, n)
    SELECT new.category_key, level, new.created_at >> shift, 1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
  INSERT INTO product_time_counts (category_key, level, bucket, n)
    SELECT '', level, new.created_at >> shift, 1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER products_time_delete AFTER DELETE ON products BEGIN
  INSERT INTO product_time_counts (category_key, level, bucket, n)
    SELECT old.category_key, level, old.created_at >> shift, -1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
  INSERT INTO product_time_counts (category_key, level, bucket, n)
    SELECT '', level, old.created_at >> shift, -1 FROM product_count_levels WHERE true
    ON CONFLICT (category_key, level, bucket) DO UPDATE SET n = n + excluded.n;
END;
