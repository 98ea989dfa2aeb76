-- Who is applying an import to a tenant now: one import writes to a tenant at a time (several
-- imports of one file at once would each create, and each add the memberships of, the same
-- users). Held until `expires_at` (ms) and renewed while the import runs, so a lease left by a
-- dead process lapses by itself.
CREATE TABLE import_leases (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
