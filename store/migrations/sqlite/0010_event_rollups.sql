-- Issue 12: stats read hourly rollups of the events, and raw events are
-- pruned once past their retention (shopclip.EventRetention). Keep
-- postgres/0010_event_rollups.sql in step.
--
-- event_rollups counts the events of each UTC hour by tag, type, clip and
-- currency, with the sum of their amounts: every count and sum the stats
-- read (TagStats, ClipViews, DailyStats) is a sum of these rows. The
-- trigger below adds each event to its hour in the statement that inserts
-- it (an event deduplicated away is never inserted, so never counted);
-- deleting events leaves the rollups alone, which is what lets old events
-- go. hour is the start of the hour in the events' time layout.
CREATE TABLE event_rollups (
	tag_id       TEXT NOT NULL,
	type         TEXT NOT NULL,
	hour         TEXT NOT NULL,
	clip_id      TEXT NOT NULL,
	currency     TEXT NOT NULL,
	events       INTEGER NOT NULL CHECK (events >= 0),
	amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
	PRIMARY KEY (tag_id, type, hour, clip_id, currency)
) STRICT;

-- A clip's views by time (ClipViews, DailyStats); the primary key serves
-- the tags' events.
CREATE INDEX event_rollups_clip ON event_rollups (clip_id, type, hour);

INSERT INTO event_rollups (tag_id, type, hour, clip_id, currency, events, amount_minor)
	SELECT tag_id, type, substr(at, 1, 13) || ':00:00.000000Z', clip_id, currency, count(*), sum(amount_minor)
	FROM events GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER events_rollup AFTER INSERT ON events
BEGIN
	INSERT INTO event_rollups (tag_id, type, hour, clip_id, currency, events, amount_minor)
	VALUES (NEW.tag_id, NEW.type, substr(NEW.at, 1, 13) || ':00:00.000000Z', NEW.clip_id, NEW.currency, 1, NEW.amount_minor)
	ON CONFLICT (tag_id, type, hour, clip_id, currency)
	DO UPDATE SET events = events + 1, amount_minor = amount_minor + excluded.amount_minor;
END;

-- The pruner deletes the oldest events first, a batch at a time.
CREATE INDEX events_at ON events (at);
