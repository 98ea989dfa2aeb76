//! Address confirmation and change (issues 15 and 14): in the account portal a person asks for a
//! new address with their current password; a link goes to the new address, which replaces the
//! old one only when the link is opened and confirmed (unique at that moment: of two people
//! racing for one address one wins; one link posted many times changes it once); the old
//! address is mailed the mandatory "address changed" notification; an account created active
//! with an address nobody vouched for is sent a confirmation link; an administrator's change
//! tells the old address too. Non-ASCII addresses throughout.

use crate::account_email::{link_in, mails_to};
use crate::backends;
use crate::browser::{Browser, PASSWORD, Page, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use crate::console_account::{post_with_csrf, signed_in, signed_in_with};
use serde_json::{Value, json};

backends!(
    a_new_address_replaces_the_old_once_confirmed,
    two_people_racing_for_one_address_one_wins,
    an_address_nobody_vouched_for_is_confirmed_by_its_link,
    the_portal_sends_confirmation_links_within_limits,
);

const PAGE: &str = "/t/acme/account/email";

async fn ask_change(b: &Browser, email: &str, current: &str) -> Page {
    post_with_csrf(b, PAGE, PAGE, &[("email", email), ("current", current)]).await
}

/// Opens an address link's page in `b` and confirms.
async fn confirm(b: &Browser, path: &str) -> Page {
    let page = b.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf").expect("a CSRF field");
    let link = hidden(&page.body, "link").expect("the link");
    b.post_form("/t/acme/confirm-email", &[("csrf", &csrf), ("link", &link)])
        .await
}

async fn user(s: &TestServer, id: &str) -> Value {
    let (st, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(st, 200, "{u}");
    u
}

async fn a_new_address_replaces_the_old_once_confirmed(b: Backend) {
    let s = TestServer::start(b).await;
    s.other_tenant("globex").await;
    let ada = user_with_password(&s, "ada@acme.test").await;
    let id = ada["id"].as_str().unwrap();
    let here = signed_in(&s, "ada@acme.test").await;
    let profile = here.get("/t/acme/account").await;
    assert!(
        profile.body.contains("href=\"/t/acme/account/email\""),
        "{}",
        profile.body
    );

    for (email, current, field) in [
        ("zoë@exämple.test", "not my password", "current"),
        ("not an address", PASSWORD, "email"),
        ("ADA@acme.test", PASSWORD, "email"),
    ] {
        let refused = ask_change(&here, email, current).await;
        assert!(matches!(refused.status, 400 | 429), "{}", refused.body);
        let marker = format!("<p class=\"field-error\" id=\"e-{field}\">");
        assert!(refused.body.contains(&marker), "{field}: {}", refused.body);
    }
    let new = "zoë@exämple.test";
    let sent = ask_change(&here, new, PASSWORD).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(
        sent.location.as_deref(),
        Some("/t/acme/account/email?notice=sent")
    );
    let mails = mails_to(&s, new, "email_change", 1).await;
    assert_eq!(mails.len(), 1, "the link goes to the new address");
    let path = link_in(&s, &mails[0], "confirm-email");
    assert_eq!(user(&s, id).await["email"], "ada@acme.test", "not yet");

    // Another tenant's page does not know the link; a GET changes nothing.
    let elsewhere = Browser::new(&s);
    let foreign = elsewhere.get(&path.replace("/t/acme/", "/t/globex/")).await;
    assert_eq!(foreign.status, 410, "{}", foreign.body);
    let opened = elsewhere.get(&path).await;
    assert!(opened.body.contains(new), "{}", opened.body);
    assert_eq!(user(&s, id).await["email"], "ada@acme.test");
    let done = confirm(&elsewhere, &path).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("Your address was changed"),
        "{}",
        done.body
    );
    let u = user(&s, id).await;
    assert_eq!(
        (u["email"].as_str(), u["email_verified"].as_bool()),
        (Some(new), Some(true))
    );
    assert_eq!(
        u["username"], new,
        "a username that was the address follows it"
    );

    // The old address is told; the notification is not mailed again to the new one.
    let told = mails_to(&s, "ada@acme.test", "email_changed", 1).await;
    assert_eq!(told.len(), 1);
    assert!(told[0].text.contains(new), "{}", told[0].text);
    let pending = s.store.unmailed_notifications(100).await.unwrap();
    assert!(
        !pending
            .iter()
            .any(|n| n.event_type == "security.email_changed"),
        "{pending:?}"
    );
    let (_, audit) = s.get("/audit?action=user.email.change").await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");

    // Used up; the new address signs in, the old one no longer does.
    assert_eq!(elsewhere.get(&path).await.status, 410);
    signed_in_with(&s, new, PASSWORD).await;
    let old = Browser::new(&s)
        .sign_in("/t/acme/login", "ada@acme.test", PASSWORD)
        .await;
    assert_eq!(old.status, 401, "{}", old.body);
    // The notification is mandatory: it cannot be turned off.
    let (st, v) = s
        .put(
            &format!("/users/{id}/notifications"),
            json!({"security.email_changed": {"enabled": false}}),
        )
        .await;
    assert!(st.is_client_error(), "{v}");
}

async fn two_people_racing_for_one_address_one_wins(b: Backend) {
    let s = TestServer::start(b).await;
    let mut paths = Vec::new();
    for email in ["ana@acme.test", "bo@acme.test"] {
        user_with_password(&s, email).await;
        let here = signed_in(&s, email).await;
        let sent = ask_change(&here, "shared@acme.test", PASSWORD).await;
        assert_eq!(sent.status, 303, "{}", sent.body);
    }
    let mails = mails_to(&s, "shared@acme.test", "email_change", 2).await;
    assert_eq!(mails.len(), 2);
    for m in &mails {
        paths.push(link_in(&s, m, "confirm-email"));
    }
    // Each link opened in three browsers: all confirm at once.
    let mut forms = Vec::new();
    for path in &paths {
        for _ in 0..3 {
            let b = Browser::new(&s);
            let page = b.get(path).await;
            assert_eq!(page.status, 200, "{}", page.body);
            let csrf = hidden(&page.body, "csrf").unwrap();
            let link = hidden(&page.body, "link").unwrap();
            forms.push((b, csrf, link));
        }
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(forms.len()));
    let posts: Vec<_> = forms
        .into_iter()
        .map(|(b, csrf, link)| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let form = [("csrf", csrf.as_str()), ("link", link.as_str())];
                b.post_form("/t/acme/confirm-email", &form).await.status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for p in posts {
        statuses.push(p.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "one change wins: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 409, 410].contains(s)),
        "{statuses:?}"
    );
    let (_, list) = s.get("/users?email_prefix=shared").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let (_, audit) = s.get("/audit?action=user.email.change").await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}

async fn an_address_nobody_vouched_for_is_confirmed_by_its_link(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, u) = s
        .post(
            "/users",
            json!({"email": "jürgen@acme.test", "status": "active", "locale": "de"}),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let id = u["id"].as_str().unwrap();
    assert_eq!(u["email_verified"], false);
    let mails = mails_to(&s, "jürgen@acme.test", "email_verification", 1).await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].subject.contains("Bestätigen"),
        "in his language: {}",
        mails[0].subject
    );
    let path = link_in(&s, &mails[0], "confirm-email");
    let done = confirm(&Browser::new(&s), &path).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("<html lang=\"de\">"), "{}", done.body);
    assert_eq!(user(&s, id).await["email_verified"], true);
    assert_eq!(Browser::new(&s).get(&path).await.status, 410);

    // Vouched for by the administrator, or invited: no confirmation mail.
    for body in [
        json!({"email": "vouched@acme.test", "status": "active", "email_verified": true}),
        json!({"email": "invited@acme.test"}),
    ] {
        let (st, v) = s.post("/users", body).await;
        assert_eq!(st, 201, "{v}");
    }
    // An administrator changes an address: the old one is told.
    let (st, v) = s
        .patch(
            &format!("/users/{id}"),
            json!({"email": "juergen@acme.test"}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["email_verified"], false, "{v}");
    let told = mails_to(&s, "jürgen@acme.test", "email_changed", 1).await;
    assert_eq!(told.len(), 1);
    assert!(told[0].text.contains("juergen@acme.test"));
    let rest = s.store.claim_mail(60_000, 100).await.unwrap();
    let unexpected: Vec<&str> = rest.iter().map(|m| m.to.as_str()).collect();
    assert!(
        !unexpected.contains(&"vouched@acme.test") && !unexpected.contains(&"invited@acme.test"),
        "{unexpected:?}"
    );
}

async fn the_portal_sends_confirmation_links_within_limits(b: Backend) {
    let s = TestServer::start_with(b, |c| c.account_email.resets_per_address = 2).await;
    let (st, u) = s
        .post(
            "/users",
            json!({"email": "émile@acme.test", "status": "active"}),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let id = u["id"].as_str().unwrap();
    let (st, v) = s
        .put(
            &format!("/users/{id}/password"),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    assert_eq!(
        mails_to(&s, "émile@acme.test", "email_verification", 1)
            .await
            .len(),
        1
    );

    // Nobody signed in: sent to sign in; a form without its token: refused.
    let anonymous = Browser::new(&s);
    let page = anonymous.get(PAGE).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let here = signed_in(&s, "émile@acme.test").await;
    let forged = here.post_form("/t/acme/account/email/confirm", &[]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let forged = here
        .post_form(PAGE, &[("email", "x@acme.test"), ("current", PASSWORD)])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);

    let page = here.get(PAGE).await;
    assert!(page.body.contains("not confirmed yet"), "{}", page.body);
    let action = "/t/acme/account/email/confirm";
    for _ in 0..2 {
        let sent = post_with_csrf(&here, PAGE, action, &[]).await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        assert_eq!(
            sent.location.as_deref(),
            Some("/t/acme/account/email?notice=confirmation")
        );
    }
    let mails = mails_to(&s, "émile@acme.test", "email_verification", 2).await;
    assert_eq!(mails.len(), 2, "a link each time");
    let limited = post_with_csrf(&here, PAGE, action, &[]).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    // Only the newest link works; it confirms the address.
    let first = link_in(&s, &mails[0], "confirm-email");
    let second = link_in(&s, &mails[1], "confirm-email");
    let open = [
        here.get(&first).await.status,
        here.get(&second).await.status,
    ];
    let mut sorted = open;
    sorted.sort();
    assert_eq!(
        sorted,
        [200, 410],
        "the newer link replaced the older: {open:?}"
    );
    let live = if open[0] == 200 { &first } else { &second };
    let done = confirm(&here, live).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(user(&s, id).await["email_verified"], true);
    let page = here.get(PAGE).await;
    assert!(!page.body.contains("not confirmed yet"), "{}", page.body);
}
