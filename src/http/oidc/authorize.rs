//! `GET/POST /t/{tenant}/authorize`: validate, then sign in, ask for consent, or redirect with
//! a code or error.

use super::consent;
use super::i18n::Lang;
use super::login::{internal_in, tenant_or_page};
use super::pages;
use crate::domain::Tenant;
use crate::http::AppState;
use crate::oidc::authorize::{self, AuthorizeRequest, Decision, Parsed, enc};
use crate::oidc::error::OAuthError;
use crate::oidc::{issuer, signin};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

pub type Pairs = Vec<(String, String)>;

pub async fn get(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Pairs>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(pairs)) => handle(s, slug, headers, pairs).await,
        Err(_) => unreadable(&headers),
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
        Err(_) => unreadable(&headers),
    }
}

fn unreadable(headers: &HeaderMap) -> Response {
    let lang = Lang::choose(None, headers);
    bad_request(lang, lang.texts().params_unreadable)
}

/// A page for a request that cannot be answered to the client.
pub fn bad_request(lang: Lang, message: &str) -> Response {
    pages::error_in(
        lang,
        StatusCode::BAD_REQUEST,
        lang.texts().link_invalid_title,
        message,
    )
}

fn server_error(lang: Lang, e: OAuthError) -> Response {
    tracing::error!(error = %e.description(), "authorization request failed");
    super::login::failed_page(lang)
}

/// The language of the pages for `pairs` (their `ui_locales`, else the browser's).
pub fn lang_of(pairs: &Pairs, headers: &HeaderMap) -> Lang {
    let ui_locales = pairs.iter().find(|(k, _)| k == "ui_locales");
    Lang::choose(ui_locales.map(|(_, v)| v.as_str()), headers)
}

/// The validated request, or the response that ends it (an error page or redirect).
pub async fn validate(
    s: &AppState,
    tenant: &Tenant,
    lang: Lang,
    pairs: Pairs,
) -> Result<Box<AuthorizeRequest>, Response> {
    let issuer = issuer(&s.config.public_url, &tenant.slug);
    match authorize::parse(&s.oidc, &s.store, tenant, &issuer, pairs).await {
        Err(e) => Err(server_error(lang, e)),
        Ok(Err(page)) => Err(bad_request(lang, &page.0)),
        Ok(Ok(Parsed::Refused {
            redirect_uri,
            state,
            refusal,
        })) => Err(pages::see_other(&authorize::error_redirect(
            &redirect_uri,
            state.as_deref(),
            &issuer,
            &refusal,
        ))),
        Ok(Ok(Parsed::Valid(req))) => Ok(req),
    }
}

async fn handle(s: AppState, slug: String, headers: HeaderMap, pairs: Pairs) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let lang = lang_of(&pairs, &headers);
    let req = match validate(&s, &tenant, lang, pairs).await {
        Ok(req) => req,
        Err(res) => return res,
    };
    let session = match signin::current(
        &s.store,
        &tenant,
        super::login::session_secret(&s, &slug, &headers),
    )
    .await
    {
        Ok(session) => session,
        Err(e) => return internal_in(lang, e),
    };
    let issuer = issuer(&s.config.public_url, &tenant.slug);
    let decision = authorize::decide(&s.store, &tenant, &issuer, &req, session).await;
    respond(&s, &tenant, &headers, lang, &req, decision)
}

/// The response to a decision: a redirect, or the consent page.
pub fn respond(
    s: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    lang: Lang,
    req: &AuthorizeRequest,
    decision: Result<Decision, OAuthError>,
) -> Response {
    match decision {
        Ok(Decision::Redirect(url)) => pages::see_other(&url),
        Ok(Decision::SignIn {
            return_to,
            login_hint,
        }) => {
            let mut url = format!("/t/{}/login?return_to={}", tenant.slug, enc(&return_to));
            if let Some(h) = login_hint {
                url.push_str(&format!("&login_hint={}", enc(&h)));
            }
            if let Some(l) = &req.ui_locales {
                url.push_str(&format!("&ui_locales={}", enc(l)));
            }
            pages::see_other(&url)
        }
        Ok(Decision::SecondFactor { return_to, level }) => {
            let mut url = format!(
                "/t/{}/login/mfa?return_to={}&level={}",
                tenant.slug,
                enc(&return_to),
                level.as_str()
            );
            if let Some(l) = &req.ui_locales {
                url.push_str(&format!("&ui_locales={}", enc(l)));
            }
            pages::see_other(&url)
        }
        Ok(Decision::Consent(needed)) => consent::page(s, tenant, headers, lang, req, &needed),
        Err(e) => server_error(lang, e),
    }
}
