//! The sustained mix of what a provider serves all day (sign-ins, code exchanges, refreshes,
//! userinfo and client credentials) against a running Castellan, as `bench/mix.py` does but
//! compiled, so that the client's own latency does not hide the server's tail: `--threads`
//! workers (tokio tasks on `--client-threads` runtime threads, default 1), each with its own
//! browser session (a cookie jar, redirects followed by hand), its own keep-alive connections
//! and its own tokens.
//!
//! Each worker picks an operation by weight (sign-in 1, code exchange 10, refresh 40, userinfo
//! 30, client credentials 19): a sign-in is a new browser (a new client: its own jar and
//! connections) signing in through Castellan's login page and getting a code, at most 4 at
//! once (the discovery before it is not timed); a code exchange gets a code with the worker's
//! session (not timed), then times the exchange (PKCE S256, client_secret_basic); a refresh
//! rotates the worker's refresh token; userinfo uses the worker's latest access token. Without
//! `--rate` the `--threads` workers run closed-loop (the peak, latency = service time). With
//! `--rate R` the run is an open loop over `--sessions` signed-in workers (as many as `--threads` by default): an
//! operation falls due every 1/R seconds whatever the others are doing and goes to an idle
//! worker; when all are busy it waits for one, and the wait counts in its latency (coordinated
//! omission), printed beside the plain service times. A sign-in or a code fetched before an
//! exchange holds up only its own worker, as one person's sign-in does not hold up another's
//! refresh.
//!
//! Run: `bench/mix.sh` (starts a server, creates the clients, runs the peak then 80 % of it), or
//! against a server of yours:
//!
//! ```text
//! cargo bench --bench mix -- --issuer URL --client-id ID --client-secret S --redirect-uri URI
//!     --username U --password P --cc-client-id ID --cc-client-secret S
//!     [--scope 'openid offline_access'] [--threads 16] [--seconds 60] [--rate R]
//!     [--sessions N] [--server-pid PID] [--client-threads 1]
//! ```
//!
//! stdout, as mix.py's: one line per operation, `op=... count=... p50_ms=... p99_ms=...
//! errors=... service_p50_ms=... service_p99_ms=...` (mix.py's percentiles:
//! `statistics.quantiles(v, n=100)`), then `total rps=... errors=... p50_ms=... p99_ms=...`,
//! `client_cpu_ms_per_op=...` (this process's user + system CPU over the run, divided by the
//! operations) and, with `--server-pid`, `rss_max_mb=...` (the server's VmHWM). The first 3
//! errors of each operation go to stderr as `#` lines; exit status 3 when any operation failed,
//! 1 when a worker could not sign in before the run.
//! `--self-test` checks the percentiles against Python's and the page parsing, and exits 0 when
//! they pass (a `harness = false` bench runs no `#[test]`; plain `cargo bench` runs it too).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use clap::Parser;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use reqwest::header::{ACCEPT, AUTHORIZATION, LOCATION};
use reqwest::{Client, RequestBuilder};
use serde_json::Value;
use sha2::Digest;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The operations, their weights out of 100, in the order of the output.
const OPS: [(&str, u32); 5] = [
    ("signin", 1),
    ("code_exchange", 10),
    ("refresh", 40),
    ("userinfo", 30),
    ("client_credentials", 19),
];
const SIGNIN: usize = 0;
const CODE_EXCHANGE: usize = 1;
const REFRESH: usize = 2;
const USERINFO: usize = 3;

/// Sign-ins at once: every worker signs in to the one bench account, and Castellan's account
/// throttle counts attempts while they are in flight (as mix.py).
const SIGNIN_SLOTS: usize = 4;

