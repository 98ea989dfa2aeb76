//! The outbox keeps its promises: an SMTP server that is down gets the mail once it is up
//! (backoff between attempts); a worker that dies mid-send loses its lease and the mail goes
//! out once; replicas sharing one database send every mail exactly once.

use crate::common::{Backend, TestDb, TestServer};
use crate::delivery::link_with_mail;
use crate::sink::{Sink, free_port, header};
use crate::{backends, worker};
use castellan::domain::clock::now_ms;
use castellan::domain::mail::MailStatus;
use castellan::domain::sealing::MasterKey;
use castellan::mail::{MailKind, OutgoingMail};
use castellan::store::Store;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

backends!(
    smtp_down_then_up_is_retried_with_backoff_and_delivered_once,
    a_sender_that_dies_mid_send_loses_its_lease,
    replicas_send_each_mail_exactly_once,
);

async fn smtp_down_then_up_is_retried_with_backoff_and_delivered_once(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let server = TestServer::start(b).await;
    let port = free_port();
    let w = worker(&server.store, &format!("smtp://127.0.0.1:{port}"), 60);
    link_with_mail(&server).await;
    // Nothing listens: the attempt fails and the mail waits.
    assert_eq!(w.tick().await.unwrap(), 1);
    let (_, v) = server.get("/mail").await;
    let rec = v["items"][0].clone();
    assert_eq!(rec["status"], "pending", "{v}");
    assert_eq!(rec["attempts"], 1);
    assert!(rec["last_error"].as_str().unwrap().len() > 3, "{rec}");
    // Backoff: not due again at once.
    assert_eq!(w.tick().await.unwrap(), 0, "retried before its time");
    let sink = Sink::start(port).await;
    let mut sent = false;
    for _ in 0..60 {
        w.tick().await.unwrap();
        let (_, v) = server.get("/mail").await;
        if v["items"][0]["status"] == "sent" {
            assert_eq!(v["items"][0]["attempts"], 2, "{v}");
            assert_eq!(v["items"][0]["last_error"], serde_json::Value::Null);
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sent, "delivered once the server is up");
    for _ in 0..5 {
        w.tick().await.unwrap();
    }
    let got = sink.wait_for(2, 1).await;
    assert_eq!(got.len(), 1, "delivered once");
}

async fn a_sender_that_dies_mid_send_loses_its_lease(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let server = TestServer::start(b).await;
    let sink = Sink::start(0).await;
    link_with_mail(&server).await;
    // A replica claims the mail, then dies before sending (its claim is never settled).
    let dead = server.store.claim_mail(1_000, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    let w = worker(&server.store, &sink.url(), 60);
    assert_eq!(w.tick().await.unwrap(), 0, "the lease still holds the mail");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(w.tick().await.unwrap(), 1, "the lease ran out: due again");
    let got = sink.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    // The dead replica's late word changes nothing.
    let late = &dead[0];
    assert!(
        !server
            .store
            .mail_delivered(&late.id, &late.claim, MailStatus::Sent)
            .await
            .unwrap()
    );
    assert!(
        !server
            .store
            .mail_attempt_failed(&late.id, &late.claim, "x", Some(now_ms()))
            .await
            .unwrap()
    );
    assert_eq!(w.tick().await.unwrap(), 0);
    let (_, v) = server.get("/mail").await;
    assert_eq!(v["items"][0]["status"], "sent");
    assert_eq!(v["items"][0]["attempts"], 2);
}

/// Four replicas (each its own connection pool on one database) and 120 mails: every mail
/// arrives exactly once (counted by Message-ID), and the outbox says sent for each.
async fn replicas_send_each_mail_exactly_once(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    const MAILS: usize = 120;
    let db = TestDb::new(b).await;
    let key = MasterKey::generate_text();
    let open = || async {
        Store::connect(&db.url)
            .await
            .unwrap()
            .unlock(MasterKey::parse(&key).unwrap())
            .await
            .unwrap()
    };
    let first = open().await;
    let (tenant, _) = castellan::cli::create_tenant(&first, "acme", "Acme", "owner@acme.test")
        .await
        .unwrap();
    for i in 0..MAILS {
        first
            .enqueue_mail(&OutgoingMail {
                tenant: tenant.id.clone(),
                user: None,
                to: format!("person{i}@acme.test"),
                kind: MailKind::Notification,
                locale: "en",
                subject: format!("Message {i}"),
                text: format!("Text {i}"),
                html: format!("<p>Text {i}</p>"),
                headers: BTreeMap::new(),
            })
            .await
            .unwrap();
    }
    let sink = Sink::start(0).await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = open().await;
        let mut w = worker(&store, &sink.url(), 60);
        w.delivery.batch = 7;
        tasks.push(tokio::spawn(async move {
            let mut handled = 0;
            loop {
                let n = w.tick().await.unwrap();
                handled += n;
                if n == 0 {
                    return handled;
                }
            }
        }));
    }
    let mut handled = 0;
    for t in tasks {
        handled += t.await.unwrap();
    }
    assert_eq!(handled, MAILS, "each mail claimed once");
    sink.wait_for(MAILS, 30).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = sink.messages();
    let mut ids: HashMap<String, usize> = HashMap::new();
    for m in &got {
        *ids.entry(header(m, "Message-ID").to_string()).or_default() += 1;
    }
    assert_eq!(got.len(), MAILS, "{} received", got.len());
    assert_eq!(ids.len(), MAILS);
    assert!(ids.values().all(|n| *n == 1));
    let sent = first
        .list_mail(&tenant.id, None, Some(MailStatus::Sent), 1000)
        .await
        .unwrap();
    assert_eq!(sent.len(), MAILS);
    assert!(sent.iter().all(|m| m.attempts == 1));
}
