//! The console's "What people change themselves" page
//! (`/t/{tenant}/console/fields/self-service`): the tenant's profile policy, the standard
//! profile fields and the custom fields each with a switch, read and set through
//! `admin::profile_policy` (`settings.read` to see, `settings.write` to change).

use super::forms::signed_post;
use super::{Console, Shell, refusal, render};
use crate::admin::profile_policy;
use crate::domain::permissions::admin;
use crate::domain::profile_policy::{ProfilePolicy, STANDARD_FIELDS, attribute};
use crate::domain::throttle::Client;
use crate::domain::{AttributeDef, DomainError};
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/t/{tenant}/console/fields/self-service",
        get(show).post(save),
    )
}

/// One switch: the field's name (as the API names it), its label, and whether it is open.
pub struct Choice {
    name: String,
    label: String,
    open: bool,
}

#[derive(Template)]
#[template(path = "console/self_service.html")]
struct SelfServicePage {
    shell: Shell,
    can_write: bool,
    standard: Vec<Choice>,
    custom: Vec<Choice>,
    error: Option<String>,
}

/// The label of a standard profile field.
fn standard_label(name: &str) -> &'static str {
    match name {
        "given_name" => "Given name",
        "family_name" => "Family name",
        "display_name" => "Display name",
        "phone" => "Phone",
        "locale" => "Language",
        "timezone" => "Time zone",
        _ => "Field",
    }
}

fn page(
    console: &Console,
    status: StatusCode,
    policy: &ProfilePolicy,
    defs: &[AttributeDef],
    error: Option<String>,
) -> Response {
    render(
        status,
        &SelfServicePage {
            shell: console.shell("fields"),
            can_write: console.caller.holds(admin::SETTINGS_WRITE),
            standard: STANDARD_FIELDS
                .iter()
                .map(|f| Choice {
                    name: (*f).to_owned(),
                    label: standard_label(f).to_owned(),
                    open: policy.allows(f),
                })
                .collect(),
            custom: defs
                .iter()
                .map(|d| Choice {
                    name: attribute(&d.key),
                    label: d.label.clone(),
                    open: policy.allows(&attribute(&d.key)),
                })
                .collect(),
            error,
        },
    )
}

/// The policy and the custom fields, as the caller may read them.
async fn current(
    s: &AppState,
    console: &Console,
) -> Result<(ProfilePolicy, Vec<AttributeDef>), DomainError> {
    let policy = profile_policy::get(&s.store, &console.caller).await?;
    let defs = crate::admin::attributes::list(&s.store, &console.caller).await?;
    Ok((policy, defs))
}

/// `GET /t/{tenant}/console/fields/self-service`.
async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/fields/self-service");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    match current(&s, &console).await {
        Ok((policy, defs)) => page(&console, StatusCode::OK, &policy, &defs, None),
        Err(e) => refusal(e),
    }
}

/// `POST /t/{tenant}/console/fields/self-service`: each switch is a field `open.<name>`; the
/// fields not sent are closed.
async fn save(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let back = format!("/t/{slug}/console/fields/self-service");
    let (console, posted) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let defs = match crate::admin::attributes::list(&s.store, &console.caller).await {
        Ok(d) => d,
        Err(e) => return refusal(e),
    };
    let names = STANDARD_FIELDS
        .iter()
        .map(|f| (*f).to_owned())
        .chain(defs.iter().map(|d| attribute(&d.key)));
    let wanted = ProfilePolicy {
        editable: names
            .filter(|n| !posted.get(&format!("open.{n}")).is_empty())
            .collect(),
    };
    match profile_policy::set(&s.store, &console.caller, wanted.clone()).await {
        Ok(_) => see_other(&format!("/t/{slug}/console/fields?notice=self-service")),
        Err(DomainError::Invalid { message, .. }) => page(
            &console,
            StatusCode::BAD_REQUEST,
            &wanted,
            &defs,
            Some(message),
        ),
        Err(e) => refusal(e),
    }
}
