//! Bulk (RFC 7644 §3.7): operations in order, `bulkId` cross-references resolved (an
//! operation waits for the ones it refers to, wherever they stand), `failOnErrors` honoured.
//! Each operation is atomic on its own, as the RFC asks.

use super::error::{ScimError, ScimResult};
use super::json::get_ci;
use super::{ScimCaller, discovery, service};
use crate::oidc::logout::Notifier;
use crate::store::Store;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::HashMap;

/// One operation as received.
struct Op {
    method: String,
    bulk_id: Option<String>,
    path: String,
    data: Option<Value>,
    version: Option<i64>,
    /// The `bulkId`s it refers to (in its path and its data).
    refs: Vec<String>,
}

/// What a successful operation left: the resource's id, location and version.
struct Made {
    id: String,
    location: String,
    version: String,
}

impl Made {
    fn user(u: &crate::domain::scim::ScimUser, base: &str) -> Self {
        Self {
            id: u.id.to_string(),
            location: format!("{base}/Users/{}", u.id),
            version: super::etag(u.version),
        }
    }

    fn group(g: &crate::domain::scim::ScimGroup, base: &str) -> Self {
        Self {
            id: g.id.to_string(),
            location: format!("{base}/Groups/{}", g.id),
            version: super::etag(g.version),
        }
    }
}

fn parse(body: Value) -> ScimResult<(Vec<Op>, Option<usize>)> {
    let Value::Object(mut o) = body else {
        return Err(ScimError::invalid_syntax("a BulkRequest is a JSON object"));
    };
    let fail_on_errors = match get_ci(&o, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ScimError::invalid_value("failOnErrors is a positive integer"))?
                as usize,
        ),
    };
    let ops = match super::json::key_ci(&o, "Operations").and_then(|k| o.remove(&k)) {
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
        .into_iter()
        .map(|op| {
            let Value::Object(mut m) = op else {
                return Err(ScimError::invalid_syntax("each operation is an object"));
            };
            let text = |m: &Map<String, Value>, k: &str| {
                get_ci(m, k).and_then(Value::as_str).map(str::to_owned)
            };
            let path = text(&m, "path")
                .ok_or_else(|| ScimError::invalid_syntax("each operation needs a path"))?;
            let data = super::json::key_ci(&m, "data").and_then(|k| m.remove(&k));
            let mut refs = Vec::new();
            if let Some((_, last)) = path.rsplit_once('/') {
                references(&Value::String(last.to_owned()), &mut refs);
            }
            if let Some(d) = &data {
                references(d, &mut refs);
            }
            Ok(Op {
                method: text(&m, "method")
                    .ok_or_else(|| ScimError::invalid_syntax("each operation needs a method"))?
                    .to_ascii_uppercase(),
                bulk_id: text(&m, "bulkId"),
                path,
                data,
                version: text(&m, "version").and_then(|v| super::if_match_version(Some(&v))),
                refs,
            })
        })
        .collect::<ScimResult<Vec<_>>>()?;
    // bulkIds name what a request creates, so each is unique in it (RFC 7644 §3.7): a repeated
    // one would make every reference to it ambiguous.
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = ops
        .iter()
        .filter_map(|op| op.bulk_id.as_deref())
        .find(|b| !seen.insert(*b))
    {
        return Err(ScimError::invalid_value(format!(
            "the bulkId `{dup}` is given to more than one operation; bulkIds are unique in a request"
        )));
    }
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

fn is_user_create(op: &Op) -> bool {
    op.method == "POST" && op.path.trim_matches('/') == "Users"
}

/// A request under way: the ids created so far by `bulkId`, each operation's result, the
/// errors so far.
struct Progress<'a> {
    ops: &'a [Op],
    /// Which operation declares each bulkId.
    declared: HashMap<&'a str, usize>,
    ids: HashMap<String, String>,
    results: Vec<Option<Value>>,
    errors: usize,
    fail_on_errors: Option<usize>,
}

/// Where an operation stands.
#[derive(Debug, PartialEq, Eq)]
enum State {
    /// It has its result.
    Done,
    /// Every bulkId it refers to has been created: it can run.
    Ready,
    /// It refers to a bulkId whose operation has not run yet.
    Waiting,
    /// It refers to a bulkId no operation declares, or whose operation failed: it can never run.
    Dead,
}

