//! `/Groups`: members are Castellan users, roles granted to a group follow membership.

use crate::Scim;
use crate::common::Backend;
use reqwest::StatusCode;
use serde_json::json;

async fn members_and_roles(b: Backend) {
    let s = Scim::start(b).await;
    let a = s.user(json!({"userName": "ada"})).await;
    let c = s.user(json!({"userName": "cy"})).await;
    let g = s
        .post(
            "/Groups",
            json!({"displayName": "Billing", "externalId": "okta-1", "members": [{"value": a}]}),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let gid = g.body["id"].as_str().unwrap().to_owned();
    assert_eq!(g.body["members"][0]["value"], a.as_str());
    // A role granted to the group reaches its members through the admin API's effective permissions.
    let (st, v) = s
        .srv
        .post("/permissions", json!({"name": "billing:read"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, role) = s
        .srv
        .post(
            "/roles",
            json!({"name": "Billing", "permissions": ["billing:read"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{role}");
    let rid = role["id"].as_str().unwrap();
    let (st, v) = s
        .srv
        .put(&format!("/groups/{gid}/roles/{rid}"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let p = s
        .patch(
            &format!("/Groups/{gid}"),
            json!([{"op": "add", "path": "members", "value": [{"value": c}]}]),
        )
        .await;
    // RFC 7644 §3.5.2: no attributes asked for, so 204 and the new ETag, no body.
    assert_eq!(p.status, StatusCode::NO_CONTENT, "{}", p.body);
    let now = s.get(&format!("/Groups/{gid}")).await;
    assert_eq!(
        p.headers["etag"],
        now.body["meta"]["version"].as_str().unwrap()
    );
    assert_eq!(now.body["members"].as_array().unwrap().len(), 2);
    let (_, u) = s
        .srv
        .get(&format!("/users/{c}/effective-permissions"))
        .await;
    assert!(u.to_string().contains("billing:read"), "{u}");
    // The user resource lists the group.
    let ur = s.get(&format!("/Users/{c}")).await;
    assert_eq!(ur.body["groups"][0]["value"], gid.as_str());
    // Unknown members and nested groups are refused, and change nothing.
    for bad in [
        json!([{"value": "nobody"}]),
        json!([{"value": gid, "type": "Group"}]),
    ] {
        let p = s
            .patch(
                &format!("/Groups/{gid}"),
                json!([{"op": "add", "path": "members", "value": bad}]),
            )
            .await;
        assert_eq!(
            (p.status, p.body["scimType"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalidValue"))
        );
    }
    // A member filter removes exactly that member.
    let p = s
        .send(
            reqwest::Method::PATCH,
            &format!("/Groups/{gid}?attributes=members"),
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]}),
            ),
            &[],
        )
        .await;
    assert_eq!(
        p.status,
        StatusCode::OK,
        "attributes asked for: 200 with the resource"
    );
    assert_eq!(
        p.body["members"],
        json!([{"value": c, "$ref": s.url(&format!("/Users/{c}")), "type": "User"}])
    );
    let (_, u) = s
        .srv
        .get(&format!("/users/{a}/effective-permissions"))
        .await;
    assert!(
        !u.to_string().contains("billing:read"),
        "left the group, lost the role: {u}"
    );
    // excludedAttributes=members (Entra ID's lookups) leaves them out.
    let l = s
        .get("/Groups?filter=externalId%20eq%20%22okta-1%22&excludedAttributes=members")
        .await;
    assert_eq!(l.body["totalResults"], 1);
    assert!(l.body["Resources"][0].get("members").is_none());
    let d = s.delete(&format!("/Groups/{gid}")).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.get(&format!("/Groups/{gid}")).await.status,
        StatusCode::NOT_FOUND
    );
    let ur = s.get(&format!("/Users/{c}")).await;
    assert!(ur.body.get("groups").is_none());
}

async fn group_etags(b: Backend) {
    let s = Scim::start(b).await;
    let g = s.post("/Groups", json!({"displayName": "G"})).await;
    let path = format!("/Groups/{}", g.body["id"].as_str().unwrap());
    let p = s
        .send(
            reqwest::Method::PUT,
            &path,
            Some(json!({"displayName": "H"})),
            &[("if-match", "W/\"9\"")],
        )
        .await;
    assert_eq!(p.status, StatusCode::PRECONDITION_FAILED);
    let p = s
        .send(
            reqwest::Method::PUT,
            &path,
            Some(json!({"displayName": "H"})),
            &[("if-match", "W/\"1\"")],
        )
        .await;
    assert_eq!(
        (p.status, p.body["meta"]["version"].as_str()),
        (StatusCode::OK, Some("W/\"2\""))
    );
    let n = s
        .send(
            reqwest::Method::GET,
            &path,
            None,
            &[("if-none-match", "W/\"2\"")],
        )
        .await;
    assert_eq!(n.status, StatusCode::NOT_MODIFIED);
}

/// `POST /.search` at the root: users, then groups, paged as one list.
async fn root_search(b: Backend) {
    let s = Scim::start(b).await;
    s.user(json!({"userName": "ada", "displayName": "Team"}))
        .await;
    for n in ["Team", "Other"] {
        let g = s.post("/Groups", json!({"displayName": n})).await;
        assert_eq!(g.status, StatusCode::CREATED);
    }
    let search = |body: serde_json::Value| s.post("/.search", body);
    let all =
        search(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.body["totalResults"], 4, "owner, ada and two groups");
    let page = search(json!({"startIndex": 2, "count": 2})).await;
    let r = page.body["Resources"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["userName"], "ada");
    assert_eq!(
        r[1]["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:Group"
    );
    let both = search(json!({"filter": "displayName eq \"team\""})).await;
    assert_eq!(
        both.body["totalResults"], 2,
        "a user and a group: {}",
        both.body
    );
    let groups_only = search(json!({"filter": "members pr or displayName eq \"Other\""})).await;
    assert_eq!(groups_only.body["totalResults"], 1, "{}", groups_only.body);
    let bad = search(json!({"filter": "nosuch pr"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// `groups` is part of a user's resource: joining, leaving, a rename and a deletion of one of
/// their groups give the user a new version, so a stale `If-Match` on the user gets 412.
async fn membership_changes_the_user_version(b: Backend) {
    let s = Scim::start(b).await;
    let a = s.user(json!({"userName": "ada"})).await;
    let user = format!("/Users/{a}");
    let etag = |r: &crate::Answer| r.headers["etag"].to_str().unwrap().to_owned();
    let mut seen = vec![etag(&s.get(&user).await)];
    fn changed(seen: &mut Vec<String>, now: String, what: &str) {
        assert!(
            !seen.contains(&now),
            "{what}: the user's version changed ({seen:?} -> {now})"
        );
        seen.push(now);
    }
    let g = s
        .post(
            "/Groups",
            json!({"displayName": "Billing", "members": [{"value": a}]}),
        )
        .await;
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let now = s.get(&user).await;
    assert_eq!(now.body["groups"][0]["value"], gid.as_str());
    assert_eq!(now.body["meta"]["version"].as_str().unwrap(), etag(&now));
    changed(&mut seen, etag(&now), "joined through POST /Groups");
    // A PATCH of the user with the version from before they joined is refused.
    let stale = s
        .send(
            reqwest::Method::PATCH,
            &user,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "title", "value": "x"}]}),
            ),
            &[("if-match", seen[0].as_str())],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    let group = format!("/Groups/{gid}");
    let r = s
        .patch(
            &group,
            json!([{"op": "replace", "path": "displayName", "value": "Money"}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let now = s.get(&user).await;
    assert_eq!(now.body["groups"][0]["display"], "Money");
    changed(&mut seen, etag(&now), "group renamed");
    let r = s
        .patch(
            &group,
            json!([{"op": "remove", "path": "members", "value": [{"value": a}]}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    changed(
        &mut seen,
        etag(&s.get(&user).await),
        "left through PATCH /Groups",
    );
    // The admin API changes membership too.
    let (st, v) = s
        .srv
        .put(&format!("/groups/{gid}/members/{a}"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    changed(
        &mut seen,
        etag(&s.get(&user).await),
        "joined through the admin API",
    );
    assert_eq!(s.delete(&group).await.status, StatusCode::NO_CONTENT);
    let now = s.get(&user).await;
    assert_eq!(now.body["groups"], serde_json::Value::Null);
    changed(&mut seen, etag(&now), "group deleted");
}

/// scim-sanity adds the member "fake-member-id": a member must be a user of the tenant, so the
/// PATCH is refused (RFC 7644 §3.5.2: an invalid reference) with a SCIM error, and changes nothing.
async fn dangling_member_refused(b: Backend) {
    let s = Scim::start(b).await;
    let a = s.user(json!({"userName": "ada"})).await;
    let g = s
        .post(
            "/Groups",
            json!({"displayName": "Ops", "members": [{"value": a}]}),
        )
        .await;
    let path = format!("/Groups/{}", g.body["id"].as_str().unwrap());
    let r = s
        .patch(
            &path,
            json!([{"op": "add", "path": "members", "value": [{"value": "fake-member-id"}]}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["scimType"], "invalidValue");
    assert_eq!(
        r.body["detail"],
        "member `fake-member-id` is not a user of this tenant"
    );
    let now = s.get(&path).await;
    assert_eq!(now.body["members"], g.body["members"]);
    assert_eq!(now.body["meta"]["version"], g.body["meta"]["version"]);
}

crate::backends!(
    dangling_member_refused,
    members_and_roles,
    group_etags,
    root_search,
    membership_changes_the_user_version
);
