//! Case folding happens when a value is written (issue 13, item 1): every path that writes a
//! case-insensitive value (admin API create and patch; SCIM POST, PUT, PATCH and Bulk; users and
//! groups) writes its folded shadow with it, so a case-insensitive filter on non-ASCII text
//! finds it at once, and the database never holds a shadow that is not the fold of its source.
//! Nothing folds at read time any more, so a path that forgot its shadows fails here.

use crate::common::Backend;
use crate::{Scim, enc};
use castellan::domain::scim::fold;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// Mixed-case non-ASCII text naming one write path (lowercase ASCII `tag`).
fn text(tag: &str) -> String {
    format!("Ærøskøbing Zoë Ørsted Ђурђевац {tag}")
}

/// The full SCIM user a path writes: every kind of folded column gets `text(tag)`.
fn scim_user(tag: &str) -> Value {
    let t = text(tag);
    json!({
        "userName": format!("user-{tag}"),
        "displayName": t,
        "title": t,
        "name": {"givenName": t, "familyName": t},
        "emails": [{"value": format!("{tag}@example.test"), "type": t}],
        "phoneNumbers": [{"value": "+45 1234", "type": t, "display": t}],
        "addresses": [{"locality": t, "country": "DK", "type": t}],
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
        ENT: {"department": t, "organization": t},
    })
}

