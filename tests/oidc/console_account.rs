//! The self-service account portal over HTTP (issue 14): every signed-in person, whatever their
//! roles, sees and changes their own profile, password, sessions, connected apps and
//! notification preferences, through the admin services as a caller that reaches nobody else.
//! The boundaries (anonymous requests, CSRF, another person's or tenant's ids) are in
//! `console_account_access.rs`, with the helpers of this file.

use crate::backends;
use crate::browser::{
    Browser, PASSWORD, REDIRECT, authorize_url, hidden, param, pkce, user_with_password,
};
use crate::common::{Backend, TestServer};
use crate::refresh::{refresh, tokens, web_app};
use serde_json::{Value, json};

pub(crate) const NEW_PASSWORD: &str = "a brand new passphrase 42";

/// A signed-in browser of `email` (with `password`).
pub(crate) async fn signed_in_with(s: &TestServer, email: &str, password: &str) -> Browser {
    let b = Browser::new(s);
    let page = b.sign_in("/t/acme/login", email, password).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(
        !page.location.as_deref().unwrap_or("").contains("/login"),
        "signed in: {:?}",
        page.location
    );
    b
}

pub(crate) async fn signed_in(s: &TestServer, email: &str) -> Browser {
    signed_in_with(s, email, PASSWORD).await
}

pub(crate) async fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// Posts `form` plus the CSRF token of the page at `page_url`.
pub(crate) async fn post_with_csrf(
    b: &Browser,
    page_url: &str,
    action: &str,
    form: &[(&str, &str)],
) -> crate::browser::Page {
    let page = b.get(page_url).await;
    assert_eq!(page.status, 200, "{page_url}: {}", page.body);
    let csrf = hidden(&page.body, "csrf").expect("a CSRF field");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(form);
    b.post_form(action, &all).await
}

/// Whether the browser is still signed in (the portal answers instead of sending to sign-in).
pub(crate) async fn still_signed_in(b: &Browser) -> bool {
    let page = b.get("/t/acme/account").await;
    match page.status {
        200 => true,
        303 => {
            assert!(page.location.unwrap().starts_with("/t/acme/login?"));
            false
        }
        other => panic!("unexpected {other}: {}", page.body),
    }
}

/// The session ids the sessions page offers to sign out (every one but this browser's).
pub(crate) fn offered_sessions(body: &str) -> Vec<String> {
    offered_in(body, "acme")
}

pub(crate) fn offered_in(body: &str, slug: &str) -> Vec<String> {
    body.split(&format!("/t/{slug}/account/sessions/"))
        .skip(1)
        .filter_map(|rest| rest.split_once("/end\"").map(|(id, _)| id.to_owned()))
        .filter(|id| !id.contains('"') && !id.contains('<'))
        .collect()
}

