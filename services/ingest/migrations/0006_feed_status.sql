-- The events feed gains the event's status, appended as the view's last
-- column (a reader naming the existing columns sees no change, so this is
-- still version 1 of the feed): analytics keeps estimated events (promoted
-- from news) apart from reported ones.
-- Applied with search_path = ingest.

CREATE OR REPLACE VIEW feed_events_v1 AS
SELECT sequence, kind, scope, event_date, project_ref, investor_id, investor_country, zone_id,
       province_code, current_province_code, sector, amount, currency, amount_usd, amount_vnd, create_time,
       status
FROM events;

COMMENT ON COLUMN feed_events_v1.status IS
    'reported (from a register or board) or estimated (promoted from a news document); figures count reported events unless asked to include estimates.';
