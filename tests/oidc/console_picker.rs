//! The account picker of a user's memberships page at 10,000 accounts (issue 14): the page
//! stays small and fast, the picker's endpoint finds names in any case beyond ASCII, shows at
//! most 20 and escapes them; a Manager is offered only the accounts they manage and a forged
//! POST for another is refused; POSTs need the CSRF token; another tenant's ids are refused.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::console_employment::memberships_of;
use crate::console_org::{created, csrf_of, holder, location, post, signed_in};
use crate::console_org_lists::{bulk, median};
use serde_json::json;
use std::time::Duration;

backends!(
    ten_thousand_accounts_are_searched_not_listed,
    a_manager_is_offered_only_the_accounts_they_manage,
);

/// The account choices a page or fragment offers (radio buttons of either form).
fn offered(body: &str) -> usize {
    body.matches("type=\"radio\" name=\"account_id\"").count()
}

/// Adds `n` accounts named `Team 00000`... to tenant `slug`, straight into the database.
async fn teams(s: &TestServer, slug: &str, n: usize) {
    let t = s.store.tenant_by_slug(slug).await.unwrap().unwrap().id.0;
    let rows = (0..n)
        .map(|i| {
            format!(
                "('{}', '{t}', 'Team {i:05}', 'team {i:05}', 'customer', FALSE, 1, 1)",
                uuid::Uuid::now_v7()
            )
        })
        .collect();
    bulk(
        s,
        "accounts",
        "id, tenant_id, name, name_f, kind, builtin, created_at, updated_at",
        rows,
    )
    .await;
}

