-- What a user holds (roles, groups, permissions, current memberships) is remembered in memory
-- by the token endpoints, checked against a version that every statement reading a token
-- computes anyway: the sum of this log's rows for the user and for their tenant as a whole.
-- Every write that can change what someone holds adds a row here in its own transaction (the
-- triggers below), so a change is seen by the very next request on every replica. Rows are
-- only ever added (`n` > 0) and merged by the purge into one row carrying their sum, so the
-- version never repeats and writers never wait for each other on a counter.
CREATE TABLE holdings_changes (
    id        INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- NULL: a change for the whole tenant (a role, group, permission or account renamed or
    -- deleted, a group's roles or a role's permissions changed).
    user_id   TEXT REFERENCES users (id) ON DELETE CASCADE,
    n         BIGINT NOT NULL DEFAULT 1 CHECK (n > 0)
);
CREATE INDEX holdings_changes_user ON holdings_changes (user_id);
CREATE INDEX holdings_changes_tenant ON holdings_changes (tenant_id, user_id);

-- A user's own links: groups, roles, memberships, permission overrides. The user is looked up
-- so that a row deleted with its user (or tenant) logs nothing.
CREATE TRIGGER group_members_held_insert AFTER INSERT ON group_members BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id) SELECT tenant_id, id FROM users WHERE id = NEW.user_id;
END;
CREATE TRIGGER group_members_held_update AFTER UPDATE ON group_members BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id)
    SELECT tenant_id, id FROM users WHERE id IN (OLD.user_id, NEW.user_id);
END;
CREATE TRIGGER group_members_held_delete AFTER DELETE ON group_members BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id) SELECT tenant_id, id FROM users WHERE id = OLD.user_id;
END;
CREATE TRIGGER user_roles_held_insert AFTER INSERT ON user_roles BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id) SELECT tenant_id, id FROM users WHERE id = NEW.user_id;
END;
CREATE TRIGGER user_roles_held_update AFTER UPDATE ON user_roles BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id)
    SELECT tenant_id, id FROM users WHERE id IN (OLD.user_id, NEW.user_id);
END;
CREATE TRIGGER user_roles_held_delete AFTER DELETE ON user_roles BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id) SELECT tenant_id, id FROM users WHERE id = OLD.user_id;
END;
CREATE TRIGGER memberships_held_insert AFTER INSERT ON memberships BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id) SELECT tenant_id, id FROM users WHERE id = NEW.user_id;
END;
CREATE TRIGGER memberships_held_update AFTER UPDATE ON memberships BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id)
    SELECT tenant_id, id FROM users WHERE id IN (OLD.user_id, NEW.user_id);
END;
CREATE TRIGGER memberships_held_delete AFTER DELETE ON memberships BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id) SELECT tenant_id, id FROM users WHERE id = OLD.user_id;
END;
CREATE TRIGGER permission_overrides_held_insert AFTER INSERT ON permission_overrides BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id) SELECT tenant_id, id FROM users WHERE id = NEW.user_id;
END;
CREATE TRIGGER permission_overrides_held_update AFTER UPDATE ON permission_overrides BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id)
    SELECT tenant_id, id FROM users WHERE id IN (OLD.user_id, NEW.user_id);
END;
CREATE TRIGGER permission_overrides_held_delete AFTER DELETE ON permission_overrides BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id) SELECT tenant_id, id FROM users WHERE id = OLD.user_id;
END;

-- What many users hold at once: names (the columns what a user holds shows) when they change
-- (a directory that sends a group's unchanged name again changes nothing), deletions, a
-- group's roles, a role's permissions. A change for the whole tenant.
CREATE TRIGGER roles_held_update AFTER UPDATE OF id, tenant_id, name ON roles
WHEN OLD.id IS NOT NEW.id OR OLD.tenant_id IS NOT NEW.tenant_id OR OLD.name IS NOT NEW.name BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT id FROM tenants WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER roles_held_delete AFTER DELETE ON roles BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT id FROM tenants WHERE id = OLD.tenant_id;
END;
CREATE TRIGGER groups_held_update AFTER UPDATE OF id, tenant_id, display_name ON groups
WHEN OLD.id IS NOT NEW.id OR OLD.tenant_id IS NOT NEW.tenant_id OR OLD.display_name IS NOT NEW.display_name BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT id FROM tenants WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER groups_held_delete AFTER DELETE ON groups BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT id FROM tenants WHERE id = OLD.tenant_id;
END;
CREATE TRIGGER permissions_held_update AFTER UPDATE OF id, tenant_id, name ON permissions
WHEN OLD.id IS NOT NEW.id OR OLD.tenant_id IS NOT NEW.tenant_id OR OLD.name IS NOT NEW.name BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT id FROM tenants WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER permissions_held_delete AFTER DELETE ON permissions BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT id FROM tenants WHERE id = OLD.tenant_id;
END;
CREATE TRIGGER accounts_held_update AFTER UPDATE OF id, tenant_id, name ON accounts
WHEN OLD.id IS NOT NEW.id OR OLD.tenant_id IS NOT NEW.tenant_id OR OLD.name IS NOT NEW.name BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT id FROM tenants WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER accounts_held_delete AFTER DELETE ON accounts BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT id FROM tenants WHERE id = OLD.tenant_id;
END;
CREATE TRIGGER group_roles_held_insert AFTER INSERT ON group_roles BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT tenant_id FROM groups WHERE id = NEW.group_id;
END;
CREATE TRIGGER group_roles_held_update AFTER UPDATE ON group_roles BEGIN
    INSERT INTO holdings_changes (tenant_id)
    SELECT DISTINCT tenant_id FROM groups WHERE id IN (OLD.group_id, NEW.group_id);
END;
CREATE TRIGGER group_roles_held_delete AFTER DELETE ON group_roles BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT tenant_id FROM groups WHERE id = OLD.group_id;
END;
CREATE TRIGGER role_permissions_held_insert AFTER INSERT ON role_permissions BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT tenant_id FROM roles WHERE id = NEW.role_id;
END;
CREATE TRIGGER role_permissions_held_update AFTER UPDATE ON role_permissions BEGIN
    INSERT INTO holdings_changes (tenant_id)
    SELECT DISTINCT tenant_id FROM roles WHERE id IN (OLD.role_id, NEW.role_id);
END;
CREATE TRIGGER role_permissions_held_delete AFTER DELETE ON role_permissions BEGIN
    INSERT INTO holdings_changes (tenant_id) SELECT tenant_id FROM roles WHERE id = OLD.role_id;
END;
