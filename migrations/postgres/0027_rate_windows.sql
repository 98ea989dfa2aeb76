-- Fixed-window event counters shared by every replica (e.g. password reset requests per client
-- address): the window's start and end (ms) and how many events it has counted. Rows of ended
-- windows are purged with the other expired protocol state.
CREATE TABLE rate_windows (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    count       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
