//! `GET/POST /t/{tenant}/login`: the sign-in form, with a double-submit CSRF token; and the
//! tenant's home page `/t/{tenant}/`, where a sign-in without `return_to` lands.

use super::cookies;
use super::pages::{self, LoginForm};
use crate::domain::passwords::Password;
use crate::domain::sessions::SESSION_TTL_MS;
use crate::domain::{DomainError, Tenant};
use crate::http::AppState;
use crate::oidc::signin;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use std::fmt;

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    login_hint: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct LoginFields {
    email: String,
    password: String,
    csrf: Option<String>,
    return_to: Option<String>,
}

impl fmt::Debug for LoginFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginFields")
            .field("email", &self.email)
            .field("password", &"***")
            .finish()
    }
}

/// A failure the page cannot recover from: logged, answered with a generic page.
pub fn internal(e: DomainError) -> Response {
    tracing::error!(error = %e, "sign-in page failed");
    pages::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "An internal error occurred; it has been logged. Please try again.",
    )
}

/// The tenant of the path, or a 404 page.
pub async fn tenant_or_page(s: &AppState, slug: &str) -> Result<Tenant, Response> {
    match s.store.tenant_by_slug(slug).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(pages::error(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such organisation here.",
        )),
        Err(e) => Err(internal(e)),
    }
}

pub fn secure(s: &AppState) -> bool {
    s.config.public_url.starts_with("https://")
}

/// The sign-in page with the CSRF cookie set.
fn form(
    s: &AppState,
    tenant: &Tenant,
    status: StatusCode,
    csrf: &str,
    return_to: Option<&str>,
    email: &str,
    error: Option<&str>,
) -> Response {
    let mut res = pages::login(
        status,
        &LoginForm {
            tenant_name: &tenant.name,
            slug: &tenant.slug,
            csrf,
            return_to,
            email,
            error,
        },
    );
    if let Some(c) = cookies::set(cookies::CSRF, csrf, &tenant.slug, secure(s), None) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let csrf = cookies::get(&headers, cookies::CSRF)
        .filter(|c| c.len() >= 32 && c.len() <= 64)
        .map(str::to_owned)
        .unwrap_or_else(signin::new_csrf_token);
    let email = q.login_hint.as_deref().unwrap_or_default();
    form(
        &s,
        &tenant,
        StatusCode::OK,
        &csrf,
        q.return_to.as_deref(),
        email,
        None,
    )
}

pub async fn submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    fields: Result<Form<LoginFields>, FormRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(Form(f)) = fields else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            "The sign-in form was not sent correctly.",
        );
    };
    let cookie = cookies::get(&headers, cookies::CSRF);
    if !signin::csrf_ok(cookie, f.csrf.as_deref()) {
        return pages::error(
            StatusCode::FORBIDDEN,
            "Sign-in form expired",
            "The sign-in form has expired or was not sent from this site. Go back, reload the page and try again.",
        );
    }
    let csrf = cookie.unwrap_or_default().to_owned();
    let started = match signin::sign_in(
        &s.store,
        &tenant,
        &f.email,
        Password::typed(f.password),
        None,
    )
    .await
    {
        Ok(started) => started,
        Err(e) => return internal(e),
    };
    let Some(started) = started else {
        return form(
            &s,
            &tenant,
            StatusCode::UNAUTHORIZED,
            &csrf,
            f.return_to.as_deref(),
            f.email.trim(),
            Some(signin::REFUSED),
        );
    };
    let target = signin::safe_return_to(&tenant.slug, f.return_to.as_deref());
    let mut res = pages::see_other(&target);
    let max_age = Some(SESSION_TTL_MS / 1000);
    if let Some(c) = cookies::set(
        cookies::SESSION,
        &started.secret,
        &tenant.slug,
        secure(&s),
        max_age,
    ) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// The tenant's home page: who is signed in, if anyone.
pub async fn home(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    match signin::current(&s.store, &tenant, cookies::get(&headers, cookies::SESSION)).await {
        Ok(Some((_, user))) => pages::info(
            &tenant.name,
            "You are signed in",
            &format!(
                "Signed in as {}. You can close this page and return to your application.",
                user.email
            ),
        ),
        Ok(None) => pages::info(
            &tenant.name,
            "You are not signed in",
            "Open the application you want to use; it will bring you to the sign-in page.",
        ),
        Err(e) => internal(e),
    }
}
