//! The master key: where it comes from, opening the store with it, and the `master-key` commands
//! (generate a key, rotate the database to a new one).

use crate::config::Config;
use crate::domain::sealing::MasterKey;
use crate::store::Store;
use clap::Subcommand;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The message of a PostgreSQL start without a master key.
pub const POSTGRES_NEEDS_A_KEY: &str = "PostgreSQL needs a master key, the same on every replica, to seal TOTP seeds and signing keys at rest. \
Make one with `castellan master-key generate --out /etc/castellan/master.key` and point master_key_file \
(or CASTELLAN_MASTER_KEY_FILE) at it";

/// The name of the key file created beside an SQLite database.
pub const SQLITE_KEY_FILE: &str = "master.key";

#[derive(Subcommand, Debug)]
pub enum MasterKeyCommand {
    /// Makes a new random master key and prints it, or writes it to a new file (mode 0600).
    Generate {
        /// The file to create (it must not exist yet).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-seals every secret at rest under a new master key, in one transaction. Then start
    /// every replica with the new key.
    Rotate {
        /// The key file the secrets are sealed with now (default: the configured key).
        #[arg(long)]
        old: Option<PathBuf>,
        /// The new key file (make one with `castellan master-key generate --out FILE`).
        #[arg(long)]
        new: PathBuf,
    },
}

/// Connects to the configured database and unlocks it with the configured master key.
pub async fn open_store(config: &Config) -> Result<Store, String> {
    let key = load(config)?;
    let store = Store::connect(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    store.unlock(key).await.map_err(|e| e.to_string())
}

/// The configured master key: `CASTELLAN_MASTER_KEY`, else `master_key_file`, else (SQLite
/// only) `master.key` beside the database, created on first start.
pub fn load(config: &Config) -> Result<MasterKey, String> {
    if let Some(text) = &config.master_key {
        return MasterKey::parse(text).map_err(|e| format!("CASTELLAN_MASTER_KEY: {e}"));
    }
    if !config.master_key_file.is_empty() {
        return read_file(Path::new(&config.master_key_file));
    }
    let Some(db) = config.database_url.strip_prefix("sqlite:") else {
        return Err(POSTGRES_NEEDS_A_KEY.into());
    };
    let db = db.trim_start_matches("//");
    let db = db.split('?').next().unwrap_or_default();
    if db.is_empty() || db.starts_with(":memory:") {
        // Nothing outlives the process: neither does its key.
        return Ok(MasterKey::generate());
    }
    let dir = Path::new(db)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let path = dir.join(SQLITE_KEY_FILE);
    if !path.exists() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        write_new_file(&path, &MasterKey::generate_text())?;
        tracing::info!(file = %path.display(), "created the master key file; back it up with the database");
    }
    read_file(&path)
}

/// Reads a key file.
pub fn read_file(path: &Path) -> Result<MasterKey, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the master key file {}: {e}", path.display()))?;
    MasterKey::parse(&text).map_err(|e| format!("master key file {}: {e}", path.display()))
}

/// Creates `path` with `text`, readable only by its owner; refuses to replace a file.
fn write_new_file(path: &Path, text: &str) -> Result<(), String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    writeln!(f, "{text}").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Runs a `master-key` command.
pub async fn command(config: &Config, command: MasterKeyCommand) -> Result<(), String> {
    match command {
        MasterKeyCommand::Generate { out: None } => {
            println!("{}", MasterKey::generate_text());
            Ok(())
        }
        MasterKeyCommand::Generate { out: Some(path) } => {
            write_new_file(&path, &MasterKey::generate_text())?;
            let key = read_file(&path)?;
            println!("wrote master key {} to {}", key.id(), path.display());
            Ok(())
        }
        MasterKeyCommand::Rotate { old, new } => {
            let old = match old {
                Some(path) => read_file(&path)?,
                None => load(config)?,
            };
            let new_key = read_file(&new)?;
            if old.id() == new_key.id() {
                return Err("the new master key is the old one".into());
            }
            let store = Store::connect(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            let result = store.reseal(&old, &new_key).await;
            store.close().await;
            let n = result.map_err(|e| e.to_string())?;
            println!(
                "re-sealed {n} secrets under master key {} (was {}); start every replica with {}",
                new_key.id(),
                old.id(),
                new.display()
            );
            Ok(())
        }
    }
}
