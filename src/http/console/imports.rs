//! The console's CSV import and export, in the People section: upload a file, which is checked
//! first (a dry run whose per-row report is shown), then applied with one click; the job's
//! progress is polled by htmx; its report is downloadable; the export is a download. Through
//! `admin::jobs` and `admin::export`, the functions of `POST /users/import`, `/jobs/{id}` and
//! `GET /users/export`, with their permissions: a manager imports into the accounts they
//! manage and exports the people they manage; someone without user rights gets neither.

use super::multipart::{Part, boundary, parse};
use super::{Console, Shell, is_htmx, refusal, render};
use crate::admin::export::Export;
use crate::admin::import::Options;
use crate::admin::invitations::Outlet;
use crate::admin::jobs;
use crate::domain::jobs::{Job, JobState};
use crate::domain::throttle::Client;
use crate::domain::{DomainError, JobId};
use crate::http::AppState;
use crate::http::admin::{MAX_IMPORT_BYTES, export_body, report_body};
use crate::http::oidc::pages;
use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/console/users/import",
            get(upload_page)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/t/{tenant}/console/users/import/{job}", get(job_page))
        .route("/t/{tenant}/console/users/import/{job}/apply", post(apply))
        .route("/t/{tenant}/console/users/import/{job}/report", get(report))
        .route("/t/{tenant}/console/users/export", get(export))
}

/// Report lines shown on the page; the download has them all.
const SHOWN_ROWS: usize = 500;

#[derive(Template)]
#[template(path = "console/import.html")]
struct UploadPage {
    shell: Shell,
    error: Option<String>,
    mail: bool,
}

#[derive(Template)]
#[template(path = "console/import_job.html")]
struct JobPage {
    shell: Shell,
    job: Job,
    /// The job's progress, in percent.
    percent: i64,
    /// Report lines, refused ones first.
    rows: Vec<Line>,
    /// More lines than shown.
    more: bool,
    /// A finished check whose file can be applied.
    can_apply: bool,
}

/// One line of a report as shown.
struct Line {
    line: String,
    email: String,
    outcome: String,
    reason: String,
}

#[derive(serde::Deserialize)]
struct JobPath {
    tenant: String,
    job: JobId,
}

async fn console(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    client: &Client,
    back: &str,
) -> Result<Console, Response> {
    let console = Console::of(s, slug, headers, client, back).await?;
    console.caller.user_write_scope().map_err(refusal)?;
    Ok(console)
}

fn upload_form(
    s: &AppState,
    console: &Console,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let page = UploadPage {
        shell: console.shell("users"),
        error,
        mail: Outlet::of(&s.config).mail,
    };
    render(status, &page)
}

/// `GET /t/{tenant}/console/users/import`.
async fn upload_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/users/import");
    match console(&s, &slug, &headers, &client, &back).await {
        Ok(c) => upload_form(&s, &c, StatusCode::OK, None),
        Err(page) => page,
    }
}

/// `POST /t/{tenant}/console/users/import` (multipart: `csrf`, `file`, options): checks the
/// file (a dry run), then its page.
async fn upload(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let back = format!("/t/{slug}/console/users/import");
    let c = match console(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let parts = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(boundary)
        .and_then(|b| parse(&body, &b));
    let Some(parts) = parts else {
        return upload_form(
            &s,
            &c,
            StatusCode::BAD_REQUEST,
            Some("The form could not be read: choose a file and send it again.".into()),
        );
    };
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| std::str::from_utf8(&p.body).ok())
    };
    if let Some(refused) = c.csrf_refusal(&s, &headers, text("csrf")) {
        return refused;
    }
    let file = parts
        .iter()
        .find(|p| p.name == "file" && p.filename.is_some());
    let Some(Part { body: bytes, .. }) = file.filter(|f| !f.body.is_empty()) else {
        return upload_form(
            &s,
            &c,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Choose a CSV file to import.".into()),
        );
    };
    let options = Options {
        all_or_nothing: text("all_or_nothing").is_some(),
        invite: text("invite").is_some(),
        mail: Outlet::of(&s.config).mail,
        ..Options::default()
    };
    let url = s.config.public_url.clone();
    match jobs::start_checked(
        &s.store,
        s.oidc.clone(),
        url,
        &c.caller,
        bytes.clone(),
        options,
    )
    .await
    {
        Ok(job) => pages::see_other(&format!("/t/{slug}/console/users/import/{}", job.id)),
        Err(DomainError::Invalid { message, .. }) => upload_form(
            &s,
            &c,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(format!("The file cannot be imported: {message}.")),
        ),
        Err(e) => refusal(e),
    }
}