pub(crate) async fn api_user(s: &TestServer, id: &str) -> Value {
    let (st, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(st, 200, "{u}");
    u
}

/// Every page of the portal, and every POST (with the fields a person would send).
pub(crate) const PAGES: [&str; 7] = [
    "/t/acme/account",
    "/t/acme/account/email",
    "/t/acme/account/password",
    "/t/acme/account/security",
    "/t/acme/account/sessions",
    "/t/acme/account/apps",
    "/t/acme/account/notifications",
];

/// Every person, whatever their roles, has their own portal; only those who administer
/// something are offered the console.
async fn every_person_has_a_portal_and_only_administrators_a_console_link(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, owner) = s.get("/owner").await;
    let owner_id = owner["id"].as_str().unwrap();
    let (st, v) = s
        .put(
            &format!("/users/{owner_id}/password"),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    let mut people = vec![("owner@acme.test", true)];
    for (email, template, console) in [
        ("member@acme.test", None, false),
        ("manager@acme.test", Some("manager"), true),
        ("admin@acme.test", Some("administrator"), true),
    ] {
        let id = id_of(&user_with_password(&s, email).await).await;
        if let Some(t) = template {
            let role = s.role_id(t).await;
            let (st, v) = s
                .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
                .await;
            assert_eq!(st, 201, "{v}");
        }
        people.push((email, console));
    }
    for (email, console) in people {
        let b = signed_in(&s, email).await;
        for url in PAGES {
            let page = b.get(url).await;
            assert_eq!(page.status, 200, "{email} {url}: {}", page.body);
            assert!(page.content_type.starts_with("text/html"));
            assert!(page.body.contains(email), "{email} {url}");
            assert_eq!(
                page.body.contains("href=\"/t/acme/console\""),
                console,
                "{email} {url}: the console link"
            );
            // Every section is in the navigation, and the one shown is marked as current.
            for other in PAGES {
                let link = format!("<a href=\"{other}\" aria-current=\"page\">");
                assert_eq!(page.body.contains(&link), other == url, "{url}: {other}");
                assert!(page.body.contains(&format!("<a href=\"{other}\"")), "{url}");
            }
        }
    }
}

async fn profile_saves_the_persons_own_fields(b: Backend) {
    let s = TestServer::start(b).await;
    let id = id_of(&user_with_password(&s, "ada@acme.test").await).await;
    let (st, v) = s
        .patch(
            &format!("/users/{id}"),
            json!({"display_name": "Ada <b>L</b>"}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let b = signed_in(&s, "ada@acme.test").await;
    let page = b.get("/t/acme/account").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("<b>L</b>"), "markup is escaped");
    assert!(
        page.body.contains("Ada &#60;b&#62;L&#60;/b&#62;")
            || page.body.contains("Ada &lt;b&gt;L&lt;/b&gt;")
    );
    assert!(
        page.body.contains("value=\"ada@acme.test\" readonly"),
        "{}",
        page.body
    );

    // The fields are saved through the service, audited as the person; an emptied one is
    // cleared; a forged `email` or `username` field is not applied.
    let saved = post_with_csrf(
        &b,
        "/t/acme/account",
        "/t/acme/account",
        &[
            ("given_name", "Augusta"),
            ("family_name", "King"),
            ("display_name", ""),
            ("phone", "+44 20 7946 0000"),
            ("locale", "en-GB"),
            ("timezone", "Europe/London"),
            ("email", "mallory@acme.test"),
            ("username", "mallory"),
        ],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(
        saved.location.as_deref(),
        Some("/t/acme/account?notice=saved")
    );
    let u = api_user(&s, &id).await;
    assert_eq!(u["given_name"], "Augusta");
    assert_eq!(u["family_name"], "King");
    assert!(u["display_name"].is_null());
    assert_eq!(u["phone"], "+44 20 7946 0000");
    assert_eq!(u["locale"], "en-GB");
    assert_eq!(u["timezone"], "Europe/London");
    assert_eq!(u["email"], "ada@acme.test");
    assert_eq!(u["username"], "ada@acme.test");
    let (st, audit) = s
        .get(&format!("/audit?action=user.update&target_id={id}"))
        .await;
    assert_eq!(st, 200);
    let mine = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_label"] == "ada@acme.test (account)" && e["actor_id"] == id.as_str())
        .count();
    assert_eq!(mine, 1, "{audit}");
    let page = b.get("/t/acme/account?notice=saved").await;
    assert!(page.body.contains("Your profile was saved."));

    // Bad input is a field error next to its field (400), what was typed kept, nothing saved.
    let long = "9".repeat(60);
    let refused = post_with_csrf(
        &b,
        "/t/acme/account",
        "/t/acme/account",
        &[("given_name", "Typed"), ("phone", &long)],
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("<p class=\"field-error\" id=\"e-phone\">"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("aria-describedby=\"e-phone\""));
    assert!(refused.body.contains("value=\"Typed\""));
    assert!(refused.body.contains(&format!("value=\"{long}\"")));
    assert_eq!(api_user(&s, &id).await, u, "nothing changed");

    // The person's language: their profile's first, else the browser's.
    let fr = b
        .http
        .get(b.absolute_url("/t/acme/account"))
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(fr.contains("Your profile"), "the profile says en-GB");
    let (st, _) = s
        .patch(&format!("/users/{id}"), json!({"locale": null}))
        .await;
    assert_eq!(st, 200);
    let fr = b
        .http
        .get(b.absolute_url("/t/acme/account"))
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        fr.contains("<html lang=\"fr\">") && fr.contains("Votre profil"),
        "{fr}"
    );
    for words in [
        "Aller au contenu",
        "Se déconnecter",
        "aria-label=\"Votre compte\"",
        "Mot de passe",
    ] {
        assert!(fr.contains(words), "the layout in French too: {words}");
    }
    let (st, _) = s
        .patch(&format!("/users/{id}"), json!({"locale": "de"}))
        .await;
    assert_eq!(st, 200);
    let de = b.get("/t/acme/account/sessions").await.body;
    assert!(
        de.contains("<html lang=\"de\">") && de.contains("Ihre Sitzungen"),
        "{de}"
    );
}

/// A wrong current password, two different new ones and a guessable one are field errors and
/// change nothing; a right change ends the person's other sessions and their refresh tokens,
/// keeps this browser, and the old password no longer signs in.
async fn password_change_checks_the_current_one_and_ends_other_sessions(b: Backend) {
    let s = TestServer::start(b).await;
    let (cid, secret) = web_app(&s, &["openid", "email", "offline_access"]).await;
    let client = (cid.as_str(), secret.as_str());
    user_with_password(&s, "ada@acme.test").await;
    let here = signed_in(&s, "ada@acme.test").await;
    let there = Browser::new(&s);
    let there_tokens = tokens(&s, &there, client, "openid email", "ada@acme.test").await;
    let rt_there = there_tokens["refresh_token"].as_str().unwrap().to_owned();
    let offline = Browser::new(&s);
    let offline_tokens = tokens(
        &s,
        &offline,
        client,
        "openid offline_access",
        "ada@acme.test",
    )
    .await;
    let rt_offline = offline_tokens["refresh_token"].as_str().unwrap().to_owned();
    let url = "/t/acme/account/password";
    let form = here.get(url).await;
    assert!(
        form.body.contains("At least 8 characters"),
        "the rule: {}",
        form.body
    );
    for (fields, field) in [
        (
            [
                ("current", "wrong password!"),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
            "current",
        ),
        (
            [
                ("current", PASSWORD),
                ("new", NEW_PASSWORD),
                ("confirm", "something else"),
            ],
            "confirm",
        ),
        (
            [
                ("current", PASSWORD),
                ("new", "password"),
                ("confirm", "password"),
            ],
            "new",
        ),
    ] {
        let refused = post_with_csrf(&here, url, url, &fields).await;
        assert_eq!(refused.status, 400, "{field}: {}", refused.body);
        assert!(
            refused
                .body
                .contains(&format!("<p class=\"field-error\" id=\"e-{field}\">")),
            "{field}: {}",
            refused.body
        );
        assert!(
            !refused.body.contains(NEW_PASSWORD),
            "a password is never sent back"
        );
        assert!(still_signed_in(&there).await, "{field}: nothing changed");
    }
    let (st, audit) = s.get("/audit?action=user.sign_in_failed").await;
    assert_eq!(st, 200);
    assert_eq!(
        audit["items"].as_array().unwrap().len(),
        1,
        "a wrong current password counts as a failed sign-in: {audit}"
    );

    let done = post_with_csrf(
        &here,
        url,
        url,
        &[
            ("current", PASSWORD),
            ("new", NEW_PASSWORD),
            ("confirm", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/t/acme/account/password?notice=changed")
    );
    assert!(still_signed_in(&here).await, "this browser stays");
    assert!(!still_signed_in(&there).await, "the other session ended");
    for rt in [&rt_there, &rt_offline] {
        let (st, v) = refresh(&s, client, rt, &[]).await;
        assert_eq!(st, 400, "{v}");
        assert_eq!(v["error"], "invalid_grant");
    }
    let again = Browser::new(&s);
    let page = again
        .sign_in("/t/acme/login", "ada@acme.test", PASSWORD)
        .await;
    assert_eq!(
        page.status, 401,
        "the old password is refused: {}",
        page.body
    );
    signed_in_with(&s, "ada@acme.test", NEW_PASSWORD).await;
}

async fn sessions_are_listed_and_signed_out_one_or_all_but_this(b: Backend) {
    let s = TestServer::start(b).await;
    let (cid, secret) = web_app(&s, &["openid", "email"]).await;
    let client = (cid.as_str(), secret.as_str());
    user_with_password(&s, "ada@acme.test").await;
    let here = signed_in(&s, "ada@acme.test").await;
    let there = Browser::new(&s);
    let rt = tokens(&s, &there, client, "openid email", "ada@acme.test").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = here.get("/t/acme/account/sessions").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.body.matches("This browser").count(),
        1,
        "{}",
        page.body
    );
    assert_eq!(
        page.body.matches("<tr>").count(),
        3,
        "a head and two sessions"
    );
    assert!(page.body.contains("Password"));
    assert!(
        page.body.contains("<td>127.0.0.1</td>"),
        "where: {}",
        page.body
    );
    assert!(
        page.body.contains("Unknown device"),
        "a client that names no browser"
    );
    let offered = offered_sessions(&page.body);
    assert_eq!(offered.len(), 1, "{offered:?}");
    let other = &offered[0];

    // One session, after a confirmation page: it ends and its refresh token with it.
    let confirm_url = format!("/t/acme/account/sessions/{other}/end");
    let confirm = here.get(&confirm_url).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("Sign out this session?"));
    assert!(
        still_signed_in(&there).await,
        "a confirmation page changes nothing"
    );
    let done = post_with_csrf(&here, &confirm_url, &confirm_url, &[]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/t/acme/account/sessions?notice=ended")
    );
    assert!(!still_signed_in(&there).await);
    assert!(still_signed_in(&here).await);
    let (st, v) = refresh(&s, client, &rt, &[]).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let (st, audit) = s.get("/audit?action=user.sign_out").await;
    assert_eq!(st, 200);
    assert_eq!(audit["items"][0]["actor_label"], "ada@acme.test (account)");
    // Ending it again: not found.
    let again = post_with_csrf(&here, "/t/acme/account/sessions", &confirm_url, &[]).await;
    assert_eq!(again.status, 404, "{}", again.body);

    // This browser's own session is not ended from here (the layout's sign-out does it).
    let page = here.get("/t/acme/account/sessions").await;
    assert!(offered_sessions(&page.body).is_empty());
    assert!(page.body.contains("You are signed in only here."));

    // Everywhere else: two more browsers, both end; this one stays. A browser is named by its
    // User-Agent.
    let a = Browser {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
            )
            .build()
            .unwrap(),
        base: s.base.clone(),
    };
    let signed = a.sign_in("/t/acme/login", "ada@acme.test", PASSWORD).await;
    assert_eq!(signed.status, 303);
    let page = here.get("/t/acme/account/sessions").await;
    assert!(page.body.contains("Firefox on Windows"), "{}", page.body);
    let c = signed_in(&s, "ada@acme.test").await;
    let url = "/t/acme/account/sessions/others";
    let confirm = here.get(url).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Sign out everywhere else?"));
    let done = post_with_csrf(&here, url, url, &[]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/t/acme/account/sessions?notice=others")
    );
    assert!(!still_signed_in(&a).await && !still_signed_in(&c).await);
    assert!(still_signed_in(&here).await);
}

/// A third-party confidential client with refresh tokens: (client_id, secret).
pub(crate) async fn third_party_app(s: &TestServer, name: &str) -> (String, String) {
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": name, "redirect_uris": [REDIRECT],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "scopes": ["openid", "profile", "offline_access"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["first_party"], false);
    (
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// Signs in (if needed) and allows `client` on its consent page: the token response.
pub(crate) async fn consented_tokens(
    s: &TestServer,
    b: &Browser,
    (id, secret): (&str, &str),
    email: &str,
) -> Value {
    let (verifier, challenge) = pkce();
    let scope = "openid profile offline_access";
    let mut page = b
        .get(&authorize_url(id, &challenge, &[("scope", scope)]))
        .await;
    if let Some(login) = page
        .location
        .clone()
        .filter(|l| l.starts_with("/t/acme/login"))
    {
        let signed = b.sign_in(&login, email, PASSWORD).await;
        assert_eq!(signed.status, 303, "{}", signed.body);
        page = b.get(&signed.location.unwrap()).await;
    }
    assert_eq!(page.status, 200, "the consent page: {}", page.body);
    let mut form: Vec<(String, String)> = page
        .body
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            let value = rest
                .split_once('"')
                .unwrap()
                .0
                .replace("&amp;", "&")
                .replace("&quot;", "\"");
            (name.to_owned(), value)
        })
        .collect();
    form.push(("decision".into(), "allow".into()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let done = b.post_form("/t/acme/authorize/consent", &pairs).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let code = param(&done.location.unwrap(), "code").expect("a code");
    let (st, _, body) = crate::token(
        s,
        "acme",
        Some((id, secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(st, 200, "{body}");
    body
}

pub(crate) async fn consents_of(s: &TestServer, uid: &str) -> Value {
    let (st, v) = s.get(&format!("/users/{uid}/consents")).await;
    assert_eq!(st, 200, "{v}");
    v["items"].clone()
}

async fn connected_apps_are_listed_and_revoked_with_their_tokens(b: Backend) {
    let s = TestServer::start(b).await;
    let (cid, secret) = third_party_app(&s, "Budget <Tracker>").await;
    let uid = id_of(&user_with_password(&s, "ada@acme.test").await).await;
    let b = signed_in(&s, "ada@acme.test").await;
    let empty = b.get("/t/acme/account/apps").await;
    assert!(
        empty.body.contains("No app has access to your account."),
        "{}",
        empty.body
    );
    let t = consented_tokens(&s, &b, (&cid, &secret), "ada@acme.test").await;
    let rt = t["refresh_token"].as_str().unwrap().to_owned();

    let page = b.get("/t/acme/account/apps").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Budget &#60;Tracker&#62;")
            || page.body.contains("Budget &lt;Tracker&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<Tracker>"));
    let url = format!("/t/acme/account/apps/{cid}/revoke");
    assert!(
        page.body.contains(&format!("href=\"{url}\"")),
        "{}",
        page.body
    );
    let confirm = b.get(&url).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("Revoke the access of Budget"));
    assert_eq!(consents_of(&s, &uid).await.as_array().unwrap().len(), 1);
    let done = post_with_csrf(&b, &url, &url, &[]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/t/acme/account/apps?notice=revoked")
    );
    assert_eq!(consents_of(&s, &uid).await, json!([]));
    let (st, v) = refresh(&s, (&cid, &secret), &rt, &[]).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "an offline token goes too: {v}"
    );
    let page = b.get("/t/acme/account/apps?notice=revoked").await;
    assert!(
        page.body.contains("The app&#39;s access was revoked.")
            || page.body.contains("The app's access was revoked."),
        "{}",
        page.body
    );
    let again = post_with_csrf(&b, "/t/acme/account/apps", &url, &[]).await;
    assert_eq!(again.status, 404);
}

async fn notification_preferences_are_saved(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, v) = s
        .post(
            "/notification-types",
            json!({"key": "jobs.new", "description": "New <job> assigned"}),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let uid = id_of(&user_with_password(&s, "ada@acme.test").await).await;
    let b = signed_in(&s, "ada@acme.test").await;
    let url = "/t/acme/account/notifications";
    let page = b.get(url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("A sign-in from a new device or place"));
    let first = page.body.find("A sign-in from a new device").unwrap();
    let custom = page
        .body
        .find("New &#60;job&#62;")
        .or_else(|| page.body.find("New &lt;job&gt;"))
        .unwrap();
    assert!(first < custom, "the built-in types first");
    assert!(
        page.body.contains("New &#60;job&#62; assigned")
            || page.body.contains("New &lt;job&gt; assigned")
    );
    let (st, before) = s.get(&format!("/users/{uid}/notifications")).await;
    assert_eq!(st, 200, "{before}");

    // Everything on by email only, but new jobs off.
    let (_, types) = s.get("/notification-types").await;
    let keys: Vec<String> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap().to_owned())
        .collect();
    assert!(keys.len() >= 8, "{types}");
    let mut form: Vec<(String, String)> = Vec::new();
    for k in &keys {
        if k != "jobs.new" {
            form.push(("on".into(), k.clone()));
        }
        form.push(("channel".into(), format!("{k}:email")));
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let done = post_with_csrf(&b, url, url, &pairs).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/t/acme/account/notifications?notice=saved")
    );
    let (_, after) = s.get(&format!("/users/{uid}/notifications")).await;
    for p in after.as_array().unwrap() {
        let key = p["event_type"].as_str().unwrap();
        assert_eq!(p["enabled"], key != "jobs.new", "{after}");
        assert_eq!(p["channels"], json!(["email"]), "{after}");
    }
    // A forged channel is refused with the form's error, and nothing changes.
    let refused = post_with_csrf(
        &b,
        url,
        url,
        &[("on", "jobs.new"), ("channel", "jobs.new:sms")],
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("role=\"alert\""));
    let (_, unchanged) = s.get(&format!("/users/{uid}/notifications")).await;
    assert_eq!(unchanged, after);
}

/// Guessing the current password on the password page counts against the account's sign-in
/// lock: after a few wrong ones even the right one is not judged (429), and nothing changes.
async fn guessing_the_current_password_locks_like_a_sign_in(b: Backend) {
    let s = TestServer::start(b).await;
    let id = id_of(&user_with_password(&s, "ada@acme.test").await).await;
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let uid = castellan::domain::UserId(id.clone());
    let hash = s.store.password_hash(&tenant.id, &uid).await.unwrap();
    let b = signed_in(&s, "ada@acme.test").await;
    let url = "/t/acme/account/password";
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let page = post_with_csrf(
            &b,
            url,
            url,
            &[
                ("current", "a wrong guess"),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
        statuses.push(page.status);
    }
    assert_eq!(statuses[0], 400, "{statuses:?}");
    assert_eq!(*statuses.last().unwrap(), 429, "locked: {statuses:?}");
    let right = post_with_csrf(
        &b,
        url,
        url,
        &[
            ("current", PASSWORD),
            ("new", NEW_PASSWORD),
            ("confirm", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(right.status, 429, "{}", right.body);
    assert!(
        right.body.contains("Too many wrong passwords"),
        "{}",
        right.body
    );
    assert!(right.body.contains("id=\"e-current\""));
    assert_eq!(
        s.store.password_hash(&tenant.id, &uid).await.unwrap(),
        hash,
        "unchanged"
    );
    let (_, audit) = s
        .get(&format!("/audit?action=user.sign_in_locked&target_id={id}"))
        .await;
    assert!(
        !audit["items"].as_array().unwrap().is_empty(),
        "the lock is audited: {audit}"
    );
}

backends!(
    every_person_has_a_portal_and_only_administrators_a_console_link,
    profile_saves_the_persons_own_fields,
    password_change_checks_the_current_one_and_ends_other_sessions,
    sessions_are_listed_and_signed_out_one_or_all_but_this,
    connected_apps_are_listed_and_revoked_with_their_tokens,
    notification_preferences_are_saved,
    guessing_the_current_password_locks_like_a_sign_in,
);
