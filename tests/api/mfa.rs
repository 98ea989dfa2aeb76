//! Multi-factor authentication for administrators: `/mfa-settings`, roles' `mfa_policy`,
//! `/users/{id}/factors` (list, remove one, reset), `/users/{id}/notification-events`, and what
//! anonymising a user does to their factors.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::roles::create_role;
use crate::tokens::assert_outsiders_refused;
use castellan::domain::audit::Actor;
use castellan::domain::mfa::{Ceremony, CredentialKind, TotpFactor, WebauthnCredential};
use castellan::domain::{FactorId, TenantId, UserId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn tenant_id(s: &TestServer, slug: &str) -> TenantId {
    s.store.tenant_by_slug(slug).await.unwrap().unwrap().id
}

/// What a user enrolled through the sign-in pages: a passkey (with three recovery codes) and a
/// confirmed authenticator app. Returns (passkey id, app id).
async fn enrol(s: &TestServer, tenant: &TenantId, user: &str, tag: &str) -> (FactorId, FactorId) {
    let user = UserId(user.into());
    let passkey = WebauthnCredential {
        id: FactorId::generate(),
        user_id: user.clone(),
        kind: CredentialKind::Passkey,
        name: format!("Laptop {tag}"),
        credential_id: format!("cred-{tag}"),
        credential: r#"{"public_key":"PUBLIC-KEY-MATERIAL"}"#.into(),
        created_at: 1_700_000_000_000,
        last_used_at: None,
    };
    let codes: Vec<String> = (0..3).map(|i| format!("RECOVERY-HASH-{tag}-{i}")).collect();
    s.store
        .add_webauthn_credential(tenant, &passkey, Some(&codes), &Actor::cli())
        .await
        .unwrap();
    let app = TotpFactor {
        id: FactorId::generate(),
        user_id: user.clone(),
        secret: "JBSWY3DPEHPK3PXP".into(),
        confirmed_at: None,
        last_step: 0,
        created_at: 1_700_000_000_001,
        last_used_at: None,
    };
    s.store.begin_totp(tenant, &app).await.unwrap();
    assert!(
        s.store
            .confirm_totp(tenant, &user, &app.id, 1, None, &Actor::cli())
            .await
            .unwrap()
    );
    (passkey.id, app.id)
}

fn kinds(v: &Value) -> Vec<&str> {
    v["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect()
}

async fn settings_read_patch_and_audit(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, v) = s.get("/mfa-settings").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"policy": "optional", "passkey_only_allowed": false, "security_key_user_verification": "preferred"})
    );
    let (st, v) = s
        .patch("/mfa-settings", json!({"policy": "passkey_required"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["policy"], "passkey_required");
    assert_eq!(v["security_key_user_verification"], "preferred", "kept");
    let (st, v) = s
        .patch(
            "/mfa-settings",
            json!({"passkey_only_allowed": true, "security_key_user_verification": "required"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let wanted = json!({"policy": "passkey_required", "passkey_only_allowed": true, "security_key_user_verification": "required"});
    assert_eq!(v, wanted);
    assert_eq!(s.get("/mfa-settings").await.1, wanted);

    // Bad input names the field; nothing of a bad patch is saved, even its good fields.
    for (body, field) in [
        (json!({"policy": "sometimes"}), "policy"),
        (json!({"policy": null}), "policy"),
        (json!({"policy": 1}), "policy"),
        (
            json!({"passkey_only_allowed": "true"}),
            "passkey_only_allowed",
        ),
        (
            json!({"security_key_user_verification": "always"}),
            "security_key_user_verification",
        ),
        (json!({"policy": "optional", "colour": "red"}), "colour"),
        (json!({"colour": "red", "policy": "optional"}), "colour"),
    ] {
        let (st, e) = s.patch("/mfa-settings", body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert_eq!(e["field"], field, "{body}: {e}");
        assert_eq!(e["status"], 422);
    }
    for body in [json!([]), json!("required")] {
        let (st, e) = s.patch("/mfa-settings", body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
    }
    assert_eq!(s.get("/mfa-settings").await.1, wanted, "nothing half-saved");

    let (_, log) = s.get("/audit?action=tenant.mfa.update").await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{log}");
    assert_eq!(items[0]["actor_kind"], "token");
    assert_eq!(items[0]["after"]["passkey_only_allowed"], true);
    assert_eq!(items[0]["before"]["passkey_only_allowed"], false);
    assert_eq!(items[1]["after"]["policy"], "passkey_required");

    // A user holding settings.read may read but not change them.
    let reader_role = create_role(&s, "Settings reader", &["castellan:settings.read"]).await;
    let reader = s.create_user("reader@example.com").await;
    let reader_id = reader["id"].as_str().unwrap();
    let (st, e) = s
        .post(
            &format!("/users/{reader_id}/roles"),
            json!({"role_id": reader_role, "main": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    let token = s.token_for("acme", reader_id).await;
    let url = s.url("/mfa-settings");
    let (st, v) = s.call_as(&token, Method::GET, &url, None).await;
    assert_eq!((st, v), (StatusCode::OK, wanted));
    let body = json!({"policy": "optional"});
    let (st, e) = s.call_as(&token, Method::PATCH, &url, Some(body)).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");

    assert_outsiders_refused(
        &s,
        &[
            (Method::GET, "/mfa-settings".into(), None),
            (
                Method::PATCH,
                "/mfa-settings".into(),
                Some(json!({"policy": "optional"})),
            ),
        ],
    )
    .await;
    assert_eq!(s.get("/mfa-settings").await.1["policy"], "passkey_required");
}

async fn roles_carry_an_mfa_policy(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, r) = s
        .post(
            "/roles",
            json!({"name": "Finance", "permissions": [], "mfa_policy": "required"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["mfa_policy"], "required");
    let id = r["id"].as_str().unwrap().to_owned();
    let path = format!("/roles/{id}");
    assert_eq!(s.get(&path).await.1["mfa_policy"], "required");

    let (st, plain) = s
        .post("/roles", json!({"name": "Plain", "permissions": []}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{plain}");
    assert!(plain["mfa_policy"].is_null(), "{plain}");
    let (_, list) = s.get("/roles").await;
    let policy_of = |list: &Value, name: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["mfa_policy"].clone())
            .unwrap()
    };
    assert_eq!(policy_of(&list, "Finance"), "required");
    assert!(policy_of(&list, "Plain").is_null());
    assert!(
        policy_of(&list, "Owner").is_null(),
        "seeded roles demand nothing"
    );

    let (st, r) = s
        .patch(&path, json!({"mfa_policy": "passkey_required"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["mfa_policy"], "passkey_required");
    let (_, r) = s.patch(&path, json!({"description": "Money"})).await;
    assert_eq!(r["mfa_policy"], "passkey_required", "absent keeps it");

    // The holder's strictest policy follows the role.
    let u = s.create_user("fin@example.com").await;
    let uid = UserId(u["id"].as_str().unwrap().into());
    let (st, e) = s
        .post(
            &format!("/users/{uid}/roles"),
            json!({"role_id": id, "main": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    let t = tenant_id(&s, "acme").await;
    assert_eq!(
        s.store.role_mfa_policy(&t, &uid).await.unwrap(),
        castellan::domain::mfa::MfaPolicy::PasskeyRequired
    );

    let (st, r) = s.patch(&path, json!({"mfa_policy": null})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert!(r["mfa_policy"].is_null(), "{r}");
    assert!(s.get(&path).await.1["mfa_policy"].is_null());
    assert_eq!(
        s.store.role_mfa_policy(&t, &uid).await.unwrap(),
        castellan::domain::mfa::MfaPolicy::Optional
    );

    for body in [
        json!({"mfa_policy": "sometimes"}),
        json!({"mfa_policy": 3}),
        json!({"mfa_policy": ["required"]}),
    ] {
        let (st, e) = s.patch(&path, body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert_eq!(e["field"], "mfa_policy", "{e}");
        let mut create = body.clone();
        create["name"] = json!("Other");
        create["permissions"] = json!([]);
        let (st, e) = s.post("/roles", create).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert_eq!(e["field"], "mfa_policy", "{e}");
    }
    let (_, list) = s.get("/roles").await;
    assert!(
        !list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "Other"),
        "no role made from bad input"
    );
    let (_, log) = s
        .get(&format!("/audit?action=role.update&target_id={id}"))
        .await;
    let last = &log["items"][0];
    assert_eq!(last["before"]["mfa_policy"], "passkey_required", "{log}");
    assert!(last["after"]["mfa_policy"].is_null());
}

async fn factors_listed_removed_and_reset(b: Backend) {
    let s = TestServer::start(b).await;
    let t = tenant_id(&s, "acme").await;
    let (_, tokens) = s.get("/tokens").await;
    let token_id = tokens[0]["id"].as_str().unwrap().to_owned();
    let u = s.create_user("two.factors@example.com").await;
    let uid = u["id"].as_str().unwrap().to_owned();
    let other = s.create_user("neighbour@example.com").await;
    let other_id = other["id"].as_str().unwrap().to_owned();
    let (passkey, app) = enrol(&s, &t, &uid, "a").await;
    let (neighbours_passkey, _) = enrol(&s, &t, &other_id, "b").await;

    let (st, v) = s.get(&format!("/users/{uid}/factors")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(kinds(&v), ["passkey", "totp"]);
    assert_eq!(v["recovery_codes_left"], 3);
    assert_eq!(v["has_password"], false);
    assert_eq!(v["factors"][0]["id"], passkey.as_str());
    assert_eq!(v["factors"][0]["name"], "Laptop a");
    assert_eq!(v["factors"][0]["created_at"], "2023-11-14T22:13:20Z");
    assert!(v["factors"][0]["last_used_at"].is_null());
    let text = v.to_string();
    for secret in [
        "PUBLIC-KEY-MATERIAL",
        "JBSWY3DPEHPK3PXP",
        "RECOVERY-HASH",
        "cred-a",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }

    // Unknown ids, and factors of another user, are not found; nothing is removed.
    for (user, factor) in [
        (uid.as_str(), "no-such-factor"),
        (uid.as_str(), neighbours_passkey.as_str()),
        (other_id.as_str(), passkey.as_str()),
        ("no-such-user", passkey.as_str()),
    ] {
        let (st, e) = s.delete(&format!("/users/{user}/factors/{factor}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{user}/{factor}: {e}");
    }
    assert_eq!(
        kinds(&s.get(&format!("/users/{uid}/factors")).await.1).len(),
        2
    );
    assert_eq!(
        kinds(&s.get(&format!("/users/{other_id}/factors")).await.1).len(),
        2
    );

    let (st, body) = s.delete(&format!("/users/{uid}/factors/{passkey}")).await;
    assert_eq!((st, body), (StatusCode::NO_CONTENT, Value::Null));
    let (st, e) = s.delete(&format!("/users/{uid}/factors/{passkey}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "gone: {e}");
    let (_, v) = s.get(&format!("/users/{uid}/factors")).await;
    assert_eq!(kinds(&v), ["totp"]);
    assert_eq!(v["recovery_codes_left"], 3, "the app still stands");

    let (st, v) = s
        .post(&format!("/users/{uid}/factors/reset"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(kinds(&v), ["totp"], "what was removed: {v}");
    assert_eq!(v["factors"][0]["id"], app.as_str());
    assert_eq!(v["recovery_codes"], 3);
    assert!(!v.to_string().contains("JBSWY3DPEHPK3PXP"));
    let (_, v) = s.get(&format!("/users/{uid}/factors")).await;
    assert_eq!(
        v,
        json!({"factors": [], "recovery_codes_left": 0, "has_password": false})
    );
    let (st, v) = s
        .post(&format!("/users/{uid}/factors/reset"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "a reset of nothing: {v}");
    assert_eq!(v, json!({"factors": [], "recovery_codes": 0}));
    let (_, v) = s.get(&format!("/users/{other_id}/factors")).await;
    assert_eq!(kinds(&v), ["passkey", "totp"], "the neighbour keeps theirs");

    // Audited with the administrator as actor.
    let (_, log) = s.get(&format!("/audit?target_id={uid}")).await;
    let mine: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_kind"] == "token")
        .collect();
    let actions: Vec<&str> = mine.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "user.mfa.reset",
            "user.mfa.reset",
            "user.mfa.remove",
            "user.create"
        ],
        "{log}"
    );
    assert!(mine.iter().all(|e| e["actor_id"] == token_id.as_str()));
    assert_eq!(mine[1]["before"]["factors"][0]["kind"], "totp");
    assert_eq!(mine[1]["before"]["recovery_codes_left"], 3);
    assert_eq!(mine[2]["before"]["factor"], passkey.as_str());
    assert!(!log.to_string().contains("JBSWY3DPEHPK3PXP"));

    // Each change raised security.mfa_changed for the user: the outbox, newest first.
    let (st, ev) = s.get(&format!("/users/{uid}/notification-events")).await;
    assert_eq!(st, StatusCode::OK, "{ev}");
    let items = ev["items"].as_array().unwrap();
    let events: Vec<&str> = items
        .iter()
        .map(|n| n["details"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "factors_reset",
            "factors_reset",
            "factor_removed",
            "factor_added",
            "factor_added"
        ],
        "{ev}"
    );
    assert!(
        items
            .iter()
            .all(|n| n["event_type"] == "security.mfa_changed")
    );
    assert_eq!(
        items[2]["message"],
        "The passkey named “Laptop a” was removed"
    );
    assert_eq!(items[0]["channels"], json!(["email"]));
    assert!(items[0]["created_at"].as_str().unwrap().ends_with('Z'));
    let (_, one) = s
        .get(&format!("/users/{uid}/notification-events?limit=1"))
        .await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert_eq!(one["items"][0]["id"], items[0]["id"]);
    for limit in ["0", "201"] {
        let (st, e) = s
            .get(&format!("/users/{uid}/notification-events?limit={limit}"))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{limit}: {e}");
        assert_eq!(e["field"], "limit");
    }
    for limit in ["-1", "ten"] {
        let (st, e) = s
            .get(&format!("/users/{uid}/notification-events?limit={limit}"))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{limit}: {e}");
    }
    let (st, _) = s
        .get(&format!("/users/{uid}/notification-events?limit=200"))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s.get("/users/no-such-user/notification-events").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get("/users/no-such-user/factors").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.post("/users/no-such-user/factors/reset", json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// An administrator of one tenant reaches nothing of another: neither through the other
/// tenant's address nor by naming the other tenant's users under their own.
async fn factors_stay_in_their_tenant(b: Backend) {
    let s = TestServer::start(b).await;
    let acme = tenant_id(&s, "acme").await;
    let u = s.create_user("kept@example.com").await;
    let uid = u["id"].as_str().unwrap().to_owned();
    let (passkey, _) = enrol(&s, &acme, &uid, "acme").await;

    let globex_token = s.other_tenant("globex").await;
    let globex = tenant_id(&s, "globex").await;
    let url = format!("{}/t/globex/api/v1/users", s.base);
    let body = json!({"email": "g@globex.test"});
    let (st, g) = s
        .call_as(&globex_token, Method::POST, &url, Some(body))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{g}");
    let gid = g["id"].as_str().unwrap().to_owned();
    let (globex_passkey, _) = enrol(&s, &globex, &gid, "globex").await;

    // Globex's token on Acme's address: the tenant does not exist for it.
    let cases = [
        (Method::GET, format!("/users/{uid}/factors"), None),
        (
            Method::DELETE,
            format!("/users/{uid}/factors/{passkey}"),
            None,
        ),
        (
            Method::POST,
            format!("/users/{uid}/factors/reset"),
            Some(json!({})),
        ),
        (
            Method::GET,
            format!("/users/{uid}/notification-events"),
            None,
        ),
        (Method::GET, "/mfa-settings".to_owned(), None),
        (
            Method::PATCH,
            "/mfa-settings".to_owned(),
            Some(json!({"policy": "required"})),
        ),
    ];
    for (method, path, body) in &cases {
        let (st, e) = s
            .call_as(&globex_token, method.clone(), &s.url(path), body.clone())
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{method} {path}: {e}");
    }
    // Acme's token naming Globex's user (and factor) under Acme: no such user.
    for (method, path, body) in [
        (Method::GET, format!("/users/{gid}/factors"), None),
        (
            Method::DELETE,
            format!("/users/{gid}/factors/{globex_passkey}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/users/{uid}/factors/{globex_passkey}"),
            None,
        ),
        (
            Method::POST,
            format!("/users/{gid}/factors/reset"),
            Some(json!({})),
        ),
        (
            Method::GET,
            format!("/users/{gid}/notification-events"),
            None,
        ),
    ] {
        let (st, e) = s.call(method.clone(), &path, body).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{method} {path}: {e}");
    }
    // Acme's token on Globex's address.
    let url = format!("{}/t/globex/api/v1/users/{gid}/factors", s.base);
    let (st, _) = s.call_as(&s.token, Method::GET, &url, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let url = format!("{}/t/globex/api/v1/mfa-settings", s.base);
    let (st, _) = s.call_as(&s.token, Method::GET, &url, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Nothing moved on either side.
    assert_eq!(
        s.store
            .user_factors(&acme, &UserId(uid.clone()))
            .await
            .unwrap()
            .summary()
            .len(),
        2
    );
    assert_eq!(
        s.store
            .user_factors(&globex, &UserId(gid))
            .await
            .unwrap()
            .summary()
            .len(),
        2
    );
    assert_eq!(s.get("/mfa-settings").await.1["policy"], "optional");

    // A plain member may not read or reset another user's factors.
    assert_outsiders_refused(
        &s,
        &[
            (Method::GET, format!("/users/{uid}/factors"), None),
            (
                Method::POST,
                format!("/users/{uid}/factors/reset"),
                Some(json!({})),
            ),
            (
                Method::DELETE,
                format!("/users/{uid}/factors/{passkey}"),
                None,
            ),
            (
                Method::GET,
                format!("/users/{uid}/notification-events"),
                None,
            ),
        ],
    )
    .await;
    assert_eq!(
        s.store
            .user_factors(&acme, &UserId(uid))
            .await
            .unwrap()
            .summary()
            .len(),
        2
    );
}

/// Anonymising a user through the API removes their factors, ceremonies and failed codes.
async fn anonymising_removes_factors(b: Backend) {
    use castellan::domain::sessions::Session;
    let s = TestServer::start(b).await;
    let t = tenant_id(&s, "acme").await;
    let u = s.create_user("leaving@example.com").await;
    let uid = u["id"].as_str().unwrap().to_owned();
    enrol(&s, &t, &uid, "l").await;
    let user = UserId(uid.clone());
    let now = castellan::domain::clock::now_ms();
    let session = Session {
        id: "leaving-session".into(),
        secret_hash: "secret-leaving-session".into(),
        user_id: user.clone(),
        auth_time: now,
        amr: vec!["pwd".into()],
        acr: None,
        created_at: now,
        last_seen_at: now,
        expires_at: now + 3_600_000,
        ended_at: None,
        remember: false,
    };
    s.store
        .start_session(&t, &session, &Actor::cli())
        .await
        .unwrap();
    let ceremony = Ceremony {
        session_id: Some(session.id.clone()),
        purpose: "register".into(),
        state: "{}".into(),
        expires_at: i64::MAX,
    };
    s.store
        .put_ceremony(&t, "leaving-ceremony", &ceremony)
        .await
        .unwrap();

    let (st, a) = s.post(&format!("/users/{uid}/anonymise"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    let (st, v) = s.get(&format!("/users/{uid}/factors")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"factors": [], "recovery_codes_left": 0, "has_password": false})
    );
    let f = s.store.user_factors(&t, &user).await.unwrap();
    assert!(f.totp.is_none(), "no pending app either");
    assert!(
        s.store
            .take_ceremony(&t, "leaving-ceremony")
            .await
            .unwrap()
            .is_none()
    );
    let (_, ev) = s.get(&format!("/users/{uid}/notification-events")).await;
    assert_eq!(ev, json!({"items": []}));
}

/// SCIM DELETE in `anonymise` mode goes through the same anonymisation.
async fn scim_anonymise_removes_factors(b: Backend) {
    let s = TestServer::start(b).await;
    let t = tenant_id(&s, "acme").await;
    let u = s.create_user("scim.leaver@example.com").await;
    let uid = u["id"].as_str().unwrap().to_owned();
    enrol(&s, &t, &uid, "s").await;
    let (st, e) = s
        .put("/scim/settings", json!({"delete_action": "anonymise"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{e}");
    let (st, tok) = s.post("/scim/tokens", json!({"name": "idp"})).await;
    assert_eq!(st, StatusCode::CREATED, "{tok}");
    let scim_token = tok["token"].as_str().unwrap();
    let res = s
        .client
        .delete(format!("{}/t/acme/scim/v2/Users/{uid}", s.base))
        .bearer_auth(scim_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let f = s
        .store
        .user_factors(&t, &UserId(uid.clone()))
        .await
        .unwrap();
    assert!(!f.any() && f.recovery_codes_left == 0, "{f:?}");
    let (_, user) = s.get(&format!("/users/{uid}")).await;
    assert_eq!(user["status"], "anonymised");
}

backends!(
    settings_read_patch_and_audit,
    roles_carry_an_mfa_policy,
    factors_listed_removed_and_reset,
    factors_stay_in_their_tenant,
    anonymising_removes_factors,
    scim_anonymise_removes_factors,
);
