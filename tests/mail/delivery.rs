//! What arrives: headers, both parts, a working link; the log when SMTP is not configured;
//! delivery status in the admin API.

use crate::common::{Backend, TestServer};
use crate::sink::{Sink, header, part};
use crate::{backends, worker};
use castellan::domain::audit::Actor;
use castellan::domain::secrets::{hash_secret, new_secret};
use castellan::mail::{self, MailKind, Recipient, Vars};
use reqwest::StatusCode;

backends!(
    invitation_arrives_with_headers_both_parts_and_a_working_link,
    without_smtp_mail_is_logged_and_nothing_fails,
);

/// Issues the owner's set-up link of `acme` with its mail (one transaction); the link.
pub async fn link_with_mail(server: &TestServer) -> String {
    let tenant = server.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let owner_id = tenant.owner_user_id.clone().unwrap();
    let owner = server
        .store
        .get_user(&tenant.id, &owner_id)
        .await
        .unwrap()
        .unwrap();
    let secret = new_secret("");
    let link = format!("{}/t/acme/setup?link={secret}", server.base);
    let mut vars = Vars::new();
    vars.insert("link", link.clone());
    vars.insert("days", "7".into());
    let m = mail::compose(
        &server.store,
        &tenant,
        Recipient::of(&owner),
        MailKind::Invitation,
        vars,
    )
    .await
    .unwrap();
    server
        .store
        .issue_user_link_with_mail(
            &tenant.id,
            &owner_id,
            "owner_setup",
            &hash_secret(&secret),
            3_600_000,
            Some(&m),
            &Actor::system(),
        )
        .await
        .unwrap();
    link
}

async fn invitation_arrives_with_headers_both_parts_and_a_working_link(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let server = TestServer::start(b).await;
    let sink = Sink::start(0).await;
    let link = link_with_mail(&server).await;
    let (s, v) = server.get("/mail?status=pending").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["items"].as_array().unwrap().len(),
        1,
        "written with the link: {v}"
    );
    let w = worker(&server.store, &sink.url(), 60);
    assert_eq!(w.tick().await.unwrap(), 1);
    let got = sink.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(header(m, "From"), "Castellan <noreply@castellan.test>");
    assert_eq!(header(m, "To"), "owner@acme.test");
    assert_eq!(header(m, "Subject"), "You are invited to Acme");
    assert!(header(m, "Message-ID").ends_with("@castellan>"));
    assert!(!header(m, "Date").is_empty());
    assert_eq!(m["content_type"], "multipart/alternative");
    assert_eq!(m["envelope_to"][0], "owner@acme.test");
    let text = part(m, "text/plain");
    let html = part(m, "text/html");
    assert!(text.contains(&link), "{text}");
    assert!(html.contains(&link.replace('&', "&amp;")), "{html}");
    // The link in the mail works: it opens the set-up page.
    let found = text
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap();
    let page = reqwest::get(found).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("password"));
    // Delivery status: sent, one attempt, the same Message-ID.
    let (_, v) = server.get("/mail?recipient=owner@acme.test").await;
    let rec = &v["items"][0];
    assert_eq!(rec["status"], "sent", "{v}");
    assert_eq!(rec["attempts"], 1);
    assert_eq!(rec["message_id"], header(m, "Message-ID"));
    assert!(rec["sent_at"].is_string());
    let (s, one) = server
        .get(&format!("/mail/{}", rec["id"].as_str().unwrap()))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one, *rec);
    // Nothing is sent twice.
    assert_eq!(w.tick().await.unwrap(), 0);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1);
}

async fn without_smtp_mail_is_logged_and_nothing_fails(b: Backend) {
    let server = TestServer::start(b).await;
    link_with_mail(&server).await;
    let w = worker(&server.store, "", 60);
    assert_eq!(w.tick().await.unwrap(), 1);
    let (_, v) = server.get("/mail").await;
    assert_eq!(v["items"][0]["status"], "logged", "{v}");
    assert_eq!(v["items"][0]["last_error"], serde_json::Value::Null);
    assert_eq!(w.tick().await.unwrap(), 0);
}
