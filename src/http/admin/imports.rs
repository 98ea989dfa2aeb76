//! `/users/import` (a CSV body, answered 202 with a job), `/jobs/{id}` and its report, and
//! `/users/export` (CSV streamed one page of users at a time).

use crate::admin::export::Export;
use crate::admin::import::Options;
use crate::admin::jobs;
use crate::domain::JobId;
use crate::domain::authz::Caller;
use crate::http::AppState;
use crate::http::extract::{Path, Query};
use crate::http::problem::{ApiResult, Problem};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

/// The largest import file the API takes (about 200,000 rows of a typical export).
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/users/import",
            post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/users/export", get(export))
        .route("/jobs/{id}", get(job))
        .route("/jobs/{id}/report", get(report))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    all_or_nothing: bool,
    /// Send each created `invited` user their invitation.
    #[serde(default)]
    invite: bool,
}

#[derive(Deserialize)]
struct JobPath {
    #[allow(dead_code)]
    tenant: String,
    id: JobId,
}

fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("text/csv") || v.eq_ignore_ascii_case("application/csv")
        })
}

async fn import(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ImportQuery>,
    req: Request,
) -> ApiResult<Response> {
    if !is_csv(req.headers()) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the file as text/csv",
        ));
    }
    let bytes = Bytes::from_request(req, &s)
        .await
        .map_err(|e| Problem::new(e.status(), "bad-request", e.body_text()))?;
    let options = Options {
        dry_run: q.dry_run,
        all_or_nothing: q.all_or_nothing,
        invite: q.invite,
        mail: crate::admin::invitations::Outlet::of(&s.config).mail,
        ..Options::default()
    };
    let job = jobs::start_import(
        &s.store,
        s.oidc.clone(),
        s.config.public_url.clone(),
        &caller,
        bytes.to_vec(),
        options,
    )
    .await?;
    let location = format!("/t/{}/api/v1/jobs/{}", caller.tenant.slug, job.id);
    let mut res = (StatusCode::ACCEPTED, axum::Json(job)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

async fn job(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<JobPath>,
) -> ApiResult<Response> {
    Ok(axum::Json(jobs::get(&s.store, &caller, &p.id).await?).into_response())
}

async fn report(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<JobPath>,
) -> ApiResult<Response> {
    let report = jobs::report(&s.store, &caller, &p.id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        report_body(report),
    )
        .into_response())
}

async fn export(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let export = Export::start(s.store.clone(), caller).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"users.csv\"",
            ),
        ],
        export_body(export),
    )
        .into_response())
}

/// An export as a streamed body: one page of users at a time.
pub fn export_body(export: Export) -> Body {
    let chunks = futures_util::stream::unfold(Some(export), |state| async move {
        let mut export = state?;
        match export.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(Bytes::from(chunk)), Some(export))),
            Ok(None) => None,
            Err(e) => {
                // The status line has gone out: the client sees a body cut short.
                tracing::error!(error = %e, "a user export failed part way");
                Some((Err(std::io::Error::other("export failed")), None))
            }
        }
    });
    Body::from_stream(chunks)
}

/// A job's report as a streamed body: one stored part at a time.
pub fn report_body(report: jobs::Report) -> Body {
    let parts = futures_util::stream::unfold(Some(report), |state| async move {
        let mut report = state?;
        match report.next_part().await {
            Ok(Some(part)) => Some((Ok(Bytes::from(part)), Some(report))),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "an import report failed part way");
                Some((Err(std::io::Error::other("report failed")), None))
            }
        }
    });
    Body::from_stream(parts)
}
