//! Import jobs: created running, their counts moved forward as rows are decided, finished with
//! their report. Every query names the tenant.

use super::{Backend, db_error};
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
             updated_at = $12 WHERE tenant_id = $1 AND id = $2",
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
