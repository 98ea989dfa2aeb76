//! `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OpenID Connect Core §9) at the
//! token and introspection endpoints, with the exact error of every refusal.

use crate::common::{Backend, TestServer};
use crate::{backends, enc, service_client, token};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256,
    RSA_PSS_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use castellan::domain::oidc::{KeyAlg, KeyState};
use serde_json::{Value, json};

const CC: (&str, &str) = ("grant_type", "client_credentials");
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client's key pair: the private PKCS#8 DER and the public JWK (with `kid` and `alg`).
struct ClientKey {
    kid: String,
    alg: KeyAlg,
    der: Vec<u8>,
    jwk: Value,
}

fn new_key(alg: KeyAlg) -> ClientKey {
    let k = castellan::oidc::keys::generate(alg, KeyState::Active).unwrap();
    ClientKey {
        kid: k.kid.clone(),
        alg,
        der: STANDARD.decode(&k.private_pkcs8.0).unwrap(),
        jwk: k.public_jwk,
    }
}

/// A compact JWS of `claims` signed with `key`, its header naming `kid`.
fn sign(key: &ClientKey, kid: &str, claims: &Value) -> String {
    sign_as(key, key.alg.as_str(), kid, claims)
}

/// [`sign`] with the JWS algorithm `alg` (PS256 with an RSA key).
fn sign_as(key: &ClientKey, alg: &str, kid: &str, claims: &Value) -> String {
    let mut header = json!({ "alg": alg, "typ": "JWT", "kid": kid });
    if kid.is_empty() {
        header.as_object_mut().unwrap().remove("kid");
    }
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let rng = SystemRandom::new();
    let sig = match key.alg {
        KeyAlg::ES256 => {
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.der).unwrap();
            pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec()
        }
        KeyAlg::RS256 => {
            let pair = RsaKeyPair::from_pkcs8(&key.der).unwrap();
            let mut sig = vec![0; pair.public_modulus_len()];
            let padding = if alg == "PS256" {
                &RSA_PSS_SHA256
            } else {
                &RSA_PKCS1_SHA256
            };
            pair.sign(padding, &rng, input.as_bytes(), &mut sig)
                .unwrap();
            sig
        }
        KeyAlg::EdDSA => {
            let pair = Ed25519KeyPair::from_pkcs8(&key.der).unwrap();
            pair.sign(input.as_bytes()).as_ref().to_vec()
        }
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Good claims for `client_id` with audience `aud`, a fresh `jti`, valid for a minute.
fn claims(client_id: &str, aud: &str) -> Value {
    json!({ "iss": client_id, "sub": client_id, "aud": aud, "iat": now(),
            "exp": now() + 60, "jti": uuid::Uuid::new_v4().to_string() })
}

/// Registers a client_credentials client with `private_key_jwt` and the public keys of `keys`.
async fn signed_client(s: &TestServer, keys: &[&ClientKey]) -> String {
    let (st, v) = s
        .post("/permissions", json!({ "name": "billing:read" }))
        .await;
    assert!(st.is_success() || st == 409, "{v}");
    let jwks: Vec<&Value> = keys.iter().map(|k| &k.jwk).collect();
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Signed service", "grant_types": ["client_credentials"],
                    "token_endpoint_auth_method": "private_key_jwt",
                    "jwks": { "keys": jwks }, "scopes": ["billing:read"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    assert!(c.get("client_secret").is_none(), "no secret: {c}");
    c["client_id"].as_str().unwrap().to_owned()
}

async fn with_assertion(s: &TestServer, jwt: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        CC,
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", jwt),
    ];
    form.extend_from_slice(extra);
    let (st, h, body) = token(s, "acme", None, &form).await;
    assert_eq!(h["cache-control"], "no-store");
    (st, body)
}

async fn client_credentials_with_assertions(b: Backend) {
    let s = TestServer::start(b).await;
    let ec = new_key(KeyAlg::ES256);
    let rsa = new_key(KeyAlg::RS256);
    let id = signed_client(&s, &[&ec, &rsa]).await;
    let token_url = format!("{}/t/acme/token", s.base);
    let issuer = format!("{}/t/acme", s.base);

    // ES256, audience the token endpoint; `client_id` in the form too.
    let jwt = sign(&ec, &ec.kid, &claims(&id, &token_url));
    let (st, body) = with_assertion(&s, &jwt, &[("client_id", &id)]).await;
    assert_eq!(st, 200, "{body}");
    let at = crate::verify(&s, "acme", body["access_token"].as_str().unwrap()).await;
    assert_eq!(at["client_id"], id.as_str());
    // RS256, audience the issuer, in an array.
    let mut c = claims(&id, &issuer);
    c["aud"] = json!([issuer, "https://other.test"]);
    let (st, body) = with_assertion(&s, &sign(&rsa, &rsa.kid, &c), &[]).await;
    assert_eq!(st, 200, "{body}");
    // EdDSA; and PS256 with an RSA key registered without `alg` (no `kid` in the header is
    // fine too, every key is tried). PS256 with the RS256-only key is refused.
    let ed = new_key(KeyAlg::EdDSA);
    let mut pss = new_key(KeyAlg::RS256);
    pss.jwk.as_object_mut().unwrap().remove("alg");
    let (_, list) = s.get("/clients").await;
    let internal = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, v) = s
        .patch(
            &format!("/clients/{internal}"),
            json!({ "jwks": { "keys": [ec.jwk, rsa.jwk, ed.jwk, pss.jwk] } }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let jwt = sign(&ed, &ed.kid, &claims(&id, &token_url));
    assert_eq!(with_assertion(&s, &jwt, &[]).await.0, 200);
    let jwt = sign_as(&pss, "PS256", "", &claims(&id, &token_url));
    assert_eq!(with_assertion(&s, &jwt, &[]).await.0, 200);
    let jwt = sign_as(&rsa, "PS256", &rsa.kid, &claims(&id, &token_url));
    assert_eq!(with_assertion(&s, &jwt, &[]).await.0, 401);

    // The same assertion twice: a replay.
    let (st, e) = with_assertion(&s, &jwt, &[]).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (401, Some("invalid_client")),
        "{e}"
    );

    let stranger = new_key(KeyAlg::ES256);
    let mut expired = claims(&id, &token_url);
    expired["exp"] = json!(now() - 300);
    expired["iat"] = json!(now() - 400);
    let mut too_long = claims(&id, &token_url);
    too_long["exp"] = json!(now() + 3600);
    let mut other_sub = claims(&id, &token_url);
    other_sub["sub"] = json!("someone-else");
    let mut no_jti = claims(&id, &token_url);
    no_jti.as_object_mut().unwrap().remove("jti");
    let refused = [
        (
            "wrong key",
            sign(&stranger, &ec.kid, &claims(&id, &token_url)),
        ),
        (
            "unknown kid",
            sign(&stranger, &stranger.kid, &claims(&id, &token_url)),
        ),
        ("expired", sign(&ec, &ec.kid, &expired)),
        ("valid too long", sign(&ec, &ec.kid, &too_long)),
        (
            "wrong audience",
            sign(&ec, &ec.kid, &claims(&id, "https://elsewhere.test/token")),
        ),
        ("iss != sub", sign(&ec, &ec.kid, &other_sub)),
        ("no jti", sign(&ec, &ec.kid, &no_jti)),
        (
            "unknown client",
            sign(&ec, &ec.kid, &claims("nobody", &token_url)),
        ),
        ("not a JWT", "not.a.jwt".to_owned()),
    ];
    for (why, jwt) in &refused {
        let (st, e) = with_assertion(&s, jwt, &[]).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (401, Some("invalid_client")),
            "{why}: {e}"
        );
        assert_eq!(
            e["error_description"], "client authentication failed",
            "{why}"
        );
    }
    // A client_id in the form that is not the assertion's issuer.
    let jwt = sign(&ec, &ec.kid, &claims(&id, &token_url));
    let (st, e) = with_assertion(&s, &jwt, &[("client_id", "someone-else")]).await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));
    // Another assertion type.
    let (st, _, e) = token(
        &s,
        "acme",
        None,
        &[
            CC,
            ("client_assertion_type", "urn:example:saml"),
            ("client_assertion", &jwt),
        ],
    )
    .await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));
    // The assertion was never accepted, so it is still good.
    let (st, body) = with_assertion(&s, &jwt, &[]).await;
    assert_eq!(st, 200, "{body}");
}

