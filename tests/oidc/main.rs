//! OpenID Connect over real HTTP, on SQLite and PostgreSQL: discovery, JWKS and key rotation,
//! clients, the token endpoint's client_credentials grant with its errors, passwords, the
//! sign-in page, the authorization code flow (also driven by the `openidconnect` crate), userinfo,
//! token introspection, and logout (RP-initiated and back-channel).

#[path = "../api/common.rs"]
#[allow(dead_code)]
mod common;

mod account_email;
mod account_email_change;
mod account_languages;
mod authorization_code;
mod backchannel_logout;
mod browser;
mod brute_force;
mod claims;
mod client_credentials;
mod clients;
mod code_replay;
mod consent;
mod console;
mod console_account;
mod console_account_access;
mod console_apps;
mod console_audit;
mod console_catalogue;
mod console_directory;
mod console_employment;
mod console_import;
mod console_invite;
mod console_mail;
mod console_org;
mod console_org_accounts;
mod console_org_lists;
mod console_org_matrix;
mod console_org_scope;
mod console_people;
mod console_permissions;
mod console_picker;
mod console_profile_policy;
mod console_security;
mod console_step_up;
mod console_user;
mod discovery;
mod hostile;
mod hostile_cases;
mod hostile_gen;
mod id_token_hint;
mod invitations;
mod lifecycle;
mod locales;
mod logout;
mod mfa;
mod passwords;
mod private_key_jwt;
mod refresh;
mod relying_party;
mod revocation;
mod secrets;
mod security_headers;
mod sessions;
mod setup_link;
mod shared_emails;
mod signin;
mod signing_keys;
mod strict_input;
mod trusted_devices;
mod userinfo_introspection;
mod webauthn;
mod wrong_types;

use common::TestServer;
use serde_json::{Value, json};

/// Creates a confidential client_credentials client holding a role with `billing:read` and
/// `other:write`, allowed to see the `billing` namespace: (client_id, secret, client json).
pub async fn service_client(s: &TestServer) -> (String, String, Value) {
    for p in ["billing:read", "other:write"] {
        let (st, v) = s.post("/permissions", json!({ "name": p })).await;
        assert!(st.is_success(), "{v}");
    }
    let (st, role) = s
        .post(
            "/roles",
            json!({ "name": "Billing service", "permissions": ["billing:read", "other:write"] }),
        )
        .await;
    assert!(st.is_success(), "{role}");
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Billing", "grant_types": ["client_credentials"],
                    "scopes": ["billing:read"], "permission_namespaces": ["billing"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_owned();
    let role_id = role["id"].as_str().unwrap();
    let (st, c2) = s
        .put(&format!("/clients/{id}/roles/{role_id}"), json!({}))
        .await;
    assert_eq!(st, 200, "{c2}");
    (
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().unwrap().to_owned(),
        c2,
    )
}

/// POSTs a form to `/t/{tenant}/token`: (status, headers, json).
pub async fn token(
    s: &TestServer,
    tenant: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    post_form(s, tenant, "token", basic, form).await
}

/// POSTs a form to `/t/{tenant}/{endpoint}`, with Basic client authentication when given:
/// (status, headers, json or `null`).
pub async fn post_form(
    s: &TestServer,
    tenant: &str,
    endpoint: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = s
        .client
        .post(format!("{}/t/{tenant}/{endpoint}", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form.iter()
                .map(|(k, v)| format!("{k}={}", enc(v)))
                .collect::<Vec<_>>()
                .join("&"),
        );
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

pub fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Verifies `jwt` against the tenant's JWKS; returns its claims.
pub async fn verify(s: &TestServer, tenant: &str, jwt: &str) -> Value {
    verify_typed(s, tenant, jwt, "at+jwt").await
}

/// Verifies `jwt` (header `typ`) against the tenant's JWKS; returns its claims.
pub async fn verify_typed(s: &TestServer, tenant: &str, jwt: &str, typ: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = s
        .client
        .get(format!("{}/t/{tenant}/jwks", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    assert_eq!(header.typ.as_deref(), Some(typ));
    let kid = header.kid.unwrap();
    let jwk = jwks
        .find(&kid)
        .unwrap_or_else(|| panic!("kid {kid} not in the JWKS"));
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.validate_aud = false;
    v.set_issuer(&[format!("{}/t/{tenant}", s.public_url)]);
    jsonwebtoken::decode::<Value>(jwt, &key, &v).unwrap().claims
}
