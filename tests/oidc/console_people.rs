//! The console's user list filters and orders, its "New user" form, and the ownership
//! transfer (issue 14): what the admin API would do for the same person, with field errors
//! for what the service refuses, CSRF on every POST, and the owner alone offered (and able)
//! to hand the ownership on.

use crate::backends;
use crate::browser::{Browser, PASSWORD, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::{Value, json};

async fn signed_in(s: &TestServer, email: &str) -> Browser {
    let b = Browser::new(s);
    let page = b.sign_in("/t/acme/login", email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    b
}

async fn person_with_role(s: &TestServer, email: &str, template: &str) -> String {
    let id = user_with_password(s, email).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let role = s.role_id(template).await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
        .await;
    assert_eq!(st, 201, "{v}");
    id
}

/// The emails of the user list's rows, in order.
fn emails(body: &str) -> Vec<String> {
    let table = &body[body.find("id=\"user-table\"").expect("the table")..];
    table
        .split("<tr>")
        .skip(2)
        .filter_map(|row| {
            let cells: Vec<&str> = row.split("<td>").collect();
            cells
                .get(2)
                .map(|c| c[..c.find("</td>").unwrap()].to_owned())
        })
        .collect()
}

async fn users_where(s: &TestServer, query: &str) -> Vec<String> {
    let (st, v) = s.get(&format!("/users?limit=1000&{query}")).await;
    assert_eq!(st, 200, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_list_filters_and_orders_as_the_api(b: Backend) {
    let s = TestServer::start(b).await;
    person_with_role(&s, "admin@acme.test", "administrator").await;
    let (st, acct) = s
        .post(
            "/accounts",
            json!({"name": "Kunde <Nord>", "kind": "customer"}),
        )
        .await;
    assert_eq!(st, 201, "{acct}");
    let acct = acct["id"].as_str().unwrap().to_owned();
    let (st, group) = s
        .post("/groups", json!({"display_name": "Night shift"}))
        .await;
    assert_eq!(st, 201, "{group}");
    let group = group["id"].as_str().unwrap().to_owned();
    let manager_role = s.role_id("manager").await;
    for i in 0..9 {
        let u = s.create_user(&format!("m{i}@acme.test")).await;
        let id = u["id"].as_str().unwrap();
        if i % 2 == 0 {
            let (st, v) = s
                .post(
                    &format!("/users/{id}/memberships"),
                    json!({"account_id": acct}),
                )
                .await;
            assert_eq!(st, 201, "{v}");
        }
        if i % 3 == 0 {
            let (st, v) = s
                .post(
                    &format!("/users/{id}/roles"),
                    json!({"role_id": manager_role}),
                )
                .await;
            assert_eq!(st, 201, "{v}");
        }
        if i % 4 == 0 {
            let (st, v) = s
                .put(&format!("/groups/{group}/members/{id}"), json!({}))
                .await;
            assert!(st.is_success(), "{v}");
        }
    }
    let admin = signed_in(&s, "admin@acme.test").await;
    let page = admin.get("/t/acme/console/users").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Kunde &#60;Nord&#62;") || page.body.contains("Kunde &lt;Nord&gt;"));
    assert!(page.body.contains("href=\"/t/acme/console/users/new\""));
    for (console_query, api_query) in [
        (format!("account={acct}"), format!("account_id={acct}")),
        (
            format!("role={manager_role}"),
            format!("role_id={manager_role}"),
        ),
        (format!("group_id={group}"), format!("group_id={group}")),
        ("sort=-created".to_owned(), "sort=-created".to_owned()),
        (
            "sort=created&status=invited".to_owned(),
            "sort=created&status=invited".to_owned(),
        ),
        (
            format!("sort=-created&account={acct}&role={manager_role}"),
            format!("sort=-created&account_id={acct}&role_id={manager_role}"),
        ),
    ] {
        let page = admin
            .get(&format!("/t/acme/console/users?{console_query}"))
            .await;
        assert_eq!(page.status, 200, "{console_query}: {}", page.body);
        assert_eq!(
            emails(&page.body),
            users_where(&s, &api_query).await,
            "{console_query}"
        );
    }
    let by_group = admin
        .get(&format!("/t/acme/console/users?group_id={group}"))
        .await;
    assert!(
        by_group.body.contains("Night shift"),
        "the group filter is named"
    );
    for bad in ["sort=name", "account=nope", "role=1%27", "status=boss"] {
        let page = admin.get(&format!("/t/acme/console/users?{bad}")).await;
        assert_eq!(page.status, 400, "{bad}: {}", page.body);
    }
    // Another tenant's group is no filter here.
    let other = admin
        .get("/t/acme/console/users?group_id=0190a0a0-0000-7000-8000-000000000000")
        .await;
    assert_eq!(other.status, 404, "{}", other.body);
}

async fn new_user_form(b: Backend) {
    let s = TestServer::start(b).await;
    person_with_role(&s, "admin@acme.test", "administrator").await;
    let manager = person_with_role(&s, "manager@acme.test", "manager").await;
    user_with_password(&s, "plain@acme.test").await;
    let (st, d) = s
        .post(
            "/attributes",
            json!({"key": "cost_centre", "label": "Cost centre", "kind": "text", "required": true,
                   "default": "C0"}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    let (st, acct) = s
        .post("/accounts", json!({"name": "North", "kind": "customer"}))
        .await;
    assert_eq!(st, 201, "{acct}");
    let acct = acct["id"].as_str().unwrap().to_owned();
    let (st, south) = s
        .post("/accounts", json!({"name": "South", "kind": "customer"}))
        .await;
    assert_eq!(st, 201, "{south}");
    let south = south["id"].as_str().unwrap().to_owned();
    let admin = signed_in(&s, "admin@acme.test").await;
    let form_page = admin.get("/t/acme/console/users/new").await;
    assert_eq!(form_page.status, 200, "{}", form_page.body);
    assert!(form_page.body.contains("Cost centre"));
    let csrf = hidden(&form_page.body, "csrf").unwrap();
    let count = |s: &TestServer| {
        let store = s.store.clone();
        async move {
            let t = store.tenant_by_slug("acme").await.unwrap().unwrap();
            store.count_users(&t.id).await.unwrap()
        }
    };
    let before = count(&s).await;

    // The mandatory field missing: a field error, what was typed kept, nobody created.
    let missing = admin
        .post_form(
            "/t/acme/console/users/new",
            &[
                ("csrf", &csrf),
                ("email", "new@acme.test"),
                ("given_name", "Zoë <b>"),
            ],
        )
        .await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert!(
        missing.body.contains("Cost centre is required"),
        "{}",
        missing.body
    );
    assert!(missing.body.contains("aria-invalid=\"true\""));
    assert!(
        !missing.body.contains("Zoë <b>"),
        "typed values are escaped"
    );
    assert!(missing.body.contains("value=\"new@acme.test\""));
    // No or a wrong CSRF token: refused, nobody created.
    for token in ["", "forged"] {
        let r = admin
            .post_form(
                "/t/acme/console/users/new",
                &[
                    ("csrf", token),
                    ("email", "new@acme.test"),
                    ("attributes.cost_centre", "C1"),
                ],
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    // A bad email and a forged account are field errors.
    let bad = admin
        .post_form(
            "/t/acme/console/users/new",
            &[
                ("csrf", &csrf),
                ("email", "not an email"),
                ("attributes.cost_centre", "C1"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("e-email"), "{}", bad.body);
    let forged = admin
        .post_form(
            "/t/acme/console/users/new",
            &[
                ("csrf", &csrf),
                ("email", "new@acme.test"),
                ("account_id", "x'--"),
                ("attributes.cost_centre", "C1"),
            ],
        )
        .await;
    assert_eq!(forged.status, 422, "{}", forged.body);
    assert_eq!(count(&s).await, before);

    // Created, invited, in the account chosen.
    let made = admin
        .post_form(
            "/t/acme/console/users/new",
            &[
                ("csrf", &csrf),
                ("email", "new@acme.test"),
                ("given_name", "Nia"),
                ("account_id", &acct),
                ("attributes.cost_centre", "C1"),
                ("status", "invited"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let to = made.location.unwrap();
    assert!(to.ends_with("?notice=created"), "{to}");
    let id = to
        .trim_start_matches("/t/acme/console/users/")
        .split('?')
        .next()
        .unwrap();
    let (st, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["status"], "invited");
    assert_eq!(u["attributes"]["cost_centre"], "C1");
    let (_, ms) = s.get(&format!("/users/{id}/memberships")).await;
    assert!(ms.to_string().contains(&acct), "{ms}");
    let shown = admin.get(&to).await;
    assert!(shown.body.contains("The user was created."));
    // The same email again: said in the form.
    let again = admin
        .post_form(
            "/t/acme/console/users/new",
            &[
                ("csrf", &csrf),
                ("email", "NEW@acme.test"),
                ("attributes.cost_centre", "C1"),
            ],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(count(&s).await, before + 1);

    // A manager creates people only in an account they manage.
    let (st, v) = s
        .post(
            &format!("/users/{manager}/management"),
            json!({"kind": "account", "id": acct}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let mb = signed_in(&s, "manager@acme.test").await;
    let page = mb.get("/t/acme/console/users/new").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf").unwrap();
    let outside = mb
        .post_form(
            "/t/acme/console/users/new",
            &[
                ("csrf", &csrf),
                ("email", "out@acme.test"),
                ("account_id", &south),
                ("attributes.cost_centre", "C1"),
            ],
        )
        .await;
    assert_eq!(outside.status, 403, "{}", outside.body);
    assert!(
        outside.body.contains("you do not manage this account"),
        "{}",
        outside.body
    );
    let inside = mb
        .post_form(
            "/t/acme/console/users/new",
            &[
                ("csrf", &csrf),
                ("email", "in@acme.test"),
                ("account_id", &acct),
                ("attributes.cost_centre", "C1"),
            ],
        )
        .await;
    assert_eq!(inside.status, 303, "{}", inside.body);
    assert_eq!(count(&s).await, before + 2);

    // Without administration rights: no form, nothing created.
    let pb = signed_in(&s, "plain@acme.test").await;
    let page = pb.get("/t/acme/console/users/new").await;
    assert!(
        page.body.contains("No administration rights"),
        "{}",
        page.body
    );
    let r = pb
        .post_form("/t/acme/console/users/new", &[("email", "sneak@acme.test")])
        .await;
    assert!(r.body.contains("No administration rights"), "{}", r.body);
    assert_eq!(
        users_where(&s, "email_prefix=sneak").await,
        Vec::<String>::new()
    );
}

/// The action links of `body` for user `id`.
fn offered(body: &str, id: &str) -> Vec<String> {
    let prefix = format!("href=\"/t/acme/console/users/{id}/");
    body.match_indices(&prefix)
        .map(|(i, _)| {
            let rest = &body[i + prefix.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

async fn only_the_owner_transfers_the_ownership(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, owner) = s.get("/owner").await;
    let owner_id = owner["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .put(
            &format!("/users/{owner_id}/password"),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    let (st, v) = s
        .post(&format!("/users/{owner_id}/activate"), json!({}))
        .await;
    assert!(st.is_success() || st == 409, "{v}");
    let admin = person_with_role(&s, "admin@acme.test", "administrator").await;
    let (st, v) = s.post(&format!("/users/{admin}/activate"), json!({})).await;
    assert!(st.is_success(), "{v}");
    let heir = user_with_password(&s, "heir@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invited = s.create_user("invited@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, v) = s.post(&format!("/users/{heir}/activate"), json!({})).await;
    assert!(st.is_success(), "{v}");

    // An administrator is not offered the transfer, and a forged one changes nothing.
    let ab = signed_in(&s, "admin@acme.test").await;
    let page = ab.get(&format!("/t/acme/console/users/{heir}")).await;
    assert!(!offered(&page.body, &heir).contains(&"transfer-ownership".to_owned()));
    let url = format!("/t/acme/console/users/{heir}/transfer-ownership");
    assert_eq!(ab.get(&url).await.status, 403);
    let csrf = hidden(&page.body, "csrf").unwrap();
    let forged = ab.post_form(&url, &[("csrf", &csrf)]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let (_, still) = s.get("/owner").await;
    assert_eq!(still["id"], owner_id.as_str());

    // The owner is offered it for an active user only, confirms, and the heir is the owner.
    let ob = signed_in(&s, "owner@acme.test").await;
    let page = ob.get(&format!("/t/acme/console/users/{invited}")).await;
    assert!(!offered(&page.body, &invited).contains(&"transfer-ownership".to_owned()));
    let page = ob.get(&format!("/t/acme/console/users/{heir}")).await;
    assert!(
        offered(&page.body, &heir).contains(&"transfer-ownership".to_owned()),
        "{}",
        page.body
    );
    let confirm = ob.get(&url).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let csrf = hidden(&confirm.body, "csrf").unwrap();
    assert_eq!(ob.post_form(&url, &[]).await.status, 403, "no CSRF token");
    let done = ob.post_form(&url, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, now) = s.get("/owner").await;
    assert_eq!(now["id"], heir.as_str());
    let (_, audit) = s.get("/audit?limit=1000").await;
    let transfers: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap_or("").contains("owner"))
        .collect();
    assert!(!transfers.is_empty(), "{audit}");
    // The old owner cannot take it back.
    let back = format!("/t/acme/console/users/{owner_id}/transfer-ownership");
    let again = ob.post_form(&back, &[("csrf", &csrf)]).await;
    assert!(
        again.status == 403 || again.body.contains("No administration rights"),
        "{}",
        again.body
    );
    let (_, still) = s.get("/owner").await;
    assert_eq!(still["id"], heir.as_str());
}

/// The apps a user consented to are on their page; an administrator withdraws one after a
/// confirmation (CSRF needed), and the consent is gone; a manager without power over the user
/// is offered nothing and refused.
async fn connected_apps_are_shown_and_withdrawn(b: Backend) {
    let s = TestServer::start(b).await;
    person_with_role(&s, "admin@acme.test", "administrator").await;
    let mgr = person_with_role(&s, "manager@acme.test", "manager").await;
    let (client_id, _) = crate::consent::third_party_client(&s).await;
    let ada = user_with_password(&s, "ada@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, v) = s
        .post(
            &format!("/users/{mgr}/management"),
            json!({"kind": "user", "id": ada}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let person = Browser::new(&s);
    let page = crate::consent::authorize(&person, &client_id, &[], "ada@acme.test").await;
    let done = crate::consent::answer(&person, &page, "allow", &[]).await;
    crate::consent::code_of(&done);
    let (_, given) = s.get(&format!("/users/{ada}/consents")).await;
    assert_eq!(given["items"].as_array().unwrap().len(), 1, "{given}");

    let admin = signed_in(&s, "admin@acme.test").await;
    let page = admin.get(&format!("/t/acme/console/users/{ada}")).await;
    assert!(page.body.contains("Connected apps"), "{}", page.body);
    assert!(
        page.body.contains("Budget &#60;Tracker&#62;")
            || page.body.contains("Budget &lt;Tracker&gt;"),
        "the app's name, escaped"
    );
    let url = format!("/t/acme/console/users/{ada}/apps/{client_id}/revoke");
    assert!(page.body.contains(&format!("href=\"{url}\"")));
    let confirm = admin.get(&url).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let csrf = hidden(&confirm.body, "csrf").unwrap();
    assert_eq!(admin.post_form(&url, &[]).await.status, 403);
    let (_, still) = s.get(&format!("/users/{ada}/consents")).await;
    assert_eq!(still["items"].as_array().unwrap().len(), 1);
    // An app the user never consented to is not found.
    let none = admin
        .get(&format!("/t/acme/console/users/{ada}/apps/nope/revoke"))
        .await;
    assert_eq!(none.status, 404);
    let r = admin.post_form(&url, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location.unwrap().ends_with("?notice=consent"));
    let (_, gone) = s.get(&format!("/users/{ada}/consents")).await;
    assert!(gone["items"].as_array().unwrap().is_empty(), "{gone}");

    // The manager sees the admin's page without a withdraw link and cannot forge one.
    let page =
        crate::consent::authorize(&Browser::new(&s), &client_id, &[], "admin@acme.test").await;
    drop(page);
    let mb = signed_in(&s, "manager@acme.test").await;
    let admin_id = s.get("/users?email_prefix=admin%40").await.1["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let forged = format!("/t/acme/console/users/{admin_id}/apps/{client_id}/revoke");
    let r = mb.get(&forged).await;
    assert!(
        r.status == 403 || r.status == 404,
        "{}: {}",
        r.status,
        r.body
    );
    let page = mb.get(&format!("/t/acme/console/users/{ada}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
}

async fn signed_in_now(b: &Browser) -> bool {
    b.get("/t/acme/account").await.status == 200
}

/// A user's sessions are on their page; an administrator ends one, then all, after a
/// confirmation (CSRF needed), and the person's browsers are signed out; a manager without
/// power over the user is refused.
async fn sessions_are_shown_and_ended(b: Backend) {
    let s = TestServer::start(b).await;
    person_with_role(&s, "admin@acme.test", "administrator").await;
    person_with_role(&s, "manager@acme.test", "manager").await;
    let ada = user_with_password(&s, "ada@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = signed_in(&s, "ada@acme.test").await;
    let second = signed_in(&s, "ada@acme.test").await;
    assert!(signed_in_now(&first).await && signed_in_now(&second).await);

    let admin = signed_in(&s, "admin@acme.test").await;
    let page = admin.get(&format!("/t/acme/console/users/{ada}")).await;
    assert!(page.body.contains("Sessions"), "{}", page.body);
    let prefix = format!("/t/acme/console/users/{ada}/sessions/");
    let ends: Vec<String> = page
        .body
        .match_indices(&format!("href=\"{prefix}"))
        .map(|(i, _)| {
            let rest = &page.body[i + 6..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .filter(|h| h.ends_with("/end"))
        .collect();
    assert_eq!(ends.len(), 2, "two sessions: {ends:?}");
    // Someone else's session id under this user is not found.
    let other = admin.get(&format!("{prefix}not-a-session/end")).await;
    assert_eq!(other.status, 404);
    let confirm = admin.get(&ends[0]).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let csrf = hidden(&confirm.body, "csrf").unwrap();
    assert_eq!(
        admin.post_form(&ends[0], &[]).await.status,
        403,
        "CSRF needed"
    );
    let r = admin.post_form(&ends[0], &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let live = [signed_in_now(&first).await, signed_in_now(&second).await];
    assert_eq!(
        live.iter().filter(|l| **l).count(),
        1,
        "one session ended: {live:?}"
    );

    // The manager cannot end the administrator's sessions.
    let admin_id = s.get("/users?email_prefix=admin%40").await.1["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mb = signed_in(&s, "manager@acme.test").await;
    let forged = format!("/t/acme/console/users/{admin_id}/sessions/end-all");
    let r = mb.get(&forged).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = mb.post_form(&forged, &[("csrf", &csrf)]).await;
    assert!(r.status == 403, "{}", r.body);
    assert_eq!(
        admin.get("/t/acme/console/users").await.status,
        200,
        "admin still in"
    );

    // Everywhere: the other browser is signed out too.
    let all = format!("{prefix}end-all");
    let confirm = admin.get(&all).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let r = admin.post_form(&all, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(!signed_in_now(&first).await && !signed_in_now(&second).await);
    let page = admin.get(&format!("/t/acme/console/users/{ada}")).await;
    assert!(
        page.body.contains("Not signed in anywhere"),
        "{}",
        page.body
    );
}

backends!(
    the_list_filters_and_orders_as_the_api,
    new_user_form,
    only_the_owner_transfers_the_ownership,
    connected_apps_are_shown_and_withdrawn,
    sessions_are_shown_and_ended,
);
