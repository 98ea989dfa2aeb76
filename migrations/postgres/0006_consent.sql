-- Consent to third-party apps, and the client assertions (private_key_jwt) already used.
-- Keep in step with ../sqlite/0006_consent.sql. Timestamps are Unix milliseconds; lists are JSON text.

-- What a user allowed a third-party client (OpenID Connect Core §3.1.2.4): the scopes consented
-- so far, one row per (tenant, user, client). Gone with the user or the client.
CREATE TABLE consents (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, client_id)
);
CREATE INDEX consents_client ON consents (client_id);

-- The `jti` of every client assertion (RFC 7523 §3) until it expires, so none is used twice.
CREATE TABLE client_assertion_jtis (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jtis_expires ON client_assertion_jtis (expires_at);
