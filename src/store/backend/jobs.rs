//! Import jobs: created running, their counts moved forward as rows are decided, finished with
//! their report. Every query names the tenant.

use super::{Backend, DB, db_error};
use crate::domain::audit::Actor;
use crate::domain::clock::now_ms;
use crate::domain::jobs::{Job, JobCounts, JobState};
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    kind: String,
    state: String,
    dry_run: bool,
    rows_total: i64,
    rows_done: i64,
    created: i64,
    updated: i64,
    unchanged: i64,
    refused: i64,
    skipped: i64,
    error: Option<String>,
    actor_label: String,
    created_at: i64,
    updated_at: i64,
    actor_kind: String,
    actor_id: Option<String>,
}

const COLUMNS: &str = "id, kind, state, dry_run, rows_total, rows_done, created, updated, unchanged, \
     refused, skipped, error, actor_label, created_at, updated_at, actor_kind, actor_id";

impl Backend {
    /// Records a new running job.
    pub async fn insert_job(
        &self,
        tenant: &TenantId,
        kind: &str,
        dry_run: bool,
        total: i64,
        actor: &Actor,
    ) -> Result<Job> {
        let id = JobId::generate();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO import_jobs (id, tenant_id, kind, state, dry_run, rows_total, actor_kind, actor_id, actor_label, created_at, updated_at)
             VALUES ($1, $2, $3, 'running', $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(kind)
        .bind(dry_run)
        .bind(total)
        .bind(actor.kind)
        .bind(actor.id.as_deref())
        .bind(&actor.label)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        self.get_job(tenant, &id)
            .await?
            .ok_or(DomainError::NotFound("job"))
    }

    /// Moves a job's counts forward; with `end`, finishes it with its state, error and report.
    pub async fn update_job(
        &self,
        tenant: &TenantId,
        id: &JobId,
        counts: &JobCounts,
        end: Option<(JobState, Option<String>, Option<String>)>,
    ) -> Result<()> {
        let (state, error, report) = end.unwrap_or((JobState::Running, None, None));
        sqlx::query(
            "UPDATE import_jobs SET rows_done = $3, created = $4, updated = $5, unchanged = $6, \
             refused = $7, skipped = $8, state = $9, error = $10, report = COALESCE($11, report), \
             updated_at = $12 WHERE tenant_id = $1 AND id = $2 AND state = 'running'",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(counts.done)
        .bind(counts.created)
        .bind(counts.updated)
        .bind(counts.unchanged)
        .bind(counts.refused)
        .bind(counts.skipped)
        .bind(state.as_str())
        .bind(error)
        .bind(report)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// Fails every running job (of any tenant) whose last sign of life is older than
    /// `stale_before` (ms): its process died. The number of jobs failed.
    pub async fn fail_abandoned_jobs(&self, stale_before: i64, reason: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE import_jobs SET state = 'failed', error = $1, updated_at = $2 \
             WHERE state = 'running' AND updated_at < $3",
        )
        .bind(reason)
        .bind(now_ms())
        .bind(stale_before)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    /// A job of the tenant.
    pub async fn get_job(&self, tenant: &TenantId, id: &JobId) -> Result<Option<Job>> {
        let row: Option<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM import_jobs WHERE tenant_id = $1 AND id = $2"
        )))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(job))
    }

    /// Appends part `seq` (counted from 0) of a job's report.
    pub async fn append_job_report(
        &self,
        tenant: &TenantId,
        id: &JobId,
        seq: i64,
        part: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO import_job_reports (job_id, tenant_id, seq, part) \
             SELECT id, tenant_id, $3, $4 FROM import_jobs WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(seq)
        .bind(part)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// Keeps the file (and its options, as text) of a checked import until it is applied.
    pub async fn keep_job_file(
        &self,
        tenant: &TenantId,
        id: &JobId,
        options: &str,
        body: &[u8],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO import_job_files (job_id, tenant_id, options, body) \
             SELECT id, tenant_id, $3, $4 FROM import_jobs WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(options)
        .bind(body)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// Takes the kept file of a checked import (its options and bytes): the first caller gets
    /// it, the file is gone for the next.
    pub async fn take_job_file(
        &self,
        tenant: &TenantId,
        id: &JobId,
    ) -> Result<Option<(String, Vec<u8>)>> {
        let mut tx = self.write_tx().await?;
        let kept: Option<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT options, body FROM import_job_files WHERE tenant_id = $1 AND job_id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let gone = sqlx::query("DELETE FROM import_job_files WHERE tenant_id = $1 AND job_id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(kept.filter(|_| gone.rows_affected() == 1))
    }

    /// Whether a checked import's file is kept (it can be applied).
    pub async fn has_job_file(&self, tenant: &TenantId, id: &JobId) -> Result<bool> {
        sqlx::query_scalar::<DB, bool>(
            "SELECT EXISTS (SELECT 1 FROM import_job_files WHERE tenant_id = $1 AND job_id = $2)",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)
    }

    /// Part `seq` of a job's report, if written.
    pub async fn job_report_part(
        &self,
        tenant: &TenantId,
        id: &JobId,
        seq: i64,
    ) -> Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT part FROM import_job_reports WHERE tenant_id = $1 AND job_id = $2 AND seq = $3",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(seq)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)
    }

    /// The report of a finished job of the tenant (`None`: no such job, or not finished).
    pub async fn job_report(&self, tenant: &TenantId, id: &JobId) -> Result<Option<String>> {
        let report: Option<Option<String>> =
            sqlx::query_scalar("SELECT report FROM import_jobs WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(report.flatten())
    }
}

fn job(r: JobRow) -> Job {
    Job {
        id: JobId(r.id),
        kind: r.kind,
        state: JobState::parse(&r.state).unwrap_or(JobState::Failed),
        dry_run: r.dry_run,
        counts: JobCounts {
            total: r.rows_total,
            done: r.rows_done,
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
            refused: r.refused,
            skipped: r.skipped,
        },
        error: r.error,
        started_by: r.actor_label,
        started_by_id: (r.actor_kind, r.actor_id),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

impl Backend {
    /// Takes (or renews) the tenant's import lease for `holder` until `expires_at` (ms): true
    /// when `holder` has it now, false while another holder's lease has not expired.
    pub async fn take_import_lease(
        &self,
        tenant: &TenantId,
        holder: &str,
        expires_at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO import_leases (tenant_id, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE import_leases.holder = excluded.holder OR import_leases.expires_at < $4",
        )
        .bind(tenant.as_str())
        .bind(holder)
        .bind(expires_at)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the tenant's import lease back, if `holder` still has it.
    pub async fn drop_import_lease(&self, tenant: &TenantId, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM import_leases WHERE tenant_id = $1 AND holder = $2")
            .bind(tenant.as_str())
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