async fn ten_thousand_accounts_are_searched_not_listed(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let t = s.create_user("tess@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    teams(&s, "acme", 10_000).await;
    let aerzte = created(
        &s,
        "/accounts",
        json!({"name": "Ärztekammer Süd", "kind": "customer"}),
    )
    .await;
    let hostile = created(
        &s,
        "/accounts",
        json!({"name": "<script>alert(1)</script> & Co", "kind": "provider"}),
    )
    .await;
    // Last by name in any collation: beyond the first 20 of an empty search.
    let last = created(
        &s,
        "/accounts",
        json!({"name": "Zzz last", "kind": "customer"}),
    )
    .await;
    let token = s.other_tenant("globex").await;
    let (st, v) = s
        .call_as(
            &token,
            reqwest::Method::POST,
            &format!("{}/t/globex/api/v1/accounts", s.base),
            Some(json!({"name": "Ärztehaus Globex", "kind": "customer"})),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let theirs = v["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .call_as(
            &token,
            reqwest::Method::POST,
            &format!("{}/t/globex/api/v1/users", s.base),
            Some(json!({"email": "bob@globex.test"})),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let bob = v["id"].as_str().unwrap().to_owned();

    let browser = signed_in(&s, "admin@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let url = format!("/t/acme/console/users/{t}/memberships");
    let picker = format!("{url}/accounts");

    // The page: fast, and at most 20 choices in each of its two pickers, never a long list.
    let took = median(&browser, &url, "id=\"m-account-q\"").await;
    eprintln!("memberships page at 10,000 accounts ({b:?}): {took:?}");
    assert!(took < Duration::from_secs(1), "the page took {took:?}");
    let page = browser.get(&url).await;
    assert_eq!(
        offered(&page.body),
        40,
        "20 for employment, 20 for management"
    );
    assert!(page.body.matches("<option").count() < 50, "{}", page.body);
    assert!(page.body.contains("Only the first 20 are shown"));
    // Without JavaScript the search re-renders the page with the matches.
    let page = browser.get(&format!("{url}?account_q=team%2009999")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(">Team 09999 (Customer)</label>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("value=\"team 09999\""),
        "the search is kept"
    );

    // The endpoint: a fragment of at most 20, found in any case beyond ASCII.
    let took = median(&browser, &format!("{picker}?account_q=team"), "Team 00019").await;
    eprintln!("picker at 10,000 accounts ({b:?}): {took:?}");
    assert!(took < Duration::from_secs(1), "the picker took {took:?}");
    let frag = browser.get(&format!("{picker}?account_q=team")).await;
    assert_eq!(offered(&frag.body), 20);
    assert!(frag.body.contains("Only the first 20 are shown"));
    assert!(!frag.body.contains("<html"), "a fragment, not a page");
    for q in ["ärzte", "ÄRZTE", "%C3%A4rztekammer%20s%C3%BCd", "SÜD"] {
        let frag = browser.get(&format!("{picker}?account_q={q}")).await;
        assert_eq!(frag.status, 200, "{q}");
        assert_eq!(offered(&frag.body), 1, "{q}: {}", frag.body);
        assert!(frag.body.contains(&format!("value=\"{aerzte}\"")), "{q}");
        assert!(
            !frag.body.contains(&theirs),
            "never another tenant's account"
        );
    }
    let frag = browser.get(&format!("{picker}?manage_q=SCRIPT")).await;
    assert!(
        frag.body.contains(&format!("value=\"{hostile}\"")),
        "{}",
        frag.body
    );
    assert!(
        ["&lt;script&gt;alert(1)", "&#60;script&#62;alert(1)"]
            .iter()
            .any(|e| frag.body.contains(e)),
        "{}",
        frag.body
    );
    assert!(!frag.body.contains("<script>alert"), "names are escaped");
    let frag = browser
        .get(&format!("{picker}?account_q=%3Cimg%20src%3Dx%3E"))
        .await;
    assert!(frag.body.contains("No account you can choose matches “"));
    assert!(frag.body.contains("img src"), "{}", frag.body);
    assert!(!frag.body.contains("<img"), "the search is escaped");
    // Odd searches are refused with a message, never a 500 (control characters already by
    // the server's strict input, a long one by the picker).
    for q in ["a%00b", "%1B"] {
        let frag = browser.get(&format!("{picker}?account_q={q}")).await;
        assert_eq!(frag.status, 400, "{q}: {}", frag.body);
    }
    let long = "x".repeat(5000);
    for q in [long.as_str()] {
        let frag = browser.get(&format!("{picker}?account_q={q}")).await;
        assert_eq!(frag.status, 200, "{q}");
        assert!(
            frag.body.contains("The search was refused"),
            "{}",
            frag.body
        );
        assert_eq!(offered(&frag.body), 0);
    }
    // LIKE's wildcards are plain characters.
    let frag = browser.get(&format!("{picker}?account_q=%25")).await;
    assert_eq!(offered(&frag.body), 0, "{}", frag.body);

    // Picking one adds the employment; without the CSRF token nothing is added.
    let before = memberships_of(&s, &t).await;
    for wrong in [None, Some("not-the-token")] {
        let page = post(&browser, &url, wrong, &[("account_id", aerzte.clone())]).await;
        assert_eq!(page.status, 403, "csrf {wrong:?}");
    }
    let page = post(
        &browser,
        &format!("/t/acme/console/users/{t}/management"),
        None,
        &[("kind", "account".into()), ("account_id", aerzte.clone())],
    )
    .await;
    assert_eq!(page.status, 403);
    assert_eq!(memberships_of(&s, &t).await, before);
    let (_, v) = s.get(&format!("/users/{t}/management")).await;
    assert_eq!(v["items"], json!([]));
    let loc = location(
        &post(
            &browser,
            &url,
            Some(&csrf),
            &[("account_id", aerzte.clone())],
        )
        .await,
    );
    assert!(loc.ends_with("?notice=added"), "{loc}");
    assert_eq!(memberships_of(&s, &t).await.len(), before.len() + 1);

    // A refused form keeps the account it had chosen, even beyond the first 20.
    let page = post(
        &browser,
        &url,
        Some(&csrf),
        &[("account_id", last.clone()), ("end_date", "never".into())],
    )
    .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body
            .contains(&format!("value=\"{last}\" form=\"m-form\" checked")),
        "{}",
        page.body
    );

    // Another tenant's account or user: refused, nothing of theirs shown.
    let page = post(
        &browser,
        &url,
        Some(&csrf),
        &[("account_id", theirs.clone())],
    )
    .await;
    assert!(matches!(page.status, 400 | 404), "{}", page.status);
    assert!(
        page.body.contains("does not exist")
            && !page.body.contains(&format!("value=\"{theirs}\""))
            && !page.body.contains("Globex"),
        "refused as unknown, never offered: {}",
        page.body
    );
    assert_eq!(memberships_of(&s, &t).await.len(), before.len() + 1);
    let frag = browser
        .get(&format!(
            "/t/acme/console/users/{bob}/memberships/accounts?account_q=a"
        ))
        .await;
    assert_eq!(frag.status, 404);
    let frag = browser
        .get(&format!(
            "/t/globex/console/users/{bob}/memberships/accounts?account_q=a"
        ))
        .await;
    assert_ne!(frag.status, 200, "not signed in to globex: {}", frag.body);
}

async fn a_manager_is_offered_only_the_accounts_they_manage(b: Backend) {
    let s = TestServer::start(b).await;
    let manager = holder(&s, "manager@acme.test", "manager").await;
    let t = s.create_user("tess@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    teams(&s, "acme", 10_000).await;
    let account = |name: &'static str| {
        let s = &s;
        async move { created(s, "/accounts", json!({"name": name, "kind": "customer"})).await }
    };
    let (direct, grouped, outside) = (
        account("Équipe directe").await,
        account("Équipe régionale").await,
        account("Équipe voisine").await,
    );
    let region = created(
        &s,
        "/account-groups",
        json!({"name": "Région", "account_ids": [grouped]}),
    )
    .await;
    created(
        &s,
        &format!("/users/{t}/memberships"),
        json!({"account_id": direct, "main": true}),
    )
    .await;
    for (kind, id) in [("account", &direct), ("account_group", &region)] {
        created(
            &s,
            &format!("/users/{manager}/management"),
            json!({"kind": kind, "id": id}),
        )
        .await;
    }
    let browser = signed_in(&s, "manager@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let url = format!("/t/acme/console/users/{t}/memberships");
    let took = median(&browser, &url, "id=\"m-account-q\"").await;
    eprintln!("memberships page at 10,000 accounts ({b:?}): {took:?}");
    assert!(took < Duration::from_secs(1), "the page took {took:?}");
    let page = browser.get(&url).await;
    assert_eq!(
        offered(&page.body),
        2,
        "only the two managed accounts: {}",
        page.body
    );
    assert!(page.body.contains(&format!("value=\"{direct}\"")));
    assert!(page.body.contains(&format!("value=\"{grouped}\"")));
    assert!(!page.body.contains("g-account-q"), "no management picker");
    for q in ["équipe", "ÉQUIPE", "voisine", "team"] {
        let frag = browser.get(&format!("{url}/accounts?account_q={q}")).await;
        assert_eq!(frag.status, 200, "{q}");
        assert!(!frag.body.contains(&outside), "{q}: {}", frag.body);
        assert!(!frag.body.contains("Team 0"), "{q}: {}", frag.body);
    }
    let frag = browser
        .get(&format!("{url}/accounts?account_q=ÉQUIPE"))
        .await;
    assert_eq!(offered(&frag.body), 2, "{}", frag.body);
    // The management picker is for who may hand out scope.
    let frag = browser.get(&format!("{url}/accounts?manage_q=a")).await;
    assert_eq!(frag.status, 403);
    // A forged POST for an account outside is refused; one they manage is added.
    let before = memberships_of(&s, &t).await;
    let page = post(
        &browser,
        &url,
        Some(&csrf),
        &[("account_id", outside.clone())],
    )
    .await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert_eq!(memberships_of(&s, &t).await, before);
    let loc = location(
        &post(
            &browser,
            &url,
            Some(&csrf),
            &[("account_id", grouped.clone())],
        )
        .await,
    );
    assert!(loc.ends_with("?notice=added"), "{loc}");
    assert_eq!(memberships_of(&s, &t).await.len(), before.len() + 1);
    // Someone outside their scope: neither the page nor the picker.
    let o = s.create_user("otto@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let frag = browser
        .get(&format!(
            "/t/acme/console/users/{o}/memberships/accounts?account_q=a"
        ))
        .await;
    assert_eq!(frag.status, 403);
}
