//! `/Users`: lifecycle, ETags, atomic PATCH, deprovisioning, tenant isolation, errors.

use crate::common::Backend;
use crate::{Scim, enc};
use castellan::domain::audit::Actor;
use castellan::domain::sessions::Session;
use castellan::domain::{TenantId, UserId};
use reqwest::{Method, StatusCode};
use serde_json::json;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async fn tenant(s: &Scim) -> TenantId {
    s.srv
        .store
        .tenant_by_slug("acme")
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A live browser session of the user; returns its id.
async fn session(s: &Scim, user: &str) -> String {
    let now = castellan::domain::clock::now_ms();
    let id = uuid::Uuid::new_v4().to_string();
    let session = Session {
        id: id.clone(),
        secret_hash: format!("secret-of-{id}"),
        user_id: UserId(user.into()),
        auth_time: now,
        amr: vec!["pwd".into()],
        acr: None,
        created_at: now,
        last_seen_at: now,
        expires_at: now + 3_600_000,
        ended_at: None,
        remember: false,
    };
    s.srv
        .store
        .start_session(&tenant(s).await, &session, &Actor::system())
        .await
        .unwrap();
    id
}

async fn session_ended(s: &Scim, id: &str) -> bool {
    let t = tenant(s).await;
    s.srv
        .store
        .get_session(&t, id)
        .await
        .unwrap()
        .is_none_or(|x| x.ended_at.is_some())
}

async fn crud_and_representation(b: Backend) {
    let s = Scim::start(b).await;
    let a = s
        .post(
            "/Users",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada",
                   "name": {"givenName": "Ada", "familyName": "Lovelace"}, "displayName": "Ada L.",
                   "emails": [{"value": "ada@acme.test", "type": "work", "primary": true}],
                   ENT: {"employeeNumber": "1", "department": "Maths"}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.headers["content-type"], "application/scim+json");
    let id = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        a.headers["location"].to_str().unwrap(),
        s.url(&format!("/Users/{id}"))
    );
    assert_eq!(a.headers["etag"], "W/\"1\"");
    assert_eq!(a.body["meta"]["version"], "W/\"1\"");
    assert_eq!(a.body["active"], true);
    assert_eq!(a.body[ENT]["department"], "Maths");
    // The user is a Castellan user: the admin API sees them, with the primary email.
    let (st, u) = s.srv.get(&format!("/users/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (u["email"].as_str(), u["status"].as_str()),
        (Some("ada@acme.test"), Some("active"))
    );
    // Uniqueness.
    let dup = s.post("/Users", json!({"userName": "ADA"})).await;
    assert_eq!(
        (dup.status, dup.body["scimType"].as_str()),
        (StatusCode::CONFLICT, Some("uniqueness"))
    );
    // PUT replaces: what is left out is cleared.
    let r = s
        .put(
            &format!("/Users/{id}"),
            json!({"userName": "ada", "emails": [{"value": "ada@acme.test"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.get("name").is_none() && r.body.get(ENT).is_none(),
        "{}",
        r.body
    );
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    // attributes / excludedAttributes.
    let g = s
        .get(&format!("/Users/{id}?attributes=userName,emails.value"))
        .await;
    assert_eq!(g.body["emails"], json!([{"value": "ada@acme.test"}]));
    assert!(g.body.get("active").is_none() && g.body["id"] == id.as_str());
    let g = s
        .get(&format!("/Users/{id}?excludedAttributes=emails,meta"))
        .await;
    assert!(
        g.body.get("emails").is_none()
            && g.body.get("meta").is_none()
            && g.body["userName"] == "ada"
    );
    // Errors.
    for (body, kind) in [
        (json!({"name": {"givenName": "x"}}), "invalidValue"),
        (
            json!({"userName": "x", "emails": [{"value": "not-an-email"}]}),
            "invalidValue",
        ),
        (
            json!({"userName": "x", "active": "perhaps"}),
            "invalidValue",
        ),
        (json!(["not", "an", "object"]), "invalidSyntax"),
    ] {
        let e = s.post("/Users", body.clone()).await;
        assert_eq!(
            (e.status, e.body["scimType"].as_str()),
            (StatusCode::BAD_REQUEST, Some(kind)),
            "{body}"
        );
    }
    let raw = s
        .srv
        .client
        .post(s.url("/Users"))
        .bearer_auth(&s.token)
        .header("content-type", "application/scim+json")
        .body("{\"userName\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s.get("/Users/nope").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.send(Method::DELETE, "/Users", None, &[]).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(s.get("/Nothing").await.status, StatusCode::NOT_FOUND);
}

async fn etags(b: Backend) {
    let s = Scim::start(b).await;
    let id = s.user(json!({"userName": "ada"})).await;
    let path = format!("/Users/{id}");
    let g = s
        .send(Method::GET, &path, None, &[("if-none-match", "W/\"1\"")])
        .await;
    assert_eq!(g.status, StatusCode::NOT_MODIFIED);
    let g = s
        .send(Method::GET, &path, None, &[("if-none-match", "W/\"7\"")])
        .await;
    assert_eq!(g.status, StatusCode::OK);
    let ops = json!({"Operations": [{"op": "replace", "path": "title", "value": "Boss"}]});
    for stale in ["W/\"7\"", "\"0\"", "garbage"] {
        let p = s
            .send(
                Method::PATCH,
                &path,
                Some(ops.clone()),
                &[("if-match", stale)],
            )
            .await;
        assert_eq!(p.status, StatusCode::PRECONDITION_FAILED, "{stale}");
        let p = s
            .send(
                Method::PUT,
                &path,
                Some(json!({"userName": "x"})),
                &[("if-match", stale)],
            )
            .await;
        assert_eq!(p.status, StatusCode::PRECONDITION_FAILED);
        let d = s
            .send(Method::DELETE, &path, None, &[("if-match", stale)])
            .await;
        assert_eq!(d.status, StatusCode::PRECONDITION_FAILED);
    }
    let g = s.get(&path).await;
    assert_eq!(
        (g.body["userName"].as_str(), g.body.get("title")),
        (Some("ada"), None),
        "nothing changed"
    );
    let p = s
        .send(
            Method::PATCH,
            &path,
            Some(ops.clone()),
            &[("if-match", "W/\"1\"")],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(p.headers["etag"], "W/\"2\"");
    let p = s
        .send(Method::PATCH, &path, Some(ops), &[("if-match", "*")])
        .await;
    assert_eq!(p.status, StatusCode::OK);
}

async fn patch_is_atomic(b: Backend) {
    let s = Scim::start(b).await;
    let id = s.user(json!({"userName": "ada", "title": "Dr"})).await;
    let path = format!("/Users/{id}");
    for bad in [
        json!([{"op": "replace", "path": "title", "value": "Prof"}, {"op": "replace", "path": "nosuch", "value": 1}]),
        json!([{"op": "replace", "path": "title", "value": "Prof"}, {"op": "remove", "path": "userName"}]),
        json!([{"op": "replace", "path": "title", "value": "Prof"}, {"op": "add", "path": "emails", "value": [{"value": "bad"}]}]),
        json!([{"op": "replace", "path": "title", "value": "Prof"}, {"op": "add", "path": "groups", "value": [{"value": "g"}]}]),
        json!([{"op": "replace", "path": "title", "value": "Prof"}, {"op": "replace", "path": format!("{ENT}:manager"), "value": {"value": "nobody"}}]),
    ] {
        let p = s.patch(&path, bad.clone()).await;
        assert_eq!(p.status, StatusCode::BAD_REQUEST, "{bad}: {}", p.body);
        let g = s.get(&path).await;
        assert_eq!(
            (g.body["title"].as_str(), g.body["meta"]["version"].as_str()),
            (Some("Dr"), Some("W/\"1\"")),
            "{bad}"
        );
    }
    let p = s
        .patch(&path, json!([
            {"op": "add", "path": "emails", "value": [{"value": "a@x.test", "type": "work", "primary": true}]},
            {"op": "add", "path": "emails", "value": [{"value": "b@x.test", "type": "home"}]},
            {"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true},
            {"op": "remove", "path": "title"},
            {"op": "add", "path": "name.givenName", "value": "Ada"},
        ]))
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(
        p.body["emails"],
        json!([
            {"value": "a@x.test", "type": "work", "primary": false},
            {"value": "b@x.test", "type": "home", "primary": true},
        ])
    );
    assert!(p.body.get("title").is_none());
    assert_eq!(p.body["name"]["givenName"], "Ada");
    let (_, u) = s.srv.get(&format!("/users/{id}")).await;
    assert_eq!(u["email"], "b@x.test", "the primary email signs in");
}

async fn manager_is_a_management_relation(b: Backend) {
    let s = Scim::start(b).await;
    let boss = s.user(json!({"userName": "boss"})).await;
    let id = s
        .user(json!({"userName": "ada", ENT: {"manager": {"value": boss}}}))
        .await;
    let g = s.get(&format!("/Users/{id}")).await;
    assert_eq!(g.body[ENT]["manager"]["value"], boss.as_str());
    let (st, m) = s.srv.get(&format!("/users/{boss}/management")).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    assert!(m.to_string().contains(&id), "{m}");
    let p = s
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "remove", "path": format!("{ENT}:manager")}]),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    let (_, m) = s.srv.get(&format!("/users/{boss}/management")).await;
    assert!(!m.to_string().contains(&id), "{m}");
}

async fn deactivation_takes_effect_everywhere(b: Backend) {
    let s = Scim::start(b).await;
    let id = s
        .user(json!({"userName": "ada", "emails": [{"value": "ada@acme.test"}]}))
        .await;
    let sid = session(&s, &id).await;
    let p = s
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(
        (p.status, p.body["active"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    assert!(session_ended(&s, &sid).await);
    let (_, u) = s.srv.get(&format!("/users/{id}")).await;
    assert_eq!(u["status"], "inactive");
    let (_, audit) = s.srv.get(&format!("/audit?target_id={id}")).await;
    assert!(audit.to_string().contains("user.deactivate"), "{audit}");
    let p = s
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "active", "value": true}]),
        )
        .await;
    assert_eq!(p.body["active"], true);
    let (_, u) = s.srv.get(&format!("/users/{id}")).await;
    assert_eq!(u["status"], "active");
}

async fn delete_follows_the_tenant_setting(b: Backend) {
    let s = Scim::start(b).await;
    for (action, admin_status) in [
        ("deactivate", Some("inactive")),
        ("delete", None),
        ("anonymise", Some("anonymised")),
    ] {
        let (st, v) = s
            .srv
            .put("/scim/settings", json!({"delete_action": action}))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let id = s.user(json!({"userName": format!("u-{action}")})).await;
        let sid = session(&s, &id).await;
        let d = s.delete(&format!("/Users/{id}")).await;
        assert_eq!(d.status, StatusCode::NO_CONTENT, "{action}: {}", d.body);
        assert_eq!(
            s.get(&format!("/Users/{id}")).await.status,
            StatusCode::NOT_FOUND,
            "{action}"
        );
        assert_eq!(
            s.delete(&format!("/Users/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        let list = s
            .get(&format!(
                "/Users?filter={}",
                enc(&format!("userName eq \"u-{action}\""))
            ))
            .await;
        assert_eq!(list.body["totalResults"], 0, "{action}");
        assert!(session_ended(&s, &sid).await, "{action}");
        let (st, u) = s.srv.get(&format!("/users/{id}")).await;
        match admin_status {
            Some(want) => assert_eq!(u["status"], want, "{action}"),
            None => assert_eq!(st, StatusCode::NOT_FOUND),
        }
        let (_, audit) = s.srv.get(&format!("/audit?target_id={id}")).await;
        assert!(
            audit.to_string().contains("scim"),
            "{action}: the audit trail names the SCIM token: {audit}"
        );
    }
    // The owner cannot be deprovisioned.
    let owner = s
        .get(&format!(
            "/Users?filter={}",
            enc("userName eq \"owner@acme.test\"")
        ))
        .await
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.delete(&format!("/Users/{owner}")).await.status,
        StatusCode::CONFLICT
    );
    let p = s
        .patch(
            &format!("/Users/{owner}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    // No SCIM write reaches the owner (issue 12 §1): 403 before the lifecycle's own 409.
    assert_eq!(p.status, StatusCode::FORBIDDEN);
}

/// Okta and Entra ID re-create (POST) a user after an unassign (DELETE) and reassign: with
/// `deactivate` the same Castellan user comes back, active and updated; with `delete` and
/// `anonymise` the re-created user is a new one.
async fn recreate_after_delete(b: Backend) {
    let s = Scim::start(b).await;
    let (st, v) = s
        .srv
        .put("/scim/settings", json!({"delete_action": "deactivate"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id = s
        .user(
            json!({"userName": "Kim@acme.test", "name": {"givenName": "Kim"},
            "emails": [{"value": "kim@acme.test", "type": "work", "primary": true}]}),
        )
        .await;
    assert_eq!(
        s.delete(&format!("/Users/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let again = s
        .post(
            "/Users",
            json!({"userName": "kim@acme.test", "name": {"givenName": "Kimberly"},
            "emails": [{"value": "kim@acme.test", "type": "work", "primary": true}],
            "title": "Back"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.body["id"], id.as_str(), "the same Castellan user");
    assert_eq!(again.body["active"], true);
    assert_eq!(again.body["name"]["givenName"], "Kimberly");
    assert_eq!(again.body["title"], "Back");
    assert!(again.headers["location"].to_str().unwrap().ends_with(&id));
    let read = s.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["meta"]["version"], again.body["meta"]["version"]);
    let (_, u) = s.srv.get(&format!("/users/{id}")).await;
    assert_eq!(u["status"], "active");
    let (_, audit) = s.srv.get(&format!("/audit?target_id={id}")).await;
    assert!(audit.to_string().contains("user.reactivate"), "{audit}");
    // Through Bulk too, and `active: false` brings the user back to SCIM but inactive.
    assert_eq!(
        s.delete(&format!("/Users/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let r = s
        .post("/Bulk", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "k",
                 "data": {"userName": "kim@acme.test", "active": false}},
                {"method": "POST", "path": "/Users", "bulkId": "n", "data": {"userName": "new@acme.test"}},
                {"method": "POST", "path": "/Users", "bulkId": "k2", "data": {"userName": "kim@acme.test"}},
            ]}))
        .await;
    assert_eq!(r.body["Operations"][0]["status"], "201", "{}", r.body);
    assert_eq!(r.body["Operations"][1]["status"], "201", "{}", r.body);
    assert_eq!(
        r.body["Operations"][2]["status"], "409",
        "back once, the name is taken: {}",
        r.body
    );
    assert!(
        r.body["Operations"][0]["location"]
            .as_str()
            .unwrap()
            .ends_with(&id)
    );
    let read = s.get(&format!("/Users/{id}")).await;
    assert_eq!(
        (read.status, &read.body["active"]),
        (StatusCode::OK, &json!(false))
    );
    // A live user's name is still taken.
    let dup = s.post("/Users", json!({"userName": "KIM@acme.test"})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    for action in ["delete", "anonymise"] {
        let (st, v) = s
            .srv
            .put("/scim/settings", json!({"delete_action": action}))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let name = format!("again-{action}@acme.test");
        let old = s.user(json!({"userName": name})).await;
        assert_eq!(
            s.delete(&format!("/Users/{old}")).await.status,
            StatusCode::NO_CONTENT
        );
        let new = s.user(json!({"userName": name})).await;
        assert_ne!(new, old, "{action}: a new user");
    }
}

async fn tokens_and_tenants(b: Backend) {
    let s = Scim::start(b).await;
    let id = s.user(json!({"userName": "ada"})).await;
    // Admin API: create (secret once), list (no secrets), revoke.
    let (st, created) = s.srv.post("/scim/tokens", json!({"name": "okta"})).await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let secret = created["token"].as_str().unwrap().to_owned();
    let (_, list) = s.srv.get("/scim/tokens").await;
    assert!(!list.to_string().contains(&secret) && list.to_string().contains("okta"));
    let call = |token: &str, path: String| {
        let req = s.srv.client.get(s.url(&path)).bearer_auth(token);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(call(&secret, format!("/Users/{id}")).await, StatusCode::OK);
    let (st, _) = s
        .srv
        .delete(&format!("/scim/tokens/{}", created["id"].as_str().unwrap()))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&secret, format!("/Users/{id}")).await,
        StatusCode::UNAUTHORIZED
    );
    // Neither an admin API token nor a token of another tenant opens this tenant's SCIM.
    assert_eq!(
        call(&s.srv.token, format!("/Users/{id}")).await,
        StatusCode::UNAUTHORIZED
    );
    s.srv.other_tenant("globex").await;
    let globex = castellan::cli::create_scim_token(&s.srv.store, "globex", "g")
        .await
        .unwrap();
    assert_eq!(
        call(&globex, format!("/Users/{id}")).await,
        StatusCode::UNAUTHORIZED
    );
    let there = s
        .srv
        .client
        .get(format!("{}/t/globex/scim/v2/Users/{id}", s.srv.base))
        .bearer_auth(&globex)
        .send()
        .await
        .unwrap();
    assert_eq!(
        there.status(),
        StatusCode::NOT_FOUND,
        "the user is not in globex"
    );
    let there = s
        .srv
        .client
        .get(format!("{}/t/globex/scim/v2/Users", s.srv.base))
        .bearer_auth(&globex)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = there.json().await.unwrap();
    assert_eq!(body["totalResults"], 1, "only globex's owner: {body}");
    assert_eq!(
        call("scim_nonsense", "/Users".into()).await,
        StatusCode::UNAUTHORIZED
    );
    let none = s.srv.client.get(s.url("/Users")).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(none.headers().contains_key("www-authenticate"));
}

crate::backends!(
    recreate_after_delete,
    crud_and_representation,
    etags,
    patch_is_atomic,
    manager_is_a_management_relation,
    deactivation_takes_effect_everywhere,
    delete_follows_the_tenant_setting,
    tokens_and_tenants
);
