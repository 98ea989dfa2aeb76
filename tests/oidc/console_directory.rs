//! The console's Directory section and the log of recent SCIM requests (issue 14): every SCIM
//! request is logged with its outcome (status, `scimType`, token) but never its query string,
//! per tenant, newest first, paged, through `GET /scim/requests` and the console; SCIM tokens
//! are created (shown once, and real), revoked after a confirmation (then refused); the SCIM
//! settings are saved; and only who may sees or changes any of it.

use crate::backends;
use crate::browser::hidden;
use crate::common::{Backend, TestServer};
use crate::console_apps::{Who, assert_refused, people, signed_in};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// A SCIM token of tenant `acme` made through the admin API: (id, secret).
async fn scim_token(s: &TestServer, name: &str) -> (String, String) {
    let (st, v) = s.post("/scim/tokens", json!({ "name": name })).await;
    assert_eq!(st, 201, "{v}");
    (
        v["id"].as_str().unwrap().to_owned(),
        v["token"].as_str().unwrap().to_owned(),
    )
}

/// A SCIM GET of `path` (under `/scim/v2`, query included) in `tenant`: the status.
async fn scim_get(s: &TestServer, tenant: &str, token: &str, path: &str) -> u16 {
    s.client
        .get(format!("{}/t/{tenant}/scim/v2{path}", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The logged requests of the tenant of `api_token`, waiting until there are `n` (the log is
/// written in the background).
async fn logged(s: &TestServer, api_url: &str, api_token: &str, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let (st, v) = s
            .call_as(
                api_token,
                Method::GET,
                &format!("{api_url}?limit=1000"),
                None,
            )
            .await;
        assert_eq!(st, 200, "{v}");
        let items = v["items"].as_array().unwrap().clone();
        if items.len() >= n {
            assert_eq!(items.len(), n, "{items:?}");
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} SCIM requests were not logged in time");
}

async fn scim_requests_are_logged_with_their_outcome(b: Backend) {
    let s = TestServer::start(b).await;
    let (token_id, token) = scim_token(&s, "Okta").await;
    let globex = s.other_tenant("globex").await;
    let globex_api = format!("{}/t/globex/api/v1/scim/requests", s.base);
    let (st, v) = s
        .call_as(
            &globex,
            Method::POST,
            &format!("{}/t/globex/api/v1/scim/tokens", s.base),
            Some(json!({"name": "Globex directory"})),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let globex_scim = v["token"].as_str().unwrap().to_owned();

    let filter = "/Users?filter=userName%20eq%20%22private.person%40acme.test%22";
    assert_eq!(scim_get(&s, "acme", &token, filter).await, 200);
    let missing = "/Users/0190a0a0-0000-7000-8000-000000000000";
    assert_eq!(scim_get(&s, "acme", &token, missing).await, 404);
    let bad_filter = "/Users?filter=userName%20zz%20%22x%22";
    assert_eq!(scim_get(&s, "acme", &token, bad_filter).await, 400);
    assert_eq!(
        scim_get(&s, "acme", "scim_not-a-token", "/Groups").await,
        401
    );
    assert_eq!(
        scim_get(&s, "globex", &globex_scim, "/Groups?count=1").await,
        200
    );

    let api = s.url("/scim/requests");
    let items = logged(&s, &api, &s.token, 4).await;
    let outcome: Vec<(&str, &str, i64, Option<&str>, bool)> = items
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap(),
                r["status"].as_i64().unwrap(),
                r["scim_type"].as_str(),
                r["token_id"] == token_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        outcome,
        [
            ("GET", "/Groups", 401, None, false),
            ("GET", "/Users", 400, Some("invalidFilter"), true),
            ("GET", missing, 404, None, true),
            ("GET", "/Users", 200, None, true),
        ],
        "newest first: {items:?}"
    );
    assert!(items[0]["token_id"].is_null(), "a refused token names none");
    for r in &items {
        assert!(r["at"].as_str().unwrap().ends_with('Z'), "{r}");
        assert!(r["duration_ms"].as_i64().unwrap() >= 0);
        let text = r.to_string();
        assert!(
            !text.contains("private.person") && !text.contains('?'),
            "{text}"
        );
    }
    // The other tenant's log holds only its own request, and acme's none of it.
    let theirs = logged(&s, &globex_api, &globex, 1).await;
    assert_eq!(theirs[0]["path"], "/Groups");
    assert_eq!(theirs[0]["status"], 200);

    // Pages, newest first; a cursor not given out is refused.
    let (st, first) = s.get("/scim/requests?limit=3").await;
    assert_eq!(st, 200);
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, rest) = s
        .get(&format!("/scim/requests?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["status"], 200);
    assert!(rest["next_cursor"].is_null());
    for bad in ["cursor=abc", "cursor=-1", "limit=0", "colour=red"] {
        let (st, v) = s.get(&format!("/scim/requests?{bad}")).await;
        assert!(st == 400 || st == 422, "{bad}: {st} {v}");
    }
    // Someone without tokens.manage may not read it.
    let manager = s.create_user("manager@acme.test").await;
    let manager_id = manager["id"].as_str().unwrap();
    let role = s.role_id("manager").await;
    let (st, _) = s
        .post(
            &format!("/users/{manager_id}/roles"),
            json!({"role_id": role}),
        )
        .await;
    assert_eq!(st, 201);
    let as_manager = s.token_for("acme", manager_id).await;
    let (st, _) = s.call_as(&as_manager, Method::GET, &api, None).await;
    assert_eq!(st, 403);

    // The console shows them to an administrator, the full list paged.
    crate::console_apps::holder(&s, "admin@acme.test", "administrator").await;
    let admin = signed_in(&s, "admin@acme.test").await;
    let page = admin.get("/t/acme/console/directory").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("400 invalidFilter"), "{}", page.body);
    assert!(page.body.contains("Refused token"));
    assert!(
        page.body
            .contains(&format!("{}/t/acme/scim/v2", s.public_url))
    );
    assert!(!page.body.contains("private.person"));
    let page = admin.get("/t/acme/console/directory/requests").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body.matches("<tr>").count(), 1 + 4);
    let bad = admin
        .get("/t/acme/console/directory/requests?cursor=zz")
        .await;
    assert_eq!(bad.status, 400);

    // The writer keeps the latest 1000 of a tenant (here through the store, as the writer does).
    let acme = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let rows: Vec<_> = (0..1100)
        .map(|i| {
            let r = castellan::domain::scim::ScimRequest {
                seq: 0,
                at: 1_700_000_000_000 + i,
                token_id: None,
                method: "GET".into(),
                path: format!("/Users/{i}"),
                status: 200,
                scim_type: None,
                duration_ms: 1,
            };
            (acme.id.clone(), r)
        })
        .collect();
    s.store.insert_scim_requests(&rows, 1000).await.unwrap();
    let (_, kept) = s.get("/scim/requests?limit=1000").await;
    assert_eq!(kept["items"].as_array().unwrap().len(), 1000);
    assert!(kept["next_cursor"].is_null(), "no more than 1000 kept");
    assert_eq!(kept["items"][0]["path"], "/Users/1099");
    assert_eq!(kept["items"][999]["path"], "/Users/100");
    assert_eq!(
        logged(&s, &globex_api, &globex, 1).await.len(),
        1,
        "globex untouched"
    );

    let page = admin.get("/t/acme/console/directory/requests").await;
    assert_eq!(page.body.matches("<tr>").count(), 1 + 50, "a page of 50");
    assert!(page.body.contains("rel=\"next\""));
}

/// The tenant's SCIM tokens and settings through the admin API.
async fn api_state(s: &TestServer) -> (Value, Value) {
    let (_, tokens) = s.get("/scim/tokens").await;
    let (_, settings) = s.get("/scim/settings").await;
    (tokens, settings)
}

async fn directory_is_managed_by_exactly_who_may(b: Backend) {
    let s = TestServer::start(b).await;
    let (token_id, token) = scim_token(&s, "Okta").await;
    let people = people(&s).await;
    let before = api_state(&s).await;
    let revoke = format!("/t/acme/console/directory/tokens/{token_id}/revoke");
    for (who, b, csrf) in &people {
        let who = *who;
        for url in [
            "/t/acme/console/directory",
            "/t/acme/console/directory/requests",
            revoke.as_str(),
        ] {
            let page = b.get(url).await;
            match who {
                Who::Administrator | Who::Owner => {
                    assert_eq!(page.status, 200, "{who:?} {url}: {}", page.body)
                }
                _ => assert_refused(who, url, &page),
            }
        }
        if matches!(who, Who::Administrator | Who::Owner) {
            continue;
        }
        for (url, form) in [
            (
                "/t/acme/console/directory/tokens",
                vec![("csrf", csrf.as_str()), ("name", "Forged")],
            ),
            (revoke.as_str(), vec![("csrf", csrf.as_str())]),
            (
                "/t/acme/console/directory/settings",
                vec![
                    ("csrf", csrf.as_str()),
                    ("delete_action", "delete"),
                    ("manage_administrators", "on"),
                ],
            ),
        ] {
            let page = b.post_form(url, &form).await;
            assert_refused(who, &format!("POST {url}"), &page);
            assert!(!page.body.contains("scim_"), "no token for {who:?}");
        }
    }
    assert_eq!(api_state(&s).await, before, "nothing changed");
    assert_eq!(scim_get(&s, "acme", &token, "/Users").await, 200);
    let before = api_state(&s).await;

    let (_, admin, csrf) = people
        .iter()
        .find(|(w, _, _)| *w == Who::Administrator)
        .unwrap();
    // Without or with a wrong CSRF token: refused, nothing changes.
    for bad in ["", "forged"] {
        let page = admin
            .post_form(
                "/t/acme/console/directory/tokens",
                &[("csrf", bad), ("name", "Sneaky")],
            )
            .await;
        assert_eq!(page.status, 403);
        let page = admin.post_form(&revoke, &[("csrf", bad)]).await;
        assert_eq!(page.status, 403);
    }
    assert_eq!(api_state(&s).await, before);

    // A token: the label is required; the token is shown once, escaped label, and it works.
    let page = admin
        .post_form(
            "/t/acme/console/directory/tokens",
            &[("csrf", csrf), ("name", " ")],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("id=\"e-token-name\""), "{}", page.body);
    let page = admin
        .post_form(
            "/t/acme/console/directory/tokens",
            &[("csrf", csrf), ("name", "Entra <prod>")],
        )
        .await;
    assert_eq!(page.status, 201, "{}", page.body);
    assert!(page.body.contains("it will not be shown again"));
    assert!(!page.body.contains("<prod>"), "escaped");
    let marker = "id=\"scim-token\" class=\"mono\" readonly value=\"";
    let at = page.body.find(marker).expect("the token") + marker.len();
    let new_token = &page.body[at..at + page.body[at..].find('"').unwrap()];
    assert_eq!(scim_get(&s, "acme", new_token, "/Users").await, 200);
    let overview = admin.get("/t/acme/console/directory").await;
    assert!(!overview.body.contains(new_token), "shown once");
    assert!(
        overview.body.contains("Entra &#60;prod&#62;")
            || overview.body.contains("Entra &lt;prod&gt;")
    );

    // Revoked after the confirmation: refused from then on.
    let done = admin.post_form(&revoke, &[("csrf", csrf)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(scim_get(&s, "acme", &token, "/Users").await, 401);
    assert_eq!(admin.get(&revoke).await.status, 404, "already revoked");

    // Settings: saved; a bad value refused with its error; only the owner lets directories
    // manage administrators.
    let settings = "/t/acme/console/directory/settings";
    let done = admin
        .post_form(
            settings,
            &[
                ("csrf", csrf),
                ("delete_action", "anonymise"),
                ("unique_emails", "on"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, v) = s.get("/scim/settings").await;
    assert_eq!(v["delete_action"], "anonymise");
    assert_eq!(v["unique_emails"], true);
    let page = admin
        .post_form(settings, &[("csrf", csrf), ("delete_action", "explode")])
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("aria-describedby=\"e-settings\""));
    let page = admin
        .post_form(
            settings,
            &[
                ("csrf", csrf),
                ("delete_action", "anonymise"),
                ("manage_administrators", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    let (_, v) = s.get("/scim/settings").await;
    assert_eq!(v["manage_administrators"], false);
    let (_, owner, owner_csrf) = people.iter().find(|(w, _, _)| *w == Who::Owner).unwrap();
    let done = owner
        .post_form(
            settings,
            &[
                ("csrf", owner_csrf),
                ("delete_action", "deactivate"),
                ("manage_administrators", "on"),
                ("unique_emails", "on"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, v) = s.get("/scim/settings").await;
    assert_eq!(v["manage_administrators"], true);
    assert_eq!(v["delete_action"], "deactivate");
}

async fn another_tenants_directory_is_out_of_reach(b: Backend) {
    let s = TestServer::start(b).await;
    let globex = s.other_tenant("globex").await;
    let (st, v) = s
        .call_as(
            &globex,
            Method::POST,
            &format!("{}/t/globex/api/v1/scim/tokens", s.base),
            Some(json!({"name": "Globex directory"})),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (gid, gtoken) = (
        v["id"].as_str().unwrap().to_owned(),
        v["token"].as_str().unwrap().to_owned(),
    );
    assert_eq!(scim_get(&s, "globex", &gtoken, "/Users").await, 200);
    crate::console_apps::holder(&s, "admin@acme.test", "administrator").await;
    let admin = signed_in(&s, "admin@acme.test").await;
    let page = admin.get("/t/acme/console/directory").await;
    assert!(!page.body.contains("Globex directory"));
    let csrf = hidden(&page.body, "csrf").unwrap();
    let url = format!("/t/acme/console/directory/tokens/{gid}/revoke");
    assert_eq!(admin.get(&url).await.status, 404);
    assert_eq!(admin.post_form(&url, &[("csrf", &csrf)]).await.status, 404);
    assert_eq!(scim_get(&s, "globex", &gtoken, "/Users").await, 200);
    let requests = admin.get("/t/acme/console/directory/requests").await;
    assert!(
        requests.body.contains("No SCIM request"),
        "{}",
        requests.body
    );
}

backends!(
    scim_requests_are_logged_with_their_outcome,
    directory_is_managed_by_exactly_who_may,
    another_tenants_directory_is_out_of_reach,
);
