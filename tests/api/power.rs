//! The rule of power over users (issue 12 §1), compared with a reference model: for generated
//! callers and targets (roles, group roles, overrides, memberships, management relations), every
//! sensitive endpoint answers exactly what the model allows, and a refused call changes nothing.
//! Changes that reach many people (a role's edit, a group's roles, an account's deletion) need
//! power over every one of them.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub const USERS_READ: &str = "castellan:users.read";
pub const USERS_WRITE: &str = "castellan:users.write";
pub const USERS_DELETE: &str = "castellan:users.delete";
const M_READ: &str = "castellan:users.read.managed";
const M_WRITE: &str = "castellan:users.write.managed";
const ROLES_WRITE: &str = "castellan:roles.write";
const GROUPS_WRITE: &str = "castellan:groups.write";
const ACCOUNTS_WRITE: &str = "castellan:accounts.write";
const TOKENS: &str = "castellan:tokens.manage";
const TRANSFER: &str = "castellan:owner.transfer";

/// Every `castellan:` permission (the Owner role's).
pub const ALL: [&str; 16] = [
    USERS_READ,
    USERS_WRITE,
    USERS_DELETE,
    M_READ,
    M_WRITE,
    "castellan:accounts.read",
    "castellan:accounts.write",
    "castellan:roles.read",
    ROLES_WRITE,
    "castellan:groups.read",
    GROUPS_WRITE,
    "castellan:settings.read",
    "castellan:settings.write",
    "castellan:audit.read",
    TOKENS,
    TRANSFER,
];

/// The roles generated users draw from: (name, template or None, permissions).
fn roles() -> Vec<(&'static str, Option<&'static str>, Vec<&'static str>)> {
    let admin: Vec<&str> = ALL.iter().copied().filter(|p| *p != TRANSFER).collect();
    vec![
        ("Administrator", Some("administrator"), admin),
        (
            "Manager",
            Some("manager"),
            vec![
                M_READ,
                M_WRITE,
                "castellan:accounts.read",
                "castellan:roles.read",
                "castellan:groups.read",
                "castellan:settings.read",
            ],
        ),
        ("Member", Some("member"), vec![]),
        (
            "Helpdesk",
            None,
            vec![M_READ, M_WRITE, USERS_DELETE, TOKENS, GROUPS_WRITE],
        ),
        ("Auditor", None, vec![USERS_READ, "castellan:audit.read"]),
        (
            "User admin",
            None,
            vec![USERS_READ, USERS_WRITE, TOKENS, GROUPS_WRITE],
        ),
    ]
}

/// A deterministic generator (xorshift64*), so that a failure can be replayed from its seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// One generated user and what the model knows of them.
#[derive(Clone, Debug, Default)]
struct Person {
    id: String,
    owner: bool,
    roles: Vec<usize>,
    grant: Option<&'static str>,
    deny: Option<&'static str>,
    in_admin_group: bool,
    accounts: Vec<usize>,
    /// What a caller manages: accounts, and targets directly (indices into the targets).
    manages_accounts: Vec<usize>,
    manages_targets: Vec<usize>,
    perms: BTreeSet<&'static str>,
    /// A role (without permissions) only this target holds, and a group only they are in,
    /// granting the world's `crest` role.
    badge: String,
    team: String,
}

impl Person {
    fn has(&self, p: &str) -> bool {
        self.perms.contains(p)
    }
}

fn generate(rng: &mut Rng, n_targets: usize) -> Person {
    let mut p = Person::default();
    let n_roles = rng.below(3);
    for _ in 0..n_roles {
        let r = rng.below(6);
        if !p.roles.contains(&r) {
            p.roles.push(r);
        }
    }
    if p.roles.is_empty() {
        p.roles.push(2);
    }
    if rng.one_in(3) {
        p.grant = Some(ALL[rng.below(ALL.len())]);
    }
    if rng.one_in(3) {
        let d = ALL[rng.below(ALL.len())];
        if Some(d) != p.grant {
            p.deny = Some(d);
        }
    }
    p.in_admin_group = rng.one_in(6);
    p.accounts = (0..2).filter(|_| rng.one_in(3)).collect();
    p.manages_accounts = (0..2).filter(|_| rng.one_in(3)).collect();
    p.manages_targets = (0..n_targets).filter(|_| rng.one_in(5)).collect();
    let table = roles();
    let mut perms: BTreeSet<&'static str> = p
        .roles
        .iter()
        .flat_map(|r| table[*r].2.iter().copied())
        .collect();
    if p.in_admin_group {
        perms.extend(table[0].2.iter().copied());
    }
    perms.extend(p.grant);
    if let Some(d) = p.deny {
        perms.remove(d);
    }
    p.perms = perms;
    p
}

