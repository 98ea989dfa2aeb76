//! The authorization endpoint (RFC 6749 §4.1, OpenID Connect Core §3.1.2): authorization code
//! with PKCE (S256 only). The client and its redirect URI are checked first; until both are
//! known good, errors are shown to the user, never redirected (RFC 6749 §4.1.2.1).

mod checks;
mod decide;

pub use decide::{ConsentNeeded, Decision, allow, decide};

use super::error::OAuthResult;
use super::{ClientEntry, Provider};
use crate::domain::Tenant;
use crate::domain::oidc::GrantType;
use crate::store::Store;
use checks::{check_pkce, parse_prompt};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::collections::HashMap;
use std::sync::Arc;

/// Characters escaped in query components (RFC 3986 unreserved ones stay).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a query component.
pub fn enc(s: &str) -> String {
    utf8_percent_encode(s, QUERY).to_string()
}

/// An error before the redirect URI is trusted: shown as a page.
#[derive(Debug)]
pub struct PageError(pub String);

/// An error redirected to the client (RFC 6749 §4.1.2.1).
#[derive(Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub description: String,
}

fn refuse(code: &'static str, description: impl Into<String>) -> Refusal {
    Refusal {
        code,
        description: description.into(),
    }
}

/// What `prompt` asks for (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Default, Clone, Copy)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    /// Ask for consent even when it was given before.
    pub consent: bool,
}

/// A validated authorization request.
#[derive(Debug)]
pub struct AuthorizeRequest {
    pub client: Arc<ClientEntry>,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Prompt,
    /// Seconds.
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// Authentication context classes the client asks for, most preferred first (OpenID
    /// Connect Core §3.1.2.1); the weakest one we know is demanded.
    pub acr_values: Vec<String>,
    /// Preferred languages of the pages (BCP 47 tags, space-separated).
    pub ui_locales: Option<String>,
    /// The user an `id_token_hint` names (its `sub`, once its signature and audience are
    /// checked): a session of anyone else does not serve the request.
    pub hint_sub: Option<String>,
    /// The parameters as received, to come back here after signing in.
    pub params: Vec<(String, String)>,
}

/// The request as parsed so far: a refusal still needs the trusted redirect URI and `state`.
pub enum Parsed {
    Valid(Box<AuthorizeRequest>),
    Refused {
        redirect_uri: String,
        state: Option<String>,
        refusal: Refusal,
    },
}

/// Checks the client and redirect URI (page errors), then the rest (redirected errors).
pub async fn parse(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    pairs: Vec<(String, String)>,
) -> OAuthResult<Result<Parsed, PageError>> {
    let mut map: HashMap<String, String> = HashMap::new();
    let mut repeated: Vec<String> = Vec::new();
    for (k, v) in &pairs {
        if v.is_empty() {
            continue;
        }
        if map.insert(k.clone(), v.clone()).is_some() {
            repeated.push(k.clone());
        }
    }
    for name in ["client_id", "redirect_uri"] {
        if repeated.iter().any(|r| r == name) {
            return Ok(Err(PageError(format!(
                "The parameter `{name}` is repeated."
            ))));
        }
    }
    let Some(client_id) = map.remove("client_id") else {
        return Ok(Err(PageError(
            "The request names no application (`client_id` is missing).".into(),
        )));
    };
    let Some(client) = provider.client(store, &tenant.id, &client_id).await? else {
        return Ok(Err(PageError(
            "The application that sent you here is not registered.".into(),
        )));
    };
    let Some(redirect_uri) = map.remove("redirect_uri") else {
        return Ok(Err(PageError("The request has no `redirect_uri`.".into())));
    };
    // Registered before the rule was enforced, a bad URI still gets nowhere.
    if !client.client.redirect_uris.contains(&redirect_uri)
        || crate::domain::redirect::refusal(&redirect_uri).is_some()
    {
        return Ok(Err(PageError(
            "The redirect URI is not registered for this application.".into(),
        )));
    }
    let state = map.remove("state");
    let hint = map.remove("id_token_hint");
    let checked = match check(client, &redirect_uri, state.clone(), map, &repeated, pairs) {
        Ok(mut req) => match hint {
            None => Ok(req),
            Some(token) => hinted_user(provider, store, tenant, issuer, &req, &token)
                .await?
                .map(|sub| {
                    req.hint_sub = Some(sub);
                    req
                }),
        },
        Err(refusal) => Err(refusal),
    };
    Ok(Ok(match checked {
        Ok(req) => Parsed::Valid(Box::new(req)),
        Err(refusal) => Parsed::Refused {
            redirect_uri,
            state,
            refusal,
        },
    }))
}

