//! The differential test of filters, sorting and paging: generated populations (mixed case,
//! non-ASCII letters and accents, shared prefixes, missing values, multi-valued attributes,
//! timestamps stored to the microsecond, compared with literals of 1 to 9 fractional digits)
//! and generated requests, each answered by the server over HTTP and by the reference
//! evaluator (reference.rs); every answer must agree.
//! Runs on SQLite, PostgreSQL, and PostgreSQL in a database whose LC_CTYPE is `C`.
//! `SCIM_DIFF_SEED` picks the seed (fixed by default), `SCIM_DIFF_CASES` the number of requests
//! per database (default 1500).

use crate::common::Backend;
use crate::reference;
use crate::{Scim, enc};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// splitmix64: small, seedable, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "zoë",
    "ZOË",
    "Zoe",
    "zoé",
    "Émile",
    "émile",
    "EMILE",
    "Ørsted",
    "ørsted",
    "ØRSTED",
    "straße",
    "STRASSE",
    "anna",
    "Anna",
    "annabel",
    "ANNE",
    "ann",
    "Σίσυφος",
    "ΣΊΣΥΦΟΣ",
    "al_ice",
    "al%ice",
    "O'Brien",
    "Łukasz",
    "łukasz",
    "Ǆemal",
    "İlker",
    "bob",
    "Bob",
    "BOBBY",
];
const TITLES: &[&str] = &[
    "Engineer",
    "engineer",
    "ENGINEER LEAD",
    "Ingénieur",
    "INGÉNIEUR",
];
const DOMAINS: &[&str] = &["example.com", "Example.ORG", "corp.example", "exämple.de"];
const TYPES: &[&str] = &["work", "home", "Work", "other"];
const PLACES: &[&str] = &["Zürich", "ZÜRICH", "zurich", "Malmö", "MALMÖ", "Oslo"];
const DEPARTMENTS: &[&str] = &["R&D", "r&d", "Sälj", "SÄLJ"];

fn user(rng: &mut Rng, i: usize) -> Value {
    let w = |rng: &mut Rng| rng.pick(WORDS).to_string();
    let mut u = json!({ "userName": format!("{}.{i}", w(rng)) });
    if rng.chance(75) {
        u["displayName"] = json!(format!("{} {}", w(rng), w(rng)));
    }
    let mut name = serde_json::Map::new();
    if rng.chance(70) {
        name.insert("familyName".into(), json!(w(rng)));
    }
    if rng.chance(50) {
        name.insert("givenName".into(), json!(w(rng)));
    }
    if !name.is_empty() {
        u["name"] = Value::Object(name);
    }
    if rng.chance(60) {
        u["title"] = json!(rng.pick(TITLES));
    }
    if rng.chance(60) {
        let e = if rng.chance(50) { "Ext" } else { "ext" };
        u["externalId"] = json!(format!("{e}-{}", i % 7));
    }
    u["active"] = json!(rng.chance(70));
    let n = rng.below(4);
    let primary = rng.below(n + 1);
    let emails: Vec<Value> = (0..n)
        .map(|k| {
            json!({"value": format!("{}{i}x{k}@{}", w(rng).to_lowercase(), rng.pick(DOMAINS)),
                   "type": rng.pick(TYPES), "primary": k == primary})
        })
        .collect();
    if !emails.is_empty() {
        u["emails"] = json!(emails);
    }
    let phones: Vec<Value> = (0..rng.below(3))
        .map(|k| json!({"value": format!("(555) 01{i:02}{k}"), "type": rng.pick(TYPES)}))
        .collect();
    if !phones.is_empty() {
        u["phoneNumbers"] = json!(phones);
    }
    let addresses: Vec<Value> = (0..rng.below(3))
        .map(|_| json!({"locality": rng.pick(PLACES), "type": rng.pick(TYPES)}))
        .collect();
    if !addresses.is_empty() {
        u["addresses"] = json!(addresses);
    }
    if rng.chance(40) {
        u[ENT] = json!({"department": rng.pick(DEPARTMENTS)});
    }
    u
}

