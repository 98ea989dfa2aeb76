-- The change log of what users hold (0049) costs its writers less: the whole tenant's rows are
-- the only ones read by tenant (the version's second half), so a partial index holds just them,
-- and a user's row no longer updates a second index. (PostgreSQL's 0050 also logs a user's links
-- per statement; SQLite has only row-level triggers: its import paid 15 % for the log, against
-- 36 % on PostgreSQL.) A deleted tenant's rows still go by the key to `tenants`.
DROP INDEX holdings_changes_tenant;
CREATE INDEX holdings_changes_tenant_wide ON holdings_changes (tenant_id) WHERE user_id IS NULL;
