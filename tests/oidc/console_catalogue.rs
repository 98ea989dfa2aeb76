//! The console's catalogue pages over HTTP (issue 14): permissions, custom fields and kinds of
//! notification. Who may see and change them is exactly what the admin API allows (a matrix
//! over every route and kind of person); refusals are field errors with what was typed kept;
//! POSTs need the CSRF token; built-in entries and other tenants' entries cannot be touched.

use crate::backends;
use crate::browser::{Browser, PASSWORD, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::{Value, json};

async fn signed_in(s: &TestServer, email: &str) -> Browser {
    let b = Browser::new(s);
    let page = b.sign_in("/t/acme/login", email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    b
}

async fn person_with_role(s: &TestServer, email: &str, template: &str) -> String {
    let id = user_with_password(s, email).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    if !template.is_empty() {
        let role = s.role_id(template).await;
        let (st, v) = s
            .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
            .await;
        assert_eq!(st, 201, "{v}");
    }
    id
}

/// What the API shows of the three catalogues, to compare before and after a refusal.
async fn state(s: &TestServer) -> Value {
    let (_, p) = s.get("/permissions").await;
    let (_, a) = s.get("/attributes").await;
    let (_, n) = s.get("/notification-types").await;
    json!([p, a, n])
}

async fn a_post(b: &Browser, url: &str, form: &[(&str, &str)]) -> crate::browser::Page {
    let page = b.get(url).await;
    let csrf = hidden(&page.body, "csrf").unwrap_or_default();
    let mut f = vec![("csrf", csrf.as_str())];
    f.extend_from_slice(form);
    b.post_form(url, &f).await
}

async fn who_may_see_and_change_the_catalogues(b: Backend) {
    let s = TestServer::start(b).await;
    person_with_role(&s, "admin@acme.test", "administrator").await;
    person_with_role(&s, "manager@acme.test", "manager").await;
    person_with_role(&s, "plain@acme.test", "").await;
    let (st, perm) = s
        .post(
            "/permissions",
            json!({"name": "billing:read", "description": "See <b>bills</b>"}),
        )
        .await;
    assert_eq!(st, 201, "{perm}");
    let perm = perm["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .post(
            "/attributes",
            json!({"key": "desk", "label": "Desk <i>no</i>", "kind": "text"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = s
        .post(
            "/notification-types",
            json!({"key": "billing.ready", "description": "Bills"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");

    let pages = [
        "/t/acme/console/permissions",
        &format!("/t/acme/console/permissions/{perm}"),
        &format!("/t/acme/console/permissions/{perm}/delete"),
        "/t/acme/console/fields",
        "/t/acme/console/fields/new",
        "/t/acme/console/fields/desk",
        "/t/acme/console/fields/desk/delete",
        "/t/acme/console/notifications",
        "/t/acme/console/notifications/billing.ready/delete",
    ];
    // Lists are readable by a manager (roles.read, settings.read); forms only by writers.
    let readable_by_manager = |p: &str| {
        p.ends_with("/permissions") || p.ends_with("/fields") || p.ends_with("/notifications")
    };
    let anon = Browser::new(&s);
    let plain = signed_in(&s, "plain@acme.test").await;
    let manager = signed_in(&s, "manager@acme.test").await;
    let admin = signed_in(&s, "admin@acme.test").await;
    for p in pages {
        let r = anon.get(p).await;
        assert_eq!(r.status, 303, "{p}");
        let r = plain.get(p).await;
        assert!(
            r.body.contains("No administration rights"),
            "{p}: {}",
            r.body
        );
        let r = manager.get(p).await;
        let expected = if readable_by_manager(p) { 200 } else { 403 };
        assert_eq!(r.status, expected, "manager {p}: {}", r.body);
        if expected == 200 {
            assert!(
                !r.body.contains("/delete\""),
                "no delete link for a reader: {p}"
            );
            assert!(
                !r.body.contains("method=\"post\" action=\"/t/acme/console/"),
                "no form: {p}"
            );
        }
        let r = admin.get(p).await;
        assert_eq!(r.status, 200, "admin {p}: {}", r.body);
        assert!(
            !r.body.contains("<b>bills</b>") && !r.body.contains("<i>no</i>"),
            "escaped: {p}"
        );
    }
    // Every POST a manager forges is refused and changes nothing; so is one without CSRF.
    let before = state(&s).await;
    let posts: [(&str, Vec<(&str, &str)>); 8] = [
        ("/t/acme/console/permissions", vec![("name", "x:y")]),
        (
            &format!("/t/acme/console/permissions/{perm}"),
            vec![("description", "changed")],
        ),
        (
            &format!("/t/acme/console/permissions/{perm}/delete"),
            vec![],
        ),
        (
            "/t/acme/console/fields/new",
            vec![("key", "k2"), ("label", "K"), ("kind", "text")],
        ),
        ("/t/acme/console/fields/desk", vec![("label", "changed")]),
        ("/t/acme/console/fields/desk/delete", vec![]),
        ("/t/acme/console/notifications", vec![("key", "x.y")]),
        ("/t/acme/console/notifications/billing.ready/delete", vec![]),
    ];
    for (url, form) in &posts {
        let mut with_token = vec![("csrf", "whatever")];
        with_token.extend_from_slice(form);
        let r = manager.post_form(url, &with_token).await;
        assert_eq!(r.status, 403, "manager POST {url}: {}", r.body);
        let r = admin.post_form(url, form).await;
        assert_eq!(r.status, 403, "admin POST {url} without CSRF: {}", r.body);
        let r = plain.post_form(url, form).await;
        assert!(r.body.contains("No administration rights"), "{url}");
    }
    assert_eq!(state(&s).await, before, "nothing changed");

    // Built-in permissions and notification types are not changed here.
    let (_, all) = s.get("/permissions").await;
    let builtin = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["builtin"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin
        .get(&format!("/t/acme/console/permissions/{builtin}"))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = a_post(
        &admin,
        &format!("/t/acme/console/permissions/{builtin}/delete"),
        &[],
    )
    .await;
    assert_eq!(r.status, 403);
    // Another tenant's permission is not found here.
    let (other, _) = castellan::cli::create_tenant(&s.store, "other", "Other", "boss@other.test")
        .await
        .unwrap();
    let foreign = s
        .store
        .list_permissions(&other.id)
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    for url in [
        format!("/t/acme/console/permissions/{}", foreign.id),
        format!("/t/acme/console/permissions/{}/delete", foreign.id),
    ] {
        assert_eq!(admin.get(&url).await.status, 404, "{url}");
    }
    assert_eq!(state(&s).await, before, "nothing changed");
}

async fn catalogues_are_edited_with_field_errors(b: Backend) {
    let s = TestServer::start(b).await;
    person_with_role(&s, "admin@acme.test", "administrator").await;
    let admin = signed_in(&s, "admin@acme.test").await;

    // Permissions: a bad name, the reserved namespace and a duplicate are field errors.
    let url = "/t/acme/console/permissions";
    for (name, status, says) in [
        ("Not A Name", 422, "e-name"),
        ("castellan:users.read", 422, "reserved"),
    ] {
        let r = a_post(&admin, url, &[("name", name), ("description", "typed <b>")]).await;
        assert_eq!(r.status, status, "{name}: {}", r.body);
        assert!(r.body.contains(says), "{name}: {}", r.body);
        assert!(r.body.contains("typed &#60;b&#62;") || r.body.contains("typed &lt;b&gt;"));
    }
    let r = a_post(
        &admin,
        url,
        &[("name", "billing:read"), ("description", "See bills")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = a_post(&admin, url, &[("name", "billing:read")]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let (_, all) = s.get("/permissions").await;
    let p = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "billing:read")
        .unwrap()
        .clone();
    let edit = format!("{url}/{}", p["id"].as_str().unwrap());
    let r = a_post(&admin, &edit, &[("description", "See and print bills")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let long = "x".repeat(600);
    let r = a_post(&admin, &edit, &[("description", &long)]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let (_, all) = s.get("/permissions").await;
    assert!(all.to_string().contains("See and print bills"));
    let r = a_post(&admin, &format!("{edit}/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (_, all) = s.get("/permissions").await;
    assert!(!all.to_string().contains("billing:read"));

    // Custom fields: bad key, enum without values, then a good enum; requiring a field that
    // people lack needs a default, said next to the default.
    let new = "/t/acme/console/fields/new";
    let r = a_post(
        &admin,
        new,
        &[("key", "Bad Key"), ("label", "L"), ("kind", "text")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("e-key"), "{}", r.body);
    let r = a_post(
        &admin,
        new,
        &[("key", "grade"), ("label", "Grade"), ("kind", "enum")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = a_post(
        &admin,
        new,
        &[("key", "grade"), ("label", "Grade"), ("kind", "wat")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("e-kind"));
    let r = a_post(
        &admin,
        new,
        &[
            ("key", "grade"),
            ("label", "Grade"),
            ("kind", "enum"),
            ("options", "junior, senior"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (_, a) = s.get("/attributes/grade").await;
    assert_eq!(a["options"], json!(["junior", "senior"]), "{a}");
    let r = a_post(
        &admin,
        "/t/acme/console/fields/grade",
        &[
            ("label", "Grade"),
            ("options", "junior, senior"),
            ("required", "true"),
        ],
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("e-default"), "{}", r.body);
    let r = a_post(
        &admin,
        "/t/acme/console/fields/grade",
        &[
            ("label", "Grade"),
            ("options", "junior, senior"),
            ("required", "true"),
            ("default", "junior"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (_, a) = s.get("/attributes/grade").await;
    assert_eq!(a["required"], true, "{a}");
    let (_, me) = s.get("/users?email_prefix=admin%40").await;
    assert_eq!(me["items"][0]["attributes"]["grade"], "junior");
    let r = a_post(&admin, "/t/acme/console/fields/grade/delete", &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (st, _) = s.get("/attributes/grade").await;
    assert_eq!(st, 404);

    // Notifications: a bad key, a duplicate, then one added and removed.
    let url = "/t/acme/console/notifications";
    let r = a_post(&admin, url, &[("key", "Not OK!")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("e-key"));
    let r = a_post(
        &admin,
        url,
        &[("key", "billing.ready"), ("description", "Bills")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = a_post(&admin, url, &[("key", "billing.ready")]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let (_, t) = s.get("/notification-types").await;
    let ours = t
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "billing.ready")
        .unwrap()
        .clone();
    assert_eq!(
        ours["default_enabled"], false,
        "the box was not ticked: {ours}"
    );
    let r = a_post(&admin, &format!("{url}/billing.ready/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (_, t) = s.get("/notification-types").await;
    assert!(!t.to_string().contains("billing.ready"));
}

backends!(
    who_may_see_and_change_the_catalogues,
    catalogues_are_edited_with_field_errors,
);
