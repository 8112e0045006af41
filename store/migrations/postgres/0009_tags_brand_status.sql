-- Issue 11, defect 4: the tag quotas count a brand's pending tags on every
-- tag it adds (shopclip.MaxPendingTagsPerBrand); an index on (brand_id,
-- status) answers that count from the index, and still serves the brand's
-- own lists (brand_id alone) that tags_brand served.
-- Keep the other dialect's 0009_tags_brand_status.sql in step.

CREATE INDEX tags_brand_status ON tags (brand_id, status);
DROP INDEX tags_brand;
