//! `/mail`: delivery status (filters, one message, other tenants' messages unseen), the
//! tenant's templates (used in rendering, every value escaped) and From address, bad input,
//! and who may do what.

use crate::common::{Backend, TestServer};
use crate::delivery::link_with_mail;
use crate::sink::{Sink, header, part};
use crate::{backends, worker};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

backends!(
    status_filters_and_cross_tenant_ids,
    templates_and_from_address_are_used_and_escaped,
    bad_input_is_refused_with_problems,
    who_may_read_and_change_mail,
);

async fn status_filters_and_cross_tenant_ids(b: Backend) {
    let s = TestServer::start(b).await;
    link_with_mail(&s).await;
    let (_, all) = s.get("/mail").await;
    let id = all["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(all["items"][0]["kind"], "invitation");
    assert_eq!(all["items"][0]["locale"], "en");
    assert!(
        !all.to_string().contains("setup?link="),
        "no body, no link: {all}"
    );
    let (_, none) = s.get("/mail?status=sent").await;
    assert_eq!(none["items"], json!([]));
    let (_, none) = s.get("/mail?recipient=someone@else.test").await;
    assert_eq!(none["items"], json!([]));
    let (st, _) = s.get(&format!("/mail/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = s.get("/mail/0190aaaa-0000-7000-8000-000000000000").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    let (st, _) = s.get("/mail/not-an-id").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Another tenant's administrator sees neither the message nor it in a list.
    let other = s.other_tenant("other").await;
    let url = format!("{}/t/other/api/v1/mail/{id}", s.base);
    let (st, _) = s.call_as(&other, Method::GET, &url, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let url = format!("{}/t/other/api/v1/mail", s.base);
    let (st, v) = s.call_as(&other, Method::GET, &url, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["items"], json!([]));
}

async fn templates_and_from_address_are_used_and_escaped(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, t) = s
        .put(
            "/mail/templates/invitation/en",
            json!({
                "subject": "Join {tenant}, {name}",
                "text": "Hi {name}, open {link} ({days} days). {unknown}",
                "html": "<p>Hi {name}</p><p><a href=\"{link}\">Join</a></p>",
            }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let (_, list) = s.get("/mail/templates").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (st, v) = s
        .put("/mail/settings", json!({"from": "Acme IT <it@acme.test>"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // A hostile display name reaches the mail escaped in HTML, on one line in the subject.
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let owner = tenant.owner_user_id.clone().unwrap();
    let (st, e) = s
        .patch(
            &format!("/users/{owner}"),
            json!({"display_name": "<b>Eve</b> & \"co\""}),
        )
        .await;
    assert!(st.is_success(), "{e}");
    link_with_mail(&s).await;
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    worker(&s.store, &sink.url(), 60).tick().await.unwrap();
    let got = sink.wait_for(1, 10).await;
    let m = &got[0];
    assert_eq!(header(m, "From"), "Acme IT <it@acme.test>");
    assert_eq!(header(m, "Subject"), "Join Acme, <b>Eve</b> & \"co\"");
    let text = part(m, "text/plain");
    assert!(
        text.starts_with("Hi <b>Eve</b> & \"co\", open http"),
        "{text}"
    );
    assert!(text.contains("(7 days). {unknown}"), "{text}");
    let html = part(m, "text/html");
    assert!(
        html.contains("<p>Hi &lt;b&gt;Eve&lt;/b&gt; &amp; &quot;co&quot;</p>"),
        "{html}"
    );
    assert!(html.contains("setup?link="), "{html}");
    // Removing the template brings the built-in wording back.
    let (st, _) = s.delete("/mail/templates/invitation/en").await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, list) = s.get("/mail/templates").await;
    assert_eq!(list["items"], json!([]));
}

async fn bad_input_is_refused_with_problems(b: Backend) {
    let s = TestServer::start(b).await;
    let good = json!({"subject": "S", "text": "T", "html": "H"});
    let cases: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::GET, "/mail?status=lost", None),
        (Method::GET, "/mail?limit=0", None),
        (Method::GET, "/mail?colour=red", None),
        (
            Method::PUT,
            "/mail/templates/postcard/en",
            Some(good.clone()),
        ),
        (
            Method::PUT,
            "/mail/templates/invitation/es",
            Some(good.clone()),
        ),
        (
            Method::PUT,
            "/mail/templates/invitation/en",
            Some(json!({"subject": "", "text": "T", "html": "H"})),
        ),
        (
            Method::PUT,
            "/mail/templates/invitation/en",
            Some(json!({"subject": "a\u{7}b", "text": "T", "html": "H"})),
        ),
        (
            Method::PUT,
            "/mail/templates/invitation/en",
            Some(json!({"subject": "S", "text": " ", "html": "H"})),
        ),
        (
            Method::PUT,
            "/mail/templates/invitation/en",
            Some(json!({"subject": "S", "text": "T", "html": "H", "extra": 1})),
        ),
        (
            Method::PUT,
            "/mail/settings",
            Some(json!({"from": "not an address"})),
        ),
        (
            Method::PUT,
            "/mail/settings",
            Some(json!({"from": "a@b.test\r\nBcc: x@y.test"})),
        ),
        (Method::DELETE, "/mail/templates/invitation/xx", None),
    ];
    for (method, path, body) in cases {
        let url = s.url(path);
        let (st, e) = s
            .call_as(&s.token.clone(), method.clone(), &url, body)
            .await;
        assert!(
            st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::BAD_REQUEST,
            "{method} {path}: {st} {e}"
        );
    }
    let (_, v) = s.get("/mail/settings").await;
    assert_eq!(v["from"], Value::Null, "nothing was stored: {v}");
    let (st, v) = s.put("/mail/settings", json!({"from": null})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

async fn who_may_read_and_change_mail(b: Backend) {
    let s = TestServer::start(b).await;
    link_with_mail(&s).await;
    let (_, all) = s.get("/mail").await;
    let id = all["items"][0]["id"].as_str().unwrap().to_string();
    let body = json!({"subject": "S", "text": "T", "html": "H"});
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/mail".into(), None),
        (Method::GET, format!("/mail/{id}"), None),
        (Method::GET, "/mail/templates".into(), None),
        (
            Method::PUT,
            "/mail/templates/invitation/en".into(),
            Some(body.clone()),
        ),
        (Method::DELETE, "/mail/templates/invitation/en".into(), None),
        (Method::GET, "/mail/settings".into(), None),
        (
            Method::PUT,
            "/mail/settings".into(),
            Some(json!({"from": "x@acme.test"})),
        ),
    ];
    // Anonymous: 401.
    for (method, path, b) in &cases {
        let mut req = s.client.request(method.clone(), s.url(path));
        if let Some(b) = b {
            req = req.json(b);
        }
        let st = req.send().await.unwrap().status();
        assert_eq!(st, StatusCode::UNAUTHORIZED, "anonymous {method} {path}");
    }
    // A Member without rights: 403; another tenant's token: 404.
    let member = s.create_user("plain.member@example.com").await;
    let member = s.token_for("acme", member["id"].as_str().unwrap()).await;
    let foreign = s.other_tenant("other").await;
    for (method, path, b) in &cases {
        let url = s.url(path);
        let (st, e) = s.call_as(&member, method.clone(), &url, b.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "member {method} {path}: {e}");
        let (st, e) = s.call_as(&foreign, method.clone(), &url, b.clone()).await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "other tenant {method} {path}: {e}"
        );
    }
    // An Administrator may do all of it; a Manager (settings.read, users.read.managed only)
    // reads templates and settings, not the tenant's whole mail, and changes nothing.
    for (template, may_all) in [("administrator", true), ("manager", false)] {
        let u = s.create_user(&format!("{template}@example.com")).await;
        let uid = u["id"].as_str().unwrap();
        let rid = s.role_id(template).await;
        let (st, e) = s
            .post(&format!("/users/{uid}/roles"), json!({"role_id": rid}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{e}");
        let token = s.token_for("acme", uid).await;
        for (method, path, b) in &cases {
            let url = s.url(path);
            let (st, e) = s.call_as(&token, method.clone(), &url, b.clone()).await;
            let manager_may = *method == Method::GET
                && (path.ends_with("/templates") || path.ends_with("/settings"));
            if may_all || manager_may {
                assert!(st.is_success(), "{template} {method} {path}: {st} {e}");
            } else {
                assert_eq!(st, StatusCode::FORBIDDEN, "{template} {method} {path}: {e}");
            }
        }
    }
}
