//! The command line: `serve`, and administration commands that work on the configured database.

use crate::config::Config;
use crate::domain::audit::Actor;
use crate::domain::changes::NewUser;
use crate::domain::secrets::hash_secret;
use crate::domain::{TenantId, UserStatus};
use crate::http::AppState;
use crate::store::Store;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "castellan", version, about = "Castellan identity provider")]
pub struct Cli {
    /// Configuration file (TOML); every key can also be set as a CASTELLAN_* environment variable.
    #[arg(long, global = true, env = "CASTELLAN_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Runs the server.
    Serve,
    /// Manages tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manages admin API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manages OpenID Connect clients (apps).
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Manages a tenant's signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manages users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manages SCIM tokens (what a directory such as Okta or Entra ID authenticates with).
    ScimToken {
        #[command(subcommand)]
        command: ScimTokenCommand,
    },
    /// Multi-factor authentication: break-glass recovery of a user's second factors.
    Mfa {
        #[command(subcommand)]
        command: MfaCommand,
    },
    /// Imports users from CSV.
    Import {
        #[command(subcommand)]
        command: crate::csv_cli::ImportCommand,
    },
    /// Exports users as CSV.
    Export {
        #[command(subcommand)]
        command: crate::csv_cli::ExportCommand,
    },
    /// The master key that seals secrets at rest: make one, or rotate the database to a new one.
    MasterKey {
        #[command(subcommand)]
        command: crate::master_key::MasterKeyCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum MfaCommand {
    /// Removes every second factor and recovery code of a user who lost them (audited as the
    /// CLI; the user is notified and sets up a factor again at their next sign-in).
    Reset {
        #[arg(long)]
        tenant: String,
        /// The user's sign-in email, or their username (needed when users share the email).
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ScimTokenCommand {
    /// Creates a SCIM token and prints it (only the token) on stdout.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value = "scim")]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Sets a user's password, read from stdin (one line; never from the command line, where
    /// it would show in the process list and the shell history).
    SetPassword {
        #[arg(long)]
        tenant: String,
        /// The user's sign-in email, or their username (needed when users share the email).
        #[arg(long)]
        email: String,
    },
    /// Invites a person: creates them as an invited user (or takes the invited user with this
    /// email) and sends their invitation; a new link replaces an unused older one. Without a
    /// mail server, prints the link to give them.
    Invite {
        #[arg(long)]
        tenant: String,
        /// The person's email.
        email: String,
        /// How many days the link works.
        #[arg(long, default_value_t = crate::domain::invitations::DEFAULT_TTL_DAYS)]
        days: u32,
    },
    /// Shows a user's failed sign-ins and locks (password and second factor), as JSON.
    SignInLock {
        #[arg(long)]
        tenant: String,
        /// The user's sign-in email, or their username (needed when users share the email).
        #[arg(long)]
        email: String,
    },
    /// Clears a user's failed sign-ins and locks (audited); prints the state before.
    Unlock {
        #[arg(long)]
        tenant: String,
        /// The user's sign-in email, or their username (needed when users share the email).
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Registers a client and prints its client id and (once) its secret.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// A public client (no secret; PKCE).
        #[arg(long)]
        public: bool,
        /// A first-party app: its users are never asked for consent.
        #[arg(long = "first-party")]
        first_party: bool,
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Rotates the tenant's signing keys: the published next key starts signing.
    Rotate {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// Creates a tenant with its owner (invited until they first sign in).
    Create {
        slug: String,
        #[arg(long)]
        owner_email: String,
        /// Display name; the slug when absent.
        #[arg(long)]
        name: Option<String>,
    },
    /// Lists tenants.
    List,
    /// Prints a new single-use link with which the tenant's owner sets a password and reaches
    /// the console (an older unused link stops working). Audited.
    SetupLink { slug: String },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Creates an admin API token and prints it (only the token) on stdout.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// Email (or username) of the user the token acts as (their permissions apply); a tenant-wide token when absent.
        #[arg(long)]
        user: Option<String>,
    },
}

/// Runs the command line; the process's exit code.
pub async fn run(cli: Cli) -> Result<(), String> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => serve(config).await,
        Command::MasterKey { command } => crate::master_key::command(&config, command).await,
        Command::Import { command } => {
            let store = crate::master_key::open_store(&config).await?;
            let result = crate::csv_cli::import(&store, &config, command).await;
            store.close().await;
            result
        }
        Command::Export { command } => {
            let store = crate::master_key::open_store(&config).await?;
            let result = crate::csv_cli::export(&store, command).await;
            store.close().await;
            result
        }
        Command::Tenant { command } => {
            let store = crate::master_key::open_store(&config).await?;
            match command {
                TenantCommand::Create {
                    slug,
                    owner_email,
                    name,
                } => {
                    let name = name.unwrap_or_else(|| slug.clone());
                    let (tenant, owner) = create_tenant(&store, &slug, &name, &owner_email).await?;
                    println!(
                        "created tenant {} ({}) with owner {} ({})",
                        tenant.slug, tenant.id, owner.email, owner.id
                    );
                }
                TenantCommand::List => {
                    for t in store.list_tenants().await.map_err(|e| e.to_string())? {
                        println!("{}\t{}\t{}", t.slug, t.id, t.name);
                    }
                }
                TenantCommand::SetupLink { slug } => {
                    let tenant = tenant_named(&store, &slug).await?;
                    let link = crate::admin::setup_links::issue_owner_setup(
                        &store,
                        &tenant,
                        &config.public_url,
                        &Actor::cli(),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    println!("{link}");
                }
            }
            store.close().await;
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { tenant, name, user },
        } => {
            let store = crate::master_key::open_store(&config).await?;
            let t = store
                .tenant_by_slug(&tenant)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no tenant `{tenant}`"))?;
            let user_id = match user {
                Some(login) => Some(named_user(&store, &t.id, &tenant, &login).await?.id),
                None => None,
            };
            let token = create_token(&store, &t.id, &name, user_id.as_ref()).await?;
            println!("{token}");
            store.close().await;
            Ok(())
        }
        Command::ScimToken {
            command: ScimTokenCommand::Create { tenant, name },
        } => {
            let store = crate::master_key::open_store(&config).await?;
            let result = create_scim_token(&store, &tenant, &name).await;
            store.close().await;
            println!("{}", result?);
            Ok(())
        }
        Command::Client { command } => {
            let store = crate::master_key::open_store(&config).await?;
            let result = client_command(&store, command).await;
            store.close().await;
            result
        }
        Command::Keys {
            command: KeysCommand::Rotate { tenant },
        } => {
            let store = crate::master_key::open_store(&config).await?;
            let result = rotate_keys(&store, &tenant).await;
            store.close().await;
            result
        }
        Command::User {
            command: UserCommand::SetPassword { tenant, email },
        } => {
            let password = read_password()?;
            let store = crate::master_key::open_store(&config).await?;
            let result = set_password(&store, &tenant, &email, password).await;
            store.close().await;
            result
        }
        Command::User {
            command:
                UserCommand::Invite {
                    tenant,
                    email,
                    days,
                },
        } => {
            let store = crate::master_key::open_store(&config).await?;
            let outlet = crate::admin::invitations::Outlet::of(&config);
            let result = invite(&store, outlet, &tenant, &email, days).await;
            store.close().await;
            println!("{}", result?);
            Ok(())
        }
        Command::User {
            command: UserCommand::SignInLock { tenant, email },
        } => sign_in_lock_command(&config, &tenant, &email, false).await,
        Command::User {
            command: UserCommand::Unlock { tenant, email },
        } => sign_in_lock_command(&config, &tenant, &email, true).await,
        Command::Mfa {
            command: MfaCommand::Reset { tenant, email },
        } => {
            let store = crate::master_key::open_store(&config).await?;
            let result = reset_mfa(&store, &tenant, &email).await;
            store.close().await;
            println!("{}", result?);
            Ok(())
        }
    }
}

/// Removes every second factor and recovery code of the user with `email` in tenant `slug`,
/// audited with the CLI as actor; says what was removed (never a secret).
pub async fn reset_mfa(store: &Store, slug: &str, email: &str) -> Result<String, String> {
    let tenant = tenant_named(store, slug).await?;
    let user = named_user(store, &tenant.id, slug, email).await?;
    let removed = store
        .reset_factors(&tenant.id, &user.id, &Actor::cli())
        .await
        .map_err(|e| e.to_string())?;
    let names: Vec<String> = removed
        .summary()
        .iter()
        .map(|f| format!("{} “{}”", f.kind, f.name))
        .collect();
    Ok(format!(
        "reset the second factors of {}: removed {} factor(s){}{} and {} recovery code(s)",
        user.email,
        names.len(),
        if names.is_empty() { "" } else { ": " },
        names.join(", "),
        removed.recovery_codes_left
    ))
}

/// `user sign-in-lock` (`clear` false) and `user unlock` (`clear` true): prints the state, as
/// JSON (before the unlock).
async fn sign_in_lock_command(
    config: &Config,
    slug: &str,
    email: &str,
    clear: bool,
) -> Result<(), String> {
    let store = Store::connect(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let result = sign_in_lock(&store, &config.sign_in, slug, email, clear).await;
    store.close().await;
    let (user, state) = result?;
    let json = serde_json::to_string_pretty(&state).map_err(|e| e.to_string())?;
    println!("{json}");
    if clear {
        println!("unlocked {user}");
    }
    Ok(())
}

/// The sign-in lock of the user with `email` in tenant `slug`, cleared (audited as the CLI)
/// when `clear`: the user's email and the state before.
pub async fn sign_in_lock(
    store: &Store,
    limits: &crate::limits::SignInLimits,
    slug: &str,
    email: &str,
    clear: bool,
) -> Result<(String, crate::admin::sign_in_lock::SignInLock), String> {
    let caller = cli_caller(tenant_named(store, slug).await?);
    let user = named_user(store, caller.tenant_id(), slug, email).await?;
    use crate::admin::sign_in_lock as lock;
    let state = if clear {
        lock::clear(store, &caller, &user.id, limits, None).await
    } else {
        lock::get(store, &caller, &user.id, limits).await
    };
    Ok((user.email, state.map_err(|e| e.to_string())?))
}

/// The user a command names by `login`, found as the sign-in page finds them: by sign-in email,
/// or by username (how to name one of several users who share an email).
async fn named_user(
    store: &Store,
    tenant: &crate::domain::TenantId,
    slug: &str,
    login: &str,
) -> Result<crate::domain::User, String> {
    store
        .user_for_sign_in(tenant, login)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "no user `{login}` in tenant `{slug}` (give the username when several users share an email)"
            )
        })
}

/// The first line of stdin, without its line ending.
fn read_password() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// The CLI process's hashing queue (the server's default size): the CLI waits for a place
/// instead of being refused.
fn cli_hash_queue() -> &'static crate::domain::passwords::HashQueue {
    static QUEUE: std::sync::LazyLock<crate::domain::passwords::HashQueue> =
        std::sync::LazyLock::new(|| {
            let size = crate::limits::SignInLimits::default().hash_queue as usize;
            crate::domain::passwords::HashQueue::new(size, 0)
        });
    &QUEUE
}

/// Sets the password of the user with `email` in tenant `slug`.
pub async fn set_password(
    store: &Store,
    slug: &str,
    email: &str,
    password: String,
) -> Result<(), String> {
    let caller = cli_caller(tenant_named(store, slug).await?);
    let user = named_user(store, caller.tenant_id(), slug, email).await?;
    crate::admin::passwords::set(
        store,
        &caller,
        &user.id,
        crate::admin::passwords::SetPassword { password },
        crate::admin::passwords::Admission::Wait(cli_hash_queue()),
    )
    .await
    .map_err(|e| e.to_string())?;
    println!("password set for {}", user.email);
    Ok(())
}

/// `user invite`: the invited user with `email` (created when there is none) is sent an
/// invitation (a mail the server's worker sends, when `smtp_url` is set); answers what was
/// done, with the link when no mail carries it.
pub async fn invite(
    store: &Store,
    outlet: crate::admin::invitations::Outlet<'_>,
    slug: &str,
    email: &str,
    days: u32,
) -> Result<String, String> {
    use crate::admin::invitations::{self, SendInvitation};
    let caller = cli_caller(tenant_named(store, slug).await?);
    let existing = store
        .user_for_sign_in(caller.tenant_id(), email)
        .await
        .map_err(|e| e.to_string())?;
    let (user, created) = match existing {
        Some(user) => (user, false),
        None => {
            let req: crate::admin::users::CreateUser =
                serde_json::from_value(serde_json::json!({ "email": email }))
                    .map_err(|e| e.to_string())?;
            let user = crate::admin::users::create(store, &caller, req)
                .await
                .map_err(|e| e.to_string())?;
            (user, true)
        }
    };
    let req = SendInvitation {
        expires_in_days: Some(days),
    };
    let sent = invitations::send(store, &caller, &user.id, req, outlet)
        .await
        .map_err(|e| e.to_string())?;
    let what = if created {
        "created and invited"
    } else {
        "invited again"
    };
    let mut out = format!(
        "{what} {} ({}); the link works until {}",
        user.email,
        user.id,
        sent.state.expires_at.unwrap_or_default()
    );
    if let Some(link) = sent.link {
        out.push_str(&format!(
            "\nno mail server is configured: give the person this link (shown once):\n\n    {link}"
        ));
    }
    Ok(out)
}

/// Creates a tenant, its owner and its signing keys (every algorithm's active and next key).
pub async fn create_tenant(
    store: &Store,
    slug: &str,
    name: &str,
    owner_email: &str,
) -> Result<(crate::domain::Tenant, crate::domain::User), String> {
    validate_slug(slug)?;
    let email =
        crate::admin::validate::email("owner_email", owner_email).map_err(|e| e.to_string())?;
    let owner = NewUser {
        username: email.clone(),
        email,
        email_verified: false,
        given_name: None,
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
    };
    let (tenant, owner) = store
        .create_tenant(slug, name, owner, &Actor::cli())
        .await
        .map_err(|e| e.to_string())?;
    // Every signing key is published from the start, before anything is signed.
    crate::oidc::keys::ensure_keys(store, &tenant.id)
        .await
        .map_err(|e| e.to_string())?;
    Ok((tenant, owner))
}

/// A tenant slug goes into URLs: lowercase letters, digits and `-`, 1 to 63 characters.
pub fn validate_slug(slug: &str) -> Result<(), String> {
    let ok = crate::domain::text::is_slug(slug);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{slug}` is not a valid tenant slug: use lowercase letters, digits and -"
        ))
    }
}

pub use crate::domain::secrets::new_secret;

/// Creates an admin API token and returns the secret (shown once).
pub async fn create_token(
    store: &Store,
    tenant: &TenantId,
    name: &str,
    user: Option<&crate::domain::UserId>,
) -> Result<String, String> {
    let name = crate::admin::validate::name("name", name, 100).map_err(|e| e.to_string())?;
    let secret = new_secret("cst_");
    store
        .insert_token(tenant, &name, user, &hash_secret(&secret), &Actor::cli())
        .await
        .map_err(|e| e.to_string())?;
    Ok(secret)
}

/// Creates a SCIM token for the tenant with this slug and returns the secret (shown once).
pub async fn create_scim_token(store: &Store, tenant: &str, name: &str) -> Result<String, String> {
    let t = store
        .tenant_by_slug(tenant)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no tenant `{tenant}`"))?;
    let name = crate::admin::validate::name("name", name, 100).map_err(|e| e.to_string())?;
    crate::admin::scim::issue(store, &t.id, &name, &Actor::cli())
        .await
        .map(|(secret, _)| secret)
        .map_err(|e| e.to_string())
}

/// What the first start makes and prints once: an admin API token, and the link with which the
/// owner sets a password and reaches the console.
pub struct Bootstrap {
    pub token: String,
    pub setup_link: String,
}

/// First start on an empty database: tenant `default`, its owner, one admin token and the
/// owner's set-up link, printed once.
pub async fn bootstrap(store: &Store, config: &Config) -> Result<Option<Bootstrap>, String> {
    if !store
        .list_tenants()
        .await
        .map_err(|e| e.to_string())?
        .is_empty()
    {
        return Ok(None);
    }
    let (tenant, _) =
        create_tenant(store, "default", "Default", &config.bootstrap_owner_email).await?;
    let token = create_token(store, &tenant.id, "bootstrap", None).await?;
    let setup_link = crate::admin::setup_links::issue_owner_setup(
        store,
        &tenant,
        &config.public_url,
        &Actor::system(),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(Some(Bootstrap { token, setup_link }))
}

/// Every minute, merges the log of changes to what users hold (each token request sums a user's
/// and their tenant's rows of it; a directory pushing many changes adds many rows) and, on
/// PostgreSQL without autovacuum, analyzes the tables that grew (else plans made while they were
/// small would outlive their growth: [`Store::analyze_grown_tables`]); every ten
/// minutes, deletes protocol state that can no longer be used (expired codes, grants, refresh
/// tokens, revoked token ids, long-ended sessions, expired WebAuthn ceremonies, wrong one-time
/// codes older than a day). Safe on every replica at once.
async fn purge_expired_state(store: Store) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    for minute in 0u64.. {
        every.tick().await;
        if let Err(e) = store.merge_holdings_changes().await {
            tracing::warn!(error = %e, "merging the log of changes to holdings failed");
        }
        match store.analyze_grown_tables().await {
            Ok(tables) if !tables.is_empty() => tracing::info!(
                tables = %tables.join(", "),
                "analyzed tables that grew (PostgreSQL's autovacuum is off for them)"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "analyzing grown tables failed"),
        }
        if minute % 10 != 0 {
            continue;
        }
        match store.purge_expired().await {
            Ok(n) if n > 0 => tracing::info!(rows = n, "purged expired sign-in state"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired sign-in state failed"),
        }
        match store.purge_mfa().await {
            Ok(n) if n > 0 => tracing::info!(
                rows = n,
                "purged expired MFA ceremonies and old failed codes"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging MFA state failed"),
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let store = crate::master_key::open_store(&config).await?;
    if let Some(Bootstrap { token, setup_link }) = bootstrap(&store, &config).await? {
        println!(
            "\nCastellan created tenant `default` (owner: {}).\n\n\
             The owner sets a password and reaches the console with this single-use link (valid \
             7 days; `castellan tenant setup-link default` makes a new one):\n\n    {setup_link}\n\n\
             Its admin API token, shown only this once:\n\n    {token}\n\n\
             Try: curl -H 'Authorization: Bearer {token}' {}/t/default/api/v1/users\n",
            config.bootstrap_owner_email, config.public_url
        );
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let bound = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| config.listen.clone());
    println!(
        "Castellan listening on http://{bound} (public URL {})",
        config.public_url
    );
    tracing::info!(listen = %bound, public_url = %config.public_url, database = %crate::config::redact_url(&config.database_url), "castellan serving");
    let mailer = crate::mail::worker::Worker::from_config(store.clone(), &config)?;
    let state = AppState::new(store.clone(), config);
    tokio::spawn(purge_expired_state(store.clone()));
    tokio::spawn(mailer.run());
    tokio::spawn(crate::admin::jobs::fail_abandoned(store.clone()));
    crate::http::serve(listener, state)
        .await
        .map_err(|e| e.to_string())?;
    store.close().await;
    Ok(())
}

/// The command-line caller: every administration permission, recorded as the CLI.
pub fn cli_caller(tenant: crate::domain::Tenant) -> crate::domain::authz::Caller {
    crate::domain::authz::Caller {
        tenant,
        principal: crate::domain::authz::Principal::Token {
            token_id: crate::domain::TokenId("cli".into()),
            name: "castellan CLI".into(),
        },
        permissions: crate::domain::authz::root_token_permissions(),
        ip: None,
    }
}

pub(crate) async fn tenant_named(
    store: &Store,
    slug: &str,
) -> Result<crate::domain::Tenant, String> {
    store
        .tenant_by_slug(slug)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no tenant `{slug}`"))
}

async fn client_command(store: &Store, command: ClientCommand) -> Result<(), String> {
    let ClientCommand::Create {
        tenant,
        name,
        redirect_uris,
        public,
        grant_types,
        scopes,
        first_party,
    } = command;
    let caller = cli_caller(tenant_named(store, &tenant).await?);
    let input = crate::admin::clients::ClientInput {
        name: Some(name),
        kind: Some(if public {
            crate::domain::oidc::ClientKind::Public
        } else {
            crate::domain::oidc::ClientKind::Confidential
        }),
        redirect_uris: Some(redirect_uris),
        grant_types: (!grant_types.is_empty()).then_some(grant_types),
        scopes: (!scopes.is_empty()).then_some(scopes),
        first_party: Some(first_party),
        ..Default::default()
    };
    let created = crate::admin::clients::create(store, &caller, input)
        .await
        .map_err(|e| e.to_string())?;
    println!("client_id: {}", created.client.client_id);
    if let Some(secret) = created.client_secret {
        println!("client_secret: {secret}");
    }
    Ok(())
}

async fn rotate_keys(store: &Store, slug: &str) -> Result<(), String> {
    let tenant = tenant_named(store, slug).await?;
    let ring = crate::oidc::keys::KeyRing::default();
    let keys = ring
        .rotate(store, &tenant.id, &Actor::cli())
        .await
        .map_err(|e| e.to_string())?;
    for k in keys {
        println!("{}\t{}\t{}", k.kid, k.alg.as_str(), k.state.as_str());
    }
    Ok(())
}
