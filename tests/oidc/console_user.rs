//! The console's user page over HTTP (issue 14): it shows what the admin API shows, saves the
//! profile through the same service (a missing mandatory field comes back as a field error with
//! what was typed kept), and takes each status, password and factor action after a confirmation
//! page, audited as the console's person. CSRF is required on every POST; what a caller may not
//! do is neither offered nor, when forged, done.

use crate::backends;
use crate::browser::{Browser, PASSWORD, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::{Value, json};

/// A signed-in browser of `email`.
async fn signed_in(s: &TestServer, email: &str) -> Browser {
    let b = Browser::new(s);
    let page = b.sign_in("/t/acme/login", email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    b
}

/// A user with a password holding the role seeded from `template`; returns its id.
async fn person_with_role(s: &TestServer, email: &str, template: &str) -> String {
    let id = user_with_password(s, email).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let role = s.role_id(template).await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
        .await;
    assert_eq!(st, 201, "{v}");
    id
}

fn page_of(id: &str) -> String {
    format!("/t/acme/console/users/{id}")
}

/// The user as the admin API shows it.
async fn api_user(s: &TestServer, id: &str) -> Value {
    let (st, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(st, 200, "{u}");
    u
}

/// Audit entries of `action` on `target`.
async fn audited(s: &TestServer, action: &str, target: &str) -> Vec<Value> {
    let (st, v) = s
        .get(&format!(
            "/audit?action={action}&target_id={target}&limit=1000"
        ))
        .await;
    assert_eq!(st, 200, "{v}");
    v["items"].as_array().unwrap().clone()
}

/// Asserts `action` on `target` was audited once, by the console's person `email`.
async fn audited_once_by(s: &TestServer, action: &str, target: &str, email: &str) {
    let items = audited(s, action, target).await;
    assert_eq!(items.len(), 1, "{action}: {items:?}");
    let label = items[0]["actor_label"].as_str().unwrap();
    assert_eq!(label, format!("{email} (console)"), "{action}");
}

/// The profile form of `page`, with `changes` applied (the fields a person would send).
fn profile_form(body: &str, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form = vec![
        (
            "csrf".to_owned(),
            hidden(body, "csrf").expect("a CSRF field"),
        ),
        (
            "version".to_owned(),
            hidden(body, "version").expect("a version"),
        ),
    ];
    form.extend(changes.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    form
}

async fn post(b: &Browser, url: &str, form: &[(String, String)]) -> crate::browser::Page {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_form(url, &pairs).await
}

async fn user_page_shows_the_profile_and_saves_it(b: Backend) {
    let s = TestServer::start(b).await;
    person_with_role(&s, "admin@acme.test", "administrator").await;
    let (st, v) = s
        .post(
            "/users",
            json!({"email": "grace@acme.test", "display_name": "Grace <i>H</i>", "phone": "+1 555"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    for def in [
        json!({"key": "cost_centre", "label": "Cost centre", "kind": "text", "required": true,
               "default": "CC1", "description": "Where costs go"}),
        json!({"key": "grade", "label": "Grade", "kind": "enum", "options": ["junior", "senior"]}),
        json!({"key": "desk", "label": "Desk", "kind": "number"}),
    ] {
        let (st, d) = s.post("/attributes", def).await;
        assert_eq!(st, 201, "{d}");
    }
    let admin = signed_in(&s, "admin@acme.test").await;

    // The list links each name to its page; the page shows what the API shows, escaped.
    let list = admin.get("/t/acme/console/users?q=grace%40").await;
    assert!(
        list.body.contains(&format!("href=\"{}\"", page_of(&id))),
        "{}",
        list.body
    );
    let page = admin.get(&page_of(&id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let api = api_user(&s, &id).await;
    for key in ["email", "username", "phone"] {
        let value = api[key].as_str().unwrap();
        assert!(
            page.body.contains(&format!("value=\"{value}\"")),
            "{key}: {}",
            page.body
        );
    }
    assert_eq!(api["attributes"]["cost_centre"], "CC1");
    assert!(page.body.contains("value=\"CC1\""), "{}", page.body);
    assert!(page.body.contains("Where costs go"));
    assert!(page.body.contains("Invited"));
    assert!(!page.body.contains("<i>H</i>"), "names are escaped");
    assert!(
        page.body.contains("Grace &#60;i&#62;H&#60;/i&#62;")
            || page.body.contains("Grace &lt;i&gt;H&lt;/i&gt;")
    );

    // A save changes what the form changed, through the service, audited.
    let form = profile_form(
        &page.body,
        &[
            ("email", "grace@acme.test"),
            ("given_name", "Grace"),
            ("phone", ""),
            ("attributes.cost_centre", "CC9"),
            ("attributes.grade", "senior"),
            ("attributes.desk", "12"),
        ],
    );
    let saved = post(&admin, &page_of(&id), &form).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(
        saved.location.unwrap(),
        format!("{}?notice=saved", page_of(&id))
    );
    let api = api_user(&s, &id).await;
    assert_eq!(api["given_name"], "Grace");
    assert!(api["phone"].is_null(), "an emptied field is cleared");
    assert_eq!(api["attributes"]["cost_centre"], "CC9");
    assert_eq!(api["attributes"]["grade"], "senior");
    assert_eq!(api["attributes"]["desk"], 12);
    audited_once_by(&s, "user.update", &id, "admin@acme.test").await;
    let page = admin.get(&format!("{}?notice=saved", page_of(&id))).await;
    assert!(page.body.contains("The profile was saved."));

    // A missing mandatory field, or a value of the wrong type, is a field error next to the
    // field; what was typed stays; nothing changes.
    for (field, typed) in [
        ("attributes.cost_centre", ""),
        ("attributes.desk", "twelve"),
    ] {
        let form = profile_form(&page.body, &[("given_name", "Typed"), (field, typed)]);
        let refused = post(&admin, &page_of(&id), &form).await;
        assert_eq!(refused.status, 422, "{field}: {}", refused.body);
        let body = &refused.body;
        assert!(
            body.contains(&format!("<p class=\"field-error\" id=\"e-{field}\">")),
            "{body}"
        );
        assert!(
            body.contains(&format!("aria-describedby=\"e-{field}")),
            "{body}"
        );
        assert!(
            body.contains("value=\"Typed\""),
            "what was typed stays: {body}"
        );
        assert!(body.contains(&format!("value=\"{typed}\"")), "{body}");
        let label = if field.ends_with("desk") {
            "Desk"
        } else {
            "Cost centre"
        };
        let error = format!("id=\"e-{field}\">{label} ");
        assert!(body.contains(&error), "in the form's words: {body}");
        assert_eq!(api_user(&s, &id).await, api, "{field}: nothing changed");
    }
    // A stale form is not applied over someone else's change.
    let form = profile_form(&page.body, &[("given_name", "Stale")]);
    let (st, _) = s
        .patch(&format!("/users/{id}"), json!({"family_name": "Hopper"}))
        .await;
    assert_eq!(st, 200);
    let stale = post(&admin, &page_of(&id), &form).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.body.contains("value=\"Stale\""));
    assert_eq!(api_user(&s, &id).await["given_name"], "Grace");

    // Without the session's CSRF token nothing is saved.
    let api = api_user(&s, &id).await;
    let page = admin.get(&page_of(&id)).await;
    let mut form = profile_form(&page.body, &[("given_name", "Forged")]);
    form[0].1 = "not-the-token".into();
    assert_eq!(post(&admin, &page_of(&id), &form).await.status, 403);
    form.remove(0);
    assert_eq!(post(&admin, &page_of(&id), &form).await.status, 403);
    assert_eq!(api_user(&s, &id).await, api);

    // Unknown users and addresses that are no user are not found.
    let unknown = "01900000-0000-7000-8000-000000000000";
    assert_eq!(admin.get(&page_of(unknown)).await.status, 404);
    assert_eq!(admin.get(&page_of("nobody")).await.status, 404);
    assert_eq!(
        admin.get(&format!("{}/promote", page_of(&id))).await.status,
        404
    );
}

/// The action links `body` offers for user `id`.
fn offered(body: &str, id: &str) -> Vec<String> {
    let prefix = format!("href=\"{}/", page_of(id));
    body.match_indices(&prefix)
        .map(|(i, _)| {
            let rest = &body[i + prefix.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        // The links to the user's permissions and employment pages, and those ending one of
        // their sessions or withdrawing an app's consent (cards of their own), are no actions.
        .filter(|a| {
            a != "permissions"
                && a != "memberships"
                && !a.starts_with("sessions/")
                && !a.starts_with("apps/")
        })
        .collect()
}

/// Confirms `action` on `id`: the confirmation page, then its form (with `extra` fields).
async fn confirm(
    b: &Browser,
    id: &str,
    action: &str,
    extra: &[(&str, &str)],
) -> crate::browser::Page {
    let url = format!("{}/{action}", page_of(id));
    let page = b.get(&url).await;
    assert_eq!(page.status, 200, "{action}: {}", page.body);
    assert!(
        page.body.contains(&format!("action=\"{url}\"")),
        "{}",
        page.body
    );
    let csrf = hidden(&page.body, "csrf").unwrap();
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(extra);
    b.post_form(&url, &form).await
}

async fn status_actions_are_confirmed_and_audited(b: Backend) {
    let s = TestServer::start(b).await;
    person_with_role(&s, "admin@acme.test", "administrator").await;
    let id = user_with_password(&s, "target@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = signed_in(&s, "admin@acme.test").await;
    let done = |action: &str| format!("{}?notice={action}", page_of(&id));

    // Invited: activate or deactivate, never reactivate.
    let page = admin.get(&page_of(&id)).await;
    assert_eq!(
        offered(&page.body, &id),
        [
            "invite",
            "activate",
            "deactivate",
            "password",
            "reset-factors",
            "anonymise",
            "delete"
        ]
    );
    let r = confirm(&admin, &id, "activate", &[]).await;
    assert_eq!(
        r.location.as_deref(),
        Some(done("activated").as_str()),
        "{}",
        r.body
    );
    assert_eq!(api_user(&s, &id).await["status"], "active");
    audited_once_by(&s, "user.activate", &id, "admin@acme.test").await;

    // Missing or wrong CSRF: refused, nothing changes.
    let url = format!("{}/deactivate", page_of(&id));
    assert_eq!(admin.post_form(&url, &[]).await.status, 403);
    assert_eq!(
        admin.post_form(&url, &[("csrf", "forged")]).await.status,
        403
    );
    assert_eq!(api_user(&s, &id).await["status"], "active");

    let r = confirm(&admin, &id, "deactivate", &[]).await;
    assert_eq!(r.location.as_deref(), Some(done("deactivated").as_str()));
    assert_eq!(api_user(&s, &id).await["status"], "inactive");
    audited_once_by(&s, "user.deactivate", &id, "admin@acme.test").await;
    let page = admin.get(&done("deactivated")).await;
    assert!(page.body.contains("signed out everywhere"));
    assert_eq!(
        offered(&page.body, &id),
        [
            "reactivate",
            "password",
            "reset-factors",
            "anonymise",
            "delete"
        ]
    );
    // An action that does not fit the status is not confirmed, and refused if posted.
    assert_eq!(admin.get(&url).await.status, 403);
    let csrf = hidden(&page.body, "csrf").unwrap();
    assert_eq!(admin.post_form(&url, &[("csrf", &csrf)]).await.status, 409);

    let r = confirm(&admin, &id, "reactivate", &[]).await;
    assert_eq!(r.location.as_deref(), Some(done("reactivated").as_str()));
    assert_eq!(api_user(&s, &id).await["status"], "active");
    audited_once_by(&s, "user.reactivate", &id, "admin@acme.test").await;

    // A new password: a guessable one is a field error; a good one lets the user in.
    let r = confirm(&admin, &id, "password", &[("password", "target")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"e-password\""), "{}", r.body);
    assert!(
        audited(&s, "user.password.set", &id).await.len() == 1,
        "only the first one"
    );
    let r = confirm(
        &admin,
        &id,
        "password",
        &[("password", "a brand new passphrase")],
    )
    .await;
    assert_eq!(
        r.location.as_deref(),
        Some(done("password").as_str()),
        "{}",
        r.body
    );
    assert_eq!(audited(&s, "user.password.set", &id).await.len(), 2);
    let user = Browser::new(&s);
    let signed = user
        .sign_in(
            "/t/acme/login",
            "target@acme.test",
            "a brand new passphrase",
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);

    let r = confirm(&admin, &id, "reset-factors", &[]).await;
    assert_eq!(r.location.as_deref(), Some(done("factors").as_str()));
    audited_once_by(&s, "user.mfa.reset", &id, "admin@acme.test").await;

    // Anonymised: the history stays, only deletion is left.
    let r = confirm(&admin, &id, "anonymise", &[]).await;
    assert_eq!(r.location.as_deref(), Some(done("anonymised").as_str()));
    assert_eq!(api_user(&s, &id).await["status"], "anonymised");
    audited_once_by(&s, "user.anonymise", &id, "admin@acme.test").await;
    assert_eq!(
        audited(&s, "user.activate", &id).await.len(),
        1,
        "history kept"
    );
    let page = admin.get(&page_of(&id)).await;
    assert_eq!(offered(&page.body, &id), ["delete"]);
    assert!(hidden(&page.body, "version").is_none(), "no edit form");

    let r = confirm(&admin, &id, "delete", &[]).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/t/acme/console/users?notice=deleted")
    );
    let (st, _) = s.get(&format!("/users/{id}")).await;
    assert_eq!(st, 404);
    audited_once_by(&s, "user.delete", &id, "admin@acme.test").await;
    let list = admin.get("/t/acme/console/users?notice=deleted").await;
    assert!(list.body.contains("The user was deleted."));

    // The owner is offered nothing that would remove them, not even on their own page (where
    // everything else is theirs to do), and a forged removal is refused.
    let (_, owner) = s.get("/owner").await;
    let owner_id = owner["id"].as_str().unwrap();
    let (st, v) = s
        .put(
            &format!("/users/{owner_id}/password"),
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    let owner_browser = signed_in(&s, "owner@acme.test").await;
    let before = api_user(&s, owner_id).await;
    for (who, browser) in [("admin", &admin), ("owner", &owner_browser)] {
        let page = browser.get(&page_of(owner_id)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let actions = offered(&page.body, owner_id);
        if who == "owner" {
            assert_eq!(actions, ["password", "reset-factors"], "their own page");
        }
        let csrf = hidden(&page.body, "csrf").unwrap();
        for removal in ["deactivate", "anonymise", "delete"] {
            assert!(!actions.iter().any(|a| a == removal), "{who}: {actions:?}");
            let url = format!("{}/{removal}", page_of(owner_id));
            assert_eq!(browser.get(&url).await.status, 403, "{who}: {removal}");
            let r = browser.post_form(&url, &[("csrf", &csrf)]).await;
            let refused = r.status == 403 || r.status == 409;
            assert!(refused, "{who}: {removal}: {}", r.status);
        }
    }
    assert_eq!(
        api_user(&s, owner_id).await,
        before,
        "the owner is untouched"
    );
}

async fn a_manager_cannot_act_on_someone_more_powerful(b: Backend) {
    let s = TestServer::start(b).await;
    let admin_id = person_with_role(&s, "admin@acme.test", "administrator").await;
    let manager_id = person_with_role(&s, "manager@acme.test", "manager").await;
    let report = s.create_user("report@acme.test").await;
    let report_id = report["id"].as_str().unwrap().to_owned();
    let outsider = s.create_user("outsider@acme.test").await;
    let (_, owner) = s.get("/owner").await;
    let owner_id = owner["id"].as_str().unwrap().to_owned();
    // The manager manages the report, and (in the org chart) the administrator and the owner.
    for id in [&report_id, &admin_id, &owner_id] {
        let (st, v) = s
            .post(
                &format!("/users/{manager_id}/management"),
                json!({"kind": "user", "id": id}),
            )
            .await;
        assert_eq!(st, 201, "{v}");
    }
    let manager = signed_in(&s, "manager@acme.test").await;

    // Their report: editable, and the status actions their permissions allow.
    let page = manager.get(&page_of(&report_id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(hidden(&page.body, "version").is_some(), "an edit form");
    let actions = offered(&page.body, &report_id);
    assert!(actions.iter().any(|a| a == "deactivate"), "{actions:?}");
    let r = confirm(&manager, &report_id, "deactivate", &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(api_user(&s, &report_id).await["status"], "inactive");
    audited_once_by(&s, "user.deactivate", &report_id, "manager@acme.test").await;
    let csrf = hidden(&page.body, "csrf").unwrap();

    // More powerful people: shown, but nothing offered, and every forged POST is a 403 page
    // that changes nothing.
    for target in [&admin_id, &owner_id] {
        let before = api_user(&s, target).await;
        let passwords_set = audited(&s, "user.password.set", target).await.len();
        let page = manager.get(&page_of(target)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(offered(&page.body, target).is_empty(), "{}", page.body);
        assert!(hidden(&page.body, "version").is_none(), "no edit form");
        let version = before["version"].to_string();
        let save = manager
            .post_form(
                &page_of(target),
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("given_name", "Forged"),
                ],
            )
            .await;
        assert_eq!(save.status, 403, "{}", save.body);
        for action in [
            "activate",
            "deactivate",
            "reactivate",
            "reset-factors",
            "anonymise",
            "delete",
        ] {
            let url = format!("{}/{action}", page_of(target));
            assert_eq!(manager.get(&url).await.status, 403, "{action}");
            let r = manager.post_form(&url, &[("csrf", &csrf)]).await;
            assert_eq!(r.status, 403, "{action}: {}", r.body);
        }
        let url = format!("{}/password", page_of(target));
        let r = manager
            .post_form(
                &url,
                &[("csrf", &csrf), ("password", "a forged passphrase")],
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(api_user(&s, target).await, before, "nothing changed");
        assert_eq!(
            audited(&s, "user.password.set", target).await.len(),
            passwords_set
        );
        assert!(audited(&s, "user.mfa.reset", target).await.is_empty());
    }
    // Out of scope: not even shown.
    let outsider_id = outsider["id"].as_str().unwrap();
    assert_eq!(manager.get(&page_of(outsider_id)).await.status, 403);
    let r = manager
        .post_form(
            &format!("{}/deactivate", page_of(outsider_id)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(api_user(&s, outsider_id).await["status"], "invited");
}

/// A new password set while every place of the hashing queue is taken is refused at once with
/// a 503 page saying when to try again, and changes nothing; once a place is free it is set.
async fn a_password_past_a_full_hash_queue_is_refused(b: Backend) {
    let s = TestServer::start_with(b, |c| c.sign_in.hash_queue = 1).await;
    person_with_role(&s, "admin@acme.test", "administrator").await;
    let id = user_with_password(&s, "target@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = signed_in(&s, "admin@acme.test").await;
    let url = format!("{}/password", page_of(&id));
    let page = admin.get(&url).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("password", "a brand new passphrase"),
    ];
    let held = s.hash_queue.enter().unwrap();
    let busy = admin
        .http
        .post(admin.absolute_url(&url))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status().as_u16(), 503);
    let retry = busy
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok());
    assert!(retry.is_some_and(|r| r.parse::<u32>().is_ok()), "{retry:?}");
    let body = busy.text().await.unwrap();
    assert!(body.contains("Try again in"), "{body}");
    assert_eq!(audited(&s, "user.password.set", &id).await.len(), 1);
    drop(held);
    let set = admin.post_form(&url, &form).await;
    assert_eq!(set.status, 303, "{}", set.body);
    assert_eq!(audited(&s, "user.password.set", &id).await.len(), 2);
}

backends!(
    a_password_past_a_full_hash_queue_is_refused,
    user_page_shows_the_profile_and_saves_it,
    status_actions_are_confirmed_and_audited,
    a_manager_cannot_act_on_someone_more_powerful,
);
