-- News documents and the figures extracted from them, with their evidence.

CREATE TABLE documents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- A re-sent URL, or the same text under another URL, is the same document.
    url             text UNIQUE,
    content_sha256  text NOT NULL UNIQUE,
    title           text NOT NULL DEFAULT '',
    published       date NOT NULL,
    language        text NOT NULL,
    body            text NOT NULL,
    -- The whole extraction (money, counts, statistics, projects) as the library returned it.
    extraction      jsonb NOT NULL,
    create_time     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reported_statistics (
    document_id       bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ordinal           integer NOT NULL,
    province          text NOT NULL,
    current_province  text NOT NULL,
    metric            text NOT NULL,
    amount            numeric,
    currency          text,
    count             bigint,
    -- NULL for a running total "to date".
    period_start      date,
    period_end        date NOT NULL,
    scope             text NOT NULL,
    span_start        integer NOT NULL,
    span_end          integer NOT NULL,
    sentence          text NOT NULL,
    PRIMARY KEY (document_id, ordinal)
);
CREATE INDEX reported_statistics_province ON reported_statistics (current_province, metric, period_end);

CREATE TABLE reported_projects (
    document_id       bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ordinal           integer NOT NULL,
    investor          text NOT NULL,
    investor_id       bigint,
    investor_country  text NOT NULL DEFAULT '',
    zone              text NOT NULL DEFAULT '',
    -- The catalogue zone the text names, when known.
    zone_id           text,
    province          text NOT NULL DEFAULT '',
    amount            numeric NOT NULL,
    currency          text NOT NULL,
    kind              text NOT NULL,
    span_start        integer NOT NULL,
    span_end          integer NOT NULL,
    sentence          text NOT NULL,
    -- The event this project was promoted to.
    event_sequence    bigint,
    PRIMARY KEY (document_id, ordinal)
);
