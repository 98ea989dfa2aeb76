//! Hostile input on every surface, generated from a seeded RNG (`CASTELLAN_FUZZ_SEED` to replay
//! another run, `CASTELLAN_FUZZ_REQUESTS` for more requests): NUL and other control characters,
//! invalid UTF-8 percent-encodings, huge values, deep JSON, wrong JSON types, duplicated
//! parameters, malformed ids and overlong headers, sent to the admin API, SCIM, the OAuth
//! endpoints and the pages of a signed-in person. Every answer is below 500 and arrives (no
//! dropped connection), every refusal leaves the data as it was, and the server is ready
//! afterwards.

use crate::backends;
use crate::browser::{Browser, PASSWORD, hidden, public_client, user_with_password};
use crate::common::{Backend, TestServer};
use crate::hostile_gen::{Rng, Value as Hv, enc_bytes};
use reqwest::header::HeaderMap;
use serde_json::json;

/// What the generated requests may reach, set up once per database.
struct Fixture {
    s: TestServer,
    browser: Browser,
    scim_token: String,
    user_id: String,
    bob_id: String,
    group_id: String,
    service: (String, String),
    public_client: String,
    csrf: String,
}

async fn fixture(b: Backend) -> Fixture {
    let s = TestServer::start(b).await;
    let user = user_with_password(&s, "ada@acme.test").await;
    let bob = user_with_password(&s, "bob@acme.test").await;
    let service = crate::service_client(&s).await;
    let public_client = public_client(&s).await;
    let scim_token = castellan::cli::create_scim_token(&s.store, "acme", "fuzz")
        .await
        .unwrap();
    let res = s
        .client
        .post(format!("{}/t/acme/scim/v2/Groups", s.base))
        .bearer_auth(&scim_token)
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Fuzzers"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let group: serde_json::Value = res.json().await.unwrap();
    let browser = Browser::new(&s);
    let page = browser
        .sign_in("/t/acme/login", "ada@acme.test", PASSWORD)
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = browser.get("/t/acme/account/security").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf")
        .or_else(|| {
            let start = page.body.find("data-csrf=\"")? + "data-csrf=\"".len();
            let end = page.body[start..].find('"')? + start;
            Some(page.body[start..end].to_owned())
        })
        .expect("a CSRF token on the security page");
    Fixture {
        user_id: user["id"].as_str().unwrap().to_owned(),
        bob_id: bob["id"].as_str().unwrap().to_owned(),
        group_id: group["id"].as_str().unwrap().to_owned(),
        s,
        browser,
        scim_token,
        service: (service.0, service.1),
        public_client,
        csrf,
    }
}

/// Who sends a request, which decides the credentials and the expected error format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Surface {
    Admin,
    Scim,
    OAuth,
    Page,
}

/// One generated request.
struct Probe {
    surface: Surface,
    method: reqwest::Method,
    /// Path and query, already percent-encoded (raw hostile bytes are `%XX`).
    target: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    headers: HeaderMap,
    basic: bool,
}

