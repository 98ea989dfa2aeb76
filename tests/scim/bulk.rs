//! `/Bulk` (RFC 7644 §3.7): bulkId references, failOnErrors, limits.

use crate::Scim;
use crate::common::Backend;
use reqwest::StatusCode;
use serde_json::{Value, json};

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

async fn references_and_results(b: Backend) {
    let s = Scim::start(b).await;
    // The group comes first and refers to users created after it; the manager refers to one too.
    let r = s
        .post("/Bulk", json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "g",
             "data": {"displayName": "Tour Guides", "members": [{"value": "bulkId:a"}, {"value": "bulkId:b"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "alice"}},
            {"method": "POST", "path": "/Users", "bulkId": "b",
             "data": {"userName": "bob", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "bulkId:a"}}}},
            {"method": "PATCH", "path": "/Users/bulkId:a", "data": {"Operations": [{"op": "replace", "path": "title", "value": "Guide"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"userName": "ALICE"}},
            {"method": "DELETE", "path": "/Users/does-not-exist"},
            {"method": "POST", "path": "/Groups", "bulkId": "x", "data": {"displayName": "Loop", "members": [{"value": "bulkId:y"}]}},
            {"method": "POST", "path": "/Nothing", "bulkId": "y", "data": {}},
        ]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ops = r.body["Operations"].as_array().unwrap();
    let by = |id: &str| {
        ops.iter()
            .find(|o| o["bulkId"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(by("a")["status"], "201");
    assert_eq!(by("b")["status"], "201");
    assert_eq!(by("g")["status"], "201", "{}", r.body);
    assert_eq!(by("dup")["status"], "409");
    assert_eq!(by("dup")["response"]["scimType"], "uniqueness");
    assert_eq!(by("y")["status"], "400");
    assert_eq!(by("x")["status"], "409", "refers to a failed operation");
    let del = ops.iter().find(|o| o["method"] == "DELETE").unwrap();
    assert_eq!(del["status"], "404");
    let group = s
        .get(
            by("g")["location"]
                .as_str()
                .unwrap()
                .rsplit_once("/scim/v2")
                .unwrap()
                .1,
        )
        .await;
    assert_eq!(group.body["members"].as_array().unwrap().len(), 2);
    let bob = s
        .get(
            by("b")["location"]
                .as_str()
                .unwrap()
                .rsplit_once("/scim/v2")
                .unwrap()
                .1,
        )
        .await;
    let alice_id = by("a")["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        bob.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
        alice_id.as_str()
    );
    let alice = s.get(&format!("/Users/{alice_id}")).await;
    assert_eq!(alice.body["title"], "Guide");
    assert_eq!(by("a")["version"], "W/\"1\"");
}

async fn fail_on_errors_stops(b: Backend) {
    let s = Scim::start(b).await;
    let r = s
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "1", "data": {"userName": "one"}},
                {"method": "POST", "path": "/Users", "bulkId": "2", "data": {"nouserName": true}},
                {"method": "POST", "path": "/Users", "bulkId": "3", "data": {"userName": "three"}},
            ]}),
        )
        .await;
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(
        ops.len(),
        2,
        "processing stopped at the first error: {}",
        r.body
    );
    assert_eq!(
        (ops[0]["status"].as_str(), ops[1]["status"].as_str()),
        (Some("201"), Some("400"))
    );
    assert_eq!(s.names("filter=userName%20eq%20%22three%22").await.len(), 0);
}

async fn limits(b: Backend) {
    let s = Scim::start(b).await;
    let spc = s.get("/ServiceProviderConfig").await.body;
    let max_ops = spc["bulk"]["maxOperations"].as_u64().unwrap() as usize;
    let max_payload = spc["bulk"]["maxPayloadSize"].as_u64().unwrap() as usize;
    let ops: Vec<Value> = (0..=max_ops)
        .map(|i| json!({"method": "POST", "path": "/Users", "data": {"userName": format!("u{i}")}}))
        .collect();
    let r = s
        .post("/Bulk", json!({"schemas": [BULK], "Operations": ops}))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(
        s.names("count=10").await.len(),
        1,
        "nothing was created (only the owner)"
    );
    let big = "x".repeat(max_payload);
    let r = s
        .post("/Bulk", json!({"schemas": [BULK], "Operations": [{"method": "POST", "path": "/Users", "data": {"userName": big}}]}))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = s.post("/Bulk", json!({"Operations": "nope"})).await;
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalidSyntax"))
    );
}

