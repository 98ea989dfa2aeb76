//! The `openidconnect` crate as the relying party: discovery, authorization URL with PKCE, the
//! sign-in form in a cookie-keeping client, code exchange, ID token verified against our JWKS.

use crate::backends;
use crate::browser::{Browser, PASSWORD, REDIRECT, param, public_client, user_with_password};
use crate::common::{Backend, TestServer};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, HttpRequest, HttpResponse, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

/// An `openidconnect` HTTP client on top of reqwest 0.13 (the crate's own is built for 0.12).
pub async fn send(http: reqwest::Client, req: HttpRequest) -> Result<HttpResponse, std::io::Error> {
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

async fn openidconnect_crate_signs_in(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    let user = user_with_password(&s, "ada@acme.test").await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let http = |req: HttpRequest| send(plain.clone(), req);

    let issuer = IssuerUrl::new(format!("{}/t/acme", s.base)).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .expect("discovery and JWKS");
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(client_id), None)
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new(&s);
    let page = browser.get(url.as_str()).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = browser
        .sign_in(&page.location.unwrap(), "ada@acme.test", PASSWORD)
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = browser.get(&page.location.unwrap()).await;
    let cb = page.location.unwrap();
    assert_eq!(
        param(&cb, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = param(&cb, "code").unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange");
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&verifier, &nonce)
        .expect("a valid ID token");
    assert_eq!(claims.subject().as_str(), user["id"].as_str().unwrap());
    assert_eq!(claims.email().map(|e| e.as_str()), Some("ada@acme.test"));
    assert!(claims.auth_time().is_some());
    assert!(tokens.access_token().secret().split('.').count() == 3);
}

backends!(openidconnect_crate_signs_in);