/// `GET /t/{tenant}/console/users/import/{job}`: the job, its progress (htmx polls this page
/// while it runs and takes its status block) and, once finished, its report.
async fn job_page(
    State(s): State<AppState>,
    Path(p): Path<JobPath>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{}/console/users/import/{}", p.tenant, p.job);
    let c = match console(&s, &p.tenant, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let job = match jobs::get(&s.store, &c.caller, &p.job).await {
        Ok(job) => job,
        Err(e) => return refusal(e),
    };
    if is_htmx(&headers) && job.state != JobState::Running {
        // Finished: the whole page again, with the report.
        let mut res = StatusCode::NO_CONTENT.into_response();
        res.headers_mut()
            .insert("hx-refresh", HeaderValue::from_static("true"));
        return res;
    }
    let (rows, more) = match job.state {
        JobState::Running => (vec![], false),
        _ => match shown_rows(&s, &c, &p.job).await {
            Ok(r) => r,
            Err(e) => return refusal(e),
        },
    };
    let can_apply = job.dry_run
        && job.state == JobState::Succeeded
        && s.store
            .has_job_file(c.caller.tenant_id(), &job.id)
            .await
            .unwrap_or(false);
    let counts = &job.counts;
    let percent = if counts.total > 0 {
        counts.done * 100 / counts.total
    } else {
        100
    };
    let page = JobPage {
        shell: c.shell("users"),
        percent: percent.clamp(0, 100),
        job,
        rows,
        more,
        can_apply,
    };
    render(StatusCode::OK, &page)
}

/// The report lines to show: refused ones first, then the others, at most [`SHOWN_ROWS`];
/// whether there are more.
async fn shown_rows(
    s: &AppState,
    c: &Console,
    id: &JobId,
) -> Result<(Vec<Line>, bool), DomainError> {
    let mut report = jobs::report(&s.store, &c.caller, id).await?;
    let (mut refused, mut others, mut total) = (vec![], vec![], 0usize);
    let mut first = true;
    while let Some(part) = report.next_part().await? {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(std::mem::take(&mut first))
            .from_reader(part.as_bytes());
        for r in reader.records().flatten() {
            total += 1;
            let cell = |i: usize| r.get(i).unwrap_or("").to_owned();
            let line = Line {
                line: cell(0),
                email: cell(1),
                outcome: cell(3),
                reason: cell(4),
            };
            let into = if line.outcome == "refused" {
                &mut refused
            } else {
                &mut others
            };
            if into.len() < SHOWN_ROWS {
                into.push(line);
            }
        }
    }
    refused.extend(others);
    refused.truncate(SHOWN_ROWS);
    Ok((refused, total > SHOWN_ROWS))
}

/// `POST /t/{tenant}/console/users/import/{job}/apply`: imports the checked file for real.
async fn apply(
    State(s): State<AppState>,
    Path(p): Path<JobPath>,
    headers: HeaderMap,
    client: Client,
    form: Result<
        axum::Form<std::collections::BTreeMap<String, String>>,
        axum::extract::rejection::FormRejection,
    >,
) -> Response {
    let back = format!("/t/{}/console/users/import/{}", p.tenant, p.job);
    let c = match console(&s, &p.tenant, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let csrf = form.as_ref().ok().and_then(|f| f.get("csrf").cloned());
    if let Some(refused) = c.csrf_refusal(&s, &headers, csrf.as_deref()) {
        return refused;
    }
    let url = s.config.public_url.clone();
    let mail = Outlet::of(&s.config).mail;
    match jobs::apply_checked(&s.store, s.oidc.clone(), url, &c.caller, &p.job, mail).await {
        Ok(job) => pages::see_other(&format!("/t/{}/console/users/import/{}", p.tenant, job.id)),
        Err(e) => refusal(e),
    }
}

/// `GET /t/{tenant}/console/users/import/{job}/report`: the report as a CSV download.
async fn report(
    State(s): State<AppState>,
    Path(p): Path<JobPath>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{}/console/users/import/{}", p.tenant, p.job);
    let c = match console(&s, &p.tenant, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let report = match jobs::report(&s.store, &c.caller, &p.job).await {
        Ok(r) => r,
        Err(e) => return refusal(e),
    };
    download(report_body(report), &format!("import-{}-report.csv", p.job))
}

/// `GET /t/{tenant}/console/users/export`: the users the person may read, as CSV.
async fn export(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/users");
    let c = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let export = match Export::start(s.store.clone(), c.caller).await {
        Ok(e) => e,
        Err(e) => return refusal(e),
    };
    download(export_body(export), "users.csv")
}

fn download(body: Body, filename: &str) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}
