//! The "forgot password" limit per address is counted from the outbox in the transaction that
//! adds the mail, which holds the user's row: of many requests at once for one address, exactly
//! `resets_per_address` get a link mailed, on both databases.

use crate::backends;
use crate::common::{Backend, TestServer};
use castellan::admin::account_email::{Links, ResetRequest, request_reset};
use castellan::domain::account_email::AccountEmail;
use serde_json::json;

backends!(concurrent_requests_for_one_address_queue_exactly_the_limit,);

async fn concurrent_requests_for_one_address_queue_exactly_the_limit(b: Backend) {
    const REQUESTS: usize = 12;
    const LIMIT: u32 = 3;
    let s = TestServer::start(b).await;
    let (st, u) = s
        .post(
            "/users",
            json!({"email": "Rosé.Reset@acme.test", "status": "active", "email_verified": true}),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let (st, other) = s
        .post(
            "/users",
            json!({"email": "other@acme.test", "status": "active", "email_verified": true}),
        )
        .await;
    assert_eq!(st, 201, "{other}");
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let settings = AccountEmail {
        resets_per_address: LIMIT,
        ..AccountEmail::default()
    };
    let ask = |email: &'static str| {
        let (store, tenant, settings) = (s.store.clone(), tenant.clone(), settings.clone());
        tokio::spawn(async move {
            let links = Links {
                public_url: "http://localhost",
                settings: &settings,
            };
            request_reset(&store, &tenant, email, links).await.unwrap()
        })
    };
    // The address as typed differs in case from the stored one: the same address.
    let mut tasks: Vec<_> = (0..REQUESTS).map(|_| ask("rosé.reset@acme.test")).collect();
    tasks.push(ask("other@acme.test"));
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let mailed = outcomes
        .iter()
        .filter(|o| **o == ResetRequest::Mailed)
        .count();
    let limited = outcomes
        .iter()
        .filter(|o| **o == ResetRequest::Limited)
        .count();
    assert_eq!(mailed, LIMIT as usize + 1, "{outcomes:?}");
    assert_eq!(limited, REQUESTS - LIMIT as usize, "{outcomes:?}");
    let (_, v) = s.get("/mail?limit=1000").await;
    let resets = |to: &str| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "password_reset" && m["recipient"] == to)
            .count()
    };
    assert_eq!(resets("Rosé.Reset@acme.test"), LIMIT as usize, "{v}");
    assert_eq!(
        resets("other@acme.test"),
        1,
        "another address has its own count"
    );
    // Later requests are still refused.
    let links = Links {
        public_url: "http://localhost",
        settings: &settings,
    };
    let again = request_reset(&s.store, &tenant, "Rosé.Reset@acme.test", links).await;
    assert_eq!(again.unwrap(), ResetRequest::Limited);
}
