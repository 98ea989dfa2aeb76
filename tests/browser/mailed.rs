//! Links that come by mail, in Chromium (issue 15): the mail goes through a real SMTP server
//! (the aiosmtpd sink, delivered by the outbox worker running beside the server) and the
//! journey reads the link from the received mail. "Forgot password": asked on the sign-in page,
//! a new password set, then a sign-in with it. An invitation: the person opens the mailed link,
//! chooses a password and lands active and signed in, their address verified by the mail.

use crate::app::App;
use crate::common::{Backend, TestServer};
use crate::sink::Sink;
use crate::{chromium, input};
use castellan::mail::worker::Worker;
use castellan::mail::{Delivery, transport::Transport};
use serde_json::json;
use std::sync::Arc;

/// The worker's task, stopped when the test ends (also when it fails).
struct Delivering(tokio::task::JoinHandle<()>);

impl Drop for Delivering {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A server mailing through `sink`, with a delivery worker running beside it.
async fn mailing_server(b: Backend, sink: &Sink) -> (TestServer, Delivering) {
    let url = sink.url();
    let s = TestServer::start_localhost_with(b, |c| c.smtp_url = url.clone()).await;
    let worker = Worker {
        store: s.store.clone(),
        transport: Arc::new(Transport::new(&sink.url(), None).unwrap()),
        delivery: Delivery {
            poll_ms: 100,
            ..Delivery::default()
        },
        default_from: "Castellan <noreply@castellan.test>".into(),
        public_url: s.public_url.clone(),
    };
    let delivering = Delivering(tokio::spawn(async move {
        loop {
            if let Err(e) = worker.tick().await {
                eprintln!("the mail worker failed: {e}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }));
    (s, delivering)
}

async fn a_person_resets_a_forgotten_password_from_the_mail(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    let (s, _delivering) = mailing_server(b, &sink).await;
    let app = App::start(&s).await;
    let id = crate::user_with_password(&s, "ada@acme.test").await;
    // Active (an invited user gets no reset link: their invitation is their way in).
    let (st, v) = s.post(&format!("/users/{id}/activate"), json!({})).await;
    assert!(st.is_success(), "{v}");
    let mut input = input(&s, &app, "ada@acme.test", "");
    input["password"] = "a passphrase chosen from the mail".into();
    input["sink_dir"] = sink.dir.display().to_string().into();
    chromium::run(&tools, "forgot_password", input).await;
    let (_, log) = s.get("/audit?action=user.password.reset").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
}

async fn an_invited_person_accepts_from_the_mail(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    let (s, _delivering) = mailing_server(b, &sink).await;
    let app = App::start(&s).await;
    let (st, u) = s
        .post("/users", json!({"email": "ines@acme.test", "invite": true}))
        .await;
    assert_eq!(st, 201, "{u}");
    assert!(
        u["invitation"].get("link").is_none(),
        "a mailed link is never shown"
    );
    let mut input = input(&s, &app, "ines@acme.test", "");
    input["password"] = "an invited person's passphrase".into();
    input["sink_dir"] = sink.dir.display().to_string().into();
    chromium::run(&tools, "invitation_from_mail", input).await;
    let id = u["id"].as_str().unwrap();
    let (_, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(u["status"], "active", "{u}");
    assert_eq!(
        u["email_verified"], true,
        "the mailed invitation proves the address: {u}"
    );
    let (_, inv) = s.get(&format!("/users/{id}/invitation")).await;
    assert_eq!(inv["status"], "accepted", "{inv}");
    assert_eq!(inv["last_delivery"], "sent", "{inv}");
}

async fn a_person_changes_their_address_from_the_portal(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    let (s, _delivering) = mailing_server(b, &sink).await;
    let app = App::start(&s).await;
    // Active with an address nobody vouched for: the portal offers to confirm it.
    let (st, u) = s
        .post(
            "/users",
            json!({"email": "ada@acme.test", "status": "active", "given_name": "Ada"}),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let id = u["id"].as_str().unwrap();
    let (st, v) = s
        .put(
            &format!("/users/{id}/password"),
            json!({"password": crate::PASSWORD}),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    let mut input = input(&s, &app, "ada@acme.test", "");
    input["new_email"] = "ada.lovelace@exämple.test".into();
    input["sink_dir"] = sink.dir.display().to_string().into();
    chromium::run(&tools, "email_change", input).await;
    let (_, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(u["email"], "ada.lovelace@exämple.test", "{u}");
    assert_eq!(u["email_verified"], true, "{u}");
}

crate::backends!(
    a_person_resets_a_forgotten_password_from_the_mail,
    an_invited_person_accepts_from_the_mail,
    a_person_changes_their_address_from_the_portal,
);
