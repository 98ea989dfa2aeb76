//! The console's permission switches and roles over HTTP (issue 14, seeds 000 and 002): a
//! switch sets or removes the user's override exactly as the admin API would (checked through
//! the admin API and the audit log), the page always says what the API says, and the service's
//! rules hold for forged requests: a Manager switches only permissions they hold, only for
//! their people, never for someone more powerful; CSRF is required; a role edit cannot give
//! permissions the caller lacks.

use crate::backends;
use crate::browser::{Browser, PASSWORD, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::{Value, json};

/// A signed-in browser of `email`.
async fn signed_in(s: &TestServer, email: &str) -> Browser {
    let b = Browser::new(s);
    let page = b.sign_in("/t/acme/login", email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    b
}

/// A user with a password holding the seeded role `template`; returns its id.
async fn holder(s: &TestServer, email: &str, template: &str) -> String {
    let u = user_with_password(s, email).await;
    let id = u["id"].as_str().unwrap().to_owned();
    let role = s.role_id(template).await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
        .await;
    assert_eq!(st, 201, "{v}");
    id
}

/// Adds `permissions` to the catalogue and a role "Billing" holding them; returns its id.
async fn billing_role(s: &TestServer, permissions: &[&str]) -> String {
    for p in permissions {
        let (st, v) = s.post("/permissions", json!({ "name": p })).await;
        assert_eq!(st, 201, "{v}");
    }
    let (st, role) = s
        .post(
            "/roles",
            json!({"name": "Billing", "permissions": permissions}),
        )
        .await;
    assert_eq!(st, 201, "{role}");
    role["id"].as_str().unwrap().to_owned()
}

/// A POST as htmx sends it: the CSRF token in `X-CSRF-Token`, not in the form.
async fn htmx_post(b: &Browser, url: &str, csrf: &str, form: &[(&str, &str)]) -> (u16, String) {
    let res = b
        .http
        .post(b.absolute_url(url))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", csrf)
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The user's effective permissions through the admin API.
async fn effective(s: &TestServer, user: &str) -> Value {
    let (st, v) = s.get(&format!("/users/{user}/effective-permissions")).await;
    assert_eq!(st, 200, "{v}");
    v
}

/// The user's overrides through the admin API.
async fn overrides(s: &TestServer, user: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/users/{user}/overrides")).await;
    assert_eq!(st, 200, "{v}");
    v["items"].as_array().unwrap().clone()
}

/// The kinds of sources the API gives for `permission` among the held ones (`None`: not held).
fn held_from(eff: &Value, permission: &str) -> Option<Vec<String>> {
    eff["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["permission"] == permission)
        .map(|g| {
            g["sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["kind"].as_str().unwrap().to_owned())
                .collect()
        })
}

fn is_denied(eff: &Value, permission: &str) -> bool {
    eff["denied"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["permission"] == permission)
}

/// The row of `permission` in a page or fragment.
fn row<'a>(html: &'a str, permission: &str) -> &'a str {
    let marker = format!("<code>{permission}</code>");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{permission}: {html}"));
    let start = html[..at].rfind("<tr>").unwrap();
    let end = at + html[at..].find("</tr>").unwrap();
    &html[start..end]
}

/// The audit entries of `action` on `user`.
async fn audited(s: &TestServer, user: &str, action: &str) -> Vec<Value> {
    let (st, v) = s
        .get(&format!("/audit?target_id={user}&action={action}"))
        .await;
    assert_eq!(st, 200, "{v}");
    v["items"].as_array().unwrap().clone()
}

/// Every row of the page says what the admin API says: the badge and the switch's position.
async fn assert_page_is_the_api(s: &TestServer, b: &Browser, user: &str, catalogue: &[&str]) {
    let page = b
        .get(&format!("/t/acme/console/users/{user}/permissions"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let eff = effective(s, user).await;
    let items = overrides(s, user).await;
    for p in catalogue {
        let r = row(&page.body, p);
        let badge = if is_denied(&eff, p) {
            "status-denied"
        } else if held_from(&eff, p).is_some() {
            "status-held"
        } else {
            "status-none"
        };
        assert!(r.contains(badge), "{p}: {badge} expected in {r}");
        let setting = items
            .iter()
            .find(|o| o["permission"] == *p)
            .map_or("inherit", |o| o["effect"].as_str().unwrap());
        assert!(
            r.contains(&format!("value=\"{setting}\" aria-pressed=\"true\"")),
            "{p}: the switch at {setting} in {r}"
        );
        assert_eq!(r.matches("aria-pressed=\"true\"").count(), 1, "{r}");
    }
}

async fn switches_set_and_remove_overrides_as_the_api_does(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let catalogue = ["billing:read", "billing:write", "reports:read"];
    let billing = billing_role(&s, &catalogue[..2]).await;
    s.post("/permissions", json!({"name": "reports:read"}))
        .await;
    let ada = s.create_user("ada@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("/t/acme/console/users/{ada}/permissions");
    let browser = signed_in(&s, "admin@acme.test").await;
    let page = browser.get(&url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Permissions of ada@acme.test"));
    assert!(row(&page.body, "billing:read").contains("Not held"));
    let csrf = hidden(&page.body, "csrf").unwrap();

    // Grant (a plain form): effective through the API, audited as the console's person.
    let done = browser
        .post_form(
            &url,
            &[
                ("csrf", &csrf),
                ("permission", "billing:read"),
                ("effect", "grant"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("{url}?notice=granted").as_str())
    );
    let eff = effective(&s, &ada).await;
    assert_eq!(held_from(&eff, "billing:read").unwrap(), ["override"]);
    let log = audited(&s, &ada, "override.set").await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["actor_kind"], "user");
    assert_eq!(log[0]["actor_label"], "admin@acme.test (console)");
    assert_eq!(log[0]["after"]["effect"], "grant");
    let next = browser.get(done.location.as_deref().unwrap()).await;
    assert!(next.body.contains("now granted"), "{}", next.body);
    assert!(row(&next.body, "billing:read").contains("Granted to this user"));

    // Deny beats a role (htmx: the row alone comes back, showing the role overruled).
    let (st, v) = s
        .post(&format!("/users/{ada}/roles"), json!({"role_id": billing}))
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, fragment) = htmx_post(
        &browser,
        &url,
        &csrf,
        &[("permission", "billing:read"), ("effect", "deny")],
    )
    .await;
    assert_eq!(st, 200, "{fragment}");
    assert!(fragment.trim_start().starts_with("<tr>"), "{fragment}");
    assert!(!fragment.contains("<html"), "a fragment");
    assert!(fragment.contains("status-denied"), "{fragment}");
    assert!(fragment.contains("<s>Role Billing</s>"), "{fragment}");
    let eff = effective(&s, &ada).await;
    assert!(held_from(&eff, "billing:read").is_none(), "{eff}");
    assert!(is_denied(&eff, "billing:read"), "{eff}");
    assert_eq!(held_from(&eff, "billing:write").unwrap(), ["role"]);

    // Inherit removes the override: the role gives it again. Twice is harmless and unaudited.
    for _ in 0..2 {
        let done = browser
            .post_form(
                &url,
                &[
                    ("csrf", &csrf),
                    ("permission", "billing:read"),
                    ("effect", "inherit"),
                ],
            )
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
    }
    assert!(overrides(&s, &ada).await.is_empty());
    assert_eq!(
        held_from(&effective(&s, &ada).await, "billing:read").unwrap(),
        ["role"]
    );
    assert_eq!(audited(&s, &ada, "override.delete").await.len(), 1);

    // A sequence of switches over the catalogue: after each, the page is what the API says.
    let moves = [
        ("reports:read", "grant"),
        ("billing:write", "deny"),
        ("reports:read", "deny"),
        ("billing:read", "grant"),
        ("billing:write", "inherit"),
        ("reports:read", "inherit"),
        ("billing:read", "deny"),
        ("billing:read", "grant"),
    ];
    for (i, (permission, effect)) in moves.into_iter().enumerate() {
        let form = [("permission", permission), ("effect", effect)];
        if i % 2 == 0 {
            let (st, fragment) = htmx_post(&browser, &url, &csrf, &form).await;
            assert_eq!(st, 200, "{fragment}");
        } else {
            let mut form = form.to_vec();
            form.push(("csrf", &csrf));
            assert_eq!(browser.post_form(&url, &form).await.status, 303);
        }
        assert_page_is_the_api(&s, &browser, &ada, &catalogue).await;
    }

    // CSRF missing or wrong (form or header): refused, nothing changed.
    let before = overrides(&s, &ada).await;
    for form in [
        vec![("permission", "reports:read"), ("effect", "grant")],
        vec![
            ("csrf", "not-the-token"),
            ("permission", "reports:read"),
            ("effect", "grant"),
        ],
    ] {
        let refused = browser.post_form(&url, &form).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
    }
    let (st, _) = htmx_post(
        &browser,
        &url,
        "not-the-token",
        &[("permission", "reports:read"), ("effect", "grant")],
    )
    .await;
    assert_eq!(st, 403);
    assert_eq!(overrides(&s, &ada).await, before);

    // Nonsense is refused as such, never a 500.
    for (permission, effect, status) in [
        ("reports:read", "maybe", 400),
        ("nothing:here", "grant", 400),
    ] {
        let refused = browser
            .post_form(
                &url,
                &[
                    ("csrf", &csrf),
                    ("permission", permission),
                    ("effect", effect),
                ],
            )
            .await;
        assert_eq!(refused.status, status, "{}", refused.body);
    }
    let unknown = browser
        .get("/t/acme/console/users/00000000-0000-7000-8000-000000000000/permissions")
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        browser
            .get("/t/acme/console/users/not-an-id/permissions")
            .await
            .status,
        404
    );
    assert_eq!(overrides(&s, &ada).await, before);
}

async fn a_manager_switches_only_what_they_hold_for_their_people(b: Backend) {
    let s = TestServer::start(b).await;
    let admin = holder(&s, "admin@acme.test", "administrator").await;
    let boss = holder(&s, "boss@acme.test", "administrator").await;
    let manager = holder(&s, "manager@acme.test", "manager").await;
    billing_role(&s, &["billing:read"]).await;
    let report = s.create_user("report@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The manager manages the report and (a mistake of the organisation) an administrator.
    for id in [&report, &boss] {
        let (st, v) = s
            .post(
                &format!("/users/{manager}/management"),
                json!({"kind": "user", "id": id}),
            )
            .await;
        assert_eq!(st, 201, "{v}");
    }
    let browser = signed_in(&s, "manager@acme.test").await;
    let url = format!("/t/acme/console/users/{report}/permissions");
    let page = browser.get(&url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf").unwrap();
    // Switches only for what the manager holds.
    assert!(page.body.contains("value=\"castellan:roles.read\""));
    assert!(!page.body.contains("value=\"billing:read\""));
    assert!(!page.body.contains("value=\"castellan:users.write\""));

    let grant = |p: &'static str| [("permission", p), ("effect", "grant")];
    let forged = |url: String, p: &'static str| {
        let browser = &browser;
        let csrf = csrf.clone();
        async move {
            let mut form = grant(p).to_vec();
            form.push(("csrf", &csrf));
            browser.post_form(&url, &form).await
        }
    };
    // Forged: a permission the manager does not hold; refused, nothing changed.
    for p in ["billing:read", "castellan:users.write"] {
        let refused = forged(url.clone(), p).await;
        assert_eq!(refused.status, 403, "{p}: {}", refused.body);
        let (st, fragment) = htmx_post(&browser, &url, &csrf, &grant(p)).await;
        assert!(
            st == 200 && fragment.contains("role=\"alert\""),
            "{st} {fragment}"
        );
    }
    assert!(overrides(&s, &report).await.is_empty());
    // What the manager holds, for their report: done.
    let done = forged(url.clone(), "castellan:roles.read").await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        held_from(&effective(&s, &report).await, "castellan:roles.read").unwrap(),
        ["override"]
    );

    // An administrator outside the manager's scope: not even readable; forged switch refused.
    let page = browser
        .get(&format!("/t/acme/console/users/{admin}/permissions"))
        .await;
    assert_eq!(page.status, 403);
    // An administrator in scope: readable, but no switch; a forged one is refused.
    let boss_url = format!("/t/acme/console/users/{boss}/permissions");
    let page = browser.get(&boss_url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("name=\"effect\""), "no switch");
    for target in [&admin, &boss] {
        let url = format!("/t/acme/console/users/{target}/permissions");
        for effect in ["grant", "deny", "inherit"] {
            let refused = browser
                .post_form(
                    &url,
                    &[
                        ("csrf", &csrf),
                        ("permission", "castellan:roles.read"),
                        ("effect", effect),
                    ],
                )
                .await;
            assert_eq!(refused.status, 403, "{effect}: {}", refused.body);
        }
        assert!(overrides(&s, target).await.is_empty());
        assert!(
            held_from(&effective(&s, target).await, "castellan:roles.read").is_some(),
            "still held"
        );
    }
}

/// The id of the role named `name`, if any, through the admin API.
async fn role_named(s: &TestServer, name: &str) -> Option<Value> {
    let (st, v) = s.get("/roles").await;
    assert_eq!(st, 200, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .cloned()
}

async fn roles_are_created_edited_and_deleted_in_the_console(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    holder(&s, "manager@acme.test", "manager").await;
    billing_role(&s, &["billing:read", "billing:write"]).await;
    let browser = signed_in(&s, "admin@acme.test").await;
    let list = browser.get("/t/acme/console/roles").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body
            .contains("href=\"/t/acme/console/roles\" aria-current=\"page\"")
    );
    assert!(list.body.contains("Built-in"));
    // The Owner role is held by the owner, over whom an administrator has no power: no way to
    // change it is shown, and a forged change is refused.
    let owner_role = s.role_id("owner").await;
    let owner_url = format!("/t/acme/console/roles/{owner_role}");
    let owner_page = browser.get(&owner_url).await;
    assert_eq!(owner_page.status, 200, "{}", owner_page.body);
    assert!(!owner_page.body.contains("Save role"));
    assert!(list.body.contains("New role"));
    let form = browser.get("/t/acme/console/roles/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = hidden(&form.body, "csrf").unwrap();

    let refused = browser
        .post_form(&owner_url, &[("csrf", &csrf), ("name", "Not the owner")])
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(role_named(&s, "Owner").await.is_some());

    // Create.
    let created = browser
        .post_form(
            "/t/acme/console/roles",
            &[
                ("csrf", &csrf),
                ("name", "Support"),
                ("description", "Answers customers"),
                ("permission", "billing:read"),
                ("permission", "castellan:users.read"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(
        created.location.as_deref(),
        Some("/t/acme/console/roles?notice=created")
    );
    let role = role_named(&s, "Support").await.expect("created");
    assert_eq!(role["description"], "Answers customers");
    assert_eq!(
        role["permissions"],
        json!(["billing:read", "castellan:users.read"])
    );
    let id = role["id"].as_str().unwrap().to_owned();
    let (_, log) = s.get(&format!("/audit?target_id={id}")).await;
    assert_eq!(log["items"][0]["action"], "role.create", "{log}");
    assert_eq!(log["items"][0]["actor_label"], "admin@acme.test (console)");
    let list = browser.get(created.location.as_deref().unwrap()).await;
    assert!(list.body.contains("The role was created."));

    // Field errors come back in the form; a taken name is a conflict; nothing is created.
    let roles_before = s.get("/roles").await.1["items"].as_array().unwrap().len();
    let blank = browser
        .post_form(
            "/t/acme/console/roles",
            &[
                ("csrf", &csrf),
                ("name", "  "),
                ("permission", "billing:read"),
            ],
        )
        .await;
    assert_eq!(blank.status, 422, "{}", blank.body);
    assert!(blank.body.contains("id=\"name-error\""), "{}", blank.body);
    assert!(blank.body.contains("aria-describedby=\"name-error\""));
    let taken = browser
        .post_form(
            "/t/acme/console/roles",
            &[("csrf", &csrf), ("name", "Support")],
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    let no_csrf = browser
        .post_form("/t/acme/console/roles", &[("name", "Sneaky")])
        .await;
    assert_eq!(no_csrf.status, 403);
    assert_eq!(
        s.get("/roles").await.1["items"].as_array().unwrap().len(),
        roles_before
    );

    // Edit: name, cleared description, permissions.
    let edit_url = format!("/t/acme/console/roles/{id}");
    let edit = browser.get(&edit_url).await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    assert!(edit.body.contains("value=\"Support\""));
    // The administrator does not hold castellan:owner.transfer: it is not theirs to tick.
    let owner_transfer = &edit.body[edit
        .body
        .find("value=\"castellan:owner.transfer\"")
        .unwrap()..];
    assert!(
        owner_transfer[..120].contains("disabled"),
        "{owner_transfer}"
    );
    let saved = browser
        .post_form(
            &edit_url,
            &[
                ("csrf", &csrf),
                ("name", "Support desk"),
                ("description", ""),
                ("permission", "billing:write"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let role = role_named(&s, "Support desk").await.expect("renamed");
    assert!(role["description"].is_null(), "{role}");
    assert_eq!(role["permissions"], json!(["billing:write"]));

    // A forged edit giving a permission the administrator lacks: refused, unchanged.
    let refused = browser
        .post_form(
            &edit_url,
            &[
                ("csrf", &csrf),
                ("name", "Support desk"),
                ("permission", "billing:write"),
                ("permission", "castellan:owner.transfer"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        role_named(&s, "Support desk").await.unwrap()["permissions"],
        json!(["billing:write"])
    );

    // A manager reads roles but cannot write them, even forged.
    let manager = signed_in(&s, "manager@acme.test").await;
    let list = manager.get("/t/acme/console/roles").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(!list.body.contains("New role"));
    assert!(!list.body.contains("/delete\""));
    let m_csrf = hidden(&list.body, "csrf").unwrap();
    assert_eq!(manager.get("/t/acme/console/roles/new").await.status, 403);
    let read_only = manager.get(&edit_url).await;
    assert_eq!(read_only.status, 200);
    assert!(!read_only.body.contains("Save role"));
    for (url, form) in [
        (
            "/t/acme/console/roles".to_owned(),
            vec![("csrf", m_csrf.as_str()), ("name", "Mine")],
        ),
        (
            edit_url.clone(),
            vec![("csrf", m_csrf.as_str()), ("name", "Taken over")],
        ),
        (
            format!("{edit_url}/delete"),
            vec![("csrf", m_csrf.as_str())],
        ),
    ] {
        let refused = manager.post_form(&url, &form).await;
        assert_eq!(refused.status, 403, "{url}: {}", refused.body);
    }
    assert!(role_named(&s, "Mine").await.is_none());
    assert!(role_named(&s, "Support desk").await.is_some());

    // Delete: confirmed; refused while held; done once not; a seeded role never.
    let ada = s.create_user("ada@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, a) = s
        .post(&format!("/users/{ada}/roles"), json!({"role_id": id}))
        .await;
    assert_eq!(st, 201, "{a}");
    let confirm = browser.get(&format!("{edit_url}/delete")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Delete role Support desk?"));
    let held = browser
        .post_form(&format!("{edit_url}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(held.status, 409, "{}", held.body);
    assert!(held.body.contains("still held"), "{}", held.body);
    let (st, v) = s
        .delete(&format!("/users/{ada}/roles/{}", a["id"].as_str().unwrap()))
        .await;
    assert_eq!(st, 204, "{v}");
    let no_csrf = browser.post_form(&format!("{edit_url}/delete"), &[]).await;
    assert_eq!(no_csrf.status, 403);
    let deleted = browser
        .post_form(&format!("{edit_url}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert!(role_named(&s, "Support desk").await.is_none());
    let seeded = s.role_id("member").await;
    let refused = browser
        .post_form(
            &format!("/t/acme/console/roles/{seeded}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(role_named(&s, "Member").await.is_some());
}

backends!(
    switches_set_and_remove_overrides_as_the_api_does,
    a_manager_switches_only_what_they_hold_for_their_people,
    roles_are_created_edited_and_deleted_in_the_console,
);
