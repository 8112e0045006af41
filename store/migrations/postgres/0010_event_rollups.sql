-- Issue 12: stats read hourly rollups of the events, and raw events are
-- pruned once past their retention (shopclip.EventRetention). Keep
-- sqlite/0010_event_rollups.sql in step.
--
-- event_rollups counts the events of each UTC hour by tag, type, clip and
-- currency, with the sum of their amounts: every count and sum the stats
-- read (TagStats, ClipViews, DailyStats) is a sum of these rows. The
-- trigger below adds each event to its hour in the statement that inserts
-- it (an event deduplicated away is never inserted, so never counted);
-- deleting events leaves the rollups alone, which is what lets old events
-- go. hour is the start of the UTC hour, whatever the session's time zone.
CREATE TABLE event_rollups (
	tag_id       text NOT NULL,
	type         text NOT NULL,
	hour         timestamptz NOT NULL,
	clip_id      text NOT NULL,
	currency     text NOT NULL,
	events       bigint NOT NULL CHECK (events >= 0),
	amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
	PRIMARY KEY (tag_id, type, hour, clip_id, currency)
);

-- A clip's views by time (ClipViews, DailyStats); the primary key serves
-- the tags' events.
CREATE INDEX event_rollups_clip ON event_rollups (clip_id, type, hour);

INSERT INTO event_rollups (tag_id, type, hour, clip_id, currency, events, amount_minor)
	SELECT tag_id, type, date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', clip_id, currency, count(*), sum(amount_minor)
	FROM events GROUP BY 1, 2, 3, 4, 5;

CREATE FUNCTION events_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO event_rollups AS r (tag_id, type, hour, clip_id, currency, events, amount_minor)
	VALUES (NEW.tag_id, NEW.type, date_trunc('hour', NEW.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', NEW.clip_id, NEW.currency, 1, NEW.amount_minor)
	ON CONFLICT (tag_id, type, hour, clip_id, currency)
	DO UPDATE SET events = r.events + 1, amount_minor = r.amount_minor + excluded.amount_minor;
	RETURN NULL;
END;
$$;

CREATE TRIGGER events_rollup AFTER INSERT ON events
	FOR EACH ROW EXECUTE FUNCTION events_rollup();

-- The pruner deletes the oldest events first, a batch at a time.
CREATE INDEX events_at ON events (at);