/// An attribute a leaf names, and how its literals are made.
#[derive(Clone, Copy)]
enum Lit {
    Text,
    Time,
    Bool,
}

const LEAVES: &[(&str, Lit, bool)] = &[
    // (path, literal kind, single-valued)
    ("userName", Lit::Text, true),
    ("displayName", Lit::Text, true),
    ("name.familyName", Lit::Text, true),
    ("name.givenName", Lit::Text, true),
    ("title", Lit::Text, true),
    ("externalId", Lit::Text, true),
    ("emails.value", Lit::Text, false),
    ("emails.type", Lit::Text, false),
    ("emails", Lit::Text, false),
    ("phoneNumbers.value", Lit::Text, false),
    ("addresses.locality", Lit::Text, false),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        Lit::Text,
        true,
    ),
    ("meta.created", Lit::Time, true),
    ("meta.lastModified", Lit::Time, true),
    ("active", Lit::Bool, true),
    ("emails.primary", Lit::Bool, false),
    ("schemas", Lit::Text, false),
    // Listed by /Schemas, no value stored (item 4): as a missing value.
    ("password", Lit::Text, true),
    ("name", Lit::Text, true),
    ("addresses", Lit::Text, false),
    // The groups the population's groups give the users.
    ("groups.value", Lit::Text, false),
    ("groups.display", Lit::Text, false),
    ("groups.type", Lit::Text, false),
    ("groups.$ref", Lit::Text, false),
];
const PRESENT: &[&str] = &[
    "displayName",
    "title",
    "name",
    "name.givenName",
    "addresses",
    "emails",
    "phoneNumbers",
    "externalId",
    "schemas",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "groups.type",
    "groups.$ref",
    "password",
];
const OPS: &[&str] = &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];

/// Strings the population holds at `path` (from the representations).
fn seen(pop: &[Value], path: &str) -> Vec<String> {
    let p = castellan::scim::filter::parse_attr_path(path).unwrap();
    let mut out = vec![];
    for r in pop {
        collect(r, &p, &mut out);
    }
    out
}

fn collect(r: &Value, p: &castellan::scim::filter::AttrPath, out: &mut Vec<String>) {
    let base = match &p.uri {
        Some(u) => &r[u.as_str()],
        None => r,
    };
    let v = &base[p.name.as_str()];
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    for it in items {
        let x = match (&p.sub, it) {
            (Some(s), _) => &it[s.as_str()],
            (None, Value::Object(_)) => &it["value"],
            (None, x) => x,
        };
        if let Some(s) = x.as_str() {
            out.push(s.to_owned());
        }
    }
}

fn text_literal(rng: &mut Rng, pop: &[Value], path: &str, op: &str) -> String {
    let seen = seen(pop, path);
    let base = if seen.is_empty() || rng.chance(15) {
        rng.pick(WORDS).to_string()
    } else {
        rng.pick(&seen).clone()
    };
    let base = match rng.below(4) {
        0 => base.to_uppercase(),
        1 => base.to_lowercase(),
        _ => base,
    };
    let chars: Vec<char> = base.chars().collect();
    let mut s: String = if matches!(op, "co" | "sw" | "ew") && chars.len() > 1 {
        let a = rng.below(chars.len());
        let b = a + 1 + rng.below(chars.len() - a);
        match op {
            "sw" => chars[..b].iter().collect(),
            "ew" => chars[a..].iter().collect(),
            _ => chars[a..b].iter().collect(),
        }
    } else {
        base
    };
    // Operands are compared as sent, and LIKE's metacharacters are literal.
    match rng.below(12) {
        0 => s.insert(0, ' '),
        1 => s.push('%'),
        2 => s.insert(0, '_'),
        _ => {}
    }
    s
}

