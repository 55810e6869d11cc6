-- Investment events, exactly once; rows held for missing reference data;
-- bulk-load progress; exchange rates; province targets.
-- Applied with search_path = ingest.

CREATE SEQUENCE event_sequence AS bigint;

CREATE TABLE events (
    -- Commit order: allocated under a transaction-level advisory lock, so a
    -- consumer reading "sequence > last seen" never skips a later commit.
    sequence               bigint PRIMARY KEY,
    idempotency_key        text NOT NULL UNIQUE,
    -- Digest of the row as sent: same key + same digest = duplicate, else conflict.
    content_digest         bytea NOT NULL,
    kind                   text NOT NULL CHECK (kind IN ('new', 'adjustment', 'share_purchase', 'disbursement', 'termination')),
    event_date             date NOT NULL,
    project_ref            text NOT NULL,
    project_name           text NOT NULL DEFAULT '',
    investor_id            bigint,
    investor_text          text NOT NULL DEFAULT '',
    investor_country       text NOT NULL DEFAULT '',
    zone_id                text,
    -- The province as recorded on the event, and the province it belongs to today.
    province_code          text NOT NULL,
    current_province_code  text NOT NULL,
    sector                 text NOT NULL DEFAULT '',
    amount                 numeric,
    currency               text,
    amount_usd             numeric,
    amount_vnd             numeric,
    scope                  text NOT NULL CHECK (scope IN ('fdi', 'ddi')),
    status                 text NOT NULL CHECK (status IN ('reported', 'estimated')),
    source                 text NOT NULL DEFAULT '',
    load_id                text,
    load_offset            bigint,
    create_time            timestamptz NOT NULL DEFAULT now(),
    CHECK ((amount IS NULL) = (currency IS NULL))
);

CREATE INDEX events_province_date ON events (current_province_code, event_date);
CREATE INDEX events_recorded_province ON events (province_code);
CREATE INDEX events_zone ON events (zone_id) WHERE zone_id IS NOT NULL;
CREATE INDEX events_investor ON events (investor_id) WHERE investor_id IS NOT NULL;
CREATE INDEX events_date ON events (event_date);

CREATE TABLE held_rows (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- One held row per idempotency key: re-sending a held row does not duplicate it.
    idempotency_key  text NOT NULL UNIQUE,
    content_digest   bytea NOT NULL,
    row_data         jsonb NOT NULL,
    reason           text NOT NULL CHECK (reason IN ('unknown_province', 'unknown_zone', 'no_exchange_rate')),
    detail           text NOT NULL DEFAULT '',
    load_id          text NOT NULL DEFAULT '',
    load_offset      bigint NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 1,
    create_time      timestamptz NOT NULL DEFAULT now(),
    update_time      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX held_rows_reason ON held_rows (reason, id);

CREATE TABLE bulk_loads (
    load_id         text PRIMARY KEY,
    offset_reached  bigint NOT NULL DEFAULT 0,
    accepted        bigint NOT NULL DEFAULT 0,
    duplicates      bigint NOT NULL DEFAULT 0,
    held            bigint NOT NULL DEFAULT 0,
    rejected        bigint NOT NULL DEFAULT 0,
    create_time     timestamptz NOT NULL DEFAULT now(),
    update_time     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE exchange_rates (
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- 'YYYY-MM' (monthly average) or 'YYYY' (annual average, used where no monthly rate exists).
    period        text NOT NULL CHECK (period ~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$'),
    vnd_per_unit  numeric NOT NULL CHECK (vnd_per_unit > 0),
    source        text NOT NULL DEFAULT '',
    PRIMARY KEY (currency, period)
);

CREATE TABLE targets (
    province_code  text NOT NULL,
    year           integer NOT NULL CHECK (year BETWEEN 1988 AND 2100),
    figure         text NOT NULL,
    scope          text NOT NULL CHECK (scope IN ('fdi', 'ddi', 'all')),
    amount         numeric,
    currency       text,
    count          bigint,
    source         text NOT NULL DEFAULT '',
    update_time    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (province_code, year, figure, scope),
    CHECK ((amount IS NULL) = (currency IS NULL) AND ((amount IS NULL) <> (count IS NULL)))
);
