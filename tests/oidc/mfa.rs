//! Second factors through the pages, on SQLite and PostgreSQL: authenticator app enrolment
//! (secret read from the page, codes computed here), the second-factor step at sign-in with
//! codes used once, recovery codes used once, the lock after wrong codes, policies forcing
//! enrolment before any app gets a code, `acr_values` and `prompt=none`, and the security page.

use crate::browser::*;
use crate::common::{Backend, TestServer};
use crate::{backends, verify_typed};
use castellan::domain::audit::Actor;
use castellan::domain::mfa::{MfaPolicy, MfaSettings};
use serde_json::Value;

const ACR_MFA: &str = "urn:castellan:acr:mfa";

/// The text of element `id` (its first text, unescaped).
fn element_text(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let at = html.find(&marker)?;
    let start = html[at..].find('>')? + at + 1;
    let end = html[start..].find('<')? + start;
    Some(unescape(&html[start..end]))
}

/// The CSRF token of a page (its WebAuthn buttons carry it too).
fn page_csrf(html: &str) -> String {
    hidden(html, "csrf")
        .or_else(|| {
            let start = html.find("data-csrf=\"")? + "data-csrf=\"".len();
            let end = html[start..].find('"')? + start;
            Some(html[start..end].to_owned())
        })
        .expect("a CSRF token on the page")
}

/// The recovery codes a page lists once.
fn recovery_codes(html: &str) -> Vec<String> {
    let Some(at) = html.find("id=\"recovery-codes\"") else {
        return Vec::new();
    };
    let list = &html[at..html[at..].find("</ul>").map_or(html.len(), |e| e + at)];
    list.split("<code>")
        .skip(1)
        .filter_map(|c| c.split_once("</code>").map(|(code, _)| code.to_owned()))
        .collect()
}

/// The TOTP code of `secret` for the step `offset` steps from now.
fn code_at(secret: &str, offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let generator = castellan::oidc::mfa::totp(secret).expect("a valid secret");
    generator.generate((now + offset * 30) as u64).to_string()
}

