-- SCIM 2.0 (RFC 7643/7644): tokens, per-tenant settings and the user data SCIM carries.
-- Keep in step with ../postgres/0008_scim.sql. Timestamps are Unix milliseconds.

-- Bearer tokens of a tenant's SCIM service, stored only as the SHA-256 (hex) of the secret.
CREATE TABLE scim_tokens (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX scim_tokens_tenant ON scim_tokens (tenant_id);

-- What a SCIM DELETE of a user does in Castellan (the user is gone from SCIM in every case).
CREATE TABLE scim_settings (
    tenant_id     TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    delete_action TEXT NOT NULL DEFAULT 'deactivate' CHECK (delete_action IN ('deactivate', 'delete', 'anonymise')),
    updated_at    BIGINT NOT NULL
);

-- Core (RFC 7643 §4.1) and enterprise (§4.3) user attributes Castellan keeps.
ALTER TABLE users ADD COLUMN middle_name TEXT;
ALTER TABLE users ADD COLUMN honorific_prefix TEXT;
ALTER TABLE users ADD COLUMN honorific_suffix TEXT;
ALTER TABLE users ADD COLUMN nick_name TEXT;
ALTER TABLE users ADD COLUMN title TEXT;
ALTER TABLE users ADD COLUMN user_type TEXT;
ALTER TABLE users ADD COLUMN preferred_language TEXT;
ALTER TABLE users ADD COLUMN employee_number TEXT;
ALTER TABLE users ADD COLUMN cost_center TEXT;
ALTER TABLE users ADD COLUMN organization TEXT;
ALTER TABLE users ADD COLUMN division TEXT;
ALTER TABLE users ADD COLUMN department TEXT;
-- Set when a SCIM DELETE deactivated the user: SCIM answers 404 for them from then on.
ALTER TABLE users ADD COLUMN scim_removed BOOLEAN NOT NULL DEFAULT FALSE;

-- A user's email addresses (SCIM `emails`). users.email is the sign-in email: the primary one.
CREATE TABLE user_emails (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    value      TEXT NOT NULL,
    value_norm TEXT NOT NULL,
    type       TEXT,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (user_id, position)
);
CREATE INDEX user_emails_value ON user_emails (tenant_id, value_norm);
INSERT INTO user_emails (user_id, tenant_id, position, value, value_norm, type, is_primary)
    SELECT id, tenant_id, 0, email, email_norm, NULL, TRUE FROM users;

-- The manager a directory set (SCIM enterprise `manager`) is one of the user's management relations.
ALTER TABLE management ADD COLUMN from_scim BOOLEAN NOT NULL DEFAULT FALSE;
CREATE UNIQUE INDEX management_one_scim_manager ON management (target_user_id) WHERE from_scim;

CREATE INDEX groups_external_id ON groups (tenant_id, external_id);
