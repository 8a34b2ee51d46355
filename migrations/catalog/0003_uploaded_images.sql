-- Images uploaded by admins (POST /api/admin/products/:productId/images), in
-- their order: a JSON array of { imageId, key, contentType, size }. The bytes
-- live in the object store (R2, files under DATA_DIR, memory) under `key`.
-- `images` keeps the URLs typed in with create/update.
ALTER TABLE products ADD COLUMN uploaded_images TEXT NOT NULL DEFAULT '[]';
