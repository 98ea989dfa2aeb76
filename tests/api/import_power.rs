//! CSV import against more powerful targets: an import runs through the admin service functions,
//! so a row may do only what its caller may do one change at a time. An administrator's file
//! cannot touch the Owner, a manager's file cannot reach an administrator (even one in an
//! account the manager manages) or hand out roles the manager may not give, and a refused row
//! changes nothing of its user.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::import::{catalogue, finish, report, start};
use crate::import_more::token_of;
use reqwest::StatusCode;
use serde_json::{Value, json};

backends!(an_import_cannot_act_on_a_more_powerful_user);

/// Runs `csv` as the caller `token`; each line's (outcome, reason).
async fn run_as(
    s: &TestServer,
    token: &str,
    csv: &str,
) -> std::collections::BTreeMap<u64, (String, String)> {
    let (st, job) = start(s, "acme", token, "", csv.as_bytes()).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    let job = finish(s, "acme", token, &id).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    report(s, "acme", token, &id).await
}

/// The user with this email, as the admin API shows them.
async fn user(s: &TestServer, email: &str) -> Value {
    let (_, list) = s.get(&format!("/users?email_prefix={email}")).await;
    list["items"][0].clone()
}

async fn roles_of(s: &TestServer, id: &str) -> Vec<String> {
    let (_, roles) = s.get(&format!("/users/{id}/roles")).await;
    let mut names: Vec<String> = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role_name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn an_import_cannot_act_on_a_more_powerful_user(b: Backend) {
    let s = TestServer::start(b).await;
    catalogue(&s, "acme", &s.token).await;
    let (_, accounts) = s.get("/accounts").await;
    let northwind = accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Northwind")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (admin, admin_id) = token_of(&s, "admin@example.com", "administrator").await;
    let (manager, mid) = token_of(&s, "manager@example.com", "manager").await;
    let (st, e) = s
        .post(
            &format!("/users/{mid}/management"),
            json!({"kind": "account", "id": northwind}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    // The administrator is employed in the account the manager manages.
    let (st, e) = s
        .post(
            &format!("/users/{admin_id}/memberships"),
            json!({"account_id": northwind, "main": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    let owner = user(&s, "owner@acme.test").await;
    let owner_roles = roles_of(&s, owner["id"].as_str().unwrap()).await;
    let admin_before = user(&s, "admin@example.com").await;
    let admin_roles = roles_of(&s, &admin_id).await;

    // An administrator's file: the Owner's name, status and roles are out of reach; the Owner
    // role cannot be handed to a new user either. The harmless row goes in.
    let rows = run_as(
        &s,
        &admin,
        "email,given_name,status,roles\n\
         owner@acme.test,Mallory,,\n\
         owner@acme.test,,inactive,\n\
         owner@acme.test,,,Member\n\
         new-owner@example.com,,active,Owner\n\
         fine@example.com,Fine,active,Member\n",
    )
    .await;
    for line in 2..=5 {
        assert_eq!(rows[&line].0, "refused", "line {line}: {rows:?}");
    }
    assert_eq!(rows[&6].0, "create", "{rows:?}");
    let after = user(&s, "owner@acme.test").await;
    assert_eq!(after, owner, "the Owner is unchanged");
    assert_eq!(
        roles_of(&s, owner["id"].as_str().unwrap()).await,
        owner_roles
    );
    assert_eq!(user(&s, "new-owner@example.com").await, Value::Null);

    // A manager's file: the administrator in a managed account is out of reach, and so are the
    // roles a manager may not hand out.
    let rows = run_as(
        &s,
        &manager,
        "email,given_name,status,main_account,roles\n\
         admin@example.com,Mallory,,Northwind,\n\
         admin@example.com,,inactive,Northwind,\n\
         owner@acme.test,,inactive,Northwind,\n\
         boss@example.com,,active,Northwind,Administrator\n\
         staff@example.com,Staff,active,Northwind,\n",
    )
    .await;
    for line in 2..=5 {
        assert_eq!(rows[&line].0, "refused", "line {line}: {rows:?}");
    }
    assert_eq!(rows[&6].0, "create", "{rows:?}");
    assert_eq!(user(&s, "admin@example.com").await, admin_before);
    assert_eq!(roles_of(&s, &admin_id).await, admin_roles);
    assert_eq!(user(&s, "owner@acme.test").await, owner);
    assert_eq!(user(&s, "boss@example.com").await, Value::Null);
}