/// What Python's `urllib.parse.quote(s, safe='')` leaves alone: letters, digits and `-._~`.
const QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Parser)]
#[command(about = "A sustained OpenID mix against a running Castellan (bench/mix.py in Rust)")]
struct Args {
    #[arg(long, required_unless_present_any = ["self_test", "bench"])]
    issuer: Option<String>,
    #[arg(long, required_unless_present_any = ["self_test", "bench"])]
    client_id: Option<String>,
    #[arg(long, required_unless_present_any = ["self_test", "bench"])]
    client_secret: Option<String>,
    #[arg(long, required_unless_present_any = ["self_test", "bench"])]
    redirect_uri: Option<String>,
    #[arg(long, required_unless_present_any = ["self_test", "bench"])]
    username: Option<String>,
    #[arg(long, required_unless_present_any = ["self_test", "bench"])]
    password: Option<String>,
    #[arg(long, required_unless_present_any = ["self_test", "bench"])]
    cc_client_id: Option<String>,
    #[arg(long, required_unless_present_any = ["self_test", "bench"])]
    cc_client_secret: Option<String>,
    #[arg(long, default_value = "openid offline_access")]
    scope: String,
    /// `prompt` on the authorization request (none when empty)
    #[arg(long, default_value = "")]
    prompt: String,
    /// Workers of the closed loop (each its own session and tokens)
    #[arg(long, default_value_t = 16)]
    threads: usize,
    /// Signed-in users the paced run (--rate) draws from (each its own session and tokens);
    /// 0: as many as --threads
    #[arg(long, default_value_t = 0)]
    sessions: usize,
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// Operations a second in all (open loop); 0: closed loop
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Print the server's peak resident set (VmHWM of /proc/PID/status) at the end
    #[arg(long, default_value_t = 0)]
    server_pid: u32,
    /// The client's tokio runtime threads
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Check the percentiles and the page parsing, then exit
    #[arg(long)]
    self_test: bool,
    /// What `cargo bench` passes: without the other arguments, the self-test only
    #[arg(long, hide = true)]
    bench: bool,
}

/// The arguments a run needs.
struct Config {
    issuer: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    username: String,
    password: String,
    cc_client_id: String,
    cc_client_secret: String,
    scope: String,
    prompt: String,
    threads: usize,
    sessions: usize,
    seconds: f64,
    rate: f64,
}

impl Config {
    /// None when a required argument is missing (clap lets that by only with --bench).
    fn from_args(a: Args) -> Option<Config> {
        Some(Config {
            issuer: a.issuer?,
            client_id: a.client_id?,
            client_secret: a.client_secret?,
            redirect_uri: a.redirect_uri?,
            username: a.username?,
            password: a.password?,
            cc_client_id: a.cc_client_id?,
            cc_client_secret: a.cc_client_secret?,
            scope: a.scope,
            prompt: a.prompt,
            threads: a.threads.max(1),
            sessions: if a.sessions == 0 {
                a.threads.max(1)
            } else {
                a.sessions
            },
            seconds: a.seconds,
            rate: a.rate,
        })
    }
}

type Result<T> = std::result::Result<T, String>;

/// An error and its causes, `a: b: c` (reqwest's own text names only the URL).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// The first `n` characters.
fn head(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// A whole answer: its status, its Location and its body (read to the end, so that the
/// connection goes back to the pool).
struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

async fn send(req: RequestBuilder) -> Result<Answer> {
    let r = req.send().await.map_err(|e| chain(&e))?;
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let body = r.text().await.map_err(|e| chain(&e))?;
    Ok(Answer {
        status,
        location,
        body,
    })
}

/// `Authorization: Basic` for a client (RFC 6749 section 2.3.1: both parts form-urlencoded
/// first; as refresh_tokens.py, with Python's `quote(s, safe='')`).
fn basic(id: &str, secret: &str) -> String {
    let pair = format!(
        "{}:{}",
        utf8_percent_encode(id, QUOTE),
        utf8_percent_encode(secret, QUOTE)
    );
    format!("Basic {}", STANDARD.encode(pair))
}

/// Python's `html.unescape` for what Askama writes: `&amp; &lt; &gt; &quot; &apos;` and
/// numeric references (anything else is left as it is).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => match name.strip_prefix('#') {
                    Some(n) => match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    }
                    .and_then(char::from_u32),
                    None => None,
                },
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The value of attribute `attr` in the first `<tag ...>` whose text holds `must` before it
/// (the HTML-unescaped value).
fn attribute(page: &str, tag: &str, must: &str, attr: &str) -> Option<String> {
    let open = format!("<{tag}");
    let attr = format!("{attr}=\"");
    let mut rest = page;
    while let Some(i) = rest.find(&open) {
        let from = &rest[i..];
        let text = &from[..from.find('>').unwrap_or(from.len())];
        if let Some(m) = text.find(must) {
            let after = &text[m + must.len()..];
            if let Some(v) = after.find(&attr) {
                let value = &after[v + attr.len()..];
                if let Some(end) = value.find('"') {
                    return Some(unescape(&value[..end]));
                }
            }
        }
        rest = &from[open.len()..];
    }
    None
}