async fn mixing_methods_and_other_clients(b: Backend) {
    let s = TestServer::start(b).await;
    let (basic_id, secret, c) = service_client(&s).await;
    let ec = new_key(KeyAlg::ES256);
    let id = signed_client(&s, &[&ec]).await;
    let aud = format!("{}/t/acme/token", s.base);
    let jwt = sign(&ec, &ec.kid, &claims(&id, &aud));
    // Also a client_secret, or Basic credentials: invalid_request.
    let (st, e) = with_assertion(&s, &jwt, &[("client_secret", "x")]).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_request")),
        "{e}"
    );
    let (st, _, e) = token(
        &s,
        "acme",
        Some((&id, "x")),
        &[
            CC,
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &jwt),
        ],
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_request")),
        "{e}"
    );
    // An assertion without its type.
    let (st, _, e) = token(&s, "acme", None, &[CC, ("client_assertion", &jwt)]).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_request")),
        "{e}"
    );

    // A client registered for client_secret_basic, even with keys, cannot use assertions.
    let internal = c["id"].as_str().unwrap();
    let (st, v) = s
        .patch(
            &format!("/clients/{internal}"),
            json!({ "jwks": { "keys": [ec.jwk] } }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let jwt = sign(&ec, &ec.kid, &claims(&basic_id, &aud));
    let (st, e) = with_assertion(&s, &jwt, &[]).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (401, Some("invalid_client")),
        "{e}"
    );
    let (st, _, body) = token(&s, "acme", Some((&basic_id, &secret)), &[CC]).await;
    assert_eq!(st, 200, "{body}");
    // ...and the private_key_jwt client has no secret to present.
    let (st, _, e) = token(&s, "acme", Some((&id, "guess")), &[CC]).await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));

    // The same client_id in another tenant: its issuer differs, and the client does not exist.
    s.other_tenant("globex").await;
    let jwt = sign(
        &ec,
        &ec.kid,
        &claims(&id, &format!("{}/t/globex/token", s.base)),
    );
    let (st, _, e) = token(
        &s,
        "globex",
        None,
        &[
            CC,
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &jwt),
        ],
    )
    .await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));
}

