//! A directory that changes a user's address over SCIM (PUT as Okta sends it, PATCH as Entra
//! ID and Okta send it): the old address gets the mandatory `security.email_changed` mail,
//! already in the outbox when the SCIM answer arrives (written in the change's transaction),
//! and nothing else is sent. No mail when the address does not change (other fields, only its
//! case), nor for a user who is invited or inactive.

use crate::common::{Backend, TestServer};
use crate::sink::{Sink, header, part};
use crate::{backends, worker};
use serde_json::{Value, json};

backends!(
    a_put_or_patch_of_the_address_tells_the_old_one_once,
    no_mail_without_a_change_or_for_users_not_active,
    concurrent_changes_tell_each_old_address_once,
);

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Directory {
    s: TestServer,
    token: String,
}

impl Directory {
    async fn start(b: Backend, sink: &Sink) -> Self {
        let url = sink.url();
        let s = TestServer::start_with(b, |c| c.smtp_url = url.clone()).await;
        let token = castellan::cli::create_scim_token(&s.store, "acme", "okta")
            .await
            .unwrap();
        Self { s, token }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .s
            .client
            .request(method, format!("{}/t/acme/scim/v2{path}", self.s.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or_default())
    }

    /// An active user made by the directory (Okta's shape); their id.
    async fn user(&self, email: &str, locale: &str) -> String {
        let (st, v) = self
            .send(reqwest::Method::POST, "/Users", okta(email, locale, true))
            .await;
        assert_eq!(st, 201, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    /// The `email_changed` messages of the outbox, as the admin API lists them.
    async fn told(&self) -> Vec<Value> {
        let (_, v) = self.s.get("/mail?limit=1000").await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "email_changed")
            .cloned()
            .collect()
    }
}

/// A whole user as Okta PUTs it.
fn okta(email: &str, locale: &str, active: bool) -> Value {
    json!({
        "schemas": [CORE],
        "userName": email,
        "name": {"givenName": "Chloé", "familyName": "Durand <i>"},
        "locale": locale,
        "emails": [{"value": email, "type": "work", "primary": true}],
        "active": active,
    })
}

/// Runs a worker until the outbox is empty; every message the sink holds.
async fn deliver(d: &Directory, sink: &Sink) -> Vec<Value> {
    let w = worker(&d.s.store, &sink.url(), 60);
    while w.tick().await.unwrap() > 0 {}
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sink.messages()
}

async fn a_put_or_patch_of_the_address_tells_the_old_one_once(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    let d = Directory::start(b, &sink).await;
    let id = d.user("chloe@acme.test", "fr").await;
    let path = format!("/Users/{id}");

    // Okta: PUT of the whole user with the new address. In the outbox before any worker ran.
    let (st, v) = d
        .send(
            reqwest::Method::PUT,
            &path,
            okta("chloé@nouvelle.test", "fr", true),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let told = d.told().await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["recipient"], "chloe@acme.test");
    assert_eq!(told[0]["status"], "pending");
    let got = deliver(&d, &sink).await;
    assert_eq!(got.len(), 1, "one mail, to the old address only: {got:?}");
    assert_eq!(header(&got[0], "To"), "chloe@acme.test");
    assert!(
        header(&got[0], "Subject").contains("a changé"),
        "{}",
        got[0]
    );
    let text = part(&got[0], "text/plain");
    assert!(text.contains("chloé@nouvelle.test"), "{text}");
    assert!(text.contains("Chloé Durand <i>"), "{text}");
    let html = part(&got[0], "text/html");
    assert!(html.contains("Durand &#60;i&#62;"), "escaped: {html}");
    assert!(crate::sink::headers(&got[0], "List-Unsubscribe").is_empty());
    // The user's mandatory notification is recorded, and the worker mails it no second time.
    let (_, events) = d.s.get(&format!("/users/{id}/notification-events")).await;
    assert!(
        events.to_string().contains("security.email_changed"),
        "{events}"
    );

    // Entra ID: PATCH of the work address by a value filter.
    let ops = json!({"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "c.durand@entra.test"}
    ]});
    let (st, v) = d.send(reqwest::Method::PATCH, &path, ops).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["emails"][0]["value"], "c.durand@entra.test", "{v}");
    // Okta: PATCH without a path, the emails as the value.
    let ops = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"emails": [
            {"value": "chloe.d@okta.test", "type": "work", "primary": true}]}}
    ]});
    let (st, v) = d.send(reqwest::Method::PATCH, &path, ops).await;
    assert_eq!(st, 200, "{v}");
    let told = d.told().await;
    assert_eq!(told.len(), 3, "{told:?}");
    let got = deliver(&d, &sink).await;
    assert_eq!(got.len(), 3, "{got:?}");
    let to = |addr: &str| got.iter().filter(|m| header(m, "To") == addr).count();
    assert_eq!(
        to("chloé@nouvelle.test"),
        1,
        "the PUT's new address, told by Entra's PATCH"
    );
    assert_eq!(to("c.durand@entra.test"), 1, "told by Okta's PATCH");
    let last = got
        .iter()
        .find(|m| header(m, "To") == "c.durand@entra.test")
        .unwrap();
    assert!(part(last, "text/plain").contains("chloe.d@okta.test"));
}