/// A hidden field's value (refresh_tokens.py's `field`).
fn field(page: &str, name: &str) -> Option<String> {
    attribute(page, "input", &format!("name=\"{name}\""), "value")
}

/// `location` resolved against `base`.
fn join(base: &str, location: &str) -> Result<String> {
    url::Url::parse(base)
        .and_then(|b| b.join(location))
        .map(String::from)
        .map_err(|e| format!("{base} + {location}: {e}"))
}

/// The first form's action, resolved against the page's URL (the page's URL without one).
fn form_action(page: &str, base: &str) -> Result<String> {
    match attribute(page, "form", "", "action") {
        Some(action) => join(base, &action),
        None => Ok(base.to_owned()),
    }
}

/// A browser for one provider: its own cookie jar and connections, redirects by hand.
struct Provider {
    http: Client,
    authorize_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    auth: String,
    signins: u32,
}

impl Provider {
    /// A new browser, and the provider's discovery document.
    async fn new(c: &Config) -> Result<Provider> {
        let http = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| chain(&e))?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            c.issuer.trim_end_matches('/')
        );
        let a = send(http.get(&url)).await?;
        if a.status != 200 {
            return Err(format!("discovery: HTTP {}", a.status));
        }
        let meta: Value = serde_json::from_str(&a.body).map_err(|e| format!("discovery: {e}"))?;
        let endpoint = |name: &str| meta.get(name).and_then(Value::as_str).map(str::to_owned);
        Ok(Provider {
            authorize_endpoint: endpoint("authorization_endpoint")
                .ok_or("discovery: no authorization_endpoint")?,
            token_endpoint: endpoint("token_endpoint").ok_or("discovery: no token_endpoint")?,
            userinfo_endpoint: endpoint("userinfo_endpoint").unwrap_or_default(),
            auth: basic(&c.client_id, &c.client_secret),
            http,
            signins: 0,
        })
    }

    /// Answers Castellan's sign-in page; returns the next URL.
    async fn page(&mut self, c: &Config, url: &str, page: &str) -> Result<String> {
        if !page.contains("name=\"csrf\"") {
            return Err(format!("unexpected page at {url}: {:?}", head(page, 300)));
        }
        let mut form = vec![
            ("email", c.username.clone()),
            ("password", c.password.clone()),
            ("csrf", field(page, "csrf").unwrap_or_default()),
        ];
        if let Some(r) = field(page, "return_to") {
            form.push(("return_to", r));
        }
        self.signins += 1;
        if self.signins > 3 {
            return Err(
                "signed in more than 3 times: the session is not kept (wrong credentials?)".into(),
            );
        }
        let action = form_action(page, url)?;
        let a = send(self.http.post(&action).form(&form)).await?;
        match (a.status, &a.location) {
            (302 | 303, Some(location)) => join(&action, location),
            _ => Err(format!(
                "POST {action}: HTTP {}: {:?}",
                a.status,
                head(&a.body, 300)
            )),
        }
    }

    /// One authorization code (PKCE S256) and its verifier: the authorization request (with a
    /// state and a nonce; mix.py sends no nonce), and its redirects and sign-in page by hand, to
    /// the redirect URI.
    async fn code(&mut self, c: &Config) -> Result<(String, String)> {
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let state = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
        let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
        let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
        let mut q = vec![
            ("response_type", "code"),
            ("client_id", &c.client_id),
            ("redirect_uri", &c.redirect_uri),
            ("scope", &c.scope),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        if !c.prompt.is_empty() {
            q.push(("prompt", &c.prompt));
        }
        let query: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUOTE)))
            .collect();
        let mut url = format!("{}?{}", self.authorize_endpoint, query.join("&"));
        for _ in 0..20 {
            if url.starts_with(&c.redirect_uri) {
                let parsed = url::Url::parse(&url).map_err(|e| format!("{url}: {e}"))?;
                let got: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
                let get = |k: &str| got.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
                let Some(code) = get("code") else {
                    return Err(format!("authorization failed: {got:?}"));
                };
                if get("state") != Some(state.as_str()) {
                    return Err("state mismatch".into());
                }
                return Ok((code.to_owned(), verifier));
            }
            let a = send(self.http.get(&url)).await?;
            url = match (a.status, &a.location) {
                (301 | 302 | 303 | 307, Some(location)) => join(&url, location)?,
                (200, _) => self.page(c, &url, &a.body).await?,
                _ => {
                    return Err(format!(
                        "GET {url}: HTTP {}: {:?}",
                        a.status,
                        head(&a.body, 300)
                    ));
                }
            };
        }
        Err("too many redirects".into())
    }

    /// A token request with the client's basic authentication; the answer's JSON.
    async fn token(&self, form: &[(&str, &str)]) -> Result<Value> {
        let a = send(
            self.http
                .post(&self.token_endpoint)
                .header(AUTHORIZATION, &self.auth)
                .header(ACCEPT, "application/json")
                .form(form),
        )
        .await?;
        if a.status != 200 {
            return Err(format!(
                "token endpoint: HTTP {}: {}",
                a.status,
                head(&a.body, 300)
            ));
        }
        serde_json::from_str(&a.body).map_err(|e| format!("token endpoint: {e}"))
    }

    /// A code and its exchange; the answer's JSON.
    async fn exchange_new_code(&mut self, c: &Config) -> Result<Value> {
        let (code, verifier) = self.code(c).await?;
        self.exchange(c, &code, &verifier).await
    }

    async fn exchange(&self, c: &Config, code: &str, verifier: &str) -> Result<Value> {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &c.redirect_uri),
            ("code_verifier", verifier),
        ])
        .await
    }
}

