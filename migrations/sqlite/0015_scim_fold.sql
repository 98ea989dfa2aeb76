-- Case-insensitive SCIM comparison and sorting that follow Unicode on both databases, whatever
-- the PostgreSQL cluster's locale (issue 13, item 1): every case-insensitive text column gets a
-- folded shadow (`<column>_f`), computed in Rust by one function (domain::scim::fold) and compared
-- and sorted bytewise. `folded` is FALSE while a row's shadows are not computed yet: new rows,
-- rows whose source columns changed (a trigger clears it), and every row that exists when this
-- migration runs; the store computes them before it answers a SCIM list (scim_fold.rs).
-- Keep in step with ../postgres/0015_scim_fold.sql.

-- users
ALTER TABLE users ADD COLUMN given_name_f TEXT;
ALTER TABLE users ADD COLUMN family_name_f TEXT;
ALTER TABLE users ADD COLUMN middle_name_f TEXT;
ALTER TABLE users ADD COLUMN honorific_prefix_f TEXT;
ALTER TABLE users ADD COLUMN honorific_suffix_f TEXT;
ALTER TABLE users ADD COLUMN display_name_f TEXT;
ALTER TABLE users ADD COLUMN nick_name_f TEXT;
ALTER TABLE users ADD COLUMN title_f TEXT;
ALTER TABLE users ADD COLUMN user_type_f TEXT;
ALTER TABLE users ADD COLUMN preferred_language_f TEXT;
ALTER TABLE users ADD COLUMN locale_f TEXT;
ALTER TABLE users ADD COLUMN timezone_f TEXT;
ALTER TABLE users ADD COLUMN employee_number_f TEXT;
ALTER TABLE users ADD COLUMN cost_center_f TEXT;
ALTER TABLE users ADD COLUMN organization_f TEXT;
ALTER TABLE users ADD COLUMN division_f TEXT;
ALTER TABLE users ADD COLUMN department_f TEXT;
ALTER TABLE users ADD COLUMN folded BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX users_unfolded ON users (tenant_id) WHERE NOT folded;
CREATE TRIGGER users_unfold AFTER UPDATE OF given_name, family_name, middle_name, honorific_prefix, honorific_suffix, display_name, nick_name, title, user_type, preferred_language, locale, timezone, employee_number, cost_center, organization, division, department ON users
    FOR EACH ROW WHEN NEW.folded
    BEGIN UPDATE users SET folded = FALSE WHERE id = NEW.id; END;

-- user_emails
ALTER TABLE user_emails ADD COLUMN type_f TEXT;
ALTER TABLE user_emails ADD COLUMN folded BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX user_emails_unfolded ON user_emails (tenant_id) WHERE NOT folded;
CREATE TRIGGER user_emails_unfold AFTER UPDATE OF type ON user_emails
    FOR EACH ROW WHEN NEW.folded
    BEGIN UPDATE user_emails SET folded = FALSE WHERE user_id = NEW.user_id AND position = NEW.position; END;

-- user_values
ALTER TABLE user_values ADD COLUMN display_f TEXT;
ALTER TABLE user_values ADD COLUMN type_f TEXT;
ALTER TABLE user_values ADD COLUMN folded BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX user_values_unfolded ON user_values (tenant_id) WHERE NOT folded;
CREATE TRIGGER user_values_unfold AFTER UPDATE OF display, type ON user_values
    FOR EACH ROW WHEN NEW.folded
    BEGIN UPDATE user_values SET folded = FALSE WHERE user_id = NEW.user_id AND attribute = NEW.attribute AND position = NEW.position; END;

-- user_addresses
ALTER TABLE user_addresses ADD COLUMN type_f TEXT;
ALTER TABLE user_addresses ADD COLUMN formatted_f TEXT;
ALTER TABLE user_addresses ADD COLUMN street_address_f TEXT;
ALTER TABLE user_addresses ADD COLUMN locality_f TEXT;
ALTER TABLE user_addresses ADD COLUMN region_f TEXT;
ALTER TABLE user_addresses ADD COLUMN postal_code_f TEXT;
ALTER TABLE user_addresses ADD COLUMN country_f TEXT;
ALTER TABLE user_addresses ADD COLUMN folded BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX user_addresses_unfolded ON user_addresses (tenant_id) WHERE NOT folded;
CREATE TRIGGER user_addresses_unfold AFTER UPDATE OF type, formatted, street_address, locality, region, postal_code, country ON user_addresses
    FOR EACH ROW WHEN NEW.folded
    BEGIN UPDATE user_addresses SET folded = FALSE WHERE user_id = NEW.user_id AND position = NEW.position; END;

-- groups
ALTER TABLE groups ADD COLUMN display_name_f TEXT;
ALTER TABLE groups ADD COLUMN folded BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX groups_unfolded ON groups (tenant_id) WHERE NOT folded;
CREATE TRIGGER groups_unfold AFTER UPDATE OF display_name ON groups
    FOR EACH ROW WHEN NEW.folded
    BEGIN UPDATE groups SET folded = FALSE WHERE id = NEW.id; END;

-- user_attributes
ALTER TABLE user_attributes ADD COLUMN value_f TEXT;
ALTER TABLE user_attributes ADD COLUMN folded BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX user_attributes_unfolded ON user_attributes (user_id) WHERE NOT folded;
CREATE TRIGGER user_attributes_unfold AFTER UPDATE OF value ON user_attributes
    FOR EACH ROW WHEN NEW.folded
    BEGIN UPDATE user_attributes SET folded = FALSE WHERE user_id = NEW.user_id AND attribute_id = NEW.attribute_id; END;

-- Entra and Okta look groups up by displayName.
CREATE INDEX groups_name_f ON groups (tenant_id, display_name_f);
