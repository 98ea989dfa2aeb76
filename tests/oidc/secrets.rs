//! Secrets at rest, on SQLite and PostgreSQL: TOTP seeds and signing private keys are never in
//! the database in clear (the stored bytes are searched); tokens and TOTP keep working across a
//! restart with the same master key and across a rotation to a new one; a wrong key is refused
//! at start; rows written raw by an older version are sealed on the first start with a key.

use crate::backends;
use crate::browser::PASSWORD;
use crate::common::{Backend, TestDb};
use crate::sessions::{Client, second_factor, with_totp};
use base64::Engine;
use castellan::config::Config;
use castellan::domain::sealing::MasterKey;
use castellan::domain::{Tenant, UserId};
use castellan::http::AppState;
use castellan::store::Store;
use serde_json::{Value, json};

/// A server on a database that outlives it, started with one master key.
struct Running {
    base: String,
    store: Store,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn start(url: &str, key: &str) -> Self {
        let store = Store::connect(url).await.unwrap();
        let store = store
            .unlock(MasterKey::parse(key).unwrap())
            .await
            .expect("the right key unlocks");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let config = Config {
            public_url: base.clone(),
            database_url: url.to_owned(),
            ..Config::default()
        };
        let state = AppState::new(store.clone(), config);
        let task = tokio::spawn(async move {
            let _ = castellan::http::serve(listener, state).await;
        });
        Running { base, store, task }
    }

