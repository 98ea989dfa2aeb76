-- The file of an import checked in the console (a dry run), kept until the person applies it
-- (rows go with their tenant), with the options it was checked with.
CREATE TABLE import_job_files (
    job_id     TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    options    TEXT NOT NULL,
    body       BYTEA NOT NULL
);
