//! Test harness: a Castellan server on port 0 with a fresh database, and an HTTP client.

use castellan::config::Config;
use castellan::domain::sealing::MasterKey;
use castellan::http::AppState;
use castellan::store::Store;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// PostgreSQL, in a database whose `LC_CTYPE` and `LC_COLLATE` are `C` (ASCII-only case
    /// mapping in `lower()`), whatever the cluster's locale.
    #[allow(dead_code)] // used by the scim tests
    PostgresC,
}

/// Runs `$name(Backend)` as two tests, `$name::sqlite` and `$name::postgres`.
#[macro_export]
macro_rules! backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name($crate::common::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name($crate::common::Backend::Postgres).await }
        }
    )*};
}

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh database that disappears with the value.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    sqlite_dir: Option<std::path::PathBuf>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("castellan-test-{tag}"));
                let url = format!("sqlite:{}", dir.join("castellan.db").display());
                TestDb {
                    url,
                    pg_name: None,
                    sqlite_dir: Some(dir),
                }
            }
            Backend::Postgres | Backend::PostgresC => {
                use sqlx::Connection;
                let name = format!("castellan_test_{tag}");
                let mut conn = sqlx::PgConnection::connect(PG_ADMIN_URL)
                    .await
                    .expect("PostgreSQL at 127.0.0.1:5432");
                let locale = if backend == Backend::PostgresC {
                    " TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C' LC_COLLATE 'C'"
                } else {
                    ""
                };
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "CREATE DATABASE {name}{locale}"
                )))
                .execute(&mut conn)
                .await
                .unwrap();
                let _ = conn.close().await;
                TestDb {
                    url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
                    pg_name: Some(name),
                    sqlite_dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.sqlite_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = self.pg_name.take() {
            // Dropping needs async; do it on a thread of its own so Drop works inside a runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut c) = sqlx::PgConnection::connect(PG_ADMIN_URL).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut c)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A running server with tenant `acme` (owner `owner@acme.test`) and a tenant-wide token for it.
pub struct TestServer {
    pub base: String,
    /// The configured public URL (the issuers' base): `base`, or `http://localhost:PORT`.
    #[allow(dead_code)] // read by the oidc tests
    pub public_url: String,
    pub token: String,
    pub store: Store,
    pub client: reqwest::Client,
    /// The server's password-hashing queue (tests hold its places to fill it).
    #[allow(dead_code)] // used by the oidc tests
    pub hash_queue: std::sync::Arc<castellan::domain::passwords::HashQueue>,
    task: tokio::task::JoinHandle<()>,
    _db: TestDb,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_at(backend, "127.0.0.1").await
    }

    /// A server whose public URL is `http://localhost:PORT` (WebAuthn refuses an IP address as
    /// relying party id); requests still go to 127.0.0.1.
    #[allow(dead_code)] // used by the oidc tests
    pub async fn start_localhost(backend: Backend) -> Self {
        Self::start_at(backend, "localhost").await
    }

    /// A server whose configuration `configure` adjusts (limits, trusted proxies...).
    #[allow(dead_code)] // used by the oidc tests
    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Self {
        Self::start_configured(backend, "127.0.0.1", configure).await
    }

    /// [`Self::start_localhost`] with a configuration `configure` adjusts.
    #[allow(dead_code)] // used by the browser tests
    pub async fn start_localhost_with(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        Self::start_configured(backend, "localhost", configure).await
    }

    async fn start_at(backend: Backend, public_host: &str) -> Self {
        Self::start_configured(backend, public_host, |_| {}).await
    }

    async fn start_configured(
        backend: Backend,
        public_host: &str,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let db = TestDb::new(backend).await;
        let store = Store::connect(&db.url).await.expect("connect");
        let store = store.unlock(MasterKey::generate()).await.expect("unlock");
        let (tenant, _owner) =
            castellan::cli::create_tenant(&store, "acme", "Acme", "owner@acme.test")
                .await
                .unwrap();
        let token = castellan::cli::create_token(&store, &tenant.id, "test", None)
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let public_url = format!("http://{public_host}:{}", addr.port());
        let mut config = Config {
            public_url: public_url.clone(),
            database_url: db.url.clone(),
            ..Config::default()
        };
        configure(&mut config);
        let state = AppState::new(store.clone(), config);
        let hash_queue = state.hash_queue.clone();
        let task = tokio::spawn(async move {
            let _ = castellan::http::serve(listener, state).await;
        });
        TestServer {
            base: format!("http://{addr}"),
            public_url,
            token,
            store,
            client: reqwest::Client::new(),
            hash_queue,
            task,
            _db: db,
        }
    }

    /// The URL of the server's database (for tests that read it directly).
    #[allow(dead_code)] // used by the oidc tests
    pub fn db_url(&self) -> &str {
        &self._db.url
    }

    /// A second tenant with its own tenant-wide token: (slug, token).
    pub async fn other_tenant(&self, slug: &str) -> String {
        let (t, _) =
            castellan::cli::create_tenant(&self.store, slug, slug, &format!("owner@{slug}.test"))
                .await
                .unwrap();
        castellan::cli::create_token(&self.store, &t.id, "other", None)
            .await
            .unwrap()
    }

    /// A token acting as the user with this id.
    pub async fn token_for(&self, tenant: &str, user_id: &str) -> String {
        let t = self.store.tenant_by_slug(tenant).await.unwrap().unwrap();
        castellan::cli::create_token(
            &self.store,
            &t.id,
            "as-user",
            Some(&castellan::domain::UserId(user_id.into())),
        )
        .await
        .unwrap()
    }

    /// `/t/acme/api/v1` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/t/acme/api/v1{path}", self.base)
    }

    /// Sends a request with `token`; returns the status and the JSON body (Null when empty).
    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, url).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = res.text().await.unwrap();
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(
                ct, "application/problem+json",
                "errors are problem+json: {status} {text}"
            );
        }
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    /// A request to `/t/acme/api/v1` + `path` with the tenant-wide token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = self.url(path);
        self.call_as(&self.token.clone(), method, &url, body).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a user and returns its JSON (asserting 201).
    pub async fn create_user(&self, email: &str) -> Value {
        let (s, v) = self
            .post("/users", serde_json::json!({ "email": email }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v
    }

    /// The id of the role seeded from `template` (owner, administrator, manager, member).
    pub async fn role_id(&self, template: &str) -> String {
        let t = self.store.tenant_by_slug("acme").await.unwrap().unwrap();
        let tpl = castellan::domain::RoleTemplate::parse(template).unwrap();
        self.store.role_by_template(&t.id, tpl).await.unwrap().id.0
    }
}
