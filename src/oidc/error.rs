//! OAuth 2.0 errors (RFC 6749 §5.2, RFC 6750 §3.1): one value per error code. `http` turns them into the
//! RFC's JSON body with the right status and `WWW-Authenticate`.

use crate::domain::DomainError;

/// The error codes the token, userinfo and introspection endpoints answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    InvalidTarget,
    /// Revocation of a token type Castellan does not revoke (RFC 7009 §2.2.1).
    UnsupportedTokenType,
    /// A bearer access token that is not valid (RFC 6750 §3.1).
    InvalidToken,
    /// A valid bearer access token without the scope the resource needs (RFC 6750 §3.1): 403.
    InsufficientScope,
    /// A protected resource was asked for with no credentials at all (RFC 6750 §3.1): 401 with a
    /// bare `Bearer` challenge that carries no error code.
    MissingToken,
    /// The tenant in the path does not exist (404; not an RFC 6749 code).
    NotFound,
    /// The request body is larger than the endpoint takes: 413, code `invalid_request`.
    TooLarge,
    ServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest | Self::TooLarge => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidToken | Self::MissingToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::NotFound => "not_found",
            Self::ServerError => "server_error",
        }
    }
}

/// The longest `error_description` sent, in characters.
pub const MAX_DESCRIPTION: usize = 200;

/// `description` as RFC 6749 §5.2 allows it in `error_description`: only `%x20-21 / %x23-5B /
/// %x5D-7E` (printable ASCII but `"` and `\`), every other character replaced by `?`, at most
/// `MAX_DESCRIPTION` characters. Descriptions quote what the client sent; this keeps whatever
/// it sent from reaching the answer raw.
pub fn safe_description(description: &str) -> String {
    let mut out: String = description
        .chars()
        .take(MAX_DESCRIPTION + 1)
        .map(|c| match c {
            ' ' | '!' | '#'..='[' | ']'..='~' => c,
            _ => '?',
        })
        .collect();
    if out.len() > MAX_DESCRIPTION {
        out.truncate(MAX_DESCRIPTION - 3);
        out.push_str("...");
    }
    out
}

/// An OAuth error with a human-readable description (already made safe to send).
#[derive(Debug)]
pub struct OAuthError {
    pub code: ErrorCode,
    description: String,
}

impl OAuthError {
    /// An error of `code`; the description passes through `safe_description`.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: safe_description(&description.into()),
        }
    }
    /// The description, as it will be sent.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// 413: the body is larger than the endpoint takes.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            ErrorCode::TooLarge,
            format!("the request body is larger than {limit} bytes"),
        )
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }
    pub fn invalid_token(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidToken, d)
    }
    pub fn unknown_tenant(slug: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("tenant `{slug}` not found"))
    }
}

/// Anything unexpected is `server_error`; the detail is logged, never sent.
impl From<DomainError> for OAuthError {
    fn from(e: DomainError) -> Self {
        tracing::error!(error = %e, "OpenID Connect request failed");
        Self::new(
            ErrorCode::ServerError,
            "an internal error occurred; it has been logged",
        )
    }
}

pub type OAuthResult<T> = Result<T, OAuthError>;
