//! The profile policy (issue 14, "the fields the tenant lets users edit"): administrators choose
//! in the console or through `/settings/profile` which profile fields and custom fields people
//! change themselves; the account portal offers exactly those, shows the others read-only, and
//! neither the portal nor the service applies a field the policy keeps, whatever is posted.

use crate::backends;
use crate::browser::{Page, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use crate::console_account::{api_user, id_of, post_with_csrf, signed_in};
use crate::console_apps::{Who, assert_refused, people};
use serde_json::{Value, json};

/// Custom fields of every kind, one keyed like a standard field, one with a hostile label.
async fn custom_fields(s: &TestServer) {
    for def in [
        json!({"key": "badge", "label": "Badge", "kind": "text"}),
        json!({"key": "floor", "label": "<i>Floor</i>", "kind": "number"}),
        json!({"key": "remote", "label": "Remote", "kind": "boolean"}),
        json!({"key": "team", "label": "Team", "kind": "enum", "options": ["red", "blue"]}),
        json!({"key": "phone", "label": "Desk phone", "kind": "text"}),
    ] {
        let (st, v) = s.post("/attributes", def).await;
        assert_eq!(st, 201, "{v}");
    }
}

fn has_input(page: &Page, name: &str) -> bool {
    page.body.contains(&format!("name=\"{name}\""))
}

async fn the_policy_decides_what_the_portal_offers_and_applies(b: Backend) {
    let s = TestServer::start(b).await;
    custom_fields(&s).await;
    let id = id_of(&user_with_password(&s, "ada@acme.test").await).await;
    let (st, v) = s
        .patch(
            &format!("/users/{id}"),
            json!({"phone": "+1 555 0100", "family_name": "Lovelace",
                   "attributes": {"badge": "B-7"}}),
        )
        .await;
    assert_eq!(st, 200, "{v}");

    // The default: every standard field, no custom one.
    let (st, policy) = s.get("/settings/profile").await;
    assert_eq!(st, 200, "{policy}");
    assert_eq!(
        policy["editable"],
        json!([
            "given_name",
            "family_name",
            "display_name",
            "phone",
            "locale",
            "timezone"
        ])
    );
    let b = signed_in(&s, "ada@acme.test").await;
    let page = b.get("/t/acme/account").await;
    for f in ["given_name", "family_name", "phone", "timezone"] {
        assert!(has_input(&page, f), "{f} offered by default");
    }
    assert!(
        !has_input(&page, "attributes.badge"),
        "no custom field by default"
    );

    // Unknown fields are refused by name and change nothing.
    for bad in ["email", "username", "badge", "attributes.nope", "status"] {
        let (st, v) = s
            .put("/settings/profile", json!({"editable": ["phone", bad]}))
            .await;
        assert!(st == 400 || st == 422, "{bad}: {st} {v}");
        assert!(v["detail"].as_str().unwrap().contains(bad), "{v}");
    }
    let (st, v) = s
        .put("/settings/profile", json!({"editable": "phone"}))
        .await;
    assert!(st.is_client_error(), "{st} {v}");
    assert_eq!(s.get("/settings/profile").await.1, policy);

    // Open four custom fields (the one keyed `phone` among them) and the given name only.
    let (st, set) = s
        .put(
            "/settings/profile",
            json!({"editable": ["attributes.team", "given_name", "attributes.floor",
                                "attributes.remote", "attributes.phone", "given_name"]}),
        )
        .await;
    assert_eq!(st, 200, "{set}");
    assert_eq!(
        set["editable"],
        json!([
            "given_name",
            "attributes.floor",
            "attributes.phone",
            "attributes.remote",
            "attributes.team"
        ]),
        "canonical order (standard fields, then custom ones as listed), each once"
    );
    let page = b.get("/t/acme/account").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for f in [
        "given_name",
        "attributes.floor",
        "attributes.remote",
        "attributes.team",
        "attributes.phone",
    ] {
        assert!(has_input(&page, f), "{f} offered: {}", page.body);
    }
    for f in ["family_name", "phone", "attributes.badge", "timezone"] {
        assert!(!has_input(&page, f), "{f} kept by the tenant");
    }
    assert!(page.body.contains("Kept by your organisation"));
    assert!(
        page.body.contains("Lovelace"),
        "kept fields shown read-only"
    );
    assert!(!page.body.contains("<i>Floor</i>"), "labels escaped");
    assert!(page.body.contains("type=\"number\""));
    assert!(page.body.contains("<option value=\"blue\">blue</option>"));

    // A save applies the open fields; kept ones are ignored, however forged.
    let saved = post_with_csrf(
        &b,
        "/t/acme/account",
        "/t/acme/account",
        &[
            ("given_name", "Augusta"),
            ("family_name", "Forged"),
            ("phone", "+1 555 0666"),
            ("attributes.badge", "FORGED"),
            ("attributes.floor", "3"),
            ("attributes.remote", "true"),
            ("attributes.team", "blue"),
            ("attributes.phone", "ext 42"),
        ],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let u = api_user(&s, &id).await;
    assert_eq!(u["given_name"], "Augusta");
    assert_eq!(u["family_name"], "Lovelace");
    assert_eq!(u["phone"], "+1 555 0100");
    assert_eq!(
        u["attributes"],
        json!({"badge": "B-7", "floor": 3, "remote": true, "team": "blue", "phone": "ext 42"})
    );

    // A bad value is an error next to its field, what was typed kept, nothing saved.
    for (field, typed) in [
        ("attributes.floor", "three"),
        ("attributes.team", "green"),
        ("attributes.remote", "maybe"),
    ] {
        let refused = post_with_csrf(
            &b,
            "/t/acme/account",
            "/t/acme/account",
            &[("given_name", "Changed"), (field, typed)],
        )
        .await;
        assert_eq!(refused.status, 400, "{field}: {}", refused.body);
        assert!(
            refused
                .body
                .contains(&format!("<p class=\"field-error\" id=\"e-{field}\">")),
            "{field}: {}",
            refused.body
        );
        assert_eq!(api_user(&s, &id).await, u, "{field}: nothing changed");
    }

    // An emptied open custom field removes the value.
    let saved = post_with_csrf(
        &b,
        "/t/acme/account",
        "/t/acme/account",
        &[("given_name", "Augusta"), ("attributes.phone", "")],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(api_user(&s, &id).await["attributes"].get("phone").is_none());

    // A custom field deleted since drops out of the policy.
    let (st, _) = s.delete("/attributes/floor").await;
    assert!(st.is_success(), "{st}");
    let (_, now) = s.get("/settings/profile").await;
    assert!(
        !now["editable"]
            .as_array()
            .unwrap()
            .contains(&json!("attributes.floor")),
        "{now}"
    );
    // Every change of the policy is audited.
    let (_, audit) = s.get("/audit?action=profile_policy.update").await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}

/// The console's page: who sees it, who may change it (settings.write), CSRF, and a save that
/// is the same as the API's.
async fn the_console_page_is_for_settings_holders(b: Backend) {
    let s = TestServer::start(b).await;
    custom_fields(&s).await;
    let before: Value = s.get("/settings/profile").await.1;
    let url = "/t/acme/console/fields/self-service";
    for (who, b, csrf) in people(&s).await {
        let page = b.get(url).await;
        match who {
            Who::Manager => {
                assert_eq!(page.status, 200, "{}", page.body);
                assert!(!page.body.contains(">Save</button>"), "read only");
                assert!(page.body.contains(" disabled"));
            }
            Who::Administrator | Who::Owner => {
                assert_eq!(page.status, 200, "{}", page.body);
                assert!(page.body.contains(">Save</button>"));
                assert!(!page.body.contains("<i>Floor</i>"), "labels escaped");
            }
            _ => assert_refused(who, "GET", &page),
        }
        let forged = b
            .post_form(
                url,
                &[("csrf", csrf.as_str()), ("open.attributes.badge", "on")],
            )
            .await;
        match who {
            Who::Administrator | Who::Owner => {
                for bad in ["", "forged"] {
                    let page = b
                        .post_form(url, &[("csrf", bad), ("open.attributes.badge", "on")])
                        .await;
                    assert_eq!(page.status, 403, "CSRF");
                }
                assert_eq!(forged.status, 303, "{}", forged.body);
                let (_, now) = s.get("/settings/profile").await;
                assert_eq!(now["editable"], json!(["attributes.badge"]), "{now}");
                // Back as it was, through the form: each switch a field.
                let page = b.get(url).await;
                let csrf = hidden(&page.body, "csrf").unwrap();
                let mut form = vec![("csrf".to_owned(), csrf)];
                for f in before["editable"].as_array().unwrap() {
                    form.push((format!("open.{}", f.as_str().unwrap()), "on".to_owned()));
                }
                let form: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let page = b.post_form(url, &form).await;
                assert_eq!(page.status, 303, "{}", page.body);
                assert_eq!(s.get("/settings/profile").await.1, before);
            }
            Who::Manager => assert_eq!(forged.status, 403, "{}", forged.body),
            _ => assert_refused(who, "POST", &forged),
        }
        assert_eq!(s.get("/settings/profile").await.1, before, "{who:?}");
    }
    // The API: a Manager reads, cannot change.
    let (_, manager) = s.get("/users?email_prefix=manager%40").await;
    let manager_id = manager["items"][0]["id"].as_str().unwrap().to_owned();
    let token = s.token_for("acme", &manager_id).await;
    let (st, _) = s
        .call_as(
            &token,
            reqwest::Method::GET,
            &s.url("/settings/profile"),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let (st, v) = s
        .call_as(
            &token,
            reqwest::Method::PUT,
            &s.url("/settings/profile"),
            Some(json!({"editable": []})),
        )
        .await;
    assert_eq!(st, 403, "{v}");
    assert_eq!(s.get("/settings/profile").await.1, before);
}

backends!(
    the_policy_decides_what_the_portal_offers_and_applies,
    the_console_page_is_for_settings_holders,
);
