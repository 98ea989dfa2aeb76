-- Single-use links that let a person set a password without signing in first: the owner's
-- first-start link (purpose `owner_setup`); invitations and password resets will use the same
-- table. Only the SHA-256 of a link's secret is stored; a link works once, until it expires,
-- and a new link for the same person and purpose replaces the old one.
CREATE TABLE user_links (
    token_hash TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX user_links_user ON user_links (tenant_id, user_id, purpose);
