-- The change log of what users hold (0049) costs its writers less.
--
-- A user's links (groups, roles, memberships, permission overrides) were logged by a row-level
-- PL/pgSQL trigger: one call and one log row per link written. An import of 100,000 users (a
-- membership and a role each) ran 36 % longer than without the log (13.5 s -> 18.4 s,
-- BENCHMARKS.md). Now one statement-level trigger per table and event reads the statement's
-- transition table and adds one row per user it touched, carrying how many of their links
-- changed: a chunk of an import or a SCIM PATCH of a large group is logged by one set-based
-- insert. What the version means is unchanged: every committed change to a user's links adds
-- at least 1 to their sum, in the writing transaction; a statement that changes no row adds
-- nothing. The user is joined so that links deleted with their user (or tenant) log nothing.
DROP TRIGGER group_members_held ON group_members;
DROP TRIGGER user_roles_held ON user_roles;
DROP TRIGGER memberships_held ON memberships;
DROP TRIGGER permission_overrides_held ON permission_overrides;
DROP FUNCTION holdings_changed_for_user();

CREATE FUNCTION holdings_links_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id, n)
    SELECT u.tenant_id, u.id, c.n
    FROM (SELECT user_id, COUNT(*) AS n FROM new_links GROUP BY user_id) c
    JOIN users u ON u.id = c.user_id;
    RETURN NULL;
END
$$;
CREATE FUNCTION holdings_links_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id, n)
    SELECT u.tenant_id, u.id, c.n
    FROM (SELECT user_id, COUNT(*) AS n FROM old_links GROUP BY user_id) c
    JOIN users u ON u.id = c.user_id;
    RETURN NULL;
END
$$;
-- An update counts for the user before and after (a link moved to another user changes both).
CREATE FUNCTION holdings_links_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO holdings_changes (tenant_id, user_id, n)
    SELECT u.tenant_id, u.id, c.n
    FROM (SELECT user_id, COUNT(*) AS n
          FROM (SELECT user_id FROM old_links UNION ALL SELECT user_id FROM new_links) l
          GROUP BY user_id) c
    JOIN users u ON u.id = c.user_id;
    RETURN NULL;
END
$$;

-- A trigger with transition tables has one event: three per table.
CREATE TRIGGER group_members_held_insert AFTER INSERT ON group_members
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_inserted();
CREATE TRIGGER group_members_held_update AFTER UPDATE ON group_members
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_updated();
CREATE TRIGGER group_members_held_delete AFTER DELETE ON group_members
    REFERENCING OLD TABLE AS old_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_deleted();

CREATE TRIGGER user_roles_held_insert AFTER INSERT ON user_roles
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_inserted();
CREATE TRIGGER user_roles_held_update AFTER UPDATE ON user_roles
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_updated();
CREATE TRIGGER user_roles_held_delete AFTER DELETE ON user_roles
    REFERENCING OLD TABLE AS old_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_deleted();

CREATE TRIGGER memberships_held_insert AFTER INSERT ON memberships
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_inserted();
CREATE TRIGGER memberships_held_update AFTER UPDATE ON memberships
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_updated();
CREATE TRIGGER memberships_held_delete AFTER DELETE ON memberships
    REFERENCING OLD TABLE AS old_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_deleted();

CREATE TRIGGER permission_overrides_held_insert AFTER INSERT ON permission_overrides
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_inserted();
CREATE TRIGGER permission_overrides_held_update AFTER UPDATE ON permission_overrides
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_updated();
CREATE TRIGGER permission_overrides_held_delete AFTER DELETE ON permission_overrides
    REFERENCING OLD TABLE AS old_links
    FOR EACH STATEMENT EXECUTE FUNCTION holdings_links_deleted();

-- The whole tenant's rows are the only ones read by tenant (the version's second half): a
-- partial index holds just them, and a user's row no longer updates a second index.
DROP INDEX holdings_changes_tenant;
CREATE INDEX holdings_changes_tenant_wide ON holdings_changes (tenant_id) WHERE user_id IS NULL;
