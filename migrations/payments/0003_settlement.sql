-- Settlement (Payments.settle): a payment is settled once the checkout is
-- done with it (its order exists, or nothing is kept). The reconciliation
-- pass reads only unsettled payments, oldest first, so a partial index keeps
-- that read small however many settled payments accumulate.
ALTER TABLE payments ADD COLUMN settled_at INTEGER;
ALTER TABLE payments ADD COLUMN order_id TEXT;
CREATE INDEX payments_unsettled ON payments (created_at, payment_id) WHERE settled_at IS NULL;
