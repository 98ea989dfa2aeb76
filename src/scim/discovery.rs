//! Discovery (RFC 7644 §4): what the service supports, its resource types and schemas. Built
//! from the same definitions the server works with, so it cannot claim more than it does.

use super::query::MAX_RESULTS;
use super::schema::{self, Schema};
use crate::domain::AttributeDef;
use serde_json::{Value, json};

/// The most operations one Bulk request may carry.
pub const BULK_MAX_OPERATIONS: usize = 1000;
/// The largest SCIM request body, in bytes, advertised as `bulk.maxPayloadSize` and taken by
/// every SCIM endpoint: a group of 50,000 members read with GET (about 7.5 MB with each
/// member's `$ref`) can be sent back with PUT.
pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;
/// The largest Bulk request body: the same limit as every SCIM request.
pub const BULK_MAX_PAYLOAD: usize = MAX_PAYLOAD;

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [schema::SPC],
        "documentationUri": "https://github.com/castellan-idp/castellan#scim-20",
        "patch": {"supported": true},
        "bulk": {"supported": true, "maxOperations": BULK_MAX_OPERATIONS, "maxPayloadSize": BULK_MAX_PAYLOAD},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "SCIM bearer token",
            "description": "A SCIM token of the tenant, created with `castellan scim-token create` or the admin API, sent as `Authorization: Bearer <token>`.",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

/// The resource types; the tenant extension only when the tenant defines custom attributes.
pub fn resource_types(base: &str, defs: &[AttributeDef]) -> Vec<Value> {
    let mut extensions = vec![json!({"schema": schema::ENTERPRISE, "required": false})];
    if !defs.is_empty() {
        extensions.push(json!({"schema": schema::TENANT, "required": false}));
    }
    vec![
        json!({
            "schemas": [schema::RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": schema::USER,
            "schemaExtensions": extensions,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
        }),
        json!({
            "schemas": [schema::RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": schema::GROUP,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
        }),
    ]
}

/// Every schema, the tenant's extension generated from its attribute definitions.
pub fn schemas(defs: &[AttributeDef], unique_emails: bool) -> Vec<Schema> {
    let mut all = vec![schema::user_with(unique_emails), schema::enterprise()];
    if !defs.is_empty() {
        all.push(schema::tenant(defs));
    }
    all.push(schema::group());
    all
}