fn time_literal(rng: &mut Rng, pop: &[Value], path: &str) -> String {
    let seen = seen(pop, path);
    let ns = reference::nanos(rng.pick(&seen).as_str()).unwrap();
    // Nanoseconds: the same instant, a few digits below the microsecond, a microsecond or a
    // millisecond away; then written with 1 to 9 fractional digits (the rest cut off).
    let delta: i128 = *rng.pick(&[
        0, 0, 1, -1, 500, 1_000, -1_000, 200_000, -200_000, 1_000_000, -1_000_000,
    ]);
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ns + delta).unwrap();
    let whole = t
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let digits = format!("{:09}", t.nanosecond());
    let kept = 1 + rng.below(9);
    format!("{}.{}Z", whole.trim_end_matches('Z'), &digits[..kept])
}

/// Whether some stored instant has digits below the millisecond (none would if the server
/// kept milliseconds only).
fn has_sub_millisecond_instants(pop: &[Value]) -> bool {
    ["meta.created", "meta.lastModified"]
        .iter()
        .flat_map(|p| seen(pop, p))
        .any(|t| reference::nanos(&t).is_some_and(|ns| ns % 1_000_000 != 0))
}

fn leaf(rng: &mut Rng, pop: &[Value]) -> String {
    if rng.chance(15) {
        return format!("{} pr", rng.pick(PRESENT));
    }
    if rng.chance(10) {
        let t = rng.pick(TYPES);
        let op = rng.pick(&["eq", "co", "sw", "ew"]);
        let lit = text_literal(rng, pop, "emails.value", op);
        return if rng.chance(50) {
            // Entra's form (item 8).
            format!("emails[type eq {}].value {op} {}", json!(t), json!(lit))
        } else {
            format!("emails[type eq {} and value {op} {}]", json!(t), json!(lit))
        };
    }
    if rng.chance(5) {
        let lit = text_literal(rng, pop, "phoneNumbers.value", "co");
        return format!("phoneNumbers[value co {}]", json!(lit));
    }
    if rng.chance(5) {
        let lit = text_literal(rng, pop, "addresses.locality", "eq");
        return format!(
            "addresses[locality eq {} or type eq {}]",
            json!(lit),
            json!(rng.pick(TYPES))
        );
    }
    let (path, lit, single) = *rng.pick(LEAVES);
    match lit {
        Lit::Bool => format!("{path} {} {}", rng.pick(&["eq", "ne"]), rng.chance(50)),
        Lit::Time => {
            let op = rng.pick(&["eq", "ne", "gt", "ge", "lt", "le"]);
            format!("{path} {op} {}", json!(time_literal(rng, pop, path)))
        }
        Lit::Text if path == "schemas" => {
            let urn = rng.pick(&[
                ENT,
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER",
            ]);
            format!("schemas {} {}", rng.pick(&["eq", "ne"]), json!(urn))
        }
        Lit::Text if single && rng.chance(5) => {
            format!("{path} {} null", rng.pick(&["eq", "ne"]))
        }
        Lit::Text => {
            let op = rng.pick(OPS);
            format!("{path} {op} {}", json!(text_literal(rng, pop, path, op)))
        }
    }
}

type Leaf = fn(&mut Rng, &[Value]) -> String;

fn filter(rng: &mut Rng, pop: &[Value], depth: usize, leaf: Leaf) -> String {
    if depth == 0 || rng.chance(45) {
        return leaf(rng, pop);
    }
    match rng.below(7) {
        0..=2 => format!(
            "({} and {})",
            filter(rng, pop, depth - 1, leaf),
            filter(rng, pop, depth - 1, leaf)
        ),
        3..=5 => format!(
            "{} or {}",
            filter(rng, pop, depth - 1, leaf),
            filter(rng, pop, depth - 1, leaf)
        ),
        _ => format!("not ({})", filter(rng, pop, depth - 1, leaf)),
    }
}