/// A string member of a token answer.
fn member(res: &Value, name: &str) -> Result<String> {
    res.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no {name} in the token answer"))
}

/// What the workers share.
struct Shared {
    c: Config,
    signin_slots: Semaphore,
    errors: [AtomicUsize; 5],
}

/// One worker's session and tokens, and its measurements.
struct Worker {
    p: Provider,
    refresh: String,
    access: Option<String>,
    cc_auth: String,
    /// Per operation: latency from the due time (the service time in closed loop), service time.
    latency: [Vec<f64>; 5],
    service: [Vec<f64>; 5],
}

impl Worker {
    /// Signs in (one of the sign-in slots) and gets a refresh token.
    async fn new(s: &Shared) -> Result<Worker> {
        let _slot = s.signin_slots.acquire().await.map_err(|e| e.to_string())?;
        let mut p = Provider::new(&s.c).await?;
        let res = p.exchange_new_code(&s.c).await?;
        let refresh = member(&res, "refresh_token").map_err(|_| {
            format!(
                "no refresh_token in the code exchange (scope {:?})",
                res.get("scope")
            )
        })?;
        Ok(Worker {
            p,
            refresh,
            access: None,
            cc_auth: basic(&s.c.cc_client_id, &s.c.cc_client_secret),
            latency: Default::default(),
            service: Default::default(),
        })
    }

