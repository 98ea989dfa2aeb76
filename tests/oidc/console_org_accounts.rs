//! Accounts and account groups run from the console (issue 14, seed 001): created, edited,
//! filtered by kind, grouped and deleted after a confirmation; names shown escaped.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::console_org::{created, created_id, csrf_of, holder, location, post, signed_in};
use serde_json::{Value, json};

async fn accounts_and_account_groups_are_run_from_the_console(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let browser = signed_in(&s, "admin@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let c = "/t/acme/console";

    for (form, field) in [
        (
            vec![("name", "".to_owned()), ("kind", "customer".to_owned())],
            "name",
        ),
        (
            vec![("name", "Guesty".to_owned()), ("kind", "guest".to_owned())],
            "kind",
        ),
        (
            vec![("name", "Odd".to_owned()), ("kind", "<x>".to_owned())],
            "kind",
        ),
    ] {
        let page = post(&browser, &format!("{c}/accounts"), Some(&csrf), &form).await;
        assert_eq!(page.status, 400, "{form:?}: {}", page.body);
        assert!(
            page.body.contains(&format!("id=\"{field}-error\"")),
            "{form:?}: {}",
            page.body
        );
    }
    let name = "Acme <i>Ltd</i>";
    let loc = location(
        &post(
            &browser,
            &format!("{c}/accounts"),
            Some(&csrf),
            &[("name", name.into()), ("kind", "provider".into())],
        )
        .await,
    );
    let a = created_id(&loc);
    let (_, v) = s.get(&format!("/accounts/{a}")).await;
    assert_eq!(
        (v["name"].as_str(), v["kind"].as_str()),
        (Some(name), Some("provider"))
    );
    let page = browser.get(&loc).await;
    assert!(
        !page.body.contains("<i>Ltd</i>") && page.body.contains("Ltd&#60;/i&#62;")
            || page.body.contains("Ltd&lt;/i&gt;"),
        "{}",
        page.body
    );
    let providers = browser.get(&format!("{c}/accounts?kind=provider")).await;
    assert!(providers.body.contains(&a));
    let customers = browser.get(&format!("{c}/accounts?kind=customer")).await;
    assert!(!customers.body.contains(&a));
    let guests = browser.get(&format!("{c}/accounts?kind=guest")).await;
    assert!(guests.body.contains("Built-in"), "{}", guests.body);
    let bad = browser.get(&format!("{c}/accounts?kind=boss")).await;
    assert_eq!(bad.status, 400);

    // Edited; a person employed there is listed as a current member.
    location(
        &post(
            &browser,
            &format!("{c}/accounts/{a}"),
            Some(&csrf),
            &[("name", "Acme Ltd".into()), ("kind", "customer".into())],
        )
        .await,
    );
    let (_, v) = s.get(&format!("/accounts/{a}")).await;
    assert_eq!(
        (v["name"].as_str(), v["kind"].as_str()),
        (Some("Acme Ltd"), Some("customer"))
    );
    let t = s.create_user("tess@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = created(
        &s,
        &format!("/users/{t}/memberships"),
        json!({"account_id": a, "main": true}),
    )
    .await;
    let page = browser.get(&format!("{c}/accounts/{a}")).await;
    assert!(page.body.contains("tess@acme.test"), "{}", page.body);

    // Account groups: created, given the account from the account's page, renamed, emptied.
    let page = post(
        &browser,
        &format!("{c}/account-groups"),
        Some(&csrf),
        &[("name", "".into())],
    )
    .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("id=\"name-error\""));
    let ag = created_id(&location(
        &post(
            &browser,
            &format!("{c}/account-groups"),
            Some(&csrf),
            &[
                ("name", "North".into()),
                ("description", "Northern customers".into()),
            ],
        )
        .await,
    ));
    location(
        &post(
            &browser,
            &format!("{c}/accounts/{a}/account-groups"),
            Some(&csrf),
            &[("op", "add".into()), ("account_group_id", ag.clone())],
        )
        .await,
    );
    let (_, g) = s.get(&format!("/account-groups/{ag}")).await;
    assert_eq!(g["account_ids"], json!([a]), "{g}");
    let page = browser.get(&format!("{c}/account-groups/{ag}")).await;
    assert!(page.body.contains("Acme Ltd"));
    location(
        &post(
            &browser,
            &format!("{c}/account-groups/{ag}"),
            Some(&csrf),
            &[("name", "North-East".into()), ("description", "".into())],
        )
        .await,
    );
    location(
        &post(
            &browser,
            &format!("{c}/account-groups/{ag}/accounts"),
            Some(&csrf),
            &[("op", "remove".into()), ("account_id", a.clone())],
        )
        .await,
    );
    let (_, g) = s.get(&format!("/account-groups/{ag}")).await;
    assert_eq!(
        (
            g["name"].as_str(),
            g["account_ids"].clone(),
            g["description"].clone()
        ),
        (Some("North-East"), json!([]), Value::Null)
    );

    // An account with members is not deleted (the page says why); without, it is.
    let confirm = browser.get(&format!("{c}/accounts/{a}/delete")).await;
    assert!(confirm.body.contains("Delete account Acme Ltd?"));
    let page = post(
        &browser,
        &format!("{c}/accounts/{a}/delete"),
        Some(&csrf),
        &[],
    )
    .await;
    assert_eq!(page.status, 409, "{}", page.body);
    assert!(page.body.contains("error-box"));
    let (st, _) = s.get(&format!("/accounts/{a}")).await;
    assert_eq!(st, 200);
    let other = created(
        &s,
        "/accounts",
        json!({"name": "Other", "kind": "customer"}),
    )
    .await;
    created(
        &s,
        &format!("/users/{t}/memberships"),
        json!({"account_id": other, "main": true}),
    )
    .await;
    let (st, v) = s.delete(&format!("/users/{t}/memberships/{m}")).await;
    assert_eq!(st, 204, "{v}");
    assert_eq!(
        location(
            &post(
                &browser,
                &format!("{c}/accounts/{a}/delete"),
                Some(&csrf),
                &[]
            )
            .await
        ),
        format!("{c}/accounts?notice=deleted")
    );
    let (st, _) = s.get(&format!("/accounts/{a}")).await;
    assert_eq!(st, 404);
    let confirm = browser
        .get(&format!("{c}/account-groups/{ag}/delete"))
        .await;
    assert!(confirm.body.contains("Delete account group North-East?"));
    location(
        &post(
            &browser,
            &format!("{c}/account-groups/{ag}/delete"),
            Some(&csrf),
            &[],
        )
        .await,
    );
    let (st, _) = s.get(&format!("/account-groups/{ag}")).await;
    assert_eq!(st, 404);
}

backends!(accounts_and_account_groups_are_run_from_the_console);