/// A group: displayName in mixed case or non-ASCII (shared by some groups), an externalId
/// sometimes, and a few of `users` as members.
fn group(rng: &mut Rng, i: usize, users: &[String]) -> Value {
    let name = match rng.below(3) {
        0 => rng.pick(WORDS).to_string(),
        1 => format!("{} team", rng.pick(WORDS)),
        _ => format!("{}.{i}", rng.pick(WORDS)),
    };
    let mut g = json!({ "displayName": name });
    if rng.chance(60) {
        let e = if rng.chance(50) { "Grp" } else { "grp" };
        g["externalId"] = json!(format!("{e}-{}", i % 5));
    }
    let mut members: Vec<&String> = (0..rng.below(5)).map(|_| rng.pick(users)).collect();
    members.sort();
    members.dedup();
    if !members.is_empty() || rng.chance(50) {
        g["members"] = json!(
            members
                .iter()
                .map(|m| json!({"value": m}))
                .collect::<Vec<_>>()
        );
    }
    g
}

const GROUP_LEAVES: &[(&str, Lit, bool)] = &[
    ("displayName", Lit::Text, true),
    ("externalId", Lit::Text, true),
    ("id", Lit::Text, true),
    ("members.value", Lit::Text, false),
    ("members", Lit::Text, false),
    ("members.type", Lit::Text, false),
    ("members.$ref", Lit::Text, false),
    ("meta.created", Lit::Time, true),
    ("meta.lastModified", Lit::Time, true),
];
const GROUP_PRESENT: &[&str] = &[
    "displayName",
    "externalId",
    "members",
    "members.value",
    "members.type",
    "members.$ref",
    "schemas",
    "id",
];
const GROUP_SORTS: &[&str] = &[
    "displayName",
    "externalId",
    "id",
    "meta.created",
    "meta.lastModified",
    "members.value",
];

fn group_leaf(rng: &mut Rng, pop: &[Value]) -> String {
    if rng.chance(12) {
        return format!("{} pr", rng.pick(GROUP_PRESENT));
    }
    if rng.chance(10) {
        let lit = text_literal(rng, pop, "members.value", "eq");
        return if rng.chance(50) {
            format!("members[value eq {}]", json!(lit))
        } else {
            let t = rng.pick(&["User", "user", "Group"]);
            format!("members[type eq {} and value eq {}]", json!(t), json!(lit))
        };
    }
    let (path, lit, single) = *rng.pick(GROUP_LEAVES);
    match lit {
        Lit::Time => {
            let op = rng.pick(&["eq", "ne", "gt", "ge", "lt", "le"]);
            format!("{path} {op} {}", json!(time_literal(rng, pop, path)))
        }
        Lit::Text if single && rng.chance(5) => {
            format!("{path} {} null", rng.pick(&["eq", "ne"]))
        }
        _ => {
            let op = rng.pick(OPS);
            format!("{path} {op} {}", json!(text_literal(rng, pop, path, op)))
        }
    }
}

const SORTS: &[&str] = &[
    "userName",
    "displayName",
    "name.familyName",
    "name.givenName",
    "title",
    "externalId",
    "emails.value",
    "emails",
    "meta.created",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
];

/// A list request, as sent and as the reference sees it.
struct Request {
    filter: Option<String>,
    sort: Option<&'static str>,
    descending: bool,
    start: usize,
    count: usize,
}

