//! The store's one-statement token paths (issue 16), on SQLite and PostgreSQL: concurrent
//! exchanges of one refresh token or one authorization code let exactly one through; what a user
//! holds is read in one query and agrees with the explained permissions; an access token's state
//! (revocation, session, grant) is read in one query, scoped to its tenant.

#[path = "api/common.rs"]
#[allow(dead_code)]
mod common;

use castellan::domain::audit::Actor;
use castellan::domain::changes::NewUser;
use castellan::domain::permissions::HeldAccount;
use castellan::domain::*;
use castellan::store::Store;
use common::TestDb;
use time::Duration;

async fn fresh(b: common::Backend) -> (TestDb, Store, Tenant, User) {
    let db = TestDb::new(b).await;
    let store = Store::connect(&db.url).await.unwrap();
    let store = store
        .unlock(castellan::domain::sealing::MasterKey::generate())
        .await
        .unwrap();
    let (tenant, owner) = castellan::cli::create_tenant(&store, "acme", "Acme", "owner@acme.test")
        .await
        .unwrap();
    (db, store, tenant, owner)
}

async fn client(store: &Store, tenant: &TenantId, id: &str) -> ClientId {
    use castellan::domain::oidc::*;
    let settings = ClientSettings {
        name: format!("App {id}"),
        kind: ClientKind::Confidential,
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        redirect_uris: vec!["https://app.test/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: vec!["openid".into()],
        permission_namespaces: vec![],
        first_party: true,
        id_token_signed_response_alg: KeyAlg::ES256,
        access_token_ttl: 300,
        refresh_token_ttl: 3600,
        token_claims_budget: 8192,
        jwks: None,
        backchannel_logout_uri: None,
        backchannel_logout_session_required: true,
    };
    store
        .insert_client(tenant, id, &settings, Some("hash"), &Actor::system())
        .await
        .unwrap()
        .id
}

fn grant(id: &str, client: ClientId, user: &UserId, session: Option<&str>) -> sessions::Grant {
    let now = clock::now_ms();
    sessions::Grant {
        id: id.into(),
        client_id: client,
        user_id: user.clone(),
        session_id: session.map(str::to_owned),
        offline: session.is_none(),
        scope: "openid offline_access".into(),
        auth_time: now,
        amr: vec!["pwd".into()],
        acr: None,
        created_at: now,
        expires_at: now + 3_600_000,
        revoked_at: None,
    }
}

fn token(hash: &str, grant: &str) -> sessions::RefreshToken {
    let now = clock::now_ms();
    sessions::RefreshToken {
        token_hash: hash.into(),
        grant_id: grant.into(),
        created_at: now,
        expires_at: now + 3_600_000,
        used_at: None,
    }
}

fn rotation(hash: &str) -> sessions::Rotation {
    let now = clock::now_ms();
    sessions::Rotation {
        token_hash: hash.into(),
        created_at: now,
        expires_at: now + 3_600_000,
    }
}

/// A session `id` of `user`, signed in now with a password, for an hour.
fn session(id: &str, user: &UserId) -> sessions::Session {
    let now = clock::now_ms();
    sessions::Session {
        id: id.into(),
        secret_hash: format!("secret-{id}"),
        user_id: user.clone(),
        auth_time: now,
        amr: vec!["pwd".into()],
        acr: None,
        created_at: now,
        last_seen_at: now,
        expires_at: now + 3_600_000,
        ended_at: None,
        remember: false,
    }
}

/// An unused authorization code `hash` of `client` for `user` in `session`, valid a minute.
fn auth_code(hash: &str, client: &ClientId, user: &UserId, session: &str) -> sessions::AuthCode {
    let now = clock::now_ms();
    sessions::AuthCode {
        code_hash: hash.into(),
        client_id: client.clone(),
        user_id: user.clone(),
        session_id: session.into(),
        redirect_uri: "https://app.test/cb".into(),
        scope: "openid".into(),
        nonce: Some("n".into()),
        code_challenge: "challenge".into(),
        auth_time: now,
        created_at: now,
        expires_at: now + 60_000,
        used: false,
    }
}

/// Sixteen concurrent refreshes of one refresh token, each with its own successor: exactly one
/// exchanges it, only its successor exists (unused, capped at the grant's expiry), and every
/// other reads the token used or (PostgreSQL's snapshot) still unused but not exchanged, which
/// the refresh grant counts as reuse.
async fn concurrent_rotations_let_one_through(b: common::Backend) {
    let (_db, store, tenant, owner) = fresh(b).await;
    let c = client(&store, &tenant.id, "app").await;
    let g = grant("g1", c.clone(), &owner.id, None);
    store
        .insert_grant(&tenant.id, &g, &token("rt-0", "g1"))
        .await
        .unwrap();
    // Remembered: the refreshes read that it has not changed.
    store.holdings(&tenant.id, &owner.id, true).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (store, t, c) = (store.clone(), tenant.id.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            let mut next = rotation(&format!("rt-next-{i}"));
            next.expires_at += 86_400_000;
            let (ctx, won) = store
                .refresh_and_rotate(&t, "rt-0", &c, &next, true)
                .await
                .unwrap()
                .expect("the token is there");
            assert_eq!(ctx.grant.id, "g1");
            if won {
                assert!(ctx.held.is_some(), "the winner reads what the user holds");
            }
            (i, won)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (i, won) = t.await.unwrap();
        if won {
            winners.push(i);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins: {winners:?}");
    for i in 0..16 {
        let found = store
            .refresh_token(&tenant.id, &format!("rt-next-{i}"))
            .await
            .unwrap();
        match found {
            Some((t, _)) => {
                assert_eq!(i, winners[0], "only the winner's successor is stored");
                assert!(t.used_at.is_none());
                assert_eq!(t.expires_at, g.expires_at, "capped at the grant's expiry");
            }
            None => assert_ne!(i, winners[0], "the winner's successor is stored"),
        }
    }
    let (old, g) = store
        .refresh_token(&tenant.id, "rt-0")
        .await
        .unwrap()
        .unwrap();
    assert!(old.used_at.is_some(), "the old token is used");
    assert!(g.revoked_at.is_none(), "the store itself revokes nothing");
}

/// The database lets a refresh exchange its token only while it is unused and unexpired and its
/// grant live and the asking client's; otherwise nothing is written and the context says why.
/// An exchange undone (`unrotate`) leaves the old token usable and its successor gone. Another
/// tenant does not see the token.
async fn rotation_is_checked_and_undone(b: common::Backend) {
    let (_db, store, tenant, owner) = fresh(b).await;
    let t = &tenant.id;
    let c = client(&store, t, "app").await;
    let other_client = client(&store, t, "other").await;
    store
        .insert_grant(
            t,
            &grant("g1", c.clone(), &owner.id, None),
            &token("rt-0", "g1"),
        )
        .await
        .unwrap();
    let unchanged = |store: Store, t: TenantId| async move {
        let (old, g) = store.refresh_token(&t, "rt-0").await.unwrap().unwrap();
        assert!(old.used_at.is_none() && g.revoked_at.is_none());
    };

    // Another client's attempt writes nothing.
    let (ctx, won) = store
        .refresh_and_rotate(t, "rt-0", &other_client, &rotation("rt-x"), false)
        .await
        .unwrap()
        .unwrap();
    assert!(!won && ctx.token.used_at.is_none());
    assert!(store.refresh_token(t, "rt-x").await.unwrap().is_none());
    unchanged(store.clone(), t.clone()).await;
    // Unknown token, or the token in another tenant: nothing.
    let (other, _) = castellan::cli::create_tenant(&store, "globex", "Globex", "o@globex.test")
        .await
        .unwrap();
    for (tenant, hash) in [(t, "rt-nope"), (&other.id, "rt-0")] {
        let none = store
            .refresh_and_rotate(tenant, hash, &c, &rotation("rt-y"), true)
            .await
            .unwrap();
        assert!(none.is_none(), "{hash}");
    }
    assert!(store.refresh_token(t, "rt-y").await.unwrap().is_none());

    // The exchange, undone, then done again.
    let first = rotation("rt-1");
    let (_, won) = store
        .refresh_and_rotate(t, "rt-0", &c, &first, false)
        .await
        .unwrap()
        .unwrap();
    assert!(won);
    store
        .unrotate(t, "rt-0", "rt-1", first.created_at)
        .await
        .unwrap();
    assert!(store.refresh_token(t, "rt-1").await.unwrap().is_none());
    unchanged(store.clone(), t.clone()).await;
    let (_, won) = store
        .refresh_and_rotate(t, "rt-0", &c, &rotation("rt-2"), false)
        .await
        .unwrap()
        .unwrap();
    assert!(won, "usable again after the undo");
    // A used token is not exchanged again, and says it was used.
    let (ctx, won) = store
        .refresh_and_rotate(t, "rt-0", &c, &rotation("rt-3"), false)
        .await
        .unwrap()
        .unwrap();
    assert!(!won && ctx.token.used_at.is_some());
    // An undo of an exchange that did not happen, or whose successor was used since, changes
    // nothing.
    store.unrotate(t, "rt-0", "rt-3", 1).await.unwrap();
    let (_, won) = store
        .refresh_and_rotate(t, "rt-2", &c, &rotation("rt-4"), false)
        .await
        .unwrap()
        .unwrap();
    assert!(won);
    store.unrotate(t, "rt-0", "rt-2", 1).await.unwrap();
    let (rt2, _) = store.refresh_token(t, "rt-2").await.unwrap().unwrap();
    assert!(rt2.used_at.is_some(), "a used successor stays");

    // A revoked grant, an expired token, an expired grant: not exchanged.
    store
        .revoke_grant(t, "g1", "test", &Actor::system())
        .await
        .unwrap();
    let (ctx, won) = store
        .refresh_and_rotate(t, "rt-4", &c, &rotation("rt-5"), false)
        .await
        .unwrap()
        .unwrap();
    assert!(!won && ctx.grant.revoked_at.is_some());
    let mut stale = token("rt-stale", "g2");
    stale.expires_at = clock::now_ms() - 1;
    store
        .insert_grant(t, &grant("g2", c.clone(), &owner.id, None), &stale)
        .await
        .unwrap();
    let mut old_grant = grant("g3", c.clone(), &owner.id, None);
    old_grant.expires_at = clock::now_ms() - 1;
    store
        .insert_grant(t, &old_grant, &token("rt-old-grant", "g3"))
        .await
        .unwrap();
    for hash in ["rt-stale", "rt-old-grant"] {
        let (ctx, won) = store
            .refresh_and_rotate(t, hash, &c, &rotation(&format!("{hash}-next")), false)
            .await
            .unwrap()
            .unwrap();
        assert!(!won && ctx.token.used_at.is_none(), "{hash}");
    }
}

/// Concurrent exchanges of one authorization code: exactly one takes it unused, every other
/// sees a replay; an unknown code is `None`; another tenant does not see it.
async fn concurrent_code_exchanges_let_one_through(b: common::Backend) {
    let (_db, store, tenant, owner) = fresh(b).await;
    let c = client(&store, &tenant.id, "app").await;
    let now = clock::now_ms();
    let session = session("s1", &owner.id);
    store
        .start_session(&tenant.id, &session, &Actor::system())
        .await
        .unwrap();
    let code = auth_code("code-1", &c, &owner.id, "s1");
    store.insert_auth_code(&tenant.id, &code).await.unwrap();
    let (other, _) = castellan::cli::create_tenant(&store, "globex", "Globex", "o@globex.test")
        .await
        .unwrap();
    assert!(
        store
            .take_auth_code(&other.id, "code-1")
            .await
            .unwrap()
            .is_none()
    );
    for (t, hash) in [(&other.id, "code-1"), (&tenant.id, "nope")] {
        let none = store.redeem_code(t, hash, true).await.unwrap();
        assert!(none.is_none(), "{hash}");
    }
    // Half the racers take the code alone, half with its session, user and holdings (what the
    // code exchange does): still exactly one first use.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (store, t) = (store.clone(), tenant.id.clone());
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let r = store
                    .redeem_code(&t, "code-1", true)
                    .await
                    .unwrap()
                    .unwrap();
                if r.code.used {
                    assert!(r.session.is_none() && r.user.is_none() && r.held.is_none());
                }
                (r.code, Some((r.session, r.user, r.held)))
            } else {
                (
                    store.take_auth_code(&t, "code-1").await.unwrap().unwrap(),
                    None,
                )
            }
        }));
    }
    let mut first = Vec::new();
    for t in tasks {
        let (taken, read) = t.await.unwrap();
        assert_eq!(taken.nonce.as_deref(), Some("n"));
        assert_eq!(taken.session_id, "s1");
        if !taken.used {
            first.push(read);
        }
    }
    assert_eq!(first.len(), 1, "exactly one exchange takes the code unused");

    // What a redemption reads agrees with the separate reads, with and without permissions;
    // a second redemption is a replay and reads nothing more.
    let (s, u) = store
        .session_and_user(&tenant.id, "s1", &owner.id)
        .await
        .unwrap();
    assert!(s.as_ref().is_some_and(|s| s.id == "s1") && u.is_some());
    for (i, permissions) in [true, false].into_iter().enumerate() {
        let hash = format!("code-more-{i}");
        store
            .insert_auth_code(
                &tenant.id,
                &sessions::AuthCode {
                    code_hash: hash.clone(),
                    ..code.clone()
                },
            )
            .await
            .unwrap();
        // What the user holds is remembered once read, and answered while it stays.
        let want = store
            .holdings(&tenant.id, &owner.id, permissions)
            .await
            .unwrap();
        let r = store
            .redeem_code(&tenant.id, &hash, permissions)
            .await
            .unwrap()
            .unwrap();
        assert!(!r.code.used);
        assert_eq!(format!("{:?}", r.session), format!("{s:?}"));
        assert_eq!(format!("{:?}", r.user), format!("{u:?}"));
        assert!(!want.roles.is_empty());
        assert_eq!(r.held, Some(want), "permissions {permissions}");
        let again = store
            .redeem_code(&tenant.id, &hash, permissions)
            .await
            .unwrap()
            .unwrap();
        assert!(again.code.used && again.user.is_none() && again.held.is_none());
    }

    // The grant the exchange stores, with the check for a racing replay's revocation.
    let g = grant("g-code", c.clone(), &owner.id, Some("s1"));
    let revoked = store
        .insert_grant_checking(
            &tenant.id,
            &g,
            &token("rt-code", "g-code"),
            Some("jti-code"),
        )
        .await
        .unwrap();
    assert!(!revoked);
    assert!(
        store
            .refresh_token(&tenant.id, "rt-code")
            .await
            .unwrap()
            .is_some()
    );
    store
        .revoke_access_token(&tenant.id, "jti-raced", now + 60_000)
        .await
        .unwrap();
    let g = grant("g-raced", c, &owner.id, Some("s1"));
    let revoked = store
        .insert_grant_checking(
            &tenant.id,
            &g,
            &token("rt-raced", "g-raced"),
            Some("jti-raced"),
        )
        .await
        .unwrap();
    assert!(revoked, "the replay's revocation is seen");
    let (stored, _) = store
        .refresh_token(&tenant.id, "rt-raced")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.grant_id, "g-raced", "stored all the same");
}

