//! Import jobs of the admin API: an import started in the background, its state and counts
//! polled, its report read once it has finished. A job is seen by whoever started it and by
//! callers who may read every user of the tenant; anyone else gets 404, as for another tenant's.

use super::import::{self, Counts, Options, REPORT_HEADER};
use crate::domain::authz::{Caller, UserScope};
use crate::domain::jobs::{Job, JobCounts, JobState};
use crate::domain::*;
use crate::oidc::Provider;
use crate::oidc::logout::Notifier;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// How often a running job's counts are written.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// Starts importing `bytes` as a job and answers at once with the running job. A file that
/// cannot be read as a whole is refused now (422), before any job exists.
pub async fn start_import(
    store: &Store,
    provider: Arc<Provider>,
    public_url: String,
    caller: &Caller,
    bytes: Vec<u8>,
    options: Options,
) -> Result<Job> {
    caller.user_write_scope()?;
    let defs = store.attribute_defs(caller.tenant_id()).await?;
    let keys: Vec<String> = defs.into_iter().map(|d| d.key).collect();
    import::parse::ImportFile::open(&bytes, &options.mapping, &keys)?;
    let total = import::parse::count_records(&bytes) as i64;
    let job = store
        .insert_job(
            caller.tenant_id(),
            "users.import",
            options.dry_run,
            total,
            &caller.actor(),
        )
        .await?;
    let (store, caller, id) = (store.clone(), caller.clone(), job.id.clone());
    tokio::spawn(async move {
        run_job(
            &store,
            &provider,
            &public_url,
            &caller,
            &id,
            &bytes,
            &options,
            total,
        )
        .await;
    });
    Ok(job)
}

#[allow(clippy::too_many_arguments)]
async fn run_job(
    store: &Store,
    provider: &Provider,
    public_url: &str,
    caller: &Caller,
    id: &JobId,
    bytes: &[u8],
    options: &Options,
    total: i64,
) {
    let tenant = caller.tenant_id();
    let notifier = Notifier {
        provider,
        public_url,
    };
    let (tx, mut rx) = tokio::sync::watch::channel(Counts::default());
    let progress = async {
        while rx.changed().await.is_ok() {
            let counts = job_counts(&rx.borrow_and_update(), total);
            if let Err(e) = store.update_job(tenant, id, &counts, None).await {
                tracing::warn!(error = %e, "an import job's progress could not be written");
            }
            tokio::time::sleep(PROGRESS_EVERY).await;
        }
    };
    let mut report = csv::Writer::from_writer(Vec::new());
    let _ = report.write_record(REPORT_HEADER);
    let work = async {
        let result = import::run(store, notifier, caller, bytes, options, |row| {
            let _ = report.write_record(row.cells());
            tx.send_modify(|c| c.add(row.outcome));
        })
        .await;
        drop(tx);
        result
    };
    let (result, ()) = tokio::join!(work, progress);
    let report = report
        .into_inner()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .ok();
    let (counts, end) = match result {
        Ok(c) => (job_counts(&c, total), (JobState::Succeeded, None, report)),
        Err(e) => (
            JobCounts {
                total,
                ..JobCounts::default()
            },
            (
                JobState::Failed,
                Some(super::import::plan::reason(e)),
                report,
            ),
        ),
    };
    if let Err(e) = store.update_job(tenant, id, &counts, Some(end)).await {
        tracing::error!(error = %e, job = %id, "an import job's end could not be written");
    }
}

fn job_counts(c: &Counts, total: i64) -> JobCounts {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    JobCounts {
        total,
        done: n(c.rows),
        created: n(c.created),
        updated: n(c.updated),
        unchanged: n(c.unchanged),
        refused: n(c.refused),
        skipped: n(c.skipped),
    }
}

/// A job the caller may see.
pub async fn get(store: &Store, caller: &Caller, id: &JobId) -> Result<Job> {
    let job = store
        .get_job(caller.tenant_id(), id)
        .await?
        .ok_or(DomainError::NotFound("job"))?;
    let actor = caller.actor();
    let mine = job.started_by_id == (actor.kind.to_owned(), actor.id);
    let everyone = matches!(caller.user_read_scope(), Ok(UserScope::All));
    if mine || everyone {
        Ok(job)
    } else {
        Err(DomainError::NotFound("job"))
    }
}

/// The CSV report of a finished job the caller may see (409 while it runs).
pub async fn report(store: &Store, caller: &Caller, id: &JobId) -> Result<String> {
    let job = get(store, caller, id).await?;
    if job.state == JobState::Running {
        return Err(DomainError::conflict(
            "the job is still running; its report comes when it has finished",
        ));
    }
    store
        .job_report(caller.tenant_id(), id)
        .await?
        .ok_or(DomainError::NotFound("report"))
}
