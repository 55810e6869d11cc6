-- Rollups for many replicas: appended deltas folded fast and compacted
-- later, reported and estimated events kept apart, the
-- repeated projects' rows stamped with the batch that recorded them (so a
-- follower replica folds the same rows into memory as the leader folded into
-- SQL), and the leader named on the cursor. The rollups are derived data:
-- they are emptied here and the consumer rebuilds them from the feed.
-- Applied with search_path = analytics.

DROP TABLE rollup;
DROP TABLE repeats;
TRUNCATE projects_seen;

-- Sums of events by projection and month, as deltas: each fold appends one
-- row per group of its batch (plain inserts, no conflict checks, which is
-- what lets the fold outrun ingest), and compaction later merges a month's
-- rows into one per group. Readers sum rows by group, so a month reads the
-- same before and after compaction. Each projection keeps the dimensions
-- its questions need; the others are '' (or 0):
--   province: kind, scope, status, province, current_province, currency
--   zone:     kind, scope, status, current_province, zone, currency
--   country:  kind, scope, status, current_province, country, currency
--   sector:   kind, scope, status, current_province, sector, currency
--   investor: kind, scope, status, current_province, investor, currency
-- The days at the edges of a period that is not whole months are read from
-- the feed's events.
CREATE TABLE rollup (
    projection        text NOT NULL,
    period            date NOT NULL,
    kind              text NOT NULL,
    scope             text NOT NULL,
    status            text NOT NULL,
    province          text NOT NULL,
    current_province  text NOT NULL,
    zone              text NOT NULL,
    country           text NOT NULL,
    sector            text NOT NULL,
    investor          bigint NOT NULL,
    currency          text NOT NULL,
    events            bigint NOT NULL,
    amount            numeric NOT NULL,
    amount_usd        numeric NOT NULL,
    amount_vnd        numeric NOT NULL
);
CREATE INDEX rollup_period ON rollup (projection, period);

-- What compaction needs to know of each projection's month: the rows it
-- left, and the rows folds appended since.
CREATE TABLE rollup_partitions (
    projection      text NOT NULL,
    period          date NOT NULL,
    rows_compacted  bigint NOT NULL DEFAULT 0,
    rows_added      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (projection, period)
);

-- Every event of a project that had more than one `new` (or `termination`)
-- event; `folded_at` is the cursor of the batch that recorded the row, so a
-- follower reads exactly what each batch added.
CREATE TABLE repeats (
    kind              text NOT NULL,
    project_ref       text NOT NULL,
    sequence          bigint NOT NULL,
    event_date        date NOT NULL,
    scope             text NOT NULL,
    status            text NOT NULL,
    province          text NOT NULL,
    current_province  text NOT NULL,
    zone              text NOT NULL,
    country           text NOT NULL,
    sector            text NOT NULL,
    investor          bigint NOT NULL,
    folded_at         bigint NOT NULL,
    PRIMARY KEY (kind, project_ref, sequence)
);
CREATE INDEX repeats_date ON repeats (kind, event_date);
CREATE INDEX repeats_folded_at ON repeats (folded_at);

-- The replica folding the feed (holding the leader's lock), for operators
-- and the replica benchmark.
ALTER TABLE consumer ADD COLUMN leader text NOT NULL DEFAULT '';
ALTER TABLE consumer ADD COLUMN leader_since timestamptz;
UPDATE consumer SET last_sequence = 0, update_time = now();