fn new_user(email: &str, main_account: &AccountId, role: &RoleId) -> NewUser {
    NewUser {
        username: email.into(),
        email: email.into(),
        email_verified: false,
        given_name: None,
        family_name: None,
        display_name: None,
        phone: None,
        locale: None,
        timezone: None,
        external_id: None,
        status: UserStatus::Active,
        attributes: vec![],
        main_account: Some(main_account.clone()),
        roles: vec![role.clone()],
        start_date: None,
        end_date: None,
    }
}

/// One user holding roles directly, within current, ended and future memberships, through two
/// groups, with grant and deny overrides: the one-query holdings are exactly these, and their
/// permissions are the explained effective permissions' names.
async fn holdings_are_what_the_user_holds_today(b: common::Backend) {
    let (_db, store, tenant, _owner) = fresh(b).await;
    let (t, a) = (&tenant.id, &Actor::system());
    for p in ["app:a", "app:b", "app:c", "app:d", "app:e", "app:f"] {
        store.create_permission(t, p, None, a).await.unwrap();
    }
    let role = |name: &'static str, perms: &'static [&'static str]| {
        let store = store.clone();
        async move {
            let perms: Vec<String> = perms.iter().map(|p| (*p).to_owned()).collect();
            store
                .create_role(t, name, None, &perms, None, a)
                .await
                .unwrap()
        }
    };
    let direct = role("Direct", &["app:a"]).await;
    let in_current = role("InCurrent", &["app:b"]).await;
    let in_ended = role("InEnded", &["app:c"]).await;
    let via_group = role("ViaGroup", &["app:d", "app:a"]).await;
    let today = clock::today();
    let current = store
        .insert_account(t, "Current Co", AccountKind::Customer, a)
        .await
        .unwrap();
    let ended = store
        .insert_account(t, "Ended Co", AccountKind::Customer, a)
        .await
        .unwrap();
    let future = store
        .insert_account(t, "Future Co", AccountKind::Customer, a)
        .await
        .unwrap();
    let day = Duration::days(1);
    let u = store
        .insert_user(t, &new_user("u@acme.test", &current.id, &direct.id), a)
        .await
        .unwrap();
    store
        .add_membership(
            t,
            &u.id,
            &ended.id,
            Some(today - day * 9),
            Some(today - day),
            false,
            a,
        )
        .await
        .unwrap();
    store
        .add_membership(t, &u.id, &future.id, Some(today + day), None, false, a)
        .await
        .unwrap();
    store
        .assign_role(t, &u.id, &in_current.id, Some(&current.id), false, a)
        .await
        .unwrap();
    store
        .assign_role(t, &u.id, &in_ended.id, Some(&ended.id), false, a)
        .await
        .unwrap();
    for name in ["Team B", "Team A"] {
        let g = store.create_group(t, name, None, None, a).await.unwrap();
        store.add_group_member(t, &g.id, &u.id, a).await.unwrap();
        store
            .add_group_role(t, &g.id, &via_group.id, a)
            .await
            .unwrap();
    }
    let perm = |name: &'static str| {
        let store = store.clone();
        async move { store.permission_by_name(t, name).await.unwrap().unwrap().id }
    };
    store
        .set_override(t, &u.id, &perm("app:e").await, Effect::Grant, None, a)
        .await
        .unwrap();
    store
        .set_override(t, &u.id, &perm("app:d").await, Effect::Deny, None, a)
        .await
        .unwrap();

    let held = store.holdings(t, &u.id, true).await.unwrap();
    assert_eq!(held.roles, ["Direct", "InCurrent", "ViaGroup"]);
    assert_eq!(held.groups, ["Team A", "Team B"]);
    assert_eq!(held.permissions, ["app:a", "app:b", "app:e"]);
    let explained = store.effective_permissions(t, &u.id).await.unwrap();
    assert_eq!(
        held.permissions,
        explained.names().map(str::to_owned).collect::<Vec<_>>()
    );
    assert_eq!(
        held.accounts,
        [HeldAccount {
            id: current.id.clone(),
            name: "Current Co".into(),
            main: true
        }]
    );
    let without = store.holdings(t, &u.id, false).await.unwrap();
    assert!(without.permissions.is_empty());
    assert_eq!((without.roles, without.groups), (held.roles, held.groups));
    let (other, _) = castellan::cli::create_tenant(&store, "globex", "Globex", "o@globex.test")
        .await
        .unwrap();
    let elsewhere = store.holdings(&other.id, &u.id, true).await.unwrap();
    assert_eq!(elsewhere, Default::default(), "scoped to the tenant");

    // A name that JSON must escape (PostgreSQL's holdings column).
    let g = store
        .create_group(t, "Équipe \"Nord\" \\ 東京", None, None, a)
        .await
        .unwrap();
    store.add_group_member(t, &g.id, &u.id, a).await.unwrap();

    // A refresh reads the same with its token, grant, session and user (on SQLite in the same
    // hand-off): the same holdings, with or without permissions, and the same user.
    let app = client(&store, t, "app").await;
    store
        .insert_grant(
            t,
            &grant("g-held", app.clone(), &u.id, None),
            &token("h-held", "g-held"),
        )
        .await
        .unwrap();
    let mut current = "h-held".to_owned();
    for (i, permissions) in [true, false].into_iter().enumerate() {
        let next = rotation(&format!("h-held-{i}"));
        let want = store.holdings(t, &u.id, permissions).await.unwrap();
        let (ctx, won) = store
            .refresh_and_rotate(t, &current, &app, &next, permissions)
            .await
            .unwrap()
            .unwrap();
        assert!(won);
        assert_eq!(ctx.held.as_ref(), Some(&want), "permissions {permissions}");
        assert_eq!(ctx.grant.id, "g-held");
        assert!(ctx.session.is_none());
        let user = store.get_user(t, &u.id).await.unwrap().unwrap();
        assert_eq!(format!("{:?}", ctx.user), format!("{:?}", Some(user)));
        let read = store.refresh_context(t, &current).await.unwrap().unwrap();
        assert_eq!(format!("{:?}", read.user), format!("{:?}", ctx.user));
        assert!(read.held.is_none(), "not read by a plain read");
        current = next.token_hash;
    }
    // Userinfo and introspection read them with the token's state (on PostgreSQL as a JSON
    // column): the same.
    for permissions in [true, false] {
        let want = store.holdings(t, &u.id, permissions).await.unwrap();
        let state = store
            .access_token_state(t, "jti-none", None, None, Some(&u.id), Some(permissions))
            .await
            .unwrap();
        assert_eq!(state.held, Some(want), "permissions {permissions}");
    }
    for (tenant, hash) in [(&other.id, current.as_str()), (t, "h-nope")] {
        let none = store.refresh_context(tenant, hash).await.unwrap();
        assert!(none.is_none(), "{hash} in another tenant or unknown");
    }
}

