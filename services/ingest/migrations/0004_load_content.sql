-- A bulk load is bound to its content: the running digest of every row
-- before offset_reached (fdi_kit::load_digest), advanced with the offset.
-- Empty for a load with no rows. Loads begun before this migration have an
-- empty digest with a positive offset, so they cannot be resumed: start
-- them again under a new load id (recorded rows come back as duplicates).
ALTER TABLE bulk_loads ADD COLUMN content_digest bytea NOT NULL DEFAULT '\x';
