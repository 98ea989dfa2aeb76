-- Folded shadows of account and account group names (`name_f`, as migration 0015 gave groups
-- `display_name_f`): the console searches these lists in SQL, case-insensitively beyond ASCII
-- (SQLite's lower() and LIKE know only ASCII). Every store write that sets a name writes its
-- shadow; the rows that exist now are folded once, at the next start (scim_fold.rs).
ALTER TABLE accounts ADD COLUMN name_f TEXT;
ALTER TABLE account_groups ADD COLUMN name_f TEXT;
INSERT INTO scim_refold (pending) VALUES (TRUE);
