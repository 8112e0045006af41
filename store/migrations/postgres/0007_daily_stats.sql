-- Stats over time. Daily stats read a scope's events by tag (or
-- a clip's views) over a range of days: the events indexes gain the time,
-- and replace the ones without it, which they serve as well (TagStats,
-- ClipViews). Keep sqlite/0007_daily_stats.sql in step.

CREATE INDEX events_tag_at ON events (tag_id, type, at);
DROP INDEX events_tag;

CREATE INDEX events_clip_at ON events (clip_id, type, at);
DROP INDEX events_clip;
