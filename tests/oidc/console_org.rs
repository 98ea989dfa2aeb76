//! The console's organisation pages over HTTP (issue 14, seed 001): groups here, with the
//! helpers of the other files; accounts and account groups in `console_org_accounts.rs`, their
//! lists in `console_org_lists.rs`, a user's employment and management in
//! `console_employment.rs`, who may do what in `console_org_matrix.rs`, other tenants and a
//! Manager's scope in `console_org_scope.rs`. Names are shown escaped; bad input is a field
//! error on its field, never a 500.

use crate::backends;
use crate::browser::{Browser, PASSWORD, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::{Value, json};

/// A signed-in browser of `email`.
pub(crate) async fn signed_in(s: &TestServer, email: &str) -> Browser {
    let b = Browser::new(s);
    let page = b.sign_in("/t/acme/login", email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    b
}

/// A user with a password holding the seeded role `template`; returns its id.
pub(crate) async fn holder(s: &TestServer, email: &str, template: &str) -> String {
    let u = user_with_password(s, email).await;
    let id = u["id"].as_str().unwrap().to_owned();
    let role = s.role_id(template).await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
        .await;
    assert_eq!(st, 201, "{v}");
    id
}

/// The tenant's owner (`owner@acme.test`), given a password.
pub(crate) async fn owner_with_password(s: &TestServer) -> String {
    let (st, v) = s.get("/users?email_prefix=owner%40acme.test").await;
    assert_eq!(st, 200, "{v}");
    let id = v["items"][0]["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .put(
            &format!("/users/{id}/password"),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    id
}

pub(crate) async fn created(s: &TestServer, path: &str, body: Value) -> String {
    let (st, v) = s.post(path, body).await;
    assert_eq!(st, 201, "{path}: {v}");
    v["id"].as_str().unwrap().to_owned()
}

/// POSTs `form` with the CSRF token `csrf` (none when `None`).
pub(crate) async fn post(
    b: &Browser,
    url: &str,
    csrf: Option<&str>,
    form: &[(&str, String)],
) -> crate::browser::Page {
    let mut pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if let Some(c) = csrf {
        pairs.push(("csrf", c));
    }
    b.post_form(url, &pairs).await
}

/// The session's CSRF token, read from a console page.
pub(crate) async fn csrf_of(b: &Browser) -> String {
    let page = b.get("/t/acme/console/groups").await;
    hidden(&page.body, "csrf").unwrap_or_else(|| panic!("a CSRF field: {}", page.body))
}

/// The path and query a POST-redirect-GET went to.
pub(crate) fn location(page: &crate::browser::Page) -> String {
    assert_eq!(page.status, 303, "{}", page.body);
    page.location.clone().unwrap()
}

/// The id a `.../{id}?notice=created` redirect names.
pub(crate) fn created_id(loc: &str) -> String {
    loc.split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

async fn groups_are_run_from_the_console(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let ada = s.create_user("ada@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let role = created(&s, "/roles", json!({"name": "Readers", "permissions": []})).await;
    let scim = created(
        &s,
        "/groups",
        json!({"display_name": "Synced", "external_id": "ext-1"}),
    )
    .await;
    let browser = signed_in(&s, "admin@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let page = browser.get("/t/acme/console/groups").await;
    assert!(page.body.contains("status-directory"), "{}", page.body);

    // A bad name is a field error next to the field, the form kept.
    let page = post(
        &browser,
        "/t/acme/console/groups",
        Some(&csrf),
        &[
            ("display_name", " ".into()),
            ("description", "kept text".into()),
        ],
    )
    .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("id=\"display_name-error\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("aria-describedby=\"display_name-error\"")
    );
    assert!(page.body.contains("kept text"));

    // Created with markup in its name: shown as text.
    let name = "Ops <b>team</b>";
    let loc = location(
        &post(
            &browser,
            "/t/acme/console/groups",
            Some(&csrf),
            &[("display_name", name.into())],
        )
        .await,
    );
    assert!(loc.ends_with("?notice=created"), "{loc}");
    let id = created_id(&loc);
    let (st, g) = s.get(&format!("/groups/{id}")).await;
    assert_eq!((st.as_u16(), g["display_name"].as_str()), (200, Some(name)));
    let page = browser.get(&loc).await;
    assert!(page.body.contains("The group was created."));
    assert!(
        page.body.contains("Ops &#60;b&#62;team&#60;/b&#62;")
            || page.body.contains("Ops &lt;b&gt;team&lt;/b&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<b>team</b>"));
    let page = browser.get(&format!("/t/acme/console/groups/{scim}")).await;
    assert!(page.body.contains("ext-1") && page.body.contains("Directory"));

    // Rename, find a member by email, add them, grant a role; then take both back.
    let url = format!("/t/acme/console/groups/{id}");
    let loc = location(
        &post(
            &browser,
            &url,
            Some(&csrf),
            &[
                ("display_name", "Operations".into()),
                ("description", "On call".into()),
            ],
        )
        .await,
    );
    assert!(loc.ends_with("?notice=saved"));
    let found = browser.get(&format!("{url}?member_q=ada%40")).await;
    assert!(found.body.contains("ada@acme.test"), "{}", found.body);
    location(
        &post(
            &browser,
            &format!("{url}/members"),
            Some(&csrf),
            &[("op", "add".into()), ("user_id", ada.clone())],
        )
        .await,
    );
    location(
        &post(
            &browser,
            &format!("{url}/roles"),
            Some(&csrf),
            &[("op", "add".into()), ("role_id", role.clone())],
        )
        .await,
    );
    let (_, g) = s.get(&format!("/groups/{id}")).await;
    assert_eq!(g["display_name"], "Operations");
    assert_eq!(g["description"], "On call");
    assert_eq!(g["member_ids"], json!([ada]));
    assert_eq!(g["role_ids"], json!([role]));
    let page = browser.get(&url).await;
    assert!(page.body.contains("ada@acme.test") && page.body.contains("Readers"));
    let found = browser.get(&format!("{url}?member_q=ada%40")).await;
    assert!(
        found.body.contains("Nobody found"),
        "a member is not offered again"
    );
    location(
        &post(
            &browser,
            &format!("{url}/members"),
            Some(&csrf),
            &[("op", "remove".into()), ("user_id", ada.clone())],
        )
        .await,
    );
    location(
        &post(
            &browser,
            &format!("{url}/roles"),
            Some(&csrf),
            &[("op", "remove".into()), ("role_id", role.clone())],
        )
        .await,
    );
    let (_, g) = s.get(&format!("/groups/{id}")).await;
    assert_eq!(
        (g["member_ids"].clone(), g["role_ids"].clone()),
        (json!([]), json!([]))
    );
    // Not a user id, or an unknown one: refused, not a 500.
    let page = post(
        &browser,
        &format!("{url}/members"),
        Some(&csrf),
        &[("op", "add".into()), ("user_id", "nope".into())],
    )
    .await;
    assert_eq!(page.status, 404);
    let page = post(
        &browser,
        &format!("{url}/members"),
        Some(&csrf),
        &[("op", "jump".into()), ("user_id", ada.clone())],
    )
    .await;
    assert_eq!(page.status, 400);

    // Deleted after a confirmation.
    let confirm = browser.get(&format!("{url}/delete")).await;
    assert!(
        confirm.body.contains("Delete group Operations?"),
        "{}",
        confirm.body
    );
    let loc = location(&post(&browser, &format!("{url}/delete"), Some(&csrf), &[]).await);
    assert_eq!(loc, "/t/acme/console/groups?notice=deleted");
    let (st, _) = s.get(&format!("/groups/{id}")).await;
    assert_eq!(st, 404);

    // The list pages by 25 and searches by name.
    for i in 0..30 {
        created(
            &s,
            "/groups",
            json!({"display_name": format!("Team {i:02}")}),
        )
        .await;
    }
    let page = browser.get("/t/acme/console/groups").await;
    assert_eq!(page.body.matches("<tr>").count(), 1 + 25, "{}", page.body);
    assert!(page.body.contains("rel=\"next\""));
    let page = browser.get("/t/acme/console/groups?page=2").await;
    assert_eq!(page.body.matches("<tr>").count(), 1 + 6);
    let page = browser.get("/t/acme/console/groups?q=team%201").await;
    assert_eq!(page.body.matches("<tr>").count(), 1 + 10);
    let page = browser.get("/t/acme/console/groups?q=zzz").await;
    assert!(page.body.contains("No group matches"));
}

backends!(groups_are_run_from_the_console);
