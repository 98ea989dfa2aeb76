//! The console asks for the tenant's required level (issue 14, "Getting in"): a session signed
//! in with a password alone, once the tenant requires a second factor, is sent to the second
//! step for every console page and every console POST, which changes nothing; the requirement
//! is read on each request.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::console_org::{csrf_of, holder, post, signed_in};
use castellan::domain::audit::Actor;
use castellan::domain::mfa::{MfaPolicy, MfaSettings};

backends!(a_password_session_steps_up_before_administering);

async fn set_policy(s: &TestServer, policy: MfaPolicy) {
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let settings = MfaSettings {
        policy,
        ..MfaSettings::default()
    };
    s.store
        .set_mfa_settings(&tenant.id, &settings, &Actor::system())
        .await
        .unwrap();
}

async fn a_password_session_steps_up_before_administering(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let tess = s.create_user("tess@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = signed_in(&s, "admin@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let pages = [
        "/t/acme/console/users".to_owned(),
        format!("/t/acme/console/users/{tess}"),
        "/t/acme/console/groups".to_owned(),
        "/t/acme/console/security".to_owned(),
    ];
    for url in &pages {
        assert_eq!(
            browser.get(url).await.status,
            200,
            "{url}: a password is enough"
        );
    }

    let (_, before) = s.get(&format!("/users/{tess}")).await;
    set_policy(&s, MfaPolicy::Required).await;
    for url in &pages {
        let page = browser.get(url).await;
        assert_eq!(page.status, 303, "{url}: {}", page.body);
        let to = page.location.unwrap();
        let back = format!("return_to={}", crate::enc(url));
        assert!(
            to.starts_with("/t/acme/login/mfa?") && to.contains(&back) && to.contains("level=mfa"),
            "{url}: {to}"
        );
    }
    // A POST with the session's own CSRF token is sent to the second step too, and changes
    // nothing.
    for (url, form) in [
        (
            "/t/acme/console/groups".to_owned(),
            vec![("display_name", "Sneaky".to_owned())],
        ),
        (format!("/t/acme/console/users/{tess}/deactivate"), vec![]),
    ] {
        let page = post(&browser, &url, Some(&csrf), &form).await;
        assert_eq!(page.status, 303, "{url}: {}", page.body);
        assert!(
            page.location.unwrap().starts_with("/t/acme/login/mfa?"),
            "{url}"
        );
    }
    let (_, groups) = s.get("/groups").await;
    assert_eq!(groups["items"], serde_json::json!([]), "{groups}");
    let (_, after) = s.get(&format!("/users/{tess}")).await;
    assert_eq!(after, before, "not deactivated");

    // The requirement is read on each request: lifted, the same session administers again.
    set_policy(&s, MfaPolicy::Optional).await;
    for url in &pages {
        assert_eq!(browser.get(url).await.status, 200, "{url}");
    }
}
