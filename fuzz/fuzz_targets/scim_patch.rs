//! SCIM PATCH (RFC 7644 §3.5.2): the path grammar on raw text, and a whole PatchOp body parsed
//! and applied to a user resource with the real User and enterprise schemas.
#![no_main]

use castellan::scim::{filter, patch, schema};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = filter::parse_patch_path(text);
    // The same text as the path of one operation, and as a whole body.
    let one = json!({"Operations": [{"op": "add", "path": text, "value": "x"}]});
    apply(&one);
    if let Ok(body) = serde_json::from_str::<Value>(text) {
        apply(&body);
    }
});

fn apply(body: &Value) {
    let Ok(ops) = patch::parse_request(body) else {
        return;
    };
    let user = schema::user();
    let enterprise = schema::enterprise();
    let schemas = patch::Schemas {
        core: &user,
        extensions: vec![&enterprise],
    };
    let mut resource = json!({
        "userName": "ada",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true},
                   {"value": "ada@home.example", "type": "home"}],
        "phoneNumbers": [{"value": "+1 555", "type": "work"}],
        "active": true
    });
    let Value::Object(map) = &mut resource else {
        return;
    };
    map.insert(
        schema::ENTERPRISE.to_owned(),
        json!({"employeeNumber": "7", "manager": {"value": "m"}}),
    );
    let _ = patch::apply(map, &ops, &schemas);
}
