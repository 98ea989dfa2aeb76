//! The input guard: one layer in front of every route that refuses hostile bytes before a
//! handler (and so the database) sees them. A path segment that is not UTF-8 or holds a control
//! character, a tenant slug outside the slug alphabet, a query string or form body that is not
//! UTF-8 once decoded or holds a forbidden control character, a JSON body whose strings hold one:
//! each is answered in the format of the surface it was sent to (problem+json, SCIM error, OAuth
//! error JSON, or a readable page), with a 4xx status.

use super::problem::Problem;
use super::{MAX_BODY, oidc};
use crate::domain::text::{self, Refusal};
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::scim::discovery::MAX_PAYLOAD;
use crate::scim::error::ScimError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The API a request is addressed to, which decides the format of a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Surface {
    Admin,
    Scim,
    /// Endpoints machines call: token, introspection, revocation, userinfo, discovery, JWKS,
    /// and the pages' WebAuthn calls.
    OAuth,
    /// Sign-in, consent, MFA, security and logout pages: people read the answer.
    Page,
    Other,
}

/// Where in the request the hostile bytes were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Path,
    Query,
    Body,
}

fn surface(path: &str) -> Surface {
    let Some(rest) = path.strip_prefix("/t/") else {
        return Surface::Other;
    };
    let after = rest.split_once('/').map_or("", |(_, after)| after);
    let first = after.split('/').next().unwrap_or_default();
    match first {
        "api" => Surface::Admin,
        "scim" => Surface::Scim,
        "token" | "introspect" | "revoke" | "userinfo" | "jwks" | ".well-known" | "webauthn" => {
            Surface::OAuth
        }
        _ => Surface::Page,
    }
}

/// Refuses hostile paths, query strings and bodies; passes everything else on unchanged.
pub async fn refuse_hostile_input(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let on = surface(path);
    if text::check_path(path).is_err() {
        return refusal(
            on,
            Place::Path,
            "the path is not valid UTF-8 or holds a control character",
        );
    }
    if let Some(slug) = path
        .strip_prefix("/t/")
        .map(|r| r.split('/').next().unwrap_or(r))
        && !text::is_slug(slug)
    {
        return refusal(on, Place::Path, "no tenant has this name");
    }
    if let Some(query) = req.uri().query()
        && let Err(e) = text::check_form(query.as_bytes())
    {
        return query_refusal(on, &e);
    }
    // SCIM takes what `/ServiceProviderConfig` advertises (a large group's PUT, a Bulk).
    let limit = if on == Surface::Scim {
        MAX_PAYLOAD
    } else {
        MAX_BODY
    };
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return too_large(on),
    };
    let checked = if form {
        text::check_form(&bytes)
    } else {
        text::check_json(&bytes)
    };
    if let Err(e) = checked {
        return refusal(on, Place::Body, &e.to_string());
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn query_refusal(on: Surface, e: &Refusal) -> Response {
    if on == Surface::Scim && e.name().is_some_and(|n| n.eq_ignore_ascii_case("filter")) {
        return ScimError::invalid_filter(e.to_string()).into_response();
    }
    refusal(on, Place::Query, &e.to_string())
}

/// The refusal of `on`'s protocol: a path names nothing (404 where the protocol has one), a bad
/// query is 400, a bad body 400 (422 in the admin API, whose validation errors are 422).
fn refusal(on: Surface, place: Place, message: &str) -> Response {
    match (on, place) {
        (Surface::Admin | Surface::Other, Place::Path) => {
            Problem::not_found(format!("no such resource: {message}")).into_response()
        }
        (Surface::Admin | Surface::Other, Place::Query) => {
            Problem::bad_request(message).into_response()
        }
        (Surface::Admin | Surface::Other, Place::Body) => Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "validation",
            detail: message.to_owned(),
            field: None,
        }
        .into_response(),
        (Surface::Scim, Place::Path) => ScimError::not_found(message).into_response(),
        (Surface::Scim, _) => ScimError::invalid_value(message).into_response(),
        (Surface::OAuth, Place::Path) => {
            OAuthError::new(ErrorCode::NotFound, message).into_response()
        }
        (Surface::OAuth, _) => OAuthError::invalid_request(message).into_response(),
        (Surface::Page, Place::Path) => oidc::refused_page(StatusCode::NOT_FOUND, message),
        (Surface::Page, _) => oidc::refused_page(StatusCode::BAD_REQUEST, message),
    }
}

fn too_large(on: Surface) -> Response {
    let message = "the request body is too large";
    match on {
        Surface::Admin | Surface::Other => {
            Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", message)
                .into_response()
        }
        Surface::Scim => ScimError::new(413, None, message).into_response(),
        Surface::OAuth => {
            let mut res = OAuthError::invalid_request(message).into_response();
            *res.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            res
        }
        Surface::Page => oidc::refused_page(StatusCode::PAYLOAD_TOO_LARGE, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surfaces() {
        assert_eq!(surface("/t/acme/api/v1/users"), Surface::Admin);
        assert_eq!(surface("/t/acme/scim/v2/Users"), Surface::Scim);
        for p in [
            "/t/acme/token",
            "/t/acme/jwks",
            "/t/acme/.well-known/openid-configuration",
        ] {
            assert_eq!(surface(p), Surface::OAuth, "{p}");
        }
        for p in [
            "/t/acme/login",
            "/t/acme/",
            "/t/acme",
            "/t/acme/account/security",
        ] {
            assert_eq!(surface(p), Surface::Page, "{p}");
        }
        assert_eq!(surface("/readyz"), Surface::Other);
    }
}