/// Signs in with the password at the sign-in page; returns where it sends the browser.
async fn password_sign_in(b: &Browser, return_to: &str, email: &str) -> String {
    let login = format!("/t/acme/login?return_to={}", crate::enc(return_to));
    let page = b.sign_in(&login, email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page.location.unwrap()
}

/// Sets up the authenticator app through the security pages; returns (secret, recovery codes,
/// the code that confirmed it).
pub(crate) async fn enrol_totp(b: &Browser, setup_url: &str) -> (String, Vec<String>, String) {
    let page = b.get(setup_url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let secret = element_text(&page.body, "totp-secret").expect("the secret on the page");
    let uri = element_text(&page.body, "totp-uri").expect("the otpauth URI on the page");
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")),
        "{uri}"
    );
    assert!(page.body.contains("<svg"), "a QR code");
    // Reloading shows the same key: a scan already made stays good.
    let again = b.get(setup_url).await;
    assert_eq!(
        element_text(&again.body, "totp-secret"),
        Some(secret.clone())
    );
    let csrf = hidden(&page.body, "csrf").unwrap();
    let mut form = vec![("csrf", csrf.as_str()), ("code", "000000")];
    let return_to = hidden(&page.body, "return_to");
    if let Some(r) = &return_to {
        form.push(("return_to", r));
    }
    // A wrong code first: refused on the page, nothing set up.
    let wrong = if code_at(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    form[1].1 = wrong;
    let page = b.post_form("/t/acme/account/security/totp", &form).await;
    assert_eq!(page.status, 401, "{}", page.body);
    assert!(page.body.contains("not right"), "{}", page.body);
    let code = code_at(&secret, 0);
    form[1].1 = &code;
    let page = b.post_form("/t/acme/account/security/totp", &form).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let codes = recovery_codes(&page.body);
    assert_eq!(codes.len(), 10, "{}", page.body);
    (secret, codes, code)
}

async fn acme(s: &TestServer) -> castellan::domain::Tenant {
    s.store.tenant_by_slug("acme").await.unwrap().unwrap()
}

async fn set_policy(s: &TestServer, policy: MfaPolicy) {
    let tenant = acme(s).await;
    let settings = MfaSettings {
        policy,
        ..MfaSettings::default()
    };
    s.store
        .set_mfa_settings(&tenant.id, &settings, &Actor::system())
        .await
        .unwrap();
}

/// Exchanges the code at `location` and returns the verified ID token's claims.
async fn id_token(s: &TestServer, client_id: &str, location: &str, verifier: &str) -> Value {
    assert!(location.starts_with(REDIRECT), "{location}");
    let code = param(location, "code").expect("a code");
    let (st, _, body) = exchange(s, client_id, &code, verifier, REDIRECT).await;
    assert_eq!(st, 200, "{body}");
    verify_typed(s, "acme", body["id_token"].as_str().unwrap(), "JWT").await
}

fn amr(claims: &Value) -> Vec<String> {
    serde_json::from_value(claims["amr"].clone()).unwrap_or_default()
}

/// A user sets up an authenticator app from the security page; from then on signing in asks
/// for a code (each code once, wrong ones refused), and apps get `amr` pwd+otp+mfa.
async fn authenticator_app_enrolment_and_sign_in(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let next = password_sign_in(&browser, "/t/acme/account/security", "ada@acme.test").await;
    assert_eq!(
        next, "/t/acme/account/security",
        "no factor yet: no second step"
    );
    let page = browser.get(&next).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"no-factors\""), "{}", page.body);
    let (secret, codes, used) = enrol_totp(&browser, "/t/acme/account/security/totp").await;
    let page = browser.get("/t/acme/account/security").await;
    assert!(page.body.contains("Authenticator app"), "{}", page.body);
    assert!(
        page.body.contains("Recovery codes left: 10."),
        "{}",
        page.body
    );

    // The enrolling session proved the app: an app gets otp and mfa at once.
    let (verifier, challenge) = pkce();
    let page = browser
        .get(&authorize_url(&client_id, &challenge, &[]))
        .await;
    let claims = id_token(&s, &client_id, &page.location.unwrap(), &verifier).await;
    assert_eq!(amr(&claims), ["pwd", "otp", "mfa"], "{claims}");
    assert_eq!(claims["acr"], ACR_MFA);

    // A new browser: the password alone is no longer enough.
    let other = Browser::new(&s);
    let (verifier, challenge) = pkce();
    let page = other.get(&authorize_url(&client_id, &challenge, &[])).await;
    let login = page.location.unwrap();
    let page = other.sign_in(&login, "ada@acme.test", PASSWORD).await;
    let mfa_url = page.location.unwrap();
    assert!(mfa_url.starts_with("/t/acme/login/mfa?"), "{mfa_url}");
    let page = other.get(&mfa_url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"totp-code\""), "{}", page.body);
    let csrf = hidden(&page.body, "csrf").unwrap();
    let return_to = hidden(&page.body, "return_to").unwrap();
    let level = hidden(&page.body, "level").unwrap();
    let post = |code: String| {
        let (csrf, return_to, level) = (csrf.clone(), return_to.clone(), level.clone());
        let other = &other;
        async move {
            other
                .post_form(
                    "/t/acme/login/mfa/totp",
                    &[
                        ("csrf", &csrf),
                        ("code", &code),
                        ("return_to", &return_to),
                        ("level", &level),
                    ],
                )
                .await
        }
    };
    // The code that confirmed the app does not work twice.
    let page = post(used).await;
    assert_eq!(page.status, 401, "{}", page.body);
    // Two steps ahead is beyond the allowed skew.
    let page = post(code_at(&secret, 2)).await;
    assert_eq!(page.status, 401, "{}", page.body);
    // The next step's code (one step of skew) is accepted once.
    let page = post(code_at(&secret, 1)).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = other.get(&page.location.unwrap()).await;
    assert_eq!(page.status, 303);
    let back = page.location.unwrap();
    assert!(back.starts_with("/t/acme/authorize?"), "{back}");
    let page = other.get(&back).await;
    let claims = id_token(&s, &client_id, &page.location.unwrap(), &verifier).await;
    assert_eq!(amr(&claims), ["pwd", "otp", "mfa"], "{claims}");
    assert_eq!(claims["acr"], ACR_MFA);

    // A recovery code signs in once; the same code again is refused.
    let third = Browser::new(&s);
    let mfa_url = password_sign_in(&third, "/t/acme/", "ada@acme.test").await;
    assert!(mfa_url.starts_with("/t/acme/login/mfa?"), "{mfa_url}");
    let page = third.get(&mfa_url).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let typed = codes[0].to_uppercase();
    let form = [
        ("csrf", csrf.as_str()),
        ("code", typed.as_str()),
        ("return_to", "/t/acme/"),
    ];
    let page = third.post_form("/t/acme/login/mfa/recovery", &form).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = third.get(&page.location.unwrap()).await;
    assert_eq!(page.location.as_deref(), Some("/t/acme/"));
    let fourth = Browser::new(&s);
    let mfa_url = password_sign_in(&fourth, "/t/acme/", "ada@acme.test").await;
    let page = fourth.get(&mfa_url).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("code", codes[0].as_str()),
        ("return_to", "/t/acme/"),
    ];
    let page = fourth.post_form("/t/acme/login/mfa/recovery", &form).await;
    assert_eq!(page.status, 401, "{}", page.body);
    let page = third.get("/t/acme/account/security").await;
    assert!(
        page.body.contains("Recovery codes left: 9."),
        "{}",
        page.body
    );

    // The audit log and the user's notifications tell every change.
    let tenant = acme(&s).await;
    let user = s
        .store
        .user_by_email(&tenant.id, "ada@acme.test")
        .await
        .unwrap()
        .unwrap();
    let events = s
        .store
        .notifications(&tenant.id, &user.id, 50)
        .await
        .unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|n| n.details["event"].as_str())
        .collect();
    assert!(kinds.contains(&"factor_added"), "{kinds:?}");
    assert!(kinds.contains(&"recovery_code_used"), "{kinds:?}");
}

