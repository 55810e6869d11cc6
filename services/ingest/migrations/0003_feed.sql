-- The feed ingest publishes: versioned views naming exactly the columns
-- another service (analytics) may read, each with its meaning. This file is
-- the contract; the view names are the constants of `fdi_kit::feed`.
--
-- Readers use these views, never ingest's tables, so the tables may change
-- as long as every view keeps its columns and their meaning. A change that
-- breaks a view's contract adds a new version (`feed_events_v2`) beside the
-- old one, which stays until no reader uses it.
--
-- Plain views: PostgreSQL inlines them into the reader's query, so the
-- tables' indexes serve it as before (the consumer's
-- `sequence > $1 ORDER BY sequence LIMIT $2` walks the primary key).
-- After each commit of events ingest sends a notification on the channel
-- `fdi_ingest_events` whose payload is the highest sequence committed.
-- Applied with search_path = ingest.

CREATE VIEW feed_events_v1 AS
SELECT sequence, kind, scope, event_date, project_ref, investor_id, investor_country, zone_id,
       province_code, current_province_code, sector, amount, currency, amount_usd, amount_vnd, create_time
FROM events;

COMMENT ON VIEW feed_events_v1 IS
    'Every recorded investment event, once, in commit order (sequence): version 1 of the events feed.';
COMMENT ON COLUMN feed_events_v1.sequence IS
    'Commit order: unique and increasing in commit order, so a reader that has every event up to N and reads sequence > N never misses a later commit.';
COMMENT ON COLUMN feed_events_v1.kind IS
    'What happened: new, adjustment, share_purchase, disbursement or termination.';
COMMENT ON COLUMN feed_events_v1.scope IS
    'fdi (the investor is foreign) or ddi (domestic).';
COMMENT ON COLUMN feed_events_v1.event_date IS
    'Date of the certificate, decision or disbursement.';
COMMENT ON COLUMN feed_events_v1.project_ref IS
    'The project: its certificate number, else the sender''s own stable id; events of one project share it.';
COMMENT ON COLUMN feed_events_v1.investor_id IS
    'The investor''s id in the catalogue (investors/{id}); NULL when the row named no investor.';
COMMENT ON COLUMN feed_events_v1.investor_country IS
    'ISO 3166-1 alpha-2 home country of the investor; empty when unknown.';
COMMENT ON COLUMN feed_events_v1.zone_id IS
    'The catalogue id of the industrial park, cluster or economic zone (zones/{id}); NULL when none.';
COMMENT ON COLUMN feed_events_v1.province_code IS
    'The province as recorded on the event: before the merger of 2025-07-01, a pre-merger province code.';
COMMENT ON COLUMN feed_events_v1.current_province_code IS
    'The province that province_code belongs to today (itself when it was not merged).';
COMMENT ON COLUMN feed_events_v1.sector IS
    'VSIC 2018 / ISIC Rev.4 code or section letter; empty when unknown.';
COMMENT ON COLUMN feed_events_v1.amount IS
    'The amount exactly as sent, in currency (negative for a capital reduction); NULL when the event has none (a termination may not).';
COMMENT ON COLUMN feed_events_v1.currency IS
    'ISO 4217 code of amount; NULL exactly when amount is NULL.';
COMMENT ON COLUMN feed_events_v1.amount_usd IS
    'amount in US dollars at the event month''s average rate (the year''s where no monthly rate exists); NULL when amount is NULL.';
COMMENT ON COLUMN feed_events_v1.amount_vnd IS
    'amount in Vietnamese dong at the same rate; NULL when amount is NULL.';
COMMENT ON COLUMN feed_events_v1.create_time IS
    'When ingest recorded the event (the database''s clock).';

CREATE VIEW feed_targets_v1 AS
SELECT province_code, year, figure, scope, amount, currency, count
FROM targets;

COMMENT ON VIEW feed_targets_v1 IS
    'Province targets by year, figure and scope, at most one each: version 1 of the targets feed.';
COMMENT ON COLUMN feed_targets_v1.province_code IS
    'The province the target was set for, as named when it was set (a pre-merger code stays itself).';
COMMENT ON COLUMN feed_targets_v1.year IS
    'The calendar year of the target (1988 to 2100).';
COMMENT ON COLUMN feed_targets_v1.figure IS
    'The figure''s stored name, e.g. total_capital, new_projects (fdi_kit::figures::name).';
COMMENT ON COLUMN feed_targets_v1.scope IS
    'fdi, ddi or all.';
COMMENT ON COLUMN feed_targets_v1.amount IS
    'The target amount, in currency, for money figures; NULL for counts.';
COMMENT ON COLUMN feed_targets_v1.currency IS
    'ISO 4217 code of amount; NULL exactly when amount is NULL.';
COMMENT ON COLUMN feed_targets_v1.count IS
    'The target count, for project-count figures; NULL exactly when amount is set.';

CREATE VIEW feed_reported_statistics_v1 AS
SELECT document_id, province, period_start, period_end, scope, metric, amount, currency, count
FROM reported_statistics;

COMMENT ON VIEW feed_reported_statistics_v1 IS
    'Province figures that news documents report, one row per statement: version 1 of the reported-statistics feed.';
COMMENT ON COLUMN feed_reported_statistics_v1.document_id IS
    'The document it comes from (documents/{id}); ids increase as documents are stored, so the highest is the latest.';
COMMENT ON COLUMN feed_reported_statistics_v1.province IS
    'The province code as named in the text: a pre-merger name stays the pre-merger unit.';
COMMENT ON COLUMN feed_reported_statistics_v1.period_start IS
    'First day of the period reported; NULL for a running total "to date".';
COMMENT ON COLUMN feed_reported_statistics_v1.period_end IS
    'Last day of the period reported.';
COMMENT ON COLUMN feed_reported_statistics_v1.scope IS
    'fdi, ddi or all.';
COMMENT ON COLUMN feed_reported_statistics_v1.metric IS
    'What was reported: a figure''s stored name (new_capital, new_projects, ...) or target_capital.';
COMMENT ON COLUMN feed_reported_statistics_v1.amount IS
    'The amount reported, in currency, for money metrics; NULL for counts.';
COMMENT ON COLUMN feed_reported_statistics_v1.currency IS
    'ISO 4217 code of amount; NULL when amount is NULL.';
COMMENT ON COLUMN feed_reported_statistics_v1.count IS
    'The count reported, for project metrics; NULL for amounts.';
