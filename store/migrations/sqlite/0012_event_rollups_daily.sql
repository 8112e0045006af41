-- Issue 12: the stats read whole UTC days (DailyStats) or all time
-- (TagStats, ClipViews): event_rollups_daily sums the events of each UTC
-- day as event_rollups sums each hour, so that a month of a brand's stats
-- reads a row per tag, type and day, not per hour. A second trigger keeps
-- it in the statement that inserts an event; pruning leaves it alone.
-- day is the UTC date, "2006-01-02". Keep postgres/0012_event_rollups_daily.sql
-- in step.
CREATE TABLE event_rollups_daily (
	tag_id       TEXT NOT NULL,
	type         TEXT NOT NULL,
	day          TEXT NOT NULL,
	clip_id      TEXT NOT NULL,
	currency     TEXT NOT NULL,
	events       INTEGER NOT NULL CHECK (events >= 0),
	amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
	PRIMARY KEY (tag_id, type, day, clip_id, currency)
) STRICT;

CREATE INDEX event_rollups_daily_clip ON event_rollups_daily (clip_id, type, day);

INSERT INTO event_rollups_daily (tag_id, type, day, clip_id, currency, events, amount_minor)
	SELECT tag_id, type, substr(hour, 1, 10), clip_id, currency, sum(events), sum(amount_minor)
	FROM event_rollups GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER events_rollup_daily AFTER INSERT ON events
BEGIN
	INSERT INTO event_rollups_daily (tag_id, type, day, clip_id, currency, events, amount_minor)
	VALUES (NEW.tag_id, NEW.type, substr(NEW.at, 1, 10), NEW.clip_id, NEW.currency, 1, NEW.amount_minor)
	ON CONFLICT (tag_id, type, day, clip_id, currency)
	DO UPDATE SET events = events + 1, amount_minor = amount_minor + excluded.amount_minor;
END;