/// Wrong codes lock the second step for a while, even for the right code afterwards.
async fn wrong_codes_lock_the_second_step(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    password_sign_in(&browser, "/t/acme/", "ada@acme.test").await;
    let (secret, _, _) = enrol_totp(&browser, "/t/acme/account/security/totp").await;
    // The right code at enrolment forgot the wrong one typed before it.
    let other = Browser::new(&s);
    let mfa_url = password_sign_in(&other, "/t/acme/", "ada@acme.test").await;
    let page = other.get(&mfa_url).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let right = code_at(&secret, 1);
    let wrong = if right == "123456" {
        "654321"
    } else {
        "123456"
    };
    for _ in 0..5 {
        let form = [("csrf", csrf.as_str()), ("code", wrong)];
        let page = other.post_form("/t/acme/login/mfa/totp", &form).await;
        assert_eq!(page.status, 401, "{}", page.body);
    }
    let form = [("csrf", csrf.as_str()), ("code", right.as_str())];
    let page = other.post_form("/t/acme/login/mfa/totp", &form).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(page.body.contains("Too many wrong codes"), "{}", page.body);
}

/// 40 wrong codes (one-time and recovery codes mixed) sent at once: exactly 5 are judged (401),
/// the other 35 find the lock (429), and the lock is audited once with address and user agent.
async fn parallel_wrong_codes_judge_exactly_five(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    password_sign_in(&browser, "/t/acme/", "ada@acme.test").await;
    let (secret, _, _) = enrol_totp(&browser, "/t/acme/account/security/totp").await;
    let other = Browser::new(&s);
    let mfa_url = password_sign_in(&other, "/t/acme/", "ada@acme.test").await;
    let page = other.get(&mfa_url).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let near: Vec<String> = (-1..=1).map(|o| code_at(&secret, o)).collect();
    let wrong: Vec<String> = (0..40u32)
        .map(|i| format!("{:06}", (i * 7919 + 13) % 1_000_000))
        .filter(|c| !near.contains(c))
        .take(40)
        .collect();
    assert_eq!(wrong.len(), 40);
    let mut tasks = Vec::new();
    for (i, code) in wrong.into_iter().enumerate() {
        let (http, base, csrf) = (other.http.clone(), other.base.clone(), csrf.clone());
        tasks.push(tokio::spawn(async move {
            let (path, code) = if i % 4 == 3 {
                ("recovery", format!("aaaa-bbbb-{:04}", i))
            } else {
                ("totp", code)
            };
            http.post(format!("{base}/t/acme/login/mfa/{path}"))
                .header("user-agent", "ParallelCodes/1.0")
                .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let judged = statuses.iter().filter(|s| **s == 401).count();
    let locked = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((judged, locked), (5, 35), "{statuses:?}");
    // The right code is refused too until the lock ends.
    let form = [("csrf", csrf.as_str()), ("code", &code_at(&secret, 0))];
    let page = other.post_form("/t/acme/login/mfa/totp", &form).await;
    assert_eq!(page.status, 429, "{}", page.body);
    let (st, v) = s.get("/audit?action=user.mfa_locked").await;
    assert_eq!(st, 200);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    assert_eq!(items[0]["ip"], "127.0.0.1");
    assert_eq!(items[0]["after"]["user_agent"], "ParallelCodes/1.0");
    // An administrator sees it as the second factor's lock, and clears it.
    let id = items[0]["target_id"].as_str().unwrap();
    let (_, lock) = s.get(&format!("/users/{id}/sign-in-lock")).await;
    assert_eq!(lock["second_factor"]["locked"], true, "{lock}");
    assert_eq!(lock["second_factor"]["failures"], 5, "{lock}");
    let (st, _) = s.delete(&format!("/users/{id}/sign-in-lock")).await;
    assert_eq!(st, 200);
    let form = [("csrf", csrf.as_str()), ("code", &code_at(&secret, 1))];
    let page = other.post_form("/t/acme/login/mfa/totp", &form).await;
    assert_eq!(page.status, 303, "{}", page.body);
}

/// With the tenant's policy `required`, a user without a factor is taken through enrolment
/// before the app gets a code; `prompt=none` cannot do that and gets `interaction_required`.
async fn required_policy_enrols_before_any_code(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    set_policy(&s, MfaPolicy::Required).await;
    let browser = Browser::new(&s);
    let (verifier, challenge) = pkce();
    let page = browser
        .get(&authorize_url(&client_id, &challenge, &[]))
        .await;
    let page = browser
        .sign_in(&page.location.unwrap(), "ada@acme.test", PASSWORD)
        .await;
    let mfa_url = page.location.unwrap();
    assert!(mfa_url.starts_with("/t/acme/login/mfa?"), "{mfa_url}");

    // Still below the level: authorize sends back to the second step, prompt=none refuses.
    let page = browser
        .get(&authorize_url(&client_id, &challenge, &[]))
        .await;
    assert!(
        page.location
            .as_deref()
            .unwrap()
            .starts_with("/t/acme/login/mfa?"),
        "{:?}",
        page.location
    );
    let page = browser
        .get(&authorize_url(
            &client_id,
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    let cb = page.location.unwrap();
    assert_eq!(
        param(&cb, "error").as_deref(),
        Some("interaction_required"),
        "{cb}"
    );
    // The security page itself waits for the second factor.
    let page = browser.get("/t/acme/account/security").await;
    assert!(
        page.location
            .as_deref()
            .unwrap()
            .starts_with("/t/acme/login/mfa?"),
        "{:?}",
        page.location
    );

    let page = browser.get(&mfa_url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Add a second sign-in method"),
        "{}",
        page.body
    );
    let french = browser.get(&format!("{mfa_url}&ui_locales=fr")).await;
    assert!(
        french
            .body
            .contains("Ajoutez une seconde méthode de connexion")
            && french.body.contains("lang=\"fr\""),
        "{}",
        french.body
    );
    assert!(page.body.contains("data-kind=\"passkey\""), "{}", page.body);
    let setup = page
        .body
        .split("href=\"")
        .filter_map(|h| h.split_once('"').map(|(u, _)| unescape(u)))
        .find(|u| u.contains("/account/security/totp"))
        .expect("a link to set up an authenticator app");
    let (_, codes, _) = enrol_totp(&browser, &setup).await;
    assert_eq!(codes.len(), 10);
    // Continue leads back through the second-factor page to the app.
    let page = browser.get(&mfa_url).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = browser.get(&page.location.unwrap()).await;
    let claims = id_token(&s, &client_id, &page.location.unwrap(), &verifier).await;
    assert_eq!(amr(&claims), ["pwd", "otp", "mfa"], "{claims}");
}

/// An app asking for a level with `acr_values` makes a password-only session step up; an
/// unknown acr value asks for nothing more.
async fn acr_values_ask_for_step_up(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let (verifier, challenge) = pkce();
    let code = code_for(&browser, &client_id, &challenge, "ada@acme.test").await;
    let (st, _, body) = exchange(&s, &client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{body}");
    let claims = verify_typed(&s, "acme", body["id_token"].as_str().unwrap(), "JWT").await;
    assert_eq!(amr(&claims), ["pwd"]);
    assert_eq!(claims["acr"], "urn:castellan:acr:password");

    let page = browser
        .get(&authorize_url(
            &client_id,
            &challenge,
            &[("acr_values", "urn:example:unknown")],
        ))
        .await;
    assert!(page.location.unwrap().starts_with(REDIRECT));
    let page = browser
        .get(&authorize_url(
            &client_id,
            &challenge,
            &[("acr_values", ACR_MFA), ("prompt", "none")],
        ))
        .await;
    let cb = page.location.unwrap();
    assert_eq!(
        param(&cb, "error").as_deref(),
        Some("interaction_required"),
        "{cb}"
    );
    let page = browser
        .get(&authorize_url(
            &client_id,
            &challenge,
            &[("acr_values", "phr")],
        ))
        .await;
    let mfa_url = page.location.unwrap();
    assert!(mfa_url.starts_with("/t/acme/login/mfa?"), "{mfa_url}");
    assert!(mfa_url.contains("level=phr"), "{mfa_url}");
    let page = browser.get(&mfa_url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("requires a passkey or a security key"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Set up an authenticator app"),
        "an app is not enough"
    );
}

/// The security page: removing the only factor where the policy is optional also drops the
/// recovery codes; a form without its CSRF token changes nothing; a factor of another user
/// cannot be removed.
async fn security_page_changes(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    user_with_password(&s, "bob@acme.test").await;
    let ada = Browser::new(&s);
    password_sign_in(&ada, "/t/acme/", "ada@acme.test").await;
    enrol_totp(&ada, "/t/acme/account/security/totp").await;
    let tenant = acme(&s).await;
    let user = s
        .store
        .user_by_email(&tenant.id, "ada@acme.test")
        .await
        .unwrap()
        .unwrap();
    let factors = s.store.user_factors(&tenant.id, &user.id).await.unwrap();
    let id = factors.summary()[0].id.to_string();

    // Bob cannot remove Ada's factor.
    let bob = Browser::new(&s);
    password_sign_in(&bob, "/t/acme/", "bob@acme.test").await;
    let page = bob.get("/t/acme/account/security").await;
    let csrf = page_csrf(&page.body);
    let page = bob
        .post_form(
            &format!("/t/acme/account/security/factors/{id}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        page.location.as_deref(),
        Some("/t/acme/account/security?notice=no_such_factor")
    );
    assert!(
        s.store
            .user_factors(&tenant.id, &user.id)
            .await
            .unwrap()
            .any()
    );

    // Without the CSRF token: refused.
    let page = ada
        .post_form(
            &format!("/t/acme/account/security/factors/{id}/remove"),
            &[],
        )
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(
        s.store
            .user_factors(&tenant.id, &user.id)
            .await
            .unwrap()
            .any()
    );

    // Under a `required` policy the last factor stays.
    set_policy(&s, MfaPolicy::Required).await;
    let page = ada.get("/t/acme/account/security").await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let remove = format!("/t/acme/account/security/factors/{id}/remove");
    let page = ada.post_form(&remove, &[("csrf", &csrf)]).await;
    assert_eq!(
        page.location.as_deref(),
        Some("/t/acme/account/security?notice=keep_one_factor")
    );
    set_policy(&s, MfaPolicy::Optional).await;
    let page = ada.post_form(&remove, &[("csrf", &csrf)]).await;
    assert_eq!(
        page.location.as_deref(),
        Some("/t/acme/account/security?notice=factor_removed")
    );
    let after = s.store.user_factors(&tenant.id, &user.id).await.unwrap();
    assert!(!after.any());
    assert_eq!(after.recovery_codes_left, 0);
    let page = ada
        .get("/t/acme/account/security?notice=factor_removed")
        .await;
    assert!(
        page.body.contains("The sign-in method was removed."),
        "{}",
        page.body
    );
}

/// `max_age` older than the session makes the user sign in again, with the second factor too;
/// the new `auth_time` is later than the first.
async fn max_age_asks_for_both_factors_again(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    password_sign_in(&browser, "/t/acme/", "ada@acme.test").await;
    let (secret, _, _) = enrol_totp(&browser, "/t/acme/account/security/totp").await;
    let (verifier, challenge) = pkce();
    let page = browser
        .get(&authorize_url(&client_id, &challenge, &[]))
        .await;
    let first = id_token(&s, &client_id, &page.location.unwrap(), &verifier).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let (verifier, challenge) = pkce();
    let page = browser
        .get(&authorize_url(&client_id, &challenge, &[("max_age", "0")]))
        .await;
    let login = page.location.unwrap();
    assert!(login.starts_with("/t/acme/login?"), "{login}");
    let page = browser.sign_in(&login, "ada@acme.test", PASSWORD).await;
    let mfa_url = page.location.unwrap();
    assert!(mfa_url.starts_with("/t/acme/login/mfa?"), "{mfa_url}");
    let page = browser.get(&mfa_url).await;
    let csrf = page_csrf(&page.body);
    let code = code_at(&secret, 1);
    let form = [
        ("csrf", csrf.as_str()),
        ("code", code.as_str()),
        ("return_to", &hidden(&page.body, "return_to").unwrap()),
        ("level", "mfa"),
    ];
    let page = browser.post_form("/t/acme/login/mfa/totp", &form).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = browser.get(&page.location.unwrap()).await;
    let page = browser.get(&page.location.unwrap()).await;
    let second = id_token(&s, &client_id, &page.location.unwrap(), &verifier).await;
    assert_eq!(amr(&second), ["pwd", "otp", "mfa"], "{second}");
    assert!(
        second["auth_time"].as_i64() > first["auth_time"].as_i64(),
        "{first} {second}"
    );
}

/// A role with `mfa_policy: passkey_required` makes its holders reach the phishing-resistant
/// level: an authenticator app alone does not do, the second step asks for a passkey or key.
async fn role_policy_applies_to_its_holders(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    let ada = user_with_password(&s, "ada@acme.test").await;
    user_with_password(&s, "bob@acme.test").await;
    let (st, role) = s
        .post(
            "/roles",
            serde_json::json!({"name": "Finance admin", "permissions": [], "mfa_policy": "passkey_required"}),
        )
        .await;
    assert_eq!(st, 201, "{role}");
    let (st, a) = s
        .post(
            &format!("/users/{}/roles", ada["id"].as_str().unwrap()),
            serde_json::json!({"role_id": role["id"]}),
        )
        .await;
    assert_eq!(st, 201, "{a}");

    // Bob holds no such role: his password is enough.
    let bob = Browser::new(&s);
    let (_, challenge) = pkce();
    code_for(&bob, &client_id, &challenge, "bob@acme.test").await;

    let browser = Browser::new(&s);
    let page = browser
        .get(&authorize_url(&client_id, &challenge, &[]))
        .await;
    let page = browser
        .sign_in(&page.location.unwrap(), "ada@acme.test", PASSWORD)
        .await;
    let mfa_url = page.location.unwrap();
    assert!(mfa_url.contains("level=phr"), "{mfa_url}");
    let page = browser.get(&mfa_url).await;
    assert!(
        page.body.contains("requires a passkey or a security key"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("data-kind=\"security_key\""),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("account/security/totp"),
        "{}",
        page.body
    );
}

backends!(
    role_policy_applies_to_its_holders,
    max_age_asks_for_both_factors_again,
    authenticator_app_enrolment_and_sign_in,
    wrong_codes_lock_the_second_step,
    parallel_wrong_codes_judge_exactly_five,
    required_policy_enrols_before_any_code,
    acr_values_ask_for_step_up,
    security_page_changes,
);
