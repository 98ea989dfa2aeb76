//! OAuth errors on the wire: RFC 6749 §5.2 JSON, `WWW-Authenticate` on `invalid_client`
//! (Basic) and `invalid_token` (Bearer, RFC 6750 §3).

use crate::oidc::error::{ErrorCode, OAuthError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = match self.code {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken | ErrorCode::MissingToken => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let bearer = matches!(
            self.code,
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope
        )
        .then(|| bearer_challenge(&self));
        let body = serde_json::json!({
            "error": self.code.as_str(),
            "error_description": self.description(),
        });
        let mut res = (status, axum::Json(body)).into_response();
        let headers = res.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.code == ErrorCode::InvalidClient {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="castellan", charset="UTF-8""#),
            );
        }
        if self.code == ErrorCode::MissingToken {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="castellan""#),
            );
        }
        if let Some(challenge) = bearer {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        res
    }
}

/// `Bearer error="...", error_description="..."` (RFC 6750 §3); the description keeps only
/// characters a quoted string may hold.
fn bearer_challenge(e: &OAuthError) -> HeaderValue {
    let description: String = e
        .description()
        .chars()
        .filter(|c| (' '..='~').contains(c) && *c != '"' && *c != '\\')
        .collect();
    // Only userinfo asks for a scope: `openid`.
    let scope = if e.code == ErrorCode::InsufficientScope {
        r#", scope="openid""#
    } else {
        ""
    };
    let value = format!(
        r#"Bearer realm="castellan", error="{}", error_description="{description}"{scope}"#,
        e.code.as_str()
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}
