-- The user lists page in (email, id) and (created_at, id) order. These indexes hold the whole
-- order, so a page is a short walk of an index: the email index stopped being one when it
-- became partial (0016), and SQLite then sorted every user of the tenant for each page.
DROP INDEX users_email_any;
CREATE INDEX users_email_any ON users (tenant_id, email_norm, id);
DROP INDEX users_created;
CREATE INDEX users_created ON users (tenant_id, created_at, id);
