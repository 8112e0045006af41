-- Issue 13: PostgreSQL's 0013 replaces its row trigger on events with a
-- statement trigger over the batch's new rows, so that a batch of events
-- updates each rollup row once. SQLite has no statement triggers and
-- updates a row in place, so it keeps the row triggers of 0010 and 0012:
-- this version is empty here, kept so both dialects carry the same
-- versions under the same names.
SELECT 1;
