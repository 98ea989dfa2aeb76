//! Account email against a real SMTP server (issue 15): "forgot password" mails a reset link
//! that works once and is followed by the mandatory "password changed" notification; an address
//! change mails its link to the new address and, once confirmed, tells the old address; each
//! mail in the person's language, with both parts; a non-ASCII new address goes out with
//! SMTPUTF8 (RFC 6531), which the sink offers as real servers do.

use crate::common::{Backend, TestServer};
use crate::sink::{Sink, header, part};
use crate::{backends, worker};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

backends!(
    a_forgotten_password_is_reset_from_the_mail,
    an_address_change_is_confirmed_from_the_mail_and_told_to_the_old_address,
);

const PASSWORD: &str = "correct horse battery";

/// A cookie-keeping client that does not follow redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The value of the hidden field `name` of a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("the field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// GETs `url`, then posts `form` with the page's CSRF token to `action`: the answer.
async fn post_form(
    b: &reqwest::Client,
    s: &TestServer,
    url: &str,
    action: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let page = b.get(format!("{}{url}", s.base)).send().await.unwrap();
    assert_eq!(page.status(), 200, "{url}");
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(form);
    let res = b
        .post(format!("{}{action}", s.base))
        .form(&all)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The path of the link in a mail's plain-text part.
fn link_path(s: &TestServer, text: &str) -> String {
    let start = text.find("http").expect("a link in the mail");
    let url = text[start..].split_whitespace().next().unwrap();
    url.strip_prefix(&s.public_url).unwrap().to_owned()
}

/// Runs the worker until `n` messages arrived (the reset request is handled by a task).
async fn delivered(s: &TestServer, sink: &Sink, n: usize) -> Vec<Value> {
    let w = worker(&s.store, &sink.url(), 60);
    for _ in 0..100 {
        w.tick().await.unwrap();
        if sink.messages().len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    sink.wait_for(n, 10).await
}

async fn user(s: &TestServer, email: &str, locale: &str) -> String {
    let (st, u) = s
        .post(
            "/users",
            json!({"email": email, "status": "active", "email_verified": true,
                   "given_name": "Zoë <b>", "locale": locale}),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let id = u["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .put(
            &format!("/users/{id}/password"),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    id
}

async fn a_forgotten_password_is_reset_from_the_mail(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    let url = sink.url();
    let s = TestServer::start_with(b, |c| c.smtp_url = url.clone()).await;
    user(&s, "zoe@acme.test", "fr").await;
    let b = browser();
    let (st, body) = post_form(
        &b,
        &s,
        "/t/acme/forgot",
        "/t/acme/forgot",
        &[("email", "zoe@acme.test")],
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let got = delivered(&s, &sink, 1).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(header(m, "To"), "zoe@acme.test");
    assert!(header(m, "Subject").contains("Réinitialisez"), "{m}");
    let (text, html) = (part(m, "text/plain"), part(m, "text/html"));
    assert!(text.contains("30 minutes"), "{text}");
    assert!(!html.contains("Zoë <b>"), "escaped: {html}");
    let path = link_path(&s, text);
    assert!(path.starts_with("/t/acme/reset?link="), "{path}");
    assert!(
        html.contains(&path.replace('&', "&amp;")),
        "the link in both parts"
    );

    let new = "a new passphrase from the mail";
    let form = [
        ("password", new),
        ("confirm", new),
        ("link", path.split("link=").nth(1).unwrap()),
    ];
    let (st, body) = post_form(&b, &s, &path, "/t/acme/reset", &form).await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("<html lang=\"fr\">"), "in her language");
    let gone = b.get(format!("{}{path}", s.base)).send().await.unwrap();
    assert_eq!(gone.status(), 410, "used");

    // The mandatory notification follows, to the same address.
    let got = delivered(&s, &sink, 2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    let told = got
        .iter()
        .find(|m| part(m, "text/plain").contains("Your password was reset"))
        .expect("the password notification");
    assert_eq!(header(told, "To"), "zoe@acme.test");
    assert!(
        sink_headers_lack_unsubscribe(told),
        "a mandatory notification has no unsubscribe"
    );
}

fn sink_headers_lack_unsubscribe(m: &Value) -> bool {
    crate::sink::headers(m, "List-Unsubscribe").is_empty()
}

async fn an_address_change_is_confirmed_from_the_mail_and_told_to_the_old_address(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    let url = sink.url();
    let s = TestServer::start_with(b, |c| c.smtp_url = url.clone()).await;
    let id = user(&s, "old@acme.test", "de").await;
    let b = browser();
    let form = [("email", "old@acme.test"), ("password", PASSWORD)];
    let (st, body) = post_form(&b, &s, "/t/acme/login", "/t/acme/login", &form).await;
    assert_eq!(st, 303, "signed in: {body}");
    let page = "/t/acme/account/email";
    let form = [("email", "zoë@exämple.test"), ("current", PASSWORD)];
    let (st, body) = post_form(&b, &s, page, page, &form).await;
    assert_eq!(st, 303, "{body}");

    let got = delivered(&s, &sink, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(header(&got[0], "To"), "zoë@exämple.test");
    assert!(
        header(&got[0], "Subject").contains("Bestätigen"),
        "{}",
        got[0]
    );
    let path = link_path(&s, part(&got[0], "text/plain"));
    assert!(path.starts_with("/t/acme/confirm-email?link="), "{path}");
    let other = browser();
    let link = path.split("link=").nth(1).unwrap().to_owned();
    let (st, body) = post_form(
        &other,
        &s,
        &path,
        "/t/acme/confirm-email",
        &[("link", &link)],
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let (_, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(u["email"], "zoë@exämple.test", "{u}");

    let got = delivered(&s, &sink, 2).await;
    let told = got
        .iter()
        .find(|m| header(m, "To") == "old@acme.test")
        .expect("the old address is told");
    assert!(part(told, "text/plain").contains("zoë@exämple.test"));
    assert!(header(told, "Subject").contains("geändert"), "{told}");
    // Nothing else: the change's notification is that mail, not another to the new address.
    let w = worker(&s.store, &sink.url(), 60);
    w.tick().await.unwrap();
    assert_eq!(w.tick().await.unwrap(), 0);
    assert_eq!(sink.wait_for(3, 1).await.len(), 2);
}