/// What a generated user holds, by a model in Rust: the roles assigned directly (an
/// account-scoped one only while a membership in its account is current) and through groups,
/// the groups, the current memberships, and the roles' permissions with the overrides applied.
#[derive(Default)]
struct HeldModel {
    direct: Vec<(usize, Option<usize>)>,
    groups: Vec<usize>,
    /// (account, current today, main)
    memberships: Vec<(usize, bool, bool)>,
    overrides: Vec<(usize, Effect)>,
}

/// Tenants of generated roles, groups, accounts and users (memberships past, current, future
/// and open; account-scoped and global assignments; group roles; grant and deny overrides;
/// names JSON must escape): what each user holds, read alone, with a refresh and with an access
/// token's state, is what the model says, with and without permissions.
async fn holdings_agree_with_a_model(b: common::Backend) {
    let (_db, store, tenant, _owner) = fresh(b).await;
    let (t, a) = (&tenant.id, &Actor::system());
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    };
    let perms: Vec<String> = (0..8).map(|i| format!("app:p{i}")).collect();
    let mut perm_ids = Vec::new();
    for p in &perms {
        perm_ids.push(store.create_permission(t, p, None, a).await.unwrap().id);
    }
    let mut roles = Vec::new();
    let mut role_perms: Vec<Vec<usize>> = Vec::new();
    for i in 0..6 {
        let held: Vec<usize> = (0..perms.len()).filter(|_| next(3) == 0).collect();
        let names: Vec<String> = held.iter().map(|&p| perms[p].clone()).collect();
        roles.push(
            store
                .create_role(t, &format!("Role{i}"), None, &names, None, a)
                .await
                .unwrap(),
        );
        role_perms.push(held);
    }
    let mut groups = Vec::new();
    let mut group_roles: Vec<Vec<usize>> = Vec::new();
    for i in 0..4 {
        let name = format!("Grüppe \"{i}\" \\ 東{i}");
        let g = store.create_group(t, &name, None, None, a).await.unwrap();
        let held: Vec<usize> = (0..roles.len()).filter(|_| next(6) == 0).collect();
        for &r in &held {
            store
                .add_group_role(t, &g.id, &roles[r].id, a)
                .await
                .unwrap();
        }
        groups.push(g);
        group_roles.push(held);
    }
    let mut accounts = Vec::new();
    for i in 0..4 {
        accounts.push(
            store
                .insert_account(t, &format!("Account {i}"), AccountKind::Customer, a)
                .await
                .unwrap(),
        );
    }
    let today = clock::today();
    let day = Duration::days(1);
    // (start, end, current today)
    let windows = [
        (None, None, true),
        (Some(today - day * 9), Some(today - day), false),
        (Some(today - day * 3), Some(today + day * 3), true),
        (None, Some(today - day), false),
        (None, Some(today), true),
        (Some(today), None, true),
        (Some(today + day), None, false),
        (Some(today + day), Some(today + day * 5), false),
    ];
    // How often the cases that a wrong statement would get wrong came up.
    let (mut outside_total, mut denied_total, mut granted_total) = (0, 0, 0);
    let app = client(&store, t, "app").await;
    for n in 0..16 {
        let main = next(accounts.len());
        let first_role = next(roles.len());
        let u = store
            .insert_user(
                t,
                &new_user(
                    &format!("u{n}@acme.test"),
                    &accounts[main].id,
                    &roles[first_role].id,
                ),
                a,
            )
            .await
            .unwrap();
        let mut model = HeldModel {
            direct: vec![(first_role, None)],
            memberships: vec![(main, true, true)],
            ..HeldModel::default()
        };
        for (acc, account) in accounts.iter().enumerate() {
            if acc == main || next(2) == 0 {
                continue;
            }
            let (start, end, current) = windows[next(windows.len())];
            store
                .add_membership(t, &u.id, &account.id, start, end, false, a)
                .await
                .unwrap();
            model.memberships.push((acc, current, false));
        }
        for _ in 0..1 + next(4) {
            let r = next(roles.len());
            // Scoped mostly to the memberships beside the main one, often not current.
            let scope = match (next(4), model.memberships.len()) {
                (0, _) => None,
                (1, _) | (_, 1) => Some(main),
                (_, n) => Some(model.memberships[1 + next(n - 1)].0),
            };
            if model.direct.contains(&(r, scope)) {
                continue;
            }
            store
                .assign_role(
                    t,
                    &u.id,
                    &roles[r].id,
                    scope.map(|x| &accounts[x].id),
                    false,
                    a,
                )
                .await
                .unwrap();
            model.direct.push((r, scope));
        }
        for (g, group) in groups.iter().enumerate() {
            if next(2) == 0 {
                continue;
            }
            store
                .add_group_member(t, &group.id, &u.id, a)
                .await
                .unwrap();
            model.groups.push(g);
        }
        for (p, perm_id) in perm_ids.iter().enumerate() {
            let effect = match next(5) {
                0 => Effect::Grant,
                1 => Effect::Deny,
                _ => continue,
            };
            store
                .set_override(t, &u.id, perm_id, effect, None, a)
                .await
                .unwrap();
            model.overrides.push((p, effect));
        }

        // The model's answer.
        let current = |acc: usize| model.memberships.iter().any(|m| m.0 == acc && m.1);
        let mut held_roles: Vec<usize> = model
            .direct
            .iter()
            .filter(|(_, scope)| scope.is_none_or(current))
            .map(|(r, _)| *r)
            .chain(model.groups.iter().flat_map(|&g| group_roles[g].clone()))
            .collect();
        held_roles.sort();
        held_roles.dedup();
        outside_total += model
            .direct
            .iter()
            .filter(|(r, scope)| scope.is_some_and(|x| !current(x)) && !held_roles.contains(r))
            .count();
        let want_roles: Vec<String> = held_roles.iter().map(|&r| format!("Role{r}")).collect();
        let mut want_groups: Vec<String> = model
            .groups
            .iter()
            .map(|&g| groups[g].display_name.clone())
            .collect();
        want_groups.sort();
        let want_perms = permissions::effective_names(
            held_roles
                .iter()
                .flat_map(|&r| role_perms[r].iter().map(|&p| perms[p].clone())),
            model.overrides.iter().map(|&(p, e)| (perms[p].clone(), e)),
        );
        let from_roles = |p: usize| held_roles.iter().any(|&r| role_perms[r].contains(&p));
        denied_total += model
            .overrides
            .iter()
            .filter(|&&(p, e)| e == Effect::Deny && from_roles(p))
            .count();
        granted_total += model
            .overrides
            .iter()
            .filter(|&&(p, e)| e == Effect::Grant && !from_roles(p))
            .count();
        let mut want_accounts: Vec<(bool, String)> = model
            .memberships
            .iter()
            .filter(|m| m.1)
            .map(|m| (!m.2, accounts[m.0].name.clone()))
            .collect();
        want_accounts.sort();

        let check = |held: &permissions::Holdings, with: bool, path: &str| {
            let what = format!("user {n} {path} permissions {with}");
            assert_eq!(held.roles, want_roles, "{what}");
            let mut got_groups = held.groups.clone();
            got_groups.sort();
            assert_eq!(got_groups, want_groups, "{what}");
            let want: &[String] = if with { &want_perms } else { &[] };
            assert_eq!(held.permissions, want, "{what}");
            assert!(
                held.accounts.first().is_some_and(|m| m.main),
                "{what}: main first"
            );
            let mut got_accounts: Vec<(bool, String)> = held
                .accounts
                .iter()
                .map(|m| (!m.main, m.name.clone()))
                .collect();
            got_accounts.sort();
            assert_eq!(got_accounts, want_accounts, "{what}");
        };
        let grant_id = format!("g-model-{n}");
        store
            .insert_grant(
                t,
                &grant(&grant_id, app.clone(), &u.id, None),
                &token(&format!("h-model-{n}"), &grant_id),
            )
            .await
            .unwrap();
        let mut current_hash = format!("h-model-{n}");
        for with in [true, false] {
            check(
                &store.holdings(t, &u.id, with).await.unwrap(),
                with,
                "alone",
            );
            let rotated = rotation(&format!("{current_hash}-{with}"));
            let (ctx, won) = store
                .refresh_and_rotate(t, &current_hash, &app, &rotated, with)
                .await
                .unwrap()
                .unwrap();
            assert!(won);
            check(ctx.held.as_ref().unwrap(), with, "refresh");
            current_hash = rotated.token_hash;
            let state = store
                .access_token_state(t, "jti-none", None, None, Some(&u.id), Some(with))
                .await
                .unwrap();
            check(state.held.as_ref().unwrap(), with, "access token");
        }
    }
    assert!(
        outside_total >= 3 && denied_total >= 3 && granted_total >= 3,
        "the generated users cover roles outside current memberships ({outside_total}), \
         denied ({denied_total}) and granted ({granted_total}) permissions"
    );
}

