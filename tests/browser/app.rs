//! The app the person signs in to: a first-party public client registered through the admin
//! API, the `openidconnect` crate as its relying party (discovery, PKCE, ID token verified
//! against the tenant's JWKS), and a small listener serving its redirect URI so the browser
//! lands on a real page.

use crate::common::TestServer;
use axum::Router;
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

type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub struct App {
    rp: Rp,
    http: reqwest::Client,
    /// Where the browser arrives with the code.
    pub redirect_uri: String,
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// One authorization request, waiting for the browser to come back.
pub struct Pending {
    pub url: String,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
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
    /// Starts the redirect URI's listener, registers the client in tenant `acme` and reads
    /// the tenant's discovery document.
    pub async fn start(s: &TestServer) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let redirect_uri = format!(
            "http://localhost:{}/callback",
            listener.local_addr().unwrap().port()
        );
        let router = Router::new().route(
            "/callback",
            get(|| async {
                Html("<!doctype html><title>App</title><h1>Signed in to the app</h1>")
            }),
        );
        let listener = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });

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
        let issuer = IssuerUrl::new(format!("{}/t/acme", s.base)).unwrap();
        let metadata = CoreProviderMetadata::discover_async(issuer, &|req| send(http.clone(), req))
            .await
            .expect("discovery and JWKS");
        let rp = CoreClient::from_provider_metadata(metadata, ClientId::new(client_id), None)
            .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).unwrap());
        App {
            rp,
            http,
            redirect_uri,
            listener,
        }
    }

    /// A new authorization request (PKCE S256, state, nonce) for the browser to open.
    pub fn authorize(&self) -> Pending {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
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
        Pending {
            url: url.to_string(),
            state,
            nonce,
            verifier,
        }
    }

    /// Takes the URL the browser arrived at: checks `state`, exchanges the code with the PKCE
    /// verifier and returns the verified ID token's claims.
    pub async fn finish(&self, pending: Pending, callback: &str) -> CoreIdTokenClaims {
        let url = reqwest::Url::parse(callback).expect("the callback is a URL");
        assert!(callback.starts_with(&self.redirect_uri), "{callback}");
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        assert_eq!(param("error"), None, "{callback}");
        assert_eq!(
            param("state").as_deref(),
            Some(pending.state.secret().as_str())
        );
        let code = param("code").expect("a code");
        let tokens = self
            .rp
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(pending.verifier)
            .request_async(&|req| send(self.http.clone(), req))
            .await
            .expect("token exchange");
        let verifier = self
            .rp
            .id_token_verifier()
            .set_allowed_algs([CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
        tokens
            .id_token()
            .expect("an ID token")
            .claims(&verifier, &pending.nonce)
            .expect("a valid ID token")
            .clone()
    }
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
