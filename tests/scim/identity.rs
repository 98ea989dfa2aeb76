//! Issue 13 §10-13: what makes two users the same user. A deleted user blocks no one; sign-in
//! emails are unique unless the tenant lets users share them, and `/Schemas` says which;
//! canonically equivalent userNames are one; strings as long as Entra ID sends them fit.

use crate::common::Backend;
use crate::{Scim, backends, enc};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn settings(s: &Scim, body: Value) {
    let (st, v) = s.srv.put("/scim/settings", body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

/// In every `scim_delete_action` mode, a deleted user's email and userName are free for a new
/// user (with `deactivate`, the same userName still brings the same user back).
async fn deleted_user_blocks_no_one(b: Backend) {
    let s = Scim::start(b).await;
    for action in ["deactivate", "delete", "anonymise"] {
        settings(&s, json!({"delete_action": action})).await;
        let email = format!("left-{action}@corp.example");
        let old = s
            .user(json!({"userName": format!("left-{action}"),
                "emails": [{"value": email, "primary": true, "type": "work"}]}))
            .await;
        let d = s.delete(&format!("/Users/{old}")).await;
        assert_eq!(d.status, StatusCode::NO_CONTENT, "{action}");
        // Another userName, the same email: a new user.
        let new = s
            .post(
                "/Users",
                json!({"userName": format!("joined-{action}"),
                "emails": [{"value": email.to_uppercase(), "primary": true}]}),
            )
            .await;
        assert_eq!(new.status, StatusCode::CREATED, "{action}: {}", new.body);
        assert_ne!(new.body["id"], old.as_str());
        let found = s
            .get(&format!(
                "/Users?filter={}",
                enc(&format!("emails.value eq \"{email}\""))
            ))
            .await;
        assert_eq!(found.body["totalResults"], 1, "{action}: {}", found.body);
        // The admin API's lookup by email finds the current user, not the removed one.
        let t = s.srv.store.tenant_by_slug("acme").await.unwrap().unwrap();
        let by_email = s
            .srv
            .store
            .user_by_email(&t.id, &email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_email.id.0, new.body["id"].as_str().unwrap(), "{action}");
        // The same userName again.
        let again = s
            .post("/Users", json!({"userName": format!("left-{action}")}))
            .await;
        assert_eq!(
            again.status,
            StatusCode::CREATED,
            "{action}: {}",
            again.body
        );
        if action == "deactivate" {
            assert_eq!(again.body["id"], old.as_str(), "the same user comes back");
        } else {
            assert_ne!(again.body["id"], old.as_str());
        }
    }
    // The admin API pages through users by (email, id): a removed and a new user with the
    // same email are both listed, one page each.
    settings(&s, json!({"delete_action": "deactivate"})).await;
    let gone = s
        .user(json!({"userName": "pg1", "emails": [{"value": "dup@corp.example"}]}))
        .await;
    assert_eq!(
        s.delete(&format!("/Users/{gone}")).await.status,
        StatusCode::NO_CONTENT
    );
    s.user(json!({"userName": "pg2", "emails": [{"value": "dup@corp.example"}]}))
        .await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/users?email_prefix=dup@&limit=1&cursor={c}"),
            None => "/users?email_prefix=dup@&limit=1".to_owned(),
        };
        let (st, page) = s.srv.get(&q).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        for u in page["items"].as_array().unwrap() {
            seen.push(u["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 2, "{seen:?}");
    // A live user's email is still taken, and the 409 names the attribute and the holder.
    let holder = s
        .user(json!({"userName": "holder", "emails": [{"value": "h@corp.example"}]}))
        .await;
    let dup = s
        .post(
            "/Users",
            json!({"userName": "other", "emails": [{"value": "H@corp.example"}]}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    assert_eq!(dup.body["scimType"], "uniqueness");
    let detail = dup.body["detail"].as_str().unwrap();
    assert!(detail.starts_with("emails.value"), "{detail}");
    assert!(detail.contains(&holder), "{detail}");
    let dup = s.post("/Users", json!({"userName": "HOLDER"})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    let detail = dup.body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("userName") && detail.contains(&holder),
        "{detail}"
    );
    // PATCH onto a taken email names the attribute too.
    let p = s
        .patch(&format!("/Users/{}", s.user(json!({"userName": "third"})).await),
            json!([{"op": "add", "path": "emails", "value": [{"value": "h@corp.example", "primary": true}]}]))
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
    assert!(
        p.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("emails.value"),
        "{}",
        p.body
    );
}

fn email_uniqueness(schemas: &Value) -> String {
    let user = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "urn:ietf:params:scim:schemas:core:2.0:User")
        .unwrap();
    let emails = user["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "emails")
        .unwrap();
    let value = emails["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "value")
        .unwrap();
    value["uniqueness"].as_str().unwrap().to_owned()
}

/// Unique sign-in emails by default, declared in `/Schemas`; a tenant may let users share one
/// (an Entra admin account and the person's own), and may go back only once no two share.
async fn shared_emails_setting(b: Backend) {
    let s = Scim::start(b).await;
    assert_eq!(email_uniqueness(&s.get("/Schemas").await.body), "server");
    let one =
        json!({"userName": "ada", "emails": [{"value": "ada@corp.example", "primary": true}]});
    let two = json!({"userName": "ada-admin", "emails": [{"value": "ada@corp.example", "primary": true}]});
    s.user(one).await;
    assert_eq!(
        s.post("/Users", two.clone()).await.status,
        StatusCode::CONFLICT
    );
    settings(
        &s,
        json!({"delete_action": "deactivate", "unique_emails": false}),
    )
    .await;
    assert_eq!(email_uniqueness(&s.get("/Schemas").await.body), "none");
    let admin = s.user(two).await;
    let third = s
        .user(json!({"userName": "ada-ops", "emails": [{"value": "x@corp.example"}]}))
        .await;
    let p = s
        .patch(
            &format!("/Users/{third}"),
            json!([{"op": "replace", "path": "emails", "value": [{"value": "ADA@corp.example"}]}]),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let found = s
        .get(&format!(
            "/Users?filter={}",
            enc("emails.value eq \"ada@corp.example\"")
        ))
        .await;
    assert_eq!(found.body["totalResults"], 3, "{}", found.body);
    // The email alone names no one; the username does.
    let t = s.srv.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let store = &s.srv.store;
    assert!(
        store
            .user_for_sign_in(&t.id, "ada@corp.example")
            .await
            .unwrap()
            .is_none()
    );
    let u = store
        .user_for_sign_in(&t.id, "ADA-admin")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.id.0, admin);
    // Back to unique: refused while three share, accepted once each has their own.
    let (st, v) = s
        .srv
        .put(
            "/scim/settings",
            json!({"delete_action": "deactivate", "unique_emails": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    for id in [&admin, &third] {
        let d = s.delete(&format!("/Users/{id}")).await;
        assert_eq!(d.status, StatusCode::NO_CONTENT);
    }
    settings(
        &s,
        json!({"delete_action": "deactivate", "unique_emails": true}),
    )
    .await;
    assert_eq!(email_uniqueness(&s.get("/Schemas").await.body), "server");
    assert!(
        store
            .user_for_sign_in(&t.id, "ada@corp.example")
            .await
            .unwrap()
            .is_some()
    );
}

/// Item 11: the tenant setting that lets users share a sign-in email is one rule of the store,
/// whoever writes the user: users created and changed through the admin API share emails
/// exactly as SCIM's do (and sign in by username when the email is ambiguous).
async fn shared_emails_through_admin_api(b: Backend) {
    let s = Scim::start(b).await;
    let store = &s.srv.store;
    let t = store.tenant_by_slug("acme").await.unwrap().unwrap();
    let admin_user = |username: &str, email: &str| json!({"username": username, "email": email});
    let (st, v) = s
        .srv
        .post("/users", admin_user("ada", "ada@corp.example"))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // Unique by default, for the admin API as for SCIM.
    let (st, v) = s
        .srv
        .post("/users", admin_user("ada2", "ADA@corp.example"))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (st, other) = s
        .srv
        .post("/users", admin_user("ops", "ops@corp.example"))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{other}");
    let other = other["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .srv
        .patch(
            &format!("/users/{other}"),
            json!({"email": "ada@corp.example"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    settings(
        &s,
        json!({"delete_action": "deactivate", "unique_emails": false}),
    )
    .await;
    // Created after the setting changed: shared.
    let (st, second) = s
        .srv
        .post("/users", admin_user("ada2", "ADA@corp.example"))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{second}");
    let (st, third) = s
        .srv
        .post("/users", admin_user("ada3", "ada@Corp.example"))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{third}");
    // Changed after it: shared.
    let (st, v) = s
        .srv
        .patch(
            &format!("/users/{other}"),
            json!({"email": "ada@corp.example"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // And SCIM's users share with the admin API's.
    s.user(
        json!({"userName": "ada-scim", "emails": [{"value": "ada@corp.example", "primary": true}]}),
    )
    .await;
    let found = s
        .get(&format!(
            "/Users?filter={}",
            enc("emails.value eq \"ada@corp.example\"")
        ))
        .await;
    assert_eq!(found.body["totalResults"], 5, "{}", found.body);
    assert!(
        store
            .user_for_sign_in(&t.id, "ada@corp.example")
            .await
            .unwrap()
            .is_none()
    );
    let u = store
        .user_for_sign_in(&t.id, "ADA2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.id.0, second["id"].as_str().unwrap());
    // Back to unique: refused while they share.
    let (st, v) = s
        .srv
        .put(
            "/scim/settings",
            json!({"delete_action": "deactivate", "unique_emails": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
}

/// A small deterministic generator (xorshift), so that failures replay.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// Letters with a canonical decomposition (precomposed, decomposed), and plain ones.
const COMPOSED: [(&str, &str); 8] = [
    ("ë", "e\u{308}"),
    ("É", "E\u{301}"),
    ("å", "a\u{30a}"),
    ("Ñ", "N\u{303}"),
    ("ö", "o\u{308}"),
    ("ç", "c\u{327}"),
    ("ǖ", "u\u{308}\u{304}"),
    ("ệ", "e\u{323}\u{302}"),
];
const PLAIN: [&str; 6] = ["z", "O", "ß", "-", "k", "Ø"];

/// Generated names in NFC and NFD: the NFD spelling (in any case) of a taken userName is
/// taken; `straße` and `STRASSE` are two names; a stored name is in NFC.
async fn unicode_equivalent_user_names(b: Backend) {
    let s = Scim::start(b).await;
    let mut rng = Rng(0x5eed_0013);
    let cases = std::env::var("SCIM_NFC_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let mut seen = std::collections::HashSet::new();
    for case in 0..cases {
        let (mut nfc, mut nfd) = (format!("n{case}-"), format!("n{case}-"));
        for _ in 0..1 + rng.next() % 6 {
            if rng.next().is_multiple_of(2) {
                let (c, d) = rng.pick(&COMPOSED);
                nfc.push_str(c);
                nfd.push_str(d);
            } else {
                let p = rng.pick(&PLAIN);
                nfc.push_str(p);
                nfd.push_str(p);
            }
        }
        if !seen.insert(nfc.clone()) {
            continue;
        }
        let (first, second) = if rng.next().is_multiple_of(2) {
            (&nfd, &nfc)
        } else {
            (&nfc, &nfd)
        };
        let made = s.post("/Users", json!({"userName": first})).await;
        assert_eq!(made.status, StatusCode::CREATED, "{first:?}: {}", made.body);
        assert_eq!(made.body["userName"], nfc.as_str(), "stored in NFC");
        // Uppercase too (but `ß` would become `SS`, another name).
        let second = if rng.next().is_multiple_of(2) && !second.contains('ß') {
            second.to_uppercase()
        } else {
            second.clone()
        };
        let dup = s.post("/Users", json!({"userName": second})).await;
        assert_eq!(
            dup.status,
            StatusCode::CONFLICT,
            "{first:?} then {second:?}: {}",
            dup.body
        );
        let found = s
            .get(&format!(
                "/Users?filter={}",
                enc(&format!("userName eq \"{nfc}\""))
            ))
            .await;
        assert_eq!(found.body["totalResults"], 1, "{nfc:?}: {}", found.body);
    }
    s.user(json!({"userName": "straße"})).await;
    s.user(json!({"userName": "STRASSE"})).await;
}

/// Lengths Entra ID allows: a 256-character displayName (and longer free text), a
/// 256-character group name; beyond the documented bounds, 400 invalidValue, never 500.
async fn entra_lengths(b: Backend) {
    let s = Scim::start(b).await;
    let long = "Ä".repeat(256);
    let text = "x".repeat(1024);
    let u = s
        .post("/Users", json!({"userName": format!("{}@corp.example", "u".repeat(113 - 15)),
            "displayName": long, "title": text, "nickName": long,
            "name": {"givenName": long, "familyName": long},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": long, "organization": long},
            "addresses": [{"streetAddress": text, "locality": long, "region": long, "country": "DE"}]}))
        .await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.body);
    let id = u.body["id"].as_str().unwrap();
    let read = s.get(&format!("/Users/{id}")).await.body;
    assert_eq!(read["displayName"], long.as_str());
    assert_eq!(read["title"], text.as_str());
    let g = s.post("/Groups", json!({"displayName": long})).await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    for body in [
        json!({"userName": "too-long", "displayName": "x".repeat(1025)}),
        json!({"userName": "u".repeat(257)}),
    ] {
        let r = s.post("/Users", body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.body["scimType"], "invalidValue");
    }
    let r = s
        .post("/Groups", json!({"displayName": "Ä".repeat(257)}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
}

backends!(
    deleted_user_blocks_no_one,
    shared_emails_setting,
    shared_emails_through_admin_api,
    unicode_equivalent_user_names,
    entra_lengths
);
