//! The binary as an operator uses it: first start, restart, CLI commands, several processes on
//! one PostgreSQL database.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_castellan");

/// The master key of the processes these tests start on PostgreSQL (which needs one).
const TEST_MASTER_KEY: &str = "dGVzdC1tYXN0ZXIta2V5LW9mLXRoZS1jbGktdGVzdHM";

/// `env`, with the test master key when it names a PostgreSQL database and no key.
fn with_key<'a>(env: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = env.to_vec();
    let pg = env
        .iter()
        .any(|(k, v)| *k == "CASTELLAN_DATABASE_URL" && v.starts_with("postgres"));
    if pg
        && !env
            .iter()
            .any(|(k, _)| k.starts_with("CASTELLAN_MASTER_KEY"))
    {
        env.push(("CASTELLAN_MASTER_KEY", TEST_MASTER_KEY));
    }
    env
}

struct Server {
    child: Child,
    base: String,
    /// Everything the server printed on stdout before it said it was listening.
    banner: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `castellan serve` in `dir` on a free port with `env`, and waits until it listens.
fn serve(dir: &Path, env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CASTELLAN_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in with_key(env) {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn castellan");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut banner = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("Castellan listening on ") {
                let base = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let _ = tx.send((base, banner.clone()));
            }
            banner.push_str(&line);
            banner.push('\n');
        }
    });
    let (base, banner) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server did not start");
    Server {
        child,
        base,
        banner,
    }
}

fn token_in(banner: &str) -> Option<String> {
    banner
        .split_whitespace()
        .find(|w| w.starts_with("cst_"))
        .map(|t| t.trim_matches('\'').to_string())
}

fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .envs(with_key(env))
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> (u16, serde_json::Value) {
    let res = client.get(url).bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or_default())
}