/// Who calls: a generated user (through a token bound to them) or a tenant-wide token.
struct Caller {
    person: Option<Person>,
    token: String,
}

/// The reference model of the rule, written from the issue rather than from the code.
struct Model<'a> {
    c: &'a Caller,
    t: &'a Person,
    t_index: usize,
}

impl Model<'_> {
    fn wide(&self) -> bool {
        self.c.person.as_ref().is_none_or(|p| p.owner)
    }
    fn c(&self) -> &Person {
        self.c.person.as_ref().unwrap()
    }
    fn manages(&self) -> bool {
        let c = self.c();
        c.manages_targets.contains(&self.t_index)
            || c.manages_accounts
                .iter()
                .any(|a| self.t.accounts.contains(a))
    }
    /// May act on the target at all: owner only by the owner; delegated never over a
    /// tenant-wide administrator; the target's permissions a subset of the caller's.
    fn power(&self) -> bool {
        if self.wide() || self.c().id == self.t.id {
            return true;
        }
        let c = self.c();
        if self.t.owner {
            return false;
        }
        let delegated = !c.has(USERS_WRITE) && (c.has(M_READ) || c.has(M_WRITE));
        if delegated
            && [USERS_READ, USERS_WRITE, USERS_DELETE]
                .iter()
                .any(|p| self.t.has(p))
        {
            return false;
        }
        self.t.perms.iter().all(|p| c.has(p))
    }
    fn write_reach(&self) -> bool {
        self.wide() || self.c().has(USERS_WRITE) || (self.c().has(M_WRITE) && self.manages())
    }
    fn read_reach(&self) -> bool {
        if self.wide() {
            return true;
        }
        let c = self.c();
        c.has(USERS_READ)
            || c.has(USERS_WRITE)
            || ((c.has(M_READ) || c.has(M_WRITE)) && self.manages())
    }
    fn holds(&self, p: &str) -> bool {
        self.wide() || self.c().has(p)
    }
    fn user_write(&self) -> bool {
        self.write_reach() && self.power()
    }
    fn group_member(&self) -> bool {
        self.holds(GROUPS_WRITE) && self.power()
    }
    fn token_for(&self) -> bool {
        let held = self.wide()
            || self.c().has(ROLES_WRITE)
            || self.t.perms.iter().all(|p| self.c().has(p));
        self.holds(TOKENS) && held && self.power()
    }
    /// Editing a role the target holds; changing the roles of a group they are in.
    fn role_edit(&self) -> bool {
        self.holds(ROLES_WRITE) && self.power()
    }
    fn group_roles(&self) -> bool {
        self.holds(GROUPS_WRITE) && self.power()
    }
    fn management(&self) -> bool {
        // Making the target a manager needs unscoped users.write, then power over the target.
        (self.wide() || self.c().has(USERS_WRITE)) && self.power()
    }
    /// DELETE (or anonymise) with an If-Match no user matches: 412 once every check passed.
    fn delete(&self) -> StatusCode {
        if !self.holds(USERS_DELETE) || !self.read_reach() {
            StatusCode::FORBIDDEN
        } else if self.t.owner {
            StatusCode::CONFLICT
        } else if !self.power() {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::PRECONDITION_FAILED
        }
    }
}

/// Everything about a target a refused call could have changed.
async fn snapshot(s: &TestServer, id: &str) -> Value {
    let mut all = json!({});
    for part in [
        "",
        "/effective-permissions",
        "/factors",
        "/management",
        "/roles",
    ] {
        let (st, v) = s.get(&format!("/users/{id}{part}")).await;
        assert_eq!(st, StatusCode::OK, "{part}: {v}");
        all[part] = v;
    }
    // The target's tokens, without `last_used_at` (the callers' own tokens are used meanwhile).
    let (_, tokens) = s.get("/tokens").await;
    let mut theirs: Vec<Value> = tokens
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["user_id"] == id)
        .cloned()
        .collect();
    for t in &mut theirs {
        t.as_object_mut().unwrap().remove("last_used_at");
    }
    all["tokens"] = Value::Array(theirs);
    all
}

