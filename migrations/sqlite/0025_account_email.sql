-- Account email (issue 15): password resets, address confirmations and address changes use
-- single-use links of `user_links` (purposes `password_reset`, `email_verification`,
-- `email_change`). A confirmation link names the address it confirms: for a change the new
-- address (which replaces the old one only when the link is opened), for a verification the
-- address it was sent to (it confirms nothing once the address changed).
ALTER TABLE user_links ADD COLUMN email TEXT;

-- "Your email address was changed" joins the mandatory security notifications of every tenant.
INSERT INTO notification_types (id, tenant_id, key, description, builtin, default_enabled, created_at)
SELECT lower(hex(randomblob(16))), t.id, 'security.email_changed',
       'The email address was changed', TRUE, TRUE,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM tenants t
WHERE NOT EXISTS (SELECT 1 FROM notification_types n
                  WHERE n.tenant_id = t.id AND n.key = 'security.email_changed');
