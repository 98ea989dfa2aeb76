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

/// How often a running job says it is alive (its counts written again, even unchanged).
const HEARTBEAT: Duration = Duration::from_secs(5);

/// A running job not heard of for this long was left by a process that died.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// What a job left running by a dead process says once failed.
pub const ABANDONED: &str = "the server running this import stopped before it finished; the rows \
     applied until then stay applied: import the file again (rows already applied are unchanged)";

/// Fails the jobs whose process died (no heartbeat for [`ABANDONED_AFTER`]): at start-up, then
/// every half of that, for as long as the server runs. Safe with several servers on one
/// database: a live server's jobs keep beating.
pub async fn fail_abandoned(store: Store) {
    let mut every = tokio::time::interval(ABANDONED_AFTER / 2);
    loop {
        every.tick().await;
        match fail_abandoned_now(&store).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                jobs = n,
                "import jobs left running by a stopped server were marked failed"
            ),
            Err(e) => tracing::warn!(error = %e, "looking for abandoned import jobs failed"),
        }
    }
}

/// Fails the running jobs not heard of for [`ABANDONED_AFTER`]; how many.
pub async fn fail_abandoned_now(store: &Store) -> Result<u64> {
    let after = i64::try_from(ABANDONED_AFTER.as_millis()).unwrap_or(i64::MAX);
    let stale_before = crate::domain::clock::now_ms().saturating_sub(after);
    store.fail_abandoned_jobs(stale_before, ABANDONED).await
}

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

/// Checks `bytes` (a dry run, as [`start_import`]) and keeps the file with its options, so that
/// [`apply_checked`] imports it for real once its report was read (the console's two steps).
pub async fn start_checked(
    store: &Store,
    provider: Arc<Provider>,
    public_url: String,
    caller: &Caller,
    bytes: Vec<u8>,
    options: Options,
) -> Result<Job> {
    let kept = serde_json::json!({
        "all_or_nothing": options.all_or_nothing,
        "invite": options.invite,
    })
    .to_string();
    let options = Options {
        dry_run: true,
        ..options
    };
    let job = start_import(store, provider, public_url, caller, bytes.clone(), options).await?;
    store
        .keep_job_file(caller.tenant_id(), &job.id, &kept, &bytes)
        .await?;
    Ok(job)
}

/// Imports for real the file a checked import (job `id`, which the caller may see) kept, with
/// the options it was checked with; the file is used once.
pub async fn apply_checked(
    store: &Store,
    provider: Arc<Provider>,
    public_url: String,
    caller: &Caller,
    id: &JobId,
    mail: bool,
) -> Result<Job> {
    caller.user_write_scope()?;
    let checked = get(store, caller, id).await?;
    if checked.state == JobState::Running {
        return Err(DomainError::conflict(
            "the check is still running; apply the file once its report is ready",
        ));
    }
    let (kept, bytes) = store
        .take_job_file(caller.tenant_id(), id)
        .await?
        .ok_or_else(|| DomainError::conflict("this file was already applied (or is gone)"))?;
    let kept: serde_json::Value = serde_json::from_str(&kept).unwrap_or_default();
    let flag = |k: &str| {
        kept.get(k)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    let options = Options {
        all_or_nothing: flag("all_or_nothing"),
        invite: flag("invite"),
        mail,
        ..Options::default()
    };
    start_import(store, provider, public_url, caller, bytes, options).await
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
        let mut beat = tokio::time::interval(HEARTBEAT);
        loop {
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { break },
                _ = beat.tick() => {}
            }
            let counts = job_counts(&rx.borrow_and_update(), total);
            if let Err(e) = store.update_job(tenant, id, &counts, None).await {
                tracing::warn!(error = %e, "an import job's progress could not be written");
            }
            tokio::time::sleep(PROGRESS_EVERY).await;
        }
    };
    // The report goes to the store a part at a time, as rows are decided.
    let (parts, mut parts_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let writer = async {
        let (mut seq, mut failed) = (0i64, None);
        while let Some(part) = parts_rx.recv().await {
            if let Err(e) = store.append_job_report(tenant, id, seq, &part).await {
                failed.get_or_insert(e);
            }
            seq += 1;
        }
        failed
    };
    let work = async {
        let mut report = ReportParts::new();
        let result = import::run(store, notifier, caller, bytes, options, |row| {
            if let Some(part) = report.push(&row.cells()) {
                let _ = parts.send(part);
            }
            tx.send_modify(|c| c.add(row.outcome));
        })
        .await;
        let _ = parts.send(report.take());
        drop((tx, parts));
        result
    };
    let (result, (), failed) = tokio::join!(work, progress, writer);
    let result = match failed {
        Some(e) => Err(e),
        None => result,
    };
    let (counts, end) = match result {
        Ok(c) => (job_counts(&c, total), (JobState::Succeeded, None, None)),
        Err(e) => (
            JobCounts {
                total,
                ..JobCounts::default()
            },
            (JobState::Failed, Some(super::import::plan::reason(e)), None),
        ),
    };
    if let Err(e) = store.update_job(tenant, id, &counts, Some(end)).await {
        tracing::error!(error = %e, job = %id, "an import job's end could not be written");
    }
}