async fn no_mail_without_a_change_or_for_users_not_active(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    let d = Directory::start(b, &sink).await;
    let id = d.user("same@acme.test", "en").await;
    let path = format!("/Users/{id}");
    // Other fields, and the address in other letter case: the same address.
    let mut body = okta("same@acme.test", "de", true);
    body["title"] = json!("Engineer");
    let (st, v) = d.send(reqwest::Method::PUT, &path, body).await;
    assert_eq!(st, 200, "{v}");
    let ops = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "SAME@acme.test"}
    ]});
    let (st, v) = d.send(reqwest::Method::PATCH, &path, ops).await;
    assert_eq!(st, 200, "{v}");
    // Deactivated and moved in one write: an inactive user is not mailed; nor while inactive.
    let (st, v) = d
        .send(
            reqwest::Method::PUT,
            &path,
            okta("gone@acme.test", "en", false),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = d
        .send(
            reqwest::Method::PUT,
            &path,
            okta("gone2@acme.test", "en", false),
        )
        .await;
    assert_eq!(st, 200, "{v}");

    // An invited user (the admin API) has been told nothing but the invitation.
    let (st, u) =
        d.s.post(
            "/users",
            json!({"email": "invited@acme.test", "invite": true}),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let invited = format!("/Users/{}", u["id"].as_str().unwrap());
    let ops = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"emails": [
            {"value": "invited2@acme.test", "type": "work", "primary": true}]}}
    ]});
    let (st, v) = d.send(reqwest::Method::PATCH, &invited, ops).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["emails"][0]["value"], "invited2@acme.test", "{v}");

    assert!(d.told().await.is_empty(), "{:?}", d.told().await);
    let got = deliver(&d, &sink).await;
    assert_eq!(got.len(), 1, "the invitation only: {got:?}");
    assert_eq!(header(&got[0], "To"), "invited@acme.test");
}

/// Six directory writes at once, each to another address: they queue on the user's row, and
/// each tells the address it replaced, naming the one that replaced it. Followed from the first
/// address, the mails form one chain through every address to the user's final one.
async fn concurrent_changes_tell_each_old_address_once(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    let d = std::sync::Arc::new(Directory::start(b, &sink).await);
    let id = d.user("start@acme.test", "en").await;
    let names = ["amber", "birch", "cedar", "delta", "ember", "fjord"];
    let tasks: Vec<_> = names
        .iter()
        .map(|n| {
            let (d, path) = (d.clone(), format!("/Users/{id}"));
            let email = format!("{n}@acme.test");
            tokio::spawn(async move {
                d.send(reqwest::Method::PUT, &path, okta(&email, "en", true))
                    .await
            })
        })
        .collect();
    for t in tasks {
        let (st, v) = t.await.unwrap();
        assert_eq!(st, 200, "{v}");
    }
    let (_, user) = d.s.get(&format!("/users/{id}")).await;
    let last = user["email"].as_str().unwrap().to_string();
    let got = deliver(&d, &sink).await;
    assert_eq!(got.len(), names.len(), "one mail per change: {got:?}");
    let mut next = std::collections::HashMap::new();
    for m in &got {
        let text = part(m, "text/plain");
        let to = header(m, "To").to_string();
        let new = names
            .iter()
            .map(|n| format!("{n}@acme.test"))
            .find(|a| text.contains(a.as_str()))
            .expect("the mail names the new address");
        assert!(next.insert(to, new).is_none(), "each address told once");
    }
    let mut at = "start@acme.test".to_string();
    let mut seen = 0;
    while let Some(n) = next.get(&at) {
        at = n.clone();
        seen += 1;
    }
    assert_eq!(
        seen,
        names.len(),
        "one chain through every address: {next:?}"
    );
    assert_eq!(at, last, "ending at the user's address");
}
