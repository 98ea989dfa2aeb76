//! `Store`'s methods: each forwards to the backend of the database in use.

use super::{Db, Store};
use crate::domain::attributes::AttributeChanges;
use crate::domain::audit::Actor;
use crate::domain::changes::{NewUser, UserProfile};
use crate::domain::*;

/// How many times a transaction the database aborted for contention is run again.
const CONTENTION_RETRIES: u32 = 4;

/// Declares `Store` methods that forward to the same-named backend method.
macro_rules! forward {
    ($( $(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty; )*) => {
        impl Store {
            $(
                $(#[$doc])*
                #[allow(clippy::too_many_arguments)]
                pub async fn $name(&self $(, $arg: $ty)*) -> Result<$ret> {
                    // Each backend method is one transaction: one the database aborted to break
                    // a deadlock or a serialization conflict wrote nothing, and runs again.
                    let mut tries = 0;
                    loop {
                        let result = match &self.db {
                            Db::Sqlite(b) => b.$name($(Clone::clone(&$arg)),*).await,
                            Db::Postgres(b) => b.$name($(Clone::clone(&$arg)),*).await,
                        };
                        match result {
                            Err(DomainError::Contention) if tries < CONTENTION_RETRIES => tries += 1,
                            done => return done,
                        }
                    }
                }
            )*
        }
    };
}

forward! {
    /// Applies pending migrations.
    fn migrate(&self) -> ();
    /// Answers when the database does.
    fn ping(&self) -> ();
    /// PostgreSQL: analyzes the tables that grew and that autovacuum leaves alone; their names.
    fn analyze_grown_tables(&self) -> Vec<String>;

    fn tenant_by_slug(&self, slug: &str) -> Option<Tenant>;
    fn list_tenants(&self) -> Vec<Tenant>;
    fn create_tenant(&self, slug: &str, name: &str, owner: NewUser, actor: &Actor) -> (Tenant, User);
    fn transfer_ownership(&self, tenant: &TenantId, new_owner: &UserId, actor: &Actor) -> Tenant;

    fn insert_user(&self, tenant: &TenantId, user: &NewUser, actor: &Actor) -> User;
    /// Inserts users in one transaction, each on its own (a refused one leaves nothing).
    fn insert_users(&self, tenant: &TenantId, users: &[NewUser], actor: &Actor) -> Vec<Result<User>>;
    /// Users whose email (normalised) or external id is one of these: an import's matching.
    fn users_matching(&self, tenant: &TenantId, emails: &[String], external_ids: &[String]) -> Vec<crate::domain::changes::UserKey>;
    fn get_user(&self, tenant: &TenantId, id: &UserId) -> Option<User>;
    /// Refreshes the query planner's statistics after many rows were written (PostgreSQL).
    fn refresh_statistics(&self) -> ();
    /// The users with these ids, by id (one query per 500).
    fn get_users(&self, tenant: &TenantId, ids: &[UserId]) -> std::collections::HashMap<UserId, User>;
    /// The memberships, role assignments and direct groups of these users, by user.
    fn relations_of(&self, tenant: &TenantId, users: &[UserId]) -> std::collections::HashMap<UserId, crate::domain::changes::Relations>;
    fn user_by_email(&self, tenant: &TenantId, email: &str) -> Option<User>;
    fn user_for_sign_in(&self, tenant: &TenantId, login: &str) -> Option<User>;
    /// Users (at most two) with this external id.
    fn users_by_external_id(&self, tenant: &TenantId, external_id: &str) -> Vec<UserId>;
    fn list_users(&self, tenant: &TenantId, query: &UserQuery) -> Page<User>;
    fn update_user(&self, tenant: &TenantId, id: &UserId, version: i64, profile: &UserProfile,
        attributes: &AttributeChanges, action: &'static str, actor: &Actor) -> User;
    fn delete_user(&self, tenant: &TenantId, id: &UserId, actor: &Actor) -> ();
    /// `delete_user` if the user is still at `version` (when given).
    fn delete_user_if(&self, tenant: &TenantId, id: &UserId, version: Option<i64>, actor: &Actor) -> ();
    /// `anonymise_user` if the user is still at `version` (when given).
    fn anonymise_user_if(&self, tenant: &TenantId, id: &UserId, version: Option<i64>, profile: &UserProfile, actor: &Actor) -> User;
    fn anonymise_user(&self, tenant: &TenantId, id: &UserId, profile: &UserProfile, actor: &Actor) -> User;
    fn manages_user(&self, tenant: &TenantId, manager: &UserId, user: &UserId) -> bool;
    fn count_users(&self, tenant: &TenantId) -> i64;
}

forward! {
    /// A single-use link (by its secret's hash) for `user`, valid `ttl_ms`; replaces an unused one.
    fn issue_user_link(&self, tenant: &TenantId, user: &UserId, purpose: &str, token_hash: &str, ttl_ms: i64, actor: &Actor) -> ();
    /// The user of a live link.
    fn user_link(&self, tenant: &TenantId, purpose: &str, token_hash: &str) -> Option<UserId>;
    /// The user and purpose of a live link.
    fn live_link(&self, tenant: &TenantId, token_hash: &str) -> Option<(UserId, String)>;
    /// Issues an invitation link for an invited user (the old one stops working), counted.
    fn issue_invitation(&self, tenant: &TenantId, user: &UserId, token_hash: &str, ttl_ms: i64, delivery: &str, mail: Option<&mail::OutgoingMail>, actor: &Actor) -> crate::domain::invitations::Invitation;
    /// The invitation of a user, if one was ever sent.
    fn invitation(&self, tenant: &TenantId, user: &UserId) -> Option<crate::domain::invitations::Invitation>;
    /// Uses a live link to set its user's password; `None` when it is unknown, used or expired.
    fn set_password_by_link(&self, tenant: &TenantId, purpose: &str, token_hash: &str, hash: &str) -> Option<UserId>;
    /// Uses a live link without setting a password (a passkey was registered with it).
    fn use_link(&self, tenant: &TenantId, purpose: &str, token_hash: &str) -> Option<UserId>;
}

// Account email: password resets and address links (see `domain::account_email`).
forward! {
    /// Issues a link that may name an address, with the mail that carries it (the user's unused
    /// link of the same purpose stops working).
    fn issue_user_link_for(&self, tenant: &TenantId, user: &UserId, link: &account_email::NewLink<'_>,
        mail: Option<&mail::OutgoingMail>, actor: &Actor) -> ();
    /// `issue_user_link_for` unless the address of `mail` was sent `max` mails of its kind
    /// since `since_ms` (`quota`); whether it was issued. Atomic per user.
    fn issue_user_link_within(&self, tenant: &TenantId, user: &UserId, link: &account_email::NewLink<'_>,
        mail: Option<&mail::OutgoingMail>, quota: Option<(i64, i64)>, actor: &Actor) -> bool;
    /// The user, purpose and address of a live confirmation or change link.
    fn email_link(&self, tenant: &TenantId, token_hash: &str) -> Option<(UserId, String, String)>;
    /// Uses a reset link: the new password, every session ended, every grant revoked, notified.
    fn reset_password_by_link(&self, tenant: &TenantId, token_hash: &str, hash: &str)
        -> Option<(UserId, Vec<sessions::LogoutTarget>)>;
    /// Uses a confirmation link: the address it was sent to is verified.
    fn verify_email_by_link(&self, tenant: &TenantId, token_hash: &str) -> Option<UserId>;
    /// Uses a change link: the new address replaces `old`, whose mail is written with it.
    fn change_email_by_link(&self, tenant: &TenantId, token_hash: &str, old: &str, mail: &mail::OutgoingMail) -> Option<UserId>;
}

forward! {
    fn insert_token(&self, tenant: &TenantId, name: &str, user: Option<&UserId>, token_hash: &str, actor: &Actor) -> ApiToken;
    fn token_by_hash(&self, token_hash: &str) -> Option<(Tenant, ApiToken)>;
    fn list_tokens(&self, tenant: &TenantId) -> Vec<ApiToken>;
    fn revoke_token(&self, tenant: &TenantId, id: &TokenId, actor: &Actor) -> ();

    fn attribute_defs(&self, tenant: &TenantId) -> Vec<AttributeDef>;

    fn get_role(&self, tenant: &TenantId, id: &RoleId) -> Option<Role>;
    fn effective_permissions(&self, tenant: &TenantId, user: &UserId) -> crate::domain::permissions::EffectivePermissions;
    /// Users holding a role, directly or through a group.
    fn role_holders(&self, tenant: &TenantId, role: &RoleId) -> Vec<UserId>;
    /// Users holding a permission through a role or an override.
    fn permission_holders(&self, tenant: &TenantId, id: &PermissionId) -> Vec<UserId>;
    /// Users with a membership or an account-scoped role in an account.
    fn account_members(&self, tenant: &TenantId, account: &AccountId) -> Vec<UserId>;
}

// Import jobs.
forward! {
    /// Records a new running job.
    fn insert_job(&self, tenant: &TenantId, kind: &str, dry_run: bool, total: i64, actor: &Actor) -> jobs::Job;
    /// Moves a job's counts forward; with `end`, finishes it (state, error, report).
    fn update_job(&self, tenant: &TenantId, id: &JobId, counts: &jobs::JobCounts,
        end: Option<(jobs::JobState, Option<String>, Option<String>)>) -> ();
    /// Fails the running jobs not heard of since `stale_before` (ms): their process died.
    fn fail_abandoned_jobs(&self, stale_before: i64, reason: &str) -> u64;
    /// A job of the tenant.
    fn get_job(&self, tenant: &TenantId, id: &JobId) -> Option<jobs::Job>;
    /// Appends part `seq` (from 0) of a job's report.
    fn append_job_report(&self, tenant: &TenantId, id: &JobId, seq: i64, part: &str) -> ();
    /// Keeps a checked import's file and options until it is applied.
    fn keep_job_file(&self, tenant: &TenantId, id: &JobId, options: &str, body: &[u8]) -> ();
    /// Takes (reads and deletes) a checked import's file: only one caller gets it.
    fn take_job_file(&self, tenant: &TenantId, id: &JobId) -> Option<(String, Vec<u8>)>;
    /// Whether a checked import's file is kept.
    fn has_job_file(&self, tenant: &TenantId, id: &JobId) -> bool;
    /// Part `seq` of a job's report.
    fn job_report_part(&self, tenant: &TenantId, id: &JobId, seq: i64) -> Option<String>;
    /// The report of a finished job of the tenant, as stored whole before reports came in parts.
    fn job_report(&self, tenant: &TenantId, id: &JobId) -> Option<String>;
    /// Takes or renews the tenant's import lease for `holder` until `expires_at` (ms): whether
    /// `holder` has it (another holder's lease lapses only once expired).
    fn take_import_lease(&self, tenant: &TenantId, holder: &str, expires_at: i64) -> bool;
    /// Gives the tenant's import lease back, if `holder` still has it.
    fn drop_import_lease(&self, tenant: &TenantId, holder: &str) -> ();
}

forward! {
    fn role_by_template(&self, tenant: &TenantId, template: RoleTemplate) -> Role;
    fn manages_account(&self, tenant: &TenantId, manager: &UserId, account: &AccountId) -> bool;
}

// Attribute definitions, notification types and preferences, API tokens, audit log.
forward! {
    /// The attribute definition with this key.
    fn attribute_def(&self, tenant: &TenantId, key: &str) -> Option<AttributeDef>;
    /// Adds an attribute definition, writing `default` for users without a value.
    fn insert_attribute_def(&self, tenant: &TenantId, def: &AttributeDef,
        default: Option<&crate::domain::attributes::StoredValue>, actor: &Actor) -> AttributeDef;
    /// Changes an attribute definition (found by key), writing `default` for users without a value.
    fn update_attribute_def(&self, tenant: &TenantId, def: &AttributeDef,
        default: Option<&crate::domain::attributes::StoredValue>, actor: &Actor) -> AttributeDef;
    /// Removes an attribute definition and its values.
    fn delete_attribute_def(&self, tenant: &TenantId, key: &str, actor: &Actor) -> ();

    /// The tenant's notification types.
    fn notification_types(&self, tenant: &TenantId) -> Vec<NotificationType>;
    /// Adds a tenant-defined notification type.
    fn insert_notification_type(&self, tenant: &TenantId, t: &NotificationType, actor: &Actor) -> NotificationType;
    /// Removes a tenant-defined notification type.
    fn delete_notification_type(&self, tenant: &TenantId, key: &str, actor: &Actor) -> ();
    /// A user's effective notification choices, one per type.
    fn notification_prefs(&self, tenant: &TenantId, user: &UserId) -> Vec<NotificationPref>;
    /// Stores a user's choices for some types.
    fn set_notification_prefs(&self, tenant: &TenantId, user: &UserId, choices: &[NotificationPref],
        actor: &Actor) -> Vec<NotificationPref>;

    /// Audit entries, newest first.
    fn list_audit(&self, tenant: &TenantId, query: &crate::domain::audit::AuditQuery) -> Page<crate::domain::audit::AuditRecord>;
}

forward! {
    /// The tenant's accounts by name, optionally of one kind.
    fn list_accounts(&self, tenant: &TenantId, kind: Option<AccountKind>) -> Vec<Account>;
    /// A page of the tenant's accounts by name, optionally of one kind, searched on the folded name.
    fn page_accounts(&self, tenant: &TenantId, kind: Option<AccountKind>, page: &NamedPage) -> Listed<Account>;
    /// At most `page.size` accounts by name containing the search, only those `manager` manages
    /// when given.
    fn pick_accounts(&self, tenant: &TenantId, page: &NamedPage, manager: Option<&UserId>) -> Vec<Account>;
    /// One account of the tenant.
    fn get_account(&self, tenant: &TenantId, id: &AccountId) -> Option<Account>;
    /// Creates a provider or customer account.
    fn insert_account(&self, tenant: &TenantId, name: &str, kind: AccountKind, actor: &Actor) -> Account;
    /// Renames an account or changes its kind (not the Guest account's).
    fn update_account(&self, tenant: &TenantId, id: &AccountId, name: Option<&str>, kind: Option<AccountKind>,
        actor: &Actor) -> Account;
    /// Deletes an account without memberships (not the Guest account).
    fn delete_account(&self, tenant: &TenantId, id: &AccountId, actor: &Actor) -> ();

    /// The tenant's account groups with their accounts.
    fn list_account_groups(&self, tenant: &TenantId) -> Vec<AccountGroup>;
    /// A page of the tenant's account groups by name, searched on the folded name.
    fn page_account_groups(&self, tenant: &TenantId, page: &NamedPage) -> Listed<AccountGroupLine>;
    /// One account group with its accounts.
    fn get_account_group(&self, tenant: &TenantId, id: &AccountGroupId) -> Option<AccountGroup>;
    /// Creates an account group.
    fn insert_account_group(&self, tenant: &TenantId, name: &str, description: Option<&str>,
        account_ids: &[AccountId], actor: &Actor) -> AccountGroup;
    /// Changes an account group; `account_ids` replaces its accounts.
    fn update_account_group(&self, tenant: &TenantId, id: &AccountGroupId, name: Option<&str>,
        description: Option<Option<&str>>, account_ids: Option<&[AccountId]>, actor: &Actor) -> AccountGroup;
    /// Deletes an account group.
    fn delete_account_group(&self, tenant: &TenantId, id: &AccountGroupId, actor: &Actor) -> ();
    /// Adds (`member`) or removes one account of an account group.
    fn set_group_account(&self, tenant: &TenantId, id: &AccountGroupId, account: &AccountId, member: bool,
        actor: &Actor) -> AccountGroup;

    /// A user's memberships, the main one first.
    fn list_memberships(&self, tenant: &TenantId, user: &UserId) -> Vec<Membership>;
    /// One membership of a user.
    fn get_membership(&self, tenant: &TenantId, user: &UserId, id: &MembershipId) -> Option<Membership>;
    /// Adds a membership, moving the main mark to it when `main`.
    #[allow(clippy::too_many_arguments)]
    fn add_membership(&self, tenant: &TenantId, user: &UserId, account: &AccountId, start: Option<time::Date>,
        end: Option<time::Date>, main: bool, actor: &Actor) -> Membership;
    /// Changes a membership's dates or makes it the main one.
    #[allow(clippy::too_many_arguments)]
    fn update_membership(&self, tenant: &TenantId, user: &UserId, id: &MembershipId,
        start: Option<Option<time::Date>>, end: Option<Option<time::Date>>, main: Option<bool>,
        actor: &Actor) -> Membership;
    /// Deletes a membership that is neither main nor the user's last.
    fn delete_membership(&self, tenant: &TenantId, user: &UserId, id: &MembershipId, actor: &Actor) -> ();

    /// What a manager manages.
    fn list_management(&self, tenant: &TenantId, manager: &UserId) -> Vec<Management>;
    /// The relations through which someone manages a user today.
    fn managers_of(&self, tenant: &TenantId, user: &UserId) -> Vec<Management>;
    /// Makes a user manage a user, account or account group.
    fn insert_management(&self, tenant: &TenantId, manager: &UserId, target: &ManagementTarget,
        actor: &Actor) -> Management;
    /// Ends a management relation.
    fn delete_management(&self, tenant: &TenantId, manager: &UserId, id: &ManagementId, actor: &Actor) -> ();
}

forward! {
    /// The tenant's permission catalogue, by name.
    fn list_permissions(&self, tenant: &TenantId) -> Vec<Permission>;
    /// One permission of the catalogue.
    fn get_permission(&self, tenant: &TenantId, id: &PermissionId) -> Option<Permission>;
    /// A permission of the catalogue by name.
    fn permission_by_name(&self, tenant: &TenantId, name: &str) -> Option<Permission>;
    /// Adds a permission to the catalogue.
    fn create_permission(&self, tenant: &TenantId, name: &str, description: Option<&str>, actor: &Actor) -> Permission;
    /// Changes a permission's description.
    fn update_permission(&self, tenant: &TenantId, id: &PermissionId, description: Option<&str>, actor: &Actor) -> Permission;
    /// Removes a (non-builtin) permission from the catalogue, its roles and overrides.
    fn delete_permission(&self, tenant: &TenantId, id: &PermissionId, actor: &Actor) -> ();
    /// A user's permission overrides.
    fn list_overrides(&self, tenant: &TenantId, user: &UserId) -> Vec<PermissionOverride>;
    /// Creates or replaces a user's override of one permission.
    fn set_override(&self, tenant: &TenantId, user: &UserId, permission: &PermissionId, effect: Effect,
        reason: Option<&str>, actor: &Actor) -> PermissionOverride;
    /// Removes a user's override of one permission.
    fn delete_override(&self, tenant: &TenantId, user: &UserId, permission: &PermissionId, actor: &Actor) -> ();

    /// The tenant's roles, by name.
    fn list_roles(&self, tenant: &TenantId) -> Vec<Role>;
    /// Creates a role with the named permissions.
    fn create_role(&self, tenant: &TenantId, name: &str, description: Option<&str>, permissions: &[String],
        mfa_policy: Option<mfa::MfaPolicy>, actor: &Actor) -> Role;
    /// Changes a role's name, description, permissions or MFA policy.
    fn update_role(&self, tenant: &TenantId, id: &RoleId, name: Option<&str>, description: Option<Option<&str>>,
        permissions: Option<&[String]>, mfa_policy: Option<Option<mfa::MfaPolicy>>, actor: &Actor) -> Role;
    /// Deletes a role that is not seeded and not held.
    fn delete_role(&self, tenant: &TenantId, id: &RoleId, actor: &Actor) -> ();
    /// A user's role assignments.
    fn list_assignments(&self, tenant: &TenantId, user: &UserId) -> Vec<RoleAssignment>;
    /// One of a user's role assignments.
    fn get_assignment(&self, tenant: &TenantId, user: &UserId, id: &RoleAssignmentId) -> RoleAssignment;
    /// Gives a user a role, optionally within one account.
    fn assign_role(&self, tenant: &TenantId, user: &UserId, role: &RoleId, account: Option<&AccountId>,
        main: bool, actor: &Actor) -> RoleAssignment;
    /// Makes an assignment the user's main role.
    fn set_main_assignment(&self, tenant: &TenantId, user: &UserId, id: &RoleAssignmentId, actor: &Actor) -> RoleAssignment;
    /// Takes a role assignment away.
    fn delete_assignment(&self, tenant: &TenantId, user: &UserId, id: &RoleAssignmentId, actor: &Actor) -> ();

    /// The tenant's groups.
    fn list_groups(&self, tenant: &TenantId) -> Vec<Group>;
    /// A page of the tenant's groups by name, searched on the folded name.
    fn page_groups(&self, tenant: &TenantId, page: &NamedPage) -> Listed<GroupLine>;
    /// One group.
    fn get_group(&self, tenant: &TenantId, id: &GroupId) -> Option<Group>;
    /// Creates a group.
    fn create_group(&self, tenant: &TenantId, display_name: &str, description: Option<&str>,
        external_id: Option<&str>, actor: &Actor) -> Group;
    /// Changes a group's fields.
    fn update_group(&self, tenant: &TenantId, id: &GroupId, display_name: Option<&str>,
        description: Option<Option<&str>>, external_id: Option<Option<&str>>, actor: &Actor) -> Group;
    /// Deletes a group.
    fn delete_group(&self, tenant: &TenantId, id: &GroupId, actor: &Actor) -> ();
    /// `delete_group` if the group is still at `version` (when given).
    fn delete_group_if(&self, tenant: &TenantId, id: &GroupId, version: Option<i64>, actor: &Actor) -> ();
    /// Adds a user to a group.
    fn add_group_member(&self, tenant: &TenantId, group: &GroupId, user: &UserId, actor: &Actor) -> Group;
    /// Removes a user from a group.
    fn remove_group_member(&self, tenant: &TenantId, group: &GroupId, user: &UserId, actor: &Actor) -> Group;
    /// Grants a role to a group.
    fn add_group_role(&self, tenant: &TenantId, group: &GroupId, role: &RoleId, actor: &Actor) -> Group;
    /// Takes a role away from a group.
    fn remove_group_role(&self, tenant: &TenantId, group: &GroupId, role: &RoleId, actor: &Actor) -> Group;
}

// OpenID Connect: signing keys and clients.
forward! {
    /// The tenant's published signing keys (next, active, retired until they expire).
    fn signing_keys(&self, tenant: &TenantId) -> Vec<oidc::SigningKey>;
    /// Stores the first keys of an algorithm; `false` when another process did it first.
    fn insert_first_keys(&self, tenant: &TenantId, active: &oidc::SigningKey, next: &oidc::SigningKey) -> bool;
    /// next -> active, active -> retired (published until `publish_until`), `new_next` -> next.
    fn rotate_signing_keys(&self, tenant: &TenantId, alg: oidc::KeyAlg, new_next: &oidc::SigningKey,
        publish_until: i64, actor: &Actor) -> ();

    /// One client by id.
    fn get_client(&self, tenant: &TenantId, id: &ClientId) -> Option<oidc::Client>;
    /// One client by the `client_id` it presents.
    fn client_by_client_id(&self, tenant: &TenantId, client_id: &str) -> Option<oidc::Client>;
    /// The tenant's clients.
    fn list_clients(&self, tenant: &TenantId) -> Vec<oidc::Client>;
    /// Registers a client.
    fn insert_client(&self, tenant: &TenantId, client_id: &str, settings: &oidc::ClientSettings,
        secret_hash: Option<&str>, actor: &Actor) -> oidc::Client;
    /// Replaces a client's settings.
    fn update_client(&self, tenant: &TenantId, id: &ClientId, settings: &oidc::ClientSettings, actor: &Actor) -> oidc::Client;
    /// Removes a client.
    fn delete_client(&self, tenant: &TenantId, id: &ClientId, actor: &Actor) -> ();
    /// Replaces a client's secret hash.
    fn set_client_secret(&self, tenant: &TenantId, id: &ClientId, secret_hash: &str, actor: &Actor) -> oidc::Client;
    /// Gives a client a service role.
    fn grant_client_role(&self, tenant: &TenantId, id: &ClientId, role: &RoleId, actor: &Actor) -> oidc::Client;
    /// Takes a service role from a client.
    fn revoke_client_role(&self, tenant: &TenantId, id: &ClientId, role: &RoleId, actor: &Actor) -> oidc::Client;
    /// What a client holds through its service roles.
    fn client_grants(&self, tenant: &TenantId, id: &ClientId) -> oidc::ServiceGrants;
    /// The longest access token lifetime among the tenant's clients (seconds).
    fn max_access_token_ttl(&self, tenant: &TenantId) -> i64;
}

// Sign-in: passwords, sessions, authorization codes.
forward! {
    /// Stores a user's password hash (audited without it).
    fn set_password_hash(&self, tenant: &TenantId, user: &UserId, hash: &str, actor: &Actor) -> ();
    /// A user's password hash, if one is set.
    fn password_hash(&self, tenant: &TenantId, user: &UserId) -> Option<String>;
    /// Records a sign-in (activating an invited user).
    fn start_session(&self, tenant: &TenantId, session: &sessions::Session, actor: &Actor) -> ();
    /// A session by id.
    fn get_session(&self, tenant: &TenantId, id: &str) -> Option<sessions::Session>;
    /// The session a cookie secret's hash names.
    fn session_by_secret(&self, tenant: &TenantId, secret_hash: &str) -> Option<sessions::Session>;
    /// Records that a session was used (its idle timeout starts again).
    fn touch_session(&self, tenant: &TenantId, id: &str, at: i64) -> ();
    /// The tenant's session lifetimes.
    fn session_settings(&self, tenant: &TenantId) -> sessions::SessionSettings;
    /// Replaces the tenant's session lifetimes (audited).
    fn set_session_settings(&self, tenant: &TenantId, settings: &sessions::SessionSettings, actor: &Actor) -> ();
    /// Stores an authorization code.
    fn insert_auth_code(&self, tenant: &TenantId, code: &sessions::AuthCode) -> ();
    /// Marks a code used, returning it as it was.
    fn take_auth_code(&self, tenant: &TenantId, code_hash: &str) -> Option<sessions::AuthCode>;
    /// Takes an authorization code and, on its first use, reads its session, user and what the
    /// user holds with it: one trip on SQLite.
    fn redeem_code(&self, tenant: &TenantId, code_hash: &str, permissions: bool) -> Option<sessions::Redemption>;
}

forward! {
    /// What a user holds today (roles, groups, permissions when asked, current memberships),
    /// in one query: what every token carries.
    fn holdings(&self, tenant: &TenantId, user: &UserId, permissions: bool) -> crate::domain::permissions::Holdings;
}

// Grants, refresh tokens and revoked access tokens.
forward! {
    /// Stores a grant with its first refresh token.
    fn insert_grant(&self, tenant: &TenantId, grant: &sessions::Grant, first: &sessions::RefreshToken) -> ();
    /// Stores a grant with its first refresh token, then says whether the access token `jti`
    /// was revoked (a replay of the code racing the exchange): one trip on SQLite.
    fn insert_grant_checking(&self, tenant: &TenantId, grant: &sessions::Grant, first: &sessions::RefreshToken, jti: Option<&str>) -> bool;
    /// A refresh token with its grant.
    fn refresh_token(&self, tenant: &TenantId, token_hash: &str) -> Option<(sessions::RefreshToken, sessions::Grant)>;
    /// A refresh token with its grant, the grant's session and user, in one statement.
    fn refresh_context(&self, tenant: &TenantId, token_hash: &str) -> Option<sessions::RefreshContext>;
    /// A refresh's exchange of `old_hash` (unused, unexpired, its grant live and `client`'s) for
    /// `new`, with the token's context and what the user holds, in one trip. `None` for an
    /// unknown token; `true` when it was exchanged.
    fn refresh_and_rotate(&self, tenant: &TenantId, old_hash: &str, client: &ClientId, new: &sessions::Rotation, permissions: bool) -> Option<(sessions::RefreshContext, bool)>;
    /// Undoes an exchange of `refresh_and_rotate` at `used_at` for a refresh refused after it.
    fn unrotate(&self, tenant: &TenantId, old_hash: &str, new_hash: &str, used_at: i64) -> ();
    /// A session and a user, each when its row is there, in one statement.
    fn session_and_user(&self, tenant: &TenantId, session: &str, user: &UserId) -> (Option<sessions::Session>, Option<User>);
    /// One grant.
    fn get_grant(&self, tenant: &TenantId, id: &str) -> Option<sessions::Grant>;
    /// Revokes a grant, audited with `reason`.
    fn revoke_grant(&self, tenant: &TenantId, id: &str, reason: &str, actor: &Actor) -> ();
    /// Revokes one access token by `jti` until it expires.
    fn revoke_access_token(&self, tenant: &TenantId, jti: &str, expires_at: i64) -> ();
    /// Whether an access token was revoked.
    fn access_token_revoked(&self, tenant: &TenantId, jti: &str) -> bool;
    /// Whether an access token was revoked, with the session and grant it names, in one read.
    fn access_token_state(&self, tenant: &TenantId, jti: &str, sid: Option<&str>, gid: Option<&str>, user: Option<&UserId>, holdings: Option<bool>) -> sessions::AccessTokenState;
    /// Deletes expired protocol state; returns how many rows went.
    fn purge_expired(&self) -> u64;
    /// Merges each user's and tenant's rows of the holdings change log into one (same sums).
    fn merge_holdings_changes(&self) -> u64;
}

// Logout: the clients each session signed in to, and ending sessions.
forward! {
    /// Remembers that a session signed in to a client (idempotent).
    fn record_session_client(&self, tenant: &TenantId, session: &str, client: &ClientId) -> ();
    /// The apps to tell when every live session of the user ends.
    fn user_logout_targets(&self, tenant: &TenantId, user: &UserId) -> Vec<sessions::LogoutTarget>;
    /// Ends a live session; returns the apps to tell (empty if it was not live).
    fn end_session(&self, tenant: &TenantId, session: &str, actor: &Actor) -> Vec<sessions::LogoutTarget>;
}

// A person's own sessions (the account portal; administrators through the same services).
forward! {
    /// The user's sessions not ended and within their lifetime, most recently seen first.
    fn user_sessions(&self, tenant: &TenantId, user: &UserId) -> Vec<sessions::ListedSession>;
    /// Records the browser's `User-Agent` on a session that just started.
    fn set_session_user_agent(&self, tenant: &TenantId, session: &str, user_agent: &str) -> ();
    /// Ends one live session of the user and revokes its grants; returns the apps to tell.
    fn end_user_session(&self, tenant: &TenantId, user: &UserId, session: &str, actor: &Actor) -> Vec<sessions::LogoutTarget>;
    /// Ends every live session of the user but one and revokes the grants not made in it.
    fn end_other_sessions(&self, tenant: &TenantId, user: &UserId, keep: &str, actor: &Actor) -> Vec<sessions::LogoutTarget>;
}

// Consent to third-party clients; client assertions already used (private_key_jwt).
forward! {
    /// A user's consent to one client, if any.
    fn consent(&self, tenant: &TenantId, user: &UserId, client: &ClientId) -> Option<consents::Consent>;
    /// A user's consents.
    fn list_consents(&self, tenant: &TenantId, user: &UserId) -> Vec<consents::Consent>;
    /// Adds scopes to a user's consent to a client (audited).
    fn grant_consent(&self, tenant: &TenantId, user: &UserId, client: &ClientId, scopes: &[String], actor: &Actor) -> ();
    /// Withdraws a user's consent to a client named by `client_id` or id (audited).
    fn revoke_consent(&self, tenant: &TenantId, user: &UserId, client: &str, actor: &Actor) -> ();
    /// Records a client assertion's `jti`; `false` on a replay.
    fn use_assertion_jti(&self, tenant: &TenantId, client: &ClientId, jti: &str, expires_at: i64) -> bool;
}

// Multi-factor authentication: settings, factors, ceremonies, failed codes, notifications.
forward! {
    /// The tenant's MFA settings.
    fn mfa_settings(&self, tenant: &TenantId) -> mfa::MfaSettings;
    /// Replaces the tenant's MFA settings (audited).
    fn set_mfa_settings(&self, tenant: &TenantId, settings: &mfa::MfaSettings, actor: &Actor) -> mfa::MfaSettings;
    /// The strictest MFA policy of the roles the user holds today.
    fn role_mfa_policy(&self, tenant: &TenantId, user: &UserId) -> mfa::MfaPolicy;
    /// Everything the user has enrolled.
    fn user_factors(&self, tenant: &TenantId, user: &UserId) -> mfa::Factors;
    /// A WebAuthn credential of the tenant by its credential id (base64url).
    fn webauthn_credential(&self, tenant: &TenantId, credential_id: &str) -> Option<mfa::WebauthnCredential>;
    /// Registers a WebAuthn credential (and the first recovery codes), audited, notified.
    fn add_webauthn_credential(&self, tenant: &TenantId, cred: &mfa::WebauthnCredential, recovery: Option<&[String]>, actor: &Actor) -> ();
    /// Records a credential's use (and its new counter).
    fn touch_webauthn_credential(&self, tenant: &TenantId, id: &FactorId, credential: Option<&str>) -> ();
    /// Renames a WebAuthn credential of the user (audited).
    fn rename_webauthn_credential(&self, tenant: &TenantId, user: &UserId, id: &FactorId, name: &str, actor: &Actor) -> ();
    /// Starts enrolling an authenticator app.
    fn begin_totp(&self, tenant: &TenantId, factor: &mfa::TotpFactor) -> ();
    /// Confirms a pending authenticator app with its first code; false if stale.
    fn confirm_totp(&self, tenant: &TenantId, user: &UserId, id: &FactorId, step: i64, recovery: Option<&[String]>, actor: &Actor) -> bool;
    /// Accepts one TOTP step once.
    fn use_totp_step(&self, tenant: &TenantId, user: &UserId, step: i64) -> bool;
    /// Uses one recovery code (audited, notified); false if unknown or used.
    fn use_recovery_code(&self, tenant: &TenantId, user: &UserId, code_hash: &str, actor: &Actor) -> bool;
    /// Replaces the user's recovery codes (audited, notified).
    fn replace_recovery_codes(&self, tenant: &TenantId, user: &UserId, hashes: &[String], actor: &Actor) -> ();
    /// Removes one factor (audited, notified).
    fn remove_factor(&self, tenant: &TenantId, user: &UserId, id: &FactorId, actor: &Actor) -> ();
    /// Removes all the user's factors and recovery codes (audited, notified); returns what was there.
    fn reset_factors(&self, tenant: &TenantId, user: &UserId, actor: &Actor) -> mfa::Factors;
    /// Removes the user's password (audited, notified).
    fn remove_password(&self, tenant: &TenantId, user: &UserId, actor: &Actor) -> ();
    /// Stores a ceremony in progress.
    fn put_ceremony(&self, tenant: &TenantId, id_hash: &str, ceremony: &mfa::Ceremony) -> ();
    /// Takes a ceremony back (once).
    fn take_ceremony(&self, tenant: &TenantId, id_hash: &str) -> Option<mfa::Ceremony>;
    /// Step-up: the session's new methods, level and time (audited).
    fn raise_session(&self, tenant: &TenantId, session: &sessions::Session, old_secret_hash: &str, actor: &Actor) -> bool;
    /// The notifications raised for the user, newest first.
    fn notifications(&self, tenant: &TenantId, user: &UserId, limit: i64) -> Vec<mfa::Notification>;
    /// Deletes expired ceremonies and old failures.
    fn purge_mfa(&self) -> u64;
}

// SCIM: tokens, settings, users and groups as SCIM reads and writes them.
forward! {
    fn insert_scim_token(&self, tenant: &TenantId, name: &str, token_hash: &str, actor: &Actor) -> scim::ScimToken;
    fn scim_token_by_hash(&self, token_hash: &str) -> Option<(Tenant, scim::ScimToken)>;
    fn list_scim_tokens(&self, tenant: &TenantId) -> Vec<scim::ScimToken>;
    fn revoke_scim_token(&self, tenant: &TenantId, id: &ScimTokenId, actor: &Actor) -> ();
    fn scim_settings(&self, tenant: &TenantId) -> scim::ScimSettings;
    fn scim_user_holding(&self, tenant: &TenantId, fields: &scim::ScimUserFields) -> Option<(UserId, bool)>;
    fn set_scim_settings(&self, tenant: &TenantId, settings: &scim::ScimSettings, actor: &Actor) -> scim::ScimSettings;
    /// Which profile fields people change themselves (the default when never set).
    fn profile_policy(&self, tenant: &TenantId) -> profile_policy::ProfilePolicy;
    fn set_profile_policy(&self, tenant: &TenantId, policy: &profile_policy::ProfilePolicy, actor: &Actor) -> profile_policy::ProfilePolicy;
    /// Appends SCIM requests to the log, keeping the latest `keep` of each tenant written to.
    fn insert_scim_requests(&self, rows: &[(TenantId, scim::ScimRequest)], keep: i64) -> ();
    /// The tenant's logged SCIM requests older than `before` (a `seq`), newest first.
    fn scim_requests(&self, tenant: &TenantId, before: Option<i64>, limit: i64) -> Vec<scim::ScimRequest>;

    /// One user as SCIM sees them (not removed by SCIM, not anonymised).
    fn scim_user(&self, tenant: &TenantId, id: &UserId) -> Option<scim::ScimUser>;
    /// Users matching a filter, sorted and paged in the database.
    fn scim_list_users(&self, tenant: &TenantId, q: &scim::ListQuery<scim::UserField>) -> scim::ListPage<scim::ScimUser>;
    fn scim_create_users(&self, tenant: &TenantId, writes: &[scim::ScimUserWrite], max_errors: Option<usize>,
        actor: &Actor) -> Vec<Result<scim::ScimUser>>;
    fn scim_replace_user(&self, tenant: &TenantId, id: &UserId, version: Option<i64>, w: &scim::ScimUserWrite,
        tell_old: Option<&mail::OutgoingMail>, actor: &Actor) -> scim::ScimUser;
    /// Deactivates a user and hides them from SCIM (DELETE with the `deactivate` setting).
    fn scim_remove_user(&self, tenant: &TenantId, id: &UserId, actor: &Actor) -> ();
    /// `scim_remove_user` if the user is still at `version` (when given).
    fn scim_remove_user_if(&self, tenant: &TenantId, id: &UserId, version: Option<i64>, actor: &Actor) -> ();

    /// One group, with its members when `members` is true.
    fn scim_group(&self, tenant: &TenantId, id: &GroupId, members: bool) -> Option<scim::ScimGroup>;
    fn scim_list_groups(&self, tenant: &TenantId, q: &scim::ListQuery<scim::GroupField>, members: bool) -> scim::ListPage<scim::ScimGroup>;
    fn scim_create_group(&self, tenant: &TenantId, w: &scim::ScimGroupWrite, actor: &Actor) -> scim::ScimGroup;
    /// Changes a group's fields and members (only the difference is written) if it is still at
    /// `version` (when given); returns it, with its members when `members` is true.
    fn scim_change_group(&self, tenant: &TenantId, id: &GroupId, version: Option<i64>, c: &scim::ScimGroupChange,
        members: bool, actor: &Actor) -> scim::ScimGroup;
}

// Brute-force defence: failed attempts at typed secrets (see `domain::throttle`).
forward! {
    /// Counts one attempt at `subject`'s secret before it is judged (atomic).
    fn throttle_attempt(&self, tenant: &TenantId, subject: &str, policy: &throttle::Policy, now: i64, ticket: &str) -> throttle::Attempt;
    /// Counts one event for `key` in the tenant's fixed window of `window_ms`: how many the
    /// window holds with it (shared by every replica).
    fn count_event(&self, tenant: &TenantId, key: &str, window_ms: i64, now: i64) -> i64;
    /// Forgets a subject's failures (its secret was right).
    fn throttle_forget(&self, tenant: &TenantId, subject: &str) -> ();
    /// Takes back one counted failure of a subject (a success from a client address).
    fn throttle_uncount(&self, tenant: &TenantId, subject: &str) -> ();
    /// A subject's failures and lock as administrators see them.
    fn throttle_state(&self, tenant: &TenantId, subject: &str, policy: &throttle::Policy, now: i64) -> throttle::LockState;
    /// Clears subjects' failures and locks, audited.
    fn throttle_clear(&self, tenant: &TenantId, subjects: &[String], actor: &Actor, change: crate::domain::audit::Change) -> ();
    /// Records an event that changes nothing else in the audit log.
    fn audit_event(&self, tenant: &TenantId, actor: &Actor, change: crate::domain::audit::Change) -> ();
}

// The mail outbox (see `crate::mail`).
forward! {
    /// [`Store::issue_user_link`], with the mail that carries the link written in the same
    /// transaction.
    fn issue_user_link_with_mail(&self, tenant: &TenantId, user: &UserId, purpose: &str, token_hash: &str, ttl_ms: i64,
        mail: Option<&mail::OutgoingMail>, actor: &Actor) -> ();
    /// Writes a mail that is the whole change to the outbox.
    fn enqueue_mail(&self, mail: &mail::OutgoingMail) -> MailId;
    /// Claims up to `limit` due messages for `lease_ms`.
    fn claim_mail(&self, lease_ms: i64, limit: i64) -> Vec<mail::ClaimedMail>;
    /// A claimed message went out or was logged; false when the claim was lost.
    fn mail_delivered(&self, id: &MailId, claim: &str, status: mail::MailStatus) -> bool;
    /// A claimed message's attempt failed: due again at `retry_at`, or failed for good.
    fn mail_attempt_failed(&self, id: &MailId, claim: &str, error: &str, retry_at: Option<i64>) -> bool;
    fn list_mail(&self, tenant: &TenantId, recipient: Option<&str>, status: Option<mail::MailStatus>, limit: i64) -> Vec<mail::MailRecord>;
    fn get_mail(&self, tenant: &TenantId, id: &MailId) -> Option<mail::MailRecord>;
    fn mail_template(&self, tenant: &TenantId, kind: mail::MailKind, locale: &str) -> Option<mail::MailTemplate>;
    fn mail_templates(&self, tenant: &TenantId) -> Vec<mail::MailTemplate>;
    /// Sets (or with `None` removes) the tenant's wording of a kind in a locale.
    fn set_mail_template(&self, tenant: &TenantId, kind: mail::MailKind, locale: &str, template: Option<mail::MailTemplate>, actor: &Actor) -> ();
    fn mail_from(&self, tenant: &TenantId) -> Option<String>;
    fn set_mail_from(&self, tenant: &TenantId, from: Option<&str>, actor: &Actor) -> ();
    /// Notifications on the email channel not yet turned into mail, oldest first.
    fn unmailed_notifications(&self, limit: i64) -> Vec<mail::UnmailedNotification>;
    /// Marks a notification mailed and writes its mail, in one transaction.
    fn mail_notification(&self, notification: &NotificationId, mail: Option<mail::OutgoingMail>) -> bool;
    /// Raises an event of a tenant-defined type for a user; whether their preferences let it
    /// through.
    fn raise_notification(&self, tenant: &TenantId, user: &UserId, event_type: &str, message: &str,
        details: &serde_json::Value, actor: &Actor) -> bool;
}