/// The parts of two snapshots that differ.
fn changed(before: &Value, after: &Value) -> Vec<String> {
    let (b, a) = (before.as_object().unwrap(), after.as_object().unwrap());
    b.keys()
        .filter(|k| b[*k] != a[*k])
        .map(|k| format!("{k}: {} -> {}", b[k], a[k]))
        .collect()
}

async fn create_role(s: &TestServer, name: &str, perms: &[&str]) -> String {
    let (st, r) = s
        .post("/roles", json!({"name": name, "permissions": perms}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    r["id"].as_str().unwrap().to_owned()
}

/// The population of one run: role ids, accounts, the group granting Administrator.
struct World {
    /// A role without permissions every target's team grants.
    crest: String,
    role_ids: Vec<String>,
    accounts: Vec<String>,
    spare_account: String,
    admin_group: String,
    empty_group: String,
}

async fn world(s: &TestServer) -> World {
    let mut role_ids = Vec::new();
    for (name, template, perms) in roles() {
        role_ids.push(match template {
            Some(t) => s.role_id(t).await,
            None => create_role(s, name, &perms).await,
        });
    }
    let mut accounts = Vec::new();
    for name in ["A0", "A1", "Spare"] {
        accounts.push(crate::accounts::create_account(s, name, "customer").await);
    }
    let spare_account = accounts.pop().unwrap();
    let mut groups = Vec::new();
    for name in ["Admins", "Empty"] {
        let (st, g) = s.post("/groups", json!({ "display_name": name })).await;
        assert_eq!(st, StatusCode::CREATED, "{g}");
        groups.push(g["id"].as_str().unwrap().to_owned());
    }
    let (st, g) = s
        .put(
            &format!("/groups/{}/roles/{}", groups[0], role_ids[0]),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{g}");
    World {
        crest: create_role(s, "Crest", &[]).await,
        role_ids,
        accounts,
        spare_account,
        empty_group: groups.pop().unwrap(),
        admin_group: groups.pop().unwrap(),
    }
}

/// Creates `p` through the API (tenant-wide token) and checks that the model's permissions
/// are the server's.
async fn materialise(s: &TestServer, w: &World, p: &mut Person, email: &str) {
    let role_ids: Vec<&str> = p.roles.iter().map(|r| w.role_ids[*r].as_str()).collect();
    let (st, u) = s
        .post(
            "/users",
            json!({"email": email, "status": "active", "role_ids": role_ids}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    p.id = u["id"].as_str().unwrap().to_owned();
    for a in &p.accounts {
        let (st, m) = s
            .post(
                &format!("/users/{}/memberships", p.id),
                json!({"account_id": w.accounts[*a]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{m}");
    }
    for (perm, effect) in [(p.grant, "grant"), (p.deny, "deny")] {
        if let Some(perm) = perm {
            let (st, o) = s
                .put(
                    &format!("/users/{}/overrides/{perm}", p.id),
                    json!({ "effect": effect }),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{o}");
        }
    }
    if p.in_admin_group {
        let (st, g) = s
            .put(
                &format!("/groups/{}/members/{}", w.admin_group, p.id),
                json!({}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{g}");
    }
    assert_eq!(castellan_perms(s, &p.id).await, p.perms, "model of {email}");
}

/// Gives `p` a role of their own and a group of their own granting the crest.
async fn personal(s: &TestServer, w: &World, p: &mut Person, n: usize) {
    p.badge = create_role(s, &format!("Badge {n}"), &[]).await;
    let (st, a) = s
        .post(
            &format!("/users/{}/roles", p.id),
            json!({ "role_id": p.badge }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let (st, g) = s
        .post("/groups", json!({ "display_name": format!("Team {n}") }))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{g}");
    p.team = g["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/groups/{}/members/{}", p.team, p.id),
        format!("/groups/{}/roles/{}", p.team, w.crest),
    ] {
        let (st, g) = s.put(&path, json!({})).await;
        assert_eq!(st, StatusCode::OK, "{g}");
    }
}

async fn castellan_perms(s: &TestServer, id: &str) -> BTreeSet<&'static str> {
    let (_, eff) = s.get(&format!("/users/{id}/effective-permissions")).await;
    let names: BTreeSet<String> = eff["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["permission"].as_str().unwrap().to_owned())
        .collect();
    ALL.iter().copied().filter(|p| names.contains(*p)).collect()
}

/// One probe: method, path, body, If-Match, what the model expects, and an undo when it
/// succeeded.
struct Probe {
    name: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
    if_match: Option<&'static str>,
    expect: StatusCode,
}

fn ok_or_forbidden(allowed: bool, ok: StatusCode) -> StatusCode {
    if allowed { ok } else { StatusCode::FORBIDDEN }
}

fn probes(m: &Model<'_>, w: &World, serial: usize) -> Vec<Probe> {
    let t = &m.t.id;
    let write = m.user_write();
    let p = |name, method, path: String, body, expect| Probe {
        name,
        method,
        path,
        body,
        if_match: None,
        expect,
    };
    let deactivate = match (write, m.t.owner) {
        (false, _) => StatusCode::FORBIDDEN,
        (true, true) => StatusCode::CONFLICT,
        (true, false) => StatusCode::OK,
    };
    let mut v = vec![
        p(
            "password",
            Method::PUT,
            format!("/users/{t}/password"),
            Some(json!({"password": "short"})),
            ok_or_forbidden(write, StatusCode::UNPROCESSABLE_ENTITY),
        ),
        p(
            "email",
            Method::PATCH,
            format!("/users/{t}"),
            Some(json!({"email": format!("changed-{serial}@example.com"), "display_name": "X"})),
            ok_or_forbidden(write, StatusCode::OK),
        ),
        p(
            "factors reset",
            Method::POST,
            format!("/users/{t}/factors/reset"),
            None,
            ok_or_forbidden(write, StatusCode::OK),
        ),
        p(
            "deactivate",
            Method::POST,
            format!("/users/{t}/deactivate"),
            None,
            deactivate,
        ),
        p(
            "invitation",
            Method::POST,
            format!("/users/{t}/invitation"),
            Some(json!({"expires_in_days": 0})),
            ok_or_forbidden(write, StatusCode::UNPROCESSABLE_ENTITY),
        ),
        p(
            "invitation state",
            Method::GET,
            format!("/users/{t}/invitation"),
            None,
            ok_or_forbidden(m.read_reach(), StatusCode::OK),
        ),
        p(
            "join group",
            Method::PUT,
            format!("/groups/{}/members/{t}", w.empty_group),
            Some(json!({})),
            ok_or_forbidden(m.group_member(), StatusCode::OK),
        ),
        p(
            "token",
            Method::POST,
            "/tokens".into(),
            Some(json!({"name": "probe", "user_id": t})),
            ok_or_forbidden(m.token_for(), StatusCode::CREATED),
        ),
        p(
            "management",
            Method::POST,
            format!("/users/{t}/management"),
            Some(json!({"kind": "account", "id": w.spare_account})),
            ok_or_forbidden(m.management(), StatusCode::CREATED),
        ),
    ];
    if !m.t.badge.is_empty() {
        v.extend([
            p(
                "role edit",
                Method::PATCH,
                format!("/roles/{}", m.t.badge),
                Some(json!({"description": format!("probe {serial}")})),
                ok_or_forbidden(m.role_edit(), StatusCode::OK),
            ),
            p(
                "role permissions",
                Method::PATCH,
                format!("/roles/{}", m.t.badge),
                Some(json!({"permissions": []})),
                ok_or_forbidden(m.role_edit(), StatusCode::OK),
            ),
            p(
                "group role add",
                Method::PUT,
                format!("/groups/{}/roles/{}", m.t.team, m.t.badge),
                Some(json!({})),
                ok_or_forbidden(m.group_roles(), StatusCode::OK),
            ),
            p(
                "group role remove",
                Method::DELETE,
                format!("/groups/{}/roles/{}", m.t.team, w.crest),
                None,
                ok_or_forbidden(m.group_roles(), StatusCode::OK),
            ),
        ]);
    }
    for (name, method, path) in [
        ("delete", Method::DELETE, format!("/users/{t}")),
        ("anonymise", Method::POST, format!("/users/{t}/anonymise")),
    ] {
        v.push(Probe {
            name,
            method,
            path,
            body: None,
            if_match: Some("W/\"0\""),
            expect: m.delete(),
        });
    }
    v
}

/// Undoes a probe that succeeded, so that every pair meets the same target.
async fn undo(s: &TestServer, w: &World, probe: &Probe, target: &Person, answer: &Value) {
    let t = &target.id;
    let (path, method) = match probe.name {
        "deactivate" => (format!("/users/{t}/reactivate"), Method::POST),
        "join group" => (
            format!("/groups/{}/members/{t}", w.empty_group),
            Method::DELETE,
        ),
        "token" => (
            format!("/tokens/{}", answer["id"].as_str().unwrap()),
            Method::DELETE,
        ),
        "management" => (
            format!("/users/{t}/management/{}", answer["id"].as_str().unwrap()),
            Method::DELETE,
        ),
        "group role add" => (
            format!("/groups/{}/roles/{}", target.team, target.badge),
            Method::DELETE,
        ),
        "group role remove" => (
            format!("/groups/{}/roles/{}", target.team, w.crest),
            Method::PUT,
        ),
        _ => return,
    };
    let body = (method == Method::PUT).then(|| json!({}));
    let (st, v) = s.call(method, &path, body).await;
    assert!(st.is_success(), "undo {}: {st} {v}", probe.name);
}

async fn send(s: &TestServer, token: &str, probe: &Probe) -> (StatusCode, Value) {
    let mut req = s
        .client
        .request(probe.method.clone(), s.url(&probe.path))
        .bearer_auth(token);
    if let Some(b) = &probe.body {
        req = req.json(b);
    }
    if let Some(v) = probe.if_match {
        req = req.header("if-match", v);
    }
    let res = req.send().await.unwrap();
    let st = res.status();
    let text = res.text().await.unwrap();
    (st, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Changes that reach many people at once: editing the Administrator role (everyone holding it,
/// directly or through the Admins group) and deleting an account (everyone with a membership
/// there: 409 once allowed, as the account still has memberships). Returns (allowed, refused).
async fn reaching_many(
    s: &TestServer,
    w: &World,
    c: &Caller,
    everyone: &[Person],
    ci: usize,
) -> (usize, usize) {
    let over_all = |people: Vec<&Person>| {
        people.into_iter().all(|t| {
            Model {
                c,
                t,
                t_index: usize::MAX,
            }
            .power()
        })
    };
    let holds = |p: &str| c.person.as_ref().is_none_or(|me| me.owner || me.has(p));
    let admins: Vec<&Person> = everyone
        .iter()
        .filter(|p| p.roles.contains(&0) || p.in_admin_group)
        .collect();
    let mut probes = vec![(
        format!("/roles/{}", w.role_ids[0]),
        Method::PATCH,
        ok_or_forbidden(holds(ROLES_WRITE) && over_all(admins), StatusCode::OK),
    )];
    for (k, account) in w.accounts.iter().enumerate() {
        let members: Vec<&Person> = everyone
            .iter()
            .filter(|p| p.accounts.contains(&k))
            .collect();
        if members.is_empty() {
            continue;
        }
        probes.push((
            format!("/accounts/{account}"),
            Method::DELETE,
            ok_or_forbidden(
                holds(ACCOUNTS_WRITE) && over_all(members),
                StatusCode::CONFLICT,
            ),
        ));
    }
    let (mut allowed, mut refused) = (0, 0);
    for (path, method, expect) in probes {
        let (_, before) = s.get(&path).await;
        let probe = Probe {
            name: "reaching many",
            method: method.clone(),
            path: path.clone(),
            body: (method == Method::PATCH).then(|| json!({"description": format!("by {ci}")})),
            if_match: None,
            expect,
        };
        let (st, answer) = send(s, &c.token, &probe).await;
        assert_eq!(
            st,
            expect,
            "caller {ci} {:?}: {method} {path}: {answer}",
            c.person.as_ref().map(|p| &p.perms)
        );
        if st == StatusCode::FORBIDDEN {
            refused += 1;
            assert_eq!(answer["status"], 403, "{answer}");
            assert_eq!(
                s.get(&path).await.1,
                before,
                "a refused {method} {path} changed it"
            );
        } else {
            allowed += 1;
        }
    }
    (allowed, refused)
}

async fn rule_of_power_matches_the_model(b: Backend) {
    let seed: u64 = std::env::var("CASTELLAN_POWER_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED_0012);
    let (n_callers, n_targets) = (9, 8);
    let mut rng = Rng(seed);
    let s = TestServer::start(b).await;
    let w = world(&s).await;
    let (_, owner) = s.get("/owner").await;
    let owner_id = owner["id"].as_str().unwrap().to_owned();
    let owner_person = Person {
        id: owner_id.clone(),
        owner: true,
        perms: ALL.iter().copied().collect(),
        ..Person::default()
    };
    let mut targets = vec![owner_person.clone()];
    for i in 0..n_targets {
        let mut p = generate(&mut rng, 0);
        materialise(&s, &w, &mut p, &format!("target{i}@example.com")).await;
        targets.push(p);
    }
    for (n, t) in targets.iter_mut().enumerate() {
        personal(&s, &w, t, n).await;
    }
    let mut callers = vec![
        Caller {
            person: None,
            token: s.token.clone(),
        },
        Caller {
            person: Some(owner_person),
            token: s.token_for("acme", &owner_id).await,
        },
    ];
    for i in 0..n_callers {
        let mut p = generate(&mut rng, targets.len());
        materialise(&s, &w, &mut p, &format!("caller{i}@example.com")).await;
        for a in &p.manages_accounts {
            let body = json!({"kind": "account", "id": w.accounts[*a]});
            let (st, m) = s.post(&format!("/users/{}/management", p.id), body).await;
            assert_eq!(st, StatusCode::CREATED, "{m}");
        }
        for t in &p.manages_targets {
            let body = json!({"kind": "user", "id": targets[*t].id});
            let (st, m) = s.post(&format!("/users/{}/management", p.id), body).await;
            assert_eq!(st, StatusCode::CREATED, "{m}");
        }
        let token = s.token_for("acme", &p.id).await;
        callers.push(Caller {
            person: Some(p),
            token,
        });
    }
    let everyone: Vec<Person> = targets
        .iter()
        .chain(callers.iter().filter_map(|c| c.person.as_ref()))
        .cloned()
        .collect();
    let (mut allowed, mut refused, mut serial) = (0, 0, 0);
    for (ci, c) in callers.iter().enumerate() {
        let (a, r) = reaching_many(&s, &w, c, &everyone, ci).await;
        allowed += a;
        refused += r;
        // Every target, and the caller themselves (index past the targets: managed only
        // through an account).
        let own = c.person.iter().filter(|p| !p.owner).cloned();
        let pairs: Vec<Person> = targets.iter().cloned().chain(own).collect();
        for (ti, t) in pairs.iter().enumerate() {
            let m = Model { c, t, t_index: ti };
            let mut before = snapshot(&s, &t.id).await;
            for probe in probes(&m, &w, serial) {
                serial += 1;
                let (st, answer) = send(&s, &c.token, &probe).await;
                let what = format!(
                    "seed {seed:#x}, caller {ci} {:?}, target {ti} {:?}: {} {}",
                    c.person.as_ref().map(|p| &p.perms),
                    t.perms,
                    probe.name,
                    answer
                );
                assert_eq!(st, probe.expect, "{what}");
                if st == StatusCode::FORBIDDEN {
                    refused += 1;
                    assert_eq!(answer["status"], 403, "problem+json: {what}");
                    let after = snapshot(&s, &t.id).await;
                    let diff = changed(&before, &after);
                    assert!(diff.is_empty(), "a refused call changed {diff:?}: {what}");
                } else {
                    allowed += 1;
                    if st.is_success() {
                        undo(&s, &w, &probe, t, &answer).await;
                    }
                    before = snapshot(&s, &t.id).await;
                }
            }
        }
    }
    eprintln!("rule of power, seed {seed:#x}: {allowed} calls allowed, {refused} refused");
    assert!(
        allowed > 100 && refused > 100,
        "a matrix worth its name: {allowed} allowed, {refused} refused"
    );
}

backends!(rule_of_power_matches_the_model);
