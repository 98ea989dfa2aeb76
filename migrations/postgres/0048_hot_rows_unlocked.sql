-- PostgreSQL only (SQLite's foreign keys take no row locks; its schema keeps them).
-- A foreign key check locks the parent row (FOR KEY SHARE) for the rest of the transaction, and
-- a row locked by several transactions at once gets a MultiXact: every refresh, code, grant,
-- session, client assertion, audit entry, notification, mail and rate window written in a tenant locked the one
-- tenant row (and the client's row), so concurrent requests made about one MultiXact each
-- (11,000 in a ten-second refresh run), with the WAL and the SLRU traffic that go with them.
-- These tables, written on the request paths, keep their keys to users, sessions and grants
-- (rows that few requests share) and lose those to tenants and clients; the cascades those gave
-- are triggers now. A row written for a client while it is being deleted can outlive it; it is
-- unusable (no one can authenticate as the client any more) and goes with the expired state.
ALTER TABLE refresh_tokens        DROP CONSTRAINT refresh_tokens_tenant_id_fkey;
ALTER TABLE grants                DROP CONSTRAINT grants_tenant_id_fkey;
ALTER TABLE grants                DROP CONSTRAINT grants_client_id_fkey;
ALTER TABLE authorization_codes   DROP CONSTRAINT authorization_codes_tenant_id_fkey;
ALTER TABLE authorization_codes   DROP CONSTRAINT authorization_codes_client_id_fkey;
ALTER TABLE session_clients       DROP CONSTRAINT session_clients_tenant_id_fkey;
ALTER TABLE session_clients       DROP CONSTRAINT session_clients_client_id_fkey;
ALTER TABLE consents              DROP CONSTRAINT consents_tenant_id_fkey;
ALTER TABLE consents              DROP CONSTRAINT consents_client_id_fkey;
ALTER TABLE client_assertion_jtis DROP CONSTRAINT client_assertion_jtis_tenant_id_fkey;
ALTER TABLE client_assertion_jtis DROP CONSTRAINT client_assertion_jtis_client_id_fkey;
ALTER TABLE sessions              DROP CONSTRAINT sessions_tenant_id_fkey;
ALTER TABLE revoked_access_tokens DROP CONSTRAINT revoked_access_tokens_tenant_id_fkey;
ALTER TABLE rate_windows          DROP CONSTRAINT rate_windows_tenant_id_fkey;
ALTER TABLE sign_in_throttle      DROP CONSTRAINT sign_in_throttle_tenant_id_fkey;
ALTER TABLE mfa_ceremonies        DROP CONSTRAINT mfa_ceremonies_tenant_id_fkey;
ALTER TABLE mfa_failures          DROP CONSTRAINT mfa_failures_tenant_id_fkey;
ALTER TABLE audit_log             DROP CONSTRAINT audit_log_tenant_id_fkey;
ALTER TABLE notifications         DROP CONSTRAINT notifications_tenant_id_fkey;
ALTER TABLE mail_outbox           DROP CONSTRAINT mail_outbox_tenant_id_fkey;
ALTER TABLE scim_request_log      DROP CONSTRAINT scim_request_log_tenant_id_fkey;

-- What the dropped keys cascaded. A client's rows go with it (and with its tenant, whose
-- clients cascade to here).
CREATE FUNCTION client_rows_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM grants WHERE client_id = OLD.id;
    DELETE FROM authorization_codes WHERE client_id = OLD.id;
    DELETE FROM session_clients WHERE client_id = OLD.id;
    DELETE FROM consents WHERE client_id = OLD.id;
    DELETE FROM client_assertion_jtis WHERE client_id = OLD.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER client_rows_gone AFTER DELETE ON clients
    FOR EACH ROW EXECUTE FUNCTION client_rows_gone();

-- A tenant's rows in these tables go with it (most would also go with its users, sessions
-- and clients; these say it outright).
CREATE FUNCTION tenant_rows_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM refresh_tokens WHERE tenant_id = OLD.id;
    DELETE FROM grants WHERE tenant_id = OLD.id;
    DELETE FROM authorization_codes WHERE tenant_id = OLD.id;
    DELETE FROM session_clients WHERE tenant_id = OLD.id;
    DELETE FROM consents WHERE tenant_id = OLD.id;
    DELETE FROM client_assertion_jtis WHERE tenant_id = OLD.id;
    DELETE FROM sessions WHERE tenant_id = OLD.id;
    DELETE FROM revoked_access_tokens WHERE tenant_id = OLD.id;
    DELETE FROM rate_windows WHERE tenant_id = OLD.id;
    DELETE FROM sign_in_throttle WHERE tenant_id = OLD.id;
    DELETE FROM mfa_ceremonies WHERE tenant_id = OLD.id;
    DELETE FROM mfa_failures WHERE tenant_id = OLD.id;
    DELETE FROM audit_log WHERE tenant_id = OLD.id;
    DELETE FROM notifications WHERE tenant_id = OLD.id;
    DELETE FROM mail_outbox WHERE tenant_id = OLD.id;
    DELETE FROM scim_request_log WHERE tenant_id = OLD.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER tenant_rows_gone AFTER DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenant_rows_gone();
