-- Fulfillment service: tax rates by destination. `country` is an ISO 3166-1
-- alpha-2 code (`US`) or a region of one (`US-CA`); a region's rate beats its
-- country's. `rate` is in basis points (825 = 8.25%).
CREATE TABLE tax_rates (
  country TEXT PRIMARY KEY,
  rate INTEGER NOT NULL CHECK (rate >= 0 AND rate <= 10000),
  shipping_taxable INTEGER NOT NULL CHECK (shipping_taxable IN (0, 1)),
  updated_at INTEGER NOT NULL
);