    /// One operation; its service time (what mix.py times).
    async fn op(&mut self, s: &Shared, op: usize) -> Result<Duration> {
        let c = &s.c;
        match op {
            SIGNIN => {
                let _slot = s.signin_slots.acquire().await.map_err(|e| e.to_string())?;
                let mut p = Provider::new(c).await?; // a new browser
                let t = Instant::now();
                p.code(c).await?;
                Ok(t.elapsed())
            }
            CODE_EXCHANGE => self.timed_exchange(c).await,
            REFRESH => {
                let t = Instant::now();
                let res = self
                    .p
                    .token(&[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", &self.refresh),
                    ])
                    .await?;
                let took = t.elapsed();
                self.refresh = member(&res, "refresh_token")?;
                self.access = Some(member(&res, "access_token")?);
                Ok(took)
            }
            USERINFO => {
                if self.access.is_none() {
                    self.timed_exchange(c).await?;
                }
                let bearer = format!("Bearer {}", self.access.as_deref().unwrap_or_default());
                let t = Instant::now();
                let a = send(
                    self.p
                        .http
                        .get(&self.p.userinfo_endpoint)
                        .header(AUTHORIZATION, bearer),
                )
                .await?;
                let took = t.elapsed();
                if a.status != 200 {
                    return Err(format!(
                        "userinfo: HTTP {}: {}",
                        a.status,
                        head(&a.body, 200)
                    ));
                }
                Ok(took)
            }
            _ => {
                let t = Instant::now();
                let a = send(
                    self.p
                        .http
                        .post(&self.p.token_endpoint)
                        .header(AUTHORIZATION, &self.cc_auth)
                        .form(&[("grant_type", "client_credentials")]),
                )
                .await?;
                let took = t.elapsed();
                if a.status != 200 {
                    return Err(format!(
                        "client_credentials: HTTP {}: {}",
                        a.status,
                        head(&a.body, 200)
                    ));
                }
                Ok(took)
            }
        }
    }

    /// A code with the worker's session (not timed), then its exchange (timed).
    async fn timed_exchange(&mut self, c: &Config) -> Result<Duration> {
        let (code, verifier) = self.p.code(c).await?;
        let t = Instant::now();
        let res = self.p.exchange(c, &code, &verifier).await?;
        let took = t.elapsed();
        self.access = Some(member(&res, "access_token")?);
        Ok(took)
    }

    /// Operations one after another until `end` (the closed loop).
    async fn run(mut self, s: Arc<Shared>, idx: u64, end: Instant) -> Worker {
        let mut rng = StdRng::seed_from_u64(idx);
        while Instant::now() < end {
            let op = pick(&mut rng);
            self.one(&s, op, Duration::ZERO).await;
        }
        self
    }

    /// The operation `op`, recorded: its service time, and that plus `late` (how long it waited
    /// for a free worker after it was due).
    async fn one(&mut self, s: &Shared, op: usize, late: Duration) {
        match self.op(s, op).await {
            Ok(took) => {
                self.service[op].push(took.as_secs_f64());
                self.latency[op].push((took + late).as_secs_f64());
            }
            Err(e) => {
                if s.errors[op].fetch_add(1, Ordering::Relaxed) < 3 {
                    eprintln!("# {}: {e}", OPS[op].0);
                }
            }
        }
    }
}

/// An operation drawn by weight.
fn pick(rng: &mut StdRng) -> usize {
    let mut pick = rng.random_range(0..100u32);
    OPS.iter()
        .position(|&(_, w)| {
            let hit = pick < w;
            pick = pick.saturating_sub(w);
            hit
        })
        .unwrap_or(OPS.len() - 1)
}

/// The open loop: an operation falls due every 1/rate seconds until `end`, whatever the ones
/// before it are doing, and is handed to an idle worker (a signed-in user); when every worker
/// is busy it waits for one, and that wait counts in its latency (coordinated omission). The
/// tokio timer wakes on the millisecond: an operation is not counted late for the timer waking
/// after its due time, only for waiting for a worker then, or for a backlog (due while the
/// dispatcher was still waiting for a worker for an earlier one). The workers, when all are
/// back.
async fn paced(workers: Vec<Worker>, s: Arc<Shared>, start: Instant, end: Instant) -> Vec<Worker> {
    let n = workers.len();
    let (idle, mut idle_rx) = tokio::sync::mpsc::channel::<Worker>(n);
    for w in workers {
        idle.try_send(w).expect("room for every worker");
    }
    let gap = Duration::from_secs_f64(1.0 / s.c.rate);
    let mut rng = StdRng::seed_from_u64(0);
    let mut due = start;
    loop {
        let woke = if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
            Instant::now()
        } else {
            due
        };
        if Instant::now() >= end {
            break;
        }
        let op = pick(&mut rng);
        let Some(mut w) = idle_rx.recv().await else {
            break;
        };
        let late = Instant::now().saturating_duration_since(woke);
        let (s, idle) = (s.clone(), idle.clone());
        tokio::spawn(async move {
            w.one(&s, op, late).await;
            let _ = idle.send(w).await;
        });
        due += gap;
    }
    let mut back = Vec::with_capacity(n);
    while back.len() < n {
        match idle_rx.recv().await {
            Some(w) => back.push(w),
            None => break,
        }
    }
    back
}

