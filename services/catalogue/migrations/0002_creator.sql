-- Who made each write: the key id of the API key that created a zone or an
-- investor (`creator`), and of the key that last changed a zone (`updater`;
-- the creator until the first UpdateZone). `anonymous` where a server allows
-- calls without a key. Rows written before API keys existed say 'unknown'.
--
-- The shipped zones (data/zones.csv) say 'seed'. The service seeds them at
-- every start, so the seed writes the marker, not this migration (which
-- cannot tell a shipped zone from one a user created): new shipped zones are
-- inserted with it, and a shipped zone still marked 'unknown' here is
-- claimed by the next start (its updater too, unless it has been updated).
-- Investors are never seeded.
-- Applied with search_path = catalogue.

ALTER TABLE zones ADD COLUMN creator text NOT NULL DEFAULT 'unknown';
ALTER TABLE zones ADD COLUMN updater text NOT NULL DEFAULT 'unknown';
ALTER TABLE investors ADD COLUMN creator text NOT NULL DEFAULT 'unknown';
