//! `/t/{tenant}/setup?link=...`: the owner's set-up page, reached by the single-use link the
//! first start prints (or `castellan tenant setup-link`). The owner chooses a password (the
//! tenant's password rules, hashed in a place of the bounded queue), the link is used up, and
//! they sign in to the console. A used, expired or replaced link gets a page that says what to
//! do. The form has the browser's CSRF token, as the sign-in form does.

use super::{refusal, render};
use crate::admin::setup_links;
use crate::domain::DomainError;
use crate::http::AppState;
use crate::http::oidc::csrf;
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::login::{form_expired, tenant_or_page};
use crate::http::oidc::pages::{self, Frame};
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

pub enum Step {
    Form {
        email: String,
        link: String,
        csrf: String,
    },
    Done {
        email: String,
    },
    Gone,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    frame: Frame,
    title: &'static str,
    slug: String,
    error: Option<String>,
    step: Step,
}

fn page(
    tenant: &crate::domain::Tenant,
    status: StatusCode,
    error: Option<String>,
    step: Step,
) -> Response {
    let title = match step {
        Step::Form { .. } => "Set your password",
        Step::Done { .. } => "Your password is set",
        Step::Gone => "This link no longer works",
    };
    render(
        status,
        &SetupPage {
            frame: Frame::new(
                Lang::En,
                format!("{title} · {}", tenant.name),
                Some(&tenant.name),
            ),
            title,
            slug: tenant.slug.clone(),
            error,
            step,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    link: String,
}

/// `GET /t/{tenant}/setup?link=...`.
pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<SetupQuery>, QueryRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let link = query.map(|Query(q)| q.link).unwrap_or_default();
    let user = match setup_links::owner_of_link(&s.store, &tenant, &link).await {
        Ok(u) => u,
        Err(e) => return refusal(e),
    };
    let Some(user) = user else {
        return page(&tenant, StatusCode::GONE, None, Step::Gone);
    };
    let token = csrf::browser(&s, &tenant, &headers);
    let res = page(
        &tenant,
        StatusCode::OK,
        None,
        Step::Form {
            email: user.email,
            link,
            csrf: token.token.clone(),
        },
    );
    csrf::with_cookie(&s, &tenant, &token, res)
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    link: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// `message` as a sentence: its first letter a capital, a full stop at the end.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// `POST /t/{tenant}/setup`.
pub async fn submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Result<Form<SetupForm>, FormRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(Form(f)) = form else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The form could not be read",
            "Open the link again and fill in the form.",
        );
    };
    if !csrf::browser_ok(&s, &tenant, &headers, f.csrf.as_deref()) {
        return form_expired(Lang::En);
    }
    let user = match setup_links::owner_of_link(&s.store, &tenant, &f.link).await {
        Ok(Some(u)) => u,
        Ok(None) => return page(&tenant, StatusCode::GONE, None, Step::Gone),
        Err(e) => return refusal(e),
    };
    let again = |error: String| {
        let token = csrf::browser(&s, &tenant, &headers);
        let res = page(
            &tenant,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(error),
            Step::Form {
                email: user.email.clone(),
                link: f.link.clone(),
                csrf: token.token.clone(),
            },
        );
        csrf::with_cookie(&s, &tenant, &token, res)
    };
    if f.password != f.confirm {
        return again("The two passwords are not the same.".into());
    }
    match setup_links::set_password(&s.store, &tenant, &f.link, f.password, &s.hash_queue).await {
        Ok(Some(u)) => page(&tenant, StatusCode::OK, None, Step::Done { email: u.email }),
        Ok(None) => page(&tenant, StatusCode::GONE, None, Step::Gone),
        Err(DomainError::Invalid { message, .. }) => again(sentence(&message)),
        // A full hashing queue is 503 with Retry-After; anything else, the error page.
        Err(e) => refusal(e),
    }
}
