-- Issue 13 §6. The created and updated instants of users and groups are Unix microseconds
-- (they were milliseconds, as every other timestamp still is): SCIM returns them as
-- meta.created / meta.lastModified and compares them at the precision a filter sends.
UPDATE users SET created_at = created_at * 1000, updated_at = updated_at * 1000;
UPDATE groups SET created_at = created_at * 1000, updated_at = updated_at * 1000;
