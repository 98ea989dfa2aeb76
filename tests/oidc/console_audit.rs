//! The console's audit log over HTTP (issue 14): the entries `GET /audit` gives the same
//! filters, newest first and paged; an actor named by email; bad filters said on the page;
//! only holders of `audit.read` see it, and only their tenant's entries.

use crate::backends;
use crate::browser::{Browser, PASSWORD, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::json;

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

/// The entry ids (`datetime` + action + target) of the audit table, in order.
fn rows(body: &str) -> Vec<String> {
    let Some(start) = body.find("<tbody>") else {
        return vec![];
    };
    body[start..body.find("</tbody>").unwrap()]
        .split("<tr>")
        .skip(1)
        .map(|r| {
            let action = &r[r.find("<code>").unwrap() + 6..r.find("</code>").unwrap()];
            let at = &r[r.find("datetime=\"").unwrap() + 10..];
            format!("{} {action}", &at[..at.find('"').unwrap()])
        })
        .collect()
}

/// The `href` of the link with `rel`.
fn link(body: &str, rel: &str) -> Option<String> {
    let i = body.find(&format!("rel=\"{rel}\""))?;
    let before = &body[..i];
    let h = before.rfind("href=\"")?;
    let rest = &before[h + 6..];
    Some(
        rest[..rest.find('"')?]
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

async fn the_audit_log_filters_and_pages(b: Backend) {
    let s = TestServer::start(b).await;
    let admin_id = person_with_role(&s, "admin@acme.test", "administrator").await;
    person_with_role(&s, "manager@acme.test", "manager").await;
    for i in 0..30 {
        s.create_user(&format!("a{i:02}@acme.test")).await;
    }
    // Another tenant's history stays there.
    let (other, _) = castellan::cli::create_tenant(&s.store, "other", "Other", "boss@other.test")
        .await
        .unwrap();
    let ab = signed_in(&s, "admin@acme.test").await;
    // The admin's own changes, through the console: named by their email.
    let form = ab.get("/t/acme/console/users/new").await;
    let csrf = crate::browser::hidden(&form.body, "csrf").unwrap();
    for i in 0..3 {
        let r = ab
            .post_form(
                "/t/acme/console/users/new",
                &[("csrf", &csrf), ("email", &format!("c{i}@acme.test"))],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }

    let page = ab.get("/t/acme/console/audit").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("aria-current=\"page\">Audit log"),
        "in the navigation"
    );
    let first = rows(&page.body);
    assert_eq!(first.len(), 50, "a page of 50");
    assert!(
        !page.body.contains(other.id.as_str()),
        "no other tenant's entry"
    );
    // The API gives the same first page (newest first), entry for entry.
    let (_, api) = s.get("/audit?limit=50").await;
    let api_rows: Vec<String> = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["at"].as_str().unwrap(),
                e["action"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(first, api_rows);
    // The next page follows on, with nothing shown twice.
    let next = link(&page.body, "next").expect("an older page");
    let second = ab.get(&next).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let second_rows = rows(&second.body);
    assert!(!second_rows.is_empty());
    assert!(second_rows.iter().all(|r| !first.contains(r)));
    assert!(second.body.contains("Newest entries"));

    // By action, by actor (email), by target.
    let by_action = ab.get("/t/acme/console/audit?action=role.assign").await;
    let r = rows(&by_action.body);
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r.iter().all(|x| x.ends_with("role.assign")));
    let by_actor = ab
        .get("/t/acme/console/audit?actor=ADMIN%40acme.test")
        .await;
    let r = rows(&by_actor.body);
    assert!(r.len() >= 3, "{r:?}");
    assert!(by_actor.body.contains("admin@acme.test (console)"));
    assert!(
        !by_actor.body.contains("a05@acme.test"),
        "only the admin's entries"
    );
    let nobody = ab
        .get("/t/acme/console/audit?actor=nobody%40acme.test")
        .await;
    assert_eq!(nobody.status, 200);
    assert!(nobody.body.contains("No entry matches"));
    let by_target = ab
        .get(&format!(
            "/t/acme/console/audit?target_kind=user&target_id={admin_id}"
        ))
        .await;
    let r = rows(&by_target.body);
    assert!(
        !r.is_empty() && r.iter().any(|x| x.ends_with("role.assign")),
        "{r:?}"
    );
    assert!(
        by_target
            .body
            .contains(&format!("href=\"/t/acme/console/users/{admin_id}\""))
    );
    // A time window: the future is empty, the past holds everything.
    let future = ab
        .get("/t/acme/console/audit?since=2999-01-01T00%3A00")
        .await;
    assert!(future.body.contains("No entry matches"));
    let past = ab
        .get("/t/acme/console/audit?since=2000-01-01T00%3A00&until=2999-01-01T00%3A00")
        .await;
    assert_eq!(rows(&past.body).len(), 50);
    // Bad filters are said, not a 500.
    for bad in ["since=yesterday", "until=2024-13-01T00%3A00", "cursor=nope"] {
        let page = ab.get(&format!("/t/acme/console/audit?{bad}")).await;
        assert_eq!(page.status, 400, "{bad}: {}", page.body);
        assert!(page.body.contains("could not be used"), "{bad}");
    }

    // A manager holds no audit.read: no section, and the page is refused.
    let mb = signed_in(&s, "manager@acme.test").await;
    let users = mb.get("/t/acme/console/users").await;
    assert!(!users.body.contains("/console/audit"));
    let refused = mb.get("/t/acme/console/audit").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // Signed out: to the sign-in page.
    let anon = Browser::new(&s).get("/t/acme/console/audit").await;
    assert_eq!(anon.status, 303);
}

backends!(the_audit_log_filters_and_pages);
