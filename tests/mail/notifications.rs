//! Notifications delivered: events a user opted into are mailed in their language, opted-out
//! ones are not; mandatory security notifications cannot be turned off and carry no
//! unsubscribe link; optional ones carry RFC 8058 one-click unsubscribe headers whose link
//! works; apps raise the tenant's own types through the admin API.

use crate::common::{Backend, TestServer};
use crate::sink::{Sink, header, headers, part};
use crate::{backends, worker};
use castellan::domain::UserId;
use castellan::domain::audit::Actor;
use reqwest::{Method, StatusCode};
use serde_json::json;

backends!(
    opted_in_events_are_mailed_and_opted_out_ones_are_not,
    mandatory_security_notifications_cannot_be_turned_off,
    one_click_unsubscribe_turns_the_type_off,
    apps_raise_only_the_tenants_own_types_for_users_they_may_change,
);

async fn setup(s: &TestServer) -> String {
    for key in ["usage.report", "usage.other"] {
        let (st, e) = s
            .post(
                "/notification-types",
                json!({"key": key, "description": format!("Usage {key}")}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{e}");
    }
    let (st, u) = s
        .post(
            "/users",
            json!({"email": "claire@acme.test", "given_name": "Claire", "locale": "fr-FR"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    u["id"].as_str().unwrap().to_string()
}

async fn raise(s: &TestServer, user: &str, key: &str, message: &str) -> bool {
    let (st, v) = s
        .post(
            &format!("/users/{user}/notifications/events"),
            json!({"type": key, "message": message, "details": {"n": 1}}),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    v["raised"].as_bool().unwrap()
}

async fn opted_in_events_are_mailed_and_opted_out_ones_are_not(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let s = TestServer::start(b).await;
    let sink = Sink::start(0).await;
    let user = setup(&s).await;
    let (st, e) = s
        .put(
            &format!("/users/{user}/notifications"),
            json!({"usage.other": {"enabled": false}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{e}");
    assert!(
        raise(
            &s,
            &user,
            "usage.report",
            "Votre rapport <mensuel> est prêt"
        )
        .await
    );
    assert!(!raise(&s, &user, "usage.other", "Never mailed").await);
    // Enabled on the in-app channel only: raised, not mailed.
    s.put(
        &format!("/users/{user}/notifications"),
        json!({"usage.other": {"enabled": true, "channels": ["in_app"]}}),
    )
    .await;
    assert!(raise(&s, &user, "usage.other", "In the app only").await);
    let mut w = worker(&s.store, &sink.url(), 60);
    w.public_url = s.base.clone();
    w.tick().await.unwrap();
    w.tick().await.unwrap();
    let got = sink.wait_for(2, 5).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(header(m, "To"), "claire@acme.test");
    assert_eq!(
        header(m, "Subject"),
        "Acme : Votre rapport <mensuel> est prêt"
    );
    let text = part(m, "text/plain");
    assert!(text.starts_with("Bonjour Claire,"), "{text}");
    let html = part(m, "text/html");
    assert!(
        html.contains("mensuel") && !html.contains("<mensuel>"),
        "{html}"
    );
    assert!(
        header(m, "List-Unsubscribe")
            .starts_with(&format!("<{}/t/acme/notifications/unsubscribe?", s.base))
    );
    assert_eq!(
        header(m, "List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    // Each notification is mailed once.
    w.tick().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1);
}

async fn mandatory_security_notifications_cannot_be_turned_off(b: Backend) {
    let s = TestServer::start(b).await;
    let user = setup(&s).await;
    let path = format!("/users/{user}/notifications");
    for key in [
        "security.new_sign_in",
        "security.mfa_changed",
        "security.password_changed",
    ] {
        let (st, e) = s.put(&path, json!({key: {"enabled": false}})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{key}: {e}");
        assert!(
            e["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("mandatory")
                || e.to_string().contains("mandatory"),
            "{e}"
        );
        let (st, e) = s
            .put(
                &path,
                json!({key: {"enabled": true, "channels": ["in_app"]}}),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{key}: {e}");
        let (st, e) = s
            .put(
                &path,
                json!({key: {"enabled": true, "channels": ["email", "push"]}}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "more channels are fine: {e}");
    }
    let (_, prefs) = s.get(&path).await;
    for p in prefs.as_array().unwrap() {
        let mandatory = p["event_type"].as_str().unwrap().starts_with("security.");
        assert_eq!(p["mandatory"], mandatory, "{p}");
    }
    // Even a choice stored behind the API's back does not stop a security notification.
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let uid = UserId(user.clone());
    let mut all = s.store.notification_prefs(&tenant.id, &uid).await.unwrap();
    for p in &mut all {
        p.enabled = false;
        p.channels = vec!["push".into()];
    }
    s.store
        .set_notification_prefs(&tenant.id, &uid, &all, &Actor::system())
        .await
        .unwrap();
    s.store
        .replace_recovery_codes(&tenant.id, &uid, &["h1".to_string()], &Actor::system())
        .await
        .unwrap();
    let (_, events) = s.get(&format!("/users/{user}/notification-events")).await;
    let e = &events["items"][0];
    assert_eq!(e["event_type"], "security.mfa_changed", "{events}");
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    worker(&s.store, &sink.url(), 60).tick().await.unwrap();
    let got = sink.wait_for(1, 5).await;
    assert_eq!(got.len(), 1);
    assert!(
        headers(&got[0], "List-Unsubscribe").is_empty(),
        "no way out of a security notice"
    );
    assert!(part(&got[0], "text/plain").contains("recovery codes"));
}

async fn one_click_unsubscribe_turns_the_type_off(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let s = TestServer::start(b).await;
    let sink = Sink::start(0).await;
    let user = setup(&s).await;
    assert!(raise(&s, &user, "usage.report", "Report ready").await);
    let mut w = worker(&s.store, &sink.url(), 60);
    w.public_url = s.base.clone();
    w.tick().await.unwrap();
    let got = sink.wait_for(1, 5).await;
    let link = header(&got[0], "List-Unsubscribe")
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string();
    let client = reqwest::Client::new();
    // The page asks first (a link scanner's GET changes nothing).
    let page = client
        .get(&link)
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Me désabonner"), "{html}");
    assert!(html.contains("Usage usage.report"));
    assert!(raise(&s, &user, "usage.report", "Still subscribed").await);
    // Tampered links are refused, readably.
    for bad in [
        link.replace("s=", "s=x"),
        link.replace("usage.report", "usage.other"),
        link.replace(&user, "0190aaaa-0000-7000-8000-000000000000"),
        format!("{}/t/acme/notifications/unsubscribe", s.base),
    ] {
        let r = client
            .post(&bad)
            .form(&[("List-Unsubscribe", "One-Click")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.text().await.unwrap().contains("not valid"));
    }
    // What a mail client sends (RFC 8058 §3.1).
    let r = client
        .post(&link)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("You are unsubscribed"));
    let (_, prefs) = s.get(&format!("/users/{user}/notifications")).await;
    let p = prefs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["event_type"] == "usage.report")
        .unwrap();
    assert_eq!(p["enabled"], false, "{p}");
    assert!(!raise(&s, &user, "usage.report", "Not any more").await);
    // Again: still fine, still off.
    let r = client.post(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn apps_raise_only_the_tenants_own_types_for_users_they_may_change(b: Backend) {
    let s = TestServer::start(b).await;
    let user = setup(&s).await;
    let path = format!("/users/{user}/notifications/events");
    let ok = json!({"type": "usage.report", "message": "Hi"});
    for (body, what) in [
        (
            json!({"type": "security.new_sign_in", "message": "Fake"}),
            "a built-in type",
        ),
        (json!({"type": "nope", "message": "x"}), "an unknown type"),
        (json!({"type": "usage.report", "message": ""}), "no message"),
        (
            json!({"type": "usage.report", "message": "x".repeat(1001)}),
            "a long message",
        ),
        (
            json!({"type": "usage.report", "message": "x", "details": [1]}),
            "details not an object",
        ),
        (
            json!({"type": "usage.report", "message": "x", "extra": 1}),
            "an unknown field",
        ),
    ] {
        let (st, e) = s.post(&path, body).await;
        assert!(
            st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::BAD_REQUEST,
            "{what}: {st} {e}"
        );
    }
    let (st, e) = s
        .post(
            "/users/0190aaaa-0000-7000-8000-000000000000/notifications/events",
            ok.clone(),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    let anon = s.client.post(s.url(&path)).json(&ok).send().await.unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
    let member = s.create_user("plain.member@example.com").await;
    let member = s.token_for("acme", member["id"].as_str().unwrap()).await;
    let (st, _) = s
        .call_as(&member, Method::POST, &s.url(&path), Some(ok.clone()))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let foreign = s.other_tenant("other").await;
    let (st, _) = s
        .call_as(&foreign, Method::POST, &s.url(&path), Some(ok.clone()))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let url = format!("{}/t/other/api/v1{path}", s.base);
    let (st, _) = s
        .call_as(&foreign, Method::POST, &url, Some(ok.clone()))
        .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "the user is not in the other tenant"
    );
    let (_, events) = s.get(&format!("/users/{user}/notification-events")).await;
    assert_eq!(events["items"], json!([]), "nothing was raised: {events}");
}
