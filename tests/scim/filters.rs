//! Filters (RFC 7644 §3.4.2.2) evaluated in the database, sorting and paging.

use crate::common::Backend;
use crate::{Scim, enc};
use reqwest::StatusCode;
use serde_json::json;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const TEN: &str = "urn:castellan:params:scim:schemas:extension:tenant:2.0:User";
const OWNER: &str = "owner@acme.test";

/// alice, Bob, carol, dave_x% (and the tenant's owner).
async fn people(b: Backend) -> Scim {
    let s = Scim::start(b).await;
    for d in [
        json!({"key": "level", "label": "Level", "kind": "number"}),
        json!({"key": "remote", "label": "Remote", "kind": "boolean"}),
    ] {
        let (st, e) = s.srv.post("/attributes", d).await;
        assert_eq!(st, StatusCode::CREATED, "{e}");
    }
    let alice = s
        .user(json!({
            "userName": "alice", "externalId": "EXT-a", "title": "Engineer",
            "name": {"givenName": "Alice", "familyName": "Archer"},
            "emails": [{"value": "alice@example.com", "type": "work", "primary": true},
                       {"value": "alice@home.org", "type": "home"}],
            ENT: {"employeeNumber": "100", "department": "R&D", "costCenter": "CC1"},
            TEN: {"level": 7, "remote": true},
        }))
        .await;
    s.user(json!({
        "userName": "Bob", "externalId": "ext-b", "active": false,
        "name": {"givenName": "Bob", "familyName": "Baker"},
        "emails": [{"value": "bob@example.org", "type": "work", "primary": true}],
        ENT: {"employeeNumber": "200", "department": "Sales"},
        TEN: {"level": 2, "remote": false},
    }))
    .await;
    s.user(json!({
        "userName": "carol", "title": "Engineer Lead",
        "name": {"givenName": "Carol", "familyName": "O'Connor"},
        "emails": [{"value": "carol@example.com", "type": "home"}],
        ENT: {"department": "R&D", "manager": {"value": alice}},
    }))
    .await;
    s.user(json!({
        "userName": "dave_x%", "nickName": "D",
        "emails": [{"value": "Dave@Corp.test", "type": "work"}],
        TEN: {"level": 3.5},
    }))
    .await;
    s
}

/// The userNames matching `filter`, sorted, without the owner.
async fn sel(s: &Scim, filter: &str) -> Vec<String> {
    let mut v = s.names(&format!("filter={}&count=1000", enc(filter))).await;
    v.retain(|n| n != OWNER);
    v.sort();
    v
}

