-- Logout: back-channel logout settings of clients, and which clients each session touched.
-- Keep in step with ../postgres/0005_logout.sql. Timestamps are Unix milliseconds.

-- OpenID Connect Back-Channel Logout 1.0 §2.2: where the client receives logout tokens, and
-- whether it needs the `sid` claim in them.
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required BOOLEAN NOT NULL DEFAULT TRUE;

-- A client a session signed in to (an authorization code was issued for it): when the session
-- ends, these clients are told over the back channel.
CREATE TABLE session_clients (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, client_id)
);
CREATE INDEX session_clients_client ON session_clients (client_id);
