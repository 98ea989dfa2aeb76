//! Large groups: member changes write only the members they name (and move only their
//! versions), PATCH answers 204 unless attributes are asked for, `excludedAttributes=members`
//! is honoured, and a group read with GET can be sent back with PUT (the body limit is the
//! `maxPayloadSize` that `/ServiceProviderConfig` advertises). The sizes run quickly in a debug
//! build; bench/scim_groups.sh measures 50,000 members on a release build.

use crate::common::Backend;
use crate::{Answer, Scim};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// Creates `n` users through Bulk (1,000 a request); returns their ids.
async fn users(s: &Scim, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for start in (0..n).step_by(1000) {
        let ops: Vec<Value> = (start..n.min(start + 1000))
            .map(|i| {
                json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"),
                       "data": {"userName": format!("{prefix}{i}")}})
            })
            .collect();
        let r = s
            .post("/Bulk", json!({"schemas": [BULK], "Operations": ops}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for op in r.body["Operations"].as_array().unwrap() {
            assert_eq!(op["status"], "201", "{op}");
            let loc = op["location"].as_str().unwrap();
            ids.push(loc.rsplit('/').next().unwrap().to_owned());
        }
    }
    ids
}

fn members(body: &Value) -> BTreeSet<String> {
    body["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn patch(s: &Scim, path: &str, ops: Value) -> Answer {
    let body = json!({"schemas": [PATCH_OP], "Operations": ops});
    s.send(Method::PATCH, path, Some(body), &[]).await
}

/// The users' versions, read through `/Users` (one page per 1,000).
async fn versions(s: &Scim) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut start = 1;
    loop {
        let r = s
            .get(&format!(
                "/Users?startIndex={start}&count=1000&attributes=meta"
            ))
            .await;
        let page = r.body["Resources"].as_array().unwrap().clone();
        for u in &page {
            out.insert(
                u["id"].as_str().unwrap().to_owned(),
                u["meta"]["version"].as_str().unwrap().to_owned(),
            );
        }
        if page.len() < 1000 {
            return out;
        }
        start += 1000;
    }
}

