-- Folded shadows (`<column>_f`, migration 0015) are written by every store write that sets their
-- source, computed by domain::scim::fold, so nothing folds at read time any more: the triggers
-- that marked rows unfolded, the `folded` flags and their indexes go. Rows that exist now get
-- their shadows computed once, at the server's next start, which then deletes this table's row
-- (scim_fold.rs). Keep in step with ../postgres/0018_scim_fold_on_write.sql.
DROP TRIGGER users_unfold;
DROP TRIGGER user_emails_unfold;
DROP TRIGGER user_values_unfold;
DROP TRIGGER user_addresses_unfold;
DROP TRIGGER groups_unfold;
DROP TRIGGER user_attributes_unfold;
DROP INDEX users_unfolded;
DROP INDEX user_emails_unfolded;
DROP INDEX user_values_unfolded;
DROP INDEX user_addresses_unfolded;
DROP INDEX groups_unfolded;
DROP INDEX user_attributes_unfolded;
ALTER TABLE users DROP COLUMN folded;
ALTER TABLE user_emails DROP COLUMN folded;
ALTER TABLE user_values DROP COLUMN folded;
ALTER TABLE user_addresses DROP COLUMN folded;
ALTER TABLE groups DROP COLUMN folded;
ALTER TABLE user_attributes DROP COLUMN folded;

CREATE TABLE scim_refold (pending BOOLEAN NOT NULL);
INSERT INTO scim_refold (pending) VALUES (TRUE);
