//! `/users/{id}/memberships`: dates, the one main membership, deletion rules, access control.

use crate::accounts::create_account;
use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The user's memberships (asserting 200).
async fn memberships(s: &TestServer, user: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/users/{user}/memberships")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

/// The ids of the user's main memberships (there must be exactly one).
async fn main_of(s: &TestServer, user: &str) -> String {
    let mains: Vec<String> = memberships(s, user)
        .await
        .iter()
        .filter(|m| m["main"] == true)
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(mains.len(), 1, "exactly one main membership: {mains:?}");
    mains[0].clone()
}

async fn add_and_validate_memberships(b: Backend) {
    let s = TestServer::start(b).await;
    let a = create_account(&s, "Alpha", "customer").await;
    let u = s.create_user("una@example.com").await;
    let uid = u["id"].as_str().unwrap();
    let list = memberships(&s, uid).await;
    assert_eq!(list.len(), 1);
    assert_eq!(
        (
            &list[0]["account_name"],
            &list[0]["main"],
            &list[0]["current"]
        ),
        (&json!("Guest"), &json!(true), &json!(true))
    );
    let path = format!("/users/{uid}/memberships");
    for (body, field) in [
        (
            json!({"account_id": a, "start_date": "2020-01-01", "end_date": "2019-12-31"}),
            Some("end_date"),
        ),
        (json!({"account_id": a, "start_date": "2020-13-01"}), None),
        (json!({"account_id": a, "start_date": "1 May 2020"}), None),
        (json!({"account_id": "nope"}), Some("account_id")),
        (json!({"account_id": a, "role": "x"}), None),
        (json!({}), None),
    ] {
        let (st, e) = s.post(&path, body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body} -> {e}");
        if let Some(f) = field {
            assert_eq!(e["field"], f, "{e}");
        }
    }
    assert_eq!(memberships(&s, uid).await.len(), 1, "nothing half-saved");
    let (st, m) = s
        .post(
            &path,
            json!({"account_id": a, "start_date": "2020-01-01", "end_date": "2099-12-31"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    assert_eq!((&m["main"], &m["current"]), (&json!(false), &json!(true)));
    assert_eq!(
        (&m["start_date"], &m["end_date"]),
        (&json!("2020-01-01"), &json!("2099-12-31"))
    );
    let (st, past) = s
        .post(&path, json!({"account_id": a, "end_date": "2000-01-01"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{past}");
    assert_eq!(past["current"], false);
    let (st, future) = s
        .post(&path, json!({"account_id": a, "start_date": "2999-01-01"}))
        .await;
    assert_eq!(
        (st, &future["current"]),
        (StatusCode::CREATED, &json!(false))
    );
    let (st, _) = s
        .get("/users/00000000-0000-0000-0000-000000000000/memberships")
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

async fn main_membership_moves(b: Backend) {
    let s = TestServer::start(b).await;
    let a = create_account(&s, "Alpha", "customer").await;
    let uid = s.create_user("mo@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let guest_m = main_of(&s, &uid).await;
    let path = format!("/users/{uid}/memberships");
    let (st, m) = s.post(&path, json!({"account_id": a, "main": true})).await;
    assert_eq!((st, &m["main"]), (StatusCode::CREATED, &json!(true)), "{m}");
    let ma = m["id"].as_str().unwrap().to_owned();
    assert_eq!(main_of(&s, &uid).await, ma);
    assert_eq!(
        memberships(&s, &uid).await[0]["id"],
        ma.as_str(),
        "main first"
    );

    let (st, m) = s
        .patch(&format!("{path}/{guest_m}"), json!({"main": true}))
        .await;
    assert_eq!((st, &m["main"]), (StatusCode::OK, &json!(true)), "{m}");
    assert_eq!(main_of(&s, &uid).await, guest_m);
    let (st, e) = s
        .patch(&format!("{path}/{guest_m}"), json!({"main": false}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    let (st, _) = s
        .patch(&format!("{path}/{guest_m}"), json!({"main": true}))
        .await;
    assert_eq!(st, StatusCode::OK, "already main: no change");
    assert_eq!(main_of(&s, &uid).await, guest_m);

    let (st, audit) = s.get(&format!("/audit?target_id={ma}")).await;
    assert_eq!(st, StatusCode::OK, "{audit}");
    let entries = audit["items"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["action"] == "membership.update"
            && e["before"]["main"] == true
            && e["after"]["main"] == false),
        "moving the main mark is audited on the old main membership: {audit}"
    );
}

async fn membership_dates_change(b: Backend) {
    let s = TestServer::start(b).await;
    let a = create_account(&s, "Alpha", "customer").await;
    let uid = s.create_user("dee@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/users/{uid}/memberships");
    let (_, m) = s
        .post(&path, json!({"account_id": a, "start_date": "2020-01-01"}))
        .await;
    let one = format!("{path}/{}", m["id"].as_str().unwrap());
    let (st, e) = s.patch(&one, json!({"end_date": "2019-01-01"})).await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("end_date")),
        "{e}"
    );
    let (st, m) = s.patch(&one, json!({"end_date": "2030-12-31"})).await;
    assert_eq!(
        (st, &m["end_date"]),
        (StatusCode::OK, &json!("2030-12-31")),
        "{m}"
    );
    let (st, e) = s.patch(&one, json!({"start_date": "2031-01-01"})).await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("start_date")),
        "{e}"
    );
    let (st, e) = s.patch(&one, json!({"start_date": "2031-02-30"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (st, e) = s.patch(&one, json!({"account_id": a})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (st, m) = s
        .patch(&one, json!({"start_date": null, "end_date": "2000-01-01"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{m}");
    assert_eq!(
        (&m["start_date"], &m["current"]),
        (&Value::Null, &json!(false))
    );
    let (_, m) = s.patch(&one, json!({"end_date": null})).await;
    assert_eq!(
        (&m["end_date"], &m["current"]),
        (&Value::Null, &json!(true))
    );
    let (st, _) = s
        .patch(
            &format!("{path}/00000000-0000-0000-0000-000000000000"),
            json!({"main": true}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let other = s.create_user("eve@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, _) = s
        .patch(
            &format!("/users/{other}/memberships/{}", m["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "a membership is addressed under its own user"
    );
}

async fn membership_deletion_rules(b: Backend) {
    let s = TestServer::start(b).await;
    let a = create_account(&s, "Alpha", "customer").await;
    let bb = create_account(&s, "Beta", "customer").await;
    let uid = s.create_user("del@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/users/{uid}/memberships");
    let guest_m = main_of(&s, &uid).await;
    let (_, ma) = s.post(&path, json!({"account_id": a, "main": true})).await;
    let ma = ma["id"].as_str().unwrap().to_owned();
    let (_, mb) = s.post(&path, json!({"account_id": bb})).await;
    let mb = mb["id"].as_str().unwrap().to_owned();

    let (st, e) = s.delete(&format!("{path}/{ma}")).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("main"), "{e}");
    for m in [&mb, &guest_m] {
        let (st, e) = s.delete(&format!("{path}/{m}")).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{e}");
    }
    let (st, e) = s.delete(&format!("{path}/{ma}")).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("last"), "{e}");
    let (st, _) = s.delete(&format!("{path}/{mb}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(memberships(&s, &uid).await.len(), 1);
    assert_eq!(main_of(&s, &uid).await, ma);
}

async fn memberships_access_control(b: Backend) {
    let s = TestServer::start(b).await;
    let a = create_account(&s, "Alpha", "customer").await;
    let uid = s.create_user("target@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, m) = s
        .post(
            &format!("/users/{uid}/memberships"),
            json!({"account_id": a}),
        )
        .await;
    let mid = m["id"].as_str().unwrap().to_owned();
    let member = s.create_user("member@example.com").await;
    let member_token = s.token_for("acme", member["id"].as_str().unwrap()).await;
    let other = s.other_tenant("other").await;
    let list = format!("/users/{uid}/memberships");
    let one = format!("{list}/{mid}");
    let endpoints: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, list.clone(), None),
        (Method::POST, list.clone(), Some(json!({"account_id": a}))),
        (Method::PATCH, one.clone(), Some(json!({"main": true}))),
        (Method::DELETE, one.clone(), None),
    ];
    for (method, path, body) in endpoints {
        let url = s.url(&path);
        let (st, e) = s
            .call_as(&member_token, method.clone(), &url, body.clone())
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "member {method} {path}: {e}");
        let (st, e) = s.call_as(&other, method.clone(), &url, body).await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "other tenant {method} {path}: {e}"
        );
    }
    let list = memberships(&s, &uid).await;
    assert_eq!(list.len(), 2, "nothing changed");
    assert_eq!(list[1]["id"], mid.as_str());
    assert_eq!(list[1]["main"], false);
}

backends!(
    add_and_validate_memberships,
    main_membership_moves,
    membership_dates_change,
    membership_deletion_rules,
    memberships_access_control,
);
