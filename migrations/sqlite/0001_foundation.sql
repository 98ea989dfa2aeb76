-- Castellan foundation schema (SQLite). Keep in step with ../postgres/0001_foundation.sql.
-- Timestamps are Unix milliseconds (BIGINT); calendar dates are 'YYYY-MM-DD' text.

CREATE TABLE tenants (
    id            TEXT PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    owner_user_id TEXT REFERENCES users (id) ON DELETE RESTRICT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    username       TEXT NOT NULL,
    username_norm  TEXT NOT NULL,
    email          TEXT NOT NULL,
    email_norm     TEXT NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    given_name     TEXT,
    family_name    TEXT,
    display_name   TEXT,
    phone          TEXT,
    locale         TEXT,
    timezone       TEXT,
    external_id    TEXT,
    status         TEXT NOT NULL CHECK (status IN ('invited', 'active', 'inactive', 'anonymised')),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_email ON users (tenant_id, email_norm);
CREATE UNIQUE INDEX users_username ON users (tenant_id, username_norm);
CREATE INDEX users_external_id ON users (tenant_id, external_id);
CREATE INDEX users_created ON users (tenant_id, created_at);

CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('provider', 'customer', 'guest')),
    builtin    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_name ON accounts (tenant_id, name);

CREATE TABLE account_groups (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX account_groups_name ON account_groups (tenant_id, name);

CREATE TABLE account_group_members (
    group_id   TEXT NOT NULL REFERENCES account_groups (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, account_id)
);
CREATE INDEX account_group_members_account ON account_group_members (account_id);

CREATE TABLE memberships (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    start_date TEXT,
    end_date   TEXT,
    is_main    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (start_date IS NULL OR end_date IS NULL OR start_date <= end_date)
);
CREATE UNIQUE INDEX memberships_one_main ON memberships (user_id) WHERE is_main;
CREATE INDEX memberships_user ON memberships (user_id);
CREATE INDEX memberships_account ON memberships (account_id, user_id);

CREATE TABLE permissions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT,
    builtin     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX permissions_name ON permissions (tenant_id, name);

CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT,
    template    TEXT CHECK (template IN ('owner', 'administrator', 'manager', 'member')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX roles_name ON roles (tenant_id, name);
CREATE UNIQUE INDEX roles_template ON roles (tenant_id, template);

CREATE TABLE role_permissions (
    role_id       TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);
CREATE INDEX role_permissions_permission ON role_permissions (permission_id);

CREATE TABLE user_roles (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    is_main    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_roles_unique ON user_roles (user_id, role_id, COALESCE(account_id, ''));
CREATE UNIQUE INDEX user_roles_one_main ON user_roles (user_id) WHERE is_main;
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE groups (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    description  TEXT,
    external_id  TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX groups_name ON groups (tenant_id, display_name);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE group_roles (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    role_id  TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, role_id)
);
CREATE INDEX group_roles_role ON group_roles (role_id);

CREATE TABLE permission_overrides (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    effect        TEXT NOT NULL CHECK (effect IN ('grant', 'deny')),
    reason        TEXT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (user_id, permission_id)
);

CREATE TABLE management (
    id                      TEXT PRIMARY KEY,
    tenant_id               TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    manager_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_user_id          TEXT REFERENCES users (id) ON DELETE CASCADE,
    target_account_id       TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_group_id TEXT REFERENCES account_groups (id) ON DELETE CASCADE,
    created_at              BIGINT NOT NULL,
    CHECK ((target_user_id IS NOT NULL) + (target_account_id IS NOT NULL) + (target_account_group_id IS NOT NULL) = 1)
);
CREATE UNIQUE INDEX management_unique ON management (manager_id, COALESCE(target_user_id, ''), COALESCE(target_account_id, ''), COALESCE(target_account_group_id, ''));
CREATE INDEX management_target_user ON management (target_user_id);
CREATE INDEX management_target_account ON management (target_account_id);
CREATE INDEX management_target_group ON management (target_account_group_id);

CREATE TABLE attribute_defs (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    label       TEXT NOT NULL,
    description TEXT,
    kind        TEXT NOT NULL CHECK (kind IN ('text', 'number', 'boolean', 'date', 'enum')),
    options     TEXT NOT NULL DEFAULT '[]',
    required    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX attribute_defs_key ON attribute_defs (tenant_id, key);

CREATE TABLE user_attributes (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    attribute_id TEXT NOT NULL REFERENCES attribute_defs (id) ON DELETE CASCADE,
    value        TEXT NOT NULL,
    num          DOUBLE PRECISION,
    PRIMARY KEY (user_id, attribute_id)
);
CREATE INDEX user_attributes_value ON user_attributes (attribute_id, value);

CREATE TABLE notification_types (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    description     TEXT,
    builtin         BOOLEAN NOT NULL DEFAULT FALSE,
    default_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX notification_types_key ON notification_types (tenant_id, key);

CREATE TABLE notification_prefs (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type_id  TEXT NOT NULL REFERENCES notification_types (id) ON DELETE CASCADE,
    enabled  BOOLEAN NOT NULL,
    channels TEXT NOT NULL DEFAULT 'email',
    PRIMARY KEY (user_id, type_id)
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT,
    actor_label TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id   TEXT,
    before      TEXT,
    after       TEXT,
    ip          TEXT
);
CREATE INDEX audit_log_at ON audit_log (tenant_id, id);
CREATE INDEX audit_log_target ON audit_log (tenant_id, target_id, id);
CREATE INDEX audit_log_action ON audit_log (tenant_id, action, id);
CREATE INDEX audit_log_actor ON audit_log (tenant_id, actor_id, id);
