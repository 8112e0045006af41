-- Issue 13: viewers' events arrive in batches (package eventbatch: one
-- multi-row INSERT per batch). The row trigger of 0012 updated the same
-- rollup rows once per event within one transaction: each update a new
-- version of the row that the next had to walk past, so a batch cost grew
-- with its square. A statement trigger reads the statement's new rows (a
-- transition table: only those inserted, not the duplicates ON CONFLICT
-- skipped) and adds them to each rollup row once, in key order (the order
-- RecordEvents inserts in, so concurrent batches lock rollup rows in one
-- order). SQLite keeps its row trigger: it updates a row in place, and
-- has no statement triggers.
DROP TRIGGER events_rollup ON events;
DROP FUNCTION events_rollup();

CREATE FUNCTION events_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO event_rollups AS r (tag_id, type, hour, clip_id, currency, events, amount_minor)
	SELECT tag_id, type, date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', clip_id, currency, count(*), sum(amount_minor)
	FROM new_events GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (tag_id, type, hour, clip_id, currency)
	DO UPDATE SET events = r.events + excluded.events, amount_minor = r.amount_minor + excluded.amount_minor;
	INSERT INTO event_rollups_daily AS d (tag_id, type, day, clip_id, currency, events, amount_minor)
	SELECT tag_id, type, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), clip_id, currency, count(*), sum(amount_minor)
	FROM new_events GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (tag_id, type, day, clip_id, currency)
	DO UPDATE SET events = d.events + excluded.events, amount_minor = d.amount_minor + excluded.amount_minor;
	RETURN NULL;
END;
$$;

CREATE TRIGGER events_rollup AFTER INSERT ON events
	REFERENCING NEW TABLE AS new_events
	FOR EACH STATEMENT EXECUTE FUNCTION events_rollup();
