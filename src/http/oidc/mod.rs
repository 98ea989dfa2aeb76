//! The OpenID Connect endpoints of each tenant's issuer `/t/{tenant}`: discovery, JWKS, token,
//! userinfo, introspection, the sign-in and consent pages.

mod authorize;
mod client_request;
mod consent;
mod cookies;
pub(crate) mod csrf;
mod device_cookie;
mod discovery;
mod error;
pub(crate) mod i18n;
mod introspect;
pub(crate) mod login;
mod logout;
mod logout_pages;
pub(crate) mod mfa;
mod mfa_pages;
mod mfa_texts;
pub(crate) mod pages;
mod revoke;
mod second_factor_page;
mod security;
mod security_page;
mod token;
mod userinfo;
mod webauthn;

use super::AppState;
use axum::Router;
use axum::routing::{get, post};

/// A readable page refusing a request the input guard stopped.
pub(crate) fn refused_page(
    status: axum::http::StatusCode,
    message: &str,
) -> axum::response::Response {
    pages::error(status, "This request cannot be handled", message)
}

/// The routes of this module (full paths, merged into `app`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/.well-known/openid-configuration",
            get(discovery::configuration),
        )
        .route("/t/{tenant}/jwks", get(discovery::jwks))
        .route("/t/{tenant}/token", post(token::token))
        .route(
            "/t/{tenant}/userinfo",
            get(userinfo::get).post(userinfo::post),
        )
        .route("/t/{tenant}/introspect", post(introspect::introspect))
        .route("/t/{tenant}/revoke", post(revoke::revoke))
        .route("/t/{tenant}/", get(login::home))
        .route(
            "/t/{tenant}/authorize",
            get(authorize::get).post(authorize::post),
        )
        .route("/t/{tenant}/authorize/consent", post(consent::submit))
        .route("/t/{tenant}/login", get(login::show).post(login::submit))
        .route("/t/{tenant}/logout", get(logout::get).post(logout::post))
        .route("/t/{tenant}/logout/confirm", post(logout::confirm))
        // Second factors: the sign-in step and the user's own security page.
        .route("/t/{tenant}/login/mfa", get(mfa::show))
        .route("/t/{tenant}/login/mfa/totp", post(mfa::totp))
        .route("/t/{tenant}/login/mfa/recovery", post(mfa::recovery))
        .route("/t/{tenant}/account/security", get(security::show))
        .route(
            "/t/{tenant}/account/security/totp",
            get(security::totp_show).post(security::totp_confirm),
        )
        .route(
            "/t/{tenant}/account/security/factors/{id}/remove",
            post(security::remove),
        )
        .route(
            "/t/{tenant}/account/security/factors/{id}/rename",
            post(security::rename),
        )
        .route(
            "/t/{tenant}/account/security/recovery-codes",
            post(security::regenerate),
        )
        .route(
            "/t/{tenant}/account/security/password/remove",
            post(security::remove_password),
        )
        // WebAuthn: passkeys and security keys (JSON for the pages' script).
        .route("/t/{tenant}/webauthn.js", get(webauthn::script))
        .route(
            "/t/{tenant}/webauthn/register/start",
            post(webauthn::register_start),
        )
        .route(
            "/t/{tenant}/webauthn/register/finish",
            post(webauthn::register_finish),
        )
        .route(
            "/t/{tenant}/webauthn/login/start",
            post(webauthn::login_start),
        )
        .route(
            "/t/{tenant}/webauthn/login/finish",
            post(webauthn::login_finish),
        )
        .route(
            "/t/{tenant}/webauthn/verify/start",
            post(webauthn::verify_start),
        )
        .route(
            "/t/{tenant}/webauthn/verify/finish",
            post(webauthn::verify_finish),
        )
}
