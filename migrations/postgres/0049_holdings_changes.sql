-- What a user holds (roles, groups, permissions, current memberships) is remembered in memory
-- by the token endpoints, checked against a version that every statement reading a token
-- computes anyway: the sum of this log's rows for the user and for their tenant as a whole.
-- Every write that can change what someone holds adds a row here in its own transaction (the
-- triggers below), so a change is seen by the very next request on every replica. Rows are
-- only ever added (`n` > 0), never updated, and merged by the purge into one row carrying their
-- sum: two writers never wait for each other on a counter (no row lock, so no deadlock between
-- directory pushes touching the same users in different orders), and as snapshots only ever
-- see more committed rows, an unchanged sum means no change was committed in between.
-- No key to tenants (see 0048: the writes that log here would lock the tenant's row); the
-- tenant's rows go with it by `tenant_rows_gone`.
CREATE TABLE holdings_changes (
    id        BIGSERIAL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    -- NULL: a change for the whole tenant (a role, group, permission or account renamed or
    -- deleted, a group's roles or a role's permissions changed).
    user_id   TEXT REFERENCES users (id) ON DELETE CASCADE,
    n         BIGINT NOT NULL DEFAULT 1 CHECK (n > 0)
);
CREATE INDEX holdings_changes_user ON holdings_changes (user_id);
CREATE INDEX holdings_changes_tenant ON holdings_changes (tenant_id, user_id);

-- A user's own links: groups, roles, memberships, permission overrides. The user is looked up
-- so that a row deleted with its user (or tenant) logs nothing.
CREATE FUNCTION holdings_changed_for_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO holdings_changes (tenant_id, user_id)
        SELECT tenant_id, id FROM users WHERE id = NEW.user_id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO holdings_changes (tenant_id, user_id)
        SELECT tenant_id, id FROM users WHERE id = OLD.user_id;
    ELSE
        INSERT INTO holdings_changes (tenant_id, user_id)
        SELECT tenant_id, id FROM users WHERE id IN (OLD.user_id, NEW.user_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER group_members_held AFTER INSERT OR UPDATE OR DELETE ON group_members
    FOR EACH ROW EXECUTE FUNCTION holdings_changed_for_user();
CREATE TRIGGER user_roles_held AFTER INSERT OR UPDATE OR DELETE ON user_roles
    FOR EACH ROW EXECUTE FUNCTION holdings_changed_for_user();
CREATE TRIGGER memberships_held AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION holdings_changed_for_user();
CREATE TRIGGER permission_overrides_held AFTER INSERT OR UPDATE OR DELETE ON permission_overrides
    FOR EACH ROW EXECUTE FUNCTION holdings_changed_for_user();

-- What many users hold at once: names (the columns what a user holds shows) when they change
-- (a directory that sends a group's unchanged name again changes nothing) and deletions of
-- roles, groups, permissions and accounts. A change for the whole tenant.
CREATE FUNCTION holdings_changed_for_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT id FROM tenants WHERE id = OLD.tenant_id;
    IF TG_OP = 'UPDATE' AND NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN
        INSERT INTO holdings_changes (tenant_id) SELECT id FROM tenants WHERE id = NEW.tenant_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER roles_held_update AFTER UPDATE OF id, tenant_id, name ON roles FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
          OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION holdings_changed_for_tenant();
CREATE TRIGGER roles_held_delete AFTER DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION holdings_changed_for_tenant();
CREATE TRIGGER groups_held_update AFTER UPDATE OF id, tenant_id, display_name ON groups FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
          OR OLD.display_name IS DISTINCT FROM NEW.display_name)
    EXECUTE FUNCTION holdings_changed_for_tenant();
CREATE TRIGGER groups_held_delete AFTER DELETE ON groups
    FOR EACH ROW EXECUTE FUNCTION holdings_changed_for_tenant();
CREATE TRIGGER permissions_held_update AFTER UPDATE OF id, tenant_id, name ON permissions FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
          OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION holdings_changed_for_tenant();
CREATE TRIGGER permissions_held_delete AFTER DELETE ON permissions
    FOR EACH ROW EXECUTE FUNCTION holdings_changed_for_tenant();
CREATE TRIGGER accounts_held_update AFTER UPDATE OF id, tenant_id, name ON accounts FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
          OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION holdings_changed_for_tenant();
CREATE TRIGGER accounts_held_delete AFTER DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION holdings_changed_for_tenant();

-- A group's roles and a role's permissions: a change for the group's (role's) whole tenant.
CREATE FUNCTION holdings_changed_by_group() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO holdings_changes (tenant_id) SELECT tenant_id FROM groups WHERE id = OLD.group_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO holdings_changes (tenant_id) SELECT tenant_id FROM groups WHERE id = NEW.group_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER group_roles_held AFTER INSERT OR UPDATE OR DELETE ON group_roles
    FOR EACH ROW EXECUTE FUNCTION holdings_changed_by_group();
CREATE FUNCTION holdings_changed_by_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO holdings_changes (tenant_id) SELECT tenant_id FROM roles WHERE id = OLD.role_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO holdings_changes (tenant_id) SELECT tenant_id FROM roles WHERE id = NEW.role_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER role_permissions_held AFTER INSERT OR UPDATE OR DELETE ON role_permissions
    FOR EACH ROW EXECUTE FUNCTION holdings_changed_by_role();

-- The tenant's rows go with it (0048's function, with this table).
CREATE OR REPLACE FUNCTION tenant_rows_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM refresh_tokens WHERE tenant_id = OLD.id;
    DELETE FROM grants WHERE tenant_id = OLD.id;
    DELETE FROM authorization_codes WHERE tenant_id = OLD.id;
    DELETE FROM session_clients WHERE tenant_id = OLD.id;
    DELETE FROM consents WHERE tenant_id = OLD.id;
    DELETE FROM client_assertion_jtis WHERE tenant_id = OLD.id;
    DELETE FROM sessions WHERE tenant_id = OLD.id;
    DELETE FROM revoked_access_tokens WHERE tenant_id = OLD.id;
    DELETE FROM rate_windows WHERE tenant_id = OLD.id;
    DELETE FROM sign_in_throttle WHERE tenant_id = OLD.id;
    DELETE FROM mfa_ceremonies WHERE tenant_id = OLD.id;
    DELETE FROM mfa_failures WHERE tenant_id = OLD.id;
    DELETE FROM audit_log WHERE tenant_id = OLD.id;
    DELETE FROM notifications WHERE tenant_id = OLD.id;
    DELETE FROM mail_outbox WHERE tenant_id = OLD.id;
    DELETE FROM scim_request_log WHERE tenant_id = OLD.id;
    DELETE FROM holdings_changes WHERE tenant_id = OLD.id;
    RETURN NULL;
END
$$;
