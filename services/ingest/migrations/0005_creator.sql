-- Who made each write: the key id of the API key that recorded the row
-- (`anonymous` where a server allows calls without a key). Rows recorded
-- before API keys existed say 'unknown'; exchange rates seeded from the
-- shipped series say 'shipped'. A re-processed held row keeps the key that
-- first sent it; a replaced rate or target, the key that last set it.
-- The published feed views (0003_feed.sql) do not change.
-- Applied with search_path = ingest.

ALTER TABLE events ADD COLUMN creator text NOT NULL DEFAULT 'unknown';
ALTER TABLE held_rows ADD COLUMN creator text NOT NULL DEFAULT 'unknown';
ALTER TABLE documents ADD COLUMN creator text NOT NULL DEFAULT 'unknown';
ALTER TABLE exchange_rates ADD COLUMN creator text NOT NULL DEFAULT 'unknown';
ALTER TABLE targets ADD COLUMN creator text NOT NULL DEFAULT 'unknown';
