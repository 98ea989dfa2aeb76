-- More SCIM user attributes (RFC 7643 §4.1.2): phoneNumbers, ims, photos, x509Certificates and
-- addresses. Keep in step with ../postgres/0009_scim_more.sql.

-- The multi-valued attributes shaped {value, display, type, primary}, one row per value.
CREATE TABLE user_values (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    attribute  TEXT NOT NULL CHECK (attribute IN ('phoneNumbers', 'ims', 'photos', 'x509Certificates')),
    position   INTEGER NOT NULL,
    value      TEXT NOT NULL,
    value_norm TEXT NOT NULL,
    display    TEXT,
    type       TEXT,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (user_id, attribute, position)
);
CREATE INDEX user_values_value ON user_values (tenant_id, attribute, value_norm);

-- Postal addresses, one row per address.
CREATE TABLE user_addresses (
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    type           TEXT,
    is_primary     BOOLEAN NOT NULL DEFAULT FALSE,
    formatted      TEXT,
    street_address TEXT,
    locality       TEXT,
    region         TEXT,
    postal_code    TEXT,
    country        TEXT,
    PRIMARY KEY (user_id, position)
);
CREATE INDEX user_addresses_tenant ON user_addresses (tenant_id, user_id);