    async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        self.store.close().await;
    }

    async fn tenant(&self) -> Tenant {
        self.store.tenant_by_slug("acme").await.unwrap().unwrap()
    }

    /// An access token of the client credentials grant.
    async fn access_token(&self, client: &(String, String)) -> String {
        let res = reqwest::Client::new()
            .post(format!("{}/t/acme/token", self.base))
            .basic_auth(&client.0, Some(&client.1))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Verifies `jwt` against the JWKS this server publishes; returns its `kid`.
    async fn verify(&self, jwt: &str) -> String {
        let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(format!("{}/t/acme/jwks", self.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let header = jsonwebtoken::decode_header(jwt).unwrap();
        let kid = header.kid.unwrap();
        let jwk = jwks.find(&kid).expect("the kid is published");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let mut v = jsonwebtoken::Validation::new(header.alg);
        v.validate_aud = false;
        // A restart listens on another port: the issuer of a token from before differs; the
        // signature is what is checked here.
        v.validate_aud = false;
        if let Err(e) = jsonwebtoken::decode::<Value>(jwt, &key, &v) {
            let payload = jwt.split('.').nth(1).unwrap();
            let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap();
            panic!("{e}: {}", String::from_utf8_lossy(&claims));
        }
        kid
    }
}

/// A tenant `acme` with a user `ada` (password, authenticator app) and a client credentials
/// client: (user id, TOTP secret, (client_id, secret)).
async fn seed(r: &Running) -> (String, String, (String, String)) {
    let (tenant, _) = castellan::cli::create_tenant(&r.store, "acme", "Acme", "owner@acme.test")
        .await
        .unwrap();
    let token = castellan::cli::create_token(&r.store, &tenant.id, "t", None)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{}/t/acme/api/v1{path}", r.base);
    let u: Value = http
        .post(api("/users"))
        .bearer_auth(&token)
        .json(&json!({ "email": "ada@acme.test", "email_verified": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = u["id"].as_str().unwrap().to_owned();
    let res = http
        .put(api(&format!("/users/{id}/password")))
        .bearer_auth(&token)
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let secret = with_totp(&r.store, &id).await;
    let c: Value = http
        .post(api("/clients"))
        .bearer_auth(&token)
        .json(&json!({ "name": "Svc", "grant_types": ["client_credentials"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = (
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().unwrap().to_owned(),
    );
    (id, secret, client)
}

/// Every byte the database keeps: the SQLite file and its write-ahead log, or every row of
/// every table of the PostgreSQL database as text.
async fn stored_bytes(db: &TestDb) -> Vec<u8> {
    if let Some(path) = db.url.strip_prefix("sqlite:") {
        let mut all = Vec::new();
        for suffix in ["", "-wal"] {
            if let Ok(b) = std::fs::read(format!("{path}{suffix}")) {
                all.extend(b);
            }
        }
        assert!(all.len() > 4096, "read the database file");
        return all;
    }
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut all = Vec::new();
    for t in tables {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(t AS TEXT) FROM \"{t}\" t"
        )))
        .fetch_all(&mut c)
        .await
        .unwrap();
        for r in rows {
            all.extend(r.into_bytes());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What must never be stored in clear: the TOTP seed (base32 and its raw bytes) and each
/// private key (its base64 PKCS#8, a PEM body line, and its DER).
async fn clear_secrets(r: &Running, totp: &str) -> Vec<(String, Vec<u8>)> {
    let t = r.tenant().await;
    let keys = r.store.signing_keys(&t.id).await.unwrap();
    assert!(keys.len() >= 2, "keys were made");
    let mut out = vec![("totp seed".to_owned(), totp.as_bytes().to_vec())];
    let raw = totp_rs::Secret::try_from_base32(totp)
        .unwrap()
        .as_bytes()
        .to_vec();
    out.push(("totp seed bytes".into(), raw));
    for k in keys {
        let b64 = k.private_pkcs8.0.clone();
        let der = base64::engine::general_purpose::STANDARD
            .decode(&b64)
            .unwrap();
        // The private scalar sits at the end of the PKCS#8 for every algorithm used here.
        out.push((format!("key {} der", k.kid), der[der.len() - 32..].to_vec()));
        out.push((
            format!("key {} base64", k.kid),
            b64.as_bytes()[..48].to_vec(),
        ));
        // A PEM body's second line, for keys long enough to have one (not Ed25519's).
        if b64.len() > 64 {
            out.push((
                format!("key {} pem line", k.kid),
                b64.as_bytes()[64..128.min(b64.len())].to_vec(),
            ));
        }
    }
    out
}

/// A copy of the database holds no TOTP seed and no private key in clear; what it holds are
/// sealed values (the `cse1.` format with the key id).
async fn no_secret_is_stored_in_clear(b: Backend) {
    let db = TestDb::new(b).await;
    let key = MasterKey::generate_text();
    let r = Running::start(&db.url, &key).await;
    let (_, totp, client) = seed(&r).await;
    let token = r.access_token(&client).await;
    r.verify(&token).await;
    let secrets = clear_secrets(&r, &totp).await;
    r.stop().await;
    let bytes = stored_bytes(&db).await;
    for (what, needle) in &secrets {
        assert!(!contains(&bytes, needle), "{what} is stored in clear");
    }
    let id = MasterKey::parse(&key).unwrap().id().to_owned();
    assert!(contains(&bytes, format!("cse1.{id}.").as_bytes()));
    // The test can fail: the same search finds a value that is stored in clear.
    assert!(contains(&bytes, b"ada@acme.test"));
}

/// Restarting with the same key: tokens issued before still verify against the published keys,
/// the same keys sign, and the TOTP seed opens (a sign-in with a code works). A wrong key is
/// refused at start, saying which key the database needs.
async fn restart_with_the_same_key_and_refusal_of_a_wrong_one(b: Backend) {
    let db = TestDb::new(b).await;
    let key = MasterKey::generate_text();
    let r = Running::start(&db.url, &key).await;
    let (_, totp, client) = seed(&r).await;
    let before = r.access_token(&client).await;
    let kid = r.verify(&before).await;
    r.stop().await;

    let wrong = MasterKey::generate();
    let wrong_id = wrong.id().to_owned();
    let store = Store::connect(&db.url).await.unwrap();
    let e = store.unlock(wrong).await.unwrap_err().to_string();
    let right_id = MasterKey::parse(&key).unwrap().id().to_owned();
    assert!(
        e.contains("is not the key") && e.contains(&wrong_id) && e.contains(&right_id),
        "{e}"
    );

    let r = Running::start(&db.url, &key).await;
    assert_eq!(r.verify(&before).await, kid, "issued before the restart");
    let after = r.access_token(&client).await;
    assert_eq!(r.verify(&after).await, kid, "the same key signs");
    sign_in_with_totp(&r, &totp).await;
    r.stop().await;
}

async fn sign_in_with_totp(r: &Running, totp: &str) {
    let c = Client::at(&r.base);
    let signed = c.sign_in("ada@acme.test", false).await;
    assert!(
        signed.location.starts_with("/t/acme/login/mfa"),
        "{}",
        signed.location
    );
    let done = second_factor(&c, &signed.location, totp).await;
    assert_eq!(
        done.status, 303,
        "the code of the stored seed is accepted: {}",
        done.body
    );
    assert!(c.signed_in().await);
}

/// Rotating the master key re-seals everything in one go: afterwards only the new key opens the
/// database, tokens from before still verify, signing and TOTP work.
async fn master_key_rotation_keeps_tokens_and_totp(b: Backend) {
    let db = TestDb::new(b).await;
    let old = MasterKey::generate_text();
    let r = Running::start(&db.url, &old).await;
    let (_, totp, client) = seed(&r).await;
    let before = r.access_token(&client).await;
    let kid = r.verify(&before).await;
    r.stop().await;

    let new = MasterKey::generate_text();
    let store = Store::connect(&db.url).await.unwrap();
    let old_key = MasterKey::parse(&old).unwrap();
    let new_key = MasterKey::parse(&new).unwrap();
    let n = store.reseal(&old_key, &new_key).await.unwrap();
    assert!(n >= 3, "the seed and every signing key: {n}");
    // Again with the old key: refused, nothing changed.
    assert!(store.reseal(&old_key, &new_key).await.is_err());
    store.close().await;
    let store = Store::connect(&db.url).await.unwrap();
    assert!(
        store.unlock(old_key).await.is_err(),
        "the old key no longer opens it"
    );
    let bytes = stored_bytes(&db).await;
    assert!(contains(
        &bytes,
        format!("cse1.{}.", new_key.id()).as_bytes()
    ));
    assert!(!contains(
        &bytes,
        format!("cse1.{}.", MasterKey::parse(&old).unwrap().id()).as_bytes()
    ));

    let r = Running::start(&db.url, &new).await;
    assert_eq!(r.verify(&before).await, kid);
    let after = r.access_token(&client).await;
    r.verify(&after).await;
    sign_in_with_totp(&r, &totp).await;
    r.stop().await;
}

/// A database written before secrets were sealed (raw seeds and keys, no key check): the first
/// start with a master key seals every row, and everything keeps working.
async fn raw_rows_are_sealed_on_first_start(b: Backend) {
    let db = TestDb::new(b).await;
    let key = MasterKey::generate_text();
    let r = Running::start(&db.url, &key).await;
    let (user, totp, client) = seed(&r).await;
    let before = r.access_token(&client).await;
    let t = r.tenant().await;
    let keys = r.store.signing_keys(&t.id).await.unwrap();
    r.stop().await;
    // Back to how an older version stored them.
    let mut statements = vec![
        format!("UPDATE totp_factors SET secret = '{totp}'"),
        "UPDATE master_key_check SET key_id = NULL, canary = NULL".to_owned(),
    ];
    for k in &keys {
        statements.push(format!(
            "UPDATE signing_keys SET private_pkcs8 = '{}' WHERE kid = '{}'",
            k.private_pkcs8.0, k.kid
        ));
    }
    exec(&db.url, &statements).await;
    assert!(
        contains(&stored_bytes(&db).await, totp.as_bytes()),
        "raw now"
    );

    let r = Running::start(&db.url, &key).await;
    r.verify(&before).await;
    r.verify(&r.access_token(&client).await).await;
    let factors = r
        .store
        .user_factors(&t.id, &UserId(user.clone()))
        .await
        .unwrap();
    assert_eq!(factors.totp.unwrap().secret, totp);
    sign_in_with_totp(&r, &totp).await;
    let secrets = clear_secrets(&r, &totp).await;
    r.stop().await;
    let bytes = stored_bytes(&db).await;
    for (what, needle) in &secrets {
        assert!(!contains(&bytes, needle), "{what} still in clear");
    }
    // A store opened without a key reads no secret (never a silent fallback to clear text).
    let bare = Store::connect(&db.url).await.unwrap();
    assert!(bare.signing_keys(&t.id).await.is_err());
    assert!(bare.user_factors(&t.id, &UserId(user)).await.is_err());
}

async fn exec(url: &str, statements: &[String]) {
    use sqlx::Connection;
    for s in statements {
        if url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(s.clone()))
                .execute(&mut c)
                .await
                .unwrap();
        } else {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(s.clone()))
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}

backends!(
    no_secret_is_stored_in_clear,
    restart_with_the_same_key_and_refusal_of_a_wrong_one,
    master_key_rotation_keeps_tokens_and_totp,
    raw_rows_are_sealed_on_first_start,
);
