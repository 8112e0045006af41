-- Purchases are deduplicated per order line, (brand, order, product), no
-- longer per order: earlier keys purchase:<brand>:<order> gain the product.
UPDATE events SET dedupe_key = dedupe_key || ':' || product_id
	WHERE type = 'purchase' AND dedupe_key IS NOT NULL AND dedupe_key LIKE 'purchase:%';
