//! SCIM 2.0 over real HTTP, each test on a fresh database, on SQLite and on PostgreSQL: what the
//! conformance suites do not cover (filter semantics, sorting, paging, ETags, Bulk, Okta and
//! Entra ID quirks, deprovisioning, tenant isolation).

#[path = "../api/common.rs"]
#[allow(dead_code)]
mod common;

mod administrators;
mod bulk;
mod concurrency;
mod contacts;
mod differential;
mod filters;
mod folding;
mod groups;
mod identity;
mod large_groups;
mod quirks;
mod reference;
mod semantics;
mod users;
mod writes;

use common::{Backend, TestServer};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A test server with a SCIM token for tenant `acme`.
pub struct Scim {
    pub srv: TestServer,
    pub token: String,
}

/// A SCIM answer.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Scim {
    pub async fn start(b: Backend) -> Self {
        let srv = TestServer::start(b).await;
        let token = castellan::cli::create_scim_token(&srv.store, "acme", "test")
            .await
            .unwrap();
        Self { srv, token }
    }

    /// [`Self::start`] with a configuration changed by `configure`.
    pub async fn start_with(
        b: Backend,
        configure: impl FnOnce(&mut castellan::config::Config),
    ) -> Self {
        let srv = TestServer::start_with(b, configure).await;
        let token = castellan::cli::create_scim_token(&srv.store, "acme", "test")
            .await
            .unwrap();
        Self { srv, token }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/t/acme/scim/v2{path}", self.srv.base)
    }

    /// Sends a request; every error must be a SCIM error in `application/scim+json`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self
            .srv
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(
                headers.get("content-type").unwrap(),
                "application/scim+json",
                "{status} {body}"
            );
            assert_eq!(
                body["schemas"],
                json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
                "{body}"
            );
            assert_eq!(body["status"], status.as_u16().to_string(), "{body}");
        }
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        Answer {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, &[]).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body), &[]).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(body), &[]).await
    }
    pub async fn patch(&self, path: &str, ops: Value) -> Answer {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
        self.send(Method::PATCH, path, Some(body), &[]).await
    }
    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Creates a user from `body`, asserting 201; returns its id.
    pub async fn user(&self, body: Value) -> String {
        let a = self.post("/Users", body).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.body["id"].as_str().unwrap().to_owned()
    }

    /// The userNames a list request returns, in order.
    pub async fn names(&self, query: &str) -> Vec<String> {
        let a = self.get(&format!("/Users?{query}")).await;
        assert_eq!(a.status, StatusCode::OK, "{query}: {}", a.body);
        a.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["userName"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Percent-encodes a filter for a query string.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
