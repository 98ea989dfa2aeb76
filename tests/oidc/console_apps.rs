//! The console's Apps section over HTTP (issue 14): who may look at and change apps (the
//! admin API's `settings.read` / `settings.write`, through the same service functions), the
//! secret shown once and real (a client_credentials token with it), rotation (the old secret
//! refused at once), field errors, escaping, CSRF, and another tenant's apps out of reach.

use crate::backends;
use crate::browser::{Browser, PASSWORD, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use crate::token;
use reqwest::Method;
use serde_json::{Value, json};

/// Who asks, in the authorisation matrices of the console's sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Who {
    Anonymous,
    Plain,
    Manager,
    Administrator,
    Owner,
}

/// A browser signed in as `email`.
pub(crate) async fn signed_in(s: &TestServer, email: &str) -> Browser {
    let b = Browser::new(s);
    let page = b.sign_in("/t/acme/login", email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    b
}

/// A user with a password holding the seeded role `template`.
pub(crate) async fn holder(s: &TestServer, email: &str, template: &str) {
    let u = user_with_password(s, email).await;
    let role = s.role_id(template).await;
    let (st, v) = s
        .post(
            &format!("/users/{}/roles", u["id"].as_str().unwrap()),
            json!({"role_id": role}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
}

/// One browser per kind of caller, each with a CSRF token of its own session (empty for the
/// anonymous one): a person without rights, a Manager, an Administrator and the Owner.
pub(crate) async fn people(s: &TestServer) -> Vec<(Who, Browser, String)> {
    user_with_password(s, "plain@acme.test").await;
    holder(s, "manager@acme.test", "manager").await;
    holder(s, "admin@acme.test", "administrator").await;
    let (_, owner) = s.get("/owner").await;
    let (st, v) = s
        .put(
            &format!("/users/{}/password", owner["id"].as_str().unwrap()),
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    let mut out = vec![(Who::Anonymous, Browser::new(s), String::new())];
    for (who, email) in [
        (Who::Plain, "plain@acme.test"),
        (Who::Manager, "manager@acme.test"),
        (Who::Administrator, "admin@acme.test"),
        (Who::Owner, "owner@acme.test"),
    ] {
        let b = signed_in(s, email).await;
        let page = b.get("/t/acme/account/security").await;
        let csrf = hidden(&page.body, "csrf").unwrap_or_default();
        let csrf = if csrf.is_empty() {
            let page = b.get("/t/acme/console/users").await;
            hidden(&page.body, "csrf").unwrap_or_default()
        } else {
            csrf
        };
        out.push((who, b, csrf));
    }
    out
}

/// Asserts that the answer to `who` is a refusal that shows nothing: anonymous people are sent
/// to sign in, people without administration rights are told so, others get 403.
pub(crate) fn assert_refused(who: Who, what: &str, page: &crate::browser::Page) {
    match who {
        Who::Anonymous => {
            assert_eq!(page.status, 303, "{what}: {}", page.body);
            let to = page.location.as_deref().unwrap_or_default();
            assert!(to.starts_with("/t/acme/login"), "{what}: {to}");
        }
        Who::Plain => {
            assert!(
                page.body.contains("No administration rights"),
                "{what}: {} {}",
                page.status,
                page.body
            );
        }
        _ => assert_eq!(page.status, 403, "{what}: {}", page.body),
    }
}

/// The apps of the tenant as the admin API gives them.
async fn api_apps(s: &TestServer) -> Value {
    let (st, v) = s.get("/clients").await;
    assert_eq!(st, 200, "{v}");
    v
}

/// Registers a client_credentials app through the API: (internal id, client_id, secret).
async fn api_app(s: &TestServer, name: &str) -> (String, String, String) {
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": name, "grant_types": ["client_credentials"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    (
        c["id"].as_str().unwrap().to_owned(),
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// The status of a client_credentials token request with this secret.
async fn token_status(s: &TestServer, tenant: &str, client_id: &str, secret: &str) -> u16 {
    let (st, _, body) = token(
        s,
        tenant,
        Some((client_id, secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert!(
        st == 200 || body["error"] == "invalid_client",
        "{st} {body}"
    );
    st
}

/// The value of the read-only input `id` in `html`.
fn input_value(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let at = html.find(&marker)?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[at..tag_end];
    let v = tag.find("value=\"")? + "value=\"".len();
    let end = v + tag[v..].find('"')?;
    Some(tag[v..end].to_owned())
}

/// A full, valid app form.
fn app_form<'a>(csrf: &'a str, name: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("name", name),
        ("token_endpoint_auth_method", "client_secret_basic"),
        ("grant_type", "client_credentials"),
        ("redirect_uris", ""),
        ("post_logout_redirect_uris", ""),
        ("scopes", "openid"),
        ("permission_namespaces", "billing"),
        ("id_token_signed_response_alg", "ES256"),
        ("access_token_ttl", "300"),
        ("refresh_token_ttl", "2592000"),
        ("token_claims_budget", "8192"),
        ("backchannel_logout_uri", ""),
        ("jwks", ""),
    ]
}

async fn apps_are_seen_and_changed_by_exactly_who_may(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, client_id, secret) = api_app(&s, "Target").await;
    let people = people(&s).await;
    let before = api_apps(&s).await;
    let app = format!("/t/acme/console/apps/{id}");
    for (who, b, csrf) in &people {
        let who = *who;
        // Reading: the list and the app's page are for `settings.read` (a Manager has it).
        for url in ["/t/acme/console/apps".to_owned(), app.clone()] {
            let page = b.get(&url).await;
            match who {
                Who::Manager | Who::Administrator | Who::Owner => {
                    assert_eq!(page.status, 200, "{who:?} {url}: {}", page.body);
                    assert!(page.body.contains("Target"), "{who:?} {url}");
                    let writes = who != Who::Manager;
                    assert_eq!(
                        page.body.contains("Register an app")
                            || page.body.contains("Save settings"),
                        writes,
                        "{who:?} {url}: write controls only for settings.write"
                    );
                    assert!(page.body.contains("href=\"/t/acme/console/apps\""), "nav");
                }
                _ => assert_refused(who, &url, &page),
            }
        }
        // Writing pages: `settings.write` only.
        for url in [
            "/t/acme/console/apps/new".to_owned(),
            format!("{app}/rotate"),
            format!("{app}/delete"),
        ] {
            let page = b.get(&url).await;
            match who {
                Who::Administrator | Who::Owner => {
                    assert_eq!(page.status, 200, "{who:?} {url}: {}", page.body)
                }
                _ => assert_refused(who, &url, &page),
            }
        }
        if matches!(who, Who::Administrator | Who::Owner) {
            continue;
        }
        // Forged writes with the caller's own valid CSRF token: refused, nothing changes.
        let role = s.role_id("member").await;
        let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
            ("/t/acme/console/apps".into(), app_form(csrf, "Forged")),
            (app.clone(), app_form(csrf, "Renamed")),
            (format!("{app}/rotate"), vec![("csrf", csrf)]),
            (format!("{app}/delete"), vec![("csrf", csrf)]),
            (
                format!("{app}/roles"),
                vec![("csrf", csrf), ("role_id", &role), ("change", "grant")],
            ),
        ];
        for (url, form) in posts {
            let page = b.post_form(&url, &form).await;
            assert_refused(who, &format!("POST {url}"), &page);
            assert!(!page.body.contains("ccs_"), "no secret for {who:?}");
        }
    }
    assert_eq!(api_apps(&s).await, before, "nothing changed");
    assert_eq!(token_status(&s, "acme", &client_id, &secret).await, 200);

    // The Owner and an Administrator may register.
    for (who, b, csrf) in &people {
        if !matches!(who, Who::Administrator | Who::Owner) {
            continue;
        }
        let name = format!("{who:?} app");
        let page = b
            .post_form("/t/acme/console/apps", &app_form(csrf, &name))
            .await;
        assert_eq!(page.status, 201, "{who:?}: {}", page.body);
    }
    assert_eq!(api_apps(&s).await.as_array().unwrap().len(), 3);
}

async fn registered_secret_is_real_and_rotation_replaces_it(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let admin = signed_in(&s, "admin@acme.test").await;
    let empty = admin.get("/t/acme/console/apps").await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert!(empty.body.contains("No app yet."), "{}", empty.body);
    let form = admin.get("/t/acme/console/apps/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = hidden(&form.body, "csrf").unwrap();

    // Without or with a wrong CSRF token: refused, nothing registered.
    for bad in ["", "not-the-token"] {
        let page = admin
            .post_form("/t/acme/console/apps", &app_form(bad, "Billing"))
            .await;
        assert_eq!(page.status, 403, "{}", page.body);
    }
    assert_eq!(api_apps(&s).await, json!([]));

    // Bad input: a 400 page with the form kept and the error next to its field.
    let mut bad = app_form(&csrf, "Billing <b>bold</b>");
    bad.push(("redirect_uris", "ftp://example.com/cb"));
    bad.retain(|(k, v)| !(*k == "redirect_uris" && v.is_empty()));
    let page = admin.post_form("/t/acme/console/apps", &bad).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("id=\"e-redirect_uris\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("aria-describedby=\"h-redirect e-redirect_uris\"")
    );
    assert!(
        page.body.contains("ftp://example.com/cb</textarea>"),
        "kept"
    );
    assert!(!page.body.contains("<b>bold</b>"), "escaped");
    let mut bad = app_form(&csrf, "Billing");
    bad.retain(|(k, _)| *k != "access_token_ttl");
    bad.push(("access_token_ttl", "soon"));
    let page = admin.post_form("/t/acme/console/apps", &bad).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("id=\"e-access_token_ttl\""),
        "{}",
        page.body
    );
    for (field, value, error) in [
        ("access_token_ttl", "5", "e-access_token_ttl"),
        ("name", "", "e-name"),
        ("scopes", "openid nonsense", "e-scopes"),
        (
            "token_endpoint_auth_method",
            "telepathy",
            "e-token_endpoint_auth_method",
        ),
        ("jwks", "{not json", "e-jwks"),
    ] {
        let mut bad = app_form(&csrf, "Billing");
        bad.retain(|(k, _)| *k != field);
        bad.push((field, value));
        let page = admin.post_form("/t/acme/console/apps", &bad).await;
        assert_eq!(page.status, 400, "{field}: {}", page.body);
        assert!(
            page.body.contains(&format!("id=\"{error}\"")),
            "{field}: {}",
            page.body
        );
    }
    assert_eq!(api_apps(&s).await, json!([]));

    // Registered: the secret is on the page answering the POST, not cached, and it works.
    let res = admin
        .http
        .post(admin.absolute_url("/t/acme/console/apps"))
        .form(&app_form(&csrf, "Billing <b>bold</b>"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.text().await.unwrap();
    assert!(body.contains("it will not be shown again"), "{body}");
    assert!(!body.contains("<b>bold</b>"), "escaped");
    let client_id = input_value(&body, "client-id").unwrap();
    let secret = input_value(&body, "client-secret").unwrap();
    assert!(secret.starts_with("ccs_"), "{secret}");
    assert_eq!(token_status(&s, "acme", &client_id, &secret).await, 200);
    let apps = api_apps(&s).await;
    assert_eq!(apps[0]["name"], "Billing <b>bold</b>");
    assert_eq!(apps[0]["permission_namespaces"], json!(["billing"]));
    let id = apps[0]["id"].as_str().unwrap().to_owned();
    let app = format!("/t/acme/console/apps/{id}");
    let page = admin.get(&app).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(&secret), "never shown again");
    let list = admin.get("/t/acme/console/apps").await;
    assert!(list.body.contains(&client_id));
    assert!(!list.body.contains("<b>bold</b>"), "escaped in the list");

    // Settings saved through the page (and a bad one refused next to its field).
    let mut edit = app_form(&csrf, "Billing");
    edit.retain(|(k, _)| *k != "scopes");
    edit.push(("scopes", "openid billing:read"));
    let done = admin.post_form(&app, &edit).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("{app}?notice=saved").as_str())
    );
    let (_, v) = s.get(&format!("/clients/{id}")).await;
    assert_eq!(v["name"], "Billing");
    assert_eq!(v["scopes"], json!(["openid", "billing:read"]));
    let mut bad = app_form(&csrf, "Billing");
    bad.push(("backchannel_logout_uri", "javascript:alert(1)"));
    bad.retain(|(k, v)| !(*k == "backchannel_logout_uri" && v.is_empty()));
    let page = admin.post_form(&app, &bad).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("id=\"e-backchannel_logout_uri\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(" open>"),
        "the advanced settings open on their error"
    );

    // A service role, given and taken through the page.
    let role = s.role_id("member").await;
    let done = admin
        .post_form(
            &format!("{app}/roles"),
            &[("csrf", &csrf), ("role_id", &role), ("change", "grant")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, v) = s.get(&format!("/clients/{id}")).await;
    assert_eq!(v["role_ids"], json!([role]));
    let done = admin
        .post_form(
            &format!("{app}/roles"),
            &[("csrf", &csrf), ("role_id", &role), ("change", "revoke")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, v) = s.get(&format!("/clients/{id}")).await;
    assert_eq!(v["role_ids"], json!([]));

    // Rotation: confirmation, then a new secret once; the old one is refused at once.
    let confirm = admin.get(&format!("{app}/rotate")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("stops working"), "{}", confirm.body);
    let page = admin.post_form(&format!("{app}/rotate"), &[]).await;
    assert_eq!(page.status, 403, "no CSRF token");
    assert_eq!(token_status(&s, "acme", &client_id, &secret).await, 200);
    let page = admin
        .post_form(&format!("{app}/rotate"), &[("csrf", &csrf)])
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let rotated = input_value(&page.body, "client-secret").unwrap();
    assert_ne!(rotated, secret);
    assert_eq!(token_status(&s, "acme", &client_id, &secret).await, 401);
    assert_eq!(token_status(&s, "acme", &client_id, &rotated).await, 200);

    // A public app has no secret: the registration leads to its page, nothing to copy.
    let mut public = app_form(&csrf, "Mobile");
    public.retain(|(k, _)| {
        !["token_endpoint_auth_method", "grant_type", "redirect_uris"].contains(k)
    });
    public.extend([
        ("token_endpoint_auth_method", "none"),
        ("grant_type", "authorization_code"),
        (
            "redirect_uris",
            "https://app.example.com/cb\nhttp://127.0.0.1:8080/cb",
        ),
    ]);
    let done = admin.post_form("/t/acme/console/apps", &public).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let to = done.location.unwrap();
    assert!(to.ends_with("?notice=created"), "{to}");
    let page = admin.get(&to).await;
    assert!(page.body.contains("The app was registered."));
    assert!(!page.body.contains("Rotate secret"), "no secret to rotate");
    let apps = api_apps(&s).await;
    let mobile = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Mobile")
        .unwrap();
    assert_eq!(mobile["kind"], "public");
    assert_eq!(
        mobile["redirect_uris"],
        json!(["https://app.example.com/cb", "http://127.0.0.1:8080/cb"])
    );
    let (st, _) = s
        .delete(&format!("/clients/{}", mobile["id"].as_str().unwrap()))
        .await;
    assert_eq!(st, 204);

    // Deletion: confirmation, then gone.
    let page = admin.get(&format!("{app}/delete")).await;
    assert_eq!(page.status, 200);
    let page = admin
        .post_form(&format!("{app}/delete"), &[("csrf", "x")])
        .await;
    assert_eq!(page.status, 403);
    let done = admin
        .post_form(&format!("{app}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/t/acme/console/apps?notice=deleted")
    );
    assert_eq!(api_apps(&s).await, json!([]));
    assert_eq!(token_status(&s, "acme", &client_id, &rotated).await, 401);
    assert_eq!(admin.get(&app).await.status, 404);
    assert_eq!(
        admin.get("/t/acme/console/apps/not-an-id").await.status,
        404
    );
}

async fn another_tenants_apps_are_out_of_reach(b: Backend) {
    let s = TestServer::start(b).await;
    let globex = s.other_tenant("globex").await;
    let url = format!("{}/t/globex/api/v1/clients", s.base);
    let (st, c) = s
        .call_as(
            &globex,
            Method::POST,
            &url,
            Some(json!({ "name": "Globex app", "grant_types": ["client_credentials"] })),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let (gid, gclient, gsecret) = (
        c["id"].as_str().unwrap(),
        c["client_id"].as_str().unwrap(),
        c["client_secret"].as_str().unwrap(),
    );
    let (_, before) = s.call_as(&globex, Method::GET, &url, None).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let admin = signed_in(&s, "admin@acme.test").await;
    let list = admin.get("/t/acme/console/apps").await;
    assert!(!list.body.contains("Globex app"));
    let csrf = hidden(&list.body, "csrf").unwrap();
    let app = format!("/t/acme/console/apps/{gid}");
    for url in [
        app.clone(),
        format!("{app}/rotate"),
        format!("{app}/delete"),
    ] {
        let page = admin.get(&url).await;
        assert_eq!(page.status, 404, "{url}: {}", page.body);
        assert!(!page.body.contains("Globex app"));
    }
    let role = s.role_id("member").await;
    for (url, form) in [
        (app.clone(), app_form(&csrf, "Taken over")),
        (format!("{app}/rotate"), vec![("csrf", csrf.as_str())]),
        (format!("{app}/delete"), vec![("csrf", csrf.as_str())]),
        (
            format!("{app}/roles"),
            vec![
                ("csrf", csrf.as_str()),
                ("role_id", &role),
                ("change", "grant"),
            ],
        ),
    ] {
        let page = admin.post_form(&url, &form).await;
        assert_eq!(page.status, 404, "{url}: {}", page.body);
    }
    // The acme session is not a globex session.
    let page = admin.get("/t/globex/console/apps").await;
    assert_ne!(page.status, 200);
    assert!(!page.body.contains("Globex app"));
    let (_, after) = s.call_as(&globex, Method::GET, &url, None).await;
    assert_eq!(after, before, "nothing changed in globex");
    assert_eq!(token_status(&s, "globex", gclient, gsecret).await, 200);
}

backends!(
    apps_are_seen_and_changed_by_exactly_who_may,
    registered_secret_is_real_and_rotation_replaces_it,
    another_tenants_apps_are_out_of_reach,
);
