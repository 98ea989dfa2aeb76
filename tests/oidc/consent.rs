//! Consent (OpenID Connect Core §3.1.2.4, `prompt` §3.1.2.1): third-party clients ask once per
//! scope, `prompt=consent` always, `prompt=none` gets `consent_required`; Allow, Deny, CSRF; the
//! admin API's list and revoke.

use crate::backends;
use crate::browser::*;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A third-party public client: (client_id, internal id).
pub(crate) async fn third_party_client(s: &TestServer) -> (String, String) {
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Budget <Tracker>", "kind": "public", "redirect_uris": [REDIRECT],
                    "grant_types": ["authorization_code"],
                    "scopes": ["openid", "profile", "email", "offline_access", "roles", "billing:read"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["first_party"], false);
    (
        c["client_id"].as_str().unwrap().to_owned(),
        c["id"].as_str().unwrap().to_owned(),
    )
}

/// Every hidden field of `html`, unescaped, in order.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            let value = rest.split_once('"').unwrap().0;
            (unescape(name), unescape(value))
        })
        .collect()
}

/// Goes to the authorize endpoint with `extra` parameters, signing in as `email` when needed;
/// returns the page or redirect the signed-in request ends at.
pub(crate) async fn authorize(
    b: &Browser,
    client_id: &str,
    extra: &[(&str, &str)],
    email: &str,
) -> Page {
    let (_, challenge) = pkce();
    let page = b.get(&authorize_url(client_id, &challenge, extra)).await;
    let Some(login) = page
        .location
        .clone()
        .filter(|l| l.starts_with("/t/acme/login"))
    else {
        return page;
    };
    let page = b.sign_in(&login, email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    b.get(&page.location.unwrap()).await
}

/// Posts the consent page's form with `decision`, changing fields as `edit` says.
pub(crate) async fn answer(
    b: &Browser,
    page: &Page,
    decision: &str,
    edit: &[(&str, &str)],
) -> Page {
    let mut form = hidden_fields(&page.body);
    for (k, v) in edit {
        form.retain(|(fk, _)| fk != k);
        if !v.is_empty() {
            form.push((k.to_string(), v.to_string()));
        }
    }
    form.push(("decision".into(), decision.into()));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_form("/t/acme/authorize/consent", &form).await
}

fn assert_consent_page(page: &Page) {
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.body.contains("action=\"/t/acme/authorize/consent\""));
    assert!(page.body.contains("value=\"allow\"") && page.body.contains("value=\"deny\""));
}

pub(crate) fn code_of(page: &Page) -> String {
    assert_eq!(page.status, 303, "{}", page.body);
    let to = page.location.clone().unwrap();
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(param(&to, "state").as_deref(), Some("st-123"));
    param(&to, "code").unwrap_or_else(|| panic!("a code in {to}"))
}

async fn consents_of(s: &TestServer, user_id: &str) -> Value {
    let (st, v) = s.get(&format!("/users/{user_id}/consents")).await;
    assert_eq!(st, 200, "{v}");
    v["items"].clone()
}

