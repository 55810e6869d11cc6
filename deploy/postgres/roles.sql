-- Least privilege in PostgreSQL: the roles of FDI Atlas and every right each has.
--
-- Applied by `fdi db roles --admin-url postgres://<superuser>@<host>/<database>` (cli/src/db_roles.rs),
-- in one transaction, on the database the services use; the command then sets the roles' passwords,
-- which never appear here. It can be applied by hand too (`psql -1 -v ON_ERROR_STOP=1 -f roles.sql`,
-- then `\password` for each role). Every statement is idempotent, so it is safe to run again, and it
-- must run again after a migration that adds a feed view (a new `ingest.feed_*_vN`): only then may
-- analytics read it.
--
--   fdi_owner      owns the four schemas and everything in them; the migrations run as it
--                  (FDI_MIGRATION_DATABASE_URL). No service serves as it.
--   fdi_catalogue  the catalogue at run time: reads and writes its schema's tables; reads and writes
--                  access.api_keys (it serves AccessService).
--   fdi_ingest     ingest: reads and writes its schema's tables; reads access.api_keys.
--   fdi_analytics  analytics: reads and writes its schema's tables; reads ingest's feed views, nothing
--                  else of ingest's; reads access.api_keys.
--
-- No service role owns anything or may CREATE in any schema, its own included, so none can run DDL
-- (CREATE, ALTER, DROP): a service that is broken into can change rows of its own schema, never the
-- shape of the database nor another service's data. LISTEN and NOTIFY (ingest's `fdi_ingest_events`,
-- analytics' resets, the catalogue replicas' `fdi_catalogue_changes`) need no grant; `pg_notify()` is
-- PUBLIC's to execute, which nothing here revokes.
--
-- A right granted ON ALL TABLES covers the tables that exist now; ALTER DEFAULT PRIVILEGES FOR ROLE
-- fdi_owner covers those its later migrations create. The feed views are granted one by one instead,
-- since a default privilege cannot tell a feed view from one of ingest's tables.

-- The roles, made when missing. Each may log in and nothing more, whatever it could before: not a
-- superuser, no making roles or databases, no replication, no bypassing row security.
DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['fdi_owner', 'fdi_catalogue', 'fdi_ingest', 'fdi_analytics'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('CREATE ROLE %I', role_name);
        END IF;
        EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
                       role_name);
    END LOOP;
END
$$;

-- The database.
DO $$
BEGIN
    -- Every role may connect. PUBLIC may by default; granted here so the roles keep working where an
    -- administrator has revoked that.
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO fdi_owner, fdi_catalogue, fdi_ingest, fdi_analytics',
                   current_database());
    -- The migrations create their schema when missing (`CREATE SCHEMA IF NOT EXISTS`, which PostgreSQL
    -- checks even when the schema exists) and the catalogue's creates the trusted extension pg_trgm:
    -- both need CREATE on the database, which only the owner has.
    EXECUTE format('GRANT CREATE ON DATABASE %I TO fdi_owner', current_database());
    EXECUTE format('REVOKE CREATE ON DATABASE %I FROM fdi_catalogue, fdi_ingest, fdi_analytics',
                   current_database());
END
$$;

-- Nobody but its owner may create objects in schema public. PostgreSQL 15 and later already ship so
-- (PUBLIC keeps only USAGE there); this makes older clusters, and databases upgraded from them, the same.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_namespace WHERE nspname = 'public') THEN
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
        REVOKE CREATE ON SCHEMA public FROM fdi_catalogue, fdi_ingest, fdi_analytics;
    END IF;
END
$$;

-- The four schemas, owned by fdi_owner: made here when missing, so the services' own roles never need
-- to make them; taken over when they were made before by another role (a database `fdi up` or an earlier
-- deployment migrated).
CREATE SCHEMA IF NOT EXISTS catalogue AUTHORIZATION fdi_owner;
CREATE SCHEMA IF NOT EXISTS ingest AUTHORIZATION fdi_owner;
CREATE SCHEMA IF NOT EXISTS analytics AUTHORIZATION fdi_owner;
CREATE SCHEMA IF NOT EXISTS access AUTHORIZATION fdi_owner;
ALTER SCHEMA catalogue OWNER TO fdi_owner;
ALTER SCHEMA ingest OWNER TO fdi_owner;
ALTER SCHEMA analytics OWNER TO fdi_owner;
ALTER SCHEMA access OWNER TO fdi_owner;

-- Everything in them is fdi_owner's too, so its later migrations may alter what earlier ones made, and no
-- other role keeps an owner's rights over it. A sequence that belongs to a column (identity) follows its
-- table; the members of an extension (pg_trgm's functions) stay with the extension.
DO $$
DECLARE
    relation record;
BEGIN
    FOR relation IN
        SELECT c.oid::regclass AS name,
               CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('catalogue', 'ingest', 'analytics', 'access')
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND c.relowner <> 'fdi_owner'::regrole
          AND NOT EXISTS (SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                            AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('a', 'i'))))
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO fdi_owner', relation.kind, relation.name);
    END LOOP;
