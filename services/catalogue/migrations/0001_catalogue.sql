-- The catalogue's reference data: provinces with the 2025 merger lineage,
-- zones (industrial parks, clusters, economic zones) and investors.
-- Applied with search_path = catalogue.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE provinces (
    code              text PRIMARY KEY,
    name_vi           text NOT NULL,
    name_en           text NOT NULL,
    name_ascii        text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('province', 'city')),
    -- NULL for the 34 current units; the absorbing unit for the 29 merged ones.
    merged_into       text REFERENCES provinces (code),
    merge_effective   date,
    gso_code_pre2025  text NOT NULL DEFAULT '',
    gso_code_2025     text NOT NULL DEFAULT '',
    aliases           text[] NOT NULL DEFAULT '{}',
    notes             text NOT NULL DEFAULT '',
    CHECK ((merged_into IS NULL) = (merge_effective IS NULL))
);

CREATE TABLE zones (
    id                      text PRIMARY KEY,
    display_name            text NOT NULL,
    kind                    text NOT NULL CHECK (kind IN ('industrial_park', 'industrial_cluster', 'economic_zone', 'high_tech_park')),
    -- Today's province, and the province as originally recorded (a pre-2025 unit where relevant).
    province_code           text NOT NULL REFERENCES provinces (code),
    original_province_code  text NOT NULL REFERENCES provinces (code),
    area_ha                 double precision CHECK (area_ha IS NULL OR area_ha > 0),
    status                  text NOT NULL DEFAULT '',
    developer               text NOT NULL DEFAULT '',
    aliases                 text[] NOT NULL DEFAULT '{}',
    notes                   text NOT NULL DEFAULT '',
    source_url              text NOT NULL DEFAULT '',
    revision                bigint NOT NULL DEFAULT 1,
    create_time             timestamptz NOT NULL DEFAULT now(),
    update_time             timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX zones_province ON zones (province_code, id);
CREATE INDEX zones_original_province ON zones (original_province_code);

CREATE TABLE investors (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    display_name  text NOT NULL,
    -- Folded name without legal-form words: "Foxconn Singapore Pte. Ltd." and
    -- "FOXCONN SINGAPORE" are one investor.
    match_key     text NOT NULL UNIQUE,
    aliases       text[] NOT NULL DEFAULT '{}',
    country_code  text NOT NULL DEFAULT '' CHECK (country_code = '' OR country_code ~ '^[A-Z]{2}$'),
    create_time   timestamptz NOT NULL DEFAULT now()
);

-- Every name an investor is known by (legal name and aliases), folded, for exact resolution.
CREATE TABLE investor_keys (
    match_key    text PRIMARY KEY,
    investor_id  bigint NOT NULL REFERENCES investors (id) ON DELETE CASCADE
);

-- Near-name suggestions for unknown investors use pg_trgm's similarity over
-- investor_keys without a trigram index: a GIN trigram index made creating
-- investors in bulk (ingest's EnsureInvestors) about ten times slower, and a
-- scan of the keys answers a suggestion in milliseconds at 10^5 investors.
CREATE INDEX investors_country ON investors (country_code, id);
