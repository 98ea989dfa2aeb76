//! Invitations and the link page in Chromium (issue 15, issue 14 "Getting in"): an
//! administrator invites a person in the console and the person, with the link shown once,
//! sets a password and lands active and signed in; the owner's set-up link used with a passkey
//! reaches the console; an expired invitation link shows its page.

use crate::app::App;
use crate::common::{Backend, TestServer};
use crate::{chromium, input};
use serde_json::json;

async fn an_administrator_invites_and_the_person_lands_signed_in(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let admin = crate::user_with_password(&s, "admin@acme.test").await;
    let role = s.role_id("administrator").await;
    let (st, v) = s
        .post(&format!("/users/{admin}/roles"), json!({"role_id": role}))
        .await;
    assert_eq!(st, 201, "{v}");
    let mut input = input(&s, &app, "admin@acme.test", "");
    input["new_email"] = "ines@acme.test".into();
    input["new_password"] = "an invited person's passphrase".into();
    let result = chromium::run(&tools, "console_invitation", input).await;
    let id = result["id"].as_str().unwrap();
    let (_, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(u["status"], "active", "{u}");
    let (_, inv) = s.get(&format!("/users/{id}/invitation")).await;
    assert_eq!(inv["status"], "accepted", "{inv}");
    assert_eq!(inv["times_sent"], 1);
}

async fn an_expired_invitation_link_shows_its_page(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let (st, v) = s
        .post("/users", json!({"email": "late@acme.test", "invite": true}))
        .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(expire_links(&s).await, 1);
    let mut input = input(&s, &app, "late@acme.test", "");
    input["expired_url"] = v["invitation"]["link"].clone();
    chromium::run(&tools, "invitation_expired", input).await;
}

/// Makes every live invitation link expired.
async fn expire_links(s: &TestServer) -> u64 {
    use sqlx::Connection;
    let sql = "UPDATE user_links SET expires_at = 0 WHERE used_at IS NULL";
    let url = s.db_url();
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql)
            .execute(&mut c)
            .await
            .unwrap()
            .rows_affected()
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql)
            .execute(&mut c)
            .await
            .unwrap()
            .rows_affected()
    }
}

async fn the_owner_sets_up_with_a_passkey_and_reaches_the_console(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let url = castellan::admin::setup_links::issue_owner_setup(
        &s.store,
        &tenant,
        &s.public_url,
        &castellan::domain::audit::Actor::cli(),
    )
    .await
    .unwrap();
    let mut input = input(&s, &app, "owner@acme.test", "");
    input["setup_url"] = url.into();
    let result = chromium::run(&tools, "owner_setup_passkey", input).await;
    assert!(result["recovery_codes"].as_array().unwrap().len() >= 5);
    let (_, owner) = s.get("/owner").await;
    assert_eq!(owner["status"], "active", "{owner}");
    let id = owner["id"].as_str().unwrap();
    let (_, factors) = s.get(&format!("/users/{id}/factors")).await;
    assert!(factors.to_string().contains("passkey"), "{factors}");
    let (_, log) = s.get("/audit?action=user.link.use").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
}

crate::backends!(
    an_administrator_invites_and_the_person_lands_signed_in,
    an_expired_invitation_link_shows_its_page,
    the_owner_sets_up_with_a_passkey_and_reaches_the_console
);
