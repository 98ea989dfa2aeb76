//! The pages a person sees on the way to an app, in Chromium (issue 14): home, sign-in (refused,
//! in French), the second-factor step (enrolment, a refused code, the recovery code), consent,
//! sign-out and an error page, each state with 0 axe-core violations at desktop and phone
//! widths; then what the journey changed, through the admin API.

use crate::app::App;
use crate::common::{Backend, TestServer};
use crate::{chromium, input, user_with_password};
use castellan::domain::audit::Actor;
use castellan::domain::mfa::{MfaPolicy, MfaSettings};
use serde_json::json;

/// A third-party client (consent asked) sending people back to `redirect_uri`; its client_id.
async fn third_party_client(s: &TestServer, redirect_uri: &str) -> String {
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Budget Tracker", "kind": "public", "redirect_uris": [redirect_uri],
                    "grant_types": ["authorization_code"], "scopes": ["openid", "email"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["first_party"], false, "{c}");
    c["client_id"].as_str().unwrap().to_owned()
}

async fn people_pages_have_no_accessibility_violation(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let id = user_with_password(&s, "ada@acme.test").await;
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let required = MfaSettings {
        policy: MfaPolicy::Required,
        ..MfaSettings::default()
    };
    s.store
        .set_mfa_settings(&tenant.id, &required, &Actor::system())
        .await
        .unwrap();
    let client_id = third_party_client(&s, &app.redirect_uri).await;
    let consent_url = format!(
        "{}/t/acme/authorize?response_type=code&client_id={client_id}&redirect_uri={}\
         &scope=openid%20email&state=s1&code_challenge={}&code_challenge_method=S256",
        s.public_url,
        percent_encoding::utf8_percent_encode(
            &app.redirect_uri,
            percent_encoding::NON_ALPHANUMERIC
        ),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
    let mut input = input(&s, &app, "ada@acme.test", "");
    input["consent_url"] = consent_url.into();
    let result = chromium::run(&tools, "people_pages", input).await;
    assert!(
        result["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{result}"
    );
    assert_eq!(result["recovery_codes"].as_array().map(Vec::len), Some(10));

    // The consent given on the page is the user's, for the app and the scopes asked.
    let (st, consents) = s.get(&format!("/users/{id}/consents")).await;
    assert_eq!(st, 200, "{consents}");
    let items = consents["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{consents}");
    let scopes = items[0].to_string();
    assert!(
        scopes.contains("openid") && scopes.contains("email"),
        "{consents}"
    );
}

crate::backends!(people_pages_have_no_accessibility_violation);
