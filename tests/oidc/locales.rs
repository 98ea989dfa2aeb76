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

backends!(
    ui_locales_reach_the_sign_in_page,
    accept_language_and_fallback,
    consent_page_in_german
);
