//! `/notification-types` and `/users/{id}/notifications`.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::tokens::assert_outsiders_refused;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn pref<'a>(prefs: &'a Value, key: &str) -> &'a Value {
    prefs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["event_type"] == key)
        .unwrap_or_else(|| panic!("no {key} in {prefs}"))
}

async fn types_define_and_remove(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, list) = s.get("/notification-types").await;
    assert_eq!(st, StatusCode::OK);
    let builtin = list.as_array().unwrap();
    assert_eq!(builtin.len(), 8, "{list}");
    assert!(builtin.iter().all(|t| t["builtin"] == true));
    let (st, t) = s
        .post(
            "/notification-types",
            json!({"key": "billing.invoice_ready", "description": "An invoice is ready", "default_enabled": false}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    assert_eq!(t["builtin"], false);
    assert_eq!(t["default_enabled"], false);
    let (st, t) = s
        .post("/notification-types", json!({"key": "ops-alert_2"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    assert_eq!(t["default_enabled"], true);
    let (st, e) = s
        .post(
            "/notification-types",
            json!({"key": "billing.invoice_ready"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    for body in [
        json!({"key": "Billing"}),
        json!({"key": "has space"}),
        json!({"key": ""}),
        json!({"key": "ok", "builtin": true}),
        json!({"key": "ok", "default_enabled": "yes"}),
        json!({}),
    ] {
        let (st, e) = s.post("/notification-types", body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
    }
    let (st, e) = s.delete("/notification-types/security.new_sign_in").await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    let (st, _) = s.delete("/notification-types/ops-alert_2").await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.delete("/notification-types/ops-alert_2").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, list) = s.get("/notification-types").await;
    assert_eq!(list.as_array().unwrap().len(), 9, "{list}");
}

async fn preferences_merge_with_defaults(b: Backend) {
    let s = TestServer::start(b).await;
    s.post(
        "/notification-types",
        json!({"key": "billing.invoice_ready", "default_enabled": false}),
    )
    .await;
    let u = s.create_user("nora@example.com").await;
    let path = format!("/users/{}/notifications", u["id"].as_str().unwrap());
    let (st, prefs) = s.get(&path).await;
    assert_eq!(st, StatusCode::OK, "{prefs}");
    assert_eq!(prefs.as_array().unwrap().len(), 9);
    assert_eq!(
        pref(&prefs, "security.new_sign_in"),
        &json!({"event_type": "security.new_sign_in", "enabled": true, "channels": ["email"], "mandatory": true})
    );
    assert_eq!(pref(&prefs, "billing.invoice_ready")["enabled"], false);

    let (st, prefs) = s
        .put(
            &path,
            json!({
                "billing.invoice_ready": {"enabled": true, "channels": ["push", "email", "push"]},
                "access.roles_changed": {"enabled": false, "channels": []}
            }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{prefs}");
    assert_eq!(
        pref(&prefs, "billing.invoice_ready"),
        &json!({"event_type": "billing.invoice_ready", "enabled": true, "channels": ["email", "push"], "mandatory": false})
    );
    // A later change of one type leaves the others; absent channels stay as they were.
    let (st, _) = s
        .put(&path, json!({"billing.invoice_ready": {"enabled": false}}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, prefs) = s.get(&path).await;
    assert_eq!(pref(&prefs, "billing.invoice_ready")["enabled"], false);
    assert_eq!(
        pref(&prefs, "billing.invoice_ready")["channels"],
        json!(["email", "push"])
    );
    assert_eq!(pref(&prefs, "access.roles_changed")["enabled"], false);
    assert_eq!(pref(&prefs, "security.mfa_changed")["enabled"], true);

    for body in [
        json!({"nope.unknown": {"enabled": true}}),
        json!({"access.roles_changed": {"enabled": true}, "billing.invoice_ready": {"enabled": true, "channels": ["sms"]}}),
        json!({"access.roles_changed": {"enabled": true}, "security.mfa_changed": {"enabled": false}}),
        json!({"security.mfa_changed": {"enabled": "no"}}),
        json!({"security.mfa_changed": {"enabled": false, "loud": true}}),
    ] {
        let (st, e) = s.put(&path, body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
    }
    let (_, after) = s.get(&path).await;
    assert_eq!(after, prefs, "nothing half-saved");

    // Removing a type removes the choices for it.
    let (st, _) = s.delete("/notification-types/billing.invoice_ready").await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, prefs) = s.get(&path).await;
    assert_eq!(prefs.as_array().unwrap().len(), 8);

    let (st, _) = s
        .get("/users/00000000-0000-0000-0000-000000000000/notifications")
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, log) = s.get("/audit?action=user.notifications.update").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 2, "{log}");
    assert_eq!(log["items"][0]["target_id"], u["id"]);
}

async fn outsiders_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    s.post("/notification-types", json!({"key": "custom"}))
        .await;
    let u = s.create_user("target@example.com").await;
    let path = format!("/users/{}/notifications", u["id"].as_str().unwrap());
    assert_outsiders_refused(
        &s,
        &[
            (Method::GET, "/notification-types".into(), None),
            (
                Method::POST,
                "/notification-types".into(),
                Some(json!({"key": "x"})),
            ),
            (Method::DELETE, "/notification-types/custom".into(), None),
            (Method::GET, path.clone(), None),
            (
                Method::PUT,
                path.clone(),
                Some(json!({"custom": {"enabled": false}})),
            ),
        ],
    )
    .await;
    let (_, list) = s.get("/notification-types").await;
    assert_eq!(list.as_array().unwrap().len(), 9);
}

backends!(
    types_define_and_remove,
    preferences_merge_with_defaults,
    outsiders_are_refused,
);