impl<'a> Progress<'a> {
    fn new(ops: &'a [Op], fail_on_errors: Option<usize>) -> Self {
        Self {
            ops,
            declared: ops
                .iter()
                .enumerate()
                .filter_map(|(n, op)| op.bulk_id.as_deref().map(|b| (b, n)))
                .collect(),
            ids: HashMap::new(),
            results: vec![None; ops.len()],
            errors: 0,
            fail_on_errors,
        }
    }

    fn state(&self, n: usize) -> State {
        if self.results[n].is_some() {
            return State::Done;
        }
        let mut waiting = false;
        for r in &self.ops[n].refs {
            if self.ids.contains_key(r) {
                continue;
            }
            match self.declared.get(r.as_str()) {
                Some(&m) if m != n && self.results[m].is_none() => waiting = true,
                // Unknown, its own, or failed.
                _ => return State::Dead,
            }
        }
        if waiting {
            State::Waiting
        } else {
            State::Ready
        }
    }

    fn stopped(&self) -> bool {
        self.fail_on_errors
            .is_some_and(|limit| self.errors >= limit)
    }

    /// Records an operation's outcome.
    fn record(&mut self, n: usize, outcome: ScimResult<(u16, Option<Made>)>) {
        let op = &self.ops[n];
        self.results[n] = Some(match outcome {
            Ok((status, made)) => {
                let answer = success(op, status, made.as_ref());
                if let (Some(b), Some(m)) = (&op.bulk_id, made) {
                    self.ids.insert(b.clone(), m.id);
                }
                answer
            }
            Err(e) => {
                self.errors += 1;
                failure(op, &e)
            }
        });
    }

    /// Records that operation `n` refers to a bulkId that will never be created.
    fn unresolved(&mut self, n: usize, circular: bool) {
        let detail = if circular {
            "the operation refers to a bulkId whose operation waits for it in turn (circular)"
        } else {
            "the operation refers to a bulkId that no operation of the request created (unknown or failed)"
        };
        self.record(n, Err(ScimError::new(409, Some("invalidValue"), detail)));
    }
}

/// Runs a BulkRequest and returns the BulkResponse.
pub async fn run(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &ScimCaller,
    body: Value,
) -> ScimResult<Value> {
    let (ops, fail_on_errors) = parse(body)?;
    let defs = store.attribute_defs(caller.tenant_id()).await?;
    let mut p = Progress::new(&ops, fail_on_errors);
    // Operations run in order; one that waits for a later bulkId is passed over and run in a
    // later pass. One whose reference can never resolve is an error where it stands, and counts
    // toward failOnErrors at once: nothing runs after the limit is reached.
    'passes: loop {
        let mut progressed = false;
        let mut n = 0;
        while n < ops.len() {
            match p.state(n) {
                State::Done | State::Waiting => {
                    n += 1;
                    continue;
                }
                State::Dead => {
                    progressed = true;
                    p.unresolved(n, false);
                    if p.stopped() {
                        break 'passes;
                    }
                    n += 1;
                    continue;
                }
                State::Ready => {}
            }
            progressed = true;
            if is_user_create(&ops[n]) {
                let next = create_users(store, caller, &defs, &mut p, n).await?;
                if next > n {
                    n = next;
                    if p.stopped() {
                        break 'passes;
                    }
                    continue;
                }
            }
            let outcome = execute(store, notifier, caller, &defs, &ops[n], &p.ids).await;
            p.record(n, outcome);
            if p.stopped() {
                break 'passes;
            }
            n += 1;
        }
        if !progressed {
            break;
        }
    }
    // What is left waits for itself through others (circular): each an error, in order.
    for n in 0..ops.len() {
        if p.stopped() {
            break;
        }
        if p.results[n].is_none() {
            p.unresolved(n, true);
        }
    }
    Ok(json!({
        "schemas": [super::schema::BULK_RESPONSE],
        "Operations": p.results.into_iter().flatten().collect::<Vec<_>>(),
    }))
}

