//! Invitations by mail (issue 15): with a mail server configured, inviting writes the mail to the
//! outbox in the same transaction as the link (the link is never returned to the sender), the
//! mail arrives in the person's language with a working link, the invitation's state follows
//! the mail's delivery, and a resend's mail carries a new link while the old one stops working.

use crate::common::{Backend, TestServer};
use crate::sink::{Sink, header, part};
use crate::{backends, worker};
use serde_json::{Value, json};

backends!(an_invitation_is_mailed_with_a_working_link_and_its_delivery_shows,);

/// The link page URL in a mail's plain-text part.
fn link_in(text: &str) -> String {
    let start = text.find("http").expect("a link in the mail");
    text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(['.', ')', '>'])
        .to_owned()
}

async fn page(s: &TestServer, url: &str) -> (u16, String) {
    let res = s.client.get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn an_invitation_is_mailed_with_a_working_link_and_its_delivery_shows(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    let url = sink.url();
    let s = TestServer::start_with(b, |c| c.smtp_url = url.clone()).await;
    let (st, u) = s
        .post(
            "/users",
            json!({"email": "ines@acme.test", "locale": "fr", "given_name": "Inès <b>",
                   "invite": true}),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let id = u["id"].as_str().unwrap().to_owned();
    let inv: &Value = &u["invitation"];
    assert_eq!(inv["last_delivery"], "queued", "{u}");
    assert!(
        inv.get("link").is_none(),
        "a mailed link is never shown: {u}"
    );
    let (_, state) = s.get(&format!("/users/{id}/invitation")).await;
    assert_eq!(state["last_delivery"], "queued", "{state}");
    assert_eq!(state["status"], "pending");

    // The worker sends it: in French, the link working.
    let w = worker(&s.store, &sink.url(), 60);
    assert_eq!(w.tick().await.unwrap(), 1);
    let got = sink.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    assert_eq!(header(&got[0], "To"), "ines@acme.test");
    let text = part(&got[0], "text/plain");
    let html = part(&got[0], "text/html");
    assert!(
        !html.contains("Inès <b>"),
        "escaped in the HTML part: {html}"
    );
    let first = link_in(text);
    assert!(first.contains("/t/acme/setup?link="), "{first}");
    let (st, body) = page(&s, &first).await;
    assert_eq!(st, 200, "{body}");
    assert!(
        body.contains("<html lang=\"fr\">"),
        "the page in her language"
    );
    let (_, state) = s.get(&format!("/users/{id}/invitation")).await;
    assert_eq!(state["last_delivery"], "sent", "{state}");

    // Resent: a new mail with a new link; the first stops working.
    let (st, again) = s.post(&format!("/users/{id}/invitation"), json!({})).await;
    assert_eq!(st, 201, "{again}");
    assert_eq!(again["times_sent"], 2);
    assert!(again.get("link").is_none(), "{again}");
    assert_eq!(w.tick().await.unwrap(), 1);
    let got = sink.wait_for(2, 10).await;
    assert_eq!(got.len(), 2);
    // (The sink's order is not the order of arrival: take the link that is not the first.)
    let links: Vec<String> = got.iter().map(|m| link_in(part(m, "text/plain"))).collect();
    assert!(links.contains(&first), "{links:?}");
    let second = links
        .into_iter()
        .find(|l| *l != first)
        .expect("a new link in the second mail");
    assert_eq!(page(&s, &first).await.0, 410, "the old link is dead");
    assert_eq!(page(&s, &second).await.0, 200);
    // Nothing else was sent, and the audit log never holds a link.
    assert_eq!(w.tick().await.unwrap(), 0);
    let (_, audit) = s.get(&format!("/audit?target_id={id}")).await;
    assert!(!audit.to_string().contains("link="), "{audit}");
}
