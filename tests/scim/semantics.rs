//! One test per item of issue 13's filter, sort and paging semantics (items 1-8 and 19), on
//! SQLite and PostgreSQL (item 1 also in a PostgreSQL database whose LC_CTYPE is `C`).

use crate::common::Backend;
use crate::{Scim, enc};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const OWNER: &str = "owner@acme.test";

/// The userNames matching `filter`, sorted, without the owner.
async fn sel(s: &Scim, filter: &str) -> Vec<String> {
    let mut v = s.names(&format!("filter={}&count=1000", enc(filter))).await;
    v.retain(|n| n != OWNER);
    v.sort();
    v
}

/// The userNames of a list request, in order, without the owner.
async fn listed(s: &Scim, query: &str) -> Vec<String> {
    let mut v = s.names(query).await;
    v.retain(|n| n != OWNER);
    v
}

async fn refused(s: &Scim, filter: &str) -> Value {
    let a = s.get(&format!("/Users?filter={}", enc(filter))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{filter}: {}", a.body);
    assert_eq!(a.body["scimType"], "invalidFilter", "{filter}");
    a.body
}

async fn unicode_case(b: Backend) {
    let s = Scim::start(b).await;
    for (u, d, f) in [
        ("u1", "ZOË", "Ørsted"),
        ("u2", "zoe", "orsted"),
        ("u3", "Émile", "ØRSTED"),
        ("u4", "anna", "Straße"),
        ("u5", "ΣΊΣΥΦΟΣ", "Zürich"),
    ] {
        s.user(json!({"userName": u, "displayName": d, "name": {"familyName": f}}))
            .await;
    }
    assert_eq!(sel(&s, r#"displayName eq "zoë""#).await, ["u1"]);
    assert_eq!(sel(&s, r#"displayName eq "Zoë""#).await, ["u1"]);
    assert_eq!(
        sel(&s, r#"name.familyName eq "ørsted""#).await,
        ["u1", "u3"]
    );
    assert_eq!(sel(&s, r#"displayName eq "émile""#).await, ["u3"]);
    assert_eq!(sel(&s, r#"displayName sw "σί""#).await, ["u5"]);
    assert_eq!(
        sel(&s, r#"name.familyName co "RSTED""#).await,
        ["u1", "u2", "u3"]
    );
    assert_eq!(
        sel(&s, r#"name.familyName ew "SSE""#).await,
        Vec::<String>::new()
    );
    assert_eq!(sel(&s, r#"name.familyName ew "ẞE""#).await, ["u4"]);
    assert_eq!(sel(&s, r#"name.familyName co "ZÜ""#).await, ["u5"]);
    // Case-insensitive Unicode order: folded text, compared by code point.
    assert_eq!(
        listed(&s, "sortBy=displayName").await,
        ["u4", "u2", "u1", "u3", "u5"]
    );
    assert_eq!(
        listed(&s, "sortBy=name.familyName&sortOrder=descending").await,
        // Ties (ørsted, ØRSTED) by id, descending too.
        ["u3", "u1", "u5", "u4", "u2"]
    );
    // Existing rows folded again after a change.
    let id = s
        .get(&format!("/Users?filter={}", enc(r#"userName eq "u2""#)))
        .await
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = s
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "displayName", "value": "ÅSA"}]),
        )
        .await;
    assert!(a.status.is_success(), "{}", a.body);
    assert_eq!(sel(&s, r#"displayName eq "åsa""#).await, ["u2"]);
    assert_eq!(
        sel(&s, r#"displayName eq "zoe""#).await,
        Vec::<String>::new()
    );
}

async fn missing_values_sort(b: Backend) {
    let s = Scim::start(b).await;
    s.user(json!({"userName": "a", "title": "x"})).await;
    s.user(json!({"userName": "b"})).await;
    s.user(json!({"userName": "c", "title": "y"})).await;
    let asc = listed(&s, "sortBy=title").await;
    assert_eq!(asc[..2], ["a", "c"]);
    assert_eq!(asc[2..], ["b"]);
    let desc = listed(&s, "sortBy=title&sortOrder=descending").await;
    assert_eq!(desc, ["b", "c", "a"], "missing first when descending");
}

async fn present_on_complex(b: Backend) {
    let s = Scim::start(b).await;
    s.user(json!({"userName": "named", "name": {"middleName": "Q"}}))
        .await;
    s.user(json!({"userName": "placed", "addresses": [{"country": "CH"}]}))
        .await;
    s.user(json!({"userName": "bare"})).await;
    assert_eq!(sel(&s, "name pr").await, ["named"]);
    assert_eq!(sel(&s, "addresses pr").await, ["placed"]);
    assert_eq!(
        sel(&s, "not (addresses pr) and not (name pr)").await,
        ["bare"]
    );
}

async fn schemas_filterable(b: Backend) {
    let s = Scim::start(b).await;
    s.user(json!({"userName": "ent", ENT: {"department": "R&D"}}))
        .await;
    s.user(json!({"userName": "core"})).await;
    assert_eq!(
        sel(&s, &format!("schemas eq {}", json!(ENT))).await,
        ["ent"]
    );
    assert_eq!(
        sel(&s, &format!("schemas eq {}", json!(ENT.to_uppercase()))).await,
        ["ent"]
    );
    assert_eq!(
        sel(&s, &format!("schemas eq {}", json!(CORE))).await,
        ["core", "ent"]
    );
    assert_eq!(sel(&s, "schemas pr").await, ["core", "ent"]);
    assert_eq!(
        sel(&s, &format!("not (schemas eq {})", json!(ENT))).await,
        ["core"]
    );
    // What a representation's `schemas` shows.
    let ent = &s
        .get(&format!("/Users?filter={}", enc(r#"userName eq "ent""#)))
        .await
        .body["Resources"][0];
    assert!(ent["schemas"].as_array().unwrap().contains(&json!(ENT)));
    // Attributes /Schemas does not list are refused.
    for f in [
        r#"nosuch eq "x""#,
        r#"name.nosuch eq "x""#,
        r#"emails.nosuch pr"#,
    ] {
        refused(&s, f).await;
    }
}

/// The display names of the groups matching `filter` (status 200 asserted), sorted.
async fn group_sel(s: &Scim, filter: &str) -> Vec<String> {
    let a = s.get(&format!("/Groups?filter={}", enc(filter))).await;
    assert_eq!(a.status, StatusCode::OK, "{filter}: {}", a.body);
    let mut v: Vec<String> = a.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

/// Item 4: every attribute `/Schemas` lists is filterable, also those no resource stores a value
/// of (`password`, `name` and `addresses` without a sub-attribute: a missing value), and those
/// every value shows the same (`groups.type` is `direct`, `members.type` is `User`); what
/// `/Schemas` does not list stays `invalidFilter`.
async fn listed_attributes_without_stored_values(b: Backend) {
    let s = Scim::start(b).await;
    let member = s
        .user(json!({"userName": "member", "password": "Correct-horse-9",
                     "addresses": [{"locality": "Oslo"}]}))
        .await;
    s.user(json!({"userName": "alone"})).await;
    let g = s
        .post(
            "/Groups",
            json!({"displayName": "full", "members": [{"value": member}]}),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let g = s.post("/Groups", json!({"displayName": "empty"})).await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let all = ["alone", "member"];
    let none: [&str; 0] = [];
    for (f, want) in [
        (r#"password eq "Correct-horse-9""#, &none[..]),
        (r#"password sw "C""#, &none),
        (r#"password ne "Correct-horse-9""#, &all),
        ("password pr", &none),
        ("not (password pr)", &all),
        ("password eq null", &all),
        (r#"name eq "member""#, &none),
        (r#"name ne "member""#, &all),
        (r#"addresses eq "Oslo""#, &none),
        (r#"addresses gt "a""#, &none),
        (r#"groups.type eq "DIRECT""#, &["member"]),
        (r#"groups.type ne "direct""#, &none),
        (r#"groups.type co "rec""#, &["member"]),
        ("groups.type pr", &["member"]),
        (
            r#"groups[type eq "direct" and display eq "full"]"#,
            &["member"],
        ),
        (r#"not (groups.type eq "direct")"#, &["alone"]),
    ] {
        assert_eq!(sel(&s, f).await, want, "{f}");
    }
    assert_eq!(
        listed(&s, "sortBy=groups.type&count=10").await,
        ["member", "alone"]
    );
    assert_eq!(listed(&s, "sortBy=password&count=10").await.len(), 2);
    for (f, want) in [
        (r#"members.type eq "user""#, &["full"][..]),
        (r#"members[type eq "User"]"#, &["full"]),
        ("members.type pr", &["full"]),
        (r#"members.type ne "User""#, &[]),
        (r#"not (members.type pr)"#, &["empty"]),
    ] {
        assert_eq!(group_sel(&s, f).await, want, "{f}");
    }
    for f in [
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName eq "x""#,
        r#"password.value eq "x""#,
        r#"groups.nosuch eq "x""#,
    ] {
        refused(&s, f).await;
    }
    let a = s
        .get(&format!(
            "/Groups?filter={}",
            enc(r#"members.display eq "x""#)
        ))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert_eq!(a.body["scimType"], "invalidFilter");
}

/// Item 4, references: `groups.$ref`, `members.$ref` and the enterprise `manager.$ref` compare
/// as the URIs the representations show (case-insensitively, as `/Schemas` says of them).
async fn references_filter_as_their_uris(b: Backend) {
    let s = Scim::start(b).await;
    let boss = s.user(json!({"userName": "boss"})).await;
    let member = s
        .user(json!({"userName": "member", "schemas": [CORE, ENT], ENT: {"manager": {"value": boss}}}))
        .await;
    let g = s
        .post(
            "/Groups",
            json!({"displayName": "full", "members": [{"value": member}]}),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let group_ref = g.body["members"][0]["$ref"].as_str().unwrap().to_owned();
    assert!(
        group_ref.ends_with(&format!("/Users/{member}")),
        "{group_ref}"
    );
    let user = s.get(&format!("/Users/{member}")).await.body;
    let groups_ref = user["groups"][0]["$ref"].as_str().unwrap().to_owned();
    let manager_ref = user[ENT]["manager"]["$ref"].as_str().unwrap().to_owned();
    let base = groups_ref[..groups_ref.find("/Groups/").unwrap()].to_owned();
    let none: [&str; 0] = [];
    for (f, want) in [
        (format!(r#"groups.$ref eq "{groups_ref}""#), &["member"][..]),
        (
            format!(r#"groups.$ref eq "{}""#, groups_ref.to_uppercase()),
            &["member"],
        ),
        (format!(r#"groups[$ref eq "{groups_ref}"]"#), &["member"]),
        (format!(r#"groups.$ref sw "{base}/Groups/""#), &["member"]),
        (format!(r#"groups.$ref sw "{base}/Users/""#), &none),
        (format!(r#"groups.$ref eq "{base}/Groups/nosuch""#), &none),
        ("groups.$ref pr".into(), &["member"]),
        // As for every multi-valued attribute: some value differs (boss has none).
        (format!(r#"groups.$ref ne "{groups_ref}""#), &none),
        (format!(r#"not (groups.$ref eq "{groups_ref}")"#), &["boss"]),
        (
            format!(r#"{ENT}:manager.$ref eq "{manager_ref}""#),
            &["member"],
        ),
        (format!(r#"{ENT}:manager.$ref ew "/{boss}""#), &["member"]),
        (format!(r#"{ENT}:manager.$ref pr"#), &["member"]),
        (format!(r#"not ({ENT}:manager.$ref pr)"#), &["boss"]),
    ] {
        assert_eq!(sel(&s, &f).await, want, "{f}");
    }
    let empty = s.post("/Groups", json!({"displayName": "empty"})).await;
    assert_eq!(empty.status, StatusCode::CREATED, "{}", empty.body);
    for (f, want) in [
        (format!(r#"members.$ref eq "{group_ref}""#), &["full"][..]),
        (format!(r#"members[$ref co "/Users/{member}"]"#), &["full"]),
        ("members.$ref pr".into(), &["full"]),
        (format!(r#"not (members.$ref sw "{base}")"#), &["empty"]),
    ] {
        assert_eq!(group_sel(&s, &f).await, want, "{f}");
    }
}

async fn operands_as_sent(b: Backend) {
    let s = Scim::start(b).await;
    s.user(
        json!({"userName": "x", "emails": [{"value": "x@example.com"}],
                   "phoneNumbers": [{"value": "(555) 0100"}]}),
    )
    .await;
    assert_eq!(sel(&s, r#"emails.value eq "x@example.com""#).await, ["x"]);
    assert!(
        sel(&s, r#"emails.value eq " x@example.com""#)
            .await
            .is_empty()
    );
    assert!(
        sel(&s, r#"emails.value eq "x@example.com ""#)
            .await
            .is_empty()
    );
    assert!(sel(&s, r#"userName eq " x""#).await.is_empty());
    assert!(sel(&s, r#"phoneNumbers[value co " 55"]"#).await.is_empty());
    assert_eq!(sel(&s, r#"phoneNumbers[value co "(55"]"#).await, ["x"]);
    assert!(sel(&s, r#"emails.value sw "x%""#).await.is_empty());
    assert!(sel(&s, r#"emails.value co "_""#).await.is_empty());
}

/// `created` shifted by `ns` nanoseconds, written with every digit.
fn shifted(created: &str, ns: i128) -> String {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(created, &Rfc3339).unwrap();
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(t.unix_timestamp_nanos() + ns).unwrap();
    let mut s = t.format(&Rfc3339).unwrap();
    if !s.contains('.') {
        s = s.replace('Z', ".000000000Z");
    }
    s
}

async fn datetime_precision(b: Backend) {
    let s = Scim::start(b).await;
    let id = s.user(json!({"userName": "t"})).await;
    let created = s.get(&format!("/Users/{id}")).await.body["meta"]["created"]
        .as_str()
        .unwrap()
        .to_owned();
    let q = |op: &str, ns: i128| format!("meta.created {op} {}", json!(shifted(&created, ns)));
    let hit = |v: Vec<String>| v == ["t"];
    // The same instant written with more digits.
    assert!(hit(sel(&s, &q("eq", 0)).await));
    // Half a microsecond after: not equal, and ordered chronologically.
    for (op, want) in [
        ("eq", false),
        ("ne", true),
        ("gt", false),
        ("ge", false),
        ("lt", true),
        ("le", true),
    ] {
        assert_eq!(hit(sel(&s, &q(op, 500)).await), want, "{op} +500ns");
    }
    // A nanosecond before.
    for (op, want) in [
        ("eq", false),
        ("ne", true),
        ("gt", true),
        ("ge", true),
        ("lt", false),
        ("le", false),
    ] {
        assert_eq!(hit(sel(&s, &q(op, -1)).await), want, "{op} -1ns");
    }
}

/// Whether an instant is written with exactly six fractional digits (microseconds).
fn microsecond_text(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.ends_with('Z')
        && s.rsplit_once('.')
            .is_some_and(|(_, f)| f.len() == 7 && f[..6].bytes().all(|b| b.is_ascii_digit()))
}

/// Item 6: users and groups, written by SCIM or by the admin API, keep their instants to the
/// microsecond; SCIM and the admin API show the same instants, at the same precision, and a
/// filter finds a user by the exact instant (and not by one a nanosecond away).
async fn instants_in_microseconds(b: Backend) {
    let s = Scim::start(b).await;
    let mut users = vec![];
    for i in 0..6 {
        users.push(s.user(json!({"userName": format!("u{i}")})).await);
    }
    let (st, admin_user) = s
        .srv
        .post("/users", json!({"email": "admin-made@acme.test"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{admin_user}");
    users.push(admin_user["id"].as_str().unwrap().to_owned());
    let g = s
        .post(
            "/Groups",
            json!({"displayName": "g", "members": [{"value": users[0]}]}),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let (st, admin_group) = s.srv.post("/groups", json!({"display_name": "ag"})).await;
    assert_eq!(st, StatusCode::CREATED, "{admin_group}");
    let groups = [
        g.body["id"].as_str().unwrap().to_owned(),
        admin_group["id"].as_str().unwrap().to_owned(),
    ];
    let mut sub_millisecond = 0;
    for (scim, admin, ids) in [
        ("/Users", "/users", &users[..]),
        ("/Groups", "/groups", &groups[..]),
    ] {
        for id in ids {
            let meta = s.get(&format!("{scim}/{id}")).await.body["meta"].clone();
            let (st, a) = s.srv.get(&format!("{admin}/{id}")).await;
            assert_eq!(st, StatusCode::OK, "{a}");
            for (m, col) in [("created", "created_at"), ("lastModified", "updated_at")] {
                assert!(microsecond_text(&meta[m]), "{scim}/{id} {m}: {}", meta[m]);
                assert_eq!(meta[m], a[col], "{scim}/{id}: SCIM {m} and admin {col}");
            }
            let created = meta["created"].as_str().unwrap();
            sub_millisecond += usize::from(!created.ends_with("000Z"));
            if scim == "/Users" {
                let name = s.get(&format!("/Users/{id}")).await.body["userName"].clone();
                let exact = format!("meta.created eq {}", json!(created));
                let names = sel(&s, &exact).await;
                assert!(names.iter().any(|n| *n == name), "{exact}: {names:?}");
                let off = format!("meta.created eq {}", json!(shifted(created, 1)));
                assert!(sel(&s, &off).await.is_empty(), "{off}");
            }
        }
    }
    // Stored to the millisecond, every one of nine instants would end in 000.
    assert!(sub_millisecond > 0, "no instant has sub-millisecond digits");
}

async fn invalid_utf8_query(b: Backend) {
    let s = Scim::start(b).await;
    for q in [
        "filter=userName%20eq%20%22%FF%22",
        "filter=userName%20eq%20%22%C3%28%22",
        "sortBy=%FFuserName",
    ] {
        let a = s.get(&format!("/Users?{q}")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{q}: {}", a.body);
    }
}

async fn entra_value_path_sub_attribute(b: Backend) {
    let s = Scim::start(b).await;
    s.user(
        json!({"userName": "w", "emails": [{"value": "x@corp.example", "type": "work"}],
                   "phoneNumbers": [{"value": "555", "type": "mobile"}]}),
    )
    .await;
    s.user(
        json!({"userName": "h", "emails": [{"value": "X@corp.example.org", "type": "home"},
                                              {"value": "y@corp.example", "type": "work"}]}),
    )
    .await;
    assert_eq!(
        sel(&s, r#"emails[type eq "work"].value eq "x@corp.example""#).await,
        ["w"]
    );
    assert_eq!(
        sel(&s, r#"emails[type eq "work"].value co "corp""#).await,
        ["h", "w"]
    );
    assert!(
        sel(
            &s,
            r#"emails[type eq "work"].value eq "X@corp.example.org""#
        )
        .await
        .is_empty()
    );
    assert_eq!(
        sel(&s, r#"phoneNumbers[type eq "mobile"].value eq "555""#).await,
        ["w"]
    );
    refused(&s, r#"emails[type eq "work"].nosuch eq "x""#).await;
    refused(&s, r#"emails[type eq "work"].value"#).await;
}

async fn control_characters(b: Backend) {
    let s = Scim::start(b).await;
    let id = s.user(json!({"userName": "c"})).await;
    for path in [
        "/Users/%00",
        "/Users/a%01b",
        "/Groups/%00",
        &format!("/Users/{id}%00"),
    ] {
        let a = s.get(path).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", a.body);
    }
    for f in [
        r#"userName eq "a\u0000""#,
        r#"emails[value eq "\u0001"]"#,
        r#"id eq "\u0000""#,
    ] {
        refused(&s, f).await;
    }
    let a = s
        .post(
            "/Users/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": "userName eq \"a\\u0000\""}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    let g = s.post("/Groups", json!({"displayName": "g"})).await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let gid = g.body["id"].as_str().unwrap().to_owned();
    for member in [
        json!({"value": "\u{0}"}),
        json!({"value": id, "$ref": "x\u{0}"}),
        json!({"value": "a\u{1}b"}),
    ] {
        let a = s
            .patch(
                &format!("/Groups/{gid}"),
                json!([{"op": "add", "path": "members", "value": [member]}]),
            )
            .await;
        assert!(
            matches!(a.status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND),
            "{member}: {} {}",
            a.status,
            a.body
        );
    }
    let a = s
        .post(
            "/Groups",
            json!({"displayName": "h", "members": [{"value": "\u{0}"}]}),
        )
        .await;
    assert!(a.status.is_client_error(), "{}", a.body);
}

crate::backends!(
    unicode_case,
    missing_values_sort,
    present_on_complex,
    schemas_filterable,
    listed_attributes_without_stored_values,
    references_filter_as_their_uris,
    operands_as_sent,
    datetime_precision,
    instants_in_microseconds,
    invalid_utf8_query,
    entra_value_path_sub_attribute,
    control_characters,
);

mod unicode_case_lc_ctype_c {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::unicode_case(crate::common::Backend::PostgresC).await
    }
}
