-- Rollups of ingest's events, kept incrementally and exactly once.
-- Applied with search_path = analytics. Reads ingest.events, ingest's
-- published feed: rows in commit order by `sequence`.

-- How far the rollups have consumed the feed (one row).
CREATE TABLE consumer (
    id             integer PRIMARY KEY CHECK (id = 1),
    last_sequence  bigint NOT NULL,
    update_time    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO consumer (id, last_sequence) VALUES (1, 0);

-- Sums of events by projection, grain and period. Each projection keeps the
-- dimensions its questions need; the others are '' (or 0):
--   province: kind, scope, province, current_province, currency  (days and months)
--   zone:     kind, scope, current_province, zone, currency        (months)
--   country:  kind, scope, province, current_province, country, currency
--   sector:   kind, scope, province, current_province, sector, currency
--   investor: kind, scope, province, current_province, investor, currency
CREATE TABLE rollup (
    projection        text NOT NULL,
    grain             char(1) NOT NULL CHECK (grain IN ('d', 'm')),
    period            date NOT NULL,
    kind              text NOT NULL,
    scope             text NOT NULL,
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
    PRIMARY KEY (projection, grain, current_province, period, kind, scope, province, zone, country, sector, investor, currency)
);
CREATE INDEX rollup_period ON rollup (projection, grain, period);

-- Projects seen with a `new` or `termination` event, to count distinct projects.
CREATE TABLE projects_seen (
    kind            text NOT NULL,
    project_ref     text NOT NULL,
    first_sequence  bigint NOT NULL,
    PRIMARY KEY (kind, project_ref)
);

-- Every event of a project that had more than one `new` (or `termination`)
-- event: rollups count events, and the figures subtract the repeats found here
-- (rare: a re-issued certificate), so distinct-project counts stay exact.
CREATE TABLE repeats (
    kind              text NOT NULL,
    project_ref       text NOT NULL,
    sequence          bigint NOT NULL,
    event_date        date NOT NULL,
    scope             text NOT NULL,
    province          text NOT NULL,
    current_province  text NOT NULL,
    zone              text NOT NULL,
    country           text NOT NULL,
    sector            text NOT NULL,
    investor          bigint NOT NULL,
    PRIMARY KEY (kind, project_ref, sequence)
);
CREATE INDEX repeats_date ON repeats (kind, event_date);
