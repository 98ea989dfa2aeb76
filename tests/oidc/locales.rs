//! `ui_locales` (OpenID Connect Core §3.1.2.1): the sign-in, consent and error pages in the
//! language asked for, else the browser's `Accept-Language`, else English.

use crate::backends;
use crate::browser::*;
use crate::common::{Backend, TestServer};

/// GETs `url` with `Accept-Language: accept`.
async fn get_in(b: &Browser, url: &str, accept: &str) -> (u16, Option<String>, String) {
    let res = b
        .http
        .get(format!("{}{url}", b.base))
        .header("accept-language", accept)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (status, location, res.text().await.unwrap())
}

/// Signs in with a wrong password on the page at `login`: the refusal page.
async fn refused(b: &Browser, login: &str, email: &str) -> Page {
    let page = b.sign_in(login, email, "wrong password").await;
    assert_eq!(page.status, 401, "{}", page.body);
    page
}

async fn ui_locales_reach_the_sign_in_page(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let (_, challenge) = pkce();
    let page = browser
        .get(&authorize_url(
            &client_id,
            &challenge,
            &[("ui_locales", "fr-CA en")],
        ))
        .await;
    assert_eq!(page.status, 303);
    let login = page.location.unwrap();
    assert_eq!(param(&login, "ui_locales").as_deref(), Some("fr-CA en"));
    let page = browser.get(&login).await;
    assert_eq!(page.status, 200);
    for needle in [
        "<html lang=\"fr\">",
        "<title>Se connecter · Acme</title>",
        "<label for=\"email\">Adresse e-mail ou nom d’utilisateur</label>",
        "<label for=\"password\">Mot de passe</label>",
        ">Se connecter</button>",
        "Sécurisé par Castellan",
    ] {
        assert!(page.body.contains(needle), "{needle} in {}", page.body);
    }
    // Every refusal is the same, in French.
    const FR: &str = "Adresse e-mail ou mot de passe incorrect";
    let wrong = refused(&browser, &login, "ada@acme.test").await;
    let unknown = refused(&browser, &login, "nobody@acme.test").await;
    for p in [&wrong, &unknown] {
        assert!(p.body.contains(FR), "{}", p.body);
        assert!(p.body.contains("<html lang=\"fr\">"));
        assert!(!p.body.contains("Email or password is incorrect"));
    }
    // Signing in returns to the request, still in French.
    let page = browser.sign_in(&login, "ada@acme.test", PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let back = page.location.unwrap();
    assert_eq!(param(&back, "ui_locales").as_deref(), Some("fr-CA en"));
}

async fn accept_language_and_fallback(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let (st, _, body) = get_in(&browser, "/t/acme/login", "de-DE,de;q=0.9,en;q=0.5").await;
    assert_eq!(st, 200);
    assert!(body.contains("<html lang=\"de\">"), "{body}");
    assert!(body.contains("<label for=\"email\">E-Mail-Adresse oder Benutzername</label>"));
    assert!(body.contains("<label for=\"password\">Passwort</label>"));
    assert!(body.contains(">Anmelden</button>"));
    // The German refusal, the same for every failure.
    let res = browser
        .http
        .post(format!("{}/t/acme/login", s.base))
        .header("accept-language", "de")
        .form(&[
            ("email", "nobody@acme.test"),
            ("password", "x"),
            ("csrf", &hidden(&body, "csrf").unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("E-Mail-Adresse oder Passwort ist falsch")
    );
    // ui_locales wins over Accept-Language.
    let (_, _, body) = get_in(&browser, "/t/acme/login?ui_locales=fr", "de").await;
    assert!(body.contains("<html lang=\"fr\">"), "{body}");
    // Unknown languages: English.
    for (url, accept) in [
        ("/t/acme/login?ui_locales=ja%20ko", "pt-BR"),
        ("/t/acme/login", "*"),
        ("/t/acme/login", "de;q=0"),
    ] {
        let (_, _, body) = get_in(&browser, url, accept).await;
        assert!(
            body.contains("<html lang=\"en\">"),
            "{url} {accept}: {body}"
        );
        assert!(body.contains("<label for=\"password\">Password</label>"));
    }
    // Error pages too.
    let (st, _, body) = get_in(&browser, "/t/acme/authorize?response_type=code", "de").await;
    assert_eq!(st, 400);
    assert!(body.contains("<html lang=\"de\">"), "{body}");
    assert!(body.contains("Dieser Anmeldelink ist ungültig"));
}

async fn consent_page_in_german(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, c) = s
        .post(
            "/clients",
            serde_json::json!({ "name": "Partner", "kind": "public", "redirect_uris": [REDIRECT],
                    "grant_types": ["authorization_code"], "scopes": ["openid", "email"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let client_id = c["client_id"].as_str().unwrap();
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let (_, challenge) = pkce();
    let url = authorize_url(
        client_id,
        &challenge,
        &[("scope", "openid email"), ("ui_locales", "de")],
    );
    let page = browser.get(&url).await;
    let page = browser
        .sign_in(&page.location.unwrap(), "ada@acme.test", PASSWORD)
        .await;
    let page = browser.get(&page.location.unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for needle in [
        "<html lang=\"de\">",
        "<strong>Partner</strong> möchte auf Ihr Konto zugreifen",
        "Angemeldet als <strong>ada@acme.test</strong>",
        "<li>Sie anmelden</li>",
        "<li>Ihre E-Mail-Adresse sehen</li>",
        ">Zulassen</button>",
        ">Ablehnen</button>",
    ] {
        assert!(page.body.contains(needle), "{needle} in {}", page.body);
    }
}

/// Texts of the English pages that must not appear in the French or German ones (the visible
/// text, tags and attributes left out).
const ENGLISH: &[&str] = &[
    "Sign in",
    "Email or username",
    "Keep me signed in",
    "Secured by Castellan",
    "wants to access",
    "Signed in as",
    "Allow",
    "Deny",
    "Sign out",
    "Stay signed in",
    "You are signed",
    "You are not signed",
    "Something went wrong",
    "If you followed a link",
    "Form expired",
    "The form has expired",
    "Confirm it's you",
    "Add a second sign-in method",
    "Verify",
    "Lost your device",
    "Use the recovery code",
    "Add a passkey",
    "Set up an authenticator app",
    "Your organisation requires",
    "An application asks",
];

/// The text a person reads on `html`: tags (with their attributes) and entities left out.
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
}

/// `page` is in `lang`: its `lang` attribute, and (in French or German) no English text.
fn assert_in(lang: &str, what: &str, page: &Page) {
    assert!(
        page.body.contains(&format!("<html lang=\"{lang}\">")),
        "{what} in {lang}: {}",
        page.body
    );
    if lang != "en" {
        let text = visible_text(&page.body);
        for english in ENGLISH {
            assert!(
                !text.contains(english),
                "{english:?} on {what} in {lang}: {text}"
            );
        }
    }
}

/// Every page a person sees on the way to an app, in each language: sign-in, its refusal, an
/// expired form, consent, the home page signed in and out, the sign-out confirmation and the
/// signed-out page, an error page, and the second-factor page (enrolment, a code, a wrong code).
async fn every_page_in_every_language(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, c) = s
        .post(
            "/clients",
            serde_json::json!({ "name": "Partner", "kind": "public", "redirect_uris": [REDIRECT],
                    "grant_types": ["authorization_code"], "scopes": ["openid", "email"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let client_id = c["client_id"].as_str().unwrap().to_owned();
    user_with_password(&s, "ada@acme.test").await;
    for lang in ["en", "fr", "de"] {
        let b = Browser::new(&s);
        let ui = [("ui_locales", lang)];
        let login = format!("/t/acme/login?ui_locales={lang}");
        assert_in(lang, "sign-in", &b.get(&login).await);
        assert_in(lang, "refusal", &refused(&b, &login, "ada@acme.test").await);
        let expired = b
            .post_form(
                "/t/acme/login",
                &[
                    ("email", "a"),
                    ("password", "b"),
                    ("csrf", "x"),
                    ("ui_locales", lang),
                ],
            )
            .await;
        assert_eq!(expired.status, 403);
        assert_in(lang, "expired form", &expired);
        let (st, _, body) = get_in(&b, "/t/acme/", lang).await;
        assert_eq!(st, 200);
        assert_in(lang, "home signed out", &page_of(st, body));
        let (_, challenge) = pkce();
        let url = authorize_url(&client_id, &challenge, &[("scope", "openid email"), ui[0]]);
        let page = b.get(&url).await;
        let page = b
            .sign_in(&page.location.unwrap(), "ada@acme.test", PASSWORD)
            .await;
        let consent = b.get(&page.location.unwrap()).await;
        assert_eq!(consent.status, 200, "{}", consent.body);
        assert_in(lang, "consent", &consent);
        let (st, _, body) = get_in(&b, "/t/acme/", lang).await;
        assert_in(lang, "home signed in", &page_of(st, body));
        let confirm = b.get(&format!("/t/acme/logout?ui_locales={lang}")).await;
        assert_eq!(confirm.status, 200, "{}", confirm.body);
        assert_in(lang, "sign-out confirmation", &confirm);
        let csrf = hidden(&confirm.body, "csrf").unwrap();
        let out = b
            .post_form(
                "/t/acme/logout/confirm",
                &[("csrf", &csrf), ("ui_locales", lang)],
            )
            .await;
        assert_eq!(out.status, 200, "{}", out.body);
        assert_in(lang, "signed out", &out);
        let (st, _, body) = get_in(&b, "/t/acme/authorize?response_type=code", lang).await;
        assert_eq!(st, 400);
        assert!(body.contains(&format!("<html lang=\"{lang}\">")), "{body}");
    }
    // The second-factor page: enrolment (the policy requires a second factor).
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let required = castellan::domain::mfa::MfaSettings {
        policy: castellan::domain::mfa::MfaPolicy::Required,
        ..Default::default()
    };
    s.store
        .set_mfa_settings(
            &tenant.id,
            &required,
            &castellan::domain::audit::Actor::system(),
        )
        .await
        .unwrap();
    for lang in ["en", "fr", "de"] {
        let b = Browser::new(&s);
        let login = format!("/t/acme/login?ui_locales={lang}");
        let page = b.sign_in(&login, "ada@acme.test", PASSWORD).await;
        let mfa = page.location.unwrap();
        assert!(mfa.starts_with("/t/acme/login/mfa?"), "{mfa}");
        let page = b.get(&mfa).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("data-kind=\"passkey\""), "{}", page.body);
        assert_in(lang, "second factor (enrolment)", &page);
    }
    // An authenticator app, set up from the link the page offers.
    let b = Browser::new(&s);
    let page = b.sign_in("/t/acme/login", "ada@acme.test", PASSWORD).await;
    let page = b.get(&page.location.unwrap()).await;
    let setup = page
        .body
        .split("href=\"")
        .filter_map(|h| h.split_once('"').map(|(u, _)| unescape(u)))
        .find(|u| u.contains("/account/security/totp"))
        .expect("a link to set up an authenticator app");
    crate::mfa::enrol_totp(&b, &setup).await;
    // Then the page asking for a code, and its refusal of a wrong one.
    for lang in ["en", "fr", "de"] {
        let b = Browser::new(&s);
        let login = format!("/t/acme/login?ui_locales={lang}");
        let page = b.sign_in(&login, "ada@acme.test", PASSWORD).await;
        let page = b.get(&page.location.unwrap()).await;
        assert!(page.body.contains("id=\"totp-code\""), "{}", page.body);
        assert_in(lang, "second factor (a code)", &page);
        let csrf = hidden(&page.body, "csrf").unwrap();
        let form = [
            ("csrf", csrf.as_str()),
            ("code", "12345"),
            ("ui_locales", lang),
        ];
        let wrong = b.post_form("/t/acme/login/mfa/totp", &form).await;
        assert_eq!(wrong.status, 401, "{}", wrong.body);
        assert!(wrong.body.contains("role=\"alert\""), "{}", wrong.body);
        assert_in(lang, "second factor (a wrong code)", &wrong);
    }
}

/// Strings with markup that breaks out of text, attributes, titles and comments, generated from
/// pieces; each has `<b>x</b>`, to find on the page escaped.
fn hostile_strings() -> Vec<String> {
    const PIECES: &[&str] = &[
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "' autofocus onfocus='alert(1)",
        "</title></main><b>",
        "&amp;&lt;&#39;",
        "{app} {email} {tenant}",
        "<!--",
        "]]><svg onload=alert(1)>",
    ];
    (0..4)
        .map(|i| {
            let a = PIECES[(i * 2) % PIECES.len()];
            let z = PIECES[(i * 2 + 1) % PIECES.len()];
            format!("T{i} {a} <b>x</b> {z}")
        })
        .collect()
}

/// `page` shows `hostile` escaped, and none of its markup.
fn assert_escaped(what: &str, page: &Page, hostile: &str) {
    let body = &page.body;
    assert!(!body.contains(hostile), "{what}: raw {hostile:?} in {body}");
    for raw in ["<b>", "<img", "<svg", "<script>alert", "<!--"] {
        assert!(!body.contains(raw), "{what}: {raw} in {body}");
    }
    assert!(
        body.contains("&#60;b&#62;x&#60;/b&#62;"),
        "{what}: {hostile:?} shown escaped in {body}"
    );
}

/// Markup in a tenant's name, an app's name, an email typed in the sign-in form, a login hint,
/// `return_to`, `state` and `ui_locales` is shown escaped on every page a person sees (in text,
/// in titles and in the hidden fields that carry a request along).
async fn markup_is_escaped_on_every_page(b: Backend) {
    let s = TestServer::start(b).await;
    for (i, hostile) in hostile_strings().iter().enumerate() {
        let slug = format!("evil{i}");
        let (tenant, _) =
            castellan::cli::create_tenant(&s.store, &slug, hostile, &format!("o@{slug}.test"))
                .await
                .unwrap();
        let token = castellan::cli::create_token(&s.store, &tenant.id, "t", None)
            .await
            .unwrap();
        let api = |path: &str| format!("{}/t/{slug}/api/v1{path}", s.base);
        let (st, u) = s
            .call_as(
                &token,
                reqwest::Method::POST,
                &api("/users"),
                Some(serde_json::json!({ "email": "ada@evil.test", "email_verified": true })),
            )
            .await;
        assert_eq!(st, 201, "{u}");
        let (st, v) = s
            .call_as(
                &token,
                reqwest::Method::PUT,
                &api(&format!("/users/{}/password", u["id"].as_str().unwrap())),
                Some(serde_json::json!({ "password": PASSWORD })),
            )
            .await;
        assert_eq!(st, 204, "{v}");
        let (st, c) = s
            .call_as(
                &token,
                reqwest::Method::POST,
                &api("/clients"),
                Some(serde_json::json!({ "name": hostile, "kind": "public",
                    "redirect_uris": [REDIRECT], "grant_types": ["authorization_code"],
                    "scopes": ["openid", "email"] })),
            )
            .await;
        assert_eq!(st, 201, "{c}");
        let client_id = c["client_id"].as_str().unwrap();

        let b = Browser::new(&s);
        let h = crate::enc(hostile);
        let login = b
            .get(&format!(
                "/t/{slug}/login?login_hint={h}&return_to={h}&ui_locales={h}"
            ))
            .await;
        assert_eq!(login.status, 200);
        assert_escaped("sign-in", &login, hostile);
        let csrf = hidden(&login.body, "csrf").unwrap();
        let refused = b
            .post_form(
                &format!("/t/{slug}/login"),
                &[("email", hostile), ("password", "wrong"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(refused.status, 401);
        assert_escaped("refusal", &refused, hostile);
        assert_escaped(
            "home signed out",
            &b.get(&format!("/t/{slug}/")).await,
            hostile,
        );
        let page = b
            .post_form(
                &format!("/t/{slug}/login"),
                &[
                    ("email", "ada@evil.test"),
                    ("password", PASSWORD),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert_escaped(
            "home signed in",
            &b.get(&format!("/t/{slug}/")).await,
            hostile,
        );
        let (_, challenge) = pkce();
        let extra = [
            ("scope", "openid email"),
            ("state", hostile.as_str()),
            ("ui_locales", hostile.as_str()),
        ];
        let url = authorize_url(client_id, &challenge, &extra).replacen(
            "/t/acme/",
            &format!("/t/{slug}/"),
            1,
        );
        let consent = b.get(&url).await;
        assert_eq!(consent.status, 200, "{}", consent.body);
        assert!(
            consent.body.contains("name=\"decision\""),
            "{}",
            consent.body
        );
        assert_escaped("consent", &consent, hostile);
        // The app's name is shown too when the request names it.
        let confirm = b
            .get(&format!(
                "/t/{slug}/logout?client_id={client_id}&ui_locales={h}&state={h}"
            ))
            .await;
        assert_eq!(confirm.status, 200, "{}", confirm.body);
        assert_escaped("sign-out confirmation", &confirm, hostile);
        let csrf = hidden(&confirm.body, "csrf").unwrap();
        let out = b
            .post_form(
                &format!("/t/{slug}/logout/confirm"),
                &[("csrf", &csrf), ("client_id", client_id)],
            )
            .await;
        assert_eq!(out.status, 200, "{}", out.body);
        assert_escaped("signed out", &out, hostile);
        // The second-factor page, once the tenant requires one.
        let required = castellan::domain::mfa::MfaSettings {
            policy: castellan::domain::mfa::MfaPolicy::Required,
            ..Default::default()
        };
        s.store
            .set_mfa_settings(
                &tenant.id,
                &required,
                &castellan::domain::audit::Actor::system(),
            )
            .await
            .unwrap();
        let b = Browser::new(&s);
        let login = b.get(&format!("/t/{slug}/login")).await;
        let csrf = hidden(&login.body, "csrf").unwrap();
        let page = b
            .post_form(
                &format!("/t/{slug}/login"),
                &[
                    ("email", "ada@evil.test"),
                    ("password", PASSWORD),
                    ("csrf", &csrf),
                ],
            )
            .await;
        let mfa = page.location.unwrap();
        assert!(mfa.starts_with(&format!("/t/{slug}/login/mfa?")), "{mfa}");
        let page = b.get(&mfa).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_escaped("second factor", &page, hostile);
    }
}

/// The console's pages and the people's pages extend the same base: one head (language,
/// stylesheet, htmx), the console's title made of the page's and the tenant's.
async fn console_and_people_pages_share_the_base(b: Backend) {
    let s = TestServer::start(b).await;
    let admin = user_with_password(&s, "admin@acme.test").await;
    let role = s.role_id("administrator").await;
    let (st, v) = s
        .post(
            &format!("/users/{}/roles", admin["id"].as_str().unwrap()),
            serde_json::json!({ "role_id": role }),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let b = Browser::new(&s);
    let login = b.get("/t/acme/login").await;
    let page = b
        .sign_in("/t/acme/login", "admin@acme.test", PASSWORD)
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let users = b.get("/t/acme/console/users").await;
    assert_eq!(users.status, 200, "{}", users.body);
    assert!(
        users.body.contains("<title>Users · Acme</title>"),
        "{}",
        users.body
    );
    let head = |html: &str| {
        let start = html.find("<meta charset").unwrap();
        let (head, _) = html[start..].split_once("<title>").unwrap();
        head.to_owned()
    };
    assert_eq!(head(&users.body), head(&login.body));
    for page in [&users, &login] {
        assert!(
            page.body
                .contains("<link rel=\"stylesheet\" href=\"/static/castellan.css\">")
        );
        assert!(page.body.contains("<html lang=\"en\">"));
        assert!(
            !page.body.contains("<style"),
            "no inline style: {}",
            page.body
        );
    }
}

fn page_of(status: u16, body: String) -> Page {
    Page {
        status,
        location: None,
        content_type: "text/html".into(),
        body,
    }
}

backends!(
    ui_locales_reach_the_sign_in_page,
    accept_language_and_fallback,
    consent_page_in_german,
    every_page_in_every_language,
    markup_is_escaped_on_every_page,
    console_and_people_pages_share_the_base
);