async fn introspection_accepts_assertions(b: Backend) {
    let s = TestServer::start(b).await;
    let ec = new_key(KeyAlg::ES256);
    let id = signed_client(&s, &[&ec]).await;
    let aud = format!("{}/t/acme/token", s.base);
    let jwt = sign(&ec, &ec.kid, &claims(&id, &aud));
    let (st, body) = with_assertion(&s, &jwt, &[]).await;
    assert_eq!(st, 200, "{body}");
    let at = body["access_token"].as_str().unwrap();
    let introspect = |jwt: String| {
        let form = [
            ("token", at),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &jwt),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
        s.client
            .post(format!("{}/t/acme/introspect", s.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    let jwt = sign(&ec, &ec.kid, &claims(&id, &format!("{}/t/acme", s.base)));
    let res = introspect(jwt.clone()).await.unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["client_id"], id.as_str());
    // A replayed assertion is refused here too.
    let res = introspect(jwt).await.unwrap();
    assert_eq!(res.status(), 401);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client");
}

async fn jwks_is_validated(b: Backend) {
    let s = TestServer::start(b).await;
    let ec = new_key(KeyAlg::ES256);
    let mut private = ec.jwk.clone();
    private["d"] = json!("c2VjcmV0");
    let bad = [
        json!({ "name": "x", "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt" }),
        json!({ "name": "x", "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt", "jwks": { "keys": [] } }),
        json!({ "name": "x", "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt", "jwks": [ec.jwk] }),
        json!({ "name": "x", "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt", "jwks": { "keys": [private] } }),
        json!({ "name": "x", "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": { "keys": [{ "kty": "oct", "k": "c2VjcmV0" }] } }),
    ];
    for body in bad {
        let (st, e) = s.post("/clients", body.clone()).await;
        assert_eq!(st, 422, "{body}: {e}");
    }
}

backends!(
    client_credentials_with_assertions,
    mixing_methods_and_other_clients,
    introspection_accepts_assertions,
    jwks_is_validated
);
