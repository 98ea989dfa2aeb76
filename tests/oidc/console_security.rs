//! The console's Security section over HTTP (issue 14): the MFA and session settings saved
//! through the same service functions as `/mfa-settings` and `/session-settings` (bad values
//! refused next to their fields), the signing keys listed and rotated after a confirmation (the
//! new key in the JWKS), and only who may sees or changes any of it.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::console_apps::{Who, assert_refused, holder, people, signed_in};
use serde_json::Value;

/// The tenant's MFA settings, session settings and keys through the admin API.
async fn api_state(s: &TestServer) -> (Value, Value, Value) {
    let (_, mfa) = s.get("/mfa-settings").await;
    let (_, sessions) = s.get("/session-settings").await;
    let (_, keys) = s.get("/keys").await;
    (mfa, sessions, keys)
}

/// The kids published at the tenant's JWKS URL.
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

fn session_form<'a>(csrf: &'a str, idle: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("idle_timeout_secs", idle),
        ("max_lifetime_secs", "36000"),
        ("remember_me", "on"),
        ("remember_me_idle_timeout_secs", "604800"),
        ("remember_me_max_lifetime_secs", "2592000"),
    ]
}

async fn security_is_managed_by_exactly_who_may(b: Backend) {
    let s = TestServer::start(b).await;
    let people = people(&s).await;
    // The keys exist once listed.
    let _ = api_state(&s).await;
    let before = api_state(&s).await;
    for (who, b, csrf) in &people {
        let who = *who;
        let page = b.get("/t/acme/console/security").await;
        match who {
            Who::Manager | Who::Administrator | Who::Owner => {
                assert_eq!(page.status, 200, "{who:?}: {}", page.body);
                let kid = before.2[0]["kid"].as_str().unwrap();
                assert!(page.body.contains(kid), "{who:?}: the keys are listed");
                assert_eq!(
                    page.body.contains("Save MFA settings"),
                    who != Who::Manager,
                    "{who:?}: forms only for settings.write"
                );
                assert!(page.body.contains("href=\"/t/acme/console/security\""));
            }
            _ => assert_refused(who, "security", &page),
        }
        let page = b.get("/t/acme/console/security/keys/rotate").await;
        match who {
            Who::Administrator | Who::Owner => assert_eq!(page.status, 200),
            _ => assert_refused(who, "rotate", &page),
        }
        if matches!(who, Who::Administrator | Who::Owner) {
            continue;
        }
        for (url, form) in [
            (
                "/t/acme/console/security/mfa",
                vec![
                    ("csrf", csrf.as_str()),
                    ("policy", "required"),
                    ("security_key_user_verification", "required"),
                ],
            ),
            (
                "/t/acme/console/security/sessions",
                session_form(csrf, "600"),
            ),
            (
                "/t/acme/console/security/keys/rotate",
                vec![("csrf", csrf.as_str())],
            ),
        ] {
            let page = b.post_form(url, &form).await;
            assert_refused(who, &format!("POST {url}"), &page);
        }
    }
    assert_eq!(api_state(&s).await, before, "nothing changed");

    // An administrator: CSRF required, then each form saves through the service.
    let (_, admin, csrf) = people
        .iter()
        .find(|(w, _, _)| *w == Who::Administrator)
        .unwrap();
    for bad in ["", "forged"] {
        let page = admin
            .post_form(
                "/t/acme/console/security/sessions",
                &session_form(bad, "600"),
            )
            .await;
        assert_eq!(page.status, 403);
        let page = admin
            .post_form("/t/acme/console/security/keys/rotate", &[("csrf", bad)])
            .await;
        assert_eq!(page.status, 403);
    }
    assert_eq!(api_state(&s).await, before, "nothing changed");

    let done = admin
        .post_form(
            "/t/acme/console/security/sessions",
            &session_form(csrf, "600"),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, v) = s.get("/session-settings").await;
    assert_eq!(v["idle_timeout_secs"], 600);
    assert_eq!(v["remember_me"], true);
    for (idle, error) in [
        ("soon", "id=\"e-idle_timeout_secs\""),
        ("5", "id=\"e-sessions\""),
        ("<b>x</b>", "id=\"e-idle_timeout_secs\""),
    ] {
        let page = admin
            .post_form(
                "/t/acme/console/security/sessions",
                &session_form(csrf, idle),
            )
            .await;
        assert_eq!(page.status, 400, "{idle}: {}", page.body);
        assert!(page.body.contains(error), "{idle}: {}", page.body);
        assert!(!page.body.contains("<b>x</b>"), "escaped");
    }
    let (_, v) = s.get("/session-settings").await;
    assert_eq!(v["idle_timeout_secs"], 600, "unchanged by refused forms");

    let done = admin
        .post_form(
            "/t/acme/console/security/mfa",
            &[
                ("csrf", csrf),
                ("policy", "optional"),
                ("passkey_only_allowed", "on"),
                ("security_key_user_verification", "discouraged"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, v) = s.get("/mfa-settings").await;
    assert_eq!(v["passkey_only_allowed"], true);
    assert_eq!(v["security_key_user_verification"], "discouraged");
    let page = admin
        .post_form(
            "/t/acme/console/security/mfa",
            &[
                ("csrf", csrf),
                ("policy", "sometimes"),
                ("security_key_user_verification", "required"),
            ],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("id=\"e-policy\""), "{}", page.body);
    let (_, v) = s.get("/mfa-settings").await;
    assert_eq!(v["policy"], "optional");

    // Rotation: the next keys sign, new ones are published at the JWKS URL.
    let kids_before = jwks_kids(&s).await;
    let done = admin
        .post_form("/t/acme/console/security/keys/rotate", &[("csrf", csrf)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let kids_after = jwks_kids(&s).await;
    let new: Vec<_> = kids_after
        .iter()
        .filter(|k| !kids_before.contains(k))
        .collect();
    assert_eq!(
        new.len(),
        3,
        "one new next key per algorithm: {kids_before:?} -> {kids_after:?}"
    );
    let page = admin.get("/t/acme/console/security?notice=rotated").await;
    for kid in new {
        assert!(page.body.contains(kid.as_str()), "{kid}");
    }
    assert!(page.body.contains("The signing keys were rotated"));
}

/// Another tenant's settings never move when this tenant's console saves.
async fn another_tenants_security_is_untouched(b: Backend) {
    let s = TestServer::start(b).await;
    let globex = s.other_tenant("globex").await;
    let url = |p: &str| format!("{}/t/globex/api/v1{p}", s.base);
    let (_, before_mfa) = s
        .call_as(&globex, reqwest::Method::GET, &url("/mfa-settings"), None)
        .await;
    let (_, before_keys) = s
        .call_as(&globex, reqwest::Method::GET, &url("/keys"), None)
        .await;
    holder(&s, "admin@acme.test", "administrator").await;
    let admin = signed_in(&s, "admin@acme.test").await;
    let page = admin.get("/t/acme/console/security").await;
    let csrf = crate::browser::hidden(&page.body, "csrf").unwrap();
    for (url, form) in [
        (
            "/t/acme/console/security/mfa",
            vec![
                ("csrf", csrf.as_str()),
                ("policy", "optional"),
                ("passkey_only_allowed", "on"),
                ("security_key_user_verification", "preferred"),
            ],
        ),
        (
            "/t/acme/console/security/keys/rotate",
            vec![("csrf", csrf.as_str())],
        ),
    ] {
        assert_eq!(admin.post_form(url, &form).await.status, 303);
    }
    // The acme session does not open globex's console.
    let page = admin.get("/t/globex/console/security").await;
    assert_ne!(page.status, 200);
    let (_, after_mfa) = s
        .call_as(&globex, reqwest::Method::GET, &url("/mfa-settings"), None)
        .await;
    let (_, after_keys) = s
        .call_as(&globex, reqwest::Method::GET, &url("/keys"), None)
        .await;
    assert_eq!(after_mfa, before_mfa);
    assert_eq!(after_keys, before_keys);
}

backends!(
    security_is_managed_by_exactly_who_may,
    another_tenants_security_is_untouched,
);
