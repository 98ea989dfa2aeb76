//! What Okta and Microsoft Entra ID really send, request by request (bodies as their SCIM
//! documentation shows them: Okta "SCIM 2.0 protocol reference", Microsoft "Tutorial: Develop
//! and plan provisioning for a SCIM endpoint").

use crate::common::Backend;
use crate::{Scim, enc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn raw_patch(s: &Scim, path: &str, body: Value) -> crate::Answer {
    s.send(Method::PATCH, path, Some(body), &[]).await
}

async fn okta(b: Backend) {
    let s = Scim::start(b).await;
    // Okta looks the user up by userName first, with paging parameters.
    let q = format!(
        "/Users?filter={}&startIndex=1&count=100",
        enc(r#"userName eq "isaac.brock@example.com""#)
    );
    let l = s.get(&q).await;
    assert_eq!(
        (l.status, l.body["totalResults"].as_i64()),
        (StatusCode::OK, Some(0))
    );
    // Create, with a password and an empty groups list.
    let c = s
        .post("/Users", json!({
            "schemas": [CORE], "userName": "isaac.brock@example.com",
            "name": {"givenName": "Isaac", "familyName": "Brock"},
            "emails": [{"primary": true, "value": "isaac.brock@example.com", "type": "work"}],
            "displayName": "Isaac Brock", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [], "password": "1mz050nq-long-enough", "active": true
        }))
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    assert!(c.body.get("password").is_none(), "never returned");
    let id = c.body["id"].as_str().unwrap().to_owned();
    let t = s.srv.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let hash = s
        .srv
        .store
        .password_hash(&t.id, &castellan::domain::UserId(id.clone()))
        .await
        .unwrap();
    assert!(
        hash.is_some_and(|h| h.starts_with("$argon2id$")),
        "the password is set, hashed"
    );
    assert_eq!(s.get(&q).await.body["Resources"][0]["id"], id.as_str());
    // Profile update as a PUT of the whole resource, read-only parts included.
    let mut full = s.get(&format!("/Users/{id}")).await.body;
    full["name"]["givenName"] = json!("Ike");
    let p = s.put(&format!("/Users/{id}"), full.clone()).await;
    assert_eq!(
        (p.status, p.body["name"]["givenName"].as_str()),
        (StatusCode::OK, Some("Ike"))
    );
    // Deactivation: PATCH replace with a value object and no path ...
    let d = raw_patch(&s, &format!("/Users/{id}"), json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]})).await;
    assert_eq!(
        (d.status, d.body["active"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{}",
        d.body
    );
    // ... and reactivation, and deactivation again with PUT active:false.
    let r = raw_patch(&s, &format!("/Users/{id}"), json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": true}}]})).await;
    assert_eq!(r.body["active"], true);
    let mut full = s.get(&format!("/Users/{id}")).await.body;
    full["active"] = json!(false);
    let p = s.put(&format!("/Users/{id}"), full).await;
    assert_eq!(p.body["active"], false);
    let (_, u) = s.srv.get(&format!("/users/{id}")).await;
    assert_eq!(u["status"], "inactive");
    // Group push: create, rename with a value object (id included), member remove by filter and add.
    let other = s.user(json!({"userName": "other@example.com"})).await;
    let g = s.post("/Groups", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []})).await;
    assert_eq!(g.status, StatusCode::CREATED);
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let p = raw_patch(&s, &format!("/Groups/{gid}"), json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2 renamed"}},
        {"op": "add", "path": "members", "value": [{"value": id, "display": "isaac.brock@example.com"}, {"value": other, "display": "other@example.com"}]}
    ]})).await;
    // Okta takes 204 for a group PATCH (no attributes asked for): the group is read back.
    assert_eq!(p.status, StatusCode::NO_CONTENT, "{}", p.body);
    let p = s.get(&format!("/Groups/{gid}")).await;
    assert_eq!(p.body["displayName"], "Test SCIMv2 renamed");
    assert_eq!(p.body["members"].as_array().unwrap().len(), 2);
    let p = raw_patch(
        &s,
        &format!("/Groups/{gid}"),
        json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "remove", "path": format!("members[value eq \"{id}\"]")}
        ]}),
    )
    .await;
    assert_eq!(p.status, StatusCode::NO_CONTENT, "{}", p.body);
    let p = s.get(&format!("/Groups/{gid}")).await;
    assert_eq!(p.body["members"][0]["value"], other.as_str());
    assert_eq!(p.body["members"].as_array().unwrap().len(), 1);
}

