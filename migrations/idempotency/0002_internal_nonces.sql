-- Nonces of signed service-to-service calls (the Cloudflare runtime's URL
-- fallback, when a service binding is absent). A nonce is kept for twice the
-- 60 s acceptance window, so a captured request cannot be replayed while its
-- timestamp is still accepted, whichever isolate receives it. Unused, and
-- harmless, on the other runtimes.
CREATE TABLE internal_nonces (
  nonce TEXT PRIMARY KEY,
  seen_at INTEGER NOT NULL
);
CREATE INDEX internal_nonces_seen ON internal_nonces (seen_at);