/// The `sub` of an `id_token_hint` (OpenID Connect Core §3.1.2.1): an ID token this issuer
/// signed (expired ones too) for this client; anything else is `invalid_request`.
async fn hinted_user(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    req: &AuthorizeRequest,
    token: &str,
) -> OAuthResult<Result<String, Refusal>> {
    let hint = match super::logout::verify_hint(provider, store, tenant, issuer, token).await? {
        Ok(h) => h,
        Err(_) => {
            return Ok(Err(refuse(
                "invalid_request",
                "the id_token_hint is not an ID token issued here",
            )));
        }
    };
    if hint.client_id() != Some(req.client.client.client_id.as_str()) {
        return Ok(Err(refuse(
            "invalid_request",
            "the id_token_hint was issued to another application",
        )));
    }
    Ok(Ok(hint.sub))
}

/// Everything after the redirect URI is trusted.
fn check(
    client: Arc<ClientEntry>,
    redirect_uri: &str,
    state: Option<String>,
    mut map: HashMap<String, String>,
    repeated: &[String],
    pairs: Vec<(String, String)>,
) -> Result<AuthorizeRequest, Refusal> {
    if let Some(r) = repeated.first() {
        return Err(refuse(
            "invalid_request",
            format!("the parameter `{r}` is repeated"),
        ));
    }
    if map.contains_key("request") {
        return Err(refuse(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if map.contains_key("request_uri") {
        return Err(refuse(
            "request_uri_not_supported",
            "request_uri is not supported",
        ));
    }
    match map.remove("response_type").as_deref() {
        None => return Err(refuse("invalid_request", "`response_type` is missing")),
        Some("code") => {}
        Some(other) => {
            return Err(refuse(
                "unsupported_response_type",
                format!("the response type `{other}` is not supported; use `code`"),
            ));
        }
    }
    if map.remove("response_mode").is_some_and(|m| m != "query") {
        return Err(refuse(
            "invalid_request",
            "only response_mode=query is supported",
        ));
    }
    if !client.client.allows(GrantType::AuthorizationCode) {
        return Err(refuse(
            "unauthorized_client",
            "this client may not use the authorization code grant",
        ));
    }
    let scopes: Vec<String> = map
        .remove("scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(refuse("invalid_scope", "the scope must include `openid`"));
    }
    if let Some(bad) = scopes.iter().find(|s| !client.client.scopes.contains(s)) {
        return Err(refuse(
            "invalid_scope",
            format!("the scope `{bad}` is not allowed for this client"),
        ));
    }
    let code_challenge = check_pkce(&mut map)?;
    let prompt = parse_prompt(map.remove("prompt").as_deref())?;
    let max_age =
        match map.remove("max_age") {
            None => None,
            Some(m) => Some(m.parse::<i64>().ok().filter(|m| *m >= 0).ok_or_else(|| {
                refuse("invalid_request", "`max_age` must be a number of seconds")
            })?),
        };
    Ok(AuthorizeRequest {
        client,
        redirect_uri: redirect_uri.to_owned(),
        state,
        scopes,
        nonce: map.remove("nonce"),
        code_challenge,
        prompt,
        max_age,
        login_hint: map.remove("login_hint"),
        acr_values: map
            .remove("acr_values")
            .unwrap_or_default()
            .split(' ')
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect(),
        ui_locales: map.remove("ui_locales"),
        hint_sub: None,
        params: pairs,
    })
}

/// The client's redirect URI with `params` added to its query.
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut url = redirect_uri.to_owned();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.push_str(&enc(v));
        sep = '&';
    }
    url
}

/// The error redirect (RFC 6749 §4.1.2.1, RFC 9207 `iss`).
pub fn error_redirect(
    redirect_uri: &str,
    state: Option<&str>,
    issuer: &str,
    refusal: &Refusal,
) -> String {
    let description = super::error::safe_description(&refusal.description);
    let mut p = vec![
        ("error", refusal.code),
        ("error_description", description.as_str()),
    ];
    if let Some(s) = state {
        p.push(("state", s));
    }
    p.push(("iss", issuer));
    redirect_with(redirect_uri, &p)
}