/// The memory of what users hold (`store::held`) against the database, under every kind of
/// write that can change what someone holds, made with plain SQL on another connection (as
/// another replica, an import or an administrator would): memberships, roles, groups and
/// overrides added, changed and removed; roles, groups, permissions and accounts renamed and
/// deleted; a group's roles and a role's permissions changed; statements writing several
/// users' links at once (added, moved from one user to another, removed: PostgreSQL logs them
/// per statement, from its transition tables). Before each write every user's
/// holdings are read (and so remembered); after it, what the token paths (an access token's
/// state, a refresh) hand out from memory must be what the database says now. The generator
/// must have changed what a remembered user holds with every kind of write (else the test
/// proves nothing about that kind), and unchanged users must still be answered from memory.
/// Then merging the change log keeps every version: what was remembered still answers.
async fn remembered_holdings_follow_every_change(b: common::Backend) {
    let (db, store, tenant, _owner) = fresh(b).await;
    let (t, a) = (&tenant.id, &Actor::system());
    let mut raw = Raw::open(&db.url).await;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    };
    let mut perms = Vec::new();
    for i in 0..6 {
        let p = store
            .create_permission(t, &format!("app:p{i}"), None, a)
            .await
            .unwrap();
        perms.push(p.id.to_string());
    }
    let mut roles = Vec::new();
    for i in 0..4 {
        let names = vec![format!("app:p{i}"), format!("app:p{}", i + 1)];
        let r = store
            .create_role(t, &format!("Role{i}"), None, &names, None, a)
            .await
            .unwrap();
        roles.push(r.id.to_string());
    }
    let mut groups = Vec::new();
    for (i, role) in roles.iter().take(3).enumerate() {
        let g = store
            .create_group(t, &format!("Group {i}"), None, None, a)
            .await
            .unwrap();
        let role = RoleId(role.clone());
        store.add_group_role(t, &g.id, &role, a).await.unwrap();
        groups.push(g.id.to_string());
    }
    let mut accounts = Vec::new();
    for i in 0..3 {
        let acc = store
            .insert_account(t, &format!("Account {i}"), AccountKind::Customer, a)
            .await
            .unwrap();
        accounts.push(acc.id.to_string());
    }
    let app = client(&store, t, "app").await;
    let mut users = Vec::new();
    let mut hashes = Vec::new();
    for n in 0..5 {
        let u = store
            .insert_user(
                t,
                &new_user(
                    &format!("m{n}@acme.test"),
                    &AccountId(accounts[n % 3].clone()),
                    &RoleId(roles[n % 4].clone()),
                ),
                a,
            )
            .await
            .unwrap();
        let grant_id = format!("g-memory-{n}");
        store
            .insert_grant(
                t,
                &grant(&grant_id, app.clone(), &u.id, None),
                &token(&format!("h-memory-{n}"), &grant_id),
            )
            .await
            .unwrap();
        hashes.push(format!("h-memory-{n}"));
        users.push(u.id);
    }
    let today = clock::today();
    let date = |days: i64| format!("'{}'", clock::format_date(today + Duration::days(days)));
    const KINDS: usize = 24;
    let mut changed_remembered = [0usize; KINDS];
    let (mut hits, mut fresh_id) = (0usize, 0usize);
    for step in 0..KINDS * 10 {
        // Every kind in turn first, then at random, half the time among the kinds that have
        // not yet changed what a remembered user holds (some need earlier writes to matter).
        let uncovered: Vec<usize> = (0..KINDS).filter(|k| changed_remembered[*k] == 0).collect();
        let kind = if step < KINDS * 2 {
            step % KINDS
        } else if !uncovered.is_empty() && next(2) == 0 {
            // Ending a membership (6) needs one added first (5); changing or removing
            // overrides (10, 11, 23) needs one (9).
            match uncovered[next(uncovered.len())] {
                6 if step % 2 == 0 => 5,
                10 | 11 | 23 if step % 2 == 0 => 9,
                k => k,
            }
        } else {
            next(KINDS)
        };
        let before = {
            let mut v = Vec::new();
            for u in &users {
                for with in [false, true] {
                    v.push(store.holdings(t, u, with).await.unwrap());
                }
            }
            v
        };
        fresh_id += 1;
        let ui = next(users.len());
        // Another user, for the statements that write several users' links at once.
        let u2 = users[(ui + 1 + fresh_id % (users.len() - 1)) % users.len()]
            .as_str()
            .to_owned();
        let (u, g, r, p, acc) = (
            users[ui].as_str().to_owned(),
            groups[next(groups.len())].clone(),
            roles[next(roles.len())].clone(),
            perms[next(perms.len())].clone(),
            accounts[next(accounts.len())].clone(),
        );
        let tid = t.as_str();
        let sql = match kind {
            0 => format!(
                "INSERT INTO group_members (group_id, user_id) SELECT '{g}', '{u}'
                 WHERE NOT EXISTS (SELECT 1 FROM group_members WHERE group_id = '{g}' AND user_id = '{u}')"
            ),
            1 => format!("DELETE FROM group_members WHERE user_id = '{u}'"),
            2 => format!(
                "INSERT INTO user_roles (id, tenant_id, user_id, role_id, account_id, is_main, created_at)
                 SELECT 'ur-{fresh_id}', '{tid}', '{u}', '{r}', NULL, FALSE, 1
                 WHERE NOT EXISTS (SELECT 1 FROM user_roles WHERE user_id = '{u}' AND role_id = '{r}'
                                   AND account_id IS NULL)"
            ),
            3 => format!(
                "INSERT INTO user_roles (id, tenant_id, user_id, role_id, account_id, is_main, created_at)
                 SELECT 'ur-{fresh_id}', '{tid}', '{u}', '{r}', '{acc}', FALSE, 1
                 WHERE NOT EXISTS (SELECT 1 FROM user_roles WHERE user_id = '{u}' AND role_id = '{r}'
                                   AND account_id = '{acc}')"
            ),
            4 => format!("DELETE FROM user_roles WHERE user_id = '{u}' AND NOT is_main"),
            5 => format!(
                "INSERT INTO memberships (id, tenant_id, user_id, account_id, start_date, end_date,
                                          is_main, created_at, updated_at)
                 SELECT 'ms-{fresh_id}', '{tid}', '{u}', '{acc}', {}, {}, FALSE, {fresh_id}, 1
                 WHERE NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = '{u}' AND account_id = '{acc}')",
                ["NULL", "NULL", &date(-3), &date(1)][next(4)],
                ["NULL", &date(3)][next(2)],
            ),
            6 => format!(
                "UPDATE memberships SET end_date = {yesterday} WHERE id = (SELECT MIN(id) FROM memberships
                    WHERE NOT is_main AND (start_date IS NULL OR start_date <= {yesterday})
                      AND (end_date IS NULL OR end_date >= {today}))",
                yesterday = date(-1),
                today = date(0)
            ),
            7 => format!(
                "UPDATE memberships SET end_date = NULL,
                   start_date = CASE WHEN start_date IS NULL THEN {} ELSE NULL END
                 WHERE user_id = '{u}' AND is_main",
                date(1)
            ),
            8 => format!(
                "DELETE FROM memberships WHERE id = (SELECT MIN(id) FROM memberships
                    WHERE NOT is_main AND (start_date IS NULL OR start_date <= {today})
                      AND (end_date IS NULL OR end_date >= {today}))",
                today = date(0)
            ),
            9 => format!(
                "INSERT INTO permission_overrides (user_id, permission_id, tenant_id, effect, created_at)
                 SELECT '{u}', '{p}', '{tid}', '{}', 1
                 WHERE NOT EXISTS (SELECT 1 FROM permission_overrides WHERE user_id = '{u}' AND permission_id = '{p}')",
                ["grant", "deny"][next(2)]
            ),
            10 => "UPDATE permission_overrides SET effect = CASE effect WHEN 'grant' THEN 'deny' ELSE 'grant' END
                 WHERE user_id = (SELECT MIN(user_id) FROM permission_overrides)"
                .to_owned(),
            11 => format!("DELETE FROM permission_overrides WHERE user_id = '{u}'"),
            12 => format!("UPDATE roles SET name = 'Role {fresh_id}' WHERE id = '{r}'"),
            13 => format!("UPDATE groups SET display_name = 'Group {fresh_id}' WHERE id = '{g}'"),
            14 => format!("UPDATE permissions SET name = 'app:q{fresh_id}' WHERE id = '{p}'"),
            15 => format!("UPDATE accounts SET name = 'Account {fresh_id}' WHERE id = '{acc}'"),
            16 => format!(
                "INSERT INTO group_roles (group_id, role_id) SELECT '{g}', '{r}'
                 WHERE NOT EXISTS (SELECT 1 FROM group_roles WHERE group_id = '{g}' AND role_id = '{r}')"
            ),
            17 => format!("DELETE FROM group_roles WHERE group_id = '{g}'"),
            18 => format!(
                "INSERT INTO role_permissions (role_id, permission_id) SELECT '{r}', '{p}'
                 WHERE NOT EXISTS (SELECT 1 FROM role_permissions WHERE role_id = '{r}' AND permission_id = '{p}')"
            ),
            19 => {
                // A deletion, and a new one in its place so the pools stay full: a group, a
                // role's permission or a whole permission, in turn.
                match step % 3 {
                    0 => {
                        let i = groups.iter().position(|x| *x == g).unwrap();
                        groups[i] = format!("grp-{fresh_id}");
                        format!(
                            "DELETE FROM groups WHERE id = '{g}';
                             INSERT INTO groups (id, tenant_id, display_name, created_at, updated_at)
                             VALUES ('grp-{fresh_id}', '{tid}', 'New group {fresh_id}', 1, 1)"
                        )
                    }
                    1 => format!("DELETE FROM role_permissions WHERE role_id = '{r}'"),
                    _ => {
                        let i = perms.iter().position(|x| *x == p).unwrap();
                        perms[i] = format!("perm-{fresh_id}");
                        format!(
                            "DELETE FROM permissions WHERE id = '{p}';
                             INSERT INTO permissions (id, tenant_id, name, created_at)
                             VALUES ('perm-{fresh_id}', '{tid}', 'app:n{fresh_id}', 1)"
                        )
                    }
                }
            }
            // One statement writing the links of several users (an import's chunk, a SCIM
            // PATCH of a group): each of them must be seen as changed.
            20 => format!(
                "INSERT INTO group_members (group_id, user_id) SELECT '{g}', u.id FROM users u
                 WHERE u.id IN ('{u}', '{u2}')
                   AND NOT EXISTS (SELECT 1 FROM group_members WHERE group_id = '{g}' AND user_id = u.id)"
            ),
            21 => format!("DELETE FROM group_members WHERE group_id = '{g}'"),
            22 => format!(
                "UPDATE group_members SET user_id = '{u2}' WHERE user_id = '{u}'
                   AND group_id NOT IN (SELECT group_id FROM group_members WHERE user_id = '{u2}')"
            ),
            23 => "DELETE FROM permission_overrides WHERE permission_id =
                     (SELECT permission_id FROM permission_overrides GROUP BY permission_id
                      ORDER BY COUNT(*) DESC, permission_id LIMIT 1)"
                .to_owned(),
            _ => unreachable!(),
        };
        for statement in sql.split(';') {
            raw.exec(statement).await;
        }
        let mut i = 0;
        for (n, u) in users.iter().enumerate() {
            for with in [false, true] {
                let state = store
                    .access_token_state(t, "jti-none", None, None, Some(u), Some(with))
                    .await
                    .unwrap();
                let rotated = rotation(&format!("{}-{step}-{with}", hashes[n]));
                let (ctx, won) = store
                    .refresh_and_rotate(t, &hashes[n], &app, &rotated, with)
                    .await
                    .unwrap()
                    .unwrap();
                assert!(won);
                hashes[n] = rotated.token_hash;
                let now = store.holdings(t, u, with).await.unwrap();
                let what = format!("step {step} (kind {kind}) user {n} permissions {with}");
                for (path, held) in [("access token", &state.held), ("refresh", &ctx.held)] {
                    if let Some(held) = held {
                        assert_eq!(held, &now, "{what}: {path} answered from memory");
                        hits += 1;
                    }
                }
                if now != before[i] {
                    changed_remembered[kind] += 1;
                    assert!(
                        state.held.is_none() && ctx.held.is_none(),
                        "{what}: a change was answered from memory"
                    );
                }
                i += 1;
            }
        }
    }
    for (kind, n) in changed_remembered.iter().enumerate() {
        assert!(
            *n > 0,
            "kind {kind} never changed what a remembered user holds: {changed_remembered:?}"
        );
    }
    assert!(hits > 100, "the memory answered only {hits} times");
    eprintln!("the memory answered {hits} times; changes seen per kind: {changed_remembered:?}");

    // A directory sending names that did not change (and touching what no token shows)
    // changes nothing: the memory still answers.
    for u in &users {
        for with in [false, true] {
            store.holdings(t, u, with).await.unwrap();
        }
    }
    for table in [
        "groups SET display_name = display_name",
        "roles SET name = name",
    ] {
        raw.exec(&format!("UPDATE {table}, updated_at = updated_at + 1"))
            .await;
    }
    raw.exec("UPDATE permissions SET name = name, description = 'unseen'")
        .await;
    raw.exec("UPDATE accounts SET name = name, updated_at = updated_at + 1")
        .await;
    for u in &users {
        for with in [false, true] {
            let state = store
                .access_token_state(t, "jti-none", None, None, Some(u), Some(with))
                .await
                .unwrap();
            assert!(
                state.held.is_some(),
                "an unchanged name was taken for a change"
            );
        }
    }

    // Merging the log keeps every version: the next reads are answered from memory.
    let rows_before = raw.count_all("holdings_changes").await;
    for u in &users {
        for with in [false, true] {
            store.holdings(t, u, with).await.unwrap();
        }
    }
    let went = store.merge_holdings_changes().await.unwrap();
    assert!(went > 0, "nothing to merge in {rows_before} rows");
    // One row per user (these and the owner) and one for the tenant.
    assert!(raw.count_all("holdings_changes").await <= users.len() as i64 + 2);
    for u in &users {
        for with in [false, true] {
            let state = store
                .access_token_state(t, "jti-none", None, None, Some(u), Some(with))
                .await
                .unwrap();
            assert_eq!(state.held, Some(store.holdings(t, u, with).await.unwrap()));
        }
    }
}

