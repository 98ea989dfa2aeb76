-- Which profile fields people change themselves in the account portal (a tenant setting): a JSON
-- array of standard field names and custom attribute keys. No row: every standard field.
CREATE TABLE profile_policy (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    editable   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
