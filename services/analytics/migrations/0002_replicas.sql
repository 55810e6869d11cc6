-- Rollups for many replicas: reported and estimated events kept apart, the
-- repeated projects' rows stamped with the batch that recorded them (so a
-- follower replica folds the same rows into memory as the leader folded into
-- SQL), and the leader named on the cursor. The rollups are derived data:
-- they are emptied here and the consumer rebuilds them from the feed.
-- Applied with search_path = analytics.

DROP TABLE rollup;
DROP TABLE repeats;
TRUNCATE projects_seen;

-- Sums of events by projection, grain and period, as in 0001, with each
-- event's status (reported or estimated) as one more dimension.
CREATE TABLE rollup (
    projection        text NOT NULL,
    grain             char(1) NOT NULL CHECK (grain IN ('d', 'm')),
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
    amount_vnd        numeric NOT NULL,
    PRIMARY KEY (projection, grain, current_province, period, kind, scope, status, province, zone, country, sector,
                 investor, currency)
) WITH (fillfactor = 80);
-- Room on each page lets the fold's updates stay heap-only (no index writes).
CREATE INDEX rollup_period ON rollup (projection, grain, period);

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
