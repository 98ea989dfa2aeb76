-- Multi-factor authentication: passkeys and security keys (WebAuthn), authenticator apps (TOTP),
-- recovery codes, MFA policies, ceremonies in progress, and the notification outbox.
-- Keep in step with ../sqlite/0007_mfa.sql. Timestamps are Unix milliseconds; lists are JSON text.

-- A tenant's MFA settings; a tenant without a row has the defaults.
--   policy: optional | required | passkey_required
--   security_key_uv: required | preferred | discouraged (user verification asked of security keys)
CREATE TABLE mfa_settings (
    tenant_id            TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    policy               TEXT NOT NULL DEFAULT 'optional',
    passkey_only_allowed BOOLEAN NOT NULL DEFAULT FALSE,
    security_key_uv      TEXT NOT NULL DEFAULT 'preferred',
    updated_at           BIGINT NOT NULL
);

-- A role may demand more of its holders than the tenant does: NULL adds nothing.
ALTER TABLE roles ADD COLUMN mfa_policy TEXT;

-- WebAuthn credentials. kind: passkey (discoverable, user-verifying; signs in alone) or
-- security_key (a second factor after the password). `credential` is webauthn-rs's JSON (public
-- key, counter, flags): no secret. `credential_id` is base64url, unique within a tenant.
CREATE TABLE webauthn_credentials (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    credential    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE UNIQUE INDEX webauthn_credentials_cred ON webauthn_credentials (tenant_id, credential_id);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- One authenticator app per user. It counts once `confirmed_at` is set (a valid code was typed);
-- `last_step` is the last 30-second step accepted, so no code is accepted twice.
CREATE TABLE totp_factors (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    secret       TEXT NOT NULL,
    confirmed_at BIGINT,
    last_step    BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);

-- Recovery codes, as SHA-256 hashes only; each works once.
CREATE TABLE recovery_codes (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A WebAuthn ceremony in progress (the challenge state webauthn-rs must get back), keyed by the
-- SHA-256 of the handle the browser holds. Taken once; bound to the session that started it.
CREATE TABLE mfa_ceremonies (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    session_id TEXT,
    purpose    TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX mfa_ceremonies_expires ON mfa_ceremonies (expires_at);

-- Wrong one-time codes (TOTP, recovery), for rate limiting.
CREATE TABLE mfa_failures (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at        BIGINT NOT NULL
);
CREATE INDEX mfa_failures_user ON mfa_failures (user_id, at);

-- Events raised for a user, on the channels (comma-separated) their notification preferences chose
-- at the time. Only events the user's preferences enable are written.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    channels   TEXT NOT NULL DEFAULT '',
    message    TEXT NOT NULL,
    details    TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);
