//! The console's Apps section in Chromium (issue 14): an administrator registers an app and
//! reads its secret from the page, and the secret is real (a client_credentials token with it);
//! after a rotation in the console the old secret is refused and the new one works.

use crate::app::App;
use crate::common::{Backend, TestServer};
use crate::{chromium, input, user_with_password};
use serde_json::json;

/// The status of a client_credentials token request with this secret.
async fn token_status(s: &TestServer, client_id: &str, secret: &str) -> u16 {
    let res = s
        .client
        .post(format!("{}/t/acme/token", s.base))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

/// A user with a password holding the Administrator role.
pub(crate) async fn administrator(s: &TestServer, email: &str) {
    let id = user_with_password(s, email).await;
    let admin = s.role_id("administrator").await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": admin}))
        .await;
    assert_eq!(st, 201, "{v}");
}

async fn administrator_registers_an_app_and_rotates_its_secret(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    administrator(&s, "admin@acme.test").await;
    let mut input = input(&s, &app, "admin@acme.test", "");
    input["app_name"] = "Billing <service>".into();
    let registered = chromium::run(&tools, "console_app_register", input.clone()).await;
    let client_id = registered["client_id"].as_str().unwrap();
    let secret = registered["secret"].as_str().unwrap();
    assert_eq!(
        token_status(&s, client_id, secret).await,
        200,
        "the secret is real"
    );
    let (_, apps) = s.get("/clients").await;
    let made = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == client_id)
        .expect("registered");
    assert_eq!(made["name"], "Billing <service>");
    assert_eq!(made["grant_types"], json!(["client_credentials"]));
    assert_eq!(made["permission_namespaces"], json!(["billing"]));

    input["app_path"] = registered["path"].clone();
    let rotated = chromium::run(&tools, "console_app_rotate", input).await;
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    assert_eq!(
        token_status(&s, client_id, secret).await,
        401,
        "old secret refused"
    );
    assert_eq!(token_status(&s, client_id, new_secret).await, 200);
}

crate::backends!(administrator_registers_an_app_and_rotates_its_secret);
