-- Import jobs of the admin API: a CSV import runs in the background and its caller polls the
-- job for its state and counts, then reads the per-row report (CSV) stored with it.
CREATE TABLE import_jobs (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    state      TEXT NOT NULL,
    dry_run    BOOLEAN NOT NULL,
    rows_total BIGINT NOT NULL DEFAULT 0,
    rows_done  BIGINT NOT NULL DEFAULT 0,
    created    BIGINT NOT NULL DEFAULT 0,
    updated    BIGINT NOT NULL DEFAULT 0,
    unchanged  BIGINT NOT NULL DEFAULT 0,
    refused    BIGINT NOT NULL DEFAULT 0,
    skipped    BIGINT NOT NULL DEFAULT 0,
    error      TEXT,
    report     TEXT,
    actor_kind TEXT NOT NULL,
    actor_id   TEXT,
    actor_label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX import_jobs_tenant ON import_jobs (tenant_id, created_at);