/// The change log's merge (the purge's, on every replica at once) while writers add to it: no
/// change is lost or counted twice. Four writers each add and remove one user's groups 20 times
/// (40 changes each, on two stores: two replicas) while two stores merge over and over; at the
/// end each user's sum grew by exactly their 40 changes, and a last merge leaves one row each.
async fn merging_the_change_log_loses_no_change(b: common::Backend) {
    let (db, store, tenant, _owner) = fresh(b).await;
    let (t, a) = (&tenant.id, &Actor::system());
    let other = Store::connect(&db.url).await.unwrap();
    let mut raw = Raw::open(&db.url).await;
    let account = store
        .insert_account(t, "Merged", AccountKind::Customer, a)
        .await
        .unwrap();
    let role = store
        .create_role(t, "Merged", None, &[], None, a)
        .await
        .unwrap();
    let group = store
        .create_group(t, "Merged", None, None, a)
        .await
        .unwrap();
    let mut users = Vec::new();
    for i in 0..4 {
        let u = store
            .insert_user(
                t,
                &new_user(&format!("merge{i}@acme.test"), &account.id, &role.id),
                a,
            )
            .await
            .unwrap();
        users.push(u.id);
    }
    let mut before = Vec::new();
    for u in &users {
        before.push(raw.changes_of(u.as_str()).await);
    }
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut mergers = Vec::new();
    for s in [store.clone(), other.clone()] {
        let done = done.clone();
        mergers.push(tokio::spawn(async move {
            let mut merges = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                s.merge_holdings_changes().await.unwrap();
                merges += 1;
            }
            merges
        }));
    }
    let mut writers = Vec::new();
    for (i, u) in users.iter().enumerate() {
        let s = if i % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        let (t, g, u) = (t.clone(), group.id.clone(), u.clone());
        writers.push(tokio::spawn(async move {
            for _ in 0..20 {
                s.add_group_member(&t, &g, &u, &Actor::system())
                    .await
                    .unwrap();
                s.remove_group_member(&t, &g, &u, &Actor::system())
                    .await
                    .unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for m in mergers {
        assert!(m.await.unwrap() > 0);
    }
    for (i, u) in users.iter().enumerate() {
        assert_eq!(raw.changes_of(u.as_str()).await - before[i], 40, "user {i}");
    }
    store.merge_holdings_changes().await.unwrap();
    for u in &users {
        let n = raw.count("holdings_changes", "user_id", u.as_str()).await;
        assert_eq!(n, 1);
    }
}

/// The token endpoints' connections, kept rather than pooled: 64 reads at once share them
/// (none waits forever, none fails), and on PostgreSQL a connection whose server process was
/// terminated fails at most the statement that finds out, then is replaced.
async fn token_connections_are_shared_and_replaced(b: common::Backend) {
    let (db, store, tenant, owner) = fresh(b).await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (store, t, u) = (store.clone(), tenant.id.clone(), owner.id.clone());
        tasks.push(tokio::spawn(async move {
            store.holdings(&t, &u, i % 2 == 0).await.unwrap()
        }));
    }
    for t in tasks {
        let held = tokio::time::timeout(std::time::Duration::from_secs(30), t)
            .await
            .expect("no read waits forever")
            .unwrap();
        assert!(held.roles.contains(&"Owner".to_owned()), "{held:?}");
    }
    if !matches!(b, common::Backend::Postgres) {
        return;
    }
    let admin = sqlx::PgPool::connect(common::PG_ADMIN_URL).await.unwrap();
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(!terminated.is_empty(), "the store's connections were found");
    // Let the server processes go.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut failures = 0;
    for _ in 0..20 {
        match store.holdings(&tenant.id, &owner.id, true).await {
            Ok(held) => assert!(held.roles.contains(&"Owner".to_owned())),
            Err(_) => failures += 1,
        }
    }
    assert!(
        failures <= 1,
        "{failures} reads failed after the termination"
    );
    let held = store.holdings(&tenant.id, &owner.id, true).await.unwrap();
    assert!(held.roles.contains(&"Owner".to_owned()));
}

/// An access token's state in one read: the revoked `jti`, the session and the grant it names,
/// each only within its tenant.
async fn access_token_state_is_one_scoped_read(b: common::Backend) {
    let (_db, store, tenant, owner) = fresh(b).await;
    let c = client(&store, &tenant.id, "app").await;
    let now = clock::now_ms();
    let session = sessions::Session {
        amr: vec!["pwd".into(), "otp".into()],
        acr: Some("mfa".into()),
        remember: true,
        ..session("s1", &owner.id)
    };
    store
        .start_session(&tenant.id, &session, &Actor::system())
        .await
        .unwrap();
    let g = grant("g1", c, &owner.id, Some("s1"));
    store
        .insert_grant(&tenant.id, &g, &token("rt-1", "g1"))
        .await
        .unwrap();
    store
        .revoke_access_token(&tenant.id, "jti-old", now + 60_000)
        .await
        .unwrap();
    let state = store
        .access_token_state(&tenant.id, "jti-live", Some("s1"), Some("g1"), None, None)
        .await
        .unwrap();
    assert!(!state.revoked);
    assert!(
        state.user.is_none() && state.held.is_none(),
        "not asked for"
    );
    let s = state.session.unwrap();
    assert_eq!((s.amr, s.acr, s.remember), (session.amr, session.acr, true));
    let got = state.grant.unwrap();
    assert_eq!((got.session_id, got.offline), (Some("s1".into()), false));
    let state = store
        .access_token_state(&tenant.id, "jti-old", None, None, None, None)
        .await
        .unwrap();
    assert!(state.revoked && state.session.is_none() && state.grant.is_none());
    // With the user and what they hold (remembered once read, at the version the state reads).
    for permissions in [true, false] {
        let want = store
            .holdings(&tenant.id, &owner.id, permissions)
            .await
            .unwrap();
        let state = store
            .access_token_state(
                &tenant.id,
                "jti-live",
                Some("s1"),
                Some("g1"),
                Some(&owner.id),
                Some(permissions),
            )
            .await
            .unwrap();
        assert!(!want.roles.is_empty(), "the owner holds the Owner role");
        assert_eq!(state.held, Some(want));
        let user = store.get_user(&tenant.id, &owner.id).await.unwrap();
        assert_eq!(format!("{:?}", state.user), format!("{user:?}"));
        assert!(state.session.is_some() && state.grant.is_some());
    }
    let (other, _) = castellan::cli::create_tenant(&store, "globex", "Globex", "o@globex.test")
        .await
        .unwrap();
    let state = store
        .access_token_state(
            &other.id,
            "jti-old",
            Some("s1"),
            Some("g1"),
            Some(&owner.id),
            Some(true),
        )
        .await
        .unwrap();
    assert!(!state.revoked && state.session.is_none() && state.grant.is_none());
    assert!(state.user.is_none(), "the user is another tenant's");
    assert!(state.held.is_none_or(|h| h == Default::default()));
}

/// Refreshes and code redemptions of many users at once, several of each token and code, and
/// one from another tenant for each: on SQLite they run in groups (one transaction, refreshes
/// and redemptions in the same groups); each refresh reads its own token, grant, user and
/// holdings (the same as a refresh of the user alone reads afterwards), each redemption its own
/// code, session, user and holdings; exactly one refresh per token and one redemption per code
/// wins, and the other tenant's find nothing.
async fn grouped_writes_each_read_their_own(b: common::Backend) {
    let (_db, store, tenant, _owner) = fresh(b).await;
    let (t, a) = (&tenant.id, &Actor::system());
    let (other, _) = castellan::cli::create_tenant(&store, "globex", "Globex", "o@globex.test")
        .await
        .unwrap();
    let c = client(&store, t, "app").await;
    let account = store
        .insert_account(t, "Co", AccountKind::Customer, a)
        .await
        .unwrap();
    const USERS: usize = 12;
    let mut users = Vec::new();
    for i in 0..USERS {
        let permission = format!("app:p{i}");
        store
            .create_permission(t, &permission, None, a)
            .await
            .unwrap();
        let role = store
            .create_role(t, &format!("R{i}"), None, &[permission], None, a)
            .await
            .unwrap();
        let user = store
            .insert_user(
                t,
                &new_user(&format!("u{i}@acme.test"), &account.id, &role.id),
                a,
            )
            .await
            .unwrap();
        users.push(user);
    }
    // Remembered, so that each job's answer comes from the user its own rows name.
    for user in &users {
        store.holdings(t, &user.id, true).await.unwrap();
    }
    let mut largest = 0;
    for round in 0..4 {
        for (i, user) in users.iter().enumerate() {
            let g = format!("g{round}-{i}");
            store
                .insert_grant(t, &grant(&g, c.clone(), &user.id, None), &token(&g, &g))
                .await
                .unwrap();
            let session = session(&format!("s{round}-{i}"), &user.id);
            store.start_session(t, &session, a).await.unwrap();
            let code = auth_code(&format!("code{round}-{i}"), &c, &user.id, &session.id);
            store.insert_auth_code(t, &code).await.unwrap();
        }
        let mut redemptions = Vec::new();
        for copy in 0..4 {
            for i in 0..USERS {
                let store = store.clone();
                let tenant = if copy == 3 {
                    other.id.clone()
                } else {
                    t.clone()
                };
                redemptions.push(tokio::spawn(async move {
                    let hash = format!("code{round}-{i}");
                    (
                        copy,
                        i,
                        store.redeem_code(&tenant, &hash, true).await.unwrap(),
                    )
                }));
            }
        }
        let mut tasks = Vec::new();
        for copy in 0..4 {
            for i in 0..USERS {
                let store = store.clone();
                // The fourth copy of each comes from the other tenant.
                let tenant = if copy == 3 {
                    other.id.clone()
                } else {
                    t.clone()
                };
                let c = c.clone();
                tasks.push(tokio::spawn(async move {
                    let hash = format!("g{round}-{i}");
                    let next = rotation(&format!("{hash}-next-{copy}"));
                    let found = store
                        .refresh_and_rotate(&tenant, &hash, &c, &next, true)
                        .await
                        .unwrap();
                    (copy, i, found)
                }));
            }
        }
        let mut first_uses = vec![0; USERS];
        for task in redemptions {
            let (copy, i, found) = task.await.unwrap();
            if copy == 3 {
                assert!(found.is_none(), "another tenant's code was found");
                continue;
            }
            let r = found.expect("the code is there");
            assert_eq!(r.code.code_hash, format!("code{round}-{i}"));
            assert_eq!(
                r.code.user_id, users[i].id,
                "a redemption read another's code"
            );
            if r.code.used {
                assert!(
                    r.user.is_none() && r.held.is_none(),
                    "a replay reads nothing more"
                );
                continue;
            }
            first_uses[i] += 1;
            assert_eq!(r.session.map(|s| s.id), Some(format!("s{round}-{i}")));
            assert_eq!(r.user.map(|u| u.id).as_ref(), Some(&users[i].id));
            let held = r.held.expect("the user's holdings");
            assert_eq!(held.roles, vec![format!("R{i}")], "{held:?}");
            assert_eq!(held.permissions, vec![format!("app:p{i}")], "{held:?}");
        }
        assert_eq!(
            first_uses,
            vec![1; USERS],
            "exactly one first use of each code"
        );
        let mut winners = vec![Vec::new(); USERS];
        for task in tasks {
            let (copy, i, found) = task.await.unwrap();
            if copy == 3 {
                assert!(found.is_none(), "another tenant's token was found");
                continue;
            }
            let (ctx, won) = found.expect("the token is there");
            let hash = format!("g{round}-{i}");
            assert_eq!(ctx.token.token_hash, hash, "a refresh read another's token");
            assert_eq!(ctx.grant.id, hash);
            assert_eq!(ctx.user.as_ref().map(|u| &u.id), Some(&users[i].id));
            let held = ctx.held.expect("the user's holdings");
            assert_eq!(held.roles, vec![format!("R{i}")], "{held:?}");
            assert_eq!(held.permissions, vec![format!("app:p{i}")], "{held:?}");
            if won {
                winners[i].push((copy, held));
            }
        }
        for (i, won) in winners.into_iter().enumerate() {
            assert_eq!(won.len(), 1, "exactly one refresh of token {i} wins");
            let (copy, held) = &won[0];
            // A refresh alone, of the winner's successor, reads the same.
            let alone = store
                .refresh_and_rotate(
                    t,
                    &format!("g{round}-{i}-next-{copy}"),
                    &c,
                    &rotation(&format!("g{round}-{i}-alone")),
                    true,
                )
                .await
                .unwrap()
                .expect("the successor is stored");
            assert!(alone.1, "the successor is exchanged");
            assert_eq!(alone.0.held.as_ref(), Some(held));
        }
        largest = largest.max(store.largest_write_group().unwrap_or(0));
    }
    if matches!(b, common::Backend::Sqlite) {
        assert!(largest > 1, "no writes were run together");
    }
}

/// A plain connection to the test database, for what the store does not say: which tables have
/// a column, how many rows of them name a value, a statement the product never runs.
enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Raw {
    async fn open(url: &str) -> Raw {
        use sqlx::Connection;
        if url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&mut c)
                .await
                .unwrap();
            Raw::Sqlite(c)
        } else {
            Raw::Postgres(sqlx::PgConnection::connect(url).await.unwrap())
        }
    }

    /// The tables (not views) with a column `column`.
    async fn tables_with(&mut self, column: &str) -> Vec<String> {
        let mut tables: Vec<String> = match self {
            Raw::Sqlite(c) => sqlx::query_scalar(
                "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND p.name = $1",
            )
            .bind(column)
            .fetch_all(c)
            .await
            .unwrap(),
            Raw::Postgres(c) => sqlx::query_scalar(
                "SELECT c.table_name::TEXT FROM information_schema.columns c
                 JOIN information_schema.tables t
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                 WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
                   AND c.column_name = $1",
            )
            .bind(column)
            .fetch_all(c)
            .await
            .unwrap(),
        };
        tables.sort();
        tables
    }

    /// How many rows of `table` have `column` = `value`.
    async fn count(&mut self, table: &str, column: &str, value: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
        match self {
            Raw::Sqlite(c) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(value)
                .fetch_one(c)
                .await
                .unwrap(),
            Raw::Postgres(c) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(value)
                .fetch_one(c)
                .await
                .unwrap(),
        }
    }

    /// Per table with `column`, how many rows name `value` (the tables with none left out).
    async fn census(&mut self, column: &str, value: &str) -> Vec<(String, i64)> {
        let mut found = Vec::new();
        for table in self.tables_with(column).await {
            let n = self.count(&table, column, value).await;
            if n > 0 {
                found.push((table, n));
            }
        }
        found
    }

    /// Runs `sql`, a statement without parameters (none when blank).
    async fn exec(&mut self, sql: &str) {
        if sql.trim().is_empty() {
            return;
        }
        let text = sqlx::AssertSqlSafe(sql.to_owned());
        let done = match self {
            Raw::Sqlite(c) => sqlx::query(text).execute(c).await.map(drop),
            Raw::Postgres(c) => sqlx::query(text).execute(c).await.map(drop),
        };
        if let Err(e) = done {
            panic!("{e}: {sql}");
        }
    }

    /// The sum of the holdings change log's rows for `user`.
    async fn changes_of(&mut self, user: &str) -> i64 {
        let sql =
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM holdings_changes WHERE user_id = $1";
        match self {
            Raw::Sqlite(c) => sqlx::query_scalar(sql)
                .bind(user)
                .fetch_one(c)
                .await
                .unwrap(),
            Raw::Postgres(c) => sqlx::query_scalar(sql)
                .bind(user)
                .fetch_one(c)
                .await
                .unwrap(),
        }
    }

    /// How many rows `table` has.
    async fn count_all(&mut self, table: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        match self {
            Raw::Sqlite(c) => sqlx::query_scalar(sql).fetch_one(c).await.unwrap(),
            Raw::Postgres(c) => sqlx::query_scalar(sql).fetch_one(c).await.unwrap(),
        }
    }

    async fn execute(&mut self, sql: &str, value: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Raw::Sqlite(c) => drop(sqlx::query(sql).bind(value).execute(c).await.unwrap()),
            Raw::Postgres(c) => drop(sqlx::query(sql).bind(value).execute(c).await.unwrap()),
        }
    }
}

