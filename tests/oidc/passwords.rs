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

backends!(admin_sets_password, cli_sets_password);
