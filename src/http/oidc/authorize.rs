//! `GET/POST /t/{tenant}/authorize`: validate, then sign in or redirect with a code or error.

use super::cookies;
use super::login::{internal, tenant_or_page};
use super::pages;
use crate::http::AppState;
use crate::oidc::authorize::{self, Decision, Parsed, enc};
use crate::oidc::error::OAuthError;
use crate::oidc::{issuer, signin};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

type Pairs = Vec<(String, String)>;

pub async fn get(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Pairs>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(pairs)) => handle(s, slug, headers, pairs).await,
        Err(_) => bad_request("The request's parameters cannot be read."),
    }
}

pub async fn post(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(pairs)) => handle(s, slug, headers, pairs).await,
        Err(_) => bad_request("The request's parameters cannot be read."),
    }
}

fn bad_request(message: &str) -> Response {
    pages::error(
        StatusCode::BAD_REQUEST,
        "This sign-in link is not valid",
        message,
    )
}

fn server_error(e: OAuthError) -> Response {
    tracing::error!(error = %e.description, "authorization request failed");
    pages::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "An internal error occurred; it has been logged. Please try again.",
    )
}

fn found(location: &str) -> Response {
    pages::see_other(location)
}

async fn handle(s: AppState, slug: String, headers: HeaderMap, pairs: Pairs) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let issuer = issuer(&s.config.public_url, &tenant.slug);
    let req = match authorize::parse(&s.oidc, &s.store, &tenant, pairs).await {
        Err(e) => return server_error(e),
        Ok(Err(page)) => return bad_request(&page.0),
        Ok(Ok(Parsed::Refused {
            redirect_uri,
            state,
            refusal,
        })) => {
            return found(&authorize::error_redirect(
                &redirect_uri,
                state.as_deref(),
                &issuer,
                &refusal,
            ));
        }
        Ok(Ok(Parsed::Valid(req))) => req,
    };
    let session =
        match signin::current(&s.store, &tenant, cookies::get(&headers, cookies::SESSION)).await {
            Ok(session) => session,
            Err(e) => return internal(e),
        };
    match authorize::decide(&s.store, &tenant, &issuer, &req, session).await {
        Ok(Decision::Redirect(url)) => found(&url),
        Ok(Decision::SignIn {
            return_to,
            login_hint,
        }) => {
            let mut url = format!("/t/{}/login?return_to={}", tenant.slug, enc(&return_to));
            if let Some(h) = login_hint {
                url.push_str(&format!("&login_hint={}", enc(&h)));
            }
            found(&url)
        }
        Err(e) => server_error(e),
    }
}
