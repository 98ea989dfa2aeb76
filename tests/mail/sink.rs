//! The SMTP sink (`tests/support/smtp_sink.py` on aiosmtpd) as the tests drive it: started on a
//! free 127.0.0.1 port, each received message read back as JSON.

use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// Set to `1` (CI does) to make a missing sink a failure instead of a skip.
const REQUIRED: &str = "CASTELLAN_MAIL_TESTS";

/// A Python with aiosmtpd: env `CASTELLAN_SMTP_SINK_PYTHON`, else the venv `.ci/run` makes
/// (`~/.cache/castellan-smtp-sink`); or why there is none.
fn python() -> Result<PathBuf, String> {
    let python = match std::env::var("CASTELLAN_SMTP_SINK_PYTHON") {
        Ok(p) => PathBuf::from(p),
        Err(_) => PathBuf::from(std::env::var("HOME").unwrap_or_default())
            .join(".cache/castellan-smtp-sink/bin/python"),
    };
    let ok = std::process::Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Ok(python)
    } else {
        Err(format!("no Python with aiosmtpd at {}", python.display()))
    }
}

/// A free port on 127.0.0.1 (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Sink {
    pub port: u16,
    pub dir: PathBuf,
    child: tokio::process::Child,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Sink {
    /// Whether the sink can run; `None` after printing why this test is skipped (a failure when
    /// `CASTELLAN_MAIL_TESTS=1`).
    pub fn available() -> Option<()> {
        match python() {
            Ok(_) => Some(()),
            Err(why) if std::env::var(REQUIRED).as_deref() == Ok("1") => {
                panic!("{REQUIRED}=1 but the SMTP sink cannot run: {why} (see README.md)")
            }
            Err(why) => {
                eprintln!(
                    "skipped: {why}; set {REQUIRED}=1 to make this a failure (see README.md)"
                );
                None
            }
        }
    }

    /// Starts a sink on `port` (0: a free one) writing into a fresh directory.
    pub async fn start(port: u16) -> Sink {
        Self::start_mode(port, "").await
    }

    /// A sink in `mode` (see `tests/support/smtp_sink.py`): `stall-data` never answers a
    /// message's DATA, `stall-quit` accepts each message and never answers QUIT.
    pub async fn start_mode(port: u16, mode: &str) -> Sink {
        use tokio::io::AsyncBufReadExt;
        let dir =
            std::env::temp_dir().join(format!("castellan-sink-{}", uuid::Uuid::new_v4().simple()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let mut child = tokio::process::Command::new(python().expect("the sink's Python"))
            .arg(script)
            .arg(&dir)
            .arg(port.to_string())
            .arg(mode)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP sink");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(20),
            tokio::io::BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .expect("the sink says its port")
        .unwrap();
        let port = line.trim().parse().expect("a port");
        Sink { port, dir, child }
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
            .collect()
    }

    /// How many messages a `stall-data` sink holds unanswered.
    pub fn stalled(&self) -> usize {
        std::fs::read_dir(&self.dir).map_or(0, |entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".stalled"))
                .count()
        })
    }

    /// Waits (up to `secs`) until at least `n` messages arrived; returns them all.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.messages();
            if got.len() >= n || tokio::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The values of header `name` (case-insensitive) of a received message.
pub fn headers<'a>(message: &'a Value, name: &str) -> Vec<&'a str> {
    message["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|h| h[1].as_str().unwrap())
        .collect()
}

/// The one value of header `name`.
pub fn header<'a>(message: &'a Value, name: &str) -> &'a str {
    let v = headers(message, name);
    assert_eq!(v.len(), 1, "one {name} header in {message}");
    v[0]
}

/// The decoded body of the part of type `content_type`.
pub fn part<'a>(message: &'a Value, content_type: &str) -> &'a str {
    message["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["content_type"] == content_type)
        .and_then(|p| p["body"].as_str())
        .unwrap_or_else(|| panic!("no {content_type} part in {message}"))
}
