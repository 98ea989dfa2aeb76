//! The console's Directory and Security sections in Chromium (issue 14): the token read from
//! the page is real (SCIM answers it), the revoked one is refused, the settings are what the
//! admin API says; the rotated signing keys are at the tenant's JWKS URL, and the MFA policy
//! made required is saved.

use crate::app::App;
use crate::apps::administrator;
use crate::chromium;
use crate::common::{Backend, TestServer};
use crate::input;
use serde_json::{Value, json};

/// The status of a SCIM GET of `/Users` with `token`.
async fn scim_status(s: &TestServer, token: &str) -> u16 {
    s.client
        .get(format!("{}/t/acme/scim/v2/Users", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn administrator_connects_a_directory(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    administrator(&s, "admin@acme.test").await;
    let (st, v) = s.post("/scim/tokens", json!({"name": "Okta old"})).await;
    assert_eq!(st, 201, "{v}");
    let old = v["token"].as_str().unwrap().to_owned();
    assert_eq!(scim_status(&s, &old).await, 200);
    // The log is written in the background: wait until the request is in it.
    for _ in 0..100 {
        let (_, v) = s.get("/scim/requests").await;
        if !v["items"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut input = input(&s, &app, "admin@acme.test", "");
    input["token_label"] = "Entra production".into();
    input["old_token_label"] = "Okta old".into();
    let result = chromium::run(&tools, "console_directory", input).await;
    let token = result["token"].as_str().unwrap();
    assert_eq!(scim_status(&s, token).await, 200, "the token is real");
    assert_eq!(
        scim_status(&s, &old).await,
        401,
        "the revoked one is refused"
    );
    let (_, settings) = s.get("/scim/settings").await;
    assert_eq!(settings["delete_action"], "anonymise");
}

/// The kids at the tenant's JWKS URL.
async fn jwks_kids(s: &TestServer) -> Vec<String> {
    let jwks: Value = s
        .client
        .get(format!("{}/t/acme/jwks", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn administrator_changes_security_settings(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    administrator(&s, "admin@acme.test").await;
    let (_, keys) = s.get("/keys").await;
    let active_before: Vec<Value> = keys
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["state"] == "active")
        .map(|k| k["kid"].clone())
        .collect();
    let result = chromium::run(
        &tools,
        "console_security",
        input(&s, &app, "admin@acme.test", ""),
    )
    .await;
    let published = jwks_kids(&s).await;
    let active = result["active"].as_array().unwrap();
    assert!(!active.is_empty());
    for kid in active {
        assert!(
            !active_before.contains(kid),
            "{kid} signs only since the rotation"
        );
        let kid = kid.as_str().unwrap();
        assert!(published.iter().any(|k| k == kid), "{kid} in the JWKS");
    }
    let (_, mfa) = s.get("/mfa-settings").await;
    assert_eq!(mfa["policy"], "required", "{mfa}");
    assert_eq!(mfa["passkey_only_allowed"], true);
    assert_eq!(mfa["security_key_user_verification"], "discouraged");
    assert_ne!(result["landed"], "/t/acme/console/security");
}

crate::backends!(
    administrator_connects_a_directory,
    administrator_changes_security_settings,
);
