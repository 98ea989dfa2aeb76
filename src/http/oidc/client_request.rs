//! What the token, introspection and revocation endpoints all read: the tenant of the path, its
//! issuer, the `Authorization` header and the form, with OAuth errors for anything unreadable.

use crate::domain::Tenant;
use crate::http::AppState;
use crate::oidc::error::OAuthError;
use crate::oidc::issuer;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A client's form POST to one of the tenant's OAuth endpoints.
pub struct ClientRequest {
    pub tenant: Tenant,
    pub issuer: String,
    pub authorization: Option<String>,
    pub pairs: Vec<(String, String)>,
}

impl FromRequest<AppState> for ClientRequest {
    type Rejection = OAuthError;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let Path(slug) = Path::<String>::from_request_parts(&mut parts, s)
            .await
            .map_err(|_| OAuthError::unknown_tenant(""))?;
        let tenant = s.oidc.tenant(&s.store, &slug).await?;
        let authorization = single_authorization(&parts.headers)?
            .map(|v| v.to_str().map(str::to_owned))
            .transpose()
            .map_err(|_| OAuthError::invalid_client("the Authorization header is not valid"))?;
        let Form(pairs) =
            Form::<Vec<(String, String)>>::from_request(Request::from_parts(parts, body), s)
                .await
                .map_err(form_error)?;
        let issuer = issuer(&s.config.public_url, &tenant.slug);
        Ok(ClientRequest {
            tenant,
            issuer,
            authorization,
            pairs,
        })
    }
}

/// A form body that cannot be read: 413 when it is over the size limit, else `invalid_request`
/// (the rejection's text names no input, only what was wrong with it).
pub fn form_error(e: FormRejection) -> OAuthError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return OAuthError::too_large(crate::http::MAX_BODY);
    }
    OAuthError::invalid_request(format!(
        "send the parameters as application/x-www-form-urlencoded: {}",
        e.body_text()
    ))
}

/// The one `Authorization` header, if any; several are `invalid_request` (RFC 6749 §3.2: a
/// client uses one authentication method; RFC 9110 §5.3 does not allow the header to repeat).
pub fn single_authorization(headers: &HeaderMap) -> Result<Option<&HeaderValue>, OAuthError> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let first = all.next();
    if all.next().is_some() {
        return Err(OAuthError::invalid_request(
            "the Authorization header is repeated",
        ));
    }
    Ok(first)
}

/// `res` with `Cache-Control: no-store` and `Pragma: no-cache`: token material is never cached.
pub fn no_store(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// A JSON answer that is never cached.
pub fn no_store_json(body: impl serde::Serialize) -> Response {
    no_store(axum::Json(body).into_response())
}
