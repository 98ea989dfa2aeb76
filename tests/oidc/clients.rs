//! The clients admin API and `castellan client create`.

use crate::backends;
use crate::common::{Backend, TestServer};
use serde_json::json;

async fn client_crud(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Web", "redirect_uris": ["https://app.example.com/cb", "http://127.0.0.1:8000/cb"],
                    "scopes": ["openid", "email"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let id = c["id"].as_str().unwrap();
    assert!(c["client_secret"].as_str().unwrap().len() >= 43);
    assert!(c.get("secret_hash").is_none());
    assert_eq!(c["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(c["access_token_ttl"], 300);

    let (st, got) = s.get(&format!("/clients/{id}")).await;
    assert_eq!(st, 200);
    assert!(
        got.get("client_secret").is_none(),
        "the secret is shown once"
    );

    let (st, p) = s
        .patch(
            &format!("/clients/{id}"),
            json!({ "name": "Web app", "first_party": true }),
        )
        .await;
    assert_eq!(
        (st.as_u16(), p["name"].as_str(), p["first_party"].as_bool()),
        (200, Some("Web app"), Some(true))
    );

    let (st, r) = s.post(&format!("/clients/{id}/secret"), json!({})).await;
    assert_eq!(st, 200, "{r}");
    assert_ne!(r["client_secret"], c["client_secret"]);

    for bad in [
        json!({ "name": "x", "redirect_uris": ["http://example.com/cb"] }),
        json!({ "name": "x", "redirect_uris": ["https://example.com/cb#frag"] }),
        json!({ "name": "x", "redirect_uris": ["/relative"] }),
        json!({ "name": "x", "grant_types": ["password"] }),
        json!({ "name": "x", "grant_types": ["client_credentials"], "scopes": ["everything"] }),
        json!({ "name": "x", "kind": "public", "grant_types": ["client_credentials"] }),
    ] {
        let (st, e) = s.post("/clients", bad.clone()).await;
        assert_eq!(st, 422, "{bad}: {e}");
    }
    let (st, pubc) = s
        .post("/clients", json!({ "name": "SPA", "kind": "public", "redirect_uris": ["https://spa.example.com/cb"] }))
        .await;
    assert_eq!(st, 201, "{pubc}");
    assert!(pubc.get("client_secret").is_none());
    assert_eq!(pubc["token_endpoint_auth_method"], "none");

    let (_, audit) = s.get("/audit?target_kind=client").await;
    let actions: Vec<&str> = audit["items"].as_array().map_or(vec![], |a| {
        a.iter().filter_map(|e| e["action"].as_str()).collect()
    });
    assert!(
        actions.contains(&"client.create") && actions.contains(&"client.secret.rotate"),
        "{audit}"
    );

    let (st, _) = s.delete(&format!("/clients/{id}")).await;
    assert_eq!(st, 204);
    let (st, _) = s.get(&format!("/clients/{id}")).await;
    assert_eq!(st, 404);

    // Another tenant's token sees nothing of it.
    let other = s.other_tenant("globex").await;
    let url = s.url(&format!("/clients/{}", pubc["id"].as_str().unwrap()));
    let (st, _) = s.call_as(&other, reqwest::Method::GET, &url, None).await;
    assert_eq!(st, 404);
}

backends!(client_crud);
