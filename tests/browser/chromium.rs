//! Finding headless Chromium, Node and playwright-core, and running `person.cjs` with them.

use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// Set to `1` (CI does) to make a missing browser a failure instead of a skip.
const REQUIRED: &str = "CASTELLAN_BROWSER_TESTS";
/// A whole journey, Chromium's launch included, takes a few seconds; this is the hang guard.
const JOURNEY_TIMEOUT: Duration = Duration::from_secs(180);

/// Browser journeys run one at a time: each starts a Chromium, and CI machines are small.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What running a journey needs.
pub struct Tools {
    chromium: PathBuf,
    /// The directory holding `node_modules/playwright-core`.
    playwright: PathBuf,
}

/// Chromium (env `CHROMIUM`, else `/usr/bin/chromium`), playwright-core (env `PW_CORE_DIR`,
/// else `~/.cache/idp-browser`) and `node` on the PATH; or why they cannot be used.
fn find() -> Result<Tools, String> {
    let chromium =
        PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()));
    if !chromium.is_file() {
        return Err(format!("no Chromium at {}", chromium.display()));
    }
    let playwright = match std::env::var("PW_CORE_DIR") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/idp-browser")
        }
    };
    let package = playwright.join("node_modules/playwright-core/package.json");
    if !package.is_file() {
        return Err(format!("no playwright-core at {}", package.display()));
    }
    match std::process::Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(Tools {
            chromium,
            playwright,
        }),
        _ => Err("no `node` on the PATH".to_owned()),
    }
}

/// The tools, or `None` after printing why this test is skipped; fails instead when
/// `CASTELLAN_BROWSER_TESTS=1`.
pub fn tools_or_skip() -> Option<Tools> {
    match find() {
        Ok(tools) => Some(tools),
        Err(why) if std::env::var(REQUIRED).as_deref() == Ok("1") => {
            panic!("{REQUIRED}=1 but the browser test cannot run: {why} (see README.md)")
        }
        Err(why) => {
            eprintln!("skipped: {why}; set {REQUIRED}=1 to make this a failure (see README.md)");
            None
        }
    }
}

/// Runs `journey` of `person.cjs` with `input` (plus the tools' paths and a screenshot path
/// for failures); returns the JSON of its `RESULT` line, failing the test with its log
/// otherwise.
pub async fn run(tools: &Tools, journey: &str, mut input: Value) -> Value {
    let _turn = ONE_AT_A_TIME.lock().await;
    let shot = std::env::temp_dir().join(format!(
        "castellan-browser-{journey}-{}.png",
        uuid::Uuid::new_v4().simple()
    ));
    input["chromium"] = tools.chromium.display().to_string().into();
    input["playwright"] = tools.playwright.display().to_string().into();
    input["screenshot"] = shot.display().to_string().into();
    if let Ok(dir) = std::env::var("CASTELLAN_BROWSER_SHOTS") {
        input["shots"] = dir.into();
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/person.cjs");
    let child = tokio::process::Command::new("node")
        .arg(script)
        .arg(journey)
        .arg(input.to_string())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(JOURNEY_TIMEOUT, child)
        .await
        .unwrap_or_else(|_| panic!("journey {journey} did not end within {JOURNEY_TIMEOUT:?}"))
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let result = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .next_back()
        .map(serde_json::from_str::<Value>);
    match (out.status.success(), result) {
        (true, Some(Ok(v))) => {
            eprintln!("journey {journey}:\n{stderr}");
            v
        }
        _ => panic!(
            "journey {journey} failed ({}):\n--- stderr\n{stderr}\n--- stdout\n{stdout}",
            out.status
        ),
    }
}
