//! The console's organisation pages over HTTP (issue 14, seed 001): groups, accounts, account
//! groups, and a user's employment (dated memberships, one main account) and management. Who
//! may do what is the admin API's rule, checked here as a matrix over every route, every kind
//! of caller and both methods; forged, CSRF-less and cross-tenant requests change nothing;
//! names are shown escaped; bad input is a field error on its field, never a 500.

use crate::backends;
use crate::browser::{Browser, PASSWORD, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::{Value, json};

/// A signed-in browser of `email`.
pub async fn signed_in(s: &TestServer, email: &str) -> Browser {
    let b = Browser::new(s);
    let page = b.sign_in("/t/acme/login", email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    b
}

/// A user with a password holding the seeded role `template`; returns its id.
pub async fn holder(s: &TestServer, email: &str, template: &str) -> String {
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
async fn owner_with_password(s: &TestServer) -> String {
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

async fn created(s: &TestServer, path: &str, body: Value) -> String {
    let (st, v) = s.post(path, body).await;
    assert_eq!(st, 201, "{path}: {v}");
    v["id"].as_str().unwrap().to_owned()
}

/// The objects every caller of the matrix acts on, fresh for each.
struct World {
    /// Tells this world's names from the others'.
    n: usize,
    t: String,
    o: String,
    group: String,
    role: String,
    a: String,
    b: String,
    c: String,
    d: String,
    ag: String,
    /// T's memberships: in A (main, managed), B (not managed), E (managed), F (not managed).
    m_b: String,
    m_e: String,
    m_f: String,
    /// The manager's relation "manages A".
    mg: String,
}

async fn world(s: &TestServer, n: usize, manager: &str) -> World {
    let t = s.create_user(&format!("tess{n}@acme.test")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = s.create_user(&format!("otto{n}@acme.test")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut acc = Vec::new();
    for name in ["A", "B", "C", "D", "E", "F"] {
        acc.push(
            created(
                s,
                "/accounts",
                json!({"name": format!("{name}{n} Ltd"), "kind": "customer"}),
            )
            .await,
        );
    }
    let mut ms = Vec::new();
    for (i, account) in [&acc[0], &acc[1], &acc[4], &acc[5]].into_iter().enumerate() {
        ms.push(
            created(
                s,
                &format!("/users/{t}/memberships"),
                json!({"account_id": account, "main": i == 0}),
            )
            .await,
        );
    }
    created(
        s,
        &format!("/users/{o}/memberships"),
        json!({"account_id": acc[1], "main": true}),
    )
    .await;
    let mg = created(
        s,
        &format!("/users/{manager}/management"),
        json!({"kind": "account", "id": acc[0]}),
    )
    .await;
    created(
        s,
        &format!("/users/{manager}/management"),
        json!({"kind": "account", "id": acc[4]}),
    )
    .await;
    let group = created(s, "/groups", json!({"display_name": format!("Group {n}")})).await;
    let role = created(
        s,
        "/roles",
        json!({"name": format!("Readers {n}"), "permissions": []}),
    )
    .await;
    let ag = created(
        s,
        "/account-groups",
        json!({"name": format!("Region {n}"), "account_ids": [acc[0]]}),
    )
    .await;
    World {
        n,
        t,
        o,
        group,
        role,
        a: acc[0].clone(),
        b: acc[1].clone(),
        c: acc[2].clone(),
        d: acc[3].clone(),
        ag,
        m_b: ms[1].clone(),
        m_e: ms[2].clone(),
        m_f: ms[3].clone(),
        mg,
    }
}

/// What the admin API says of everything the console's organisation pages can change.
async fn snapshot(s: &TestServer, w: &World, manager: &str) -> Value {
    let mut all = serde_json::Map::new();
    for path in [
        "/groups".to_owned(),
        "/accounts".to_owned(),
        "/account-groups".to_owned(),
        format!("/users/{}/memberships", w.t),
        format!("/users/{}/memberships", w.o),
        format!("/users/{}/management", w.t),
        format!("/users/{manager}/management"),
    ] {
        let (st, v) = s.get(&path).await;
        assert_eq!(st, 200, "{path}: {v}");
        all.insert(path, v);
    }
    Value::Object(all)
}

/// The console's GET routes over `w`, and whether a Manager (who manages A and E, so T) may.
fn gets(w: &World) -> Vec<(String, bool)> {
    let c = "/t/acme/console";
    vec![
        (format!("{c}/groups"), true),
        (format!("{c}/groups?q=Group&page=1"), true),
        (format!("{c}/groups/new"), false),
        (format!("{c}/groups/{}", w.group), true),
        (format!("{c}/groups/{}?member_q=tess", w.group), true),
        (format!("{c}/groups/{}/delete", w.group), false),
        (format!("{c}/accounts"), true),
        (format!("{c}/accounts?kind=guest"), true),
        (format!("{c}/accounts/new"), false),
        (format!("{c}/accounts/{}", w.a), true),
        (format!("{c}/accounts/{}/delete", w.c), false),
        (format!("{c}/account-groups"), true),
        (format!("{c}/account-groups/new"), false),
        (format!("{c}/account-groups/{}", w.ag), true),
        (format!("{c}/account-groups/{}/delete", w.ag), false),
        (format!("{c}/users/{}/memberships", w.t), true),
        (format!("{c}/users/{}/memberships", w.o), false),
        (format!("{c}/users/{}/memberships/{}", w.t, w.m_e), true),
        (
            format!("{c}/users/{}/memberships/{}/delete", w.t, w.m_e),
            true,
        ),
    ]
}

/// The console's POST routes over `w`, in an order in which each succeeds for an
/// administrator, and whether a Manager may.
/// A POST of the matrix: the address, the form, whether a Manager may.
type Post = (String, Vec<(&'static str, String)>, bool);

fn posts(w: &World, manager: &str) -> Vec<Post> {
    let c = "/t/acme/console";
    let f = |pairs: &[(&'static str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    vec![
        (
            format!("{c}/groups"),
            f(&[("display_name", &format!("Fresh group {}", w.n))]),
            false,
        ),
        (
            format!("{c}/groups/{}", w.group),
            f(&[
                ("display_name", &format!("Renamed group {}", w.n)),
                ("description", "d"),
            ]),
            false,
        ),
        (
            format!("{c}/groups/{}/members", w.group),
            f(&[("op", "add"), ("user_id", &w.t)]),
            false,
        ),
        (
            format!("{c}/groups/{}/roles", w.group),
            f(&[("op", "add"), ("role_id", &w.role)]),
            false,
        ),
        (
            format!("{c}/accounts"),
            f(&[
                ("name", &format!("Fresh account {}", w.n)),
                ("kind", "provider"),
            ]),
            false,
        ),
        (
            format!("{c}/accounts/{}", w.a),
            f(&[
                ("name", &format!("Renamed account {}", w.n)),
                ("kind", "customer"),
            ]),
            false,
        ),
        (
            format!("{c}/accounts/{}/account-groups", w.a),
            f(&[("op", "remove"), ("account_group_id", &w.ag)]),
            false,
        ),
        (
            format!("{c}/account-groups"),
            f(&[("name", &format!("Fresh region {}", w.n))]),
            false,
        ),
        (
            format!("{c}/account-groups/{}", w.ag),
            f(&[("name", &format!("Renamed region {}", w.n))]),
            false,
        ),
        (
            format!("{c}/account-groups/{}/accounts", w.ag),
            f(&[("op", "add"), ("account_id", &w.b)]),
            false,
        ),
        (
            format!("{c}/users/{}/memberships", w.o),
            f(&[("account_id", &w.a)]),
            false,
        ),
        (
            format!("{c}/users/{}/memberships", w.t),
            f(&[("account_id", &w.d), ("start_date", "2024-01-01")]),
            false,
        ),
        (
            format!("{c}/users/{}/management", w.t),
            f(&[("kind", "account"), ("account_id", &w.b)]),
            false,
        ),
        (
            format!("{c}/users/{}/memberships/{}", w.t, w.m_e),
            f(&[("start_date", "2020-01-01"), ("end_date", "")]),
            true,
        ),
        (
            format!("{c}/users/{}/memberships/{}/main", w.t, w.m_b),
            vec![],
            false,
        ),
        (
            format!("{c}/users/{}/memberships/{}/delete", w.t, w.m_e),
            vec![],
            true,
        ),
        (
            format!("{c}/users/{}/memberships/{}/delete", w.t, w.m_f),
            vec![],
            false,
        ),
        (
            format!("{c}/users/{manager}/management/{}/delete", w.mg),
            vec![],
            false,
        ),
        (format!("{c}/groups/{}/delete", w.group), vec![], false),
        (format!("{c}/accounts/{}/delete", w.c), vec![], false),
        (format!("{c}/account-groups/{}/delete", w.ag), vec![], false),
    ]
}

/// POSTs `form` with the CSRF token `csrf` (none when `None`).
async fn post(
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
async fn csrf_of(b: &Browser) -> String {
    let page = b.get("/t/acme/console/groups").await;
    hidden(&page.body, "csrf").unwrap_or_else(|| panic!("a CSRF field: {}", page.body))
}

async fn matrix_allows_exactly_what_the_api_allows(b: Backend) {
    let s = TestServer::start(b).await;
    let admin = holder(&s, "admin@acme.test", "administrator").await;
    let manager = holder(&s, "manager@acme.test", "manager").await;
    user_with_password(&s, "plain@acme.test").await;
    owner_with_password(&s).await;
    let _ = admin;

    // Anonymous: every route sends to the sign-in page and changes nothing.
    let w = world(&s, 0, &manager).await;
    let before = snapshot(&s, &w, &manager).await;
    let anonymous = Browser::new(&s);
    for (url, _) in gets(&w) {
        let page = anonymous.get(&url).await;
        assert_eq!(page.status, 303, "{url}");
        assert!(
            page.location
                .as_deref()
                .unwrap_or_default()
                .starts_with("/t/acme/login?"),
            "{url}"
        );
    }
    for (url, form, _) in posts(&w, &manager) {
        let page = post(&anonymous, &url, Some("x"), &form).await;
        assert_eq!(page.status, 303, "{url}");
        assert!(
            page.location
                .as_deref()
                .unwrap_or_default()
                .starts_with("/t/acme/login?"),
            "{url}"
        );
    }
    // Signed in without administration rights: told so, nothing changes.
    let plain = signed_in(&s, "plain@acme.test").await;
    // (Their refusal comes before any check of the form's token.)
    let csrf = "x".to_owned();
    for (url, _) in gets(&w) {
        let page = plain.get(&url).await;
        assert!(
            page.body.contains("No administration rights"),
            "{url}: {}",
            page.body
        );
    }
    for (url, form, _) in posts(&w, &manager) {
        let page = post(&plain, &url, Some(&csrf), &form).await;
        assert!(
            page.body.contains("No administration rights"),
            "{url}: {}",
            page.body
        );
    }
    assert_eq!(snapshot(&s, &w, &manager).await, before);

    // A Manager reads, changes employment only in the accounts they manage, nothing else.
    let browser = signed_in(&s, "manager@acme.test").await;
    let csrf = csrf_of(&browser).await;
    for (url, may) in gets(&w) {
        let page = browser.get(&url).await;
        assert_eq!(
            page.status,
            if may { 200 } else { 403 },
            "manager GET {url}: {}",
            page.body
        );
    }
    for (url, form, may) in posts(&w, &manager) {
        let before = snapshot(&s, &w, &manager).await;
        let page = post(&browser, &url, Some(&csrf), &form).await;
        if may {
            assert_eq!(page.status, 303, "manager POST {url}: {}", page.body);
        } else {
            assert_eq!(page.status, 403, "manager POST {url}: {}", page.body);
            assert_eq!(
                snapshot(&s, &w, &manager).await,
                before,
                "manager POST {url}"
            );
        }
    }

    // An Administrator and the Owner may do everything, each on a world of their own; a
    // POST without the session's CSRF token is refused first and changes nothing.
    for (n, email) in [(1, "admin@acme.test"), (2, "owner@acme.test")] {
        let w = world(&s, n, &manager).await;
        let browser = signed_in(&s, email).await;
        for (url, _) in gets(&w) {
            let page = browser.get(&url).await;
            assert_eq!(page.status, 200, "{email} GET {url}: {}", page.body);
        }
        let csrf = csrf_of(&browser).await;
        for (url, form, _) in posts(&w, &manager) {
            let before = snapshot(&s, &w, &manager).await;
            for wrong in [None, Some("not-the-token")] {
                let page = post(&browser, &url, wrong, &form).await;
                assert_eq!(page.status, 403, "{email} POST {url} csrf {wrong:?}");
                assert_eq!(
                    snapshot(&s, &w, &manager).await,
                    before,
                    "{url} csrf {wrong:?}"
                );
            }
            let page = post(&browser, &url, Some(&csrf), &form).await;
            assert_eq!(page.status, 303, "{email} POST {url}: {}", page.body);
            assert_ne!(
                snapshot(&s, &w, &manager).await,
                before,
                "{email} POST {url} changed it"
            );
        }
    }
}

backends!(matrix_allows_exactly_what_the_api_allows);

/// The path and query a POST-redirect-GET went to.
fn location(page: &crate::browser::Page) -> String {
    assert_eq!(page.status, 303, "{}", page.body);
    page.location.clone().unwrap()
}

/// The id a `.../{id}?notice=created` redirect names.
fn created_id(loc: &str) -> String {
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

async fn accounts_and_account_groups_are_run_from_the_console(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let browser = signed_in(&s, "admin@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let c = "/t/acme/console";

    for (form, field) in [
        (
            vec![("name", "".to_owned()), ("kind", "customer".to_owned())],
            "name",
        ),
        (
            vec![("name", "Guesty".to_owned()), ("kind", "guest".to_owned())],
            "kind",
        ),
        (
            vec![("name", "Odd".to_owned()), ("kind", "<x>".to_owned())],
            "kind",
        ),
    ] {
        let page = post(&browser, &format!("{c}/accounts"), Some(&csrf), &form).await;
        assert_eq!(page.status, 400, "{form:?}: {}", page.body);
        assert!(
            page.body.contains(&format!("id=\"{field}-error\"")),
            "{form:?}: {}",
            page.body
        );
    }
    let name = "Acme <i>Ltd</i>";
    let loc = location(
        &post(
            &browser,
            &format!("{c}/accounts"),
            Some(&csrf),
            &[("name", name.into()), ("kind", "provider".into())],
        )
        .await,
    );
    let a = created_id(&loc);
    let (_, v) = s.get(&format!("/accounts/{a}")).await;
    assert_eq!(
        (v["name"].as_str(), v["kind"].as_str()),
        (Some(name), Some("provider"))
    );
    let page = browser.get(&loc).await;
    assert!(
        !page.body.contains("<i>Ltd</i>") && page.body.contains("Ltd&#60;/i&#62;")
            || page.body.contains("Ltd&lt;/i&gt;"),
        "{}",
        page.body
    );
    let providers = browser.get(&format!("{c}/accounts?kind=provider")).await;
    assert!(providers.body.contains(&a));
    let customers = browser.get(&format!("{c}/accounts?kind=customer")).await;
    assert!(!customers.body.contains(&a));
    let guests = browser.get(&format!("{c}/accounts?kind=guest")).await;
    assert!(guests.body.contains("Built-in"), "{}", guests.body);
    let bad = browser.get(&format!("{c}/accounts?kind=boss")).await;
    assert_eq!(bad.status, 400);

    // Edited; a person employed there is listed as a current member.
    location(
        &post(
            &browser,
            &format!("{c}/accounts/{a}"),
            Some(&csrf),
            &[("name", "Acme Ltd".into()), ("kind", "customer".into())],
        )
        .await,
    );
    let (_, v) = s.get(&format!("/accounts/{a}")).await;
    assert_eq!(
        (v["name"].as_str(), v["kind"].as_str()),
        (Some("Acme Ltd"), Some("customer"))
    );
    let t = s.create_user("tess@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = created(
        &s,
        &format!("/users/{t}/memberships"),
        json!({"account_id": a, "main": true}),
    )
    .await;
    let page = browser.get(&format!("{c}/accounts/{a}")).await;
    assert!(page.body.contains("tess@acme.test"), "{}", page.body);

    // Account groups: created, given the account from the account's page, renamed, emptied.
    let page = post(
        &browser,
        &format!("{c}/account-groups"),
        Some(&csrf),
        &[("name", "".into())],
    )
    .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("id=\"name-error\""));
    let ag = created_id(&location(
        &post(
            &browser,
            &format!("{c}/account-groups"),
            Some(&csrf),
            &[
                ("name", "North".into()),
                ("description", "Northern customers".into()),
            ],
        )
        .await,
    ));
    location(
        &post(
            &browser,
            &format!("{c}/accounts/{a}/account-groups"),
            Some(&csrf),
            &[("op", "add".into()), ("account_group_id", ag.clone())],
        )
        .await,
    );
    let (_, g) = s.get(&format!("/account-groups/{ag}")).await;
    assert_eq!(g["account_ids"], json!([a]), "{g}");
    let page = browser.get(&format!("{c}/account-groups/{ag}")).await;
    assert!(page.body.contains("Acme Ltd"));
    location(
        &post(
            &browser,
            &format!("{c}/account-groups/{ag}"),
            Some(&csrf),
            &[("name", "North-East".into()), ("description", "".into())],
        )
        .await,
    );
    location(
        &post(
            &browser,
            &format!("{c}/account-groups/{ag}/accounts"),
            Some(&csrf),
            &[("op", "remove".into()), ("account_id", a.clone())],
        )
        .await,
    );
    let (_, g) = s.get(&format!("/account-groups/{ag}")).await;
    assert_eq!(
        (
            g["name"].as_str(),
            g["account_ids"].clone(),
            g["description"].clone()
        ),
        (Some("North-East"), json!([]), Value::Null)
    );

    // An account with members is not deleted (the page says why); without, it is.
    let confirm = browser.get(&format!("{c}/accounts/{a}/delete")).await;
    assert!(confirm.body.contains("Delete account Acme Ltd?"));
    let page = post(
        &browser,
        &format!("{c}/accounts/{a}/delete"),
        Some(&csrf),
        &[],
    )
    .await;
    assert_eq!(page.status, 409, "{}", page.body);
    assert!(page.body.contains("error-box"));
    let (st, _) = s.get(&format!("/accounts/{a}")).await;
    assert_eq!(st, 200);
    let other = created(
        &s,
        "/accounts",
        json!({"name": "Other", "kind": "customer"}),
    )
    .await;
    created(
        &s,
        &format!("/users/{t}/memberships"),
        json!({"account_id": other, "main": true}),
    )
    .await;
    let (st, v) = s.delete(&format!("/users/{t}/memberships/{m}")).await;
    assert_eq!(st, 204, "{v}");
    assert_eq!(
        location(
            &post(
                &browser,
                &format!("{c}/accounts/{a}/delete"),
                Some(&csrf),
                &[]
            )
            .await
        ),
        format!("{c}/accounts?notice=deleted")
    );
    let (st, _) = s.get(&format!("/accounts/{a}")).await;
    assert_eq!(st, 404);
    let confirm = browser
        .get(&format!("{c}/account-groups/{ag}/delete"))
        .await;
    assert!(confirm.body.contains("Delete account group North-East?"));
    location(
        &post(
            &browser,
            &format!("{c}/account-groups/{ag}/delete"),
            Some(&csrf),
            &[],
        )
        .await,
    );
    let (st, _) = s.get(&format!("/account-groups/{ag}")).await;
    assert_eq!(st, 404);
}

/// The memberships of `user` through the admin API.
async fn memberships_of(s: &TestServer, user: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/users/{user}/memberships")).await;
    assert_eq!(st, 200, "{v}");
    v["items"].as_array().unwrap().clone()
}

async fn employment_and_management_are_set_from_the_console(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let t = s.create_user("tess@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mona = s.create_user("mona@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = created(
        &s,
        "/accounts",
        json!({"name": "Alpha", "kind": "customer"}),
    )
    .await;
    let bee = created(&s, "/accounts", json!({"name": "Beta", "kind": "provider"})).await;
    let ag = created(&s, "/account-groups", json!({"name": "Region"})).await;
    let browser = signed_in(&s, "admin@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let user_page = browser.get(&format!("/t/acme/console/users/{t}")).await;
    let url = format!("/t/acme/console/users/{t}/memberships");
    assert!(
        user_page.body.contains(&format!("href=\"{url}\"")),
        "linked from the user page"
    );
    let page = browser.get(&url).await;
    // A new person is a guest (the built-in account) until employed elsewhere.
    assert!(page.body.contains(">Guest</a>"), "{}", page.body);
    assert!(page.body.contains("Manages nobody."));
    let guest_only = memberships_of(&s, &t).await;
    assert_eq!(guest_only.len(), 1);

    // Date errors are shown on their field, with what was typed.
    for (start, end, field) in [
        ("2024-05-01", "2024-04-30", "m-end-error"),
        ("2024-02-30", "", "m-start-error"),
        ("", "tomorrow", "m-end-error"),
    ] {
        let page = post(
            &browser,
            &url,
            Some(&csrf),
            &[
                ("account_id", a.clone()),
                ("start_date", start.into()),
                ("end_date", end.into()),
            ],
        )
        .await;
        assert_eq!(page.status, 400, "{start} {end}: {}", page.body);
        assert!(
            page.body.contains(&format!("id=\"{field}\"")),
            "{start} {end}: {}",
            page.body
        );
        assert!(page.body.contains(&format!("aria-describedby=\"{field}\"")));
        assert!(page.body.contains(&format!("value=\"{start}\"")));
    }
    let page = post(&browser, &url, Some(&csrf), &[("account_id", "x".into())]).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("id=\"m-account-error\""));
    assert_eq!(
        memberships_of(&s, &t).await,
        guest_only,
        "nothing was added"
    );

    // Two employments, the first the main one; then the main account moves.
    let loc = location(
        &post(
            &browser,
            &url,
            Some(&csrf),
            &[
                ("account_id", a.clone()),
                ("start_date", "2020-01-01".into()),
                ("main", "on".into()),
            ],
        )
        .await,
    );
    assert!(loc.ends_with("?notice=added"));
    location(
        &post(
            &browser,
            &url,
            Some(&csrf),
            &[
                ("account_id", bee.clone()),
                ("end_date", "2999-12-31".into()),
            ],
        )
        .await,
    );
    let ms = memberships_of(&s, &t).await;
    let m_a = ms
        .iter()
        .find(|m| m["account_id"] == a.as_str())
        .unwrap()
        .clone();
    let m_b = ms
        .iter()
        .find(|m| m["account_id"] == bee.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            m_a["main"].clone(),
            m_a["start_date"].clone(),
            m_a["end_date"].clone()
        ),
        (json!(true), json!("2020-01-01"), Value::Null)
    );
    assert_eq!(
        (m_b["main"].clone(), m_b["end_date"].clone()),
        (json!(false), json!("2999-12-31"))
    );
    let (ma, mb) = (m_a["id"].as_str().unwrap(), m_b["id"].as_str().unwrap());
    // A role held in an account is shown with that employment.
    let buyer = created(&s, "/roles", json!({"name": "Buyer", "permissions": []})).await;
    let (st, v) = s
        .post(
            &format!("/users/{t}/roles"),
            json!({"role_id": buyer, "account_id": bee}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let page = browser.get(&url).await;
    assert!(page.body.contains("status-main") && page.body.contains("Current"));
    assert!(page.body.contains("Roles here: Buyer"), "{}", page.body);
    assert_eq!(page.body.matches("Roles here:").count(), 1);
    location(&post(&browser, &format!("{url}/{mb}/main"), Some(&csrf), &[]).await);
    let ms = memberships_of(&s, &t).await;
    assert_eq!(ms.iter().filter(|m| m["main"] == true).count(), 1);
    assert!(ms.iter().any(|m| m["id"] == mb && m["main"] == true));

    // Dates edited on their own page: an end before the start is refused on the field.
    let edit = browser.get(&format!("{url}/{ma}")).await;
    assert!(edit.body.contains("value=\"2020-01-01\""), "{}", edit.body);
    let page = post(
        &browser,
        &format!("{url}/{ma}"),
        Some(&csrf),
        &[
            ("start_date", "2020-01-01".into()),
            ("end_date", "2019-12-31".into()),
        ],
    )
    .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("id=\"end_date-error\"") && page.body.contains("value=\"2019-12-31\"")
    );
    location(
        &post(
            &browser,
            &format!("{url}/{ma}"),
            Some(&csrf),
            &[
                ("start_date", "2020-01-01".into()),
                ("end_date", "2020-12-31".into()),
            ],
        )
        .await,
    );
    let ms = memberships_of(&s, &t).await;
    let m_a = ms.iter().find(|m| m["id"] == ma).unwrap();
    assert_eq!(
        (m_a["end_date"].clone(), m_a["current"].clone()),
        (json!("2020-12-31"), json!(false))
    );

    // The main employment is not deleted (the page says why); another is, after confirming.
    let page = post(&browser, &format!("{url}/{mb}/delete"), Some(&csrf), &[]).await;
    assert_eq!(page.status, 409, "{}", page.body);
    let confirm = browser.get(&format!("{url}/{ma}/delete")).await;
    assert!(
        confirm.body.contains("Delete the employment in Alpha?"),
        "{}",
        confirm.body
    );
    location(&post(&browser, &format!("{url}/{ma}/delete"), Some(&csrf), &[]).await);
    assert_eq!(
        memberships_of(&s, &t).await.len(),
        2,
        "Beta and the guest account"
    );

    // Management: an account, an account group and a person by email; an unknown email is a
    // field error; each removed again.
    let mg = format!("/t/acme/console/users/{t}/management");
    location(
        &post(
            &browser,
            &mg,
            Some(&csrf),
            &[("kind", "account".into()), ("account_id", a.clone())],
        )
        .await,
    );
    location(
        &post(
            &browser,
            &mg,
            Some(&csrf),
            &[
                ("kind", "account_group".into()),
                ("account_group_id", ag.clone()),
            ],
        )
        .await,
    );
    location(
        &post(
            &browser,
            &mg,
            Some(&csrf),
            &[
                ("kind", "user".into()),
                ("target_email", "Mona@acme.test".into()),
            ],
        )
        .await,
    );
    let page = post(
        &browser,
        &mg,
        Some(&csrf),
        &[
            ("kind", "user".into()),
            ("target_email", "nobody@acme.test".into()),
        ],
    )
    .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("id=\"g-person-error\"")
            && page.body.contains("value=\"nobody@acme.test\"")
    );
    let page = post(
        &browser,
        &mg,
        Some(&csrf),
        &[
            ("kind", "user".into()),
            ("target_email", "tess@acme.test".into()),
        ],
    )
    .await;
    assert_eq!(page.status, 400, "nobody manages themselves: {}", page.body);
    let (_, v) = s.get(&format!("/users/{t}/management")).await;
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{v}");
    assert!(items.iter().any(|m| m.to_string().contains(&mona)), "{v}");
    let page = browser.get(&url).await;
    assert!(
        page.body.contains("Alpha")
            && page.body.contains("Region")
            && page.body.contains("mona@acme.test")
    );
    // Seen from Mona's side: Tess manages her directly. Seen from Tess's: Mona manages her
    // through Beta, her account, and Tess herself through Region once Beta is in it.
    let page = browser
        .get(&format!("/t/acme/console/users/{mona}/memberships"))
        .await;
    assert!(
        page.body.contains("tess@acme.test") && page.body.contains("Directly"),
        "{}",
        page.body
    );
    let (st, v) = s
        .post(
            &format!("/users/{mona}/management"),
            json!({"kind": "account", "id": bee}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = s
        .put(&format!("/account-groups/{ag}/accounts/{bee}"), json!({}))
        .await;
    assert!(st.is_success(), "{v}");
    let page = browser.get(&url).await;
    assert!(
        page.body.contains("Through the account Beta"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Through the account group Region"),
        "{}",
        page.body
    );
    for m in items {
        let id = m["id"].as_str().unwrap();
        location(&post(&browser, &format!("{mg}/{id}/delete"), Some(&csrf), &[]).await);
    }
    let (_, v) = s.get(&format!("/users/{t}/management")).await;
    assert_eq!(v["items"], json!([]));
}

async fn another_tenants_objects_are_out_of_reach(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let t = s.create_user("tess@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = created(
        &s,
        "/accounts",
        json!({"name": "Alpha", "kind": "customer"}),
    )
    .await;
    let group = created(&s, "/groups", json!({"display_name": "Ours"})).await;
    let ag = created(&s, "/account-groups", json!({"name": "Ours"})).await;
    let token = s.other_tenant("globex").await;
    let api = |path: &str| format!("{}/t/globex/api/v1{path}", s.base);
    let call = |method: reqwest::Method, path: String, body: Option<Value>| {
        let url = api(&path);
        let token = token.clone();
        let s = &s;
        async move { s.call_as(&token, method, &url, body).await }
    };
    let (_, u) = call(
        reqwest::Method::POST,
        "/users".into(),
        Some(json!({"email": "bob@globex.test"})),
    )
    .await;
    let ub = u["id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        reqwest::Method::POST,
        "/accounts".into(),
        Some(json!({"name": "Theirs", "kind": "customer"})),
    )
    .await;
    let ab = v["id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        reqwest::Method::POST,
        "/groups".into(),
        Some(json!({"display_name": "Theirs"})),
    )
    .await;
    let gb = v["id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        reqwest::Method::POST,
        "/account-groups".into(),
        Some(json!({"name": "Theirs"})),
    )
    .await;
    let agb = v["id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        reqwest::Method::POST,
        format!("/users/{ub}/memberships"),
        Some(json!({"account_id": ab, "main": true})),
    )
    .await;
    let mb = v["id"].as_str().unwrap().to_owned();
    let theirs = || async {
        let mut all = Vec::new();
        for p in [
            "/groups".to_owned(),
            "/accounts".into(),
            "/account-groups".into(),
            format!("/users/{ub}/memberships"),
            format!("/users/{ub}/management"),
        ] {
            all.push(call(reqwest::Method::GET, p, None).await.1);
        }
        all
    };
    let before_theirs = theirs().await;
    let ours = json!([
        s.get("/groups").await.1,
        s.get("/account-groups").await.1,
        s.get(&format!("/users/{t}/memberships")).await.1,
        s.get(&format!("/users/{t}/management")).await.1
    ]);

    let browser = signed_in(&s, "admin@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let c = "/t/acme/console";
    for url in [
        format!("{c}/groups/{gb}"),
        format!("{c}/groups/{gb}/delete"),
        format!("{c}/accounts/{ab}"),
        format!("{c}/accounts/{ab}/delete"),
        format!("{c}/account-groups/{agb}"),
        format!("{c}/users/{ub}/memberships"),
        format!("{c}/users/{ub}/memberships/{mb}"),
        format!("{c}/users/{t}/memberships/{mb}"),
    ] {
        let page = browser.get(&url).await;
        assert_eq!(page.status, 404, "{url}: {}", page.body);
    }
    for (url, form) in [
        (
            format!("{c}/groups/{gb}"),
            vec![("display_name", "Mine".to_owned())],
        ),
        (format!("{c}/groups/{gb}/delete"), vec![]),
        (
            format!("{c}/groups/{group}/members"),
            vec![("op", "add".into()), ("user_id", ub.clone())],
        ),
        (
            format!("{c}/accounts/{ab}"),
            vec![("name", "Mine".into()), ("kind", "customer".into())],
        ),
        (format!("{c}/accounts/{ab}/delete"), vec![]),
        (
            format!("{c}/accounts/{a}/account-groups"),
            vec![("op", "add".into()), ("account_group_id", agb.clone())],
        ),
        (
            format!("{c}/account-groups/{ag}/accounts"),
            vec![("op", "add".into()), ("account_id", ab.clone())],
        ),
        (format!("{c}/account-groups/{agb}/delete"), vec![]),
        (
            format!("{c}/users/{ub}/memberships"),
            vec![("account_id", a.clone())],
        ),
        (format!("{c}/users/{ub}/memberships/{mb}/delete"), vec![]),
        (
            format!("{c}/users/{t}/memberships"),
            vec![("account_id", ab.clone())],
        ),
        (
            format!("{c}/users/{t}/management"),
            vec![("kind", "account".into()), ("account_id", ab.clone())],
        ),
        (
            format!("{c}/users/{t}/management"),
            vec![
                ("kind", "user".into()),
                ("target_email", "bob@globex.test".into()),
            ],
        ),
    ] {
        let page = post(&browser, &url, Some(&csrf), &form).await;
        assert!(
            matches!(page.status, 400 | 404),
            "{url}: {} {}",
            page.status,
            page.body
        );
    }
    assert_eq!(theirs().await, before_theirs, "nothing of theirs changed");
    let after = json!([
        s.get("/groups").await.1,
        s.get("/account-groups").await.1,
        s.get(&format!("/users/{t}/memberships")).await.1,
        s.get(&format!("/users/{t}/management")).await.1
    ]);
    assert_eq!(after, ours, "nothing of ours changed");
}

/// A Manager who manages an account sees its current members in the user list and nobody
/// else, and cannot open or change anyone outside (issue 14, "Delegated administration").
async fn a_manager_of_an_account_sees_and_changes_only_its_people(b: Backend) {
    let s = TestServer::start(b).await;
    let manager = holder(&s, "manager@acme.test", "manager").await;
    let t = s.create_user("tess@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = s.create_user("otto@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = created(
        &s,
        "/accounts",
        json!({"name": "Alpha", "kind": "customer"}),
    )
    .await;
    let other = created(
        &s,
        "/accounts",
        json!({"name": "Omega", "kind": "customer"}),
    )
    .await;
    created(
        &s,
        &format!("/users/{t}/memberships"),
        json!({"account_id": a, "main": true}),
    )
    .await;
    created(
        &s,
        &format!("/users/{o}/memberships"),
        json!({"account_id": other, "main": true}),
    )
    .await;
    created(
        &s,
        &format!("/users/{manager}/management"),
        json!({"kind": "account", "id": a}),
    )
    .await;
    let browser = signed_in(&s, "manager@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let list = browser.get("/t/acme/console/users").await;
    assert!(list.body.contains("tess@acme.test"), "{}", list.body);
    assert!(!list.body.contains("otto@acme.test"));
    let account = browser
        .get(&format!("/t/acme/console/accounts/{other}"))
        .await;
    assert!(
        !account.body.contains("otto@acme.test"),
        "members outside the scope are not listed"
    );
    // Their own person's employment: shown with its forms, but no management forms.
    let page = browser
        .get(&format!("/t/acme/console/users/{t}/memberships"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Add an employment") && !page.body.contains("Manage account"));
    assert!(
        page.body.contains("You (manager@acme.test)"),
        "{}",
        page.body
    );
    // Only the accounts they manage are offered, and only those employments can be changed.
    assert!(
        page.body.contains(&format!("<option value=\"{a}\"")),
        "{}",
        page.body
    );
    assert!(!page.body.contains(&format!("<option value=\"{other}\"")));
    let guest = memberships_of(&s, &t)
        .await
        .into_iter()
        .find(|m| m["account_name"] == "Guest")
        .unwrap();
    let guest_id = guest["id"].as_str().unwrap();
    assert!(
        !page.body.contains(&format!("memberships/{guest_id}\"")),
        "the guest membership is not offered"
    );
    assert_eq!(page.body.matches("Edit dates<").count(), 1, "{}", page.body);
    let before = (
        memberships_of(&s, &o).await,
        s.get(&format!("/users/{o}")).await.1,
    );
    for url in [
        format!("/t/acme/console/users/{o}"),
        format!("/t/acme/console/users/{o}/memberships"),
    ] {
        assert_eq!(browser.get(&url).await.status, 403, "{url}");
    }
    for (url, form) in [
        (
            format!("/t/acme/console/users/{o}/memberships"),
            vec![("account_id", a.clone())],
        ),
        (
            format!("/t/acme/console/users/{o}"),
            vec![("given_name", "Hacked".to_owned())],
        ),
        (
            format!("/t/acme/console/users/{t}/management"),
            vec![
                ("kind", "user".into()),
                ("target_email", "otto@acme.test".into()),
            ],
        ),
        (
            format!("/t/acme/console/users/{t}/management"),
            vec![("kind", "user".into()), ("target_email", "".into())],
        ),
    ] {
        let page = post(&browser, &url, Some(&csrf), &form).await;
        assert_eq!(page.status, 403, "{url}: {}", page.body);
    }
    assert_eq!(
        (
            memberships_of(&s, &o).await,
            s.get(&format!("/users/{o}")).await.1
        ),
        before
    );
    let (_, v) = s.get(&format!("/users/{t}/management")).await;
    assert_eq!(v["items"], json!([]));
}

backends!(
    groups_are_run_from_the_console,
    accounts_and_account_groups_are_run_from_the_console,
    employment_and_management_are_set_from_the_console,
    another_tenants_objects_are_out_of_reach,
    a_manager_of_an_account_sees_and_changes_only_its_people
);

/// Hostile forms on every POST route (NUL, invalid UTF-8, a huge value, unknown and
/// duplicated fields, a date that is no date): refused or ignored, never a 500.
async fn hostile_forms_are_refused_not_crashed(b: Backend) {
    let s = TestServer::start(b).await;
    let manager = holder(&s, "manager@acme.test", "manager").await;
    holder(&s, "admin@acme.test", "administrator").await;
    let w = world(&s, 0, &manager).await;
    let browser = signed_in(&s, "admin@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let huge = "x".repeat(100_000);
    let bodies = [
        "display_name=a%00b&name=a%00b&kind=customer&start_date=2024-01-01%00&op=add".to_owned(),
        "display_name=%FF%FE&name=%FF%FE&description=%FF&kind=%FF&start_date=%FF&end_date=%FF&op=%FF&user_id=%FF&role_id=%FF&account_id=%FF&account_group_id=%FF&target_email=%FF".to_owned(),
        format!("display_name={huge}&name={huge}&description={huge}&target_email={huge}&start_date={huge}&kind=user"),
        "op=add&op=remove&user_id=&user_id=x&kind=account&kind=user&unknown=1&main=yes&start_date=9999999-01-01".to_owned(),
    ];
    for (url, _, _) in posts(&w, &manager) {
        for body in &bodies {
            let res = browser
                .http
                .post(browser.absolute_url(&url))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("csrf={}&{body}", crate::enc(&csrf)))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            assert!(
                status < 500,
                "{url} {}: {status} {text}",
                &body[..body.len().min(80)]
            );
        }
    }
}

backends!(hostile_forms_are_refused_not_crashed);
