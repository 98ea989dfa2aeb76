//! The console's lists of groups, accounts and account groups (issue 14): searched by name in
//! any case (beyond ASCII, on both databases), sorted by name and paged by the database, 25 a
//! page; their boundaries (a full page, one more, past the end, a page number that is no
//! number); and 10,000 of each, which stay fast and count only the tenant's own. The user
//! list's text search folds names beyond ASCII too.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::console_org::{created, holder, signed_in};
use crate::sessions::sql;
use serde_json::json;
use std::time::{Duration, Instant};

backends!(
    lists_page_at_their_boundaries,
    lists_search_names_in_any_case_beyond_ascii,
    ten_thousand_of_each_stay_fast,
    the_user_list_searches_names_beyond_ascii,
);

const C: &str = "/t/acme/console";

/// The rows of a list page (its table's body lines).
fn rows(body: &str) -> usize {
    body.matches("<tr>").count().saturating_sub(1)
}

/// A list: its address under the console, the API path and body that create one named as
/// given, and how many the tenant has before (the built-in Guest account).
type List = (
    &'static str,
    &'static str,
    fn(&str) -> serde_json::Value,
    usize,
);

fn lists() -> [List; 3] {
    [
        ("groups", "/groups", |n| json!({"display_name": n}), 0),
        (
            "accounts",
            "/accounts",
            |n| json!({"name": n, "kind": "customer"}),
            1,
        ),
        (
            "account-groups",
            "/account-groups",
            |n| json!({"name": n}),
            0,
        ),
    ]
}

async fn lists_page_at_their_boundaries(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let browser = signed_in(&s, "admin@acme.test").await;
    for (list, api, body, before) in lists() {
        let url = format!("{C}/{list}");
        for i in before..25 {
            created(&s, api, body(&format!("Name {i:02}"))).await;
        }
        // Exactly one full page: no next page.
        let page = browser.get(&url).await;
        assert_eq!(page.status, 200, "{list}: {}", page.body);
        assert_eq!(rows(&page.body), 25, "{list}");
        assert!(!page.body.contains("rel=\"next\""), "{list}");
        assert!(!page.body.contains("rel=\"prev\""), "{list}");

        // One more: a second page holding it, linked both ways.
        created(&s, api, body("Name 25")).await;
        let page = browser.get(&url).await;
        assert_eq!(rows(&page.body), 25, "{list}");
        assert!(
            page.body
                .contains(&format!("href=\"{url}?page=2\" rel=\"next\""))
        );
        let second = browser.get(&format!("{url}?page=2")).await;
        assert_eq!(rows(&second.body), 1, "{list}: {}", second.body);
        assert!(second.body.contains("Name 25"), "{list}: sorted by name");
        assert!(
            second
                .body
                .contains(&format!("href=\"{url}?page=1\" rel=\"prev\""))
        );
        assert!(!second.body.contains("rel=\"next\""), "{list}");

        // Past the end: said so, with the way back; not a number: the first page.
        let past = browser.get(&format!("{url}?page=3")).await;
        assert_eq!(past.status, 200);
        assert_eq!(rows(&past.body), 0);
        assert!(
            past.body.contains("past the end of the list") && past.body.contains("?page=1\""),
            "{list}: {}",
            past.body
        );
        for odd in ["0", "-1", "abc", "99999999999999999999", "1e3"] {
            let page = browser.get(&format!("{url}?page={odd}")).await;
            assert_eq!(page.status, 200, "{list} page={odd}");
            assert_eq!(rows(&page.body), 25, "{list} page={odd}");
        }
        let far = browser.get(&format!("{url}?page=4294967296")).await;
        assert_eq!(far.status, 200, "{list}: {}", far.body);
    }
}

/// Creates a group, account or account group named `name` through the API.
async fn named(s: &TestServer, list: &str, name: &str) -> String {
    let (_, api, body, _) = lists().into_iter().find(|l| l.0 == list).unwrap();
    created(s, api, body(name)).await
}