async fn asks_once_per_scope(b: Backend) {
    let s = TestServer::start(b).await;
    let (client_id, _) = third_party_client(&s).await;
    let user = user_with_password(&s, "ada@acme.test").await;
    let uid = user["id"].as_str().unwrap();
    let browser = Browser::new(&s);

    let page = authorize(
        &browser,
        &client_id,
        &[("scope", "openid profile billing:read")],
        "ada@acme.test",
    )
    .await;
    assert_consent_page(&page);
    for needle in [
        "<html lang=\"en\">",
        "<p class=\"tenant\">Acme</p>",
        "<strong>Budget &#60;Tracker&#62;</strong> wants to access your account",
        "Signed in as <strong>ada@acme.test</strong>",
        "<li>Sign you in</li>",
        "<li>See your name and profile</li>",
        "<li><code>billing:read</code></li>",
        ">Allow</button>",
        ">Deny</button>",
    ] {
        assert!(page.body.contains(needle), "{needle} in {}", page.body);
    }
    assert!(!page.body.contains("See your email address"));
    assert!(consents_of(&s, uid).await.as_array().unwrap().is_empty());

    // Allow: a code that the token endpoint exchanges.
    let verifier_page = {
        let (verifier, challenge) = pkce();
        let page = browser
            .get(&authorize_url(
                &client_id,
                &challenge,
                &[("scope", "openid profile billing:read")],
            ))
            .await;
        assert_consent_page(&page);
        (verifier, page)
    };
    let (verifier, page) = verifier_page;
    let code = code_of(&answer(&browser, &page, "allow", &[]).await);
    let (st, _, tokens) = exchange(&s, &client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{tokens}");
    assert_eq!(tokens["scope"], "openid profile billing:read");
    let items = consents_of(&s, uid).await;
    assert_eq!(items[0]["client_id"], client_id.as_str());
    assert_eq!(items[0]["client_name"], "Budget <Tracker>");
    assert_eq!(
        items[0]["scopes"],
        json!(["openid", "profile", "billing:read"])
    );

    // The same scopes again, or fewer: no page.
    code_of(
        &authorize(
            &browser,
            &client_id,
            &[("scope", "openid profile billing:read")],
            "",
        )
        .await,
    );
    code_of(&authorize(&browser, &client_id, &[("scope", "openid")], "").await);
    // A new scope: the page again, for the new scope only.
    let page = authorize(&browser, &client_id, &[("scope", "openid email")], "").await;
    assert_consent_page(&page);
    assert!(
        page.body.contains("<li>See your email address</li>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("You already allowed it to:"));
    // ...and prompt=none for it: consent_required, with state and iss.
    let none = authorize(
        &browser,
        &client_id,
        &[("scope", "openid email"), ("prompt", "none")],
        "",
    )
    .await;
    assert_eq!(none.status, 303);
    let to = none.location.unwrap();
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(param(&to, "error").as_deref(), Some("consent_required"));
    assert_eq!(param(&to, "state").as_deref(), Some("st-123"));
    assert_eq!(param(&to, "iss"), Some(format!("{}/t/acme", s.base)));
    code_of(&answer(&browser, &page, "allow", &[]).await);
    let items = consents_of(&s, uid).await;
    assert_eq!(
        items[0]["scopes"],
        json!(["openid", "profile", "billing:read", "email"])
    );
    // prompt=none once consented: a code.
    code_of(
        &authorize(
            &browser,
            &client_id,
            &[("scope", "openid email"), ("prompt", "none")],
            "",
        )
        .await,
    );
    // prompt=consent: the page every time, for every requested scope.
    let page = authorize(
        &browser,
        &client_id,
        &[("scope", "openid email"), ("prompt", "consent")],
        "",
    )
    .await;
    assert_consent_page(&page);
    assert!(page.body.contains("<li>Sign you in</li>"));
    assert!(!page.body.contains("You already allowed"));
    code_of(&answer(&browser, &page, "allow", &[]).await);

    // Revoked through the admin API: the page comes back.
    let (st, v) = s
        .delete(&format!("/users/{uid}/consents/{client_id}"))
        .await;
    assert_eq!(st, 204, "{v}");
    assert!(consents_of(&s, uid).await.as_array().unwrap().is_empty());
    let (st, v) = s
        .delete(&format!("/users/{uid}/consents/{client_id}"))
        .await;
    assert_eq!(st, 404, "{v}");
    assert_consent_page(&authorize(&browser, &client_id, &[("scope", "openid")], "").await);
}

async fn deny_and_csrf(b: Backend) {
    let s = TestServer::start(b).await;
    let (client_id, internal) = third_party_client(&s).await;
    let user = user_with_password(&s, "ada@acme.test").await;
    let uid = user["id"].as_str().unwrap();
    let browser = Browser::new(&s);
    let page = authorize(&browser, &client_id, &[], "ada@acme.test").await;
    assert_consent_page(&page);

    // No CSRF token, a wrong one: 403 page, nothing stored.
    for csrf in ["", "forged-forged-forged-forged-forged-forged"] {
        let res = answer(&browser, &page, "allow", &[("csrf", csrf)]).await;
        assert_eq!(res.status, 403, "{}", res.body);
        assert!(res.content_type.starts_with("text/html"));
        assert!(res.body.contains("Form expired"), "{}", res.body);
    }
    // A request changed in the form is validated again.
    let res = answer(
        &browser,
        &page,
        "allow",
        &[("redirect_uri", "https://evil.test/cb")],
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.body);
    let res = answer(&browser, &page, "allow", &[("scope", "openid everything")]).await;
    let to = res.location.unwrap();
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("invalid_scope"),
        "{to}"
    );
    let res = answer(&browser, &page, "maybe", &[]).await;
    assert_eq!(res.status, 400);
    assert!(consents_of(&s, uid).await.as_array().unwrap().is_empty());

    // Deny: back to the client with access_denied, state and iss; nothing stored.
    let res = answer(&browser, &page, "deny", &[]).await;
    assert_eq!(res.status, 303);
    let to = res.location.unwrap();
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(param(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&to, "state").as_deref(), Some("st-123"));
    assert_eq!(param(&to, "iss"), Some(format!("{}/t/acme", s.base)));
    assert!(param(&to, "code").is_none());
    assert!(consents_of(&s, uid).await.as_array().unwrap().is_empty());

    // A page shown to another user does not consent for the one now signed in.
    let res = answer(
        &browser,
        &page,
        "allow",
        &[("consent_user", "usr_someone_else")],
    )
    .await;
    assert_consent_page(&res);
    assert!(consents_of(&s, uid).await.as_array().unwrap().is_empty());
    // Another browser: the form's token is bound to the session it was shown in, so it is
    // refused there, and so is a token of that browser's own sign-in page.
    let stranger = Browser::new(&s);
    let res = answer(&stranger, &page, "allow", &[]).await;
    assert_eq!(res.status, 403);
    let login = stranger.get("/t/acme/login").await;
    let csrf = hidden(&login.body, "csrf").unwrap();
    let res = answer(&stranger, &page, "allow", &[("csrf", &csrf)]).await;
    assert_eq!(res.status, 403);
    assert!(consents_of(&s, uid).await.as_array().unwrap().is_empty());

    // Allowed, then the client is deleted: its consents go with it.
    code_of(&answer(&browser, &page, "allow", &[]).await);
    assert_eq!(consents_of(&s, uid).await.as_array().unwrap().len(), 1);
    let (st, v) = s.delete(&format!("/clients/{internal}")).await;
    assert_eq!(st, 204, "{v}");
    assert!(consents_of(&s, uid).await.as_array().unwrap().is_empty());
}

async fn first_party_never_asks(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    code_of(&authorize(&browser, &client_id, &[], "ada@acme.test").await);
    code_of(&authorize(&browser, &client_id, &[("prompt", "consent")], "").await);
    code_of(&authorize(&browser, &client_id, &[("prompt", "none")], "").await);
}

async fn admin_api_permissions(b: Backend) {
    let s = TestServer::start(b).await;
    let (client_id, _) = third_party_client(&s).await;
    let user = user_with_password(&s, "ada@acme.test").await;
    let uid = user["id"].as_str().unwrap();
    let browser = Browser::new(&s);
    let page = authorize(&browser, &client_id, &[], "ada@acme.test").await;
    code_of(&answer(&browser, &page, "allow", &[]).await);

    // A plain member: 403; another tenant's admin token: 404, here and in its own tenant.
    let member = s.create_user("member@acme.test").await;
    let member = s.token_for("acme", member["id"].as_str().unwrap()).await;
    let foreign = s.other_tenant("globex").await;
    let list = s.url(&format!("/users/{uid}/consents"));
    let one = s.url(&format!("/users/{uid}/consents/{client_id}"));
    for (method, url) in [(Method::GET, &list), (Method::DELETE, &one)] {
        let (st, e) = s.call_as(&member, method.clone(), url, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{method} {url}: {e}");
        let (st, e) = s.call_as(&foreign, method.clone(), url, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{method} {url}: {e}");
        let theirs = url.replace("/t/acme/", "/t/globex/");
        let (st, e) = s.call_as(&foreign, method.clone(), &theirs, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{method} {theirs}: {e}");
    }
    assert_eq!(consents_of(&s, uid).await.as_array().unwrap().len(), 1);
    // Audited.
    let (st, audit) = s.get("/audit").await;
    assert_eq!(st, 200, "{audit}");
    assert!(audit.to_string().contains("consent.grant"), "{audit}");
}

backends!(
    asks_once_per_scope,
    deny_and_csrf,
    first_party_never_asks,
    admin_api_permissions
);
