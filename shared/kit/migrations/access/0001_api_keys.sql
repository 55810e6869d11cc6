-- API keys, shared by every service: each checks callers against this table.
-- Only a hash of each key's secret is stored (Argon2id, PHC string format).
CREATE TABLE api_keys (
    key_id      text PRIMARY KEY,
    secret_hash text NOT NULL,
    role        text NOT NULL CHECK (role IN ('reader', 'writer', 'curator', 'admin', 'service')),
    provinces   text[] NOT NULL DEFAULT '{}',
    description text NOT NULL DEFAULT '',
    creator     text NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now(),
    expire_time timestamptz,
    revoke_time timestamptz,
    CHECK (role <> 'writer' OR cardinality(provinces) > 0)
);

CREATE INDEX api_keys_newest ON api_keys (create_time DESC, key_id DESC);
