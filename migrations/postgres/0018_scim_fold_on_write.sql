-- Folded shadows (`<column>_f`, migration 0015) are written by every store write that sets their
-- source, computed by domain::scim::fold, so nothing folds at read time any more: the triggers
-- that marked rows unfolded, the `folded` flags and their indexes go. Rows that exist now get
-- their shadows computed once, at the server's next start, which then deletes this table's row
-- (scim_fold.rs). Keep in step with ../sqlite/0018_scim_fold_on_write.sql.
DROP TRIGGER users_unfold ON users;
DROP TRIGGER user_emails_unfold ON user_emails;
DROP TRIGGER user_values_unfold ON user_values;
DROP TRIGGER user_addresses_unfold ON user_addresses;
DROP TRIGGER groups_unfold ON groups;
DROP TRIGGER user_attributes_unfold ON user_attributes;
DROP FUNCTION castellan_unfold();
-- The partial indexes on `NOT folded` go with the columns.
ALTER TABLE users DROP COLUMN folded;
ALTER TABLE user_emails DROP COLUMN folded;
ALTER TABLE user_values DROP COLUMN folded;
ALTER TABLE user_addresses DROP COLUMN folded;
ALTER TABLE groups DROP COLUMN folded;
ALTER TABLE user_attributes DROP COLUMN folded;

CREATE TABLE scim_refold (pending BOOLEAN NOT NULL);
INSERT INTO scim_refold (pending) VALUES (TRUE);