/// A report's CSV text cut into parts of [`ReportParts::ROWS`] rows, the header in the first.
struct ReportParts {
    writer: csv::Writer<Vec<u8>>,
    rows: usize,
}

impl ReportParts {
    const ROWS: usize = 2000;

    fn new() -> Self {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let _ = writer.write_record(REPORT_HEADER);
        ReportParts { writer, rows: 0 }
    }

    /// Adds a row; a full part when it makes one.
    fn push(&mut self, cells: &[String]) -> Option<String> {
        let _ = self.writer.write_record(cells);
        self.rows += 1;
        (self.rows >= Self::ROWS).then(|| self.take())
    }

    /// What was added since the last part.
    fn take(&mut self) -> String {
        let writer = std::mem::replace(&mut self.writer, csv::Writer::from_writer(Vec::new()));
        self.rows = 0;
        // Writing to memory cannot fail.
        let bytes = writer.into_inner().unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
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

/// The CSV report of a finished job the caller may see (409 while it runs), read a part at a
/// time: call [`Report::next_part`] until it gives `None`.
pub async fn report(store: &Store, caller: &Caller, id: &JobId) -> Result<Report> {
    let job = get(store, caller, id).await?;
    if job.state == JobState::Running {
        return Err(DomainError::conflict(
            "the job is still running; its report comes when it has finished",
        ));
    }
    let first = store.job_report_part(caller.tenant_id(), id, 0).await?;
    let first = match first {
        Some(part) => part,
        // A job finished before reports came in parts.
        None => store
            .job_report(caller.tenant_id(), id)
            .await?
            .ok_or(DomainError::NotFound("report"))?,
    };
    Ok(Report {
        store: store.clone(),
        tenant: caller.tenant_id().clone(),
        id: id.clone(),
        first: Some(first),
        next: 1,
    })
}

/// A finished job's report, read a part at a time.
pub struct Report {
    store: Store,
    tenant: TenantId,
    id: JobId,
    first: Option<String>,
    next: i64,
}

impl Report {
    /// The next part of the report's text, `None` after the last.
    pub async fn next_part(&mut self) -> Result<Option<String>> {
        if let Some(first) = self.first.take() {
            return Ok(Some(first));
        }
        let part = self
            .store
            .job_report_part(&self.tenant, &self.id, self.next)
            .await?;
        self.next += 1;
        Ok(part)
    }

    /// The whole report (for callers that keep it, such as tests and small reports).
    pub async fn text(mut self) -> Result<String> {
        let mut out = String::new();
        while let Some(part) = self.next_part().await? {
            out.push_str(&part);
        }
        Ok(out)
    }
}
