//! The administration console over HTTP (issue 14; the browser tests drive it in Chromium):
//! who gets in, and that the user list shows exactly what the admin API would show the same
//! person (a manager sees only their people), searches and pages.

use crate::backends;
use crate::browser::{Browser, PASSWORD, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::json;

/// A signed-in browser of `email`.
async fn signed_in(s: &TestServer, email: &str) -> Browser {
    let b = Browser::new(s);
    let page = b.sign_in("/t/acme/login", email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    b
}

async fn console_shows_each_person_their_scope(b: Backend) {
    let s = TestServer::start(b).await;
    // Not signed in: the console sends people to sign in and back.
    let anonymous = Browser::new(&s);
    let root = anonymous.get("/").await;
    assert_eq!(root.status, 303);
    assert_eq!(root.location.as_deref(), Some("/t/default/console"));
    let page = anonymous.get("/t/acme/console").await;
    assert_eq!(page.location.as_deref(), Some("/t/acme/console/users"));
    let page = anonymous.get("/t/acme/console/users").await;
    assert_eq!(page.status, 303);
    let to = page.location.unwrap();
    assert!(to.starts_with("/t/acme/login?return_to="), "{to}");
    let css = anonymous.get("/static/castellan.css").await;
    assert!(
        css.content_type.starts_with("text/css"),
        "{}",
        css.content_type
    );
    let js = anonymous.get("/static/htmx.min.js").await;
    assert!(js.content_type.starts_with("text/javascript"));

    let admin = user_with_password(&s, "admin@acme.test").await;
    let admin_role = s.role_id("administrator").await;
    let (st, v) = s
        .post(
            &format!("/users/{}/roles", admin["id"].as_str().unwrap()),
            json!({"role_id": admin_role}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let manager = user_with_password(&s, "manager@acme.test").await;
    let manager_id = manager["id"].as_str().unwrap().to_owned();
    let manager_role = s.role_id("manager").await;
    let (st, v) = s
        .post(
            &format!("/users/{manager_id}/roles"),
            json!({"role_id": manager_role}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let plain = user_with_password(&s, "plain@acme.test").await;
    // Names with markup are shown as text.
    let (st, report) = s
        .post(
            "/users",
            json!({"email": "report@acme.test", "display_name": "Zoë <b>Report</b>"}),
        )
        .await;
    assert_eq!(st, 201, "{report}");
    let (st, v) = s
        .post(
            &format!("/users/{manager_id}/management"),
            json!({"kind": "user", "id": report["id"]}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    for i in 0..60 {
        s.create_user(&format!("bulk{i:02}@acme.test")).await;
    }

    // The administrator sees everyone, 50 to a page, and can search.
    let browser = signed_in(&s, "admin@acme.test").await;
    let page = browser.get("/t/acme/console/users").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.content_type.starts_with("text/html"));
    assert_eq!(
        page.body.matches("<tr>").count(),
        1 + 50,
        "a header and 50 rows"
    );
    assert!(page.body.contains("rel=\"next\""), "a next page");
    let report_row = browser.get("/t/acme/console/users?q=report%40").await;
    assert!(
        report_row
            .body
            .contains("Zoë &#60;b&#62;Report&#60;/b&#62;")
            || report_row.body.contains("Zoë &lt;b&gt;Report&lt;/b&gt;"),
        "{}",
        report_row.body
    );
    assert!(!report_row.body.contains("<b>Report</b>"), "escaped");
    let found = browser.get("/t/acme/console/users?q=plain%40").await;
    assert!(found.body.contains("plain@acme.test"), "{}", found.body);
    let created = plain["created_at"].as_str().unwrap();
    assert!(
        found.body.contains(&format!(
            "<time datetime=\"{created}\">{}</time>",
            &created[..10]
        )),
        "the creation instant as the API gives it: {created}"
    );
    assert_eq!(found.body.matches("<tr>").count(), 2);
    let none = browser.get("/t/acme/console/users?q=nobody%40").await;
    assert!(none.body.contains("No user matches"));
    let bad = browser.get("/t/acme/console/users?status=boss").await;
    assert_eq!(bad.status, 400);

    // The manager sees only the person they manage.
    let browser = signed_in(&s, "manager@acme.test").await;
    let page = browser.get("/t/acme/console/users").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("report@acme.test"));
    assert!(!page.body.contains("plain@acme.test"));
    assert!(!page.body.contains("admin@acme.test"));
    assert_eq!(page.body.matches("<tr>").count(), 2);

    // Someone without administration rights is told so.
    let browser = signed_in(&s, "plain@acme.test").await;
    let page = browser.get("/t/acme/console/users").await;
    assert!(
        page.body.contains("No administration rights"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("report@acme.test"));
}

backends!(console_shows_each_person_their_scope);
