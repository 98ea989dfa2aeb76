//! "Forgot password" in Chromium (issue 15): the person asks on the sign-in page, the mail goes
//! through a real SMTP server (the aiosmtpd sink, delivered by the outbox worker running beside
//! the server), the journey reads the link from the received mail, sets a new password and
//! signs in with it.

use crate::app::App;
use crate::common::{Backend, TestServer};
use crate::sink::Sink;
use crate::{chromium, input};
use castellan::mail::worker::Worker;
use castellan::mail::{Delivery, transport::Transport};
use std::sync::Arc;

/// The worker's task, stopped when the test ends (also when it fails).
struct Delivering(tokio::task::JoinHandle<()>);

impl Drop for Delivering {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn a_person_resets_a_forgotten_password_from_the_mail(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    let url = sink.url();
    let s = TestServer::start_localhost_with(b, |c| c.smtp_url = url.clone()).await;
    let app = App::start(&s).await;
    let id = crate::user_with_password(&s, "ada@acme.test").await;
    // Active (an invited user gets no reset link: their invitation is their way in).
    let (st, v) = s
        .post(&format!("/users/{id}/activate"), serde_json::json!({}))
        .await;
    assert!(st.is_success(), "{v}");
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
    let mut input = input(&s, &app, "ada@acme.test", "");
    input["password"] = "a passphrase chosen from the mail".into();
    input["sink_dir"] = sink.dir.display().to_string().into();
    chromium::run(&tools, "forgot_password", input).await;
    drop(delivering);
    let (_, log) = s.get("/audit?action=user.password.reset").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
}

crate::backends!(a_person_resets_a_forgotten_password_from_the_mail);