/// The ids of the resources of `/{kind}` matching `filter`.
async fn ids(s: &Scim, kind: &str, filter: &str) -> BTreeSet<String> {
    let a = s
        .get(&format!("/{kind}?filter={}&count=1000", enc(filter)))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{filter}: {}", a.body);
    a.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every case-insensitive user filter the paths above fill, with `tag`'s text in other case.
fn user_filters(tag: &str) -> Vec<String> {
    let up = text(tag).to_uppercase();
    let low = text(tag).to_lowercase();
    vec![
        format!(r#"displayName eq "{up}""#),
        format!(r#"name.familyName eq "{low}""#),
        format!(r#"name.givenName sw "{up}""#),
        format!(r#"title co "ØRSTED ЂУРЂЕВАЦ {}""#, tag.to_uppercase()),
        format!(r#"emails[type eq "{up}"]"#),
        format!(r#"phoneNumbers[type eq "{low}"]"#),
        format!(r#"addresses[locality eq "{up}"]"#),
        format!(r#"{ENT}:department eq "{up}""#),
        format!(r#"{ENT}:organization ew "ЂУРЂЕВАЦ {}""#, tag.to_uppercase()),
    ]
}

/// Users written through every path, each found by its tag through every folded column the
/// path sets; groups likewise by displayName.
async fn every_write_path_folds(b: Backend) {
    let s = Scim::start(b).await;
    let srv = &s.srv;
    let mut users: Vec<(&str, String, usize)> = vec![];

    // Admin API: create with names, then a patch of another user's names.
    let (st, a) = srv
        .post(
            "/users",
            json!({"email": "admin-create@example.test", "given_name": text("admincreate"),
                   "family_name": text("admincreate"), "display_name": text("admincreate")}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    users.push(("admincreate", a["id"].as_str().unwrap().to_owned(), 3));
    let plain = srv.create_user("admin-patch@example.test").await;
    let id = plain["id"].as_str().unwrap().to_owned();
    let (st, a) = srv
        .patch(
            &format!("/users/{id}"),
            json!({"given_name": text("adminpatch"), "family_name": text("adminpatch"),
                   "display_name": text("adminpatch")}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    users.push(("adminpatch", id, 3));

    // SCIM POST, PUT over a plain user, PATCH of a plain user.
    users.push(("scimpost", s.user(scim_user("scimpost")).await, usize::MAX));
    let id = s.user(json!({"userName": "user-scimput"})).await;
    let a = s.put(&format!("/Users/{id}"), scim_user("scimput")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    users.push(("scimput", id, usize::MAX));
    let id = s.user(json!({"userName": "user-scimpatch"})).await;
    let mut value = scim_user("scimpatch");
    value.as_object_mut().unwrap().remove("schemas");
    let a = s
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "value": value}]),
        )
        .await;
    assert!(a.status.is_success(), "{}", a.body);
    users.push(("scimpatch", id, usize::MAX));

    // Bulk: a POST and a PUT of a plain user.
    let id = s.user(json!({"userName": "user-bulkput"})).await;
    let a = s
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "p", "data": scim_user("bulkpost")},
                {"method": "PUT", "path": format!("/Users/{id}"), "data": scim_user("bulkput")},
            ]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let ops = a.body["Operations"].as_array().unwrap();
    assert_eq!(
        (&ops[0]["status"], &ops[1]["status"]),
        (&json!("201"), &json!("200")),
        "{}",
        a.body
    );
    let created = ops[0]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    users.push(("bulkpost", created.to_owned(), usize::MAX));
    users.push(("bulkput", id, usize::MAX));

    for (tag, id, n) in &users {
        for f in user_filters(tag).iter().take(*n) {
            assert_eq!(
                ids(&s, "Users", f).await,
                BTreeSet::from([id.clone()]),
                "{tag}: {f}"
            );
        }
    }

    // Groups: admin API create and patch; SCIM POST, PUT and PATCH.
    let mut groups: Vec<(&str, String)> = vec![];
    let (st, g) = srv
        .post("/groups", json!({"display_name": text("gadmincreate")}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{g}");
    groups.push(("gadmincreate", g["id"].as_str().unwrap().to_owned()));
    let (_, g) = srv
        .post("/groups", json!({"display_name": "plain a"}))
        .await;
    let id = g["id"].as_str().unwrap().to_owned();
    let (st, g) = srv
        .patch(
            &format!("/groups/{id}"),
            json!({"display_name": text("gadminpatch")}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{g}");
    groups.push(("gadminpatch", id));
    let g = s
        .post("/Groups", json!({"displayName": text("gscimpost")}))
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    groups.push(("gscimpost", g.body["id"].as_str().unwrap().to_owned()));
    let g = s.post("/Groups", json!({"displayName": "plain b"})).await;
    let id = g.body["id"].as_str().unwrap().to_owned();
    let a = s
        .put(
            &format!("/Groups/{id}"),
            json!({"displayName": text("gscimput")}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    groups.push(("gscimput", id));
    let g = s.post("/Groups", json!({"displayName": "plain c"})).await;
    let id = g.body["id"].as_str().unwrap().to_owned();
    let a = s
        .patch(
            &format!("/Groups/{id}"),
            json!([{"op": "replace", "path": "displayName", "value": text("gscimpatch")}]),
        )
        .await;
    assert!(a.status.is_success(), "{}", a.body);
    groups.push(("gscimpatch", id));
    for (tag, id) in &groups {
        let f = format!(r#"displayName eq "{}""#, text(tag).to_uppercase());
        assert_eq!(
            ids(&s, "Groups", &f).await,
            BTreeSet::from([id.clone()]),
            "{f}"
        );
    }

    // Underneath: every stored shadow is the fold of its source, on every row.
    let stale = stale_shadows(srv.db_url()).await;
    assert!(
        stale.is_empty(),
        "shadows not written with their source: {stale:?}"
    );
}

/// Each folded column and its source, per table.
const SHADOWED: &[(&str, &[&str])] = &[
    (
        "users",
        &[
            "given_name",
            "family_name",
            "middle_name",
            "honorific_prefix",
            "honorific_suffix",
            "display_name",
            "nick_name",
            "title",
            "user_type",
            "preferred_language",
            "locale",
            "timezone",
            "employee_number",
            "cost_center",
            "organization",
            "division",
            "department",
        ],
    ),
    ("user_emails", &["type"]),
    ("user_values", &["display", "type"]),
    (
        "user_addresses",
        &[
            "type",
            "formatted",
            "street_address",
            "locality",
            "region",
            "postal_code",
            "country",
        ],
    ),
    ("groups", &["display_name"]),
    ("user_attributes", &["value"]),
];

/// `table.column` = (source, shadow) for every row whose shadow is not the fold of its source.
async fn stale_shadows(url: &str) -> Vec<(String, Option<String>, Option<String>)> {
    let mut stale = vec![];
    for (table, columns) in SHADOWED {
        for c in *columns {
            let sql = format!("SELECT {c}, {c}_f FROM {table}");
            let rows: Vec<(Option<String>, Option<String>)> = if url.starts_with("sqlite:") {
                let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await
                    .unwrap()
            } else {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await
                    .unwrap()
            };
            for (source, shadow) in rows {
                if source.as_deref().map(fold) != shadow {
                    stale.push((format!("{table}.{c}"), source, shadow));
                }
            }
        }
    }
    stale
}

crate::backends!(every_write_path_folds);