#[tokio::test]
async fn first_start_bootstraps_once_and_restart_keeps_data() {
    let dir = tempdir();
    let client = reqwest::Client::new();
    let first = serve(&dir, &[]);
    let token = token_in(&first.banner).expect("first start prints a token");
    // And the owner's single-use set-up link, which opens the set-up page for the owner.
    let link = first
        .banner
        .split_whitespace()
        .find(|w| w.contains("/t/default/setup?link="))
        .expect("first start prints the owner's set-up link");
    let path = link[link.find("/t/default/setup").unwrap()..].to_owned();
    let page = client
        .get(format!("{}{path}", first.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("owner@localhost"));
    assert!(
        dir.join("data/castellan.db").exists(),
        "embedded SQLite under ./data/"
    );
    assert_eq!(
        client
            .get(format!("{}/healthz", first.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(format!("{}/readyz", first.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = client
        .post(format!("{}/t/default/api/v1/users", first.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"email": "kept@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    drop(first);

    let second = serve(&dir, &[]);
    assert_eq!(
        token_in(&second.banner),
        None,
        "no new token on restart: {}",
        second.banner
    );
    assert!(!second.banner.contains("/setup?link="), "nor a new link");
    // `castellan tenant setup-link` makes a new one, which replaces the first.
    let (ok, out, err) = run(&dir, &[], &["tenant", "setup-link", "default"]);
    assert!(ok, "{out} {err}");
    let fresh = out.trim();
    assert!(fresh.contains("/t/default/setup?link="), "{fresh}");
    for (url, status) in [
        (path.clone(), 410),
        (
            fresh[fresh.find("/t/default/setup").unwrap()..].to_owned(),
            200,
        ),
    ] {
        let res = client
            .get(format!("{}{url}", second.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{url}");
    }
    let (status, users) = get(
        &client,
        &format!("{}/t/default/api/v1/users?email_prefix=kept", second.base),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(users["items"][0]["email"], "kept@example.com");
    let (status, owner) = get(
        &client,
        &format!("{}/t/default/api/v1/owner", second.base),
        &token,
    )
    .await;
    assert_eq!(
        (status, owner["email"].as_str()),
        (200, Some("owner@localhost"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn cli_creates_tenants_and_tokens() {
    let dir = tempdir();
    let db = format!("sqlite:{}", dir.join("cli.db").display());
    let env = [("CASTELLAN_DATABASE_URL", db.as_str())];
    let (ok, out, err) = run(
        &dir,
        &env,
        &[
            "tenant",
            "create",
            "beta",
            "--owner-email",
            "boss@beta.test",
        ],
    );
    assert!(ok, "{out} {err}");
    let (ok, out, err) = run(
        &dir,
        &env,
        &["token", "create", "--tenant", "beta", "--name", "ci"],
    );
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "only the token on stdout: {out}");
    let token = lines[0].to_string();
    assert!(token.starts_with("cst_") && token.len() > 40);
    let (ok, _, err) = run(
        &dir,
        &env,
        &["token", "create", "--tenant", "nope", "--name", "x"],
    );
    assert!(!ok);
    assert!(err.contains("no tenant `nope`"), "{err}");
    let (ok, _, err) = run(
        &dir,
        &env,
        &["tenant", "create", "beta", "--owner-email", "x@beta.test"],
    );
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = run(
        &dir,
        &env,
        &[
            "tenant",
            "create",
            "Bad Slug",
            "--owner-email",
            "x@beta.test",
        ],
    );
    assert!(!ok && err.contains("slug"), "{err}");
    let (ok, out, _) = run(
        &dir,
        &env,
        &[
            "token",
            "create",
            "--tenant",
            "beta",
            "--name",
            "as-boss",
            "--user",
            "boss@beta.test",
        ],
    );
    assert!(ok && out.trim().starts_with("cst_"));

    let server = serve(&dir, &env);
    assert!(
        token_in(&server.banner).is_none(),
        "a database with tenants is not bootstrapped again"
    );
    let client = reqwest::Client::new();
    let (status, owner) = get(
        &client,
        &format!("{}/t/beta/api/v1/owner", server.base),
        &token,
    )
    .await;
    assert_eq!(
        (status, owner["email"].as_str()),
        (200, Some("boss@beta.test"))
    );
    let (status, _) = get(
        &client,
        &format!("{}/t/default/api/v1/users", server.base),
        &token,
    )
    .await;
    assert_eq!(
        status, 404,
        "no default tenant when the database was set up by the CLI"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn several_processes_share_one_postgres_database() {
    use sqlx::Connection;
    let name = format!("castellan_cli_{}", uuid::Uuid::new_v4().simple());
    let admin = "postgres://postgres@127.0.0.1:5432/postgres";
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let dir = tempdir();
    let env = [("CASTELLAN_DATABASE_URL", url.as_str())];
    {
        let a = serve(&dir, &env);
        let b = serve(&dir, &env);
        let tokens: Vec<String> = [&a, &b]
            .iter()
            .filter_map(|s| token_in(&s.banner))
            .collect();
        assert_eq!(tokens.len(), 1, "exactly one process bootstraps");
        let token = &tokens[0];
        let client = reqwest::Client::new();
        let created: serde_json::Value = client
            .post(format!("{}/t/default/api/v1/users", a.base))
            .bearer_auth(token)
            .json(&serde_json::json!({"email": "shared@example.com"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap();
        let (status, seen) = get(
            &client,
            &format!("{}/t/default/api/v1/users/{id}", b.base),
            token,
        )
        .await;
        assert_eq!(
            (status, seen["email"].as_str()),
            (200, Some("shared@example.com"))
        );
        let res = client
            .patch(format!("{}/t/default/api/v1/users/{id}", b.base))
            .bearer_auth(token)
            .header("if-match", "W/\"1\"")
            .json(&serde_json::json!({"given_name": "Via B"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let stale = client
            .patch(format!("{}/t/default/api/v1/users/{id}", a.base))
            .bearer_auth(token)
            .header("if-match", "W/\"1\"")
            .json(&serde_json::json!({"given_name": "Via A"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            stale.status(),
            412,
            "A sees B's write: no state kept in memory"
        );
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("castellan-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn cli_creates_clients_and_rotates_keys() {
    let dir = tempdir();
    let db = format!("sqlite:{}", dir.join("oidc.db").display());
    let env = [("CASTELLAN_DATABASE_URL", db.as_str())];
    let (ok, out, err) = run(
        &dir,
        &env,
        &[
            "tenant",
            "create",
            "gamma",
            "--owner-email",
            "boss@gamma.test",
        ],
    );
    assert!(ok, "{out} {err}");
    let (ok, out, err) = run(
        &dir,
        &env,
        &[
            "client",
            "create",
            "--tenant",
            "gamma",
            "--name",
            "Worker",
            "--grant-type",
            "client_credentials",
        ],
    );
    assert!(ok, "{out} {err}");
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {name} in {out}"))
    };
    let (id, secret) = (field("client_id:"), field("client_secret:"));
    let (ok, _, err) = run(
        &dir,
        &env,
        &[
            "client",
            "create",
            "--tenant",
            "gamma",
            "--name",
            "Bad",
            "--grant-type",
            "password",
        ],
    );
    assert!(!ok && err.contains("password"), "{err}");

    let server = serve(&dir, &env);
    let client = reqwest::Client::new();
    let token_url = format!("{}/t/gamma/token", server.base);
    let res = client
        .post(&token_url)
        .basic_auth(&id, Some(&secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (ok, out, err) = run(&dir, &env, &["keys", "rotate", "--tenant", "gamma"]);
    assert!(ok, "{out} {err}");
    for state in ["active", "next", "retired"] {
        assert!(out.contains(state), "{out}");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_sets_a_password_from_stdin() {
    use std::io::Write;
    let dir = tempdir();
    let db = format!("sqlite:{}", dir.join("pw.db").display());
    let env = [("CASTELLAN_DATABASE_URL", db.as_str())];
    let (ok, out, err) = run(
        &dir,
        &env,
        &[
            "tenant",
            "create",
            "delta",
            "--owner-email",
            "boss@delta.test",
        ],
    );
    assert!(ok, "{out} {err}");
    let set = |email: &str, password: &str| {
        let mut child = Command::new(BIN)
            .args([
                "user",
                "set-password",
                "--tenant",
                "delta",
                "--email",
                email,
            ])
            .current_dir(&dir)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{password}").unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (ok, out) = set("boss@delta.test", "a long passphrase");
    assert!(ok, "{out}");
    assert!(out.contains("password set for boss@delta.test"), "{out}");
    assert!(!out.contains("a long passphrase"), "never echoed");
    let (ok, out) = set("boss@delta.test", "short");
    assert!(!ok && out.contains("at least 8"), "{out}");
    let (ok, out) = set("nobody@delta.test", "a long passphrase");
    assert!(!ok && out.contains("no user"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn cli_creates_scim_tokens() {
    let dir = tempdir();
    let db = format!("sqlite:{}", dir.join("scim.db").display());
    let env = [("CASTELLAN_DATABASE_URL", db.as_str())];
    let srv = serve(&dir, &env);
    let (ok, out, err) = run(&dir, &env, &["scim-token", "create", "--tenant", "default"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "only the token: {out}");
    assert!(
        lines[0].starts_with("scim_") && lines[0].len() > 40,
        "{out}"
    );
    let client = reqwest::Client::new();
    let (status, body) = get(
        &client,
        &format!("{}/t/default/scim/v2/Users", srv.base),
        lines[0],
    )
    .await;
    assert_eq!(
        (status, body["totalResults"].as_i64()),
        (200, Some(1)),
        "{body}"
    );
    let (ok, _, err) = run(&dir, &env, &["scim-token", "create", "--tenant", "nope"]);
    assert!(!ok && err.contains("nope"), "{err}");
}

/// `castellan mfa reset`: break-glass removal of a user's second factors, audited as the CLI,
/// on SQLite and on PostgreSQL.
#[tokio::test]
async fn cli_resets_a_users_second_factors() {
    use castellan::domain::FactorId;
    use castellan::domain::audit::{Actor, AuditQuery};
    use castellan::domain::mfa::{CredentialKind, WebauthnCredential};
    use sqlx::Connection;
    let dir = tempdir();
    let pg_name = format!("castellan_cli_{}", uuid::Uuid::new_v4().simple());
    let pg_admin = "postgres://postgres@127.0.0.1:5432/postgres";
    let mut pg = sqlx::PgConnection::connect(pg_admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {pg_name}")))
        .execute(&mut pg)
        .await
        .unwrap();
    let urls = [
        format!("sqlite:{}", dir.join("mfa.db").display()),
        format!("postgres://postgres@127.0.0.1:5432/{pg_name}"),
    ];
    for url in &urls {
        let env = [("CASTELLAN_DATABASE_URL", url.as_str())];
        let create = [
            "tenant",
            "create",
            "delta",
            "--owner-email",
            "boss@delta.test",
        ];
        let (ok, out, err) = run(&dir, &env, &create);
        assert!(ok, "{url}: {out} {err}");
        let store = castellan::store::Store::connect(url).await.unwrap();
        let tenant = store.tenant_by_slug("delta").await.unwrap().unwrap();
        let boss = store
            .user_by_email(&tenant.id, "boss@delta.test")
            .await
            .unwrap()
            .unwrap();
        let key = WebauthnCredential {
            id: FactorId::generate(),
            user_id: boss.id.clone(),
            kind: CredentialKind::SecurityKey,
            name: "Blue key".into(),
            credential_id: "a2V5LTE".into(),
            credential: r#"{"public_key":"KEY-MATERIAL"}"#.into(),
            created_at: 1,
            last_used_at: None,
        };
        let codes: Vec<String> = (0..4).map(|i| format!("HASH-{i}")).collect();
        store
            .add_webauthn_credential(&tenant.id, &key, Some(&codes), &Actor::cli())
            .await
            .unwrap();

        let reset = [
            "mfa",
            "reset",
            "--tenant",
            "delta",
            "--email",
            "boss@delta.test",
        ];
        let (ok, out, err) = run(&dir, &env, &reset);
        assert!(ok, "{url}: {out} {err}");
        assert!(
            out.contains("removed 1 factor(s): security_key “Blue key” and 4 recovery code(s)"),
            "{out}"
        );
        assert!(
            !out.contains("KEY-MATERIAL") && !out.contains("HASH-"),
            "{out}"
        );
        let f = store.user_factors(&tenant.id, &boss.id).await.unwrap();
        assert!(f.webauthn.is_empty() && f.recovery_codes_left == 0, "{f:?}");
        let query = AuditQuery {
            action: Some("user.mfa.reset".into()),
            limit: 10,
            ..AuditQuery::default()
        };
        let log = store.list_audit(&tenant.id, &query).await.unwrap();
        assert_eq!(log.items.len(), 1);
        assert_eq!(log.items[0].actor_kind, "cli");
        assert_eq!(log.items[0].target_id.as_deref(), Some(boss.id.as_str()));
        let sent = store.notifications(&tenant.id, &boss.id, 10).await.unwrap();
        assert_eq!(sent[0].details["event"], "factors_reset");

        let (ok, out, _) = run(&dir, &env, &reset);
        assert!(
            ok && out.contains("removed 0 factor(s) and 0 recovery code(s)"),
            "{out}"
        );
        let nobody = [
            "mfa",
            "reset",
            "--tenant",
            "delta",
            "--email",
            "nobody@delta.test",
        ];
        let (ok, _, err) = run(&dir, &env, &nobody);
        assert!(!ok && err.contains("no user"), "{err}");
        let (ok, _, err) = run(
            &dir,
            &env,
            &["mfa", "reset", "--tenant", "nope", "--email", "x@y.z"],
        );
        assert!(!ok && err.contains("nope"), "{err}");
        store.close().await;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"
    )))
    .execute(&mut pg)
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `castellan serve` expecting it to refuse: its stderr (fails the test if it serves).
fn start_refused(dir: &Path, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CASTELLAN_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn castellan");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success());
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return err;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("castellan started when it should have refused");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// PostgreSQL without a master key refuses to start and says how to make one.
#[tokio::test]
async fn postgres_without_a_master_key_refuses_to_start() {
    let dir = tempdir();
    let url = "postgres://postgres@127.0.0.1:5432/postgres";
    // An empty key file setting counts as none (and keeps the tests' own key out).
    let err = start_refused(
        &dir,
        &[
            ("CASTELLAN_DATABASE_URL", url),
            ("CASTELLAN_MASTER_KEY_FILE", ""),
        ],
    );
    assert!(
        err.contains("PostgreSQL needs a master key")
            && err.contains("castellan master-key generate --out"),
        "{err}"
    );
    let bad = start_refused(
        &dir,
        &[
            ("CASTELLAN_DATABASE_URL", url),
            ("CASTELLAN_MASTER_KEY", "not a key"),
        ],
    );
    assert!(bad.contains("CASTELLAN_MASTER_KEY"), "{bad}");
    assert!(!bad.contains("not a key"), "the key is never echoed: {bad}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The embedded default makes `data/master.key` (0600) on first start; `master-key generate`
/// writes a new key file (never over one); `master-key rotate` re-seals the database under it;
/// then only the new key starts the server, and the keys it publishes are the same.
#[tokio::test]
async fn master_key_is_created_generated_and_rotated() {
    let dir = tempdir();
    let client = reqwest::Client::new();
    let first = serve(&dir, &[]);
    let key_file = dir.join("data").join("master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let jwks = |base: String| {
        let client = client.clone();
        async move {
            let res = client
                .get(format!("{base}/t/default/jwks"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            res.text().await.unwrap()
        }
    };
    let published = jwks(first.base.clone()).await;
    assert!(published.contains("\"kid\""), "{published}");
    drop(first);

    let (ok, out, err) = run(&dir, &[], &["master-key", "generate", "--out", "new.key"]);
    assert!(ok, "{out} {err}");
    let (ok, _, err) = run(&dir, &[], &["master-key", "generate", "--out", "new.key"]);
    assert!(
        !ok && err.contains("new.key"),
        "never over a key file: {err}"
    );
    let (ok, printed, _) = run(&dir, &[], &["master-key", "generate"]);
    assert!(ok && printed.trim().len() == 43, "{printed}");

    let (ok, out, err) = run(&dir, &[], &["master-key", "rotate", "--new", "new.key"]);
    assert!(ok && out.contains("re-sealed"), "{out} {err}");
    let refused = start_refused(&dir, &[]);
    assert!(refused.contains("is not the key"), "{refused}");
    let new_key = dir.join("new.key");
    let env = [("CASTELLAN_MASTER_KEY_FILE", new_key.to_str().unwrap())];
    let second = serve(&dir, &env);
    assert_eq!(jwks(second.base.clone()).await, published);
    drop(second);
    let _ = std::fs::remove_dir_all(dir);
}
