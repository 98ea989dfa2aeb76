//! Invitations in the console (issue 15): "New user" with "invite" creates the person and shows
//! their link once; an invited user's page shows the invitation's state and offers "Resend
//! invitation" behind a confirmation, to exactly the callers the admin API lets send it
//! (anonymous, no rights, a Manager out of scope or facing someone more powerful: refused,
//! nothing sent). Hostile names are escaped on the page that shows the link.

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

async fn with_role(s: &TestServer, id: &str, template: &str) {
    let role = s.role_id(template).await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
        .await;
    assert_eq!(st, 201, "{v}");
}

async fn person(s: &TestServer, email: &str, template: Option<&str>) -> String {
    let id = user_with_password(s, email).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    if let Some(t) = template {
        with_role(s, &id, t).await;
    }
    id
}

async fn invited(s: &TestServer, email: &str, body: Value) -> String {
    let mut body = body;
    body["email"] = email.into();
    let (st, v) = s.post("/users", body).await;
    assert_eq!(st, 201, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

async fn times_sent(s: &TestServer, id: &str) -> i64 {
    let (st, v) = s.get(&format!("/users/{id}/invitation")).await;
    assert_eq!(st, 200, "{v}");
    v["times_sent"].as_i64().unwrap()
}

/// GETs the confirmation and POSTs it with the page's CSRF token: (GET status, POST page).
async fn resend(b: &Browser, id: &str) -> (u16, crate::browser::Page) {
    let url = format!("/t/acme/console/users/{id}/invite");
    let confirm = b.get(&url).await;
    let csrf = hidden(&confirm.body, "csrf").unwrap_or_default();
    let posted = b.post_form(&url, &[("csrf", &csrf)]).await;
    (confirm.status, posted)
}

/// The link shown on the page after sending.
fn shown_link(body: &str) -> String {
    let marker = "id=\"invitation-link\" class=\"mono\" readonly value=\"";
    let start = body.find(marker).expect("the link is shown") + marker.len();
    let end = body[start..].find('"').unwrap() + start;
    crate::browser::unescape(&body[start..end])
}

async fn resend_is_offered_and_refused_as_the_api_is(b: Backend) {
    let s = TestServer::start(b).await;
    person(&s, "admin@acme.test", Some("administrator")).await;
    let manager = person(&s, "manager@acme.test", Some("manager")).await;
    person(&s, "member@acme.test", None).await;
    let in_scope = invited(&s, "near@acme.test", json!({})).await;
    let out_of_scope = invited(&s, "far@acme.test", json!({})).await;
    let admin_role = s.role_id("administrator").await;
    let powerful = invited(&s, "boss@acme.test", json!({"role_ids": [admin_role]})).await;
    for target in [&in_scope, &powerful] {
        let (st, v) = s
            .post(
                &format!("/users/{manager}/management"),
                json!({"kind": "user", "id": target}),
            )
            .await;
        assert_eq!(st, 201, "{v}");
    }

    // Anonymous: to the sign-in page; nothing sent.
    let anonymous = Browser::new(&s);
    let (st, posted) = resend(&anonymous, &in_scope).await;
    assert_eq!(st, 303);
    assert_ne!(posted.status, 200);
    // No rights: the console says so; nothing sent.
    let member = signed_in(&s, "member@acme.test").await;
    let (_, posted) = resend(&member, &in_scope).await;
    assert!(
        posted.body.contains("No administration rights"),
        "{}",
        posted.body
    );
    // A manager out of scope or facing an administrator: refused.
    let mgr = signed_in(&s, "manager@acme.test").await;
    for (who, b, target) in [
        ("manager out of scope", &mgr, &out_of_scope),
        ("manager over an administrator", &mgr, &powerful),
    ] {
        let (st, posted) = resend(b, target).await;
        assert_eq!(st, 403, "{who}");
        assert_eq!(posted.status, 403, "{who}: {}", posted.body);
    }
    for id in [&in_scope, &out_of_scope, &powerful] {
        assert_eq!(times_sent(&s, id).await, 0, "nothing sent");
    }

    // A manager in scope, an administrator and the owner: the page shows the new link once.
    let admin = signed_in(&s, "admin@acme.test").await;
    let page = admin
        .get(&format!("/t/acme/console/users/{in_scope}"))
        .await;
    assert!(page.body.contains("Invitation"), "{}", page.body);
    assert!(page.body.contains("Not sent yet"), "{}", page.body);
    assert!(
        page.body.contains("/invite\">Resend invitation"),
        "{}",
        page.body
    );
    let mut links = Vec::new();
    for (n, b) in [&mgr, &admin].into_iter().enumerate() {
        let (st, posted) = resend(b, &in_scope).await;
        assert_eq!(st, 200, "{}", posted.body);
        assert_eq!(posted.status, 200, "{}", posted.body);
        assert!(posted.body.contains("previous link no longer works"));
        links.push(shown_link(&posted.body));
        assert_eq!(times_sent(&s, &in_scope).await, n as i64 + 1);
    }
    let person = Browser::new(&s);
    let path = |l: &str| l.strip_prefix(&s.public_url).unwrap().to_owned();
    assert_eq!(person.get(&path(&links[0])).await.status, 410);
    assert_eq!(person.get(&path(&links[1])).await.status, 200);
    let page = admin
        .get(&format!("/t/acme/console/users/{in_scope}"))
        .await;
    assert!(page.body.contains("Pending"), "{}", page.body);
    assert!(
        page.body.contains("Link shown to the sender"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(&links[1]), "shown once");

    // Missing CSRF: refused, nothing sent.
    let url = format!("/t/acme/console/users/{in_scope}/invite");
    let forged = admin.post_form(&url, &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(times_sent(&s, &in_scope).await, 2);

    // An active user is not offered it, and a forged one is refused.
    let (_, owner) = s.get("/owner").await;
    let active = owner["id"].as_str().unwrap();
    let page = admin.get(&format!("/t/acme/console/users/{active}")).await;
    assert!(!page.body.contains("Resend invitation"));
}

async fn new_user_with_invite_shows_the_link_once(b: Backend) {
    let s = TestServer::start(b).await;
    person(&s, "admin@acme.test", Some("administrator")).await;
    let admin = signed_in(&s, "admin@acme.test").await;
    let form = admin.get("/t/acme/console/users/new").await;
    assert!(
        form.body.contains("value=\"invite\" checked"),
        "{}",
        form.body
    );
    let csrf = hidden(&form.body, "csrf").unwrap();
    let hostile = "<img src=x onerror=alert(1)>";
    let made = admin
        .post_form(
            "/t/acme/console/users/new",
            &[
                ("csrf", &csrf),
                ("email", "newbie@acme.test"),
                ("display_name", hostile),
                ("status", "invite"),
            ],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made.body.contains("The user was created and invited."));
    assert!(!made.body.contains(hostile), "escaped");
    assert!(made.body.contains("&#60;img src=x"), "{}", made.body);
    let link = shown_link(&made.body);
    let path = link.strip_prefix(&s.public_url).unwrap();
    let person = Browser::new(&s);
    let page = person.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("newbie@acme.test"));
    let (_, users) = s.get("/users?email_prefix=newbie").await;
    let id = users["items"][0]["id"].as_str().unwrap();
    assert_eq!(users["items"][0]["status"], "invited");
    assert_eq!(times_sent(&s, id).await, 1);
}

backends!(
    resend_is_offered_and_refused_as_the_api_is,
    new_user_with_invite_shows_the_link_once
);
