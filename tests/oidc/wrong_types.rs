//! Issue 12 §7 ("strict input everywhere"): every admin API endpoint that takes a JSON body is
//! sent generated variants of a body it accepts: each field given a value of every other JSON
//! type (and arrays given elements of the wrong type), an unknown field, and bodies that are not
//! objects. Each variant is refused (400 or 422, problem+json) and changes nothing; then the body
//! it was made from is sent and accepted, so the refusals were about the variants.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The ids the bodies and paths refer to.
struct Ids {
    user: String,
    other: String,
    role: String,
    group: String,
    account: String,
    account_group: String,
    client: String,
    permission: String,
    assignment: String,
    membership: String,
}

async fn created(s: &TestServer, path: &str, body: Value) -> Value {
    let (st, v) = s.post(path, body).await;
    assert_eq!(st, StatusCode::CREATED, "{path}: {v}");
    v
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

async fn setup(s: &TestServer) -> Ids {
    let user = id(&created(
        s,
        "/users",
        json!({"email": "target@example.com", "status": "active"}),
    )
    .await);
    let other = id(&s.create_user("other@example.com").await);
    let permission = created(
        s,
        "/permissions",
        json!({"name": "app:reports.read", "description": "Reports"}),
    )
    .await;
    let role = id(&created(
        s,
        "/roles",
        json!({"name": "Readers", "permissions": ["app:reports.read"]}),
    )
    .await);
    let group = id(&created(s, "/groups", json!({"display_name": "Staff"})).await);
    let account = id(&created(s, "/accounts", json!({"name": "Acme", "kind": "customer"})).await);
    let account_group = id(&created(s, "/account-groups", json!({"name": "All"})).await);
    let client = created(
        s,
        "/clients",
        json!({"name": "App", "kind": "public", "redirect_uris": ["https://app.example/cb"],
               "grant_types": ["authorization_code"]}),
    )
    .await;
    let assignment =
        id(&created(s, &format!("/users/{user}/roles"), json!({"role_id": role})).await);
    let membership = id(&created(
        s,
        &format!("/users/{user}/memberships"),
        json!({"account_id": account}),
    )
    .await);
    created(
        s,
        "/attributes",
        json!({"key": "dept", "label": "Department", "kind": "text"}),
    )
    .await;
    created(s, "/notification-types", json!({"key": "news"})).await;
    Ids {
        user,
        other,
        role,
        group,
        account,
        account_group,
        client: id(&client),
        permission: id(&permission),
        assignment,
        membership,
    }
}

/// Every JSON-taking endpoint with a body it accepts.
fn endpoints(i: &Ids) -> Vec<(Method, String, Value)> {
    let u = &i.user;
    vec![
        (
            Method::POST,
            "/users".into(),
            json!({"email": "new@example.com", "username": "new", "email_verified": true,
                   "given_name": "New", "display_name": "New One", "status": "active",
                   "attributes": {"dept": "Sales"}, "role_ids": [i.role], "account_id": i.account}),
        ),
        (
            Method::PATCH,
            format!("/users/{u}"),
            json!({"email": "renamed@example.com", "email_verified": true, "given_name": "T",
                   "display_name": "T T", "locale": "en", "attributes": {"dept": "Ops"}}),
        ),
        (
            Method::PUT,
            format!("/users/{u}/password"),
            json!({"password": "a long enough passphrase 42"}),
        ),
        (
            Method::POST,
            "/roles".into(),
            json!({"name": "Writers", "description": "d", "permissions": ["app:reports.read"]}),
        ),
        (
            Method::PATCH,
            format!("/roles/{}", i.role),
            json!({"name": "Readers 2", "description": "d", "permissions": []}),
        ),
        (
            Method::POST,
            format!("/users/{}/roles", i.other),
            json!({"role_id": i.role, "main": true}),
        ),
        (
            Method::PATCH,
            format!("/users/{u}/roles/{}", i.assignment),
            json!({"main": true}),
        ),
        (
            Method::POST,
            "/groups".into(),
            json!({"display_name": "Sales", "description": "d", "external_id": "x1"}),
        ),
        (
            Method::PATCH,
            format!("/groups/{}", i.group),
            json!({"display_name": "Staff 2", "description": "d"}),
        ),
        (
            Method::POST,
            "/accounts".into(),
            json!({"name": "Other Co", "kind": "provider"}),
        ),
        (
            Method::PATCH,
            format!("/accounts/{}", i.account),
            json!({"name": "Acme 2", "kind": "provider"}),
        ),
        (
            Method::POST,
            "/account-groups".into(),
            json!({"name": "Some", "description": "d", "account_ids": [i.account]}),
        ),
        (
            Method::PATCH,
            format!("/account-groups/{}", i.account_group),
            json!({"name": "All 2", "account_ids": [i.account]}),
        ),
        (
            Method::POST,
            format!("/users/{}/memberships", i.other),
            json!({"account_id": i.account, "start_date": "2026-01-01", "main": true}),
        ),
        (
            Method::PATCH,
            format!("/users/{u}/memberships/{}", i.membership),
            json!({"end_date": "2030-01-01", "main": true}),
        ),
        (
            Method::POST,
            format!("/users/{u}/management"),
            json!({"kind": "user", "id": i.other}),
        ),
        (
            Method::POST,
            "/attributes".into(),
            json!({"key": "level", "label": "Level", "kind": "enum",
                   "options": ["a", "b"], "required": false}),
        ),
        (
            Method::PATCH,
            "/attributes/dept".into(),
            json!({"label": "Dept", "required": false, "description": "d"}),
        ),
        (
            Method::POST,
            "/clients".into(),
            json!({"name": "Other app", "kind": "confidential",
                   "redirect_uris": ["https://other.example/cb"],
                   "grant_types": ["authorization_code", "refresh_token"],
                   "scopes": ["openid", "email"], "first_party": false,
                   "access_token_ttl": 600}),
        ),
        (
            Method::PATCH,
            format!("/clients/{}", i.client),
            json!({"name": "App 2", "first_party": true, "refresh_token_ttl": 3600,
                   "redirect_uris": ["https://app.example/cb2"]}),
        ),
        (
            Method::POST,
            "/permissions".into(),
            json!({"name": "app:reports.write", "description": "d"}),
        ),
        (
            Method::PATCH,
            format!("/permissions/{}", i.permission),
            json!({"description": "All reports"}),
        ),
        (
            Method::PUT,
            format!("/users/{u}/overrides/app:reports.read"),
            json!({"effect": "deny", "reason": "r"}),
        ),
        (
            Method::PATCH,
            "/mfa-settings".into(),
            json!({"policy": "required", "passkey_only_allowed": true}),
        ),
        (
            Method::PATCH,
            "/session-settings".into(),
            json!({"idle_timeout_secs": 600, "remember_me": true}),
        ),
        (
            Method::POST,
            "/notification-types".into(),
            json!({"key": "digest", "description": "d", "default_enabled": true}),
        ),
        (
            Method::PUT,
            format!("/users/{u}/notifications"),
            json!({"news": {"enabled": true, "channels": ["email"]}}),
        ),
        (
            Method::POST,
            "/scim/tokens".into(),
            json!({"name": "Directory"}),
        ),
        (
            Method::PUT,
            "/scim/settings".into(),
            json!({"delete_action": "deactivate", "unique_emails": true}),
        ),
        (
            Method::POST,
            "/tokens".into(),
            json!({"name": "As target", "user_id": u}),
        ),
        // Last: it hands the tenant to the target.
        (
            Method::POST,
            "/owner/transfer".into(),
            json!({"user_id": u}),
        ),
    ]
}

/// Values of every other JSON type than `v`'s (none of them null: an optional field may be null).
fn other_types(v: &Value) -> Vec<Value> {
    let mut out = match v {
        Value::String(_) => vec![json!(12345), json!(true), json!([]), json!({})],
        Value::Number(_) => vec![json!("600"), json!(true), json!([]), json!({})],
        Value::Bool(_) => vec![json!("true"), json!(1), json!([]), json!({})],
        Value::Array(_) => vec![json!("x"), json!(1), json!(true), json!({})],
        Value::Object(_) => vec![json!("x"), json!(1), json!(true), json!([])],
        Value::Null => vec![],
    };
    // The elements of an array, and the values of an object, given wrong types too.
    match v {
        Value::Array(items) if !items.is_empty() => {
            for wrong in other_types(&items[0]) {
                out.push(json!([wrong]));
            }
        }
        Value::Object(map) => {
            for (k, inner) in map {
                for wrong in other_types(inner) {
                    let mut m = map.clone();
                    m.insert(k.clone(), wrong);
                    out.push(Value::Object(m));
                }
            }
        }
        _ => {}
    }
    out
}

/// The refused variants of `body`.
fn variants(body: &Value) -> Vec<Value> {
    let mut out = vec![json!([]), json!("x"), json!(1), json!(null), json!([body])];
    let Value::Object(map) = body else {
        return out;
    };
    for (k, v) in map {
        for wrong in other_types(v) {
            let mut m = map.clone();
            m.insert(k.clone(), wrong);
            out.push(Value::Object(m));
        }
    }
    let mut unknown = map.clone();
    unknown.insert("zz_unknown".into(), json!(1));
    out.push(Value::Object(unknown));
    out
}

/// What a refused request must leave as it was: the stored rows' counts and versions, and what
/// the API shows of everything the bodies touch.
async fn state(s: &TestServer, i: &Ids) -> Vec<Value> {
    let u = &i.user;
    let mut out = vec![json!(crate::hostile::snapshot(s).await)];
    for path in [
        "/users".to_owned(),
        format!("/users/{u}"),
        format!("/users/{u}/roles"),
        format!("/users/{u}/memberships"),
        format!("/users/{u}/management"),
        format!("/users/{u}/overrides"),
        format!("/users/{u}/notifications"),
        format!("/users/{}/roles", i.other),
        "/roles".into(),
        "/groups".into(),
        "/accounts".into(),
        "/account-groups".into(),
        "/attributes".into(),
        "/clients".into(),
        "/permissions".into(),
        "/mfa-settings".into(),
        "/session-settings".into(),
        "/notification-types".into(),
        "/scim/settings".into(),
        "/scim/tokens".into(),
        "/tokens".into(),
        "/owner".into(),
    ] {
        let (st, v) = s.get(&path).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
        out.push(v);
    }
    out
}

async fn wrong_json_types_are_refused_everywhere(b: Backend) {
    let s = TestServer::start(b).await;
    let ids = setup(&s).await;
    let mut before = state(&s, &ids).await;
    let mut sent = 0;
    for (method, path, body) in endpoints(&ids) {
        for variant in variants(&body) {
            let (st, v) = s.call(method.clone(), &path, Some(variant.clone())).await;
            assert!(
                st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::BAD_REQUEST,
                "{method} {path} {variant}: {st} {v}"
            );
            assert_eq!(v["status"], st.as_u16(), "{method} {path}: {v}");
            sent += 1;
        }
        let after = state(&s, &ids).await;
        assert!(
            before == after,
            "{method} {path}: a refused body changed data"
        );
        let (st, v) = s.call(method.clone(), &path, Some(body.clone())).await;
        assert!(st.is_success(), "{method} {path} {body}: {st} {v}");
        before = state(&s, &ids).await;
    }
    eprintln!("{sent} wrongly typed bodies refused");
}

backends!(wrong_json_types_are_refused_everywhere);