/// The rows a list shows for the search `q` (sent percent-encoded), and the page.
async fn found(b: &crate::browser::Browser, list: &str, q: &str) -> (usize, String) {
    let page = b.get(&format!("{C}/{list}?q={}", crate::enc(q))).await;
    assert_eq!(page.status, 200, "{list} q={q}: {}", page.body);
    (rows(&page.body), page.body)
}

async fn lists_search_names_in_any_case_beyond_ascii(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let browser = signed_in(&s, "admin@acme.test").await;
    for list in ["groups", "accounts", "account-groups"] {
        for name in [
            "Équipe Zoë",
            "ÉQUIPE ZOË Nord",
            "Equipe Zoe",
            "100% sûr",
            "a_b",
            "ab",
        ] {
            named(&s, list, name).await;
        }
        for (q, n) in [
            ("équipe", 2),
            ("ÉQUIPE", 2),
            ("zoë", 2),
            ("  Zoë nord ", 1),
            ("equipe", 1),
            ("%", 1),
            ("_", 1),
            ("SÛR", 1),
            ("nobody", 0),
        ] {
            let (rows, body) = found(&browser, list, q).await;
            assert_eq!(rows, n, "{list} q={q}: {body}");
        }
        let (_, body) = found(&browser, list, "nobody").await;
        assert!(
            body.contains("matches. Try another name."),
            "{list}: {body}"
        );
        // The search is kept in the form, escaped.
        let (_, body) = found(&browser, list, "<b>é").await;
        assert!(body.contains("value=\"&#60;b&#62;é\"") || body.contains("value=\"&lt;b&gt;é\""));
        // A search no name can hold: a readable refusal, not a 500.
        for (bad, said) in [
            ("a\0b".to_owned(), "contains a control character"),
            (
                "x".repeat(201),
                "a search is at most 200 printable characters",
            ),
        ] {
            let page = browser
                .get(&format!("{C}/{list}?q={}", crate::enc(&bad)))
                .await;
            assert_eq!(page.status, 400, "{list}: {}", page.body);
            assert!(page.body.contains(said), "{}", page.body);
        }
    }

    // A renamed one is found by its new name only; the kind filter narrows a search.
    let (_, v) = s.get("/accounts").await;
    let zoe = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Équipe Zoë")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, v) = s
        .patch(
            &format!("/accounts/{zoe}"),
            json!({"name": "Straße", "kind": "provider"}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(found(&browser, "accounts", "équipe").await.0, 1);
    assert_eq!(found(&browser, "accounts", "STRASSE").await.0, 0);
    assert_eq!(found(&browser, "accounts", "STRAßE").await.0, 1);
    let page = browser
        .get(&format!("{C}/accounts?q=%C3%A9quipe&kind=provider"))
        .await;
    assert_eq!(rows(&page.body), 0, "{}", page.body);
    let page = browser
        .get(&format!("{C}/accounts?q=stra&kind=provider"))
        .await;
    assert_eq!(rows(&page.body), 1, "{}", page.body);
    let (_, v) = s.get("/account-groups").await;
    let ag = v["items"][0]["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .patch(&format!("/account-groups/{ag}"), json!({"name": "Ärzte"}))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(found(&browser, "account-groups", "ÄRZTE").await.0, 1);
}

/// Inserts `rows` (each a parenthesised list of values for `columns`) into `table`, by the
/// thousand.
pub(crate) async fn bulk(s: &TestServer, table: &str, columns: &str, rows: Vec<String>) {
    for chunk in rows.chunks(1000) {
        sql(
            s,
            &format!(
                "INSERT INTO {table} ({columns}) VALUES {}",
                chunk.join(", ")
            ),
        )
        .await;
    }
}

/// The median of five requests for `url`, after checking what it shows.
pub(crate) async fn median(b: &crate::browser::Browser, url: &str, shows: &str) -> Duration {
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let page = b.get(url).await;
        times.push(start.elapsed());
        assert_eq!(page.status, 200, "{url}");
        assert!(page.body.contains(shows), "{url}: {shows}: {}", page.body);
    }
    times.sort();
    times[2]
}

async fn ten_thousand_of_each_stay_fast(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    s.other_tenant("globex").await;
    let browser = signed_in(&s, "admin@acme.test").await;
    let tenant = |slug: &'static str| {
        let store = &s.store;
        async move { store.tenant_by_slug(slug).await.unwrap().unwrap().id.0 }
    };
    let (acme, globex) = (tenant("acme").await, tenant("globex").await);
    let id = || uuid::Uuid::now_v7().to_string();
    for (t, n) in [(acme.as_str(), 10_000), (globex.as_str(), 50)] {
        let name = |i: usize| format!("Team {i:05}");
        let folded = |i: usize| format!("team {i:05}");
        bulk(
            &s,
            "groups",
            "id, tenant_id, display_name, display_name_f, created_at, updated_at, version",
            (0..n)
                .map(|i| {
                    format!(
                        "('{}', '{t}', '{}', '{}', 1, 1, 1)",
                        id(),
                        name(i),
                        folded(i)
                    )
                })
                .collect(),
        )
        .await;
        bulk(
            &s,
            "accounts",
            "id, tenant_id, name, name_f, kind, builtin, created_at, updated_at",
            (0..n)
                .map(|i| {
                    format!(
                        "('{}', '{t}', '{}', '{}', 'customer', FALSE, 1, 1)",
                        id(),
                        name(i),
                        folded(i)
                    )
                })
                .collect(),
        )
        .await;
        bulk(
            &s,
            "account_groups",
            "id, tenant_id, name, name_f, created_at, updated_at",
            (0..n)
                .map(|i| format!("('{}', '{t}', '{}', '{}', 1, 1)", id(), name(i), folded(i)))
                .collect(),
        )
        .await;
    }
    let mut measured = Vec::new();
    for (list, total) in [
        ("groups", 10_000),
        ("accounts", 10_001),
        ("account-groups", 10_000),
    ] {
        let url = format!("{C}/{list}");
        let caption = |n: usize| format!("({n})</caption>");
        for (what, address, shows) in [
            ("first page", url.clone(), caption(total)),
            (
                "last page",
                format!("{url}?page=400"),
                "Team 09990".to_owned(),
            ),
            (
                "search",
                format!("{url}?q=TEAM%2009&page=40"),
                caption(1000),
            ),
        ] {
            let took = median(&browser, &address, &shows).await;
            measured.push(format!("{list} {what}: {took:?}"));
            assert!(took < Duration::from_secs(1), "{list} {what}: {took:?}");
        }
    }
    println!("10,000 of each ({b:?}): {}", measured.join("; "));
}

/// The user list's text search (`q`) compares folded names: an upper-case accented search finds
/// lower-case names and the reverse, on SQLite (whose lower() knows only ASCII) as on
/// PostgreSQL; LIKE's wildcards are plain characters.
async fn the_user_list_searches_names_beyond_ascii(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let browser = signed_in(&s, "admin@acme.test").await;
    for (email, names) in [
        ("zoe@acme.test", json!({"display_name": "ZOË Ångström"})),
        (
            "emile@acme.test",
            json!({"given_name": "Émile", "family_name": "ZOLA"}),
        ),
        ("pct@acme.test", json!({"display_name": "100% sûr"})),
    ] {
        let id = s.create_user(email).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (st, v) = s.patch(&format!("/users/{id}"), names).await;
        assert_eq!(st, 200, "{v}");
    }
    for (q, expected) in [
        ("zoë", vec!["zoe@acme.test"]),
        ("ÅNGSTRÖM", vec!["zoe@acme.test"]),
        ("émile zola", vec!["emile@acme.test"]),
        ("ÉMILE", vec!["emile@acme.test"]),
        ("%", vec!["pct@acme.test"]),
        ("SÛR", vec!["pct@acme.test"]),
        ("zo", vec!["emile@acme.test", "zoe@acme.test"]),
    ] {
        let (st, v) = s.get(&format!("/users?q={}", crate::enc(q))).await;
        assert_eq!(st, 200, "{v}");
        let mut emails: Vec<&str> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap())
            .collect();
        emails.sort();
        assert_eq!(emails, expected, "q={q}");
        let page = browser.get(&format!("{C}/users?q={}", crate::enc(q))).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for email in expected {
            assert!(page.body.contains(email), "q={q}: {email}");
        }
    }
}