/// Everything the request paths write about a client of `tenant` (named `app`-prefixed ids of
/// `tag`): a session signed in to it, an authorization code, a grant with its refresh token
/// rotated once, a consent, a client assertion's jti, a revoked access token, a rate window, a
/// sign-in throttle, a SCIM request log line and the audit entries these make.
async fn busy_client(store: &Store, tenant: &Tenant, user: &UserId, tag: &str) -> ClientId {
    let c = client(store, &tenant.id, &format!("app-{tag}")).await;
    busy(store, tenant, user, &c, tag).await;
    c
}

/// What [`busy_client`] writes, for the client `c`.
async fn busy(store: &Store, tenant: &Tenant, user: &UserId, c: &ClientId, tag: &str) {
    let c = c.clone();
    let t = &tenant.id;
    let sid = format!("s-{tag}");
    store
        .start_session(t, &session(&sid, user), &Actor::system())
        .await
        .unwrap();
    store.record_session_client(t, &sid, &c).await.unwrap();
    let code = auth_code(&format!("code-{tag}"), &c, user, &sid);
    store.insert_auth_code(t, &code).await.unwrap();
    let gid = format!("g-{tag}");
    store
        .insert_grant(
            t,
            &grant(&gid, c.clone(), user, Some(&sid)),
            &token(&format!("rt-{tag}"), &gid),
        )
        .await
        .unwrap();
    let (_, rotated) = store
        .refresh_and_rotate(
            t,
            &format!("rt-{tag}"),
            &c,
            &rotation(&format!("rt2-{tag}")),
            true,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(rotated);
    store
        .grant_consent(t, user, &c, &["openid".into()], &Actor::system())
        .await
        .unwrap();
    let later = clock::now_ms() + 60_000;
    assert!(
        store
            .use_assertion_jti(t, &c, &format!("jti-{tag}"), later)
            .await
            .unwrap()
    );
    store
        .revoke_access_token(t, &format!("at-{tag}"), later)
        .await
        .unwrap();
    store
        .count_event(t, &format!("key-{tag}"), 60_000, clock::now_ms())
        .await
        .unwrap();
    let policy = castellan::domain::throttle::Policy {
        failure_factor: 5,
        wait_increment_ms: 1000,
        max_wait_ms: 60_000,
        failure_reset_ms: 600_000,
        max_failures: 0,
    };
    store
        .throttle_attempt(t, &format!("who-{tag}"), &policy, clock::now_ms(), "ticket")
        .await
        .unwrap();
}

/// Deleting a client leaves no row that names it in any table with a `client_id`, and deleting
/// a tenant (by hand: Castellan itself never does) none that names it in any table with a
/// `tenant_id`, whichever way each table is tied to them (PostgreSQL keeps no foreign key from
/// the request paths' tables to tenants and clients: triggers cascade instead); the other
/// tenant's rows stay, all of them. The tables are listed from the schema, so a table added
/// later is covered too.
async fn deleted_clients_and_tenants_leave_nothing_behind(b: common::Backend) {
    let (db, store, tenant, owner) = fresh(b).await;
    let (other, other_owner) =
        castellan::cli::create_tenant(&store, "globex", "Globex", "o@globex.test")
            .await
            .unwrap();
    let gone = busy_client(&store, &tenant, &owner.id, "a").await;
    let kept = busy_client(&store, &tenant, &owner.id, "b").await;
    let theirs = busy_client(&store, &other, &other_owner.id, "c").await;
    let mut raw = Raw::open(&db.url).await;
    let named: Vec<String> = raw
        .census("client_id", gone.as_str())
        .await
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    for table in [
        "authorization_codes",
        "client_assertion_jtis",
        "consents",
        "grants",
        "session_clients",
    ] {
        assert!(named.iter().any(|t| t == table), "{table}: {named:?}");
    }
    let kept_before = raw.census("client_id", kept.as_str()).await;
    let refresh_before = raw
        .count("refresh_tokens", "tenant_id", tenant.id.as_str())
        .await;
    assert_eq!(refresh_before, 4, "two grants, each token rotated once");
    store
        .delete_client(&tenant.id, &gone, &Actor::system())
        .await
        .unwrap();
    assert_eq!(raw.census("client_id", gone.as_str()).await, vec![]);
    assert_eq!(raw.census("client_id", kept.as_str()).await, kept_before);
    assert_eq!(
        raw.count("refresh_tokens", "tenant_id", tenant.id.as_str())
            .await,
        2,
        "the deleted client's grant took its refresh tokens"
    );
    assert!(
        store
            .refresh_token(&tenant.id, "rt2-a")
            .await
            .unwrap()
            .is_none(),
        "a deleted client's refresh token is gone"
    );

    let theirs_before = raw.census("tenant_id", other.id.as_str()).await;
    let ours = raw.census("tenant_id", tenant.id.as_str()).await;
    for table in [
        "audit_log",
        "rate_windows",
        "refresh_tokens",
        "revoked_access_tokens",
        "sessions",
        "sign_in_throttle",
        "users",
    ] {
        assert!(ours.iter().any(|(t, _)| t == table), "{table}: {ours:?}");
    }
    raw.execute("DELETE FROM tenants WHERE id = $1", tenant.id.as_str())
        .await;
    assert_eq!(raw.census("tenant_id", tenant.id.as_str()).await, vec![]);
    assert_eq!(raw.census("client_id", kept.as_str()).await, vec![]);
    assert_eq!(
        raw.census("tenant_id", other.id.as_str()).await,
        theirs_before
    );
    assert!(!raw.census("client_id", theirs.as_str()).await.is_empty());
}

/// (PostgreSQL only: SQLite's foreign keys take no row locks.) A foreign key check locks the row it finds (FOR KEY SHARE) and a row locked by
/// concurrent transactions gets a MultiXact, so every request path that wrote a row keyed to
/// the tenant or the client serialised a little on that one hot row. After concurrent sign-ins,
/// codes, grants, refreshes, consents, client assertions, revocations, rate windows and
/// throttles, neither the tenant's row nor the clients' was locked or written (`xmin` and `xmax`
/// as they were before: a lock, or a MultiXact of locks, would be the new `xmax`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_paths_lock_no_tenant_or_client_row_postgres() {
    let (db, store, tenant, owner) = fresh(common::Backend::Postgres).await;
    use sqlx::Connection;
    let conn = &mut sqlx::PgConnection::connect(&db.url).await.unwrap();
    let c = client(&store, &tenant.id, "app").await;
    let mut clients = vec![c.clone()];
    for i in 0..8 {
        clients.push(client(&store, &tenant.id, &format!("app-x{i}")).await);
    }
    let mut rows = vec![("tenants", tenant.id.as_str().to_owned())];
    rows.extend(clients.iter().map(|c| ("clients", c.as_str().to_owned())));
    let mut before = Vec::new();
    for (table, id) in &rows {
        before.push(versions(conn, table, id).await);
    }
    let mut tasks = Vec::new();
    for (i, c) in clients.iter().enumerate().skip(1) {
        let (store, tenant, c) = (store.clone(), tenant.clone(), c.clone());
        let user = owner.id.clone();
        tasks.push(tokio::spawn(async move {
            busy(&store, &tenant, &user, &c, &format!("x{i}")).await
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, t, c, user) = (
            store.clone(),
            tenant.id.clone(),
            c.clone(),
            owner.id.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let sid = format!("s{i}");
            store
                .start_session(&t, &session(&sid, &user), &Actor::system())
                .await
                .unwrap();
            store.record_session_client(&t, &sid, &c).await.unwrap();
            let code = auth_code(&format!("c{i}"), &c, &user, &sid);
            store.insert_auth_code(&t, &code).await.unwrap();
            store.redeem_code(&t, &format!("c{i}"), true).await.unwrap();
            let gid = format!("g{i}");
            store
                .insert_grant(
                    &t,
                    &grant(&gid, c.clone(), &user, Some(&sid)),
                    &token(&format!("r{i}-0"), &gid),
                )
                .await
                .unwrap();
            for n in 0..5 {
                let (_, rotated) = store
                    .refresh_and_rotate(
                        &t,
                        &format!("r{i}-{n}"),
                        &c,
                        &rotation(&format!("r{i}-{}", n + 1)),
                        true,
                    )
                    .await
                    .unwrap()
                    .unwrap();
                assert!(rotated);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    for ((table, id), before) in rows.iter().zip(before) {
        let after = versions(conn, table, id).await;
        assert_eq!(after, before, "the {table} row {id} was locked or written");
    }
}

/// The token requests' statements are prepared once per connection, and PostgreSQL keeps a
/// statement's generic plan until the statistics of a table it reads change; with autovacuum
/// off nothing changes them. Planned while the token tables were nearly empty, then run after
/// they grew by 20,000 rows each (one tenant, one user: an index of the tenant's users would read
/// them all), each statement must still read a few rows: the store analyzes the tables that grew
/// (its minute job), and the next run plans again. Measured as the rows the token tables gave to
/// index and sequential scans (`pg_stat_user_tables`, flushed by ending the store's backends).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_made_on_empty_tables_do_not_outlive_their_growth_postgres() {
    let (db, store, tenant, owner) = fresh(common::Backend::Postgres).await;
    use sqlx::Connection;
    let conn = &mut sqlx::PgConnection::connect(&db.url).await.unwrap();
    const TABLES: [&str; 4] = [
        "sessions",
        "grants",
        "refresh_tokens",
        "authorization_codes",
    ];
    // Whatever the server's setting, autovacuum leaves these tables to the store.
    for table in TABLES {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} SET (autovacuum_enabled = false)"
        )))
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    let (t, user) = (&tenant.id, &owner.id);
    let c = client(&store, t, "app").await;
    store
        .start_session(t, &session("s0", user), &Actor::system())
        .await
        .unwrap();
    store
        .insert_grant(
            t,
            &grant("g0", c.clone(), user, Some("s0")),
            &token("r-0", "g0"),
        )
        .await
        .unwrap();
    // Each request's statements, run in turn: on one connection of the store's, as a light
    // load does, past the five runs after which PostgreSQL settles on a generic plan.
    let mut step = 0;
    let mut requests = async |n: usize| {
        for _ in 0..n {
            let state = store
                .access_token_state(t, "jti", Some("s0"), Some("g0"), Some(user), Some(true))
                .await
                .unwrap();
            assert!(state.session.is_some() && state.grant.is_some() && state.user.is_some());
            store
                .access_token_state(t, "jti", Some("s0"), Some("g0"), None, None)
                .await
                .unwrap();
            let (_, rotated) = store
                .refresh_and_rotate(
                    t,
                    &format!("r-{step}"),
                    &c,
                    &rotation(&format!("r-{}", step + 1)),
                    true,
                )
                .await
                .unwrap()
                .unwrap();
            assert!(rotated);
            let code = auth_code(&format!("code-{step}"), &c, user, "s0");
            store.insert_auth_code(t, &code).await.unwrap();
            store
                .redeem_code(t, &format!("code-{step}"), true)
                .await
                .unwrap()
                .unwrap();
            step += 1;
        }
    };
    requests(8).await;
    // The growth: copies of the first rows, under new keys, in the same tenant and for the same
    // user (each grant with its own token and no session).
    for (table, key, first, more) in [
        ("sessions", "id", "s0", ", 'secret_hash', 'grow-' || i"),
        ("grants", "id", "g0", ", 'session_id', NULL"),
        (
            "refresh_tokens",
            "token_hash",
            "r-0",
            ", 'grant_id', 'grow-' || i",
        ),
        ("authorization_codes", "code_hash", "code-0", ""),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table}
             SELECT (jsonb_populate_record(r, jsonb_build_object('{key}', 'grow-' || i{more}))).*
             FROM {table} r, generate_series(1, 20000) i WHERE r.{key} = '{first}'"
        )))
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    // This connection's counts of what it changed, flushed now rather than when it next idles.
    sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(&mut *conn)
        .await
        .unwrap();
    let mut analyzed = store.analyze_grown_tables().await.unwrap();
    analyzed.retain(|table| TABLES.contains(&table.as_str()));
    analyzed.sort();
    let mut expected = TABLES.map(str::to_owned).to_vec();
    expected.sort();
    assert_eq!(analyzed, expected, "the grown tables are analyzed");
    assert!(
        store.analyze_grown_tables().await.unwrap().is_empty(),
        "and only once"
    );
    // Rows read before the measured requests (this connection's own statistics flushed first).
    let read = async |conn: &mut sqlx::PgConnection| -> Vec<(String, i64)> {
        sqlx::query("SELECT pg_stat_force_next_flush()")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("SELECT pg_stat_clear_snapshot()")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query_as(
            "SELECT relname::TEXT, COALESCE(idx_tup_fetch, 0) + seq_tup_read
             FROM pg_stat_user_tables WHERE relname = ANY($1) ORDER BY relname",
        )
        .bind(TABLES.as_slice())
        .fetch_all(&mut *conn)
        .await
        .unwrap()
    };
    let before = read(conn).await;
    const RUNS: usize = 20;
    requests(RUNS).await;
    // The store's backends flush their statistics as they end.
    let pids: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM unnest($1::INT[]) pid")
        .bind(&pids)
        .execute(&mut *conn)
        .await
        .unwrap();
    for _ in 0..200 {
        let left: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ANY($1)")
                .bind(&pids)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let after = read(conn).await;
    for ((table, b), (_, a)) in before.iter().zip(&after) {
        // A primary-key plan reads a row or two per statement; any other reads 20,000.
        assert!(
            a - b < 50 * RUNS as i64,
            "{table}: {} rows read in {RUNS} runs of the token requests",
            a - b
        );
    }
}

/// The `xmin` and `xmax` of the row `id` of `table` (PostgreSQL).
async fn versions(conn: &mut sqlx::PgConnection, table: &str, id: &str) -> (String, String) {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT xmin::TEXT, xmax::TEXT FROM {table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(conn)
    .await
    .unwrap()
}

backends!(
    concurrent_rotations_let_one_through,
    rotation_is_checked_and_undone,
    concurrent_code_exchanges_let_one_through,
    holdings_are_what_the_user_holds_today,
    holdings_agree_with_a_model,
    remembered_holdings_follow_every_change,
    merging_the_change_log_loses_no_change,
    token_connections_are_shared_and_replaced,
    access_token_state_is_one_scoped_read,
    grouped_writes_each_read_their_own,
    deleted_clients_and_tenants_leave_nothing_behind,
);
