-- Brute-force defence: failed attempts at typed secrets, counted per subject so that every
-- replica enforces the same limits. A subject is `user:ID` (a known account's password),
-- `email:ADDRESS` (an unknown email, so it is throttled like a real one), `ip:ADDRESS` (a client
-- address, IPv6 by /64) or `mfa:ID` (a user's one-time and recovery codes). Counting is one
-- upsert per attempt, made before the secret is judged; `ticket` tells the attempt that
-- counted apart from one refused under a lock.
CREATE TABLE sign_in_throttle (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subject         TEXT NOT NULL,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until    BIGINT,
    ticket          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, subject)
);
CREATE INDEX sign_in_throttle_last ON sign_in_throttle (last_failure_at);
