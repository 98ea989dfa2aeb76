//! Bulk (RFC 7644 §3.7): operations in order, `bulkId` cross-references resolved (an
//! operation waits for the ones it refers to, wherever they stand), `failOnErrors` honoured.
//! Each operation is atomic on its own, as the RFC asks.

use super::error::{ScimError, ScimResult};
use super::json::get_ci;
use super::{ScimCaller, discovery, group, service, user};
use crate::oidc::logout::Notifier;
use crate::store::Store;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// One operation as received.
struct Op {
    method: String,
    bulk_id: Option<String>,
    path: String,
    data: Option<Value>,
    version: Option<i64>,
}

fn parse(body: &Value) -> ScimResult<(Vec<Op>, Option<usize>)> {
    let o = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a BulkRequest is a JSON object"))?;
    let fail_on_errors = match get_ci(o, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ScimError::invalid_value("failOnErrors is a positive integer"))?
                as usize,
        ),
    };
    let ops = match get_ci(o, "Operations") {
        Some(Value::Array(a)) => a,
        _ => {
            return Err(ScimError::invalid_syntax(
                "a BulkRequest needs an `Operations` array",
            ));
        }
    };
    if ops.len() > discovery::BULK_MAX_OPERATIONS {
        return Err(ScimError::new(
            413,
            None,
            format!(
                "a Bulk request carries at most {} operations, not {}",
                discovery::BULK_MAX_OPERATIONS,
                ops.len()
            ),
        ));
    }
    let ops = ops
        .iter()
        .map(|op| {
            let m = op
                .as_object()
                .ok_or_else(|| ScimError::invalid_syntax("each operation is an object"))?;
            let text = |k: &str| get_ci(m, k).and_then(Value::as_str).map(str::to_owned);
            Ok(Op {
                method: text("method")
                    .ok_or_else(|| ScimError::invalid_syntax("each operation needs a method"))?
                    .to_ascii_uppercase(),
                bulk_id: text("bulkId"),
                path: text("path")
                    .ok_or_else(|| ScimError::invalid_syntax("each operation needs a path"))?,
                data: get_ci(m, "data").cloned(),
                version: text("version").and_then(|v| super::if_match_version(Some(&v))),
            })
        })
        .collect::<ScimResult<Vec<_>>>()?;
    Ok((ops, fail_on_errors))
}

/// The `bulkId:x` references in a value.
fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:") {
                out.push(id.to_owned());
            }
        }
        Value::Array(a) => a.iter().for_each(|x| references(x, out)),
        Value::Object(m) => m.values().for_each(|x| references(x, out)),
        _ => {}
    }
}

fn substitute(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:").and_then(|b| ids.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, ids)),
        Value::Object(m) => m.values_mut().for_each(|x| substitute(x, ids)),
        _ => {}
    }
}

/// Runs a BulkRequest and returns the BulkResponse.
pub async fn run(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &ScimCaller,
    body: &Value,
) -> ScimResult<Value> {
    let (ops, fail_on_errors) = parse(body)?;
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut results: Vec<Option<Value>> = vec![None; ops.len()];
    let mut errors = 0;
    'passes: loop {
        let mut progressed = false;
        for (n, op) in ops.iter().enumerate() {
            if results[n].is_some() {
                continue;
            }
            let mut refs = Vec::new();
            if let Some((_, last)) = op.path.rsplit_once('/') {
                references(&Value::String(last.to_owned()), &mut refs);
            }
            if let Some(d) = &op.data {
                references(d, &mut refs);
            }
            if refs.iter().any(|r| !ids.contains_key(r)) {
                continue;
            }
            progressed = true;
            let outcome = execute(store, notifier, caller, op, &ids).await;
            results[n] = Some(match outcome {
                Ok((status, resource)) => {
                    let id = resource
                        .as_ref()
                        .and_then(|r| r["id"].as_str())
                        .map(str::to_owned);
                    if let (Some(b), Some(id)) = (&op.bulk_id, id) {
                        ids.insert(b.clone(), id);
                    }
                    let mut r = Map::new();
                    r.insert("method".into(), json!(op.method));
                    if let Some(b) = &op.bulk_id {
                        r.insert("bulkId".into(), json!(b));
                    }
                    if let Some(res) = &resource {
                        r.insert("location".into(), res["meta"]["location"].clone());
                        r.insert("version".into(), res["meta"]["version"].clone());
                    }
                    r.insert("status".into(), json!(status.to_string()));
                    Value::Object(r)
                }
                Err(e) => {
                    errors += 1;
                    failure(op, &e)
                }
            });
            if fail_on_errors.is_some_and(|limit| errors >= limit) {
                break 'passes;
            }
        }
        if !progressed {
            break;
        }
    }
    // What is left refers to bulkIds that never resolved (unknown, failed, or circular).
    if fail_on_errors.is_none_or(|limit| errors < limit) {
        for (n, op) in ops.iter().enumerate() {
            if results[n].is_none() {
                let e = ScimError::new(
                    409,
                    Some("invalidValue"),
                    "the operation refers to a bulkId that was not created (unknown, failed or circular)",
                );
                results[n] = Some(failure(op, &e));
            }
        }
    }
    Ok(json!({
        "schemas": [super::schema::BULK_RESPONSE],
        "Operations": results.into_iter().flatten().collect::<Vec<_>>(),
    }))
}

