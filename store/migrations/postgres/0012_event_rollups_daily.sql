-- Issue 12: the stats read whole UTC days (DailyStats) or all time
-- (TagStats, ClipViews): event_rollups_daily sums the events of each UTC
-- day as event_rollups sums each hour, so that a month of a brand's stats
-- reads a row per tag, type and day, not per hour. The rollup trigger
-- keeps both in the statement that inserts an event; pruning leaves them
-- alone. day is the UTC date as text, "2006-01-02", whatever the
-- session's time zone. Keep sqlite/0012_event_rollups_daily.sql in step.
CREATE TABLE event_rollups_daily (
	tag_id       text NOT NULL,
	type         text NOT NULL,
	day          text NOT NULL,
	clip_id      text NOT NULL,
	currency     text NOT NULL,
	events       bigint NOT NULL CHECK (events >= 0),
	amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
	PRIMARY KEY (tag_id, type, day, clip_id, currency)
);

CREATE INDEX event_rollups_daily_clip ON event_rollups_daily (clip_id, type, day);

INSERT INTO event_rollups_daily (tag_id, type, day, clip_id, currency, events, amount_minor)
	SELECT tag_id, type, to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD'), clip_id, currency, sum(events), sum(amount_minor)
	FROM event_rollups GROUP BY 1, 2, 3, 4, 5;

CREATE OR REPLACE FUNCTION events_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO event_rollups AS r (tag_id, type, hour, clip_id, currency, events, amount_minor)
	VALUES (NEW.tag_id, NEW.type, date_trunc('hour', NEW.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', NEW.clip_id, NEW.currency, 1, NEW.amount_minor)
	ON CONFLICT (tag_id, type, hour, clip_id, currency)
	DO UPDATE SET events = r.events + 1, amount_minor = r.amount_minor + excluded.amount_minor;
	INSERT INTO event_rollups_daily AS d (tag_id, type, day, clip_id, currency, events, amount_minor)
	VALUES (NEW.tag_id, NEW.type, to_char(NEW.at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), NEW.clip_id, NEW.currency, 1, NEW.amount_minor)
	ON CONFLICT (tag_id, type, day, clip_id, currency)
	DO UPDATE SET events = d.events + 1, amount_minor = d.amount_minor + excluded.amount_minor;
	RETURN NULL;
END;
$$;
