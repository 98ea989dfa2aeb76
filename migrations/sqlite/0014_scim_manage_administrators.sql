-- Whether SCIM tokens may change, deactivate or delete users holding Castellan administration
-- permissions (beyond a manager's). Off by default: a directory token is not a way to take over
-- an administrator.
ALTER TABLE scim_settings ADD COLUMN manage_administrators BOOLEAN NOT NULL DEFAULT FALSE;
