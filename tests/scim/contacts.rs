//! phoneNumbers, addresses, ims, photos and x509Certificates (RFC 7643 §4.1.2): stored,
//! returned, PATCHable with the value-filtered paths Entra ID sends, filterable in the database
//! and advertised in /Schemas.

use crate::common::Backend;
use crate::{Scim, enc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn ids(s: &Scim, filter: &str) -> Vec<String> {
    let a = s
        .get(&format!("/Users?filter={}&sortBy=userName", enc(filter)))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{filter}: {}", a.body);
    a.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap().to_owned())
        .collect()
}

/// Okta's create carries phone numbers and addresses; they come back as sent, and a PUT
/// without them removes them.
async fn stored_and_returned(b: Backend) {
    let s = Scim::start(b).await;
    let c = s
        .post(
            "/Users",
            json!({
                "schemas": [CORE], "userName": "isaac.brock@example.com",
                "name": {"givenName": "Isaac", "familyName": "Brock"},
                "emails": [{"primary": true, "value": "isaac.brock@example.com", "type": "work"}],
                "phoneNumbers": [{"value": "555-555-5555", "type": "work"},
                                 {"value": "555-555-4444", "type": "mobile", "primary": true}],
                "addresses": [{"streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                               "region": "CA", "postalCode": "91608", "country": "US",
                               "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
                               "type": "work", "primary": true}],
                "ims": [{"value": "isaac@xmpp.example", "type": "xmpp"}],
                "photos": [{"value": "https://photos.example.com/isaac.jpg", "type": "photo"}],
                "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}],
                "active": true
            }),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let id = c.body["id"].as_str().unwrap().to_owned();
    let read = s.get(&format!("/Users/{id}")).await.body;
    assert_eq!(
        read["phoneNumbers"],
        json!([{"value": "555-555-5555", "type": "work", "primary": false},
               {"value": "555-555-4444", "type": "mobile", "primary": true}])
    );
    assert_eq!(
        read["addresses"][0]["streetAddress"],
        "100 Universal City Plaza"
    );
    assert_eq!(read["addresses"][0]["locality"], "Hollywood");
    assert_eq!(read["addresses"][0]["postalCode"], "91608");
    assert_eq!(read["addresses"][0]["primary"], true);
    assert_eq!(
        read["addresses"][0]["formatted"],
        "100 Universal City Plaza\nHollywood, CA 91608 USA"
    );
    assert_eq!(read["ims"][0]["value"], "isaac@xmpp.example");
    assert_eq!(read["photos"][0]["type"], "photo");
    assert_eq!(
        read["x509Certificates"][0]["value"],
        "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"
    );
    assert_eq!(c.body["phoneNumbers"], read["phoneNumbers"]);
    // attributes= projects them like any attribute.
    let p = s
        .get(&format!("/Users/{id}?attributes=phoneNumbers.value"))
        .await
        .body;
    assert_eq!(p["phoneNumbers"][1], json!({"value": "555-555-4444"}));
    assert!(p.get("addresses").is_none());
    // PUT replaces the whole resource: left out, they are gone.
    let put = s
        .put(
            &format!("/Users/{id}"),
            json!({"schemas": [CORE], "userName": "isaac.brock@example.com",
            "phoneNumbers": [{"value": "555-555-3333", "type": "home"}]}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(
        put.body["phoneNumbers"],
        json!([{"value": "555-555-3333", "type": "home", "primary": false}])
    );
    for gone in ["addresses", "ims", "photos", "x509Certificates"] {
        assert!(put.body.get(gone).is_none(), "{gone}: {}", put.body);
    }
    // Malformed values are SCIM errors.
    for bad in [
        json!({"userName": "x", "phoneNumbers": "555"}),
        json!({"userName": "x", "phoneNumbers": ["555"]}),
        json!({"userName": "x", "addresses": [{"locality": ["Paris"]}]}),
        json!({"userName": "x", "phoneNumbers": [{"value": "1", "primary": "maybe"}]}),
    ] {
        let r = s.post("/Users", bad.clone()).await;
        assert_eq!(
            (r.status, r.body["scimType"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalidValue")),
            "{bad}: {}",
            r.body
        );
    }
}

/// Entra ID's create and PATCH bodies, as Microsoft documents them.
async fn entra_patches(b: Backend) {
    let s = Scim::start(b).await;
    let c = s
        .post("/Users", json!({
            "schemas": [CORE, ENT],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
            "active": true,
            "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": []
        }))
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let id = c.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");
    let patch = |ops: Value| {
        let body = json!({"schemas": [PATCH_OP], "Operations": ops});
        let path = path.clone();
        let s = &s;
        async move { s.send(Method::PATCH, &path, Some(body), &[]).await }
    };
    let r = patch(json!([
        {"op": "Add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 425 555 0100"},
        {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 425 555 0199"},
        {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Microsoft Way"},
        {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
        {"op": "Add", "path": "addresses[type eq \"work\"].region", "value": "WA"},
        {"op": "Add", "path": "addresses[type eq \"work\"].postalCode", "value": "98052"},
        {"op": "Add", "path": "addresses[type eq \"work\"].country", "value": "US"},
    ]))
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let phones = r.body["phoneNumbers"].as_array().unwrap().clone();
    assert_eq!(phones.len(), 2, "{}", r.body);
    assert_eq!(phones[0]["type"], "work");
    assert_eq!(phones[0]["value"], "+1 425 555 0100");
    assert_eq!(phones[1]["type"], "mobile");
    let addr = &r.body["addresses"];
    assert_eq!(
        addr.as_array().unwrap().len(),
        1,
        "one work address: {addr}"
    );
    assert_eq!(addr[0]["type"], "work");
    assert_eq!(addr[0]["streetAddress"], "1 Microsoft Way");
    assert_eq!(addr[0]["locality"], "Redmond");
    assert_eq!(addr[0]["postalCode"], "98052");
    assert_eq!(addr[0]["country"], "US");
    // Replace one value, remove another, and the whole of a value, as Entra does.
    let r = patch(json!([
        {"op": "Replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 425 555 0111"},
        {"op": "Remove", "path": "phoneNumbers[type eq \"mobile\"]"},
        {"op": "Replace", "path": "addresses[type eq \"work\"].locality", "value": "Bellevue"},
        {"op": "Remove", "path": "addresses[type eq \"work\"].region"},
    ]))
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["phoneNumbers"],
        json!([{"value": "+1 425 555 0111", "type": "work", "primary": false}])
    );
    assert_eq!(r.body["addresses"][0]["locality"], "Bellevue");
    assert!(r.body["addresses"][0].get("region").is_none());
    assert_eq!(
        s.get(&path).await.body["phoneNumbers"],
        r.body["phoneNumbers"]
    );
    // Removing the value of the last phone number removes the phone number.
    let r = patch(json!([{"op": "Remove", "path": "phoneNumbers[type eq \"work\"].value"}])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.get("phoneNumbers").is_none(), "{}", r.body);
    // A replace without a path (Entra's other form) sets them too.
    let r = patch(json!([{"op": "Replace", "value": {
        "phoneNumbers": [{"type": "fax", "value": "+1 425 555 0123"}]}}]))
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["phoneNumbers"][0]["type"], "fax");
}

/// Value filters on phoneNumbers and addresses run in the database, like emails.
async fn filters(b: Backend) {
    let s = Scim::start(b).await;
    for (name, phone, kind, city, zip) in [
        ("ana", "+1 425 555 0100", "work", "Redmond", "98052"),
        ("ben", "+1 425 555 0200", "mobile", "Bellevue", "98004"),
        ("cid", "+44 20 7946 0000", "work", "London", "EC1A 1BB"),
    ] {
        s.user(json!({"userName": name,
            "phoneNumbers": [{"value": phone, "type": kind}],
            "addresses": [{"type": "work", "locality": city, "postalCode": zip, "country": "US"}]}))
            .await;
    }
    s.user(json!({"userName": "dee"})).await;
    let cases: &[(&str, &[&str])] = &[
        (r#"phoneNumbers[type eq "work"]"#, &["ana", "cid"]),
        (
            r#"phoneNumbers[type eq "work" and value sw "+1"]"#,
            &["ana"],
        ),
        (r#"phoneNumbers.value co "555""#, &["ana", "ben"]),
        (r#"phoneNumbers eq "+1 425 555 0200""#, &["ben"]),
        (r#"phoneNumbers pr"#, &["ana", "ben", "cid"]),
        (r#"not (phoneNumbers pr)"#, &["dee", "owner@acme.test"]),
        (r#"addresses.locality eq "redmond""#, &["ana"]),
        (
            r#"addresses[type eq "work" and postalCode sw "980"]"#,
            &["ana", "ben"],
        ),
        (
            r#"addresses.country eq "US" and not (addresses.locality eq "London")"#,
            &["ana", "ben"],
        ),
        (
            r#"phoneNumbers[type eq "mobile"] or addresses.locality eq "London""#,
            &["ben", "cid"],
        ),
    ];
    for (filter, want) in cases {
        assert_eq!(ids(&s, filter).await, *want, "{filter}");
    }
    let sorted = s
        .names("sortBy=addresses.locality&filter=addresses.locality%20pr")
        .await;
    assert_eq!(sorted, ["ben", "cid", "ana"]);
    let bad = s
        .get(&format!(
            "/Users?filter={}",
            enc(r#"addresses.planet eq "Mars""#)
        ))
        .await;
    assert_eq!(
        (bad.status, bad.body["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalidFilter"))
    );
}

/// /Schemas tells the truth: the attributes and their sub-attributes are there.
async fn advertised(b: Backend) {
    let s = Scim::start(b).await;
    let schema = s.get(&format!("/Schemas/{CORE}")).await.body;
    let attr = |name: &str| -> Value {
        schema["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let subs = |a: &Value| -> Vec<String> {
        a["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let phones = attr("phoneNumbers");
    assert_eq!(phones["multiValued"], true);
    assert_eq!(subs(&phones), ["value", "display", "type", "primary"]);
    let addresses = attr("addresses");
    assert_eq!(addresses["multiValued"], true);
    for sub in [
        "streetAddress",
        "locality",
        "region",
        "postalCode",
        "country",
        "formatted",
        "type",
        "primary",
    ] {
        assert!(subs(&addresses).iter().any(|s| s == sub), "{sub}");
    }
    for name in ["ims", "photos", "x509Certificates"] {
        assert_eq!(attr(name)["multiValued"], true, "{name}");
    }
    assert_eq!(
        attr("x509Certificates")["subAttributes"][0]["type"],
        "binary"
    );
}

crate::backends!(stored_and_returned, entra_patches, filters, advertised);
