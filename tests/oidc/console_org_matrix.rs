//! Who may do what on the console's organisation pages (issue 14, seed 001): the admin API's
//! rule, checked as a matrix over every route, every kind of caller and both methods; forged
//! and CSRF-less requests change nothing; hostile forms are refused, never a 500.

use crate::backends;
use crate::browser::{Browser, user_with_password};
use crate::common::{Backend, TestServer};
use crate::console_org::{created, csrf_of, holder, owner_with_password, post, signed_in};
use serde_json::{Value, json};

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
