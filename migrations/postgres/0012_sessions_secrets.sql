-- Sessions that rotate their secret, expire when idle, and may be remembered; the master key
-- check for secrets sealed at rest. Keep in step with ../sqlite/0012_sessions_secrets.sql.

-- The SHA-256 (hex) of the secret in the session cookie. It changes whenever the session's
-- level changes (second factor, step-up), so a cookie copied earlier stops working; `id` stays
-- (it is the `sid` of ID tokens and what codes, grants and ceremonies refer to).
ALTER TABLE sessions ADD COLUMN secret_hash TEXT;
UPDATE sessions SET secret_hash = id;
CREATE UNIQUE INDEX sessions_secret ON sessions (secret_hash);
-- Signed in with "remember me": the longer lifetimes of the tenant's session settings apply.
ALTER TABLE sessions ADD COLUMN remember BOOLEAN NOT NULL DEFAULT FALSE;

-- A tenant's session lifetimes (seconds); a tenant without a row has the defaults.
CREATE TABLE session_settings (
    tenant_id                     TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    idle_timeout_secs             BIGINT NOT NULL,
    max_lifetime_secs             BIGINT NOT NULL,
    remember_me                   BOOLEAN NOT NULL,
    remember_me_idle_timeout_secs BIGINT NOT NULL,
    remember_me_max_lifetime_secs BIGINT NOT NULL,
    updated_at                    BIGINT NOT NULL
);

-- TOTP seeds (totp_factors.secret) and signing keys (signing_keys.private_pkcs8) are sealed
-- with AES-256-GCM under the master key, which is never stored here. This one row holds a value
-- sealed the same way, so a wrong master key is found at start, before anything is read.
CREATE TABLE master_key_check (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key_id     TEXT,
    canary     TEXT,
    updated_at BIGINT
);
INSERT INTO master_key_check (id) VALUES (1);