/// Python's `statistics.quantiles(sorted, n=100)[q - 1]` (the exclusive method, the same
/// arithmetic in the same order, so the same figures), 0 with fewer than two values (as
/// mix.py). `sorted` must be sorted.
fn quantile(sorted: &[f64], q: usize) -> f64 {
    let (n, ld) = (100i64, sorted.len() as i64);
    if ld < 2 {
        return 0.0;
    }
    let (i, m) = (q as i64, ld + 1);
    let j = (i * m / n).clamp(1, ld - 1);
    let delta = i * m - j * n;
    (sorted[j as usize - 1] * (n - delta) as f64 + sorted[j as usize] * delta as f64) / n as f64
}

/// p50 and p99 in milliseconds.
fn p50_p99_ms(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (quantile(v, 50) * 1000.0, quantile(v, 99) * 1000.0)
}

/// This process's user + system CPU so far (/proc/self/stat, in clock ticks of 10 ms: USER_HZ
/// is 100 on Linux).
fn cpu_used() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // after the command's `(name)`: state is the 3rd field, utime the 14th, stime the 15th
            let rest = &s[s.rfind(')')? + 1..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// The server's peak resident set in MiB (VmHWM).
fn rss_max_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

async fn run(c: Config, server_pid: u32) -> ExitCode {
    let threads = if c.rate > 0.0 { c.sessions } else { c.threads };
    let shared = Arc::new(Shared {
        c,
        signin_slots: Semaphore::new(SIGNIN_SLOTS),
        errors: Default::default(),
    });
    let setup: Vec<_> = (0..threads)
        .map(|_| {
            let s = shared.clone();
            tokio::spawn(async move { Worker::new(&s).await })
        })
        .collect();
    let mut workers = Vec::with_capacity(threads);
    for w in setup {
        match w.await {
            Ok(Ok(w)) => workers.push(w),
            Ok(Err(e)) => {
                eprintln!("# setup: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("# setup: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let cpu_before = cpu_used();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(shared.c.seconds.max(0.0));
    let done = if shared.c.rate > 0.0 {
        paced(workers, shared.clone(), start, end).await
    } else {
        let running: Vec<_> = workers
            .into_iter()
            .enumerate()
            .map(|(i, w)| tokio::spawn(w.run(shared.clone(), i as u64, end)))
            .collect();
        let mut done = Vec::with_capacity(running.len());
        for w in running {
            match w.await {
                Ok(w) => done.push(w),
                Err(e) => {
                    eprintln!("# worker: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        done
    };
    let mut latency: [Vec<f64>; 5] = Default::default();
    let mut service: [Vec<f64>; 5] = Default::default();
    for w in done {
        for op in 0..OPS.len() {
            latency[op].extend(&w.latency[op]);
            service[op].extend(&w.service[op]);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_used().saturating_sub(cpu_before);

    let mut everything = vec![];
    let mut total_errors = 0;
    for (op, (name, _)) in OPS.iter().enumerate() {
        let errors = shared.errors[op].load(Ordering::Relaxed);
        total_errors += errors;
        everything.extend(&latency[op]);
        let (p50, p99) = p50_p99_ms(&mut latency[op]);
        let (s50, s99) = p50_p99_ms(&mut service[op]);
        println!(
            "op={name} count={} p50_ms={p50:.2} p99_ms={p99:.2} errors={errors} \
             service_p50_ms={s50:.2} service_p99_ms={s99:.2}",
            latency[op].len()
        );
    }
    let ops = everything.len();
    let (p50, p99) = p50_p99_ms(&mut everything);
    println!(
        "total rps={:.1} errors={total_errors} p50_ms={p50:.2} p99_ms={p99:.2}",
        ops as f64 / secs
    );
    println!(
        "client_cpu_ms_per_op={:.3}",
        cpu.as_secs_f64() * 1000.0 / (ops + total_errors).max(1) as f64
    );
    if server_pid != 0 {
        match rss_max_mb(server_pid) {
            Some(mb) => println!("rss_max_mb={mb:.1}"),
            None => eprintln!("# no VmHWM in /proc/{server_pid}/status"),
        }
    }
    if total_errors > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// The percentiles against Python's figures, the page parsing against refresh_tokens.py's.
fn self_test() -> bool {
    let mut ok = true;
    let mut check = |what: &str, got: String, want: &str| {
        if got != want {
            eprintln!("# self-test: {what}: {got:?}, want {want:?}");
            ok = false;
        }
    };
    // statistics.quantiles(v, n=100)[0, 49, 98] in Python 3.11, printed with repr()
    let cases: [(Vec<f64>, [f64; 3]); 5] = [
        (vec![0.003, 0.001], [-0.0009399999999999998, 0.002, 0.00494]),
        (
            vec![0.5, 0.1, 0.2],
            [0.003999999999999986, 0.2, 0.7879999999999999],
        ),
        ((1..=100).map(f64::from).collect(), [1.01, 50.5, 99.99]),
        (
            (0..1000)
                .map(|i| ((i * 7919) % 1009) as f64 / 1000.0)
                .collect(),
            [0.009009999999999999, 0.5055, 0.99899],
        ),
        (
            (0..57)
                .map(|i| ((i * 7919) % 1009) as f64 / 1000.0)
                .collect(),
            [-0.0105, 0.517, 1.01718],
        ),
    ];
    for (mut v, want) in cases {
        let len = v.len();
        v.sort_by(f64::total_cmp);
        for (q, want) in [1, 50, 99].into_iter().zip(want) {
            // exact: the same operations on the same doubles
            let got = quantile(&v, q);
            if got.to_bits() != want.to_bits() {
                check(
                    &format!("{len} values, q{q}"),
                    got.to_string(),
                    &want.to_string(),
                );
            }
        }
    }
    check("1 value", quantile(&[0.5], 50).to_string(), "0");
    check(
        "basic",
        basic("id with space", "s:e/c+ret~"),
        "Basic aWQlMjB3aXRoJTIwc3BhY2U6cyUzQWUlMkZjJTJCcmV0fg==",
    );
    let page = "<form class=\"stack\" method=\"post\" action=\"/t/default/login\" novalidate>\n  \
        <input type=\"hidden\" name=\"csrf\" value=\"abc-_123\">\n  \
        <input type=\"hidden\" name=\"return_to\" \
        value=\"/t/default/authorize?a=1&amp;b=&#x27;2&#39;&quot;\">";
    check(
        "csrf",
        format!("{:?}", field(page, "csrf")),
        "Some(\"abc-_123\")",
    );
    check(
        "return_to",
        field(page, "return_to").unwrap_or_default(),
        "/t/default/authorize?a=1&b='2'\"",
    );
    check("absent", format!("{:?}", field(page, "nope")), "None");
    check(
        "action",
        form_action(page, "http://h:1/t/default/authorize?x=1").unwrap_or_default(),
        "http://h:1/t/default/login",
    );
    check("unescape", unescape("a&b &amp;&#60;&zz; &"), "a&b &<&zz; &");
    ok
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (self_test_only, server_pid, runtime_threads) =
        (args.self_test, args.server_pid, args.client_threads.max(1));
    if self_test_only {
        return if self_test() {
            println!("self-test ok");
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let Some(c) = Config::from_args(args) else {
        // `cargo bench` with no arguments: nothing to run against
        eprintln!(
            "# mix: needs a running server and its clients: bench/mix.sh, or see `--help`; \
             running the self-test only"
        );
        return if self_test() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(runtime_threads)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(c, server_pid))
}
