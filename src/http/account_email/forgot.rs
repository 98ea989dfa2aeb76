//! `/t/{tenant}/forgot`: "forgot password". The person types an address; the answer is the same
//! page whatever happens next, and it does not wait for it: the request is handed to a task
//! (`admin::account_email::request_reset`), so whether the address is known, sent a link or
//! over its limit shows neither in the page nor in the time it takes. A client address that
//! asked `resets_per_client` times in the window is not heard further (same page): counted by
//! each replica in memory (cheap, before any task starts) and by all replicas together in the
//! database. The form carries the browser's CSRF token.

use super::texts::EmailTexts;
use crate::admin::account_email::{self, Links};
use crate::domain::Tenant;
use crate::domain::clock::now_ms;
use crate::domain::throttle::Client;
use crate::http::AppState;
use crate::http::oidc::csrf;
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::login::{form_expired, form_unreadable, tenant_or_page};
use crate::http::oidc::pages::{Filled, Frame};
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

pub enum ForgotStep {
    Ask { csrf: String },
    Sent { text: Filled, hint: String },
}

#[derive(Template)]
#[template(path = "pages/forgot.html")]
struct ForgotPage {
    frame: Frame,
    t: &'static EmailTexts,
    slug: String,
    step: ForgotStep,
}

fn page(tenant: &Tenant, lang: Lang, step: ForgotStep) -> Response {
    let t = EmailTexts::of(lang);
    let title = match step {
        ForgotStep::Ask { .. } => t.forgot_title,
        ForgotStep::Sent { .. } => t.sent_title,
    };
    super::page(lang, &tenant.name, title, StatusCode::OK, |frame| {
        ForgotPage {
            frame,
            t,
            slug: tenant.slug.clone(),
            step,
        }
    })
}

/// `GET /t/{tenant}/forgot`.
pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let token = csrf::browser(&s, &tenant, &headers);
    let step = ForgotStep::Ask {
        csrf: token.token.clone(),
    };
    let res = page(&tenant, Lang::choose(None, &headers), step);
    csrf::with_cookie(&s, &tenant, &token, res)
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ForgotFields {
    csrf: Option<String>,
    email: String,
}

/// `POST /t/{tenant}/forgot`.
pub async fn submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<ForgotFields>, FormRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let lang = Lang::choose(None, &headers);
    let Ok(Form(f)) = form else {
        return form_unreadable(lang);
    };
    if !csrf::browser_ok(&s, &tenant, &headers, f.csrf.as_deref()) {
        return form_expired(lang);
    }
    let email: String = f.email.trim().chars().take(320).collect();
    let settings = &s.config.account_email;
    let ip = client
        .ip
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let key = format!("forgot:{}:{ip}", tenant.id);
    if s.limits.allow(
        &key,
        settings.resets_per_client,
        settings.window_ms(),
        now_ms(),
    ) {
        ask(&s, &tenant, &email, &ip);
    } else {
        tracing::info!(tenant = %tenant.slug, "password reset requests from one client address over the limit");
    }
    let t = EmailTexts::of(lang);
    let minutes = settings.reset_link_minutes.to_string();
    let step = ForgotStep::Sent {
        text: Filled::new(t.sent_text, "{email}", &email),
        hint: t.sent_hint.replace("{minutes}", &minutes),
    };
    page(&tenant, lang, step)
}

/// Hands the request to a task: the page answers without waiting for it. The task counts the
/// request against the client address's limit in the database too (the in-memory count above
/// is each replica's own; this one is shared by every replica), then asks for the mail.
fn ask(s: &AppState, tenant: &Tenant, email: &str, ip: &str) {
    let (store, config) = (s.store.clone(), s.config.clone());
    let (tenant, email, key) = (tenant.clone(), email.to_owned(), format!("forgot:{ip}"));
    tokio::spawn(async move {
        let settings = &config.account_email;
        let counted = store
            .count_event(&tenant.id, &key, settings.window_ms(), now_ms())
            .await;
        match counted {
            Ok(n) if n <= i64::from(settings.resets_per_client) => {}
            Ok(_) => {
                tracing::info!(tenant = %tenant.slug, "password reset requests from one client address over the limit (all replicas)");
                return;
            }
            Err(e) => {
                tracing::error!(tenant = %tenant.slug, error = %e, "a password reset request could not be counted; not sent");
                return;
            }
        }
        let links = Links::of(&config);
        match account_email::request_reset(&store, &tenant, &email, links).await {
            Ok(outcome) => {
                tracing::info!(tenant = %tenant.slug, ?outcome, "password reset requested");
            }
            Err(e) => {
                tracing::error!(tenant = %tenant.slug, error = %e, "a password reset request failed")
            }
        }
    });
}