fn form(pairs: &[(&str, &[u8])]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc_bytes(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// A generated request to one of the endpoints below, with hostile bytes in one or more places.
fn probe(f: &Fixture, rng: &mut Rng) -> Probe {
    use reqwest::Method as M;
    let h = |rng: &mut Rng| Hv::text(rng);
    let id = |rng: &mut Rng| enc_bytes(&Hv::id(rng));
    let seg = |rng: &mut Rng| enc_bytes(&h(rng));
    let (uid, bob, gid) = (&f.user_id, &f.bob_id, &f.group_id);
    let json_field = |rng: &mut Rng, name: &str| Hv::json_object(rng, &[name]);
    let mut p = Probe {
        surface: Surface::Admin,
        method: M::GET,
        target: String::new(),
        content_type: None,
        body: vec![],
        headers: HeaderMap::new(),
        basic: false,
    };
    let admin = "/t/acme/api/v1";
    let scim = "/t/acme/scim/v2";
    let json_ct = Some("application/json");
    let scim_ct = Some("application/scim+json");
    let form_ct = Some("application/x-www-form-urlencoded");
    let csrf = f.csrf.as_bytes();
    match rng.below(32) {
        // Admin API.
        0 => p.target = format!("{admin}/users?q={}&limit={}", seg(rng), seg(rng)),
        1 => p.target = format!("{admin}/users/{}", id(rng)),
        2 => {
            (p.method, p.target) = (M::PATCH, format!("{admin}/users/{uid}"));
            (p.content_type, p.body) = (
                json_ct,
                Hv::json_object(rng, &["given_name", "family_name", "phone", "locale"]),
            );
        }
        3 => {
            (p.method, p.target) = (M::POST, format!("{admin}/users"));
            (p.content_type, p.body) = (
                json_ct,
                Hv::json_object(rng, &["email", "given_name", "username", "status"]),
            );
        }
        4 => {
            (p.method, p.target) = (M::PUT, format!("{admin}/users/{bob}/password"));
            (p.content_type, p.body) = (json_ct, json_field(rng, "password"));
        }
        5 => {
            (p.method, p.target) = (M::POST, format!("{admin}/roles"));
            (p.content_type, p.body) = (
                json_ct,
                Hv::json_object(rng, &["name", "permissions", "description"]),
            );
        }
        6 => {
            (p.method, p.target) = (M::POST, format!("{admin}/accounts"));
            (p.content_type, p.body) = (json_ct, json_field(rng, "name"));
        }
        7 => {
            let what = ["roles", "accounts", "clients", "groups", "tokens"][rng.below(5)];
            (p.method, p.target) = (
                [M::GET, M::DELETE, M::PATCH][rng.below(3)].clone(),
                format!("{admin}/{what}/{}", id(rng)),
            );
            (p.content_type, p.body) = (json_ct, json_field(rng, "name"));
        }
        8 => {
            p.target = format!(
                "{admin}/audit?actor={}&action={}&target={}",
                seg(rng),
                seg(rng),
                id(rng)
            )
        }
        9 => {
            (p.method, p.target) = (M::POST, format!("{admin}/users/{uid}/memberships"));
            (p.content_type, p.body) =
                (json_ct, Hv::json_object(rng, &["account_id", "start_date"]));
        }
        // SCIM.
        10 => {
            p.surface = Surface::Scim;
            let filter = Hv::filter(rng);
            p.target = format!(
                "{scim}/Users?filter={}&sortBy={}&count={}",
                enc_bytes(&filter),
                seg(rng),
                seg(rng)
            );
        }
        11 => {
            p.surface = Surface::Scim;
            p.target = format!("{scim}/{}/{}", ["Users", "Groups"][rng.below(2)], id(rng));
        }
        12 => {
            p.surface = Surface::Scim;
            (p.method, p.target, p.content_type) = (M::POST, format!("{scim}/Users"), scim_ct);
            p.body = Hv::json_object(
                rng,
                &["userName", "externalId", "displayName", "emails", "active"],
            );
        }
        13 => {
            p.surface = Surface::Scim;
            (p.method, p.target, p.content_type) =
                (M::PATCH, format!("{scim}/Users/{uid}"), scim_ct);
            p.body = Hv::patch_op(rng);
        }
        14 => {
            p.surface = Surface::Scim;
            (p.method, p.target, p.content_type) =
                (M::PATCH, format!("{scim}/Groups/{gid}"), scim_ct);
            p.body = Hv::patch_op(rng);
        }
        15 => {
            p.surface = Surface::Scim;
            (p.method, p.target, p.content_type) =
                (M::POST, format!("{scim}/Users/.search"), scim_ct);
            p.body = Hv::json_object(rng, &["filter", "startIndex", "count", "attributes"]);
        }
        16 => {
            p.surface = Surface::Scim;
            (p.method, p.target, p.content_type) = (M::POST, format!("{scim}/Bulk"), scim_ct);
            p.body = Hv::bulk(rng);
        }
        // OAuth endpoints.
        17 => {
            p.surface = Surface::OAuth;
            let what = ["jwks", ".well-known/openid-configuration"][rng.below(2)];
            p.target = format!("/t/{}/{what}", seg(rng));
        }
        18 | 19 => {
            p.surface = Surface::OAuth;
            (p.method, p.target, p.content_type) = (M::POST, "/t/acme/token".into(), form_ct);
            let grant = [
                &b"client_credentials"[..],
                b"authorization_code",
                b"refresh_token",
            ][rng.below(3)];
            let mut pairs: Vec<(&str, Vec<u8>)> = vec![
                ("grant_type", grant.to_vec()),
                ("client_id", f.service.0.clone().into_bytes()),
                ("client_secret", f.service.1.clone().into_bytes()),
                ("scope", b"openid".to_vec()),
                ("code", h(rng)),
                ("code_verifier", h(rng)),
                ("refresh_token", h(rng)),
                ("redirect_uri", h(rng)),
                ("client_assertion_type", h(rng)),
                ("client_assertion", Hv::jwt(rng)),
            ];
            Hv::spoil_pairs(rng, &mut pairs);
            let pairs: Vec<(&str, &[u8])> = pairs.iter().map(|(k, v)| (*k, v.as_slice())).collect();
            p.body = form(&pairs);
            if rng.below(3) == 0 {
                p.basic = true;
            }
        }
        20 => {
            p.surface = Surface::OAuth;
            let endpoint = ["introspect", "revoke"][rng.below(2)];
            (p.method, p.target, p.content_type) =
                (M::POST, format!("/t/acme/{endpoint}"), form_ct);
            let mut pairs = vec![("token", h(rng)), ("token_type_hint", h(rng))];
            Hv::spoil_pairs(rng, &mut pairs);
            let pairs: Vec<(&str, &[u8])> = pairs.iter().map(|(k, v)| (*k, v.as_slice())).collect();
            p.body = form(&pairs);
            p.basic = true;
        }
        21 => {
            p.surface = Surface::OAuth;
            p.target = "/t/acme/userinfo".into();
            if let Some(v) = Hv::header_value(rng) {
                p.headers.insert(reqwest::header::AUTHORIZATION, v);
            }
            if rng.below(2) == 0 {
                (p.method, p.content_type) = (M::POST, form_ct);
                p.body = form(&[("access_token", &h(rng))]);
            }
        }
        22 | 23 => {
            p.surface = Surface::Page;
            let client = f.public_client.as_bytes();
            let mut pairs: Vec<(&str, Vec<u8>)> = vec![
                ("response_type", b"code".to_vec()),
                ("client_id", client.to_vec()),
                ("redirect_uri", crate::browser::REDIRECT.as_bytes().to_vec()),
                ("scope", b"openid".to_vec()),
                ("state", h(rng)),
                ("nonce", h(rng)),
                ("code_challenge", h(rng)),
                ("code_challenge_method", b"S256".to_vec()),
                ("prompt", h(rng)),
                ("login_hint", h(rng)),
            ];
            Hv::spoil_pairs(rng, &mut pairs);
            let pairs: Vec<(&str, &[u8])> = pairs.iter().map(|(k, v)| (*k, v.as_slice())).collect();
            let query = String::from_utf8(form(&pairs)).unwrap();
            if rng.below(2) == 0 {
                p.target = format!("/t/acme/authorize?{query}");
            } else {
                (p.method, p.target, p.content_type) =
                    (M::POST, "/t/acme/authorize".into(), form_ct);
                p.body = query.into_bytes();
            }
        }
        // Pages.
        24 => {
            p.surface = Surface::Page;
            p.target = format!(
                "/t/acme/login?login_hint={}&return_to={}",
                seg(rng),
                seg(rng)
            );
        }
        25 => {
            p.surface = Surface::Page;
            (p.method, p.target, p.content_type) = (M::POST, "/t/acme/login".into(), form_ct);
            let mut pairs = vec![
                ("email", h(rng)),
                ("password", h(rng)),
                ("csrf", csrf.to_vec()),
                ("return_to", h(rng)),
            ];
            Hv::spoil_pairs(rng, &mut pairs);
            let pairs: Vec<(&str, &[u8])> = pairs.iter().map(|(k, v)| (*k, v.as_slice())).collect();
            p.body = form(&pairs);
        }
        26 => {
            p.surface = Surface::Page;
            let path = [
                "/t/acme/login/mfa/totp",
                "/t/acme/login/mfa/recovery",
                "/t/acme/account/security/totp",
                "/t/acme/account",
                "/t/acme/account/password",
                "/t/acme/account/notifications",
            ][rng.below(6)];
            (p.method, p.target, p.content_type) = (M::POST, path.into(), form_ct);
            p.body = form(&[
                ("code", &h(rng)),
                ("csrf", csrf),
                ("name", &h(rng)),
                ("given_name", &h(rng)),
                ("current", &h(rng)),
                ("on", &h(rng)),
                ("channel", &h(rng)),
            ]);
        }
        27 => {
            p.surface = Surface::Page;
            let path = [
                "/t/acme/login/mfa",
                "/t/acme/account/security",
                "/t/acme/account/security/totp",
                "/t/acme/",
                "/t/acme/account",
                "/t/acme/account/sessions",
                "/t/acme/account/apps",
                "/t/acme/account/notifications",
            ][rng.below(8)];
            p.target = format!(
                "{path}?notice={}&return_to={}&lang={}",
                seg(rng),
                seg(rng),
                seg(rng)
            );
        }
        28 => {
            p.surface = Surface::Page;
            let target = match rng.below(4) {
                0 => format!("/t/acme/account/security/factors/{}/rename", id(rng)),
                1 => format!("/t/acme/account/security/factors/{}/remove", id(rng)),
                2 => format!("/t/acme/account/sessions/{}/end", id(rng)),
                _ => format!("/t/acme/account/apps/{}/revoke", id(rng)),
            };
            (p.method, p.target, p.content_type) = (M::POST, target, form_ct);
            p.body = form(&[("name", &h(rng)), ("csrf", csrf)]);
        }
        29 => {
            p.surface = Surface::Page;
            (p.method, p.target, p.content_type) =
                (M::POST, "/t/acme/authorize/consent".into(), form_ct);
            p.body = form(&[
                ("csrf", csrf),
                ("decision", &h(rng)),
                ("client_id", &h(rng)),
                ("scope", &h(rng)),
            ]);
        }
        30 => {
            p.surface = Surface::Page;
            let q = format!(
                "id_token_hint={}&post_logout_redirect_uri={}&state={}",
                seg(rng),
                seg(rng),
                seg(rng)
            );
            if rng.below(2) == 0 {
                p.target = format!("/t/acme/logout?{q}");
            } else {
                (p.method, p.target, p.content_type) = (M::POST, "/t/acme/logout".into(), form_ct);
                p.body = q.into_bytes();
            }
        }
        _ => {
            p.surface = Surface::OAuth;
            let step = [
                "login/start",
                "login/finish",
                "verify/start",
                "register/finish",
            ][rng.below(4)];
            (p.method, p.target, p.content_type) =
                (M::POST, format!("/t/acme/webauthn/{step}"), json_ct);
            p.body = Hv::json_object(rng, &["email", "credential", "id", "response"]);
        }
    }
    if rng.below(8) == 0 {
        Hv::spoil_headers(rng, &mut p.headers);
        // Headers past hyper's limits get 431 and the connection is closed before any body is
        // read (as every HTTP server does); a client still writing a body larger than the
        // socket buffers then sees a broken pipe instead of the 431. Such a request keeps a
        // body small enough to be written whole.
        if header_bytes(&p.headers) > HEADER_LIMIT || p.headers.len() > 100 {
            p.body.truncate(16 * 1024);
        }
    }
    p
}

/// Hyper's default limit for a request's head, in bytes.
const HEADER_LIMIT: usize = 64 * 1024;

fn header_bytes(h: &HeaderMap) -> usize {
    h.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum()
}

/// Counts and versions of what a refused request must not change.
pub(crate) async fn snapshot(s: &TestServer) -> Vec<i64> {
    let tables = [
        "users",
        "user_emails",
        "user_roles",
        "user_attributes",
        "groups",
        "group_members",
        "roles",
        "role_permissions",
        "permissions",
        "accounts",
        "memberships",
        "clients",
        "api_tokens",
        "scim_tokens",
        "sessions",
        "refresh_tokens",
        "consents",
        "totp_factors",
        "webauthn_credentials",
        "recovery_codes",
        "permission_overrides",
        "management",
    ];
    let mut parts: Vec<String> = tables
        .iter()
        .map(|t| format!("(SELECT COUNT(*) FROM {t})"))
        .collect();
    parts.push("(SELECT COALESCE(SUM(version), 0) FROM users)".into());
    parts.push("(SELECT COALESCE(SUM(version), 0) FROM groups)".into());
    // Audit entries of changes (a refused sign-in may be audited: that is not a change).
    parts.push(
        "(SELECT COUNT(*) FROM audit_log WHERE action NOT LIKE '%sign_in%' AND action NOT LIKE '%fail%' AND action NOT LIKE '%lock%')"
            .into(),
    );
    let sql = format!(
        "SELECT {}",
        parts
            .iter()
            .map(|p| format!("CAST({p} AS BIGINT)"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    crate::hostile_gen::scalar_row(s.db_url(), &sql).await
}

async fn send(f: &Fixture, p: &Probe) -> Result<(u16, String), String> {
    let url = format!("{}{}", f.s.base, p.target);
    let mut req = f.browser.http.request(p.method.clone(), &url);
    req = match p.surface {
        Surface::Admin => req.bearer_auth(&f.s.token),
        Surface::Scim => req.bearer_auth(&f.scim_token),
        _ => req,
    };
    if p.basic {
        req = req.basic_auth(&f.service.0, Some(&f.service.1));
    }
    if let Some(ct) = p.content_type {
        req = req.header("content-type", ct);
    }
    for (k, v) in &p.headers {
        req = req.header(k, v);
    }
    if !p.body.is_empty() {
        req = req.body(p.body.clone());
    }
    let res = req.send().await.map_err(|e| format!("no answer: {e:?}"))?;
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    res.bytes()
        .await
        .map_err(|e| format!("answer cut: {e:?}"))?;
    Ok((status, ct))
}

/// Whether a 4xx answer is in the surface's own error format.
fn in_format(surface: Surface, status: u16, ct: &str) -> bool {
    if status == 431 || status == 401 && surface == Surface::OAuth {
        return true;
    }
    match surface {
        Surface::Admin => ct.starts_with("application/problem+json"),
        Surface::Scim => ct.starts_with("application/scim+json"),
        Surface::OAuth => ct.starts_with("application/json"),
        Surface::Page => ct.starts_with("text/html") || ct.starts_with("application/json"),
    }
}

async fn generated_hostile_input_is_refused_cleanly(b: Backend) {
    let seed = std::env::var("CASTELLAN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00c4_57e1_1a4e);
    let count: usize = std::env::var("CASTELLAN_FUZZ_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let f = fixture(b).await;
    let mut rng = Rng::new(seed);
    let mut before = snapshot(&f.s).await;
    let mut refused = 0;
    for i in 0..count {
        let p = probe(&f, &mut rng);
        let what = format!(
            "request {i} (seed {seed}, {b:?}): {} {} body {:?}",
            p.method,
            &p.target[..p.target.len().min(300)],
            String::from_utf8_lossy(&p.body[..p.body.len().min(300)])
        );
        let (status, ct) = send(&f, &p).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(status < 500, "{what}: answered {status}");
        let after = snapshot(&f.s).await;
        if (400..500).contains(&status) {
            refused += 1;
            assert_eq!(
                before, after,
                "{what}: refused with {status} but changed data"
            );
            assert!(
                in_format(p.surface, status, &ct),
                "{what}: {status} as {ct}"
            );
        }
        before = after;
    }
    assert!(
        refused > count / 2,
        "most generated requests are refused: {refused}/{count}"
    );
    let ready =
        f.s.client
            .get(format!("{}/readyz", f.s.base))
            .send()
            .await
            .unwrap();
    assert_eq!(ready.status(), 200);
    let (st, _) = f.s.get("/users").await;
    assert_eq!(st, 200, "the API still answers");
    let page = f.browser.get("/t/acme/account/security").await;
    assert_eq!(page.status, 200, "the session still works");
}

backends!(generated_hostile_input_is_refused_cleanly);
