//! The outbox's promises with real processes (issue 15): `castellan serve` killed with SIGKILL
//! and started again, and two servers on one PostgreSQL database.
//!
//! What the worker guarantees (src/mail/worker.rs, src/store/backend/mail.rs): a mail is written
//! in the transaction of the change that causes it, so once the API answered it is in the
//! database and survives any kill. A worker claims a batch under a lease (`claimed_until`,
//! `claim`), sends each message, then records it `sent` under its claim. A process killed
//! before the SMTP server accepted a message (refused connection, DATA unanswered) leaves the
//! message pending; once the lease runs out any replica sends it, and it arrives once. A
//! process killed after the server answered `250` but before `sent` was committed leaves the
//! same state, so the message is sent again: at the SMTP level delivery is at-least-once, and
//! the second copy carries the same Message-ID (set at enqueue time) for the receiver to
//! recognise. The tests below prove each case, including that duplicate.

use crate::common::{Backend, TestDb};
use crate::process::{Castellan, Setup};
use crate::sink::{Sink, free_port, header};
use castellan::domain::sealing::MasterKey;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

crate::backends!(
    killed_before_sending_sends_each_mail_once_after_restart,
    killed_while_the_server_holds_data_sends_it_once_after_restart,
    killed_after_the_server_accepted_sends_a_second_copy_with_the_same_message_id,
);

async fn setup(b: Backend, lease_secs: u64) -> (TestDb, Setup) {
    let db = TestDb::new(b).await;
    let dir = std::env::temp_dir().join(format!(
        "castellan-restart-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(path) = db.url.strip_prefix("sqlite:") {
        std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
    }
    let setup = Setup {
        database_url: db.url.clone(),
        master_key: MasterKey::generate_text(),
        lease_secs,
        dir,
    };
    (db, setup)
}

/// The invitations of an outbox.
fn invitations(outbox: &[Value]) -> Vec<&Value> {
    outbox
        .iter()
        .filter(|m| m["kind"] == "invitation")
        .collect()
}

/// Each received message's Message-ID and how often it came; each recipient's count too.
fn counts(got: &[Value]) -> (HashMap<String, usize>, HashMap<String, usize>) {
    let (mut ids, mut to) = (HashMap::new(), HashMap::new());
    for m in got {
        *ids.entry(header(m, "Message-ID").to_string()).or_default() += 1;
        *to.entry(header(m, "To").to_string()).or_default() += 1;
    }
    (ids, to)
}

/// Waits (up to `secs`) until `sink` has at least `n` messages, then a little longer for any
/// extra copy; the messages.
async fn settle(sink: &Sink, n: usize, secs: u64) -> Vec<Value> {
    sink.wait_for(n, secs).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sink.messages()
}

/// Nothing listens where mail goes: five invitations wait in the outbox (attempted, failed,
/// pending); the server is killed; started again with the SMTP server up, it sends each once.
async fn killed_before_sending_sends_each_mail_once_after_restart(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let (_db, setup) = setup(b, 2).await;
    let port = free_port();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let mut first = setup.serve(&smtp);
    let token = first.token.clone().expect("the first start prints a token");
    for i in 0..5 {
        first.invite(&token, &format!("person{i}@acme.test")).await;
    }
    // Committed, and tried at least once against the closed port.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let outbox = first.outbox(&token).await;
    let waiting = invitations(&outbox);
    assert_eq!(waiting.len(), 5, "{outbox:?}");
    assert!(
        waiting.iter().all(|m| m["status"] == "pending"),
        "{outbox:?}"
    );
    assert!(
        waiting.iter().any(|m| m["attempts"].as_i64() >= Some(1)),
        "the worker tried: {outbox:?}"
    );
    first.kill();

    let sink = Sink::start(port).await;
    let second = setup.serve(&smtp);
    assert!(second.token.is_none(), "a restart bootstraps nothing");
    let got = settle(&sink, 5, 30).await;
    let (ids, to) = counts(&got);
    assert_eq!(got.len(), 5, "each mail once: {to:?}");
    assert_eq!(ids.len(), 5);
    for i in 0..5 {
        assert_eq!(to.get(&format!("person{i}@acme.test")), Some(&1), "{to:?}");
    }
    let outbox = second.all_sent(&token, 10).await;
    let sent = invitations(&outbox);
    assert!(sent.iter().all(|m| m["status"] == "sent"), "{outbox:?}");
    let stored: Vec<&str> = sent
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert!(stored.iter().all(|id| ids.contains_key(*id)), "{stored:?}");
}

/// The SMTP server has the message but never answers its DATA: the server is killed in the
/// middle of the conversation. Started again (against a working SMTP server), it waits for the
/// dead process's lease, then sends the mail once; the first server never accepted it.
async fn killed_while_the_server_holds_data_sends_it_once_after_restart(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let (_db, setup) = setup(b, 3).await;
    let stalling = Sink::start_mode(0, "stall-data").await;
    let mut first = setup.serve(&stalling.url());
    let token = first.token.clone().unwrap();
    first.invite(&token, "inflight@acme.test").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while stalling.stalled() == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stalling.stalled(), 1, "the message is in flight");
    first.kill();

    let sink = Sink::start(0).await;
    let second = setup.serve(&sink.url());
    let got = settle(&sink, 1, 30).await;
    assert_eq!(got.len(), 1, "sent once after the lease ran out");
    assert_eq!(header(&got[0], "To"), "inflight@acme.test");
    assert!(stalling.messages().is_empty(), "never accepted there");
    let outbox = second.all_sent(&token, 10).await;
    let mail = invitations(&outbox)[0];
    assert_eq!(mail["status"], "sent", "{mail}");
    assert_eq!(mail["attempts"], 2, "the killed attempt counts: {mail}");
    assert_eq!(
        mail["message_id"].as_str(),
        Some(header(&got[0], "Message-ID"))
    );
}

