//! Lifecycle takes effect at once, and claims follow membership dates.

use crate::browser::*;
use crate::common::{Backend, TestServer};
use crate::{backends, verify, verify_typed};
use serde_json::{Value, json};

/// Deactivation ends the user's sessions and deletes their unused codes in the same
/// transaction: reactivating them later does not bring the old session back.
async fn deactivation_ends_sessions_and_codes(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    let user = user_with_password(&s, "ada@acme.test").await;
    let id = user["id"].as_str().unwrap();
    let browser = Browser::new(&s);
    let (verifier, challenge) = pkce();
    code_for(&browser, &client_id, &challenge, "ada@acme.test").await;
    let page = browser
        .get(&authorize_url(
            &client_id,
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    let unused = param(&page.location.unwrap(), "code").expect("a code from the live session");

    let (st, v) = s.post(&format!("/users/{id}/deactivate"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    let (st, _, body) = exchange(&s, &client_id, &unused, &verifier, REDIRECT).await;
    assert_eq!(
        (st, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    let (st, v) = s.post(&format!("/users/{id}/reactivate"), json!({})).await;
    assert_eq!(st, 200, "{v}");
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
        Some("login_required"),
        "{cb}"
    );
}

async fn id_token_roles(s: &TestServer, browser: &Browser, client_id: &str) -> Vec<String> {
    let (verifier, challenge) = pkce();
    let code = code_for(browser, client_id, &challenge, "ada@acme.test").await;
    let (st, _, body) = exchange(s, client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{body}");
    let id_token = verify_typed(s, "acme", body["id_token"].as_str().unwrap(), "JWT").await;
    let access = verify(s, "acme", body["access_token"].as_str().unwrap()).await;
    assert_eq!(
        id_token["roles"], access["roles"],
        "ID and access tokens agree"
    );
    serde_json::from_value(id_token["roles"].clone()).unwrap()
}

/// A role held within an account appears in tokens only while that membership is current.
async fn roles_claim_follows_membership_dates(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    let user = user_with_password(&s, "ada@acme.test").await;
    let id = user["id"].as_str().unwrap();
    let (_, account) = s
        .post(
            "/accounts",
            json!({"name": "Acme Corp", "kind": "customer"}),
        )
        .await;
    let account_id = account["id"].as_str().unwrap();
    let (st, ms) = s
        .post(
            &format!("/users/{id}/memberships"),
            json!({"account_id": account_id, "start_date": "2000-01-01", "end_date": "2001-01-01"}),
        )
        .await;
    assert_eq!(st, 201, "{ms}");
    let (_, role) = s
        .post("/roles", json!({"name": "Acme buyer", "permissions": []}))
        .await;
    let (st, v) = s
        .post(
            &format!("/users/{id}/roles"),
            json!({"role_id": role["id"], "account_id": account_id}),
        )
        .await;
    assert_eq!(st, 201, "{v}");

    let browser = Browser::new(&s);
    let roles = id_token_roles(&s, &browser, &client_id).await;
    assert!(roles.contains(&"Member".to_string()), "{roles:?}");
    assert!(
        !roles.contains(&"Acme buyer".to_string()),
        "the membership ended in 2001: {roles:?}"
    );

    let mid = ms["id"].as_str().unwrap();
    let (st, v): (_, Value) = s
        .patch(
            &format!("/users/{id}/memberships/{mid}"),
            json!({"end_date": null}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let roles = id_token_roles(&s, &browser, &client_id).await;
    assert!(
        roles.contains(&"Acme buyer".to_string()),
        "the membership is current again: {roles:?}"
    );
}

/// The `accounts` claim lists the memberships current today, the main one marked, in the ID
/// token, the access token, userinfo and introspection alike.
async fn accounts_claim_lists_current_memberships(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    let user = user_with_password(&s, "ada@acme.test").await;
    let id = user["id"].as_str().unwrap();
    let mut account_ids = Vec::new();
    for name in ["Current Corp", "Past Corp", "Future Corp"] {
        let (st, a) = s
            .post("/accounts", json!({"name": name, "kind": "customer"}))
            .await;
        assert_eq!(st, 201, "{a}");
        account_ids.push(a["id"].as_str().unwrap().to_owned());
    }
    for (account, start, end, main) in [
        (&account_ids[0], None, None, true),
        (
            &account_ids[1],
            Some("2000-01-01"),
            Some("2001-01-01"),
            false,
        ),
        (&account_ids[2], Some("2999-01-01"), None, false),
    ] {
        let (st, v) = s
            .post(
                &format!("/users/{id}/memberships"),
                json!({"account_id": account, "start_date": start, "end_date": end, "main": main}),
            )
            .await;
        assert_eq!(st, 201, "{v}");
    }
    let browser = Browser::new(&s);
    let (verifier, challenge) = pkce();
    let code = code_for(&browser, &client_id, &challenge, "ada@acme.test").await;
    let (st, _, body) = exchange(&s, &client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{body}");
    let id_token = verify_typed(&s, "acme", body["id_token"].as_str().unwrap(), "JWT").await;
    let accounts = id_token["accounts"].as_array().unwrap().clone();
    let names: Vec<&str> = accounts
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Current Corp"), "{accounts:?}");
    assert!(!names.contains(&"Past Corp"), "ended: {accounts:?}");
    assert!(!names.contains(&"Future Corp"), "not started: {accounts:?}");
    let main: Vec<&Value> = accounts.iter().filter(|a| a["main"] == true).collect();
    assert_eq!(main.len(), 1, "{accounts:?}");
    assert_eq!(main[0]["id"], account_ids[0].as_str());
    assert_eq!(main[0]["name"], "Current Corp");
    let access = verify(&s, "acme", body["access_token"].as_str().unwrap()).await;
    assert_eq!(access["accounts"], id_token["accounts"]);
    let info: Value = s
        .client
        .get(format!("{}/t/acme/userinfo", s.base))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["accounts"], id_token["accounts"], "{info}");
}

backends!(
    deactivation_ends_sessions_and_codes,
    roles_claim_follows_membership_dates,
    accounts_claim_lists_current_memberships
);