async fn refused(s: &Scim, filter: &str) {
    let a = s.get(&format!("/Users?filter={}", enc(filter))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{filter}: {}", a.body);
    assert_eq!(a.body["scimType"], "invalidFilter", "{filter}");
}

async fn every_operator(b: Backend) {
    let s = people(b).await;
    let cases: &[(&str, &[&str])] = &[
        // eq / ne, case-insensitive userName (RFC 7643 §4.1.1), case-exact externalId (§3.1).
        (r#"userName eq "ALICE""#, &["alice"]),
        (r#"userName ne "alice""#, &["Bob", "carol", "dave_x%"]),
        (r#"externalId eq "EXT-a""#, &["alice"]),
        (r#"externalId eq "ext-a""#, &[]),
        (r#"externalId ne "ext-b""#, &["alice", "carol", "dave_x%"]),
        // co / sw / ew, with LIKE metacharacters taken literally.
        (r#"name.familyName co "'con""#, &["carol"]),
        (r#"userName sw "b""#, &["Bob"]),
        (r#"userName ew "_x%""#, &["dave_x%"]),
        (r#"userName co "%""#, &["dave_x%"]),
        (r#"userName co "_""#, &["dave_x%"]),
        (r#"externalId sw "EXT""#, &["alice"]),
        (r#"externalId sw "ext""#, &["Bob"]),
        (r#"externalId co "T-""#, &["alice"]),
        (r#"externalId ew "-B""#, &[]),
        // gt / ge / lt / le on strings, numbers and dates.
        (r#"userName gt "bob""#, &["carol", "dave_x%"]),
        (r#"userName ge "carol""#, &["carol", "dave_x%"]),
        (r#"userName lt "bob""#, &["alice"]),
        (r#"userName le "bob""#, &["alice", "Bob"]),
        (&format!("{TEN}:level gt 3"), &["alice", "dave_x%"]),
        (&format!("{TEN}:level ge 3.5"), &["alice", "dave_x%"]),
        (&format!("{TEN}:level lt 3.5"), &["Bob"]),
        (&format!("{TEN}:level le 2"), &["Bob"]),
        (&format!("{TEN}:level eq 7"), &["alice"]),
        (
            r#"meta.created gt "2000-01-01T00:00:00Z""#,
            &["Bob", "alice", "carol", "dave_x%"],
        ),
        (r#"meta.lastModified lt "2000-01-01T00:00:00Z""#, &[]),
        // pr.
        ("title pr", &["alice", "carol"]),
        ("nickName pr", &["dave_x%"]),
        ("externalId pr", &["alice", "Bob"]),
        (&format!("{ENT}:employeeNumber pr"), &["alice", "Bob"]),
        (&format!("{TEN}:remote pr"), &["alice", "Bob"]),
        // booleans.
        ("active eq true", &["alice", "carol", "dave_x%"]),
        ("active eq false", &["Bob"]),
        ("active ne true", &["Bob"]),
        (&format!("{TEN}:remote eq true"), &["alice"]),
        (&format!("{TEN}:remote eq false"), &["Bob"]),
        // null.
        ("title eq null", &["Bob", "dave_x%"]),
        ("title ne null", &["alice", "carol"]),
    ];
    for (f, want) in cases {
        let mut want: Vec<String> = want.iter().map(|x| x.to_string()).collect();
        want.sort();
        assert_eq!(sel(&s, f).await, want, "{f}");
    }
}

async fn logic_and_multi_valued(b: Backend) {
    let s = people(b).await;
    let alice = s
        .names(&format!("filter={}", enc(r#"userName eq "alice""#)))
        .await;
    assert_eq!(alice, ["alice"]);
    let alice_id = s
        .get(&format!("/Users?filter={}", enc(r#"userName eq "alice""#)))
        .await
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases: Vec<(String, &[&str])> = vec![
        (r#"title pr and userName sw "c""#.into(), &["carol"]),
        (
            r#"title pr or nickName pr"#.into(),
            &["alice", "carol", "dave_x%"],
        ),
        (r#"not (title pr)"#.into(), &["Bob", "dave_x%"]),
        (
            r#"userName eq "alice" or userName eq "bob" and active eq true"#.into(),
            &["alice"],
        ),
        (
            r#"(userName eq "alice" or userName eq "bob") and active eq false"#.into(),
            &["Bob"],
        ),
        (
            r#"not (userName eq "alice" or title pr) and nickName pr"#.into(),
            &["dave_x%"],
        ),
        // Multi-valued: any value matches.
        (r#"emails co "example.com""#.into(), &["alice", "carol"]),
        (r#"emails.value ew ".org""#.into(), &["alice", "Bob"]),
        (r#"emails.type eq "home""#.into(), &["alice", "carol"]),
        (r#"emails sw "dave@corp""#.into(), &["dave_x%"]),
        (r#"emails.primary eq true"#.into(), &["alice", "Bob"]),
        // Value filters: one value satisfies every part.
        (
            r#"emails[type eq "work" and value co "example.com"]"#.into(),
            &["alice"],
        ),
        (
            r#"emails[type eq "home" and value co "example.org"]"#.into(),
            &[],
        ),
        (
            r#"emails[type eq "work" and value sw "BOB@"]"#.into(),
            &["Bob"],
        ),
        (
            r#"emails[type eq "work" or primary eq true]"#.into(),
            &["alice", "Bob", "dave_x%"],
        ),
        (
            r#"emails[not (type eq "work")]"#.into(),
            &["alice", "carol"],
        ),
        (r#"not (emails[type eq "work"])"#.into(), &["carol"]),
        (
            r#"userName ne "carol" and emails[type eq "home"]"#.into(),
            &["alice"],
        ),
        // Extension attributes.
        (format!(r#"{ENT}:department eq "r&d""#), &["alice", "carol"]),
        (
            format!(r#"{ENT}:manager.value eq "{alice_id}""#),
            &["carol"],
        ),
        (format!(r#"{ENT}:manager eq "{alice_id}""#), &["carol"]),
        (
            format!(r#"{ENT}:costCenter eq "CC1" and {TEN}:level gt 5"#),
            &["alice"],
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "carol""#.into(),
            &["carol"],
        ),
    ];
    for (f, want) in cases {
        let mut want: Vec<String> = want.iter().map(|x| x.to_string()).collect();
        want.sort();
        assert_eq!(sel(&s, &f).await, want, "{f}");
    }
}

async fn groups_in_user_filters(b: Backend) {
    let s = people(b).await;
    let id = |n: &str| {
        let n = n.to_owned();
        let s = &s;
        async move {
            s.get(&format!(
                "/Users?filter={}",
                enc(&format!(r#"userName eq "{n}""#))
            ))
            .await
            .body["Resources"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (a, c) = (id("alice").await, id("carol").await);
    let g = s
        .post(
            "/Groups",
            json!({"displayName": "Engineers", "members": [{"value": a}, {"value": c}]}),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let gid = g.body["id"].as_str().unwrap();
    assert_eq!(
        sel(&s, &format!(r#"groups.value eq "{gid}""#)).await,
        ["alice", "carol"]
    );
    assert_eq!(
        sel(&s, r#"groups.display eq "engineers""#).await,
        ["alice", "carol"]
    );
    assert_eq!(
        sel(&s, r#"groups[display sw "Eng"] and title eq "engineer""#).await,
        ["alice"]
    );
    let list = s
        .get(&format!(
            "/Groups?filter={}",
            enc(&format!(r#"members.value eq "{c}""#))
        ))
        .await;
    assert_eq!(list.body["totalResults"], 1, "{}", list.body);
    let list = s
        .get(&format!(
            "/Groups?filter={}",
            enc(r#"displayName co "gine""#)
        ))
        .await;
    assert_eq!(list.body["totalResults"], 1);
    let list = s
        .get(&format!(
            "/Groups?filter={}",
            enc(r#"members[value eq "nobody"]"#)
        ))
        .await;
    assert_eq!(list.body["totalResults"], 0);
}

async fn bad_filters(b: Backend) {
    let s = people(b).await;
    for f in [
        "userName",
        r#"userName eq"#,
        r#"nosuch eq "x""#,
        r#"name.nosuch eq "x""#,
        r#"emails[nosuch eq "x"]"#,
        r#"userName[value eq "x"]"#,
        "active gt true",
        r#"active eq "maybe""#,
        r#"meta.created gt "yesterday""#,
        r#"meta.created co "2020""#,
        &format!("{TEN}:level co 3"),
        &format!("{TEN}:nosuch pr"),
        "urn:example:unknown:attr pr",
        r#"userName gt null"#,
        &format!("{}a pr{}", "(".repeat(40), ")".repeat(40)),
    ] {
        refused(&s, f).await;
    }
}

async fn sorting_and_paging(b: Backend) {
    let s = people(b).await;
    let all = |q: &str| {
        let q = q.to_owned();
        let s = &s;
        async move {
            let mut v = s.names(&q).await;
            v.retain(|n| n != OWNER);
            v
        }
    };
    assert_eq!(
        all("sortBy=userName").await,
        ["alice", "Bob", "carol", "dave_x%"]
    );
    assert_eq!(
        all("sortBy=userName&sortOrder=descending").await,
        ["dave_x%", "carol", "Bob", "alice"]
    );
    // Missing values sort last ascending, first descending (RFC 7644 §3.4.2.3).
    assert_eq!(all("sortBy=title").await[..2], ["alice", "carol"]);
    assert_eq!(
        all("sortBy=title&sortOrder=descending").await[2..],
        ["carol", "alice"]
    );
    assert_eq!(
        all("sortBy=name.familyName").await[..3],
        ["alice", "Bob", "carol"]
    );
    // Multi-valued: by the primary (or first) value.
    assert_eq!(
        all("sortBy=emails").await,
        ["alice", "Bob", "carol", "dave_x%"]
    );
    assert_eq!(
        all(&format!("sortBy={TEN}:level&sortOrder=descending")).await,
        ["carol", "alice", "dave_x%", "Bob"]
    );
    // Paging: 1-based, totalResults counts every match.
    let page = |q: &str| {
        let q = q.to_owned();
        let s = &s;
        async move { s.get(&format!("/Users?{q}")).await.body }
    };
    let f = enc(r#"userName ne "owner@acme.test""#);
    let p = page(&format!("filter={f}&sortBy=userName&startIndex=2&count=2")).await;
    assert_eq!(p["totalResults"], 4);
    assert_eq!(p["startIndex"], 2);
    assert_eq!(p["itemsPerPage"], 2);
    assert_eq!(p["Resources"][0]["userName"], "Bob");
    assert_eq!(p["Resources"][1]["userName"], "carol");
    let p = page(&format!("filter={f}&count=0")).await;
    assert_eq!(
        (p["totalResults"].clone(), p["itemsPerPage"].clone()),
        (json!(4), json!(0))
    );
    let p = page(&format!("filter={f}&startIndex=0&count=-3")).await;
    assert_eq!(
        (p["startIndex"].clone(), p["itemsPerPage"].clone()),
        (json!(1), json!(0))
    );
    let p = page(&format!("filter={f}&startIndex=9")).await;
    assert_eq!(
        (p["totalResults"].clone(), p["itemsPerPage"].clone()),
        (json!(4), json!(0))
    );
    for bad in [
        "sortBy=nosuch",
        "sortOrder=sideways",
        "count=many",
        "startIndex=x",
    ] {
        let a = s.get(&format!("/Users?{bad}")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(a.body["scimType"], "invalidValue", "{bad}");
    }
    // POST /.search takes the same parameters.
    let a = s
        .post(
            "/Users/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": "title pr", "sortBy": "userName", "sortOrder": "descending",
                   "startIndex": 1, "count": 1, "attributes": ["userName"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["totalResults"], 2);
    assert_eq!(a.body["Resources"][0]["userName"], "carol");
    assert!(a.body["Resources"][0].get("title").is_none());
}

/// A user with something of every kind that hangs off them (emails, phone numbers, addresses,
/// a manager, a group, custom attributes) is the same resource whether it is answered to its
/// creation, listed by a filter (read with all of that in one query), searched or read alone.
async fn listed_users_are_whole(b: Backend) {
    let s = people(b).await;
    let alice = s
        .get(&format!("/Users?filter={}", enc(r#"userName eq "alice""#)))
        .await;
    let alice_id = alice.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = s
        .post(
            "/Users",
            json!({
                "userName": "erin", "displayName": "Erin E",
                "emails": [{"value": "erin@example.com", "type": "work", "primary": true},
                           {"value": "erin@home.org", "type": "home"}],
                "phoneNumbers": [{"value": "+33 1 23 45 67 89", "type": "work", "primary": true}],
                "ims": [{"value": "erin-im", "type": "xmpp"}],
                "addresses": [{"type": "work", "streetAddress": "1 Rue X\nBat. B",
                               "locality": "Paris", "postalCode": "75001", "country": "FR",
                               "primary": true}],
                ENT: {"department": "Ops", "manager": {"value": alice_id}},
                TEN: {"level": 4.5, "remote": true},
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let g = s
        .post(
            "/Groups",
            json!({"displayName": "Ops team", "members": [{"value": id}]}),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);

    let read = s.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    let r = &read.body;
    assert_eq!(r["emails"].as_array().unwrap().len(), 2);
    assert_eq!(r["phoneNumbers"][0]["value"], "+33 1 23 45 67 89");
    assert_eq!(r["ims"][0]["value"], "erin-im");
    assert_eq!(r["addresses"][0]["locality"], "Paris");
    assert_eq!(r["addresses"][0]["streetAddress"], "1 Rue X\nBat. B");
    assert_eq!(r[ENT]["manager"]["value"], alice_id.as_str());
    assert_eq!(r["groups"][0]["display"], "Ops team");
    assert_eq!(r[TEN]["level"], 4.5);
    assert_eq!(r[TEN]["remote"], true);
    // The creation's answer is what was stored, before the group existed.
    let mut answered = created.body.clone();
    let mut stored = r.clone();
    stored.as_object_mut().unwrap().remove("groups");
    for v in [&mut answered, &mut stored] {
        v["meta"].as_object_mut().unwrap().remove("version");
        v["meta"].as_object_mut().unwrap().remove("lastModified");
    }
    assert_eq!(answered, stored);

    for filter in [
        r#"userName eq "erin""#.to_owned(),
        r#"phoneNumbers[value sw "+33"]"#.to_owned(),
        format!("{TEN}:level eq 4.5"),
    ] {
        let page = s.get(&format!("/Users?filter={}", enc(&filter))).await;
        assert_eq!(page.status, StatusCode::OK, "{filter}: {}", page.body);
        assert_eq!(page.body["totalResults"], 1, "{filter}");
        assert_eq!(&page.body["Resources"][0], r, "{filter}");
    }
    // In a page of many, each user keeps their own extras.
    let all = s.get("/Users?count=1000&sortBy=userName").await;
    for u in all.body["Resources"].as_array().unwrap() {
        let one = s
            .get(&format!("/Users/{}", u["id"].as_str().unwrap()))
            .await;
        assert_eq!(u, &one.body);
    }
    // Past the last match: the total is still counted.
    let past = s
        .get(&format!(
            "/Users?filter={}&startIndex=3",
            enc(r#"userName eq "erin""#)
        ))
        .await;
    assert_eq!(past.body["totalResults"], 1);
    assert_eq!(past.body["Resources"], json!([]));
}

crate::backends!(
    listed_users_are_whole,
    every_operator,
    logic_and_multi_valued,
    groups_in_user_filters,
    bad_filters,
    sorting_and_paging
);
