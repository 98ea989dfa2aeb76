//! Castellan's own pages used by a person in real headless Chromium (playwright-core, driven by
//! `person.cjs`), with a CDP virtual authenticator standing in for a platform passkey, on
//! SQLite and PostgreSQL. The server runs as `http://localhost:PORT` (WebAuthn refuses an IP
//! address as relying party id); an app (the `openidconnect` crate) receives the code and
//! checks the ID token's `amr` and `acr`.
//!
//! Needs `/usr/bin/chromium` (or env `CHROMIUM`), `node`, and playwright-core in
//! `~/.cache/idp-browser` (or env `PW_CORE_DIR`); `.ci/run` installs them. Without them each
//! test prints why and passes, unless `CASTELLAN_BROWSER_TESTS=1`, which makes it fail.

#[path = "../api/common.rs"]
#[allow(dead_code)]
mod common;

mod account;
mod app;
mod apps;
mod chromium;
mod directory;
mod import;
mod invite;
mod mailed;
mod org;
mod pages;
mod people;
#[path = "../mail/sink.rs"]
#[allow(dead_code)]
mod sink;

use app::{App, acr, amr};
use common::{Backend, TestServer};
use openidconnect::core::CoreIdTokenClaims;
use serde_json::{Value, json};

pub(crate) const PASSWORD: &str = "correct horse battery";

