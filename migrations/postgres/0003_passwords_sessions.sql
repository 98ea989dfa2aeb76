-- Sign-in: password hashes, browser sessions and authorization codes.
-- Keep in step with ../sqlite/0003_passwords_sessions.sql. Timestamps are Unix milliseconds.

-- An argon2id PHC string (m=19456, t=2, p=1); NULL until a password is set.
ALTER TABLE users ADD COLUMN password_hash TEXT;

-- A browser session. The cookie holds a random secret; only its SHA-256 (hex) is stored, so a
-- copy of the database does not let anyone sign in.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    BIGINT NOT NULL,
    amr          TEXT NOT NULL DEFAULT '[]',
    acr          TEXT,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ended_at     BIGINT
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);

-- An authorization code (RFC 6749 §4.1), stored as the SHA-256 (hex) of the code; single-use.
CREATE TABLE authorization_codes (
    code_hash      TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT NOT NULL,
    auth_time      BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used           BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);