fn failure(op: &Op, e: &ScimError) -> Value {
    let mut r = Map::new();
    r.insert("method".into(), json!(op.method));
    if let Some(b) = &op.bulk_id {
        r.insert("bulkId".into(), json!(b));
    }
    r.insert("status".into(), json!(e.status.to_string()));
    r.insert("response".into(), e.body());
    Value::Object(r)
}

/// Runs one operation; the resource it leaves (none for DELETE).
async fn execute(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &ScimCaller,
    op: &Op,
    ids: &HashMap<String, String>,
) -> ScimResult<(u16, Option<Value>)> {
    let path = match op.path.trim_end_matches('/').rsplit_once('/') {
        Some((head, last)) => {
            let mut last = Value::String(last.to_owned());
            substitute(&mut last, ids);
            format!("{head}/{}", last.as_str().unwrap_or_default())
        }
        None => op.path.clone(),
    };
    let mut data = op.data.clone().unwrap_or(Value::Null);
    substitute(&mut data, ids);
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let kind = parts.next().unwrap_or_default();
    let id = parts.next();
    let defs = store.attribute_defs(caller.tenant_id()).await?;
    let base = &caller.base;
    let user_json = |u: &crate::domain::scim::ScimUser| Some(user::to_json(u, base, &defs));
    let group_json = |g: &crate::domain::scim::ScimGroup| Some(group::to_json(g, base, true));
    let v = op.version;
    match (kind, op.method.as_str(), id) {
        ("Users", "POST", None) => Ok((
            201,
            user_json(&service::create_user(store, caller, &data).await?),
        )),
        ("Users", "PUT", Some(id)) => Ok((
            200,
            user_json(&service::replace_user(store, notifier, caller, id, v, &data).await?),
        )),
        ("Users", "PATCH", Some(id)) => Ok((
            200,
            user_json(&service::patch_user(store, notifier, caller, id, v, &data).await?),
        )),
        ("Users", "DELETE", Some(id)) => {
            service::delete_user(store, notifier, caller, id, v).await?;
            Ok((204, None))
        }
        ("Groups", "POST", None) => Ok((
            201,
            group_json(&service::create_group(store, caller, &data).await?),
        )),
        ("Groups", "PUT", Some(id)) => Ok((
            200,
            group_json(&service::replace_group(store, caller, id, v, &data).await?),
        )),
        ("Groups", "PATCH", Some(id)) => Ok((
            200,
            group_json(&service::patch_group(store, caller, id, v, &data).await?),
        )),
        ("Groups", "DELETE", Some(id)) => {
            service::delete_group(store, caller, id, v).await?;
            Ok((204, None))
        }
        _ => Err(ScimError::invalid_value(format!(
            "`{} {}` is not a Bulk operation (POST /Users, PUT|PATCH|DELETE /Users/{{id}}, same for /Groups)",
            op.method, op.path
        ))),
    }
}
