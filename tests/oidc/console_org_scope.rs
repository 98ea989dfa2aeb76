//! The console's organisation pages out of reach (issue 14): another tenant's objects, and for
//! a Manager everyone outside the accounts they manage ("Delegated administration").

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::console_employment::memberships_of;
use crate::console_org::{created, csrf_of, holder, post, signed_in};
use serde_json::{Value, json};

async fn another_tenants_objects_are_out_of_reach(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let t = s.create_user("tess@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = created(
        &s,
        "/accounts",
        json!({"name": "Alpha", "kind": "customer"}),
    )
    .await;
    let group = created(&s, "/groups", json!({"display_name": "Ours"})).await;
    let ag = created(&s, "/account-groups", json!({"name": "Ours"})).await;
    let token = s.other_tenant("globex").await;
    let api = |path: &str| format!("{}/t/globex/api/v1{path}", s.base);
    let call = |method: reqwest::Method, path: String, body: Option<Value>| {
        let url = api(&path);
        let token = token.clone();
        let s = &s;
        async move { s.call_as(&token, method, &url, body).await }
    };
    let (_, u) = call(
        reqwest::Method::POST,
        "/users".into(),
        Some(json!({"email": "bob@globex.test"})),
    )
    .await;
    let ub = u["id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        reqwest::Method::POST,
        "/accounts".into(),
        Some(json!({"name": "Theirs", "kind": "customer"})),
    )
    .await;
    let ab = v["id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        reqwest::Method::POST,
        "/groups".into(),
        Some(json!({"display_name": "Theirs"})),
    )
    .await;
    let gb = v["id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        reqwest::Method::POST,
        "/account-groups".into(),
        Some(json!({"name": "Theirs"})),
    )
    .await;
    let agb = v["id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        reqwest::Method::POST,
        format!("/users/{ub}/memberships"),
        Some(json!({"account_id": ab, "main": true})),
    )
    .await;
    let mb = v["id"].as_str().unwrap().to_owned();
    let theirs = || async {
        let mut all = Vec::new();
        for p in [
            "/groups".to_owned(),
            "/accounts".into(),
            "/account-groups".into(),
            format!("/users/{ub}/memberships"),
            format!("/users/{ub}/management"),
        ] {
            all.push(call(reqwest::Method::GET, p, None).await.1);
        }
        all
    };
    let before_theirs = theirs().await;
    let ours = json!([
        s.get("/groups").await.1,
        s.get("/account-groups").await.1,
        s.get(&format!("/users/{t}/memberships")).await.1,
        s.get(&format!("/users/{t}/management")).await.1
    ]);

    let browser = signed_in(&s, "admin@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let c = "/t/acme/console";
    for url in [
        format!("{c}/groups/{gb}"),
        format!("{c}/groups/{gb}/delete"),
        format!("{c}/accounts/{ab}"),
        format!("{c}/accounts/{ab}/delete"),
        format!("{c}/account-groups/{agb}"),
        format!("{c}/users/{ub}/memberships"),
        format!("{c}/users/{ub}/memberships/{mb}"),
        format!("{c}/users/{t}/memberships/{mb}"),
    ] {
        let page = browser.get(&url).await;
        assert_eq!(page.status, 404, "{url}: {}", page.body);
    }
    for (url, form) in [
        (
            format!("{c}/groups/{gb}"),
            vec![("display_name", "Mine".to_owned())],
        ),
        (format!("{c}/groups/{gb}/delete"), vec![]),
        (
            format!("{c}/groups/{group}/members"),
            vec![("op", "add".into()), ("user_id", ub.clone())],
        ),
        (
            format!("{c}/accounts/{ab}"),
            vec![("name", "Mine".into()), ("kind", "customer".into())],
        ),
        (format!("{c}/accounts/{ab}/delete"), vec![]),
        (
            format!("{c}/accounts/{a}/account-groups"),
            vec![("op", "add".into()), ("account_group_id", agb.clone())],
        ),
        (
            format!("{c}/account-groups/{ag}/accounts"),
            vec![("op", "add".into()), ("account_id", ab.clone())],
        ),
        (format!("{c}/account-groups/{agb}/delete"), vec![]),
        (
            format!("{c}/users/{ub}/memberships"),
            vec![("account_id", a.clone())],
        ),
        (format!("{c}/users/{ub}/memberships/{mb}/delete"), vec![]),
        (
            format!("{c}/users/{t}/memberships"),
            vec![("account_id", ab.clone())],
        ),
        (
            format!("{c}/users/{t}/management"),
            vec![("kind", "account".into()), ("account_id", ab.clone())],
        ),
        (
            format!("{c}/users/{t}/management"),
            vec![
                ("kind", "user".into()),
                ("target_email", "bob@globex.test".into()),
            ],
        ),
    ] {
        let page = post(&browser, &url, Some(&csrf), &form).await;
        assert!(
            matches!(page.status, 400 | 404),
            "{url}: {} {}",
            page.status,
            page.body
        );
    }
    assert_eq!(theirs().await, before_theirs, "nothing of theirs changed");
    let after = json!([
        s.get("/groups").await.1,
        s.get("/account-groups").await.1,
        s.get(&format!("/users/{t}/memberships")).await.1,
        s.get(&format!("/users/{t}/management")).await.1
    ]);
    assert_eq!(after, ours, "nothing of ours changed");
}

/// A Manager who manages an account sees its current members in the user list and nobody
/// else, and cannot open or change anyone outside (issue 14, "Delegated administration").
async fn a_manager_of_an_account_sees_and_changes_only_its_people(b: Backend) {
    let s = TestServer::start(b).await;
    let manager = holder(&s, "manager@acme.test", "manager").await;
    let t = s.create_user("tess@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = s.create_user("otto@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = created(
        &s,
        "/accounts",
        json!({"name": "Alpha", "kind": "customer"}),
    )
    .await;
    let other = created(
        &s,
        "/accounts",
        json!({"name": "Omega", "kind": "customer"}),
    )
    .await;
    created(
        &s,
        &format!("/users/{t}/memberships"),
        json!({"account_id": a, "main": true}),
    )
    .await;
    created(
        &s,
        &format!("/users/{o}/memberships"),
        json!({"account_id": other, "main": true}),
    )
    .await;
    created(
        &s,
        &format!("/users/{manager}/management"),
        json!({"kind": "account", "id": a}),
    )
    .await;
    let browser = signed_in(&s, "manager@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let list = browser.get("/t/acme/console/users").await;
    assert!(list.body.contains("tess@acme.test"), "{}", list.body);
    assert!(!list.body.contains("otto@acme.test"));
    let account = browser
        .get(&format!("/t/acme/console/accounts/{other}"))
        .await;
    assert!(
        !account.body.contains("otto@acme.test"),
        "members outside the scope are not listed"
    );
    // Their own person's employment: shown with its forms, but no management forms.
    let page = browser
        .get(&format!("/t/acme/console/users/{t}/memberships"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Add an employment") && !page.body.contains("Manage account"));
    assert!(
        page.body.contains("You (manager@acme.test)"),
        "{}",
        page.body
    );
    // Only the accounts they manage are offered, and only those employments can be changed.
    assert!(
        page.body
            .contains(&format!("name=\"account_id\" value=\"{a}\"")),
        "{}",
        page.body
    );
    assert!(
        !page
            .body
            .contains(&format!("name=\"account_id\" value=\"{other}\""))
    );
    let guest = memberships_of(&s, &t)
        .await
        .into_iter()
        .find(|m| m["account_name"] == "Guest")
        .unwrap();
    let guest_id = guest["id"].as_str().unwrap();
    assert!(
        !page.body.contains(&format!("memberships/{guest_id}\"")),
        "the guest membership is not offered"
    );
    assert_eq!(page.body.matches("Edit dates<").count(), 1, "{}", page.body);
    let before = (
        memberships_of(&s, &o).await,
        s.get(&format!("/users/{o}")).await.1,
    );
    for url in [
        format!("/t/acme/console/users/{o}"),
        format!("/t/acme/console/users/{o}/memberships"),
    ] {
        assert_eq!(browser.get(&url).await.status, 403, "{url}");
    }
    for (url, form) in [
        (
            format!("/t/acme/console/users/{o}/memberships"),
            vec![("account_id", a.clone())],
        ),
        (
            format!("/t/acme/console/users/{o}"),
            vec![("given_name", "Hacked".to_owned())],
        ),
        (
            format!("/t/acme/console/users/{t}/management"),
            vec![
                ("kind", "user".into()),
                ("target_email", "otto@acme.test".into()),
            ],
        ),
        (
            format!("/t/acme/console/users/{t}/management"),
            vec![("kind", "user".into()), ("target_email", "".into())],
        ),
    ] {
        let page = post(&browser, &url, Some(&csrf), &form).await;
        assert_eq!(page.status, 403, "{url}: {}", page.body);
    }
    assert_eq!(
        (
            memberships_of(&s, &o).await,
            s.get(&format!("/users/{o}")).await.1
        ),
        before
    );
    let (_, v) = s.get(&format!("/users/{t}/management")).await;
    assert_eq!(v["items"], json!([]));
}

backends!(
    another_tenants_objects_are_out_of_reach,
    a_manager_of_an_account_sees_and_changes_only_its_people
);