/// A user with a password; returns its id.
pub(crate) async fn user_with_password(s: &TestServer, email: &str) -> String {
    let (st, u) = s
        .post(
            "/users",
            json!({ "email": email, "given_name": "Ada", "family_name": "Lovelace", "email_verified": true }),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let id = u["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .put(
            &format!("/users/{id}/password"),
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    id
}

/// What every journey is told: where the server is and who the person is.
pub(crate) fn input(s: &TestServer, app: &App, email: &str, authorize_url: &str) -> Value {
    json!({ "base": s.public_url, "tenant": "acme", "email": email, "password": PASSWORD,
            "authorize_url": authorize_url, "redirect_uri": app.redirect_uri })
}

/// The recovery codes a journey read from the page: several, all different.
fn assert_recovery_codes(result: &Value) {
    let codes: Vec<&str> = result["recovery_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(codes.len() >= 8, "{codes:?}");
    let mut unique = codes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), codes.len(), "{codes:?}");
}

/// The plumbing: the app's authorization URL, the sign-in page filled in by a person, the
/// code at the app and an ID token saying "password".
async fn password_sign_in_reaches_the_app(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let id = user_with_password(&s, "ada@acme.test").await;
    let login = app.authorize();
    let input = input(&s, &app, "ada@acme.test", &login.url);
    chromium::run(&tools, "password", input).await;
    let claims = app.claims(&login);
    assert_eq!(claims.subject().as_str(), id);
    assert_eq!(amr(&claims), ["pwd"]);
    assert_eq!(acr(&claims).as_deref(), Some("urn:castellan:acr:password"));
}

/// A passkey's ID token: a key with user verification (`hwk`/`swk`, `mfa`), phishing-resistant,
/// and no password.
fn assert_passkey_sign_in(claims: &CoreIdTokenClaims, user_id: &str) {
    assert_eq!(claims.subject().as_str(), user_id);
    let amr = amr(claims);
    assert!(
        amr.iter().any(|m| m == "hwk" || m == "swk"),
        "a key: {amr:?}"
    );
    assert!(amr.iter().any(|m| m == "mfa"), "{amr:?}");
    assert!(!amr.iter().any(|m| m == "pwd"), "no password: {amr:?}");
    assert_eq!(acr(claims).as_deref(), Some("urn:castellan:acr:phr"));
}

/// A person adds a passkey on the security page and signs out; another tenant's sign-in page
/// refuses it; the app's sign-in page takes it with the passkey button and no username, and
/// again, after signing out, when the browser offers it in the username field; last, after the
/// password, the second-factor page takes it too (`pwd` + key, phishing-resistant).
async fn passkey_registered_on_the_security_page_signs_in_without_a_username(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    s.other_tenant("globex").await;
    let app = App::start(&s).await;
    let id = user_with_password(&s, "ada@acme.test").await;
    let with_button = app.authorize();
    let conditional = app.authorize();
    let second_factor = app.authorize();
    let mut input = input(&s, &app, "ada@acme.test", &with_button.url);
    input["conditional_authorize_url"] = conditional.url.clone().into();
    input["second_factor_authorize_url"] = second_factor.url.clone().into();
    input["passkey_name"] = "Laptop passkey".into();
    input["other_tenant"] = "globex".into();
    let result = chromium::run(&tools, "passkey", input).await;
    assert_recovery_codes(&result);
    assert_passkey_sign_in(&app.claims(&with_button), &id);
    assert_passkey_sign_in(&app.claims(&conditional), &id);

    let claims = app.claims(&second_factor);
    let amr = amr(&claims);
    assert!(amr.iter().any(|m| m == "pwd"), "{amr:?}");
    assert!(amr.iter().any(|m| m == "hwk" || m == "swk"), "{amr:?}");
    assert!(amr.iter().any(|m| m == "mfa"), "{amr:?}");
    assert_eq!(acr(&claims).as_deref(), Some("urn:castellan:acr:phr"));
}

/// A person sets up an authenticator app by reading the secret from the page, signs out, and
/// signs in to the app with the password and a code (a replayed one refused first): the ID
/// token says password, one-time code, multi-factor. Then with the password and one of the
/// recovery codes the page showed.
async fn totp_enrolled_from_the_page_is_asked_at_the_next_sign_in(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let id = user_with_password(&s, "grace@acme.test").await;
    let login = app.authorize();
    let with_recovery_code = app.authorize();
    let mut input = input(&s, &app, "grace@acme.test", &login.url);
    input["recovery_authorize_url"] = with_recovery_code.url.clone().into();
    let result = chromium::run(&tools, "totp", input).await;
    assert_recovery_codes(&result);
    let claims = app.claims(&login);
    assert_eq!(claims.subject().as_str(), id);
    let mut amr = amr(&claims);
    amr.sort_unstable();
    assert_eq!(amr, ["mfa", "otp", "pwd"]);
    assert_eq!(acr(&claims).as_deref(), Some("urn:castellan:acr:mfa"));

    // A recovery code is no method of RFC 8176: the session says `mfa` beside the password.
    let claims = app.claims(&with_recovery_code);
    let mut amr = self::amr(&claims);
    amr.sort_unstable();
    assert_eq!(amr, ["mfa", "pwd"]);
    assert_eq!(acr(&claims).as_deref(), Some("urn:castellan:acr:mfa"));
}

/// An administrator uses the console's user list in Chromium: sign-in on the way in, search
/// (htmx), an empty result, the next page; axe-core finds no violation at desktop and phone
/// widths (issue 14).
async fn administrator_uses_the_console_user_list(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let id = user_with_password(&s, "admin@acme.test").await;
    let admin = s.role_id("administrator").await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": admin}))
        .await;
    assert_eq!(st, 201, "{v}");
    for i in 0..70 {
        let (st, v) = s
            .post(
                "/users",
                json!({"email": format!("bulk{i:02}@acme.test"), "given_name": "Bulk",
                       "family_name": format!("Person {i:02}")}),
            )
            .await;
        assert_eq!(st, 201, "{v}");
    }
    let result = chromium::run(
        &tools,
        "console_users",
        input(&s, &app, "admin@acme.test", ""),
    )
    .await;
    assert_eq!(result["first_page"], 50, "{result}");
}

/// An administrator toggles a user's permission in Chromium (htmx changes the row in place)
/// and creates a role; the admin API then shows the override and the role (issue 14, seeds 000
/// and 002); axe-core finds no violation on any state at desktop and phone widths.
async fn administrator_switches_a_permission_and_creates_a_role(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let id = user_with_password(&s, "admin@acme.test").await;
    let admin = s.role_id("administrator").await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": admin}))
        .await;
    assert_eq!(st, 201, "{v}");
    for (name, description) in [
        ("billing:read", "See invoices"),
        ("billing:write", "Issue and cancel invoices"),
    ] {
        let (st, v) = s
            .post(
                "/permissions",
                json!({"name": name, "description": description}),
            )
            .await;
        assert_eq!(st, 201, "{v}");
    }
    let ada = s.create_user("ada@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Ada already holds one permission through a role: the page says where it comes from.
    let (st, billing) = s
        .post(
            "/roles",
            json!({"name": "Billing clerk", "permissions": ["billing:write"]}),
        )
        .await;
    assert_eq!(st, 201, "{billing}");
    let (st, v) = s
        .post(
            &format!("/users/{ada}/roles"),
            json!({"role_id": billing["id"]}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let mut input = input(&s, &app, "admin@acme.test", "");
    input["user_id"] = ada.clone().into();
    input["permission"] = "billing:read".into();
    input["role_name"] = "Invoice readers".into();
    chromium::run(&tools, "console_permissions", input).await;
    let (_, overrides) = s.get(&format!("/users/{ada}/overrides")).await;
    assert_eq!(
        overrides["items"][0]["permission"], "billing:read",
        "{overrides}"
    );
    assert_eq!(overrides["items"][0]["effect"], "grant");
    let (_, roles) = s.get("/roles").await;
    let role = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Invoice readers")
        .expect("the role was created");
    assert_eq!(role["permissions"], json!(["billing:read"]));
}

/// An administrator edits a user's mandatory custom field in the console (left empty, it is
/// refused with a field error), then deactivates the user, after confirming; the user's open
/// session ends and their next sign-in is refused (issue 14, seed procedure
/// "deauthorise").
async fn administrator_deactivates_a_user_in_the_console(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let id = user_with_password(&s, "admin@acme.test").await;
    let admin = s.role_id("administrator").await;
    let (st, v) = s
        .post(&format!("/users/{id}/roles"), json!({"role_id": admin}))
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, target) = s
        .post(
            "/users",
            json!({"email": "tess@acme.test", "given_name": "Tess", "family_name": "Target",
                   "email_verified": true}),
        )
        .await;
    assert_eq!(st, 201, "{target}");
    let target_id = target["id"].as_str().unwrap();
    let (st, v) = s
        .put(
            &format!("/users/{target_id}/password"),
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    let (st, d) = s
        .post(
            "/attributes",
            json!({"key": "cost_centre", "label": "Cost centre", "kind": "text",
                   "required": true, "default": "CC1"}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    let mut input = input(&s, &app, "admin@acme.test", "");
    input["target_email"] = "tess@acme.test".into();
    input["target_name"] = "Tess Target".into();
    let result = chromium::run(&tools, "console_user_deactivate", input).await;
    assert_eq!(result["badge"], "Deactivated", "{result}");
    let (st, u) = s.get(&format!("/users/{target_id}")).await;
    assert_eq!(
        (st.as_u16(), &u["status"]),
        (200, &json!("inactive")),
        "{u}"
    );
    assert_eq!(u["attributes"]["cost_centre"], "CC2");
    let (st, audit) = s
        .get(&format!(
            "/audit?action=user.deactivate&target_id={target_id}"
        ))
        .await;
    assert_eq!(st, 200, "{audit}");
    assert_eq!(
        audit["items"][0]["actor_label"],
        "admin@acme.test (console)"
    );
}

/// The owner of a new tenant opens the set-up link (as the first start prints it), chooses a
/// password and signs in to the console with it (issue 14, "Getting in").
async fn owner_sets_a_password_with_the_setup_link(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let url = castellan::admin::setup_links::issue_owner_setup(
        &s.store,
        &tenant,
        &s.public_url,
        &castellan::domain::audit::Actor::cli(),
    )
    .await
    .unwrap();
    let mut input = input(&s, &app, "owner@acme.test", "");
    input["setup_url"] = url.into();
    chromium::run(&tools, "owner_setup", input).await;
    let (_, log) = s.get("/audit?action=user.password.set").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
}

crate::backends!(
    owner_sets_a_password_with_the_setup_link,
    administrator_deactivates_a_user_in_the_console,
    administrator_switches_a_permission_and_creates_a_role,
    administrator_uses_the_console_user_list,
    password_sign_in_reaches_the_app,
    passkey_registered_on_the_security_page_signs_in_without_a_username,
    totp_enrolled_from_the_page_is_asked_at_the_next_sign_in,
);