fn moved(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> BTreeSet<String> {
    after
        .iter()
        .filter(|(id, v)| before.get(*id) != Some(*v))
        .map(|(id, _)| id.clone())
        .collect()
}

/// 5,000 members: adding one, removing 1,000 and adding 1,000 change exactly those rows and
/// versions; PATCH answers 204 with the ETag, or 200 and the projected resource on request.
async fn member_changes_touch_only_those_members(b: Backend) {
    let s = Scim::start(b).await;
    let ids = users(&s, "m", 6001).await;
    let (inside, outside) = ids.split_at(5000);
    let list: Vec<Value> = inside.iter().map(|i| json!({"value": i})).collect();
    let g = s
        .post("/Groups", json!({"displayName": "Big", "members": list}))
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let path = format!("/Groups/{}", g.body["id"].as_str().unwrap());
    assert_eq!(members(&g.body).len(), 5000);

    let v0 = versions(&s).await;
    let one = &outside[0];
    let r = patch(
        &s,
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": one}]}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(r.body, Value::Null, "no body");
    assert_eq!(r.headers["etag"], "W/\"2\"");
    let v1 = versions(&s).await;
    assert_eq!(
        moved(&v0, &v1),
        BTreeSet::from([one.clone()]),
        "only the new member's version moved"
    );
    // Adding someone already a member changes no member.
    let r = patch(
        &s,
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": inside[7]}]}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(moved(&v1, &versions(&s).await).is_empty());

    // Remove 1,000 (Entra's value list) and add 1,000 in one request.
    let gone: Vec<Value> = inside[..1000].iter().map(|i| json!({"value": i})).collect();
    let new: Vec<Value> = outside[1..].iter().map(|i| json!({"value": i})).collect();
    let v2 = versions(&s).await;
    let r = patch(
        &s,
        &path,
        json!([
            {"op": "remove", "path": "members", "value": gone},
            {"op": "add", "path": "members", "value": new},
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let expected: BTreeSet<String> = inside[1000..].iter().chain(outside).cloned().collect();
    let now = s.get(&path).await;
    assert_eq!(members(&now.body), expected);
    let changed: BTreeSet<String> = inside[..1000]
        .iter()
        .chain(&outside[1..])
        .cloned()
        .collect();
    assert_eq!(moved(&v2, &versions(&s).await), changed);
    let left = s.get(&format!("/Users/{}", inside[0])).await;
    assert!(left.body.get("groups").is_none(), "{}", left.body);

    // With attributes asked for: 200 and the resource as projected.
    let add = |i: usize| json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", inside[i])}]);
    let r = s
        .send(
            Method::PATCH,
            &format!("{path}?excludedAttributes=members"),
            Some(json!({"schemas": [PATCH_OP], "Operations": add(2000)})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.get("members").is_none());
    assert_eq!(r.body["displayName"], "Big");
    assert_eq!(
        r.headers["etag"],
        r.body["meta"]["version"].as_str().unwrap()
    );
    let r = s
        .send(
            Method::PATCH,
            &format!("{path}?attributes=displayName"),
            Some(json!({"schemas": [PATCH_OP], "Operations": add(2001)})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.body.get("members")), (StatusCode::OK, None));
    let r = s
        .send(
            Method::PATCH,
            &format!("{path}?attributes=members"),
            Some(json!({"schemas": [PATCH_OP], "Operations": add(2002)})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(members(&r.body).len(), expected.len() - 3);
    assert!(r.body.get("displayName").is_none());

    // excludedAttributes=members on GET and on lists; attributes without members likewise.
    for q in ["excludedAttributes=members", "attributes=displayName"] {
        let r = s.get(&format!("{path}?{q}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.get("members").is_none(), "{q}");
        let l = s.get(&format!("/Groups?{q}")).await;
        assert_eq!(l.body["totalResults"], 1);
        assert!(l.body["Resources"][0].get("members").is_none(), "{q}");
    }
}

/// A group read with GET goes back with PUT whatever its size below the advertised limit;
/// PUT writes only the difference. A body over the limit gets 413 as a SCIM error.
async fn get_then_put_large_group(b: Backend) {
    let s = Scim::start(b).await;
    let ids = users(&s, "p", 6000).await;
    let list: Vec<Value> = ids[..5000].iter().map(|i| json!({"value": i})).collect();
    let g = s
        .post("/Groups", json!({"displayName": "Big", "members": list}))
        .await;
    let path = format!("/Groups/{}", g.body["id"].as_str().unwrap());
    let mut full = s.get(&path).await.body;
    // Make the body larger than the 1 MiB of the other surfaces, as a group of 50,000 is.
    for m in full["members"].as_array_mut().unwrap() {
        m["display"] = json!("d".repeat(250));
    }
    let v0 = versions(&s).await;
    let mut want: Vec<Value> = full["members"].as_array().unwrap()[2500..].to_vec();
    want.extend(
        ids[5000..]
            .iter()
            .map(|i| json!({"value": i, "display": "d".repeat(250)})),
    );
    full["members"] = json!(want);
    assert!(full.to_string().len() > 1024 * 1024 + 1);
    let r = s.put(&path, full.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let expected: BTreeSet<String> = ids[2500..].iter().cloned().collect();
    assert_eq!(members(&r.body), expected);
    let changed: BTreeSet<String> = ids[..2500].iter().chain(&ids[5000..]).cloned().collect();
    assert_eq!(
        moved(&v0, &versions(&s).await),
        changed,
        "only the difference moved"
    );
    // The same body again changes no member.
    let v1 = versions(&s).await;
    let r = s.put(&path, full).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(moved(&v1, &versions(&s).await).is_empty());

    let spc = s.get("/ServiceProviderConfig").await.body;
    let max = spc["bulk"]["maxPayloadSize"].as_u64().unwrap() as usize;
    let r = s.put(&path, json!({"displayName": "x".repeat(max)})).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(members(&s.get(&path).await.body), expected, "unchanged");
}

/// A tiny deterministic generator (no dependency, same cases on every run).
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// Random member PATCHes (add, remove by filter or by value list, replace, clear, mixed with
/// renames) compared with a set model after each request: the members and exactly the
/// versions of the users whose membership changed.
async fn member_patches_match_a_set_model(b: Backend) {
    let s = Scim::start(b).await;
    let pool = users(&s, "r", 12).await;
    let g = s.post("/Groups", json!({"displayName": "R"})).await;
    let path = format!("/Groups/{}", g.body["id"].as_str().unwrap());
    let mut model: BTreeSet<String> = BTreeSet::new();
    let mut rng = Rng(0x5eed);
    let seed = std::env::var("CASTELLAN_GROUP_SEED")
        .ok()
        .and_then(|v| v.parse().ok());
    if let Some(seed) = seed {
        rng = Rng(seed);
    }
    for case in 0..60 {
        let before = versions(&s).await;
        let start = model.clone();
        let mut ops = Vec::new();
        for _ in 0..1 + rng.next(4) {
            let pick = |rng: &mut Rng| -> Vec<String> {
                (0..1 + rng.next(4))
                    .map(|_| pool[rng.next(pool.len())].clone())
                    .collect()
            };
            match rng.next(6) {
                0 => {
                    let p = pick(&mut rng);
                    ops.push(json!({"op": "add", "path": "members", "value": p.iter().map(|i| json!({"value": i})).collect::<Vec<_>>()}));
                    model.extend(p);
                }
                1 => {
                    let p = pick(&mut rng);
                    ops.push(json!({"op": "remove", "path": "members", "value": p.iter().map(|i| json!({"value": i})).collect::<Vec<_>>()}));
                    p.iter().for_each(|i| {
                        model.remove(i);
                    });
                }
                2 => {
                    let p = pick(&mut rng);
                    let f = p
                        .iter()
                        .map(|i| format!("value eq \"{i}\""))
                        .collect::<Vec<_>>()
                        .join(" or ");
                    ops.push(json!({"op": "remove", "path": format!("members[{f}]")}));
                    p.iter().for_each(|i| {
                        model.remove(i);
                    });
                }
                3 => {
                    let p = pick(&mut rng);
                    ops.push(json!({"op": "replace", "path": "members", "value": p.iter().map(|i| json!({"value": i})).collect::<Vec<_>>()}));
                    model = p.into_iter().collect();
                }
                4 => {
                    let p = pick(&mut rng);
                    ops.push(json!({"op": "replace", "value": {"displayName": format!("R{case}"), "members": p.iter().map(|i| json!({"value": i})).collect::<Vec<_>>()}}));
                    model = p.into_iter().collect();
                }
                _ => {
                    ops.push(json!({"op": "remove", "path": "members"}));
                    model.clear();
                }
            }
        }
        let r = patch(&s, &path, json!(ops)).await;
        assert_eq!(
            r.status,
            StatusCode::NO_CONTENT,
            "case {case}: {ops:?} {}",
            r.body
        );
        let got = members(&s.get(&path).await.body);
        assert_eq!(got, model, "case {case}: {ops:?}");
        let mut changed: BTreeSet<String> = start.symmetric_difference(&model).cloned().collect();
        if ops.iter().any(|o| o["value"]["displayName"].is_string()) {
            // A rename moves the version of every member it had (their `groups` shows the name).
            changed.extend(start.iter().cloned());
        }
        let moved = moved(&before, &versions(&s).await);
        assert_eq!(moved, changed, "case {case}: {ops:?}");
    }
}

crate::backends!(
    member_changes_touch_only_those_members,
    get_then_put_large_group,
    member_patches_match_a_set_model
);
