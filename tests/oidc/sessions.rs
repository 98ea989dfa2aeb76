//! Browser sessions, on SQLite and PostgreSQL: the cookie's secret changes at every change of
//! level (a cookie copied after the password step is worthless once the second factor is
//! given), a sign-in ends the browser's previous session, idle timeout and maximum lifetime per
//! tenant with "remember me", and CSRF tokens bound to the session on every form.

use crate::backends;
use crate::browser::{PASSWORD, hidden, unescape, user_with_password};
use crate::common::{Backend, TestServer};
use castellan::domain::audit::Actor;
use castellan::domain::mfa::TotpFactor;
use castellan::domain::{FactorId, UserId};
use reqwest::cookie::{CookieStore, Jar};
use serde_json::json;
use std::sync::Arc;

const HOME: &str = "/t/acme/";
const SIGNED_IN: &str = "You are signed in";
const SIGNED_OUT: &str = "You are not signed in";

/// A browser whose cookies the test can read and plant.
pub struct Client {
    pub http: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
}

pub struct Res {
    pub status: u16,
    pub location: String,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Client {
    fn new(s: &TestServer) -> Self {
        Self::at(&s.base)
    }

    /// A browser of the server at `base`.
    pub fn at(base: &str) -> Self {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client {
            http,
            jar,
            base: base.to_owned(),
        }
    }

    /// A browser holding only `cookie` (`name=value`) for the tenant.
    fn with_cookie(s: &TestServer, cookie: &str) -> Self {
        let c = Self::new(s);
        c.plant(cookie);
        c
    }

    fn plant(&self, cookie: &str) {
        let url = format!("{}/t/acme/", self.base).parse().unwrap();
        self.jar
            .add_cookie_str(&format!("{cookie}; Path=/t/acme"), &url);
    }

    /// The value of the tenant's cookie `name` in the jar.
    fn cookie(&self, name: &str) -> Option<String> {
        let url = format!("{}/t/acme/", self.base).parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|p| p.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }

    async fn read(res: reqwest::Response) -> Res {
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let set_cookies = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        Res {
            status,
            location,
            set_cookies,
            body: res.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Res {
        let url = format!("{}{path}", self.base);
        Self::read(self.http.get(url).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Res {
        let url = format!("{}{path}", self.base);
        Self::read(self.http.post(url).form(form).send().await.unwrap()).await
    }

    /// Signs in with the password (`remember` ticks the box); the answer to the form.
    pub async fn sign_in(&self, email: &str, remember: bool) -> Res {
        let page = self.get("/t/acme/login").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = hidden(&page.body, "csrf").unwrap();
        let mut form = vec![("email", email), ("password", PASSWORD), ("csrf", &csrf)];
        if remember {
            form.push(("remember", "1"));
        }
        let res = self.post("/t/acme/login", &form).await;
        assert_eq!(res.status, 303, "{}", res.body);
        res
    }

    pub async fn signed_in(&self) -> bool {
        let home = self.get(HOME).await;
        assert_eq!(home.status, 200, "{}", home.body);
        assert!(
            home.body.contains(SIGNED_IN) || home.body.contains(SIGNED_OUT),
            "{}",
            home.body
        );
        home.body.contains(SIGNED_IN)
    }

    fn session(&self) -> String {
        self.cookie("castellan_session").expect("a session cookie")
    }
}

/// Runs one SQL statement on the server's database, as an operator (or a thief) could.
pub async fn sql(s: &TestServer, statement: &str) {
    use sqlx::Connection;
    let url = s.db_url();
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(&mut c)
            .await
            .unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(&mut c)
            .await
            .unwrap();
    }
}

/// The CSRF token of a page: a form's hidden field, or the WebAuthn buttons' attribute.
fn page_token(html: &str) -> String {
    hidden(html, "csrf")
        .or_else(|| {
            let start = html.find("data-csrf=\"")? + "data-csrf=\"".len();
            let end = html[start..].find('"')? + start;
            Some(html[start..end].to_owned())
        })
        .expect("a CSRF token on the page")
}

fn now_ms() -> i64 {
    castellan::domain::clock::now_ms()
}

/// Gives the user a confirmed authenticator app through the store; returns its secret.
pub async fn with_totp(store: &castellan::store::Store, user_id: &str) -> String {
    let t = store.tenant_by_slug("acme").await.unwrap().unwrap();
    let factor = TotpFactor {
        id: FactorId::generate(),
        user_id: UserId(user_id.into()),
        secret: castellan::oidc::mfa::new_totp_secret(),
        confirmed_at: None,
        last_step: 0,
        created_at: now_ms(),
        last_used_at: None,
    };
    store.begin_totp(&t.id, &factor).await.unwrap();
    let ok = store
        .confirm_totp(
            &t.id,
            &factor.user_id,
            &factor.id,
            1,
            None,
            &Actor::system(),
        )
        .await
        .unwrap();
    assert!(ok);
    factor.secret
}

fn totp_now(secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    castellan::oidc::mfa::totp(secret)
        .unwrap()
        .generate(now)
        .to_string()
}

/// Gives the second factor on the page the sign-in sent the browser to; the answer.
pub async fn second_factor(c: &Client, mfa_url: &str, secret: &str) -> Res {
    let page = c.get(mfa_url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf").unwrap();
    let mut form = vec![("csrf", csrf.clone()), ("code", totp_now(secret))];
    for f in ["return_to", "level"] {
        if let Some(v) = hidden(&page.body, f) {
            form.push((f, v));
        }
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    c.post("/t/acme/login/mfa/totp", &form).await
}

/// Session fixation: a cookie copied after the password step (an attacker on the same machine,
/// a planted cookie) worked for the partial session, and is worthless once the victim gives the
/// second factor; the session keeps its id (`sid`), only its secret changed.
async fn a_cookie_copied_before_the_second_factor_is_worthless_after_it(b: Backend) {
    let s = TestServer::start(b).await;
    let u = user_with_password(&s, "ada@acme.test").await;
    let secret = with_totp(&s.store, u["id"].as_str().unwrap()).await;
    let victim = Client::new(&s);
    let signed = victim.sign_in("ada@acme.test", false).await;
    assert!(
        signed.location.starts_with("/t/acme/login/mfa"),
        "{}",
        signed.location
    );
    let copied = victim.session();

    let attacker = Client::with_cookie(&s, &format!("castellan_session={copied}"));
    let before = attacker.get(&signed.location).await;
    assert_eq!(before.status, 200, "the copy works for the partial session");
    assert!(before.body.contains("name=\"code\""), "{}", before.body);

    let done = second_factor(&victim, &signed.location, &secret).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let raised = victim.session();
    assert_ne!(
        raised, copied,
        "the second factor gives a new cookie secret"
    );
    assert!(victim.signed_in().await);
    assert_eq!(victim.get("/t/acme/account/security").await.status, 200);

    assert!(
        !attacker.signed_in().await,
        "the copied cookie is worthless"
    );
    let page = attacker.get("/t/acme/account/security").await;
    assert_eq!(page.status, 303);
    assert!(
        page.location.starts_with("/t/acme/login"),
        "{}",
        page.location
    );
    let page = attacker.get(&signed.location).await;
    assert_eq!(page.status, 303, "not even the partial session is left");
    // One session, raised in place.
    let t = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let hash = castellan::domain::secrets::hash_secret(&raised);
    let session = s
        .store
        .session_by_secret(&t.id, &hash)
        .await
        .unwrap()
        .unwrap();
    assert!(
        session.amr.contains(&"otp".to_string()),
        "{:?}",
        session.amr
    );
    let old = castellan::domain::secrets::hash_secret(&copied);
    assert!(
        s.store
            .session_by_secret(&t.id, &old)
            .await
            .unwrap()
            .is_none()
    );
}

/// A sign-in in a browser ends the session its cookie named (and only that one); every sign-in
/// gives a new cookie secret.
async fn a_new_sign_in_ends_the_previous_session(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Client::new(&s);
    let other = Client::new(&s);
    browser.sign_in("ada@acme.test", false).await;
    other.sign_in("ada@acme.test", false).await;
    let first = browser.session();
    assert!(browser.signed_in().await);
    browser.sign_in("ada@acme.test", false).await;
    let second = browser.session();
    assert_ne!(first, second);
    assert!(browser.signed_in().await);
    let stale = Client::with_cookie(&s, &format!("castellan_session={first}"));
    assert!(!stale.signed_in().await, "the previous session ended");
    assert!(other.signed_in().await, "another browser's session stays");
    let t = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let hash = castellan::domain::secrets::hash_secret(&first);
    let ended = s
        .store
        .session_by_secret(&t.id, &hash)
        .await
        .unwrap()
        .unwrap();
    assert!(ended.ended_at.is_some(), "ended, not just forgotten");
    // A planted cookie naming nothing live does not stop a sign-in.
    let planted = Client::with_cookie(&s, "castellan_session=planted-by-someone");
    planted.sign_in("ada@acme.test", false).await;
    assert_ne!(planted.session(), "planted-by-someone");
    assert!(planted.signed_in().await);
}

/// Ages the browser's session in the database: `idle_ms` since it was last used, `age_ms`
/// since it started.
async fn age(s: &TestServer, c: &Client, idle_ms: i64, age_ms: i64) {
    let hash = castellan::domain::secrets::hash_secret(&c.session());
    let now = now_ms();
    sql(
        s,
        &format!(
            "UPDATE sessions SET last_seen_at = {}, created_at = {} WHERE secret_hash = '{hash}'",
            now - idle_ms,
            now - age_ms
        ),
    )
    .await;
}

const MIN: i64 = 60_000;

/// The idle timeout (30 minutes by default) and the maximum lifetime (10 hours) both end a
/// session; use restarts the idle clock; a tenant's own settings apply to existing sessions.
async fn idle_timeout_and_maximum_lifetime(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let c = Client::new(&s);
    c.sign_in("ada@acme.test", false).await;
    age(&s, &c, 29 * MIN, 60 * MIN).await;
    assert!(c.signed_in().await, "29 minutes idle is fine");
    // That use restarted the idle clock.
    age(&s, &c, 0, 61 * MIN).await;
    let hash = castellan::domain::secrets::hash_secret(&c.session());
    let t = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    age(&s, &c, 29 * MIN, 62 * MIN).await;
    assert!(c.signed_in().await);
    let seen = s
        .store
        .session_by_secret(&t.id, &hash)
        .await
        .unwrap()
        .unwrap();
    assert!(now_ms() - seen.last_seen_at < MIN, "use was recorded");
    age(&s, &c, 31 * MIN, 62 * MIN).await;
    assert!(!c.signed_in().await, "31 minutes idle ends it");
    assert_eq!(c.get("/t/acme/account/security").await.status, 303);

    c.sign_in("ada@acme.test", false).await;
    age(&s, &c, 0, 599 * MIN).await;
    assert!(c.signed_in().await, "under 10 hours");
    age(&s, &c, 0, 601 * MIN).await;
    assert!(!c.signed_in().await, "past 10 hours, however active");

    // The tenant's own lifetimes, applied to a live session.
    c.sign_in("ada@acme.test", false).await;
    let (st, v) = s
        .patch(
            "/session-settings",
            json!({ "idle_timeout_secs": 3600, "max_lifetime_secs": 7200 }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    age(&s, &c, 45 * MIN, 90 * MIN).await;
    assert!(c.signed_in().await, "45 minutes idle is within an hour");
    age(&s, &c, 0, 121 * MIN).await;
    assert!(!c.signed_in().await, "past two hours");
}

/// "Remember me" is offered only where the tenant allows it; a remembered session's cookie
/// outlives the browser (Max-Age) and it gets the longer lifetimes; unticked, the cookie ends
/// with the browser.
async fn remember_me_is_the_tenants_choice(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let c = Client::new(&s);
    let page = c.get("/t/acme/login").await;
    assert!(!page.body.contains("name=\"remember\""), "off by default");
    // Ticked anyway (a crafted form): not remembered.
    let res = c.sign_in("ada@acme.test", true).await;
    let cookie = res
        .set_cookies
        .iter()
        .find(|c| c.starts_with("castellan_session="))
        .unwrap();
    assert!(!cookie.contains("Max-Age"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    age(&s, &c, 31 * MIN, 31 * MIN).await;
    assert!(!c.signed_in().await);

    let (st, v) = s
        .patch("/session-settings", json!({ "remember_me": true }))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["remember_me_max_lifetime_secs"], 30 * 24 * 3600);
    let page = c.get("/t/acme/login").await;
    assert!(page.body.contains("name=\"remember\""), "{}", page.body);
    let res = c.sign_in("ada@acme.test", true).await;
    let cookie = res
        .set_cookies
        .iter()
        .find(|c| c.starts_with("castellan_session="))
        .unwrap();
    assert!(cookie.contains("Max-Age=2592000"), "{cookie}");
    age(&s, &c, 3 * 24 * 60 * MIN, 20 * 24 * 60 * MIN).await;
    assert!(
        c.signed_in().await,
        "remembered: three days idle, twenty days old"
    );
    age(&s, &c, 8 * 24 * 60 * MIN, 20 * 24 * 60 * MIN).await;
    assert!(!c.signed_in().await, "past a week idle");
    c.sign_in("ada@acme.test", false).await;
    age(&s, &c, 31 * MIN, 31 * MIN).await;
    assert!(!c.signed_in().await, "not ticked: the usual lifetimes");
}

/// `GET/PATCH /session-settings`: defaults, bounds and types checked (422 naming the field),
/// audited; reading and writing need the settings permissions.
async fn session_settings_api(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, v) = s.get("/session-settings").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v,
        json!({ "idle_timeout_secs": 1800, "max_lifetime_secs": 36000, "remember_me": false,
                "remember_me_idle_timeout_secs": 604800, "remember_me_max_lifetime_secs": 2592000 })
    );
    for bad in [
        json!({ "idle_timeout_secs": 59 }),
        json!({ "idle_timeout_secs": "1800" }),
        json!({ "max_lifetime_secs": 1200 }),
        json!({ "remember_me": "yes" }),
        json!({ "lifetime": 5 }),
        json!({ "remember_me_max_lifetime_secs": 400 * 24 * 3600 }),
        json!(["idle_timeout_secs"]),
    ] {
        let (st, v) = s.patch("/session-settings", bad.clone()).await;
        assert_eq!(st, 422, "{bad}: {v}");
    }
    let (_, unchanged) = s.get("/session-settings").await;
    assert_eq!(unchanged["idle_timeout_secs"], 1800);
    let (st, v) = s
        .patch("/session-settings", json!({ "idle_timeout_secs": 900 }))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["idle_timeout_secs"], 900);
    let (_, audit) = s.get("/audit?action=session_settings.update").await;
    let text = audit.to_string();
    assert!(text.contains("session_settings.update"), "{text}");
    let member = s.create_user("member@acme.test").await;
    let token = s.token_for("acme", member["id"].as_str().unwrap()).await;
    let url = s.url("/session-settings");
    let (st, _) = s
        .call_as(
            &token,
            reqwest::Method::PATCH,
            &url,
            Some(json!({ "idle_timeout_secs": 600 })),
        )
        .await;
    assert_eq!(st, 403);
}

/// The CSRF tokens of every form: a value the client chose (the old double-submit: the same
/// value in cookie and field), a token of another browser's session, and a token from before
/// the session's secret changed are all refused; the page's own token works.
async fn csrf_tokens_are_bound_to_the_session(b: Backend) {
    let s = TestServer::start(b).await;
    let u = user_with_password(&s, "ada@acme.test").await;
    let secret = with_totp(&s.store, u["id"].as_str().unwrap()).await;
    user_with_password(&s, "bob@acme.test").await;

    // Sign-in form: a client-chosen value in both cookie and field.
    let chosen = "A".repeat(43);
    let c = Client::with_cookie(&s, &format!("castellan_csrf={chosen}"));
    let form = [
        ("email", "bob@acme.test"),
        ("password", PASSWORD),
        ("csrf", chosen.as_str()),
    ];
    let res = c.post("/t/acme/login", &form).await;
    assert_eq!(res.status, 403, "client-chosen token: {}", res.body);
    // Another browser's sign-in token.
    let other = Client::new(&s);
    let page = other.get("/t/acme/login").await;
    let others = hidden(&page.body, "csrf").unwrap();
    let form = [
        ("email", "bob@acme.test"),
        ("password", PASSWORD),
        ("csrf", others.as_str()),
    ];
    let res = Client::new(&s).post("/t/acme/login", &form).await;
    assert_eq!(res.status, 403, "no cookie: {}", res.body);
    let fresh = Client::new(&s);
    fresh.get("/t/acme/login").await;
    let res = fresh.post("/t/acme/login", &form).await;
    assert_eq!(res.status, 403, "another browser's token: {}", res.body);

    // Second factor form: the sign-in page's token, another session's, then its own.
    let ada = Client::new(&s);
    let login = ada.get("/t/acme/login").await;
    let before = hidden(&login.body, "csrf").unwrap();
    let signed = ada.sign_in("ada@acme.test", false).await;
    let bob = Client::new(&s);
    bob.sign_in("bob@acme.test", false).await;
    let bobs = page_token(&bob.get("/t/acme/account/security").await.body);
    let mfa = ada.get(&signed.location).await;
    let own = hidden(&mfa.body, "csrf").unwrap();
    assert_ne!(own, before, "the token changed at sign-in");
    for wrong in [before.as_str(), bobs.as_str(), chosen.as_str(), ""] {
        let code = totp_now(&secret);
        let res = ada
            .post(
                "/t/acme/login/mfa/totp",
                &[("csrf", wrong), ("code", &code)],
            )
            .await;
        assert_eq!(
            res.status, 403,
            "second factor with {wrong:?}: {}",
            res.body
        );
    }
    let done = second_factor(&ada, &signed.location, &secret).await;
    assert_eq!(done.status, 303, "{}", done.body);

    // Security page forms: the token from before the second factor no longer works.
    let security = ada.get("/t/acme/account/security").await;
    assert_eq!(security.status, 200, "{}", security.body);
    let now_token = page_token(&security.body);
    assert_ne!(now_token, own, "the token changed with the session's level");
    let forms = [
        "/t/acme/account/security/recovery-codes",
        "/t/acme/account/security/password/remove",
        "/t/acme/account/security/factors/00000000-0000-0000-0000-000000000000/remove",
        "/t/acme/account/security/factors/00000000-0000-0000-0000-000000000000/rename",
        "/t/acme/account/security/totp",
    ];
    for path in forms {
        for wrong in [own.as_str(), bobs.as_str(), chosen.as_str()] {
            let res = ada
                .post(path, &[("csrf", wrong), ("name", "x"), ("code", "123456")])
                .await;
            assert_eq!(res.status, 403, "{path} with {wrong:?}: {}", res.body);
        }
    }
    let res = ada
        .post(
            "/t/acme/account/security/recovery-codes",
            &[("csrf", now_token.as_str())],
        )
        .await;
    assert!(
        res.status < 400,
        "its own token works: {} {}",
        res.status,
        res.body
    );

    // WebAuthn calls (JSON, token in a header).
    for (path, token) in [
        ("/t/acme/webauthn/register/start", bobs.as_str()),
        ("/t/acme/webauthn/register/start", own.as_str()),
        ("/t/acme/webauthn/verify/start", bobs.as_str()),
        ("/t/acme/webauthn/login/start", chosen.as_str()),
    ] {
        let res = ada
            .http
            .post(format!("{}{path}", s.base))
            .header("X-CSRF-Token", token)
            .json(&json!({ "kind": "passkey" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{path} with another token");
    }

    // Logout confirmation: bound to the session too.
    let ask = ada.get("/t/acme/logout").await;
    assert_eq!(ask.status, 200, "{}", ask.body);
    let logout_token = hidden(&ask.body, "csrf").unwrap();
    for wrong in [bobs.as_str(), chosen.as_str(), own.as_str()] {
        let res = ada.post("/t/acme/logout/confirm", &[("csrf", wrong)]).await;
        assert_eq!(res.status, 403, "logout with {wrong:?}");
    }
    assert!(ada.signed_in().await);
    let res = ada
        .post("/t/acme/logout/confirm", &[("csrf", logout_token.as_str())])
        .await;
    assert!(res.status < 400, "{}", res.body);
    assert!(!ada.signed_in().await);
}

/// The consent form's token is bound to the session too.
async fn consent_csrf_is_bound_to_the_session(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    user_with_password(&s, "bob@acme.test").await;
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Third", "kind": "public", "redirect_uris": [crate::browser::REDIRECT],
                    "grant_types": ["authorization_code"], "scopes": ["openid", "email"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let client_id = c["client_id"].as_str().unwrap();
    let (_, challenge) = crate::browser::pkce();
    let url = crate::browser::authorize_url(client_id, &challenge, &[("scope", "openid email")]);
    let mut tokens = Vec::new();
    let mut pages = Vec::new();
    for email in ["ada@acme.test", "bob@acme.test"] {
        let b = Client::new(&s);
        b.sign_in(email, false).await;
        let page = b.get(&url).await;
        assert_eq!(page.status, 200, "{} {}", page.location, page.body);
        tokens.push(hidden(&page.body, "csrf").unwrap());
        pages.push((b, page.body));
    }
    let (ada, page) = &pages[0];
    let fields: Vec<(String, String)> = page
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            let value = unescape(rest.split_once('"').unwrap().0);
            (name.to_owned(), value)
        })
        .collect();
    let form_with = |csrf: &str| {
        let mut f: Vec<(String, String)> = fields
            .iter()
            .filter(|(k, _)| k != "csrf")
            .cloned()
            .collect();
        f.push(("csrf".into(), csrf.into()));
        f.push(("decision".into(), "allow".into()));
        f
    };
    for wrong in [tokens[1].as_str(), "A".repeat(43).as_str()] {
        let f = form_with(wrong);
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let res = ada.post("/t/acme/authorize/consent", &f).await;
        assert_eq!(res.status, 403, "{}", res.body);
    }
    let f = form_with(&tokens[0]);
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = ada.post("/t/acme/authorize/consent", &f).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(res.location.contains("code="), "{}", res.location);
}

backends!(
    a_cookie_copied_before_the_second_factor_is_worthless_after_it,
    a_new_sign_in_ends_the_previous_session,
    idle_timeout_and_maximum_lifetime,
    remember_me_is_the_tenants_choice,
    session_settings_api,
    csrf_tokens_are_bound_to_the_session,
    consent_csrf_is_bound_to_the_session,
);
