//! A user's employment (dated memberships, one main account) and management set from the
//! console (issue 14, seed 001: "Employment" and "Management").

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::console_org::{created, csrf_of, holder, location, post, signed_in};
use serde_json::{Value, json};

/// The memberships of `user` through the admin API.
pub(crate) async fn memberships_of(s: &TestServer, user: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/users/{user}/memberships")).await;
    assert_eq!(st, 200, "{v}");
    v["items"].as_array().unwrap().clone()
}

async fn employment_and_management_are_set_from_the_console(b: Backend) {
    let s = TestServer::start(b).await;
    holder(&s, "admin@acme.test", "administrator").await;
    let t = s.create_user("tess@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mona = s.create_user("mona@acme.test").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = created(
        &s,
        "/accounts",
        json!({"name": "Alpha", "kind": "customer"}),
    )
    .await;
    let bee = created(&s, "/accounts", json!({"name": "Beta", "kind": "provider"})).await;
    let ag = created(&s, "/account-groups", json!({"name": "Region"})).await;
    let browser = signed_in(&s, "admin@acme.test").await;
    let csrf = csrf_of(&browser).await;
    let user_page = browser.get(&format!("/t/acme/console/users/{t}")).await;
    let url = format!("/t/acme/console/users/{t}/memberships");
    assert!(
        user_page.body.contains(&format!("href=\"{url}\"")),
        "linked from the user page"
    );
    let page = browser.get(&url).await;
    // A new person is a guest (the built-in account) until employed elsewhere.
    assert!(page.body.contains(">Guest</a>"), "{}", page.body);
    assert!(page.body.contains("Manages nobody."));
    let guest_only = memberships_of(&s, &t).await;
    assert_eq!(guest_only.len(), 1);

    // Date errors are shown on their field, with what was typed.
    for (start, end, field) in [
        ("2024-05-01", "2024-04-30", "m-end-error"),
        ("2024-02-30", "", "m-start-error"),
        ("", "tomorrow", "m-end-error"),
    ] {
        let page = post(
            &browser,
            &url,
            Some(&csrf),
            &[
                ("account_id", a.clone()),
                ("start_date", start.into()),
                ("end_date", end.into()),
            ],
        )
        .await;
        assert_eq!(page.status, 400, "{start} {end}: {}", page.body);
        assert!(
            page.body.contains(&format!("id=\"{field}\"")),
            "{start} {end}: {}",
            page.body
        );
        assert!(page.body.contains(&format!("aria-describedby=\"{field}\"")));
        assert!(page.body.contains(&format!("value=\"{start}\"")));
    }
    let page = post(&browser, &url, Some(&csrf), &[("account_id", "x".into())]).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("id=\"m-account-error\""));
    assert_eq!(
        memberships_of(&s, &t).await,
        guest_only,
        "nothing was added"
    );

    // Two employments, the first the main one; then the main account moves.
    let loc = location(
        &post(
            &browser,
            &url,
            Some(&csrf),
            &[
                ("account_id", a.clone()),
                ("start_date", "2020-01-01".into()),
                ("main", "on".into()),
            ],
        )
        .await,
    );
    assert!(loc.ends_with("?notice=added"));
    location(
        &post(
            &browser,
            &url,
            Some(&csrf),
            &[
                ("account_id", bee.clone()),
                ("end_date", "2999-12-31".into()),
            ],
        )
        .await,
    );
    let ms = memberships_of(&s, &t).await;
    let m_a = ms
        .iter()
        .find(|m| m["account_id"] == a.as_str())
        .unwrap()
        .clone();
    let m_b = ms
        .iter()
        .find(|m| m["account_id"] == bee.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            m_a["main"].clone(),
            m_a["start_date"].clone(),
            m_a["end_date"].clone()
        ),
        (json!(true), json!("2020-01-01"), Value::Null)
    );
    assert_eq!(
        (m_b["main"].clone(), m_b["end_date"].clone()),
        (json!(false), json!("2999-12-31"))
    );
    let (ma, mb) = (m_a["id"].as_str().unwrap(), m_b["id"].as_str().unwrap());
    // A role held in an account is shown with that employment.
    let buyer = created(&s, "/roles", json!({"name": "Buyer", "permissions": []})).await;
    let (st, v) = s
        .post(
            &format!("/users/{t}/roles"),
            json!({"role_id": buyer, "account_id": bee}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let page = browser.get(&url).await;
    assert!(page.body.contains("status-main") && page.body.contains("Current"));
    assert!(page.body.contains("Roles here: Buyer"), "{}", page.body);
    assert_eq!(page.body.matches("Roles here:").count(), 1);
    location(&post(&browser, &format!("{url}/{mb}/main"), Some(&csrf), &[]).await);
    let ms = memberships_of(&s, &t).await;
    assert_eq!(ms.iter().filter(|m| m["main"] == true).count(), 1);
    assert!(ms.iter().any(|m| m["id"] == mb && m["main"] == true));

    // Dates edited on their own page: an end before the start is refused on the field.
    let edit = browser.get(&format!("{url}/{ma}")).await;
    assert!(edit.body.contains("value=\"2020-01-01\""), "{}", edit.body);
    let page = post(
        &browser,
        &format!("{url}/{ma}"),
        Some(&csrf),
        &[
            ("start_date", "2020-01-01".into()),
            ("end_date", "2019-12-31".into()),
        ],
    )
    .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("id=\"end_date-error\"") && page.body.contains("value=\"2019-12-31\"")
    );
    location(
        &post(
            &browser,
            &format!("{url}/{ma}"),
            Some(&csrf),
            &[
                ("start_date", "2020-01-01".into()),
                ("end_date", "2020-12-31".into()),
            ],
        )
        .await,
    );
    let ms = memberships_of(&s, &t).await;
    let m_a = ms.iter().find(|m| m["id"] == ma).unwrap();
    assert_eq!(
        (m_a["end_date"].clone(), m_a["current"].clone()),
        (json!("2020-12-31"), json!(false))
    );

    // The main employment is not deleted (the page says why); another is, after confirming.
    let page = post(&browser, &format!("{url}/{mb}/delete"), Some(&csrf), &[]).await;
    assert_eq!(page.status, 409, "{}", page.body);
    let confirm = browser.get(&format!("{url}/{ma}/delete")).await;
    assert!(
        confirm.body.contains("Delete the employment in Alpha?"),
        "{}",
        confirm.body
    );
    location(&post(&browser, &format!("{url}/{ma}/delete"), Some(&csrf), &[]).await);
    assert_eq!(
        memberships_of(&s, &t).await.len(),
        2,
        "Beta and the guest account"
    );

    // Management: an account, an account group and a person by email; an unknown email is a
    // field error; each removed again.
    let mg = format!("/t/acme/console/users/{t}/management");
    location(
        &post(
            &browser,
            &mg,
            Some(&csrf),
            &[("kind", "account".into()), ("account_id", a.clone())],
        )
        .await,
    );
    location(
        &post(
            &browser,
            &mg,
            Some(&csrf),
            &[
                ("kind", "account_group".into()),
                ("account_group_id", ag.clone()),
            ],
        )
        .await,
    );
    location(
        &post(
            &browser,
            &mg,
            Some(&csrf),
            &[
                ("kind", "user".into()),
                ("target_email", "Mona@acme.test".into()),
            ],
        )
        .await,
    );
    let page = post(
        &browser,
        &mg,
        Some(&csrf),
        &[
            ("kind", "user".into()),
            ("target_email", "nobody@acme.test".into()),
        ],
    )
    .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("id=\"g-person-error\"")
            && page.body.contains("value=\"nobody@acme.test\"")
    );
    let page = post(
        &browser,
        &mg,
        Some(&csrf),
        &[
            ("kind", "user".into()),
            ("target_email", "tess@acme.test".into()),
        ],
    )
    .await;
    assert_eq!(page.status, 400, "nobody manages themselves: {}", page.body);
    let (_, v) = s.get(&format!("/users/{t}/management")).await;
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{v}");
    assert!(items.iter().any(|m| m.to_string().contains(&mona)), "{v}");
    let page = browser.get(&url).await;
    assert!(
        page.body.contains("Alpha")
            && page.body.contains("Region")
            && page.body.contains("mona@acme.test")
    );
    // Seen from Mona's side: Tess manages her directly. Seen from Tess's: Mona manages her
    // through Beta, her account, and Tess herself through Region once Beta is in it.
    let page = browser
        .get(&format!("/t/acme/console/users/{mona}/memberships"))
        .await;
    assert!(
        page.body.contains("tess@acme.test") && page.body.contains("Directly"),
        "{}",
        page.body
    );
    let (st, v) = s
        .post(
            &format!("/users/{mona}/management"),
            json!({"kind": "account", "id": bee}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = s
        .put(&format!("/account-groups/{ag}/accounts/{bee}"), json!({}))
        .await;
    assert!(st.is_success(), "{v}");
    let page = browser.get(&url).await;
    assert!(
        page.body.contains("Through the account Beta"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Through the account group Region"),
        "{}",
        page.body
    );
    for m in items {
        let id = m["id"].as_str().unwrap();
        location(&post(&browser, &format!("{mg}/{id}/delete"), Some(&csrf), &[]).await);
    }
    let (_, v) = s.get(&format!("/users/{t}/management")).await;
    assert_eq!(v["items"], json!([]));
}

backends!(employment_and_management_are_set_from_the_console);
