-- An import job's per-row report, written a part at a time while the job runs (the whole
-- report never sits in memory) and read back in order. `import_jobs.report` stays for the
-- reports of jobs finished before this table existed.
CREATE TABLE import_job_reports (
    job_id    TEXT NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq       BIGINT NOT NULL,
    part      TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
