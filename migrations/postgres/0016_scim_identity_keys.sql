-- Issue 13 §10-12. A user a SCIM DELETE removed (`deactivate`) or anonymised no longer holds
-- their sign-in email: a new user may take it (SCIM shows the removed user nowhere, so a
-- directory could never find the conflict). The same POST userName still brings the removed
-- user back. `email_shared` marks the users of a tenant whose SCIM setting lets users share a
-- sign-in email: they are outside the unique index.
ALTER TABLE users ADD COLUMN email_shared BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE scim_settings ADD COLUMN unique_emails BOOLEAN NOT NULL DEFAULT TRUE;
DROP INDEX users_email;
CREATE UNIQUE INDEX users_email ON users (tenant_id, email_norm)
    WHERE NOT scim_removed AND status <> 'anonymised' AND NOT email_shared;
CREATE INDEX users_email_any ON users (tenant_id, email_norm);

-- userNames and emails are compared in Unicode NFC: the server recomputes the stored keys of
-- existing users once, at its next start, and then deletes this row.
CREATE TABLE unicode_rekey (pending BOOLEAN NOT NULL);
INSERT INTO unicode_rekey (pending) VALUES (TRUE);
