//! The account portal's boundaries over HTTP (issue 14): anonymous requests go to sign-in,
//! every POST needs the session's CSRF token, another person's or another tenant's sessions and
//! apps are not found from a person's portal, and the self-service caller reaches only the
//! person at the service level.

use crate::backends;
use crate::browser::{Browser, PASSWORD, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use crate::console_account::{
    NEW_PASSWORD, PAGES, api_user, consented_tokens, consents_of, id_of, offered_in,
    offered_sessions, post_with_csrf, signed_in, still_signed_in, third_party_app,
};
use serde_json::json;

async fn anonymous_requests_go_to_sign_in(b: Backend) {
    let s = TestServer::start(b).await;
    let anon = Browser::new(&s);
    let posts = [
        "/t/acme/account",
        "/t/acme/account/password",
        "/t/acme/account/sessions/others",
        "/t/acme/account/sessions/x/end",
        "/t/acme/account/apps/x/revoke",
        "/t/acme/account/notifications",
    ];
    for url in PAGES
        .iter()
        .chain(["/t/acme/account/sessions/others"].iter())
    {
        let page = anon.get(url).await;
        assert_eq!(page.status, 303, "{url}");
        let to = page.location.unwrap();
        assert!(to.starts_with("/t/acme/login?return_to="), "{url}: {to}");
    }
    for url in posts {
        let page = anon.post_form(url, &[("csrf", "x")]).await;
        assert_eq!(page.status, 303, "POST {url}");
        assert!(
            page.location.unwrap().starts_with("/t/acme/login?"),
            "{url}"
        );
    }
}

/// Every POST of the portal without the session's CSRF token, or with another session's, is
/// refused (403) and changes nothing.
async fn every_post_needs_the_sessions_csrf_token(b: Backend) {
    let s = TestServer::start(b).await;
    let (cid, secret) = third_party_app(&s, "Budget").await;
    let uid = id_of(&user_with_password(&s, "ada@acme.test").await).await;
    let here = signed_in(&s, "ada@acme.test").await;
    consented_tokens(&s, &here, (&cid, &secret), "ada@acme.test").await;
    let there = signed_in(&s, "ada@acme.test").await;
    let other_id = offered_sessions(&here.get("/t/acme/account/sessions").await.body)[0].clone();
    // A token of another session (the other browser's) is as wrong as none.
    let foreign = hidden(&there.get("/t/acme/account").await.body, "csrf").unwrap();
    let before_user = api_user(&s, &uid).await;
    let (_, before_prefs) = s.get(&format!("/users/{uid}/notifications")).await;
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/t/acme/account".into(), vec![("given_name", "Forged")]),
        (
            "/t/acme/account/password".into(),
            vec![
                ("current", PASSWORD),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        ),
        (format!("/t/acme/account/sessions/{other_id}/end"), vec![]),
        ("/t/acme/account/sessions/others".into(), vec![]),
        (format!("/t/acme/account/apps/{cid}/revoke"), vec![]),
        ("/t/acme/account/notifications".into(), vec![]),
    ];
    for (url, fields) in &posts {
        for csrf in [None, Some("forged"), Some(foreign.as_str())] {
            let mut form = fields.clone();
            if let Some(c) = csrf {
                form.push(("csrf", c));
            }
            let page = here.post_form(url, &form).await;
            assert_eq!(page.status, 403, "{url} {csrf:?}: {}", page.body);
        }
    }
    assert_eq!(api_user(&s, &uid).await, before_user);
    let (_, after_prefs) = s.get(&format!("/users/{uid}/notifications")).await;
    assert_eq!(after_prefs, before_prefs);
    assert!(still_signed_in(&there).await);
    assert_eq!(consents_of(&s, &uid).await.as_array().unwrap().len(), 1);
    signed_in(&s, "ada@acme.test").await;
}

/// Another person's session or app, and another tenant's, are not found from a person's
/// portal; nothing of theirs changes.
async fn another_persons_or_tenants_things_are_not_found(b: Backend) {
    let s = TestServer::start(b).await;
    let (cid, secret) = third_party_app(&s, "Budget").await;
    let grace = id_of(&user_with_password(&s, "grace@acme.test").await).await;
    user_with_password(&s, "ada@acme.test").await;
    // Grace: two sessions (one learnt from the other's page) and a consent.
    let grace_a = signed_in(&s, "grace@acme.test").await;
    consented_tokens(&s, &grace_a, (&cid, &secret), "grace@acme.test").await;
    let grace_b = signed_in(&s, "grace@acme.test").await;
    let grace_session =
        offered_sessions(&grace_a.get("/t/acme/account/sessions").await.body)[0].clone();

    // Another tenant's person and session.
    let token = s.other_tenant("globex").await;
    let base = format!("{}/t/globex/api/v1", s.base);
    let (st, u) = s
        .call_as(
            &token,
            reqwest::Method::POST,
            &format!("{base}/users"),
            Some(json!({"email": "ivan@globex.test", "status": "active"})),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let ivan = u["id"].as_str().unwrap();
    let (st, _) = s
        .call_as(
            &token,
            reqwest::Method::PUT,
            &format!("{base}/users/{ivan}/password"),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(st, 204);
    let globex = [Browser::new(&s), Browser::new(&s)];
    for g in &globex {
        let login = g.get("/t/globex/login").await;
        let csrf = hidden(&login.body, "csrf").unwrap();
        let done = g
            .post_form(
                "/t/globex/login",
                &[
                    ("email", "ivan@globex.test"),
                    ("password", PASSWORD),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
    }
    let globex_page = globex[0].get("/t/globex/account/sessions").await;
    assert_eq!(globex_page.status, 200, "{}", globex_page.body);
    let ivan_session = offered_in(&globex_page.body, "globex")
        .pop()
        .expect("ivan's other session");

    let ada = signed_in(&s, "ada@acme.test").await;
    for sid in [&grace_session, &ivan_session] {
        let url = format!("/t/acme/account/sessions/{sid}/end");
        assert_eq!(ada.get(&url).await.status, 404, "{url}");
        let page = post_with_csrf(&ada, "/t/acme/account", &url, &[]).await;
        assert_eq!(page.status, 404, "{url}: {}", page.body);
    }
    let url = format!("/t/acme/account/apps/{cid}/revoke");
    assert_eq!(ada.get(&url).await.status, 404);
    let page = post_with_csrf(&ada, "/t/acme/account", &url, &[]).await;
    assert_eq!(page.status, 404, "{}", page.body);
    // The refusal speaks the person's language: French and German say what kind it is.
    let ada_id = s.get("/users?email_prefix=ada%40").await.1["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (locale, title) in [("fr", "Introuvable"), ("de", "Nicht gefunden")] {
        let (st, _) = s
            .patch(&format!("/users/{ada_id}"), json!({ "locale": locale }))
            .await;
        assert_eq!(st, 200);
        let page = ada.get(&url).await;
        assert_eq!(page.status, 404);
        assert!(
            page.body.contains(&format!("<html lang=\"{locale}\">")) && page.body.contains(title),
            "{locale}: {}",
            page.body
        );
    }
    let (st, _) = s
        .patch(&format!("/users/{ada_id}"), json!({ "locale": null }))
        .await;
    assert_eq!(st, 200);
    // Ada's portal never shows Grace's sessions or apps.
    let sessions = ada.get("/t/acme/account/sessions").await.body;
    assert!(offered_sessions(&sessions).is_empty(), "{sessions}");
    assert!(
        ada.get("/t/acme/account/apps")
            .await
            .body
            .contains("No app has access")
    );

    assert!(still_signed_in(&grace_a).await && still_signed_in(&grace_b).await);
    assert_eq!(consents_of(&s, &grace).await.as_array().unwrap().len(), 1);
    for g in &globex {
        assert_eq!(
            g.get("/t/globex/account").await.status,
            200,
            "ivan's sessions stay"
        );
    }
    // An acme session cookie is no session in another tenant.
    let cross = ada.get("/t/globex/account").await;
    assert_eq!(cross.status, 303);
    assert!(cross.location.unwrap().starts_with("/t/globex/login?"));
}

/// The portal's caller, at the service level: it reaches the person themself and nobody else,
/// holds no permission, and cannot change the administrators' fields of its own profile.
async fn the_self_service_caller_reaches_only_the_person(b: Backend) {
    use castellan::admin;
    use castellan::domain::authz::{Caller, Principal};
    use castellan::domain::{DomainError, UserId};
    let s = TestServer::start(b).await;
    let ada = UserId(id_of(&user_with_password(&s, "ada@acme.test").await).await);
    let grace = UserId(id_of(&user_with_password(&s, "grace@acme.test").await).await);
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let me = Caller {
        tenant,
        principal: Principal::SelfService {
            user_id: ada.clone(),
            label: "ada@acme.test (account)".into(),
        },
        permissions: Default::default(),
        ip: None,
    };
    let forbidden = |r: Result<(), DomainError>, what: &str| {
        assert!(matches!(r, Err(DomainError::Forbidden(_))), "{what}: {r:?}");
    };
    let st = &s.store;
    assert!(admin::users::get(st, &me, &ada).await.is_ok());
    forbidden(
        admin::users::get(st, &me, &grace).await.map(drop),
        "read another",
    );
    let rename = || admin::users::UpdateUser {
        given_name: Some(Some("X".into())),
        ..Default::default()
    };
    forbidden(
        admin::users::update(st, &me, &grace, None, rename())
            .await
            .map(drop),
        "update another",
    );
    forbidden(
        admin::consents::list(st, &me, &grace).await.map(drop),
        "another's consents",
    );
    forbidden(
        admin::notifications::prefs(st, &me, &grace).await.map(drop),
        "another's prefs",
    );
    forbidden(
        admin::user_sessions::list(st, &me, &grace).await.map(drop),
        "another's sessions",
    );
    forbidden(
        admin::users::list(st, &me, Default::default())
            .await
            .map(drop),
        "the user list",
    );
    forbidden(
        admin::notifications::list_types(st, &me).await.map(drop),
        "settings",
    );
    for (field, req) in [
        (
            "email",
            admin::users::UpdateUser {
                email: Some("x@acme.test".into()),
                ..Default::default()
            },
        ),
        (
            "username",
            admin::users::UpdateUser {
                username: Some("x".into()),
                ..Default::default()
            },
        ),
        (
            "email_verified",
            admin::users::UpdateUser {
                email_verified: Some(false),
                ..Default::default()
            },
        ),
        (
            "external_id",
            admin::users::UpdateUser {
                external_id: Some(Some("x".into())),
                ..Default::default()
            },
        ),
    ] {
        forbidden(
            admin::users::update(st, &me, &ada, None, req)
                .await
                .map(drop),
            field,
        );
    }
    assert!(
        admin::users::update(st, &me, &ada, None, rename())
            .await
            .is_ok()
    );
}

backends!(
    anonymous_requests_go_to_sign_in,
    every_post_needs_the_sessions_csrf_token,
    another_persons_or_tenants_things_are_not_found,
    the_self_service_caller_reaches_only_the_person,
);
