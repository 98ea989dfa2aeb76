//! Issue 13 §11: in a tenant that lets users share a sign-in email (an Entra ID admin account
//! carries the person's own `mail`), each signs in with their username; the shared email alone
//! names no one and is refused exactly like a wrong password.

use crate::backends;
use crate::browser::{Browser, PASSWORD};
use crate::common::{Backend, TestServer};
use serde_json::json;

const REFUSED: &str = "Email or password is incorrect";
const ADMIN_PASSWORD: &str = "another long passphrase";

async fn shared_email_signs_in_by_username(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, v) = s
        .put(
            "/scim/settings",
            json!({"delete_action": "deactivate", "unique_emails": false}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let token = castellan::cli::create_scim_token(&s.store, "acme", "entra")
        .await
        .unwrap();
    for (name, password) in [("grace", PASSWORD), ("grace-admin", ADMIN_PASSWORD)] {
        let res = s
            .client
            .post(format!("{}/t/acme/scim/v2/Users", s.base))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(
                json!({"userName": name, "password": password,
                    "emails": [{"value": "grace@acme.test", "primary": true, "type": "work"}]})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
    for (login, password) in [("grace", PASSWORD), ("Grace-Admin", ADMIN_PASSWORD)] {
        let page = Browser::new(&s)
            .sign_in("/t/acme/login", login, password)
            .await;
        assert_eq!(page.status, 303, "{login}: {}", page.body);
    }
    // The shared email with either password, and a wrong password, look alike.
    let browser = Browser::new(&s);
    let mut bodies = Vec::new();
    for (login, password) in [
        ("grace@acme.test", PASSWORD),
        ("grace@acme.test", ADMIN_PASSWORD),
        ("grace", "a wrong password here"),
    ] {
        let page = browser.sign_in("/t/acme/login", login, password).await;
        assert_eq!(page.status, 401, "{login}");
        assert!(page.body.contains(REFUSED), "{}", page.body);
        bodies.push(page.body.replace(login, "LOGIN"));
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "identical pages");
    // The CLI names users as the sign-in page does: the shared email names no one (and says
    // to give the username), each username names its user.
    let limits = castellan::limits::SignInLimits::default();
    let err = castellan::cli::sign_in_lock(&s.store, &limits, "acme", "grace@acme.test", false)
        .await
        .unwrap_err();
    assert!(err.contains("give the username"), "{err}");
    for name in ["grace", "GRACE-ADMIN"] {
        let (email, _) = castellan::cli::sign_in_lock(&s.store, &limits, "acme", name, false)
            .await
            .unwrap();
        assert_eq!(email, "grace@acme.test", "{name}");
    }
    castellan::cli::set_password(
        &s.store,
        "acme",
        "grace-admin",
        "a third long passphrase".into(),
    )
    .await
    .unwrap();
    let page = Browser::new(&s)
        .sign_in("/t/acme/login", "grace-admin", "a third long passphrase")
        .await;
    assert_eq!(
        page.status, 303,
        "the admin account's password was set: {}",
        page.body
    );
    let page = Browser::new(&s)
        .sign_in("/t/acme/login", "grace", PASSWORD)
        .await;
    assert_eq!(
        page.status, 303,
        "the other account's was not: {}",
        page.body
    );
}

backends!(shared_email_signs_in_by_username);
