//! The console's organisation pages used by a person in Chromium (issue 14, seed 001): an
//! administrator sets an employment with dates and a main account, and the app's next ID token
//! carries it in its `accounts` claim; a Manager of an account sees only its people.

use crate::app::App;
use crate::common::{Backend, TestServer};
use crate::{PASSWORD, chromium, input, user_with_password};
use serde_json::{Value, json};

/// The role `template` given to `user`.
async fn give_role(s: &TestServer, user: &str, template: &str) {
    let role = s.role_id(template).await;
    let (st, v) = s
        .post(&format!("/users/{user}/roles"), json!({"role_id": role}))
        .await;
    assert_eq!(st, 201, "{v}");
}

/// A person with a password and a name; returns its id.
async fn person(s: &TestServer, email: &str, given: &str, family: &str) -> String {
    let (st, u) = s
        .post(
            "/users",
            json!({"email": email, "given_name": given, "family_name": family, "email_verified": true}),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let id = u["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .put(
            &format!("/users/{id}/password"),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    id
}

async fn created(s: &TestServer, path: &str, body: Value) -> String {
    let (st, v) = s.post(path, body).await;
    assert_eq!(st, 201, "{path}: {v}");
    v["id"].as_str().unwrap().to_owned()
}

/// An administrator gives a person an employment in Northwind from 2020-01-01 as their main
/// account and ends their guest membership, in the console (a date error on the way); the
/// person's next sign-in to the app carries exactly Northwind, main, in the `accounts` claim.
/// Then the admin API shows what the pages did: the memberships, the management relation and
/// the new group.
async fn administrator_sets_an_employment_and_the_accounts_claim_follows(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let admin = user_with_password(&s, "admin@acme.test").await;
    give_role(&s, &admin, "administrator").await;
    let tess = person(&s, "tess@acme.test", "Tess", "Target").await;
    let northwind = created(
        &s,
        "/accounts",
        json!({"name": "Northwind", "kind": "customer"}),
    )
    .await;
    let contoso = created(
        &s,
        "/accounts",
        json!({"name": "Contoso", "kind": "provider"}),
    )
    .await;
    // More accounts than the picker shows at once: the search has to narrow them.
    for i in 0..25 {
        created(
            &s,
            "/accounts",
            json!({"name": format!("Northwood {i:02}"), "kind": "customer"}),
        )
        .await;
    }
    created(
        &s,
        "/account-groups",
        json!({"name": "Northern region", "account_ids": [northwind]}),
    )
    .await;
    created(
        &s,
        "/groups",
        json!({"display_name": "Synced staff", "external_id": "okta-42"}),
    )
    .await;
    let login = app.authorize();
    let mut input = input(&s, &app, "admin@acme.test", &login.url);
    input["user_id"] = tess.clone().into();
    input["user_name"] = "Tess Target".into();
    input["target_email"] = "tess@acme.test".into();
    input["account"] = "Northwind".into();
    input["managed_account"] = "Contoso (Provider)".into();
    input["account_group"] = "Northern region".into();
    input["group_name"] = "Night shift".into();
    chromium::run(&tools, "console_employment", input).await;

    let claims = app.all_claims(&login);
    assert_eq!(claims["sub"], tess.as_str(), "{claims}");
    assert_eq!(
        claims["accounts"],
        json!([{"id": northwind, "name": "Northwind", "main": true}]),
        "only the current employment, the main one: {claims}"
    );
    let (_, ms) = s.get(&format!("/users/{tess}/memberships")).await;
    let items = ms["items"].as_array().unwrap();
    let nw = items
        .iter()
        .find(|m| m["account_id"] == northwind.as_str())
        .expect("Northwind");
    assert_eq!(
        (
            nw["start_date"].clone(),
            nw["end_date"].clone(),
            nw["main"].clone()
        ),
        (json!("2020-01-01"), Value::Null, json!(true)),
        "{ms}"
    );
    let guest = items
        .iter()
        .find(|m| m["account_name"] == "Guest")
        .expect("Guest");
    assert_eq!(guest["end_date"], "2020-12-31", "{ms}");
    let (_, mg) = s.get(&format!("/users/{tess}/management")).await;
    assert_eq!(mg["items"].as_array().unwrap().len(), 1, "{mg}");
    assert!(mg.to_string().contains(&contoso), "{mg}");
    let (_, groups) = s.get("/groups").await;
    let night = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["display_name"] == "Night shift")
        .expect("the group was created");
    assert_eq!(night["member_ids"], json!([tess]));
    let (_, audit) = s
        .get(&format!("/audit?action=membership.add&target_id={tess}"))
        .await;
    let _ = audit;
}

/// A Manager who manages an account sees its current members in the console's user list and
/// nobody else; someone outside is refused (issue 14, "Delegated administration").
async fn manager_of_an_account_sees_only_its_people(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let manager = user_with_password(&s, "manager@acme.test").await;
    give_role(&s, &manager, "manager").await;
    let tess = person(&s, "tess@acme.test", "Tess", "Target").await;
    let otto = person(&s, "otto@acme.test", "Otto", "Outside").await;
    let northwind = created(
        &s,
        "/accounts",
        json!({"name": "Northwind", "kind": "customer"}),
    )
    .await;
    let other = created(
        &s,
        "/accounts",
        json!({"name": "Elsewhere", "kind": "customer"}),
    )
    .await;
    created(
        &s,
        &format!("/users/{tess}/memberships"),
        json!({"account_id": northwind, "main": true}),
    )
    .await;
    created(
        &s,
        &format!("/users/{otto}/memberships"),
        json!({"account_id": other, "main": true}),
    )
    .await;
    created(
        &s,
        &format!("/users/{manager}/management"),
        json!({"kind": "account", "id": northwind}),
    )
    .await;
    let mut input = input(&s, &app, "manager@acme.test", "");
    input["user_id"] = tess.into();
    input["user_name"] = "Tess Target".into();
    input["target_email"] = "tess@acme.test".into();
    input["outsider_id"] = otto.into();
    input["outsider_email"] = "otto@acme.test".into();
    let result = chromium::run(&tools, "console_manager_scope", input).await;
    assert_eq!(result["listed"], json!(["tess@acme.test"]), "{result}");
}

crate::backends!(
    administrator_sets_an_employment_and_the_accounts_claim_follows,
    manager_of_an_account_sees_only_its_people,
);
