-- An import job's per-row report, written a part at a time while the job runs (the whole
-- report never sits in memory) and read back in order. `import_jobs.report` stays for the
-- reports of jobs finished before this table existed. (No foreign key to `import_jobs`: that
-- table comes with a later migration number; rows go with their tenant.)
CREATE TABLE import_job_reports (
    job_id    TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq       BIGINT NOT NULL,
    part      TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
