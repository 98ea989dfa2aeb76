//! Setting passwords: the admin API and the CLI; the password is never echoed nor audited.

use crate::backends;
use crate::browser::{Browser, PASSWORD, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::json;

async fn admin_sets_password(b: Backend) {
    let s = TestServer::start(b).await;
    let u = user_with_password(&s, "ada@acme.test").await;
    let id = u["id"].as_str().unwrap();
    let path = format!("/users/{id}/password");
    let (st, v) = s.put(&path, json!({ "password": "short" })).await;
    assert_eq!(st, 422, "{v}");
    let (st, v) = s.put(&path, json!({ "password": "x".repeat(1025) })).await;
    assert_eq!(st, 422, "{v}");
    let (st, v) = s.put(&path, json!({ "password": "x".repeat(1024) })).await;
    assert_eq!(st, 204, "{v}");
    let (st, _) = s
        .put(
            "/users/01890000-0000-7000-8000-000000000000/password",
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(st, 404);
    let (st, audit) = s.get("/audit").await;
    assert_eq!(st, 200);
    let text = audit.to_string();
    assert!(text.contains("user.password.set"), "{text}");
    assert!(!text.contains(PASSWORD) && !text.contains(&"x".repeat(1024)));
    assert!(!text.contains("argon2"), "the hash is not audited either");
    // The user JSON does not show the hash.
    let (_, user) = s.get(&format!("/users/{id}")).await;
    assert!(!user.to_string().contains("argon2"));
}

async fn cli_sets_password(b: Backend) {
    let s = TestServer::start(b).await;
    s.create_user("grace@acme.test").await;
    castellan::cli::set_password(&s.store, "acme", "grace@acme.test", "cli password 1".into())
        .await
        .unwrap();
    let e = castellan::cli::set_password(
        &s.store,
        "acme",
        "nobody@acme.test",
        "cli password 1".into(),
    )
    .await
    .unwrap_err();
    assert!(e.contains("no user"), "{e}");
    let e = castellan::cli::set_password(&s.store, "acme", "grace@acme.test", "short".into())
        .await
        .unwrap_err();
    assert!(e.contains("at least 8"), "{e}");
    let browser = Browser::new(&s);
    let page = browser
        .sign_in("/t/acme/login", "grace@acme.test", "cli password 1")
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
}

/// Every 400th entry of the shipped list of common passwords.
fn common_sample() -> Vec<&'static str> {
    include_str!("../../src/domain/common_passwords.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .step_by(400)
        .collect()
}

/// Common passwords (in any case), the user's email and its name part, and the tenant's name
/// and slug (also with digits or symbols at the end) are refused with a clear 422 naming the
/// field, by the admin API, the CLI and SCIM; nothing is stored; an uncommon one is accepted.
async fn guessable_passwords_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let u = user_with_password(&s, "ada.lovelace@acme.test").await;
    let id = u["id"].as_str().unwrap();
    let path = format!("/users/{id}/password");
    let mut refused: Vec<String> = Vec::new();
    for p in common_sample() {
        refused.push(p.to_owned());
        refused.push(p.to_uppercase());
    }
    for p in [
        "ada.lovelace@acme.test",
        "Ada.Lovelace",
        "ada.lovelace1987!",
        "acme1234",
        "ACME!!!!",
    ] {
        refused.push(p.to_owned());
    }
    assert!(refused.len() > 40);
    for p in &refused {
        let (st, v) = s.put(&path, json!({ "password": p })).await;
        assert_eq!(st, 422, "{p}: {v}");
        assert_eq!(v["field"], "password", "{v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("commonly used") || detail.contains("email address"),
            "{detail}"
        );
        assert!(!detail.contains(p.as_str()), "the password is not echoed");
    }
    // Nothing changed: the old password still signs in.
    let page = Browser::new(&s)
        .sign_in("/t/acme/login", "ada.lovelace@acme.test", PASSWORD)
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let (st, v) = s
        .put(&path, json!({ "password": "lovelace's engine notes" }))
        .await;
    assert_eq!(st, 204, "{v}");

    let e = castellan::cli::set_password(
        &s.store,
        "acme",
        "ada.lovelace@acme.test",
        "iloveyou2".into(),
    )
    .await
    .unwrap_err();
    assert!(e.contains("commonly used"), "{e}");

    let token = castellan::cli::create_scim_token(&s.store, "acme", "idp")
        .await
        .unwrap();
    let scim = |body: serde_json::Value| {
        s.client
            .post(format!("{}/t/acme/scim/v2/Users", s.base))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
    };
    let schema = "urn:ietf:params:scim:schemas:core:2.0:User";
    let res = scim(json!({ "schemas": [schema], "userName": "grace@acme.test",
                           "password": "Password1" }))
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["scimType"], "invalidValue", "{v}");
    let res = scim(json!({ "schemas": [schema], "userName": "grace@acme.test",
                           "password": "grace2024" }))
    .await
    .unwrap();
    assert_eq!(res.status(), 400, "the userName's name part");
    let res = scim(json!({ "schemas": [schema], "userName": "grace@acme.test",
                           "password": "a compiler of her own" }))
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
}

backends!(
    admin_sets_password,
    cli_sets_password,
    guessable_passwords_are_refused
);