/// Creates, in one transaction, the pending user creations from operation `first` on, up to
/// the next pending operation of another kind or the first one whose resource is invalid.
/// Returns where it stopped (`first` when it created nothing: that operation then runs alone,
/// and fails with its own error).
async fn create_users(
    store: &Store,
    caller: &ScimCaller,
    defs: &[crate::domain::AttributeDef],
    p: &mut Progress<'_>,
    first: usize,
) -> ScimResult<usize> {
    let mut batch = Vec::new();
    let mut writes = Vec::new();
    let mut n = first;
    while n < p.ops.len() {
        match p.state(n) {
            State::Ready => {}
            // An error where it stands: the batch ends before it.
            State::Dead => break,
            State::Done | State::Waiting => {
                n += 1;
                continue;
            }
        }
        let op = &p.ops[n];
        if !is_user_create(op) {
            break;
        }
        match service::prepare_user(caller, defs, &with_ids(op, &p.ids)).await {
            Ok(w) => {
                batch.push(n);
                writes.push(w);
            }
            Err(_) => break,
        }
        n += 1;
    }
    if batch.is_empty() {
        return Ok(first);
    }
    let budget = p.fail_on_errors.map(|limit| limit - p.errors);
    let done = store
        .scim_create_users(caller.tenant_id(), &writes, budget, &caller.actor())
        .await?;
    for ((i, outcome), w) in batch.iter().zip(done).zip(&writes) {
        let outcome = match outcome {
            Ok(u) => Ok((201, Some(Made::user(&u, &caller.base)))),
            Err(e) => Err(service::creation_error(store, caller, &w.fields, e).await),
        };
        p.record(*i, outcome);
    }
    Ok(if p.stopped() { p.ops.len() } else { n })
}

/// An operation's data with the `bulkId` references it makes replaced by the ids created.
fn with_ids<'a>(op: &'a Op, ids: &HashMap<String, String>) -> Cow<'a, Value> {
    match &op.data {
        None => Cow::Owned(Value::Null),
        Some(d) if op.refs.is_empty() => Cow::Borrowed(d),
        Some(d) => {
            let mut d = d.clone();
            substitute(&mut d, ids);
            Cow::Owned(d)
        }
    }
}

fn success(op: &Op, status: u16, made: Option<&Made>) -> Value {
    let mut r = Map::new();
    r.insert("method".into(), json!(op.method));
    if let Some(b) = &op.bulk_id {
        r.insert("bulkId".into(), json!(b));
    }
    if let Some(m) = made {
        r.insert("location".into(), json!(m.location));
        r.insert("version".into(), json!(m.version));
    }
    r.insert("status".into(), json!(status.to_string()));
    Value::Object(r)
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
    defs: &[crate::domain::AttributeDef],
    op: &Op,
    ids: &HashMap<String, String>,
) -> ScimResult<(u16, Option<Made>)> {
    let path = match op.path.trim_end_matches('/').rsplit_once('/') {
        Some((head, last)) => {
            let mut last = Value::String(last.to_owned());
            substitute(&mut last, ids);
            format!("{head}/{}", last.as_str().unwrap_or_default())
        }
        None => op.path.clone(),
    };
    let data = with_ids(op, ids);
    let data = data.as_ref();
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let kind = parts.next().unwrap_or_default();
    let id = parts.next();
    let base = &caller.base;
    let user_json = |u: &crate::domain::scim::ScimUser| Some(Made::user(u, base));
    let group_json = |g: &crate::domain::scim::ScimGroup| Some(Made::group(g, base));
    let v = op.version;
    match (kind, op.method.as_str(), id) {
        ("Users", "POST", None) => Ok((
            201,
            user_json(&service::create_user(store, caller, defs, data).await?),
        )),
        ("Users", "PUT", Some(id)) => Ok((
            200,
            user_json(&service::replace_user(store, notifier, caller, defs, id, v, data).await?),
        )),
        ("Users", "PATCH", Some(id)) => Ok((
            200,
            user_json(&service::patch_user(store, notifier, caller, defs, id, v, data).await?),
        )),
        ("Users", "DELETE", Some(id)) => {
            service::delete_user(store, notifier, caller, id, v).await?;
            Ok((204, None))
        }
        ("Groups", "POST", None) => Ok((
            201,
            group_json(&service::create_group(store, caller, data).await?),
        )),
        ("Groups", "PUT", Some(id)) => Ok((
            200,
            group_json(&service::replace_group(store, caller, id, v, data, false).await?),
        )),
        ("Groups", "PATCH", Some(id)) => Ok((
            200,
            group_json(&service::patch_group(store, caller, id, v, data, false).await?),
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
