//! The real `castellan serve` binary as the durability tests run it: configured by `CASTELLAN_*`
//! variables only, killed with SIGKILL (no shutdown of any kind), started again on the same
//! database, and driven through the admin API.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_castellan");

/// One `castellan serve` process.
pub struct Castellan {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bootstrap token, when this start set the database up.
    pub token: Option<String>,
}

impl Drop for Castellan {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How the processes of one test are configured: the database, the master key, and the
/// delivery worker's pace (polls every 100 ms, retries after a second, leases of `lease_secs`).
pub struct Setup {
    pub database_url: String,
    pub master_key: String,
    pub lease_secs: u64,
    /// The working directory (where SQLite's file and the server's files live).
    pub dir: std::path::PathBuf,
}

impl Setup {
    /// Starts `castellan serve` sending mail to `smtp_url`, and waits until it listens.
    pub fn serve(&self, smtp_url: &str) -> Castellan {
        let lease = self.lease_secs.to_string();
        let mut child = Command::new(BIN)
            .arg("serve")
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CASTELLAN_LISTEN", "127.0.0.1:0")
            .env("CASTELLAN_DATABASE_URL", &self.database_url)
            .env("CASTELLAN_MASTER_KEY", &self.master_key)
            .env("CASTELLAN_SMTP_URL", smtp_url)
            .env("CASTELLAN_MAIL__POLL_MS", "100")
            .env("CASTELLAN_MAIL__LEASE_SECS", lease)
            .env("CASTELLAN_MAIL__RETRY_BASE_SECS", "1")
            .env("CASTELLAN_MAIL__RETRY_MAX_SECS", "1")
            .env("CASTELLAN_MAIL__MAX_ATTEMPTS", "1000")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn castellan");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut token = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if token.is_none() {
                    token = line
                        .split_whitespace()
                        .find(|w| w.trim_matches('\'').starts_with("cst_"))
                        .map(|t| t.trim_matches('\'').to_string());
                }
                if let Some(rest) = line.strip_prefix("Castellan listening on ") {
                    let base = rest.split_whitespace().next().unwrap_or_default();
                    let _ = tx.send((base.to_string(), token.clone()));
                }
            }
        });
        let (base, token) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("castellan serve did not start");
        Castellan { child, base, token }
    }
}

impl Castellan {
    /// SIGKILL, and reaped: whatever it was doing stops mid-way.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn api(&self, path: &str) -> String {
        format!("{}/t/default/api/v1{path}", self.base)
    }

    /// Invites `email` through the admin API; the user's id.
    pub async fn invite(&self, token: &str, email: &str) -> String {
        let res = reqwest::Client::new()
            .post(self.api("/users"))
            .bearer_auth(token)
            .json(&json!({ "email": email, "invite": true }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "inviting {email}");
        let v: Value = res.json().await.unwrap();
        v["id"].as_str().unwrap().to_string()
    }

    /// The outbox as the admin API lists it (newest first).
    pub async fn outbox(&self, token: &str) -> Vec<Value> {
        let res = reqwest::Client::new()
            .get(self.api("/mail?limit=200"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let v: Value = res.json().await.unwrap();
        v["items"].as_array().unwrap().clone()
    }

    /// Waits (up to `secs`) until every message of the outbox is `sent`; the outbox then.
    pub async fn all_sent(&self, token: &str, secs: u64) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let items = self.outbox(token).await;
            if items.iter().all(|m| m["status"] == "sent") || tokio::time::Instant::now() > deadline
            {
                return items;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