/// Consecutive creations run together; a refused one leaves nothing behind (no user, no email,
/// no manager) and the others are kept, each with its whole resource.
async fn creations_together_each_whole(b: Backend) {
    let s = Scim::start(b).await;
    let boss = s.user(json!({"userName": "boss"})).await;
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let user = |name: &str, manager: &str| {
        json!({"method": "POST", "path": "/Users", "bulkId": name, "data": {
            "userName": name,
            "emails": [{"value": format!("{name}@work.test"), "type": "work", "primary": true}],
            ent: {"manager": {"value": manager}, "department": "Ops"}}})
    };
    let r = s
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "Operations": [
                user("u1", &boss),
                user("u2", &boss),
                {"method": "POST", "path": "/Users", "bulkId": "u1-again", "data": {
                    "userName": "U1", "emails": [{"value": "other@work.test", "type": "work"}]}},
                user("u4", "no-such-user"),
                user("u5", &boss),
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let status: Vec<&str> = r.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["201", "201", "409", "400", "201"], "{}", r.body);
    let ops = &r.body["Operations"];
    assert_eq!(ops[2]["response"]["scimType"], "uniqueness");
    assert_eq!(ops[3]["response"]["scimType"], "invalidValue");
    let mut names = s.names("count=100").await;
    names.sort();
    assert_eq!(names, ["boss", "owner@acme.test", "u1", "u2", "u5"]);
    for gone in ["other@work.test", "u4@work.test"] {
        let f = crate::enc(&format!("emails.value eq \"{gone}\""));
        assert_eq!(s.names(&format!("filter={f}")).await.len(), 0, "{gone}");
    }
    let loc = ops[4]["location"].as_str().unwrap();
    let u5 = s.get(loc.rsplit_once("/scim/v2").unwrap().1).await;
    assert_eq!(u5.body["emails"][0]["value"], "u5@work.test");
    assert_eq!(u5.body[ent]["manager"]["value"], boss.as_str());
    assert_eq!(u5.body[ent]["department"], "Ops");
    assert_eq!(ops[4]["version"], u5.body["meta"]["version"]);
    let (_, audit) = s.srv.get("/audit?action=user.create").await;
    let by_scim = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_kind"] == "scim")
        .count();
    assert_eq!(
        by_scim, 4,
        "one audit entry per created user (boss, u1, u2, u5): {audit}"
    );
}

/// failOnErrors counts errors among creations run together too.
async fn fail_on_errors_among_creations(b: Backend) {
    let s = Scim::start(b).await;
    let r = s
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [
                {"method": "POST", "path": "/Users", "data": {"userName": "a"}},
                {"method": "POST", "path": "/Users", "data": {"userName": "b"}},
                {"method": "POST", "path": "/Users", "data": {"userName": "A"}},
                {"method": "POST", "path": "/Users", "data": {"userName": "c"}},
            ]}),
        )
        .await;
    let status: Vec<&str> = r.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["201", "201", "409"], "{}", r.body);
    let mut names = s.names("count=100").await;
    names.sort();
    assert_eq!(names, ["a", "b", "owner@acme.test"]);
}

