//! The app the person signs in to: a first-party public client registered through the admin
//! API, with the `openidconnect` crate as its relying party (discovery, PKCE, ID token verified
//! against the tenant's JWKS) behind a listener at its redirect URI, which exchanges the code
//! the moment the browser arrives, as a web app does.

use crate::common::TestServer;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    HttpRequest, HttpResponse, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, TokenResponse,
};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub struct App {
    shared: Arc<Shared>,
    /// Where the browser arrives with the code.
    pub redirect_uri: String,
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// What the app's callback handler needs and what it found.
struct Shared {
    rp: Rp,
    http: reqwest::Client,
    /// The requests sent, by `state`: their nonce and PKCE verifier.
    pending: Mutex<HashMap<String, (Nonce, PkceCodeVerifier)>>,
    /// What came back, by `state`: the verified ID token's claims, or why there is none.
    arrived: Mutex<HashMap<String, Result<CoreIdTokenClaims, String>>>,
    /// The verified ID tokens as they came, by `state` (for claims the crate does not type).
    raw: Mutex<HashMap<String, String>>,
}

/// One authorization request the browser is to open.
pub struct Pending {
    pub url: String,
    state: String,
}

/// An `openidconnect` HTTP client on top of reqwest 0.13 (the crate's own is built for 0.12).
async fn send(http: reqwest::Client, req: HttpRequest) -> Result<HttpResponse, std::io::Error> {
    let (parts, body) = req.into_parts();
    let res = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(std::io::Error::other)?;
    let mut out = openidconnect::http::Response::builder().status(res.status());
    for (k, v) in res.headers() {
        out = out.header(k, v);
    }
    let bytes = res.bytes().await.map_err(std::io::Error::other)?;
    out.body(bytes.to_vec()).map_err(std::io::Error::other)
}

impl App {
    /// Registers the client in tenant `acme`, reads the tenant's discovery document and starts
    /// the listener of the redirect URI.
    pub async fn start(s: &TestServer) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let redirect_uri = format!(
            "http://localhost:{}/callback",
            listener.local_addr().unwrap().port()
        );
        let (st, c) = s
            .post(
                "/clients",
                json!({ "name": "Web app", "kind": "public", "redirect_uris": [redirect_uri],
                        "grant_types": ["authorization_code"], "scopes": ["openid", "profile", "email"],
                        "first_party": true }),
            )
            .await;
        assert_eq!(st, 201, "{c}");
        let client_id = c["client_id"].as_str().unwrap().to_owned();

        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let issuer = IssuerUrl::new(format!("{}/t/acme", s.public_url)).unwrap();
        let metadata = CoreProviderMetadata::discover_async(issuer, &|req| send(http.clone(), req))
            .await
            .expect("discovery and JWKS");
        let rp = CoreClient::from_provider_metadata(metadata, ClientId::new(client_id), None)
            .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).unwrap());
        let shared = Arc::new(Shared {
            rp,
            http,
            pending: Mutex::default(),
            arrived: Mutex::default(),
            raw: Mutex::default(),
        });
        let router = Router::new()
            .route("/callback", get(callback))
            .with_state(shared.clone());
        let listener = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        App {
            shared,
            redirect_uri,
            listener,
        }
    }

    /// A new authorization request (PKCE S256, state, nonce) for the browser to open.
    pub fn authorize(&self) -> Pending {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .shared
            .rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let state = state.secret().clone();
        self.shared
            .pending
            .lock()
            .unwrap()
            .insert(state.clone(), (nonce, verifier));
        Pending {
            url: url.to_string(),
            state,
        }
    }

    /// The claims of the ID token the app got when the browser came back from `request`;
    /// fails the test when it did not come back or got no valid ID token.
    pub fn claims(&self, request: &Pending) -> CoreIdTokenClaims {
        match self.shared.arrived.lock().unwrap().remove(&request.state) {
            Some(Ok(claims)) => claims,
            Some(Err(why)) => panic!("the app got no ID token: {why}"),
            None => panic!("the browser never came back to the app for this request"),
        }
    }
}

impl App {
    /// All the claims of the (verified) ID token the app got for `request`, as JSON: also
    /// Castellan's own (`accounts`, `roles`...), which `CoreIdTokenClaims` does not type.
    pub fn all_claims(&self, request: &Pending) -> serde_json::Value {
        use base64::Engine;
        let jwt = self
            .shared
            .raw
            .lock()
            .unwrap()
            .get(&request.state)
            .cloned()
            .expect("the app got an ID token for this request");
        let payload = jwt.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }
}

/// `GET /callback`: what a web app does when the browser comes back: check `state`, exchange
/// the code at once (with the PKCE verifier) and verify the ID token (signature against the
/// JWKS, issuer, audience, nonce).
async fn callback(
    State(app): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> (StatusCode, Html<String>) {
    let state = query.get("state").cloned().unwrap_or_default();
    let outcome = exchange(&app, &state, &query).await;
    let page = match &outcome {
        Ok(claims) => (
            StatusCode::OK,
            format!(
                "<h1>Signed in to the app</h1><p>as {}</p>",
                claims.subject().as_str()
            ),
        ),
        Err(why) => (
            StatusCode::BAD_REQUEST,
            format!(
                "<h1>The app could not sign you in</h1><p>{}</p>",
                why.replace('&', "&amp;").replace('<', "&lt;")
            ),
        ),
    };
    app.arrived.lock().unwrap().insert(state, outcome);
    (
        page.0,
        Html(format!("<!doctype html><title>App</title>{}", page.1)),
    )
}

async fn exchange(
    app: &Shared,
    state: &str,
    query: &HashMap<String, String>,
) -> Result<CoreIdTokenClaims, String> {
    if let Some(error) = query.get("error") {
        return Err(format!(
            "error={error} {:?}",
            query.get("error_description")
        ));
    }
    let (nonce, verifier) = app
        .pending
        .lock()
        .unwrap()
        .remove(state)
        .ok_or_else(|| format!("unknown state {state:?}"))?;
    let code = query.get("code").ok_or("no code")?;
    let tokens = app
        .rp
        .exchange_code(AuthorizationCode::new(code.clone()))
        .map_err(|e| e.to_string())?
        .set_pkce_verifier(verifier)
        .request_async(&|req| send(app.http.clone(), req))
        .await
        .map_err(|e| format!("token exchange: {e:?}"))?;
    let verifier = app
        .rp
        .id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = tokens
        .id_token()
        .ok_or("no ID token")?
        .claims(&verifier, &nonce)
        .map_err(|e| format!("ID token: {e}"))?;
    if let Some(jwt) = tokens.id_token() {
        app.raw
            .lock()
            .unwrap()
            .insert(state.to_owned(), jwt.to_string());
    }
    Ok(claims.clone())
}
/// The `amr` of an ID token, as strings.
pub fn amr(claims: &CoreIdTokenClaims) -> Vec<String> {
    claims
        .auth_method_refs()
        .map(|amr| amr.iter().map(|m| m.as_str().to_owned()).collect())
        .unwrap_or_default()
}

/// The `acr` of an ID token.
pub fn acr(claims: &CoreIdTokenClaims) -> Option<String> {
    claims.auth_context_ref().map(|a| a.as_str().to_owned())
}
