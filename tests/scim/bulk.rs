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

crate::backends!(
    references_and_results,
    fail_on_errors_stops,
    limits,
    creations_together_each_whole,
    fail_on_errors_among_creations
);