fn statuses(r: &Value) -> Vec<String> {
    r["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap().to_owned())
        .collect()
}

/// Issue 13 §14: a bulkId given twice is refused whole, before anything runs.
async fn duplicate_bulk_ids(b: Backend) {
    let s = Scim::start(b).await;
    let r = s
        .post("/Bulk", json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "x", "data": {"userName": "first"}},
            {"method": "POST", "path": "/Groups", "bulkId": "y", "data": {"displayName": "G", "members": [{"value": "bulkId:x"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "x", "data": {"userName": "second"}},
        ]}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["scimType"], "invalidValue");
    assert!(
        r.body["detail"].as_str().unwrap().contains("`x`"),
        "{}",
        r.body
    );
    assert_eq!(
        s.names("count=10").await,
        ["owner@acme.test"],
        "nothing ran"
    );
}

/// Issue 13 §15: an unresolvable bulkId reference is an error where it stands and counts at
/// once; nothing after the limit runs. Cases: an unknown bulkId, a failed one, a circle.
async fn unresolved_references_count(b: Backend) {
    let s = Scim::start(b).await;
    let cases = [
        // (operations, failOnErrors, statuses expected, users that must not exist)
        (
            json!([
                {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"displayName": "G1", "members": [{"value": "bulkId:nobody"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "after-unknown"}},
            ]),
            1,
            vec!["409"],
            "after-unknown",
        ),
        (
            json!([
                {"method": "POST", "path": "/Users", "bulkId": "bad", "data": {"displayName": "no userName"}},
                {"method": "PATCH", "path": "/Users/bulkId:bad", "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "title", "value": "x"}]}},
                {"method": "POST", "path": "/Users", "data": {"userName": "after-failed"}},
            ]),
            2,
            vec!["400", "409"],
            "after-failed",
        ),
        (
            json!([
                {"method": "POST", "path": "/Groups", "bulkId": "a", "data": {"displayName": "A", "members": [{"value": "bulkId:b"}]}},
                {"method": "POST", "path": "/Groups", "bulkId": "b", "data": {"displayName": "B", "members": [{"value": "bulkId:a"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"userName": "after-circle", "x": "bulkId:a"}},
            ]),
            1,
            vec!["409"],
            "after-circle",
        ),
    ];
    for (ops, limit, want, absent) in cases {
        let r = s
            .post(
                "/Bulk",
                json!({"schemas": [BULK], "failOnErrors": limit, "Operations": ops}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(statuses(&r.body), want, "{}", r.body);
        let q = format!(
            "filter={}",
            crate::enc(&format!("userName eq \"{absent}\""))
        );
        assert!(s.names(&q).await.is_empty(), "{absent} was not created");
    }
    // Without failOnErrors every operation is answered, the unresolvable ones with 409.
    let r = s
        .post("/Bulk", json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Groups", "data": {"displayName": "G9", "members": [{"value": "bulkId:later"}]}},
            {"method": "POST", "path": "/Groups", "data": {"displayName": "G10", "members": [{"value": "bulkId:none"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "later", "data": {"userName": "later"}},
        ]}))
        .await;
    assert_eq!(statuses(&r.body), ["201", "409", "201"], "{}", r.body);
}

/// Issue 13 §16: a Bulk whose answer was lost is sent again: its creations answer 409
/// uniqueness naming the user made the first time, its PATCHes and PUTs apply again, its
/// DELETEs answer 404; nothing is made twice.
async fn retried_bulk_recovers(b: Backend) {
    let s = Scim::start(b).await;
    let body = json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"userName": "r1", "emails": [{"value": "r1@corp.example"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "u2", "data": {"userName": "r2"}},
        {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"displayName": "R", "members": [{"value": "bulkId:u1"}]}},
    ]});
    let first = s.post("/Bulk", body.clone()).await;
    assert_eq!(
        statuses(&first.body),
        ["201", "201", "201"],
        "{}",
        first.body
    );
    let id_of = |n: usize| {
        first.body["Operations"][n]["location"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned()
    };
    let again = s.post("/Bulk", body).await;
    let ops = again.body["Operations"].as_array().unwrap();
    for (n, op) in ops.iter().enumerate().take(2) {
        assert_eq!(op["status"], "409", "{}", again.body);
        assert_eq!(op["response"]["scimType"], "uniqueness");
        let detail = op["response"]["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("userName") && detail.contains(&id_of(n)),
            "{detail}"
        );
    }
    // The group's reference to the failed creation cannot resolve (groups may share names).
    assert_eq!(ops[2]["status"], "409", "{}", again.body);
    let mut names = s.names("count=10").await;
    names.sort();
    assert_eq!(names, ["owner@acme.test", "r1", "r2"]);
}

crate::backends!(
    duplicate_bulk_ids,
    unresolved_references_count,
    retried_bulk_recovers,
    references_and_results,
    fail_on_errors_stops,
    limits,
    creations_together_each_whole,
    fail_on_errors_among_creations
);