fn request(rng: &mut Rng, pop: &[Value], leaf: Leaf, sorts: &[&'static str]) -> Request {
    let filter = rng.chance(92).then(|| filter(rng, pop, 3, leaf));
    let sort = rng.chance(60).then(|| *rng.pick(sorts));
    Request {
        filter,
        sort,
        descending: rng.chance(50) && sort.is_some(),
        start: 1 + rng.below(pop.len() + 2),
        count: rng.below(pop.len() + 2),
    }
}

/// Sends `r` to `/{resource}` and compares the answer with the reference's; a description of
/// the disagreement, if any.
async fn check(s: &Scim, resource: &str, pop: &[Value], r: &Request) -> Option<String> {
    let mut q = format!("startIndex={}&count={}", r.start, r.count);
    if let Some(f) = &r.filter {
        q.push_str(&format!("&filter={}", enc(f)));
    }
    if let Some(sb) = r.sort {
        q.push_str(&format!("&sortBy={}", enc(sb)));
        if r.descending {
            q.push_str("&sortOrder=descending");
        }
    }
    let parsed = r
        .filter
        .as_deref()
        .map(|f| castellan::scim::filter::parse(f).expect(f));
    let sort_path = r
        .sort
        .map(|s| castellan::scim::filter::parse_attr_path(s).unwrap());
    let (want, total) = reference::answer(
        pop,
        parsed.as_ref(),
        sort_path.as_ref(),
        r.descending,
        r.start,
        r.count,
    );
    let a = s.get(&format!("/{resource}?{q}")).await;
    let got: Vec<String> = a.body["Resources"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|x| x["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let got_total = a.body["totalResults"].as_u64().unwrap_or(u64::MAX) as usize;
    if a.status == StatusCode::OK && got == want && got_total == total {
        return None;
    }
    let name = |id: &String| {
        pop.iter()
            .find(|r| r["id"] == *id)
            .and_then(|r| r["userName"].as_str().or(r["displayName"].as_str()))
            .map(str::to_owned)
            .unwrap_or_else(|| id.clone())
    };
    Some(format!(
        "/{resource}?{q}\n  filter: {:?}\n  status {} {}; total {got_total}, reference {total}\n  server:    {:?}\n  reference: {:?}",
        r.filter,
        a.status,
        if a.status == StatusCode::OK {
            Value::Null
        } else {
            a.body.clone()
        },
        got.iter().map(name).collect::<Vec<_>>(),
        want.iter().map(name).collect::<Vec<_>>()
    ))
}

/// Every resource of a type, as the server shows them.
async fn everything(s: &Scim, resource: &str) -> Vec<Value> {
    let all = s.get(&format!("/{resource}?count=1000")).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    all.body["Resources"].as_array().unwrap().clone()
}

async fn differential(b: Backend) {
    let seed: u64 = std::env::var("SCIM_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(13);
    let cases: usize = std::env::var("SCIM_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let mut rng = Rng(seed);
    let populations = 4;
    let (mut users_ran, mut groups_ran) = (0, 0);
    let mut failures = vec![];
    let started = std::time::Instant::now();
    for _ in 0..populations {
        let s = Scim::start(b).await;
        let size = 20 + rng.below(15);
        let mut ids = vec![];
        for i in 0..size {
            let body = user(&mut rng, i);
            let a = s.post("/Users", body.clone()).await;
            assert_eq!(a.status, StatusCode::CREATED, "{body}: {}", a.body);
            ids.push(a.body["id"].as_str().unwrap().to_owned());
        }
        for i in 0..6 + rng.below(8) {
            let body = group(&mut rng, i, &ids);
            let a = s.post("/Groups", body.clone()).await;
            assert_eq!(a.status, StatusCode::CREATED, "{body}: {}", a.body);
        }
        // Read after the groups: a user's `groups` and lastModified change with them.
        let users = everything(&s, "Users").await;
        assert_eq!(users.len(), size + 1, "the population and the owner");
        let groups = everything(&s, "Groups").await;
        for pop in [&users, &groups] {
            assert!(
                has_sub_millisecond_instants(pop),
                "stored instants keep microseconds"
            );
        }
        for _ in 0..cases.div_ceil(populations) {
            let failure = if rng.chance(70) {
                users_ran += 1;
                let r = request(&mut rng, &users, leaf, SORTS);
                check(&s, "Users", &users, &r).await
            } else {
                groups_ran += 1;
                let r = request(&mut rng, &groups, group_leaf, GROUP_SORTS);
                check(&s, "Groups", &groups, &r).await
            };
            failures.extend(failure);
        }
    }
    let ran = users_ran + groups_ran;
    eprintln!(
        "differential ({b:?}, seed {seed}): {ran} cases ({users_ran} /Users, {groups_ran} /Groups) in {:.1?}, {} disagreements",
        started.elapsed(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} cases disagree with the reference (seed {seed}); first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

mod against_reference {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::differential(crate::common::Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::differential(crate::common::Backend::Postgres).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_lc_ctype_c() {
        super::differential(crate::common::Backend::PostgresC).await
    }
}
