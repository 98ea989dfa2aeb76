//! The store's contract, run on SQLite and on PostgreSQL against the same expectations.

#[path = "api/common.rs"]
#[allow(dead_code)]
mod common;

use castellan::domain::audit::Actor;
use castellan::domain::authz::UserScope;
use castellan::domain::changes::{NewUser, UserProfile};
use castellan::domain::permissions::admin;
use castellan::domain::*;
use castellan::store::Store;
use common::{Backend, TestDb};

macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() { super::$name(super::Backend::Sqlite).await }
            #[tokio::test]
            async fn postgres() { super::$name(super::Backend::Postgres).await }
        }
    )*};
}

async fn fresh(b: Backend) -> (TestDb, Store, Tenant, User) {
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

fn new_user(email: &str) -> NewUser {
    NewUser {
        username: email.into(),
        email: email.into(),
        email_verified: false,
        given_name: Some("Given".into()),
        family_name: None,
        display_name: None,
        phone: None,
        locale: None,
        timezone: None,
        external_id: None,
        status: UserStatus::Invited,
        attributes: vec![],
        main_account: None,
        roles: vec![],
        start_date: None,
        end_date: None,
    }
}

fn profile(u: &User) -> UserProfile {
    UserProfile {
        username: u.username.clone(),
        email: u.email.clone(),
        email_verified: u.email_verified,
        given_name: u.given_name.clone(),
        family_name: u.family_name.clone(),
        display_name: u.display_name.clone(),
        phone: u.phone.clone(),
        locale: u.locale.clone(),
        timezone: u.timezone.clone(),
        external_id: u.external_id.clone(),
        status: u.status,
    }
}

fn query(scope: UserScope) -> UserQuery {
    UserQuery {
        email_prefix: None,
        text: None,
        status: None,
        account_id: None,
        role_id: None,
        group_id: None,
        scope,
        sort: Default::default(),
        after: None,
        limit: 50,
    }
}

async fn tenant_starts_seeded(b: Backend) {
    let (_db, store, tenant, owner) = fresh(b).await;
    assert_eq!(tenant.owner_user_id.as_ref(), Some(&owner.id));
    assert!(owner.is_owner);
    assert_eq!(owner.status, UserStatus::Invited);
    for t in RoleTemplate::ALL {
        let role = store.role_by_template(&tenant.id, t).await.unwrap();
        assert_eq!(role.template, Some(t));
    }
    let eff = store
        .effective_permissions(&tenant.id, &owner.id)
        .await
        .unwrap();
    for (p, _) in admin::ALL {
        assert!(eff.contains(p), "owner holds {p}");
    }
    let again = castellan::cli::create_tenant(&store, "acme", "Acme", "x@acme.test").await;
    assert!(again.unwrap_err().contains("already exists"));
}

async fn users_are_versioned_and_scoped_to_their_tenant(b: Backend) {
    let (_db, store, tenant, _) = fresh(b).await;
    let (other, _) = castellan::cli::create_tenant(&store, "other", "Other", "owner@other.test")
        .await
        .unwrap();
    let u = store
        .insert_user(&tenant.id, &new_user("a@x.test"), &Actor::system())
        .await
        .unwrap();
    assert!(
        store.get_user(&other.id, &u.id).await.unwrap().is_none(),
        "invisible from another tenant"
    );
    // The same email may exist in another tenant.
    store
        .insert_user(&other.id, &new_user("a@x.test"), &Actor::system())
        .await
        .unwrap();
    let dup = store
        .insert_user(&tenant.id, &new_user("A@X.test"), &Actor::system())
        .await;
    assert!(matches!(dup, Err(DomainError::Conflict(_))), "{dup:?}");

    let p = UserProfile {
        family_name: Some("Fam".into()),
        ..profile(&u)
    };
    let v2 = store
        .update_user(
            &tenant.id,
            &u.id,
            1,
            &p,
            &vec![],
            "user.update",
            &Actor::system(),
        )
        .await
        .unwrap();
    assert_eq!((v2.version, v2.family_name.as_deref()), (2, Some("Fam")));
    let stale = store
        .update_user(
            &tenant.id,
            &u.id,
            1,
            &p,
            &vec![],
            "user.update",
            &Actor::system(),
        )
        .await;
    assert!(matches!(stale, Err(DomainError::PreconditionFailed(1))));
    let cross = store
        .update_user(
            &other.id,
            &u.id,
            2,
            &p,
            &vec![],
            "user.update",
            &Actor::system(),
        )
        .await;
    assert!(matches!(cross, Err(DomainError::NotFound(_))));
    assert!(matches!(
        store.delete_user(&other.id, &u.id, &Actor::system()).await,
        Err(DomainError::NotFound(_))
    ));
}

async fn listing_pages_and_prefix_search(b: Backend) {
    let (_db, store, tenant, _) = fresh(b).await;
    for e in [
        "b1@x.test",
        "b2@x.test",
        "b3@x.test",
        "c@x.test",
        "Bz@y.test",
    ] {
        store
            .insert_user(&tenant.id, &new_user(e), &Actor::system())
            .await
            .unwrap();
    }
    let mut q = query(UserScope::All);
    q.email_prefix = Some("b".into());
    q.limit = 2;
    let p1 = store.list_users(&tenant.id, &q).await.unwrap();
    assert_eq!(
        p1.items
            .iter()
            .map(|u| u.email.as_str())
            .collect::<Vec<_>>(),
        ["b1@x.test", "b2@x.test"]
    );
    let (k, id) =
        castellan::domain::model::decode_cursor(p1.next_cursor.as_deref().unwrap()).unwrap();
    q.after = Some((k, UserId(id)));
    let p2 = store.list_users(&tenant.id, &q).await.unwrap();
    assert_eq!(
        p2.items
            .iter()
            .map(|u| u.email.as_str())
            .collect::<Vec<_>>(),
        ["b3@x.test", "Bz@y.test"]
    );
    assert!(p2.next_cursor.is_none());
    let mut like = query(UserScope::All);
    like.text = Some("_".into());
    assert!(
        store
            .list_users(&tenant.id, &like)
            .await
            .unwrap()
            .items
            .is_empty(),
        "LIKE wildcards are escaped"
    );
}

async fn managers_see_only_their_scope(b: Backend) {
    let (_db, store, tenant, _) = fresh(b).await;
    let m = store
        .insert_user(&tenant.id, &new_user("m@x.test"), &Actor::system())
        .await
        .unwrap();
    store
        .insert_user(&tenant.id, &new_user("u@x.test"), &Actor::system())
        .await
        .unwrap();
    let page = store
        .list_users(&tenant.id, &query(UserScope::ManagedBy(m.id.clone())))
        .await
        .unwrap();
    assert!(page.items.is_empty(), "a manager of nothing sees nobody");
}

async fn owner_is_protected_and_anonymisation_redacts(b: Backend) {
    let (_db, store, tenant, owner) = fresh(b).await;
    assert!(matches!(
        store
            .delete_user(&tenant.id, &owner.id, &Actor::system())
            .await,
        Err(DomainError::Conflict(_))
    ));
    let u = store
        .insert_user(&tenant.id, &new_user("gone@x.test"), &Actor::system())
        .await
        .unwrap();
    let anon = UserProfile {
        username: format!("anon-{}", u.id),
        email: format!("anon-{}@anonymised.invalid", u.id),
        given_name: None,
        status: UserStatus::Anonymised,
        ..profile(&u)
    };
    let a = store
        .anonymise_user(&tenant.id, &u.id, &anon, &Actor::system())
        .await
        .unwrap();
    assert_eq!(
        (a.id.clone(), a.status),
        (u.id.clone(), UserStatus::Anonymised)
    );
    let page = store
        .list_users(&tenant.id, &query(UserScope::All))
        .await
        .unwrap();
    assert!(page.items.iter().all(|x| x.email != "gone@x.test"));
    let roles = store
        .effective_permissions(&tenant.id, &u.id)
        .await
        .unwrap();
    assert!(
        roles.permissions.is_empty(),
        "anonymised users hold nothing"
    );
}

async fn tokens_are_found_by_hash_until_revoked(b: Backend) {
    let (_db, store, tenant, _) = fresh(b).await;
    let t = store
        .insert_token(&tenant.id, "t", None, "hash-1", &Actor::system())
        .await
        .unwrap();
    let (owner, found) = store.token_by_hash("hash-1").await.unwrap().unwrap();
    assert_eq!(
        (owner.id, found.id.clone()),
        (tenant.id.clone(), t.id.clone())
    );
    assert_eq!(owner.slug, tenant.slug);
    assert!(store.token_by_hash("hash-2").await.unwrap().is_none());
    store
        .revoke_token(&tenant.id, &t.id, &Actor::system())
        .await
        .unwrap();
    assert!(store.token_by_hash("hash-1").await.unwrap().is_none());
    assert!(matches!(
        store
            .revoke_token(&tenant.id, &t.id, &Actor::system())
            .await,
        Err(DomainError::NotFound(_))
    ));
}

/// A grant with its first refresh token, for `user` at a new client of `tenant`.
async fn grant_for(
    store: &Store,
    tenant: &TenantId,
    user: &UserId,
    id: &str,
    expires_at: i64,
) -> (sessions::Grant, sessions::RefreshToken) {
    use castellan::domain::oidc::*;
    let client = store
        .insert_client(
            tenant,
            &format!("client-{id}"),
            &ClientSettings {
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
            },
            Some("hash"),
            &Actor::system(),
        )
        .await
        .unwrap();
    let now = clock::now_ms();
    let grant = sessions::Grant {
        id: id.into(),
        client_id: client.id,
        user_id: user.clone(),
        session_id: None,
        offline: true,
        scope: "openid offline_access".into(),
        auth_time: now,
        amr: vec!["pwd".into()],
        acr: None,
        created_at: now,
        expires_at,
        revoked_at: None,
    };
    let token = sessions::RefreshToken {
        token_hash: format!("rt-{id}-1"),
        grant_id: id.into(),
        created_at: now,
        expires_at,
        used_at: None,
    };
    store.insert_grant(tenant, &grant, &token).await.unwrap();
    (grant, token)
}

/// Rotation is a compare-and-set: an unused token rotates once; the same token again revokes
/// the grant. Lookups are tenant-scoped; expired grants are purged, live ones kept.
async fn refresh_tokens_rotate_once_and_purge(b: Backend) {
    let (_db, store, tenant, owner) = fresh(b).await;
    let far = clock::now_ms() + 3_600_000;
    let (grant, first) = grant_for(&store, &tenant.id, &owner.id, "g1", far).await;
    let next = |hash: &str| sessions::Rotation {
        token_hash: hash.into(),
        created_at: clock::now_ms(),
        expires_at: far + 3_600_000,
    };
    let rotate = |old: &'static str, new: sessions::Rotation| {
        let (store, t, c) = (store.clone(), tenant.id.clone(), grant.client_id.clone());
        async move {
            let (_, won) = store
                .refresh_and_rotate(&t, old, &c, &new, false)
                .await
                .unwrap()
                .unwrap();
            won
        }
    };
    assert_eq!(first.token_hash, "rt-g1-1");
    assert!(rotate("rt-g1-1", next("rt-g1-2")).await);
    let (used, g) = store
        .refresh_token(&tenant.id, &first.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert!(used.used_at.is_some() && g.revoked_at.is_none());
    let (fresh, _) = store
        .refresh_token(&tenant.id, "rt-g1-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fresh.expires_at, far, "capped at the grant's expiry");
    assert!(!rotate("rt-g1-1", next("rt-g1-3")).await, "used once");
    assert!(
        store
            .refresh_token(&tenant.id, "rt-g1-3")
            .await
            .unwrap()
            .is_none()
    );
    // Reuse: the refresh grant revokes the grant, and then its unused newest token cannot
    // rotate either.
    store
        .revoke_grant(
            &tenant.id,
            &grant.id,
            "refresh token reused",
            &Actor::system(),
        )
        .await
        .unwrap();
    let g = store
        .get_grant(&tenant.id, &grant.id)
        .await
        .unwrap()
        .unwrap();
    assert!(g.revoked_at.is_some());
    assert!(!rotate("rt-g1-2", next("rt-g1-3")).await);

    let (other, _) = castellan::cli::create_tenant(&store, "globex", "Globex", "o@globex.test")
        .await
        .unwrap();
    assert!(
        store
            .refresh_token(&other.id, "rt-g1-2")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.get_grant(&other.id, "g1").await.unwrap().is_none());

    let (_, expired) = grant_for(&store, &tenant.id, &owner.id, "g2", clock::now_ms() - 1).await;
    store
        .revoke_access_token(&tenant.id, "jti-old", clock::now_ms() - 1)
        .await
        .unwrap();
    store
        .revoke_access_token(&tenant.id, "jti-live", far)
        .await
        .unwrap();
    assert!(store.purge_expired().await.unwrap() >= 2);
    assert!(store.get_grant(&tenant.id, "g2").await.unwrap().is_none());
    assert!(
        store
            .refresh_token(&tenant.id, &expired.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.get_grant(&tenant.id, "g1").await.unwrap().is_some());
    assert!(
        store
            .refresh_token(&tenant.id, "rt-g1-2")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        !store
            .access_token_revoked(&tenant.id, "jti-old")
            .await
            .unwrap()
    );
    assert!(
        store
            .access_token_revoked(&tenant.id, "jti-live")
            .await
            .unwrap()
    );
}

/// A client with a back-channel logout URI, registered in `tenant`.
async fn logout_client(store: &Store, tenant: &TenantId, uri: &str) -> oidc::Client {
    let input = castellan::admin::clients::ClientInput {
        name: Some("App".into()),
        redirect_uris: Some(vec!["https://app.example.com/cb".into()]),
        backchannel_logout_uri: Some(Some(uri.into())),
        ..Default::default()
    };
    let settings = castellan::admin::clients::settings(None, input).unwrap();
    let client_id = uuid::Uuid::new_v4().simple().to_string();
    store
        .insert_client(tenant, &client_id, &settings, Some("h"), &Actor::system())
        .await
        .unwrap()
}

/// Which clients a session signed in to, and ending it, stay within the session's tenant.
async fn logout_state_is_scoped_to_its_tenant(b: Backend) {
    use castellan::domain::sessions::{LogoutTarget, Session};
    let (_db, store, tenant, owner) = fresh(b).await;
    let (globex, _) = castellan::cli::create_tenant(&store, "globex", "Globex", "o@globex.test")
        .await
        .unwrap();
    let ours = logout_client(&store, &tenant.id, "https://app.example.com/bc").await;
    let theirs = logout_client(&store, &globex.id, "https://globex.example.com/bc").await;
    let now = castellan::domain::clock::now_ms();
    let session = Session {
        id: "session-1".into(),
        secret_hash: "secret-session-1".into(),
        user_id: owner.id.clone(),
        auth_time: now,
        amr: vec!["pwd".into()],
        acr: None,
        created_at: now,
        last_seen_at: now,
        expires_at: now + 3_600_000,
        ended_at: None,
        remember: false,
    };
    store
        .start_session(&tenant.id, &session, &Actor::system())
        .await
        .unwrap();
    for client in [&ours.id, &ours.id, &theirs.id] {
        store
            .record_session_client(&tenant.id, &session.id, client)
            .await
            .unwrap();
    }
    store
        .record_session_client(&globex.id, &session.id, &theirs.id)
        .await
        .unwrap();
    let expected = vec![LogoutTarget {
        session_id: session.id.clone(),
        user_id: owner.id.clone(),
        client_id: ours.client_id.clone(),
        uri: "https://app.example.com/bc".into(),
        alg: oidc::KeyAlg::ES256,
    }];
    let targets = store.user_logout_targets(&tenant.id, &owner.id).await;
    assert_eq!(targets.unwrap(), expected);
    let targets = store.user_logout_targets(&globex.id, &owner.id).await;
    assert_eq!(targets.unwrap(), vec![]);

    let ended = store
        .end_session(&globex.id, &session.id, &Actor::system())
        .await;
    assert_eq!(ended.unwrap(), vec![], "another tenant cannot end it");
    let live = store.get_session(&tenant.id, &session.id).await.unwrap();
    assert!(live.unwrap().live(now));
    let ended = store
        .end_session(&tenant.id, &session.id, &Actor::system())
        .await;
    assert_eq!(ended.unwrap(), expected);
    let gone = store.get_session(&tenant.id, &session.id).await.unwrap();
    assert!(gone.unwrap().ended_at.is_some());
    let again = store
        .end_session(&tenant.id, &session.id, &Actor::system())
        .await;
    assert_eq!(again.unwrap(), vec![], "an ended session ends once");
    let targets = store.user_logout_targets(&tenant.id, &owner.id).await;
    assert_eq!(targets.unwrap(), vec![]);
}

async fn consents_and_assertion_jtis(b: Backend) {
    let (_db, store, tenant, _) = fresh(b).await;
    let sys = Actor::system();
    let input = castellan::admin::clients::ClientInput {
        name: Some("Partner".into()),
        redirect_uris: Some(vec!["https://partner.test/cb".into()]),
        ..Default::default()
    };
    let settings = castellan::admin::clients::settings(None, input).unwrap();
    let client = store
        .insert_client(&tenant.id, "partner", &settings, Some("h"), &sys)
        .await
        .unwrap();
    let user = store
        .insert_user(&tenant.id, &new_user("ada@acme.test"), &sys)
        .await
        .unwrap();
    let scopes = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let t = &tenant.id;
    assert!(
        store
            .consent(t, &user.id, &client.id)
            .await
            .unwrap()
            .is_none()
    );
    store
        .grant_consent(
            t,
            &user.id,
            &client.id,
            &scopes(&["openid", "profile"]),
            &sys,
        )
        .await
        .unwrap();
    store
        .grant_consent(t, &user.id, &client.id, &scopes(&["email", "openid"]), &sys)
        .await
        .unwrap();
    let c = store
        .consent(t, &user.id, &client.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.scopes, scopes(&["openid", "profile", "email"]));
    assert_eq!(
        (c.client_id.as_str(), c.client_name.as_str()),
        ("partner", "Partner")
    );
    assert_eq!(store.list_consents(t, &user.id).await.unwrap().len(), 1);
    // Another tenant sees nothing and revokes nothing.
    let (other, _) = castellan::cli::create_tenant(&store, "globex", "Globex", "o@globex.test")
        .await
        .unwrap();
    assert!(
        store
            .consent(&other.id, &user.id, &client.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .list_consents(&other.id, &user.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store
            .revoke_consent(&other.id, &user.id, "partner", &sys)
            .await,
        Err(DomainError::NotFound(_))
    ));
    // Revoked by client_id (or by id); then gone.
    store
        .revoke_consent(t, &user.id, "partner", &sys)
        .await
        .unwrap();
    assert!(matches!(
        store
            .revoke_consent(t, &user.id, client.id.as_str(), &sys)
            .await,
        Err(DomainError::NotFound(_))
    ));
    // Gone with the user.
    store
        .grant_consent(t, &user.id, &client.id, &scopes(&["openid"]), &sys)
        .await
        .unwrap();
    store.delete_user(t, &user.id, &sys).await.unwrap();
    assert!(store.list_consents(t, &user.id).await.unwrap().is_empty());

    // A jti is accepted once; an expired record is deleted, so it no longer blocks.
    let now = castellan::domain::clock::now_ms();
    assert!(
        store
            .use_assertion_jti(t, &client.id, "j1", now + 60_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_assertion_jti(t, &client.id, "j1", now + 60_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .use_assertion_jti(t, &client.id, "old", now - 1)
            .await
            .unwrap()
    );
    assert!(
        store
            .use_assertion_jti(t, &client.id, "old", now - 1)
            .await
            .unwrap()
    );
}

async fn mfa_factors_are_audited_notified_and_scoped(b: Backend) {
    use castellan::domain::mfa::*;
    let (_db, store, tenant, _owner) = fresh(b).await;
    let (other, _) = castellan::cli::create_tenant(&store, "other", "Other", "o@other.test")
        .await
        .unwrap();
    let t = &tenant.id;
    let actor = Actor::cli();
    let user = store
        .insert_user(t, &new_user("mfa@acme.test"), &actor)
        .await
        .unwrap();

    // Settings: defaults, then a change that reads back.
    assert_eq!(store.mfa_settings(t).await.unwrap(), MfaSettings::default());
    let wanted = MfaSettings {
        policy: MfaPolicy::Required,
        passkey_only_allowed: true,
        security_key_user_verification: UserVerification::Required,
    };
    store.set_mfa_settings(t, &wanted, &actor).await.unwrap();
    assert_eq!(store.mfa_settings(t).await.unwrap(), wanted);
    assert_eq!(
        store.mfa_settings(&other.id).await.unwrap(),
        MfaSettings::default()
    );
    assert_eq!(
        store.role_mfa_policy(t, &user.id).await.unwrap(),
        MfaPolicy::Optional
    );

    // A credential with the first recovery codes; the same credential id again is a conflict.
    let cred = WebauthnCredential {
        id: FactorId::generate(),
        user_id: user.id.clone(),
        kind: CredentialKind::Passkey,
        name: "Laptop".into(),
        credential_id: "Y3JlZC0x".into(),
        credential: "{}".into(),
        created_at: 1,
        last_used_at: None,
    };
    let hashes: Vec<String> = (0..3).map(|i| format!("hash-{i}")).collect();
    store
        .add_webauthn_credential(t, &cred, Some(&hashes), &actor)
        .await
        .unwrap();
    let again = WebauthnCredential {
        id: FactorId::generate(),
        ..cred.clone()
    };
    assert!(matches!(
        store.add_webauthn_credential(t, &again, None, &actor).await,
        Err(DomainError::Conflict(_))
    ));
    assert!(
        store
            .webauthn_credential(t, "Y3JlZC0x")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .webauthn_credential(&other.id, "Y3JlZC0x")
            .await
            .unwrap()
            .is_none()
    );
    let f = store.user_factors(t, &user.id).await.unwrap();
    assert_eq!((f.webauthn.len(), f.recovery_codes_left), (1, 3));
    assert_eq!(f.best_level(), Level::PhishingResistant);

    // An authenticator app: pending until confirmed, each step accepted once.
    let totp = TotpFactor {
        id: FactorId::generate(),
        user_id: user.id.clone(),
        secret: "JBSWY3DPEHPK3PXP".into(),
        confirmed_at: None,
        last_step: 0,
        created_at: 2,
        last_used_at: None,
    };
    store.begin_totp(t, &totp).await.unwrap();
    assert!(
        store
            .user_factors(t, &user.id)
            .await
            .unwrap()
            .confirmed_totp()
            .is_none()
    );
    assert!(!store.use_totp_step(t, &user.id, 10).await.unwrap());
    assert!(
        store
            .confirm_totp(t, &user.id, &totp.id, 10, None, &actor)
            .await
            .unwrap()
    );
    assert!(
        !store
            .confirm_totp(t, &user.id, &totp.id, 11, None, &actor)
            .await
            .unwrap()
    );
    assert!(!store.use_totp_step(t, &user.id, 10).await.unwrap());
    assert!(store.use_totp_step(t, &user.id, 11).await.unwrap());
    assert!(!store.use_totp_step(t, &user.id, 11).await.unwrap());
    assert!(matches!(
        store.begin_totp(t, &totp).await,
        Err(DomainError::Conflict(_))
    ));

    // Recovery codes work once, and not for another tenant.
    assert!(
        !store
            .use_recovery_code(&other.id, &user.id, "hash-0", &actor)
            .await
            .unwrap()
    );
    assert!(
        store
            .use_recovery_code(t, &user.id, "hash-0", &actor)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code(t, &user.id, "hash-0", &actor)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .user_factors(t, &user.id)
            .await
            .unwrap()
            .recovery_codes_left,
        2
    );

    // Removing the last factor takes the recovery codes with it.
    store
        .remove_factor(t, &user.id, &cred.id, &actor)
        .await
        .unwrap();
    assert_eq!(
        store
            .user_factors(t, &user.id)
            .await
            .unwrap()
            .recovery_codes_left,
        2
    );
    assert!(matches!(
        store
            .remove_factor(&other.id, &user.id, &totp.id, &actor)
            .await,
        Err(DomainError::NotFound(_))
    ));
    store
        .remove_factor(t, &user.id, &totp.id, &actor)
        .await
        .unwrap();
    let f = store.user_factors(t, &user.id).await.unwrap();
    assert!(!f.any());
    assert_eq!(f.recovery_codes_left, 0);

    // Every change raised security.mfa_changed (enabled by default) and was audited.
    let sent = store.notifications(t, &user.id, 50).await.unwrap();
    let kinds: Vec<&str> = sent
        .iter()
        .map(|n| n.details["event"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        [
            "factor_removed",
            "factor_removed",
            "recovery_code_used",
            "factor_added",
            "factor_added"
        ]
    );
    assert!(sent.iter().all(|n| n.event_type == "security.mfa_changed"));
    assert!(
        store
            .notifications(&other.id, &user.id, 50)
            .await
            .unwrap()
            .is_empty()
    );

    // Ceremonies are taken once, in their tenant only.
    let c = Ceremony {
        session_id: Some("s".into()),
        purpose: "register".into(),
        state: "{}".into(),
        expires_at: i64::MAX,
    };
    store.put_ceremony(t, "h1", &c).await.unwrap();
    assert!(
        store
            .take_ceremony(&other.id, "h1")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.take_ceremony(t, "h1").await.unwrap().unwrap().purpose,
        "register"
    );
    assert!(store.take_ceremony(t, "h1").await.unwrap().is_none());
}

/// A role's MFA policy counts for the users who hold it now: directly, through a group, or in an
/// account while their membership there is current; the strictest wins; clearing it removes it.
async fn role_mfa_policy_follows_the_roles_held(b: Backend) {
    use castellan::domain::mfa::MfaPolicy;
    let (_db, store, tenant, _) = fresh(b).await;
    let (other, _) = castellan::cli::create_tenant(&store, "other", "Other", "o@other.test")
        .await
        .unwrap();
    let (t, actor) = (&tenant.id, Actor::cli());
    let u = store
        .insert_user(t, &new_user("policy@acme.test"), &actor)
        .await
        .unwrap();
    let policy = |p| {
        let store = store.clone();
        let u = u.id.clone();
        async move { store.role_mfa_policy(p, &u).await.unwrap() }
    };
    let required = store
        .create_role(t, "Finance", None, &[], Some(MfaPolicy::Required), &actor)
        .await
        .unwrap();
    assert_eq!(required.mfa_policy, Some(MfaPolicy::Required));
    let strict = store
        .create_role(
            t,
            "Vault",
            None,
            &[],
            Some(MfaPolicy::PasskeyRequired),
            &actor,
        )
        .await
        .unwrap();
    let scoped = store
        .create_role(
            t,
            "Branch",
            None,
            &[],
            Some(MfaPolicy::PasskeyRequired),
            &actor,
        )
        .await
        .unwrap();
    assert_eq!(
        policy(t).await,
        MfaPolicy::Optional,
        "no role demands anything"
    );

    store
        .assign_role(t, &u.id, &required.id, None, false, &actor)
        .await
        .unwrap();
    assert_eq!(policy(t).await, MfaPolicy::Required);

    // An account-scoped role counts only while the membership is current.
    let account = store
        .insert_account(t, "Branch office", AccountKind::Customer, &actor)
        .await
        .unwrap();
    let ended = time::Date::from_calendar_date(2020, time::Month::January, 31).unwrap();
    store
        .add_membership(t, &u.id, &account.id, None, Some(ended), false, &actor)
        .await
        .unwrap();
    store
        .assign_role(t, &u.id, &scoped.id, Some(&account.id), false, &actor)
        .await
        .unwrap();
    assert_eq!(policy(t).await, MfaPolicy::Required, "the membership ended");

    // A role granted through a group counts.
    let g = store
        .create_group(t, "Vault keepers", None, None, &actor)
        .await
        .unwrap();
    store
        .add_group_role(t, &g.id, &strict.id, &actor)
        .await
        .unwrap();
    assert_eq!(policy(t).await, MfaPolicy::Required, "not a member yet");
    store
        .add_group_member(t, &g.id, &u.id, &actor)
        .await
        .unwrap();
    assert_eq!(policy(t).await, MfaPolicy::PasskeyRequired);
    assert_eq!(policy(&other.id).await, MfaPolicy::Optional, "other tenant");

    // Clearing the group role's policy leaves the direct one; a name change keeps it.
    let cleared = store
        .update_role(t, &strict.id, None, None, None, Some(None), &actor)
        .await
        .unwrap();
    assert_eq!(cleared.mfa_policy, None);
    assert_eq!(policy(t).await, MfaPolicy::Required);
    let renamed = store
        .update_role(
            t,
            &required.id,
            Some("Finance team"),
            None,
            None,
            None,
            &actor,
        )
        .await
        .unwrap();
    assert_eq!(renamed.mfa_policy, Some(MfaPolicy::Required));
    store
        .remove_group_member(t, &g.id, &u.id, &actor)
        .await
        .unwrap();
    assert_eq!(policy(t).await, MfaPolicy::Required);
}

/// Anonymising a user removes their second factors, their sessions' WebAuthn ceremonies, their
/// failed-code counts and their notifications, and nobody else's.
async fn anonymisation_removes_mfa_state(b: Backend) {
    use castellan::domain::mfa::*;
    use castellan::domain::sessions::Session;
    let (_db, store, tenant, _) = fresh(b).await;
    let (t, actor) = (&tenant.id, Actor::cli());
    let mut users = Vec::new();
    for (i, email) in ["gone@acme.test", "stays@acme.test"].iter().enumerate() {
        let u = store
            .insert_user(t, &new_user(email), &actor)
            .await
            .unwrap();
        let cred = WebauthnCredential {
            id: FactorId::generate(),
            user_id: u.id.clone(),
            kind: CredentialKind::Passkey,
            name: "Phone".into(),
            credential_id: format!("Y3JlZC0{i}"),
            credential: "{}".into(),
            created_at: 1,
            last_used_at: None,
        };
        let codes = [format!("code-{i}-a"), format!("code-{i}-b")];
        store
            .add_webauthn_credential(t, &cred, Some(&codes), &actor)
            .await
            .unwrap();
        let totp = TotpFactor {
            id: FactorId::generate(),
            user_id: u.id.clone(),
            secret: "JBSWY3DPEHPK3PXP".into(),
            confirmed_at: None,
            last_step: 0,
            created_at: 2,
            last_used_at: None,
        };
        store.begin_totp(t, &totp).await.unwrap();
        assert!(
            store
                .confirm_totp(t, &u.id, &totp.id, 7, None, &actor)
                .await
                .unwrap()
        );
        let now = castellan::domain::clock::now_ms();
        let session = Session {
            id: format!("session-{i}"),
            secret_hash: format!("secret-session-{i}"),
            user_id: u.id.clone(),
            auth_time: now,
            amr: vec!["pwd".into()],
            acr: None,
            created_at: now,
            last_seen_at: now,
            expires_at: now + 3_600_000,
            ended_at: None,
            remember: false,
        };
        store.start_session(t, &session, &actor).await.unwrap();
        let ceremony = Ceremony {
            session_id: Some(session.id.clone()),
            purpose: "register".into(),
            state: "{}".into(),
            expires_at: i64::MAX,
        };
        store
            .put_ceremony(t, &format!("ceremony-{i}"), &ceremony)
            .await
            .unwrap();
        users.push(u);
    }
    let (gone, stays) = (&users[0], &users[1]);
    let anon = UserProfile {
        username: format!("anon-{}", gone.id),
        email: format!("anon-{}@anonymised.invalid", gone.id),
        given_name: None,
        status: UserStatus::Anonymised,
        ..profile(gone)
    };
    store
        .anonymise_user(t, &gone.id, &anon, &actor)
        .await
        .unwrap();

    let f = store.user_factors(t, &gone.id).await.unwrap();
    assert!(f.webauthn.is_empty() && f.totp.is_none(), "{f:?}");
    assert_eq!((f.recovery_codes_left, f.has_password), (0, false));
    assert!(
        store
            .webauthn_credential(t, "Y3JlZC00")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .take_ceremony(t, "ceremony-0")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .notifications(t, &gone.id, 50)
            .await
            .unwrap()
            .is_empty()
    );

    let f = store.user_factors(t, &stays.id).await.unwrap();
    assert_eq!((f.webauthn.len(), f.recovery_codes_left), (1, 2));
    assert!(f.confirmed_totp().is_some());
    assert!(
        store
            .take_ceremony(t, "ceremony-1")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.notifications(t, &stays.id, 50).await.unwrap().len(),
        2
    );
}

/// The periodic purge takes expired ceremonies and leaves live ones and recent failed codes.
async fn purge_takes_expired_mfa_state(b: Backend) {
    use castellan::domain::mfa::Ceremony;
    let (_db, store, tenant, _owner) = fresh(b).await;
    let now = castellan::domain::clock::now_ms();
    for (id, expires_at) in [("old", now - 1), ("live", now + 60_000)] {
        let c = Ceremony {
            session_id: None,
            purpose: "authenticate".into(),
            state: "{}".into(),
            expires_at,
        };
        store.put_ceremony(&tenant.id, id, &c).await.unwrap();
    }
    assert_eq!(store.purge_mfa().await.unwrap(), 1);
    assert!(
        store
            .take_ceremony(&tenant.id, "old")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .take_ceremony(&tenant.id, "live")
            .await
            .unwrap()
            .is_some()
    );
}

/// The reference model of `throttle_attempt`: (failures, last failure, locked until).
type Model = Option<(i64, i64, Option<i64>)>;

fn model_attempt(m: &mut Model, p: &throttle::Policy, now: i64) -> throttle::Attempt {
    match *m {
        Some((f, _, Some(until))) if until > now => throttle::Attempt {
            allowed: false,
            failures: f,
            locked_until: Some(until),
        },
        _ => {
            let f = match *m {
                Some((f, last, _)) if last >= now - p.failure_reset_ms => f + 1,
                _ => 1,
            };
            let until = p.locked_until(f, now);
            *m = Some((f, now, until));
            throttle::Attempt {
                allowed: true,
                failures: f,
                locked_until: until,
            }
        }
    }
}

/// The throttle's one-statement upsert against a model in Rust, over a generated timeline of
/// attempts (gaps short and long, successes now and then): growing waits, the cap, the reset
/// time and the permanent lock agree at every step; another tenant's subject is untouched; and
/// 20 attempts at once on a fresh subject let exactly the failure factor through.
async fn throttle_agrees_with_its_model(b: Backend) {
    let (_db, store, tenant, _) = fresh(b).await;
    let (other, _) = castellan::cli::create_tenant(&store, "other", "Other", "o@other.test")
        .await
        .unwrap();
    let p = throttle::Policy {
        failure_factor: 3,
        wait_increment_ms: 1_000,
        max_wait_ms: 4_000,
        failure_reset_ms: 20_000,
        max_failures: 12,
    };
    let gaps = [0, 10, 500, 1_500, 1_500, 5_000, 5_000, 5_000, 25_000];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let mut model: Model = None;
    let mut now = 1_000_000;
    let mut permanent_seen = false;
    for step in 0..600 {
        // The last 20 steps: failures spaced past each wait, up to the permanent lock.
        now += if step >= 580 {
            5_000
        } else {
            gaps[next() % gaps.len()]
        };
        if step < 580 && next() % 40 == 0 {
            store.throttle_forget(&tenant.id, "user:u1").await.unwrap();
            model = None;
            continue;
        }
        let ticket = format!("t{step}");
        let got = store
            .throttle_attempt(&tenant.id, "user:u1", &p, now, &ticket)
            .await
            .unwrap();
        let want = model_attempt(&mut model, &p, now);
        assert_eq!(got, want, "step {step} at {now}");
        permanent_seen |= got.locked_until == Some(throttle::PERMANENT);
        let state = store
            .throttle_state(&tenant.id, "user:u1", &p, now)
            .await
            .unwrap();
        assert_eq!(state.locked, want.locked_until.is_some_and(|u| u > now));
        assert_eq!(
            state.permanent,
            want.locked_until == Some(throttle::PERMANENT)
        );
    }
    assert!(permanent_seen, "the timeline reached the permanent lock");
    let elsewhere = store
        .throttle_state(&other.id, "user:u1", &p, now)
        .await
        .unwrap();
    assert_eq!(elsewhere, throttle::LockState::clear());

    let mut tasks = Vec::new();
    for i in 0..20 {
        let (store, t) = (store.clone(), tenant.id.clone());
        tasks.push(tokio::spawn(async move {
            store
                .throttle_attempt(&t, "email:x@acme.test", &p, now, &format!("p{i}"))
                .await
                .unwrap()
                .allowed
        }));
    }
    let mut allowed = 0;
    for t in tasks {
        allowed += usize::from(t.await.unwrap());
    }
    assert_eq!(allowed, 3, "exactly the failure factor");
}

both!(
    throttle_agrees_with_its_model,
    purge_takes_expired_mfa_state,
    role_mfa_policy_follows_the_roles_held,
    anonymisation_removes_mfa_state,
    mfa_factors_are_audited_notified_and_scoped,
    consents_and_assertion_jtis,
    refresh_tokens_rotate_once_and_purge,
    tenant_starts_seeded,
    users_are_versioned_and_scoped_to_their_tenant,
    listing_pages_and_prefix_search,
    managers_see_only_their_scope,
    owner_is_protected_and_anonymisation_redacts,
    tokens_are_found_by_hash_until_revoked,
    logout_state_is_scoped_to_its_tenant,
);

/// Runs SQL on the test database directly (what an older version left behind).
async fn raw_sql(b: Backend, url: &str, statements: &[String]) {
    match b {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            for s in statements {
                sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }
        Backend::Postgres | Backend::PostgresC => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            for s in statements {
                sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }
    }
}

/// Issue 13 §12: users stored before userNames were kept in NFC (a decomposed `Zoë`, keys
/// lowercased without composing) are rekeyed once at the next start: the userName in NFC, its
/// key and the email's key composed, so the precomposed spelling finds them; a user whose new
/// key another already holds is left as they were, and the start goes on.
async fn unicode_rekey_at_start(b: Backend) {
    let (db, store, tenant, _) = fresh(b).await;
    let actor = Actor::system();
    let zoe = store
        .insert_user(&tenant.id, &new_user("zoe@acme.test"), &actor)
        .await
        .unwrap();
    let twin = store
        .insert_user(&tenant.id, &new_user("twin@acme.test"), &actor)
        .await
        .unwrap();
    let clash = store
        .insert_user(&tenant.id, &new_user("clash@acme.test"), &actor)
        .await
        .unwrap();
    let (nfd, nfd_lower) = ("Zoe\u{308}", "zoe\u{308}");
    let email = "zoe\u{308}@acme.test";
    raw_sql(
        b,
        &db.url,
        &[
            format!(
                "UPDATE users SET username = '{nfd}', username_norm = '{nfd_lower}', \
                 email = '{email}', email_norm = '{email}' WHERE id = '{}'",
                zoe.id
            ),
            // Two spellings of one name, both stored before: one keeps its old key.
            format!(
                "UPDATE users SET username = 'Ren\u{e9}e', username_norm = 'ren\u{e9}e' WHERE id = '{}'",
                twin.id
            ),
            format!(
                "UPDATE users SET username = 'Rene\u{301}e', username_norm = 'rene\u{301}e' WHERE id = '{}'",
                clash.id
            ),
            "INSERT INTO unicode_rekey (pending) VALUES (TRUE)".into(),
        ],
    )
    .await;
    let before = store.user_for_sign_in(&tenant.id, "Zoë").await.unwrap();
    assert!(
        before.is_none(),
        "the old key does not match the composed spelling"
    );
    store.migrate().await.unwrap();
    let u = store
        .user_for_sign_in(&tenant.id, "ZOË")
        .await
        .unwrap()
        .expect("found by the composed userName");
    assert_eq!(u.id, zoe.id);
    assert_eq!(u.username, "Zoë", "stored in NFC");
    let by_email = store
        .user_by_email(&tenant.id, "zoë@acme.test")
        .await
        .unwrap();
    assert_eq!(by_email.map(|u| u.id), Some(zoe.id.clone()));
    let clash_now = store
        .get_user(&tenant.id, &clash.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(clash_now.username, "Rene\u{301}e", "left as it was");
    // Once only: the marker is gone, a second start changes nothing.
    store.migrate().await.unwrap();
}

both!(unicode_rekey_at_start);

/// Issue 12 §6: recovery codes made before version 0012 (12 characters, about 59 bits, stored
/// as SHA-256) are withdrawn when the schema is brought up to date; codes made since stay. The
/// migration is run again here on a database where one code predates 0012.
async fn legacy_recovery_codes_are_withdrawn(b: Backend) {
    let (db, store, tenant, _) = fresh(b).await;
    let actor = Actor::system();
    let user = store
        .insert_user(&tenant.id, &new_user("codes@acme.test"), &actor)
        .await
        .unwrap();
    let hashes: Vec<String> = ["old", "new-1", "new-2"]
        .iter()
        .map(|h| format!("hash-{h}"))
        .collect();
    store
        .replace_recovery_codes(&tenant.id, &user.id, &hashes, &actor)
        .await
        .unwrap();
    raw_sql(
        b,
        &db.url,
        &[
            // Made a day before 0012 was applied: a 12-character code of the old kind.
            format!(
                "UPDATE recovery_codes SET created_at = created_at - 86400000 \
                 WHERE code_hash = 'hash-old' AND user_id = '{}'",
                user.id
            ),
            // 0019 forgotten, so it runs again (0012 was applied when the test began).
            "DELETE FROM _sqlx_migrations WHERE version = 19".into(),
        ],
    )
    .await;
    store.migrate().await.unwrap();
    let f = store.user_factors(&tenant.id, &user.id).await.unwrap();
    assert_eq!(
        f.recovery_codes_left, 2,
        "the old code is gone, the new stay"
    );
    assert!(
        !store
            .use_recovery_code(&tenant.id, &user.id, "hash-old", &actor)
            .await
            .unwrap()
    );
    assert!(
        store
            .use_recovery_code(&tenant.id, &user.id, "hash-new-1", &actor)
            .await
            .unwrap()
    );
}

both!(legacy_recovery_codes_are_withdrawn);

/// The text column of each row `sql` reads.
async fn raw_texts(b: Backend, url: &str, sql: &str) -> Vec<Option<String>> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match b {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
        }
        Backend::Postgres | Backend::PostgresC => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
        }
    }
}

/// Issue 13 §1: folded shadows are written with their source, and rows stored before folding
/// moved to write time (migration 0018: shadows missing or stale) are folded once at the next
/// start; the marker then goes, so later starts read nothing.
async fn scim_refold_at_start(b: Backend) {
    let (db, store, tenant, _) = fresh(b).await;
    let u = store
        .insert_user(&tenant.id, &new_user("fold@acme.test"), &Actor::system())
        .await
        .unwrap();
    let shadows = async || {
        let mut v = vec![];
        for sql in [
            format!("SELECT given_name_f FROM users WHERE id = '{}'", u.id),
            format!("SELECT family_name_f FROM users WHERE id = '{}'", u.id),
            format!("SELECT type_f FROM user_emails WHERE user_id = '{}'", u.id),
        ] {
            v.extend(raw_texts(b, &db.url, &sql).await);
        }
        v
    };
    assert_eq!(
        shadows().await,
        [Some("given".to_owned()), None, None],
        "written with the row"
    );
    raw_sql(
        b,
        &db.url,
        &[
            format!(
                "UPDATE users SET given_name = 'ÆSA Ørsted', given_name_f = NULL, \
                 family_name = 'ZOË', family_name_f = 'stale' WHERE id = '{}'",
                u.id
            ),
            format!(
                "UPDATE user_emails SET type = 'WÖRK', type_f = NULL WHERE user_id = '{}'",
                u.id
            ),
            "INSERT INTO scim_refold (pending) VALUES (TRUE)".into(),
        ],
    )
    .await;
    store.migrate().await.unwrap();
    let want = ["æsa ørsted", "zoë", "wörk"].map(|s| Some(s.to_owned()));
    assert_eq!(shadows().await, want);
    let marker = raw_texts(b, &db.url, "SELECT 'pending' FROM scim_refold").await;
    assert!(marker.is_empty(), "folded once");
}

both!(scim_refold_at_start);

/// Account and account group names have folded shadows too (the console searches them):
/// written with the name, and those of rows stored before (migration 0047) folded once at
/// the next start.
async fn account_names_are_folded(b: Backend) {
    let (db, store, tenant, _) = fresh(b).await;
    let actor = Actor::system();
    let a = store
        .insert_account(&tenant.id, "ÄRZTE Nord", AccountKind::Customer, &actor)
        .await
        .unwrap();
    let g = store
        .insert_account_group(&tenant.id, "Équipe", None, &[], &actor)
        .await
        .unwrap();
    let shadows = async || {
        let mut v = raw_texts(
            b,
            &db.url,
            &format!("SELECT name_f FROM accounts WHERE id = '{}'", a.id),
        )
        .await;
        v.extend(
            raw_texts(
                b,
                &db.url,
                &format!("SELECT name_f FROM account_groups WHERE id = '{}'", g.id),
            )
            .await,
        );
        v
    };
    let want = ["ärzte nord", "équipe"].map(|s| Some(s.to_owned()));
    assert_eq!(shadows().await, want, "written with the row");
    let a = store
        .update_account(&tenant.id, &a.id, Some("ÖL AG"), None, &actor)
        .await
        .unwrap();
    let g = store
        .update_account_group(&tenant.id, &g.id, Some("ÜBER"), None, None, &actor)
        .await
        .unwrap();
    let want = ["öl ag", "über"].map(|s| Some(s.to_owned()));
    assert_eq!(shadows().await, want, "rewritten with the name");
    raw_sql(
        b,
        &db.url,
        &[
            format!("UPDATE accounts SET name_f = NULL WHERE id = '{}'", a.id),
            format!(
                "UPDATE account_groups SET name_f = 'stale' WHERE id = '{}'",
                g.id
            ),
            "INSERT INTO scim_refold (pending) VALUES (TRUE)".into(),
        ],
    )
    .await;
    store.migrate().await.unwrap();
    assert_eq!(shadows().await, want, "folded at the start");
}

both!(account_names_are_folded);

/// A person's own sessions: listed with where they started; one ended only by its own user,
/// with the grants made in it; all but one ended with every grant not made in that one.
async fn a_users_sessions_end_with_their_grants(b: Backend) {
    use castellan::domain::sessions::{Grant, RefreshToken, Session};
    let (_db, store, tenant, owner) = fresh(b).await;
    let other = store
        .insert_user(&tenant.id, &new_user("other@x.test"), &Actor::system())
        .await
        .unwrap();
    let client = logout_client(&store, &tenant.id, "https://app.example.com/bc").await;
    let now = castellan::domain::clock::now_ms();
    let mut from = Actor::system();
    from.ip = Some("203.0.113.7".into());
    let start = |id: &str, user: &UserId| Session {
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
    };
    for (id, user) in [
        ("s1", &owner.id),
        ("s2", &owner.id),
        ("s3", &owner.id),
        ("o1", &other.id),
    ] {
        store
            .start_session(&tenant.id, &start(id, user), &from)
            .await
            .unwrap();
    }
    store
        .set_session_user_agent(&tenant.id, "s1", &"x".repeat(1000))
        .await
        .unwrap();
    // A grant per session, and an offline one made in s2.
    let grant = |id: &str, session: &str, user: &UserId, offline: bool| Grant {
        id: id.into(),
        client_id: client.id.clone(),
        user_id: user.clone(),
        session_id: Some(session.into()),
        offline,
        scope: "openid".into(),
        auth_time: now,
        amr: vec!["pwd".into()],
        acr: None,
        created_at: now,
        expires_at: now + 3_600_000,
        revoked_at: None,
    };
    for (id, session, user, offline) in [
        ("g1", "s1", &owner.id, false),
        ("g2", "s2", &owner.id, false),
        ("g2-offline", "s2", &owner.id, true),
        ("g3", "s3", &owner.id, false),
        ("go", "o1", &other.id, false),
    ] {
        let token = RefreshToken {
            token_hash: format!("rt-{id}"),
            grant_id: id.into(),
            created_at: now,
            expires_at: now + 3_600_000,
            used_at: None,
        };
        store
            .insert_grant(&tenant.id, &grant(id, session, user, offline), &token)
            .await
            .unwrap();
    }
    let revoked = |id: &'static str| {
        let store = store.clone();
        let tenant = tenant.id.clone();
        async move {
            store
                .get_grant(&tenant, id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        }
    };

    let listed = store.user_sessions(&tenant.id, &owner.id).await.unwrap();
    assert_eq!(listed.len(), 3);
    let s1 = listed.iter().find(|l| l.session.id == "s1").unwrap();
    assert_eq!(s1.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(s1.user_agent.as_deref().map(str::len), Some(400));

    // Another user's session is not found through this user, and nothing changes.
    let refused = store
        .end_user_session(&tenant.id, &owner.id, "o1", &Actor::system())
        .await;
    assert!(
        matches!(refused, Err(DomainError::NotFound(_))),
        "{refused:?}"
    );
    assert!(!revoked("go").await);
    assert_eq!(
        store
            .user_sessions(&tenant.id, &other.id)
            .await
            .unwrap()
            .len(),
        1
    );

    // s3 ends with its grant; the others stay.
    store
        .end_user_session(&tenant.id, &owner.id, "s3", &Actor::system())
        .await
        .unwrap();
    assert!(revoked("g3").await);
    assert!(!revoked("g1").await && !revoked("g2").await);
    let again = store
        .end_user_session(&tenant.id, &owner.id, "s3", &Actor::system())
        .await;
    assert!(
        matches!(again, Err(DomainError::NotFound(_))),
        "an ended session: {again:?}"
    );

    // All but s1: s2 ends, its grants (the offline one too) are revoked; s1 and the other
    // user's keep theirs.
    store
        .end_other_sessions(&tenant.id, &owner.id, "s1", &Actor::system())
        .await
        .unwrap();
    let left: Vec<String> = store
        .user_sessions(&tenant.id, &owner.id)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.session.id)
        .collect();
    assert_eq!(left, ["s1"]);
    assert!(revoked("g2").await && revoked("g2-offline").await);
    assert!(!revoked("g1").await && !revoked("go").await);
}

both!(a_users_sessions_end_with_their_grants);

/// Shared fixed-window counters (password reset requests per client address, counted by every
/// replica together): concurrent events each get their own count, a window ends and a new one
/// starts at the next event, keys and tenants count apart, and ended windows are purged.
async fn event_windows_count_once_each_and_restart(b: Backend) {
    let (_db, store, tenant, _) = fresh(b).await;
    let t = &tenant.id;
    let now = clock::now_ms();
    let window = 60_000;
    let mut counts: Vec<i64> = futures_util::future::join_all((0..12).map(|_| {
        let store = store.clone();
        let t = t.clone();
        async move { store.count_event(&t, "forgot:192.0.2.1", window, now).await }
    }))
    .await
    .into_iter()
    .map(Result::unwrap)
    .collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=12).collect::<Vec<i64>>(),
        "each event counted once"
    );
    let other_key = store.count_event(t, "forgot:192.0.2.2", window, now).await;
    assert_eq!(other_key.unwrap(), 1);
    let (other, _) = castellan::cli::create_tenant(&store, "globex", "Globex", "o@globex.test")
        .await
        .unwrap();
    let elsewhere = store
        .count_event(&other.id, "forgot:192.0.2.1", window, now)
        .await;
    assert_eq!(elsewhere.unwrap(), 1, "another tenant counts apart");
    // Within the window: 13; at its end a new window starts with this event.
    let later = store
        .count_event(t, "forgot:192.0.2.1", window, now + window - 1)
        .await;
    assert_eq!(later.unwrap(), 13);
    let next = store
        .count_event(t, "forgot:192.0.2.1", window, now + window)
        .await;
    assert_eq!(next.unwrap(), 1);
    // Windows that ended are purged; the live one stays and keeps counting.
    store.count_event(t, "old", 1, now - 10_000).await.unwrap();
    store.purge_expired().await.unwrap();
    assert_eq!(
        store.count_event(t, "old", 1, now - 10_000).await.unwrap(),
        1
    );
    let live = store
        .count_event(t, "forgot:192.0.2.1", window, now + window + 1)
        .await;
    assert_eq!(live.unwrap(), 2, "the live window was kept");
}

both!(event_windows_count_once_each_and_restart);

/// Runs `sql` on the test database directly (to age rows).
async fn raw(db: &TestDb, sql: &str) {
    use sqlx::Connection;
    if db.url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut c)
            .await
            .unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut c)
            .await
            .unwrap();
    }
}