/// The honest limit: the SMTP server accepted the message (`250`) and the server is killed
/// before it recorded `sent` (here: while it waits for the answer to QUIT). The outbox cannot
/// know the message went out, so after the lease the restarted server sends it again; the copy
/// has the same Message-ID, so a receiver can tell it is the same message.
async fn killed_after_the_server_accepted_sends_a_second_copy_with_the_same_message_id(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let (_db, setup) = setup(b, 3).await;
    let stalling = Sink::start_mode(0, "stall-quit").await;
    let mut first = setup.serve(&stalling.url());
    let token = first.token.clone().unwrap();
    first.invite(&token, "accepted@acme.test").await;
    let accepted = stalling.wait_for(1, 20).await;
    assert_eq!(accepted.len(), 1, "accepted by the first SMTP server");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let outbox = first.outbox(&token).await;
    assert_eq!(
        invitations(&outbox)[0]["status"],
        "pending",
        "not recorded yet"
    );
    first.kill();

    let sink = Sink::start(0).await;
    let second = setup.serve(&sink.url());
    let got = settle(&sink, 1, 30).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        header(&got[0], "Message-ID"),
        header(&accepted[0], "Message-ID"),
        "the second copy is recognisably the same message"
    );
    let outbox = second.all_sent(&token, 10).await;
    assert_eq!(invitations(&outbox)[0]["status"], "sent");
    assert_eq!(invitations(&outbox)[0]["attempts"], 2);
}

/// Two servers on one PostgreSQL database and one SMTP server; 40 invitations, half made
/// through each: each mail arrives exactly once, and the outbox says sent, first attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_send_each_mail_once() {
    if Sink::available().is_none() {
        return;
    }
    const MAILS: usize = 40;
    let (_db, setup) = setup(Backend::Postgres, 60).await;
    let sink = Sink::start(0).await;
    let a = setup.serve(&sink.url());
    let b = setup.serve(&sink.url());
    let token = a.token.clone().or(b.token.clone()).expect("one bootstraps");
    let servers: [&Castellan; 2] = [&a, &b];
    let made = futures_join(servers, &token, MAILS).await;
    assert_eq!(made, MAILS);
    let got = settle(&sink, MAILS, 60).await;
    let (ids, to) = counts(&got);
    assert_eq!(got.len(), MAILS, "{} received", got.len());
    assert_eq!(ids.len(), MAILS);
    assert_eq!(to.len(), MAILS);
    assert!(to.values().all(|n| *n == 1), "{to:?}");
    let outbox = b.all_sent(&token, 10).await;
    let sent = invitations(&outbox);
    assert_eq!(sent.len(), MAILS);
    assert!(
        sent.iter()
            .all(|m| m["status"] == "sent" && m["attempts"] == 1),
        "{outbox:?}"
    );
}

/// Two servers on one PostgreSQL database; 40 invitations wait while the SMTP server is down;
/// it comes up and one server is killed with SIGKILL while the mail flows. Nothing is lost:
/// every mail arrives, the messages the dead server had claimed go out once its lease ran out,
/// and at most the one it was sending at the kill arrives twice (same Message-ID).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_while_delivering_loses_no_mail() {
    if Sink::available().is_none() {
        return;
    }
    const MAILS: usize = 40;
    let (_db, setup) = setup(Backend::Postgres, 3).await;
    let port = free_port();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let mut a = setup.serve(&smtp);
    let b = setup.serve(&smtp);
    let token = a.token.clone().or(b.token.clone()).expect("one bootstraps");
    assert_eq!(futures_join([&a, &b], &token, MAILS).await, MAILS);
    let outbox = b.outbox(&token).await;
    let waiting = invitations(&outbox);
    assert_eq!(waiting.len(), MAILS);
    assert!(
        waiting.iter().all(|m| m["status"] == "pending"),
        "{outbox:?}"
    );

    let sink = Sink::start(port).await;
    sink.wait_for(3, 30).await;
    a.kill();
    let killed_at = sink.messages().len();
    let got = settle(&sink, MAILS, 60).await;
    eprintln!(
        "killed after {killed_at} deliveries; {} messages for {MAILS} mails",
        got.len()
    );
    let (ids, to) = counts(&got);
    assert_eq!(
        ids.len(),
        MAILS,
        "every mail arrived: {} of {MAILS}",
        ids.len()
    );
    assert_eq!(to.len(), MAILS);
    assert!(
        got.len() <= MAILS + 1,
        "at most the message in flight at the kill twice: {} received",
        got.len()
    );
    let outbox = b.all_sent(&token, 10).await;
    assert!(
        invitations(&outbox).iter().all(|m| m["status"] == "sent"),
        "{outbox:?}"
    );
}

/// Makes `n` invitations, alternately through each server, eight at a time; how many.
async fn futures_join(servers: [&Castellan; 2], token: &str, n: usize) -> usize {
    let emails: Vec<String> = (0..n).map(|i| format!("replica{i}@acme.test")).collect();
    let mut made = 0;
    for (c, chunk) in emails.chunks(8).enumerate() {
        let calls = chunk
            .iter()
            .enumerate()
            .map(|(i, email)| servers[(c * 8 + i) % 2].invite(token, email));
        made += futures_util::future::join_all(calls).await.len();
    }
    made
}
