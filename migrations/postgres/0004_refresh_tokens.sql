-- Refresh tokens (rotated, with reuse detection) and revocation (RFC 7009).
-- Keep in step with ../sqlite/0004_refresh_tokens.sql. Timestamps are Unix milliseconds.

-- A grant: what one authorization code gave one client for one user. Every refresh token of
-- the chain belongs to it, and revoking it (reuse detected, revocation endpoint, user
-- deactivated) ends them all, and the access tokens that name it (claim `gid`).
-- A grant without offline_access lives only as long as its session; the session row may be
-- deleted (anonymisation), which leaves session_id NULL and the grant unusable.
CREATE TABLE grants (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id     TEXT REFERENCES sessions (id) ON DELETE SET NULL,
    offline        BOOLEAN NOT NULL,
    scope          TEXT NOT NULL,
    auth_time      BIGINT NOT NULL,
    amr            TEXT NOT NULL DEFAULT '[]',
    acr            TEXT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_reason TEXT
);
CREATE INDEX grants_user ON grants (tenant_id, user_id);
CREATE INDEX grants_session ON grants (session_id);
CREATE INDEX grants_expires ON grants (expires_at);

-- A refresh token, stored as the SHA-256 (hex) of the token. A used token is kept (used_at set)
-- so that presenting it again is recognised as reuse.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    grant_id    TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

-- Access tokens revoked one by one (RFC 7009): their jti until they would have expired.
CREATE TABLE revoked_access_tokens (
    jti         TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX revoked_access_tokens_expires ON revoked_access_tokens (expires_at);

-- Per client: how long a refresh token may wait for its use (seconds), and the size budget of a
-- token's claims (bytes of JSON) past which `permissions` moves out of the token to userinfo.
ALTER TABLE clients ADD COLUMN refresh_token_ttl BIGINT NOT NULL DEFAULT 2592000
    CHECK (refresh_token_ttl BETWEEN 60 AND 31536000);
ALTER TABLE clients ADD COLUMN token_claims_budget BIGINT NOT NULL DEFAULT 8192
    CHECK (token_claims_budget BETWEEN 1024 AND 65536);
