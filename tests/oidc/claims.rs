//! The claim-size budget per client: past it, `permissions` leaves the ID and access tokens for
//! userinfo, named as distributed claims (OpenID Connect Core §5.6.2), as Entra ID does for group
//! overage; introspection and userinfo keep the full list.

use crate::browser::*;
use crate::common::{Backend, TestServer};
use crate::refresh::{introspect, tokens};
use crate::{backends, verify, verify_typed};
use serde_json::{Value, json};

/// A confidential code-flow client with `token_claims_budget` (if given): (client_id, secret).
async fn app(s: &TestServer, name: &str, budget: Option<i64>) -> (String, String) {
    let mut body = json!({ "name": name, "redirect_uris": [REDIRECT], "first_party": true,
        "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "email"],
        "permission_namespaces": ["billing"] });
    if let Some(b) = budget {
        body["token_claims_budget"] = json!(b);
    }
    let (st, c) = s.post("/clients", body).await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["token_claims_budget"], budget.unwrap_or(8192));
    (
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().unwrap().to_owned(),
    )
}

async fn overage_moves_permissions_to_userinfo(b: Backend) {
    let s = TestServer::start(b).await;
    let user = user_with_password(&s, "ada@acme.test").await;
    let uid = user["id"].as_str().unwrap();
    let names: Vec<String> = (0..40)
        .map(|i| format!("billing:invoice-approval-for-cost-centre-{i:04}"))
        .collect();
    for n in &names {
        let (st, v) = s.post("/permissions", json!({ "name": n })).await;
        assert_eq!(st, 201, "{v}");
    }
    let (_, role) = s
        .post(
            "/roles",
            json!({ "name": "Approver", "permissions": names }),
        )
        .await;
    let (st, v) = s
        .post(
            &format!("/users/{uid}/roles"),
            json!({ "role_id": role["id"] }),
        )
        .await;
    assert_eq!(st, 201, "{v}");

    let (small_id, small_secret) = app(&s, "Small", Some(1024)).await;
    let (big_id, big_secret) = app(&s, "Big", None).await;
    let browser = Browser::new(&s);

    // Within the default budget: the list is in the tokens.
    let t = tokens(
        &s,
        &browser,
        (&big_id, &big_secret),
        "openid email",
        "ada@acme.test",
    )
    .await;
    let at = verify(&s, "acme", t["access_token"].as_str().unwrap()).await;
    assert_eq!(at["permissions"].as_array().unwrap().len(), 40, "{at}");
    assert!(at.get("_claim_names").is_none());

    // Past the small budget: left out of both tokens, which say where to fetch it.
    let t = tokens(
        &s,
        &browser,
        (&small_id, &small_secret),
        "openid email",
        "ada@acme.test",
    )
    .await;
    let access = t["access_token"].as_str().unwrap();
    let userinfo = format!("{}/t/acme/userinfo", s.base);
    for claims in [
        verify(&s, "acme", access).await,
        verify_typed(&s, "acme", t["id_token"].as_str().unwrap(), "JWT").await,
    ] {
        assert!(claims.get("permissions").is_none(), "{claims}");
        assert_eq!(
            claims["_claim_names"],
            json!({ "permissions": "permissions" })
        );
        assert_eq!(
            claims["_claim_sources"],
            json!({ "permissions": { "endpoint": userinfo } })
        );
        assert!(
            claims["roles"]
                .as_array()
                .unwrap()
                .contains(&json!("Approver"))
        );
    }
    assert!(
        access.len() < 2048,
        "the token stays small: {}",
        access.len()
    );
    let info: Value = s
        .client
        .get(&userinfo)
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["permissions"].as_array().unwrap().len(), 40, "{info}");
    let intro = introspect(&s, (&small_id, &small_secret), access).await;
    assert_eq!(intro["active"], true);
    assert_eq!(intro["permissions"].as_array().unwrap().len(), 40);
}

/// The budget and the refresh token lifetime are validated, and the lifetime is applied.
async fn client_token_settings(b: Backend) {
    let s = TestServer::start(b).await;
    for (field, bad) in [
        ("token_claims_budget", 100),
        ("token_claims_budget", 1_000_000),
        ("refresh_token_ttl", 10),
        ("refresh_token_ttl", 100_000_000),
    ] {
        let mut body = json!({ "name": "X", "redirect_uris": [REDIRECT], "scopes": ["openid"],
                               "grant_types": ["authorization_code", "refresh_token"] });
        body[field] = json!(bad);
        let (st, v) = s.post("/clients", body).await;
        assert_eq!(st, 422, "{field}={bad}: {v}");
    }
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Hourly", "redirect_uris": [REDIRECT], "first_party": true, "scopes": ["openid"],
                    "grant_types": ["authorization_code", "refresh_token"], "refresh_token_ttl": 3600 }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["refresh_token_ttl"], 3600);
    let client = (
        c["client_id"].as_str().unwrap(),
        c["client_secret"].as_str().unwrap(),
    );
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let t = tokens(&s, &browser, client, "openid", "ada@acme.test").await;
    let rt = introspect(&s, client, t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(rt["active"], true, "{rt}");
    let lifetime = rt["exp"].as_i64().unwrap() - rt["iat"].as_i64().unwrap();
    assert!((3599..=3600).contains(&lifetime), "{rt}");
    let id = c["id"].as_str().unwrap();
    let (st, v) = s
        .patch(
            &format!("/clients/{id}"),
            json!({ "token_claims_budget": 2048 }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (
            v["token_claims_budget"].as_i64(),
            v["refresh_token_ttl"].as_i64()
        ),
        (Some(2048), Some(3600))
    );
}

backends!(overage_moves_permissions_to_userinfo, client_token_settings);
