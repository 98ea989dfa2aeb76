-- Invitations: the state of a person's invitation (issue 15). The link itself is a row of
-- `user_links` with purpose `invitation` (only its hash); this row says since when the person
-- is invited, how many times a link was sent, until when the last one works, and how the
-- last one was delivered (`shown`: returned to the administrator who sent it, no mail server;
-- `queued`, `sent`, `failed`: through the mail outbox).
CREATE TABLE invitations (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    first_sent_at BIGINT NOT NULL,
    last_sent_at  BIGINT NOT NULL,
    times_sent    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    delivery      TEXT NOT NULL,
    accepted_at   BIGINT,
    PRIMARY KEY (tenant_id, user_id)
);
