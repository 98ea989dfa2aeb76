-- The latest SCIM requests of each tenant with their outcome, for the console's Directory page:
-- when, which token, method, path WITHOUT the query string (filters carry personal data),
-- status, SCIM error type and duration. Written off the request path in batches; the writer
-- keeps about the latest 1000 rows per tenant. A refused token is logged with no token id.
CREATE TABLE scim_request_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    token_id    TEXT,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    status      BIGINT NOT NULL,
    scim_type   TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX scim_request_log_tenant ON scim_request_log (tenant_id, id);