async fn entra(b: Backend) {
    let s = Scim::start(b).await;
    let user_name = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com";
    let l = s
        .get(&format!(
            "/Users?filter={}",
            enc(&format!("userName eq \"{user_name}\""))
        ))
        .await;
    assert_eq!(l.body["totalResults"], 0);
    let c = s
        .post("/Users", json!({
            "schemas": [CORE, ENT],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": user_name, "active": true,
            "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
            ENT: {"department": "Sales"}
        }))
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let id = c.body["id"].as_str().unwrap().to_owned();
    // externalId lookups.
    let l = s
        .get(&format!(
            "/Users?filter={}",
            enc(r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#)
        ))
        .await;
    assert_eq!(l.body["Resources"][0]["id"], id.as_str());
    // Operation names capitalised; value-filtered path; attributes Castellan does not keep.
    let p = raw_patch(&s, &format!("/Users/{id}"), json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "Updated Name"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"},
        {"op": "Add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555 0100"},
        {"op": "Add", "path": "externalId", "value": "new-external-id"},
        {"op": "Add", "path": "title", "value": "Engineer"}
    ]})).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.body["displayName"], "Updated Name");
    assert_eq!(
        p.body["emails"],
        json!([{"primary": true, "type": "work", "value": "updatedEmail@microsoft.com"}])
    );
    assert_eq!(p.body["name"]["familyName"], "updatedFamilyName");
    assert_eq!(p.body["externalId"], "new-external-id");
    // A work email where there was none: Entra adds through the filtered path.
    let other = s.user(json!({"userName": "no-email"})).await;
    let p = raw_patch(
        &s,
        &format!("/Users/{other}"),
        json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "added@contoso.com"}
        ]}),
    )
    .await;
    assert_eq!(
        p.body["emails"],
        json!([{"primary": false, "type": "work", "value": "added@contoso.com"}])
    );
    // Manager as a bare id; enterprise attribute by its full URN path.
    let p = raw_patch(
        &s,
        &format!("/Users/{other}"),
        json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Add", "path": format!("{ENT}:manager"), "value": id},
            {"op": "Replace", "path": format!("{ENT}:department"), "value": "Marketing"}
        ]}),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.body[ENT]["manager"]["value"], id.as_str());
    assert_eq!(p.body[ENT]["department"], "Marketing");
    // Disabling with a string boolean.
    let p = raw_patch(
        &s,
        &format!("/Users/{id}"),
        json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Replace", "path": "active", "value": "False"}
        ]}),
    )
    .await;
    assert_eq!(
        (p.status, p.body["active"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let p = raw_patch(
        &s,
        &format!("/Users/{id}"),
        json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Replace", "path": "active", "value": "True"}
        ]}),
    )
    .await;
    assert_eq!(p.body["active"], true);
    // Groups: lookup without members, member add, and member removal with a value list that
    // removes those members only.
    let g = s.post("/Groups", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName", "meta": {"resourceType": "Group"}})).await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let l = s
        .get(&format!(
            "/Groups?excludedAttributes=members&filter={}",
            enc(r#"displayName eq "displayName""#)
        ))
        .await;
    assert_eq!(l.body["totalResults"], 1);
    let p = raw_patch(
        &s,
        &format!("/Groups/{gid}"),
        json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Add", "path": "members", "value": [{"value": id}, {"value": other}]}
        ]}),
    )
    .await;
    assert_eq!(p.status, StatusCode::NO_CONTENT, "{}", p.body);
    let p = raw_patch(
        &s,
        &format!("/Groups/{gid}"),
        json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Remove", "path": "members", "value": [{"value": id}]}
        ]}),
    )
    .await;
    // Entra ID takes 204 or 200 for a group PATCH.
    assert_eq!(p.status, StatusCode::NO_CONTENT);
    let p = s.get(&format!("/Groups/{gid}")).await;
    assert_eq!(p.body["members"].as_array().unwrap().len(), 1, "{}", p.body);
    assert_eq!(p.body["members"][0]["value"], other.as_str());
    // Rename with a path and a capitalised op.
    let p = raw_patch(&s, &format!("/Groups/{gid}"), json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}
    ]})).await;
    assert_eq!(p.status, StatusCode::NO_CONTENT);
    let p = s.get(&format!("/Groups/{gid}")).await;
    assert_eq!(
        p.body["displayName"],
        "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    );
    // Deprovisioning: DELETE, then 404.
    assert_eq!(
        s.delete(&format!("/Users/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get(&format!("/Users/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Entra ID's shapes for issue 13 §9-13: an admin account that carries the person's `mail`
/// (with the tenant's shared-email setting), a 256-character displayName, the userName sent
/// decomposed by a client that does not compose, the user's PATCH racing the group PATCH that
/// adds them (Entra sends both at once), and re-provisioning after a hard delete.
async fn entra_identity(b: Backend) {
    let s = Scim::start(b).await;
    let (st, v) = s
        .srv
        .put(
            "/scim/settings",
            json!({"delete_action": "delete", "unique_emails": false}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let person = |upn: &str, display: &str| {
        json!({
            "schemas": [CORE, ENT], "externalId": uuid::Uuid::new_v4().to_string(),
            "userName": upn, "active": true, "displayName": display,
            "emails": [{"primary": true, "type": "work", "value": "Zoe.Muller@contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": display, "familyName": "Müller", "givenName": "Zoë"},
            "roles": [], ENT: {"department": "Research"}
        })
    };
    let long = format!("Zoë Müller {}", "(Research and Development) ".repeat(9));
    let long: String = long.chars().take(256).collect();
    let me = s
        .post("/Users", person("Zoë.Müller@contoso.com", &long))
        .await;
    assert_eq!(me.status, StatusCode::CREATED, "{}", me.body);
    assert_eq!(me.body["displayName"], long.trim());
    let admin = s
        .post(
            "/Users",
            person("adm-zoe@contoso.onmicrosoft.com", "Zoë (admin)"),
        )
        .await;
    assert_eq!(
        admin.status,
        StatusCode::CREATED,
        "shared mail: {}",
        admin.body
    );
    // The same UPN decomposed is the same userName.
    let nfd = "Zoe\u{308}.Mu\u{308}ller@contoso.com";
    let dup = s.post("/Users", person(nfd, "dup")).await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    assert!(
        dup.body["detail"]
            .as_str()
            .unwrap()
            .contains(me.body["id"].as_str().unwrap()),
        "{}",
        dup.body
    );
    // A filter in the decomposed spelling finds the user too (Entra matches on userName).
    let found = s
        .get(&format!(
            "/Users?filter={}",
            crate::enc(&format!("userName eq \"{}\"", nfd.to_uppercase()))
        ))
        .await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    assert_eq!(found.body["Resources"][0]["id"], me.body["id"]);
    // The user's update and the group's membership change, at once.
    let id = me.body["id"].as_str().unwrap().to_owned();
    let g = s
        .post(
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Research", "externalId": "g-1", "members": []}),
        )
        .await;
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let user_patch = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": "title", "value": "Scientist"}]});
    let group_patch = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "Add", "path": "members", "value": [{"value": id}]}]});
    let (upath, gpath) = (format!("/Users/{id}"), format!("/Groups/{gid}"));
    let (u, g) = tokio::join!(
        raw_patch(&s, &upath, user_patch),
        raw_patch(&s, &gpath, group_patch)
    );
    assert_eq!(u.status, StatusCode::OK, "{}", u.body);
    assert!(g.status.is_success(), "{}", g.body);
    let read = s.get(&format!("/Users/{id}")).await.body;
    assert_eq!(read["title"], "Scientist");
    assert_eq!(read["groups"][0]["value"], gid.as_str());
    // Unassigned (hard delete), then assigned again: a new user with the same UPN and mail.
    assert_eq!(
        s.delete(&format!("/Users/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let back = s
        .post("/Users", person("Zoë.Müller@contoso.com", "Zoë Müller"))
        .await;
    assert_eq!(back.status, StatusCode::CREATED, "{}", back.body);
    assert_ne!(back.body["id"], id.as_str());
}

crate::backends!(okta, entra, entra_identity);
