-- OpenID Connect: signing keys, clients (apps) and the service roles clients hold.
-- Keep in step with ../sqlite/0002_oidc.sql. Timestamps are Unix milliseconds; lists are JSON text.

-- Every replica signs with the same keys: the private key (PKCS#8 DER, base64) lives here.
-- Per tenant and algorithm: at most one `next` (published, not yet signing) and one `active`
-- (signing); `retired` keys stay published until `publish_until`.
CREATE TABLE signing_keys (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kid            TEXT NOT NULL UNIQUE,
    alg            TEXT NOT NULL CHECK (alg IN ('ES256', 'RS256', 'EdDSA')),
    private_pkcs8  TEXT NOT NULL,
    public_jwk     TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('next', 'active', 'retired')),
    created_at     BIGINT NOT NULL,
    activated_at   BIGINT,
    retired_at     BIGINT,
    publish_until  BIGINT
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (tenant_id, alg) WHERE state = 'active';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (tenant_id, alg) WHERE state = 'next';
CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id, state);

CREATE TABLE clients (
    id                           TEXT PRIMARY KEY,
    tenant_id                    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id                    TEXT NOT NULL,
    name                         TEXT NOT NULL,
    secret_hash                  TEXT,
    kind                         TEXT NOT NULL CHECK (kind IN ('confidential', 'public')),
    token_endpoint_auth_method   TEXT NOT NULL CHECK (token_endpoint_auth_method IN
                                     ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')),
    redirect_uris                TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris    TEXT NOT NULL DEFAULT '[]',
    grant_types                  TEXT NOT NULL DEFAULT '[]',
    scopes                       TEXT NOT NULL DEFAULT '[]',
    permission_namespaces        TEXT NOT NULL DEFAULT '[]',
    first_party                  BOOLEAN NOT NULL DEFAULT FALSE,
    id_token_signed_response_alg TEXT NOT NULL DEFAULT 'ES256' CHECK (id_token_signed_response_alg IN ('ES256', 'RS256', 'EdDSA')),
    access_token_ttl             BIGINT NOT NULL DEFAULT 300 CHECK (access_token_ttl BETWEEN 30 AND 86400),
    jwks                         TEXT,
    created_at                   BIGINT NOT NULL,
    updated_at                   BIGINT NOT NULL,
    CHECK ((kind = 'public') = (token_endpoint_auth_method = 'none'))
);
CREATE UNIQUE INDEX clients_client_id ON clients (tenant_id, client_id);

-- Service roles a client holds for client_credentials.
CREATE TABLE client_roles (
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, role_id)
);
CREATE INDEX client_roles_role ON client_roles (role_id);
