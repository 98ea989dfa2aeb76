//! `/attributes`: custom attribute definitions, and their values on users end to end.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::tokens::assert_outsiders_refused;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn define_read_change_delete(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, d) = s
        .post(
            "/attributes",
            json!({"key": "cost_centre", "label": "Cost centre", "kind": "text"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert_eq!(d["kind"], "text");
    assert_eq!(d["required"], false);
    assert_eq!(d["options"], json!([]));
    let (st, got) = s.get("/attributes/cost_centre").await;
    assert_eq!((st, &got["label"]), (StatusCode::OK, &json!("Cost centre")));
    let (st, upd) = s
        .patch(
            "/attributes/cost_centre",
            json!({"label": "Cost center", "description": "Where costs go"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{upd}");
    assert_eq!(upd["label"], "Cost center");
    assert_eq!(upd["description"], "Where costs go");
    let (st, upd) = s
        .patch("/attributes/cost_centre", json!({"description": null}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(upd["description"].is_null());
    let (_, list) = s.get("/attributes").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (st, _) = s.delete("/attributes/cost_centre").await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    for (method, path) in [
        (Method::GET, "/attributes/cost_centre"),
        (Method::DELETE, "/attributes/cost_centre"),
    ] {
        let (st, _) = s.call(method, path, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
    let (st, _) = s
        .patch("/attributes/cost_centre", json!({"label": "x"}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

async fn bad_definitions_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, _) = s
        .post(
            "/attributes",
            json!({"key": "tier", "label": "Tier", "kind": "enum", "options": ["gold", "silver"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    for body in [
        json!({"key": "1bad", "label": "x", "kind": "text"}),
        json!({"key": "has-dash", "label": "x", "kind": "text"}),
        json!({"key": "ok", "label": "", "kind": "text"}),
        json!({"key": "ok", "label": "x", "kind": "colour"}),
        json!({"key": "ok", "label": "x", "kind": "enum"}),
        json!({"key": "ok", "label": "x", "kind": "enum", "options": []}),
        json!({"key": "ok", "label": "x", "kind": "enum", "options": ["a", "a"]}),
        json!({"key": "ok", "label": "x", "kind": "text", "options": ["a"]}),
        json!({"key": "ok", "label": "x", "kind": "number", "default": "ten"}),
        json!({"key": "ok", "label": "x", "kind": "text", "surprise": true}),
        json!({"label": "x", "kind": "text"}),
    ] {
        let (st, e) = s.post("/attributes", body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
    }
    let (st, e) = s
        .post(
            "/attributes",
            json!({"key": "tier", "label": "Again", "kind": "text"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    for body in [
        json!({"kind": "text"}),
        json!({"options": []}),
        json!({"options": ["gold", "gold"]}),
        json!({"label": ""}),
        json!({"key": "renamed"}),
        json!({"required": true, "default": "bronze"}),
    ] {
        let (st, e) = s.patch("/attributes/tier", body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
    }
    let (_, list) = s.get("/attributes").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (_, tier) = s.get("/attributes/tier").await;
    assert_eq!(tier["options"], json!(["gold", "silver"]));
    assert_eq!(tier["required"], false);
}

async fn required_needs_a_default_for_existing_users(b: Backend) {
    let s = TestServer::start(b).await;
    let u = s.create_user("uma@example.com").await;
    let gone = s.create_user("gone@example.com").await;
    let gid = gone["id"].as_str().unwrap();
    let (st, _) = s.post(&format!("/users/{gid}/anonymise"), json!({})).await;
    assert_eq!(st, StatusCode::OK);

    // The owner and Uma lack a value (the anonymised user does not count).
    let (st, e) = s
        .post(
            "/attributes",
            json!({"key": "site", "label": "Site", "kind": "text", "required": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains('2'), "{e}");
    let (st, _) = s.get("/attributes/site").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing half-saved");
    let (st, d) = s
        .post(
            "/attributes",
            json!({"key": "site", "label": "Site", "kind": "text", "required": true, "default": "HQ"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let uid = u["id"].as_str().unwrap();
    let (_, got) = s.get(&format!("/users/{uid}")).await;
    assert_eq!(got["attributes"]["site"], "HQ");
    let (_, anon) = s.get(&format!("/users/{gid}")).await;
    assert_eq!(anon["attributes"], json!({}));

    // Making an existing attribute required.
    let (st, _) = s
        .post(
            "/attributes",
            json!({"key": "level", "label": "Level", "kind": "number"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = s
        .patch(
            &format!("/users/{uid}"),
            json!({"attributes": {"level": 3}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = s
        .patch("/attributes/level", json!({"required": true}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains('1'), "{e}");
    let (_, level) = s.get("/attributes/level").await;
    assert_eq!(level["required"], false, "nothing half-saved");
    let (st, e) = s
        .patch(
            "/attributes/level",
            json!({"required": true, "default": "one"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (st, level) = s
        .patch("/attributes/level", json!({"required": true, "default": 1}))
        .await;
    assert_eq!(st, StatusCode::OK, "{level}");
    assert_eq!(level["required"], true);
    let (_, got) = s.get(&format!("/users/{uid}")).await;
    assert_eq!(got["attributes"]["level"], 3, "an existing value stays");
    let (_, owner) = s.get("/owner").await;
    assert_eq!(owner["attributes"]["level"], 1);
    assert_eq!(owner["attributes"]["site"], "HQ");
}

async fn enum_options_in_use_stay(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, _) = s
        .post(
            "/attributes",
            json!({"key": "tier", "label": "Tier", "kind": "enum", "options": ["gold", "silver", "bronze"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    s.post(
        "/users",
        json!({"email": "g@example.com", "attributes": {"tier": "gold"}}),
    )
    .await;
    let (st, e) = s
        .patch("/attributes/tier", json!({"options": ["silver", "bronze"]}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("gold"), "{e}");
    let (st, d) = s
        .patch("/attributes/tier", json!({"options": ["gold", "platinum"]}))
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["options"], json!(["gold", "platinum"]));
    let (st, _) = s
        .post(
            "/users",
            json!({"email": "s@example.com", "attributes": {"tier": "silver"}}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn values_on_users_end_to_end(b: Backend) {
    let s = TestServer::start(b).await;
    let defs = [
        json!({"key": "badge", "label": "Badge", "kind": "text", "required": true, "default": "none"}),
        json!({"key": "rate", "label": "Rate", "kind": "number"}),
        json!({"key": "remote", "label": "Remote", "kind": "boolean"}),
        json!({"key": "since", "label": "Since", "kind": "date"}),
        json!({"key": "tier", "label": "Tier", "kind": "enum", "options": ["gold", "silver"]}),
    ];
    for d in defs {
        let (st, e) = s.post("/attributes", d).await;
        assert_eq!(st, StatusCode::CREATED, "{e}");
    }
    for attrs in [
        json!({}),
        json!({"badge": null}),
        json!({"badge": 7}),
        json!({"badge": "B1", "rate": "fast"}),
        json!({"badge": "B1", "remote": "yes"}),
        json!({"badge": "B1", "since": "2024-13-01"}),
        json!({"badge": "B1", "tier": "bronze"}),
    ] {
        let (st, e) = s
            .post(
                "/users",
                json!({"email": "x@example.com", "attributes": attrs}),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{attrs}: {e}");
    }
    let typed =
        json!({"badge": "B1", "rate": 2.5, "remote": true, "since": "2024-02-29", "tier": "gold"});
    let (st, u) = s
        .post(
            "/users",
            json!({"email": "x@example.com", "attributes": typed}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    assert_eq!(u["attributes"], typed);
    let id = u["id"].as_str().unwrap();
    let (_, got) = s.get(&format!("/users/{id}")).await;
    assert_eq!(got["attributes"], typed);

    let (st, e) = s
        .patch(
            &format!("/users/{id}"),
            json!({"attributes": {"badge": null}}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (st, upd) = s
        .patch(
            &format!("/users/{id}"),
            json!({"attributes": {"rate": 40, "remote": false, "tier": null}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{upd}");
    assert_eq!(
        upd["attributes"],
        json!({"badge": "B1", "rate": 40, "remote": false, "since": "2024-02-29"})
    );

    // Deleting a definition removes its values; a new one of the same key starts empty.
    let (st, _) = s.delete("/attributes/rate").await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, got) = s.get(&format!("/users/{id}")).await;
    assert!(got["attributes"].get("rate").is_none(), "{got}");
    s.post(
        "/attributes",
        json!({"key": "rate", "label": "Rate", "kind": "text"}),
    )
    .await;
    let (_, got) = s.get(&format!("/users/{id}")).await;
    assert!(got["attributes"].get("rate").is_none(), "{got}");
}

async fn outsiders_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, _) = s
        .post(
            "/attributes",
            json!({"key": "site", "label": "Site", "kind": "text"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_outsiders_refused(
        &s,
        &[
            (Method::GET, "/attributes".into(), None),
            (
                Method::POST,
                "/attributes".into(),
                Some(json!({"key": "x", "label": "X", "kind": "text"})),
            ),
            (Method::GET, "/attributes/site".into(), None),
            (
                Method::PATCH,
                "/attributes/site".into(),
                Some(json!({"label": "Y"})),
            ),
            (Method::DELETE, "/attributes/site".into(), None),
        ],
    )
    .await;
    let (_, site) = s.get("/attributes/site").await;
    assert_eq!(site["label"], "Site");
}

backends!(
    define_read_change_delete,
    bad_definitions_are_refused,
    required_needs_a_default_for_existing_users,
    enum_options_in_use_stay,
    values_on_users_end_to_end,
    outsiders_are_refused,
);