/// Import uploads do not stay forever: a checked file not applied within a day goes, and a
/// finished job goes with its report 30 days after it ended; a running job and recent ones stay.
async fn purge_takes_old_import_files_and_jobs(b: Backend) {
    let (db, store, tenant, _) = fresh(b).await;
    let (t, a) = (&tenant.id, &Actor::system());
    let job = |dry: bool| {
        let store = store.clone();
        async move {
            store
                .insert_job(t, "users.import", dry, 1, a)
                .await
                .unwrap()
                .id
        }
    };
    let (checked, fresh_check, old, recent, running) = (
        job(true).await,
        job(true).await,
        job(false).await,
        job(false).await,
        job(false).await,
    );
    for id in [&checked, &fresh_check] {
        store
            .keep_job_file(t, id, "{}", b"email\nx@example.com\n")
            .await
            .unwrap();
    }
    for id in [&old, &recent] {
        store
            .append_job_report(t, id, 0, "line,email\n")
            .await
            .unwrap();
    }
    let now = clock::now_ms();
    let (day, month) = (24 * 3600 * 1000i64, 30 * 24 * 3600 * 1000i64);
    raw(
        &db,
        &format!(
            "UPDATE import_jobs SET created_at = {}, state = 'succeeded' WHERE id = '{}'",
            now - day - 1000,
            checked.as_str()
        ),
    )
    .await;
    for (id, state) in [(&old, "succeeded"), (&running, "running")] {
        let at = now - month - 1000;
        raw(
            &db,
            &format!(
                "UPDATE import_jobs SET created_at = {at}, updated_at = {at}, state = '{state}' WHERE id = '{}'",
                id.as_str()
            ),
        )
        .await;
    }
    store.purge_expired().await.unwrap();
    assert!(!store.has_job_file(t, &checked).await.unwrap(), "a day old");
    assert!(store.has_job_file(t, &fresh_check).await.unwrap());
    assert!(
        store.get_job(t, &old).await.unwrap().is_none(),
        "30 days old"
    );
    assert!(store.job_report_part(t, &old, 0).await.unwrap().is_none());
    assert!(store.get_job(t, &recent).await.unwrap().is_some());
    assert!(
        store
            .job_report_part(t, &recent, 0)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store.get_job(t, &running).await.unwrap().is_some(),
        "a running job is the sweeper's to fail, not the purge's to remove"
    );
}

both!(purge_takes_old_import_files_and_jobs);
