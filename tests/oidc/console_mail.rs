//! The console's mail page over HTTP: each message's delivery status, filtered by recipient
//! and status, hostile subjects escaped, bad filters said on the page; only holders of
//! `users.read` see it, and only their tenant's mail.

use crate::backends;
use crate::browser::{Browser, PASSWORD, user_with_password};
use crate::common::{Backend, TestServer};
use castellan::mail::{MailKind, OutgoingMail};
use serde_json::json;
use std::collections::BTreeMap;

async fn signed_in_as(s: &TestServer, email: &str, template: &str) -> Browser {
    let id = user_with_password(s, email).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let role = s.role_id(template).await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
        .await;
    assert_eq!(st, 201, "{v}");
    let b = Browser::new(s);
    let page = b.sign_in("/t/acme/login", email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    b
}

async fn mail_to(s: &TestServer, tenant: &str, to: &str, subject: &str) {
    let t = s.store.tenant_by_slug(tenant).await.unwrap().unwrap();
    s.store
        .enqueue_mail(&OutgoingMail {
            tenant: t.id,
            user: None,
            to: to.into(),
            kind: MailKind::PasswordReset,
            locale: "en",
            subject: subject.into(),
            text: "secret link".into(),
            html: "<p>secret link</p>".into(),
            headers: BTreeMap::new(),
        })
        .await
        .unwrap();
}

async fn the_mail_page_shows_delivery_status(b: Backend) {
    let s = TestServer::start(b).await;
    mail_to(&s, "acme", "ann@acme.test", "<script>alert(1)</script>").await;
    mail_to(&s, "acme", "bob@acme.test", "Hello Bob").await;
    s.other_tenant("other").await;
    mail_to(&s, "other", "eve@other.test", "Other tenant's").await;
    let admin = signed_in_as(&s, "admin@acme.test", "administrator").await;
    let page = admin.get("/t/acme/console/mail").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("ann@acme.test") && page.body.contains("bob@acme.test"));
    assert!(!page.body.contains("<script>alert(1)"), "escaped");
    assert!(
        !page.body.contains("eve@other.test"),
        "only this tenant's mail"
    );
    assert!(!page.body.contains("secret link"), "never a body");
    assert!(page.body.contains("pending"));
    let one = admin
        .get("/t/acme/console/mail?recipient=bob%40acme.test")
        .await;
    assert!(one.body.contains("Hello Bob") && !one.body.contains("ann@acme.test"));
    let none = admin.get("/t/acme/console/mail?status=sent").await;
    assert!(none.body.contains("No message matches"), "{}", none.body);
    let bad = admin.get("/t/acme/console/mail?status=lost").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("could not be used"));
    assert!(
        admin
            .get("/t/acme/console/users")
            .await
            .body
            .contains("/console/mail")
    );
    // A manager reads only the people they manage: no section, the page refused.
    let manager = signed_in_as(&s, "manager@acme.test", "manager").await;
    assert!(
        !manager
            .get("/t/acme/console/users")
            .await
            .body
            .contains("/console/mail")
    );
    let refused = manager.get("/t/acme/console/mail").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let anon = Browser::new(&s).get("/t/acme/console/mail").await;
    assert_eq!(anon.status, 303);
}

backends!(the_mail_page_shows_delivery_status);
