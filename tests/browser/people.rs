//! The console's people procedures in Chromium (issue 14): the owner orders the user list,
//! creates a user (a missing mandatory field refused next to the field), reads and filters the
//! audit log, and transfers the ownership; the admin API then shows each change.

use crate::app::App;
use crate::common::{Backend, TestServer};
use crate::{PASSWORD, chromium, input};
use serde_json::json;

async fn the_owner_creates_a_user_reads_the_audit_and_hands_on_the_ownership(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let (_, owner) = s.get("/owner").await;
    let owner_id = owner["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .put(
            &format!("/users/{owner_id}/password"),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    let heir = crate::user_with_password(&s, "heir@acme.test").await;
    let (st, v) = s.post(&format!("/users/{heir}/activate"), json!({})).await;
    assert!(st.is_success(), "{v}");
    s.create_user("newest@acme.test").await;
    let (st, v) = s
        .post(
            "/attributes",
            json!({"key": "cost_centre", "label": "Cost centre", "kind": "text",
                   "required": true, "default": "CC-1"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let mut input = input(&s, &app, "owner@acme.test", "");
    input["heir_id"] = heir.clone().into();
    input["new_email"] = "nia@acme.test".into();
    input["newest_email"] = "newest@acme.test".into();
    let result = chromium::run(&tools, "console_people", input).await;
    let created = result["created"].as_str().unwrap();
    let (st, u) = s.get(&format!("/users/{created}")).await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["email"], "nia@acme.test");
    assert_eq!(u["attributes"]["cost_centre"], "CC-7");
    assert_eq!(u["status"], "invited");
    let (_, now) = s.get("/owner").await;
    assert_eq!(now["id"], heir.as_str(), "the heir is the owner");
}

/// An administrator edits the catalogues in Chromium: a permission, a custom field (an enum
/// without values refused first) opened to self-service and then set in their own portal, and a
/// kind of notification added then removed.
async fn an_administrator_edits_the_catalogues(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let id = crate::user_with_password(&s, "admin@acme.test").await;
    let role = s.role_id("administrator").await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
        .await;
    assert_eq!(st, 201, "{v}");
    chromium::run(
        &tools,
        "console_catalogue",
        input(&s, &app, "admin@acme.test", ""),
    )
    .await;
    let (_, p) = s.get("/permissions").await;
    assert!(p.to_string().contains("billing:read"), "{p}");
    let (st, a) = s.get("/attributes/grade").await;
    assert_eq!(st, 200, "{a}");
    assert_eq!(a["options"], json!(["junior", "senior"]));
    let (_, n) = s.get("/notification-types").await;
    assert!(!n.to_string().contains("billing.invoice_ready"), "{n}");
    let (_, policy) = s.get("/settings/profile").await;
    assert_eq!(
        policy["editable"],
        json!([
            "given_name",
            "family_name",
            "display_name",
            "locale",
            "timezone",
            "attributes.grade"
        ])
    );
    let (_, me) = s.get(&format!("/users/{id}")).await;
    assert_eq!(
        me["attributes"]["grade"], "senior",
        "set by the person in their portal"
    );
}

/// Seed procedures "invite" and "permission switch" in Chromium: the invited person becomes
/// active at their first sign-in, and the app's ID token carries the permission switched on.
async fn an_invited_person_becomes_active_and_carries_the_granted_permission(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let id = crate::user_with_password(&s, "admin@acme.test").await;
    let role = s.role_id("administrator").await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = s
        .post("/permissions", json!({"name": "billing:read"}))
        .await;
    assert_eq!(st, 201, "{v}");
    // The app sees the billing namespace.
    let (_, clients) = s.get("/clients").await;
    let client = clients
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["redirect_uris"][0] == app.redirect_uri.as_str())
        .expect("the app's client")
        .clone();
    let (st, v) = s
        .patch(
            &format!("/clients/{}", client["id"].as_str().unwrap()),
            json!({"permission_namespaces": ["billing"]}),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let login = app.authorize();
    let mut input = input(&s, &app, "admin@acme.test", &login.url);
    input["new_email"] = "ines@acme.test".into();
    input["new_password"] = "a first password for Ines".into();
    input["permission"] = "billing:read".into();
    let result = chromium::run(&tools, "console_invite", input).await;
    let ines = result["id"].as_str().unwrap();
    let (_, u) = s.get(&format!("/users/{ines}")).await;
    assert_eq!(u["status"], "active", "active at the first sign-in: {u}");
    let claims = app.all_claims(&login);
    assert_eq!(claims["sub"], ines, "{claims}");
    assert!(
        claims["permissions"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| x == "billing:read")),
        "the switched-on permission is in the token: {claims}"
    );
}

/// Seed procedure "anonymise" in Chromium: the person's data is replaced, their history stays.
async fn an_administrator_anonymises_a_person_and_the_history_stays(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let id = crate::user_with_password(&s, "admin@acme.test").await;
    let role = s.role_id("administrator").await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
        .await;
    assert_eq!(st, 201, "{v}");
    let gone = s.create_user("leaver@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, v) = s
        .patch(
            &format!("/users/{gone}"),
            json!({"display_name": "Lee Leaver"}),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let mut input = input(&s, &app, "admin@acme.test", "");
    input["user_id"] = gone.clone().into();
    input["user_email"] = "leaver@acme.test".into();
    chromium::run(&tools, "console_anonymise", input).await;
    let (_, u) = s.get(&format!("/users/{gone}")).await;
    assert_eq!(u["status"], "anonymised", "{u}");
    assert!(!u.to_string().contains("leaver@acme.test"), "{u}");
    let (_, audit) = s.get(&format!("/audit?target_id={gone}&limit=100")).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"user.create") && actions.contains(&"user.anonymise"),
        "{actions:?}"
    );
}

crate::backends!(
    an_administrator_anonymises_a_person_and_the_history_stays,
    an_invited_person_becomes_active_and_carries_the_granted_permission,
    the_owner_creates_a_user_reads_the_audit_and_hands_on_the_ownership,
    an_administrator_edits_the_catalogues,
);