END
$$;

-- No right on the four schemas but those below: PUBLIC has none on a new schema, and none is left on one
-- taken over; no service role may CREATE in any of them, its own included.
REVOKE ALL ON SCHEMA catalogue, ingest, analytics, access FROM PUBLIC;
REVOKE CREATE ON SCHEMA catalogue, ingest, analytics, access FROM fdi_catalogue, fdi_ingest, fdi_analytics;

-- catalogue: provinces, zones, investors. Only the catalogue may name anything here (USAGE), and it reads
-- and writes the rows (DML only; it never truncates). Its sequences (investor ids) are USAGE and SELECT:
-- nextval and currval, never setval.
GRANT USAGE ON SCHEMA catalogue TO fdi_catalogue;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA catalogue TO fdi_catalogue;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA catalogue TO fdi_catalogue;
ALTER DEFAULT PRIVILEGES FOR ROLE fdi_owner IN SCHEMA catalogue
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO fdi_catalogue;
ALTER DEFAULT PRIVILEGES FOR ROLE fdi_owner IN SCHEMA catalogue
    GRANT USAGE, SELECT ON SEQUENCES TO fdi_catalogue;

-- ingest: events, held rows, loads, rates, targets, documents, and the feed views. Ingest reads and writes
-- its rows; its sequences are the events' commit order (`event_sequence`) and identity ids.
GRANT USAGE ON SCHEMA ingest TO fdi_ingest;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ingest TO fdi_ingest;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ingest TO fdi_ingest;
ALTER DEFAULT PRIVILEGES FOR ROLE fdi_owner IN SCHEMA ingest
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO fdi_ingest;
ALTER DEFAULT PRIVILEGES FOR ROLE fdi_owner IN SCHEMA ingest
    GRANT USAGE, SELECT ON SEQUENCES TO fdi_ingest;

-- analytics: the rollups and the consumer's cursor. Analytics reads and writes them, and TRUNCATE too:
-- `fdi rebuild-rollups` (consumer::reset) empties the rollups that way. It has no sequences today; any a
-- later migration makes are covered.
GRANT USAGE ON SCHEMA analytics TO fdi_analytics;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA analytics TO fdi_analytics;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA analytics TO fdi_analytics;
ALTER DEFAULT PRIVILEGES FOR ROLE fdi_owner IN SCHEMA analytics
    GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO fdi_analytics;
ALTER DEFAULT PRIVILEGES FOR ROLE fdi_owner IN SCHEMA analytics
    GRANT USAGE, SELECT ON SEQUENCES TO fdi_analytics;

-- access: the API keys. Every service checks its callers against them, so all three read them.
GRANT USAGE ON SCHEMA access TO fdi_catalogue, fdi_ingest, fdi_analytics;
GRANT SELECT ON ALL TABLES IN SCHEMA access TO fdi_catalogue, fdi_ingest, fdi_analytics;
ALTER DEFAULT PRIVILEGES FOR ROLE fdi_owner IN SCHEMA access
    GRANT SELECT ON TABLES TO fdi_catalogue, fdi_ingest, fdi_analytics;
-- Only the catalogue writes them: it serves AccessService (CreateApiKey inserts, RevokeApiKey updates).
-- Keys are revoked, never deleted. The schema holds the key table and its migration ledger only.
GRANT INSERT, UPDATE ON ALL TABLES IN SCHEMA access TO fdi_catalogue;
ALTER DEFAULT PRIVILEGES FOR ROLE fdi_owner IN SCHEMA access
    GRANT INSERT, UPDATE ON TABLES TO fdi_catalogue;

-- Ingest's published feed, the one way analytics sees ingest's data (ARCHITECTURE.md, "The boundary
-- between ingest and analytics"). USAGE on the schema lets analytics name what is in it; SELECT on each
-- feed view (`feed_events_v1`, `feed_targets_v1`, `feed_reported_statistics_v1` today; every view named
-- `feed_<name>_v<N>`, so a `_v2` is covered once this runs again) lets it read them. A plain view reads
-- ingest's tables with its owner's (fdi_owner's) rights, so analytics needs, and has, no right on those
-- tables. On a new database the views come with ingest's migrations, after this first runs: run it again
-- then (`fdi db roles` says so).
GRANT USAGE ON SCHEMA ingest TO fdi_analytics;
DO $$
DECLARE
    feed_view regclass;
BEGIN
    FOR feed_view IN
        SELECT c.oid::regclass
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'ingest' AND c.relkind = 'v' AND c.relname ~ '^feed_[a-z0-9_]+_v[0-9]+$'
    LOOP
        EXECUTE format('GRANT SELECT ON %s TO fdi_analytics', feed_view);
    END LOOP;
END
$$;
