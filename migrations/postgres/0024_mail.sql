-- Outgoing mail: a durable outbox written in the same transaction as the change that causes
-- each message, delivered by a background worker on any replica. A row is due when it is
-- `pending`, its `next_attempt_at` has come and no worker holds its lease (`claimed_until`);
-- a worker that crashes mid-send loses its lease and the row is due again. The text and HTML
-- parts (which may hold a single-use link) are sealed with the master key and erased once the
-- message is delivered or logged.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id         TEXT REFERENCES users (id) ON DELETE SET NULL,
    recipient       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    locale          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    -- The text and HTML parts as JSON, sealed; NULL once delivered or logged.
    body            TEXT,
    headers         TEXT NOT NULL DEFAULT '{}',
    message_id      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'failed', 'logged')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    claim           TEXT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX mail_outbox_tenant ON mail_outbox (tenant_id, created_at);
CREATE INDEX mail_outbox_recipient ON mail_outbox (tenant_id, recipient, created_at);

-- A tenant's own wording of a kind of mail in one locale (placeholders such as `{name}`).
CREATE TABLE mail_templates (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    locale     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body_text  TEXT NOT NULL,
    body_html  TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind, locale)
);

-- The From address of a tenant's mail (NULL: `mail_from` of the configuration).
ALTER TABLE tenants ADD COLUMN mail_from TEXT;

-- Notifications on the email channel are turned into mail by the worker; `mailed_at` marks the
-- ones done. Those raised before mail existed are not sent now.
ALTER TABLE notifications ADD COLUMN mailed_at BIGINT;
UPDATE notifications SET mailed_at = created_at;
CREATE INDEX notifications_unmailed ON notifications (created_at) WHERE mailed_at IS NULL;
