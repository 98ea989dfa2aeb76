//! Configuration in layers: defaults -> TOML file -> `CASTELLAN_*` environment (`*_FILE` reads
//! a secret from a file). `config/castellan.toml` documents every key.

use serde::Deserialize;
use std::fmt;
use std::path::Path;

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: String,
    /// The URL people and apps reach Castellan at (issuer URLs and links are built from it).
    pub public_url: String,
    /// `sqlite:PATH` (embedded, the default) or `postgres://USER@HOST/DB`.
    pub database_url: String,
    /// Email of the owner of the `default` tenant created on first start.
    pub bootstrap_owner_email: String,
    /// File holding the master key that seals secrets at rest (TOTP seeds, signing keys).
    /// Empty: with SQLite, `master.key` beside the database (created on first start); with
    /// PostgreSQL, required.
    pub master_key_file: String,
    /// The master key itself, from `CASTELLAN_MASTER_KEY` only (never from a file of settings).
    #[serde(skip)]
    pub master_key: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: "http://localhost:8080".into(),
            database_url: "sqlite:data/castellan.db".into(),
            bootstrap_owner_email: "owner@localhost".into(),
            master_key_file: String::new(),
            master_key: None,
        }
    }
}

/// The database URL may hold a password: it never appears in full in `Debug` output or logs.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("database_url", &redact_url(&self.database_url))
            .field("bootstrap_owner_email", &self.bootstrap_owner_email)
            .field("master_key_file", &self.master_key_file)
            .field("master_key", &self.master_key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `scheme://user:***@host/db`: the password of a URL hidden.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Config {
    /// Loads the configuration: `file` if given, then the environment on top.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let mut cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => Config::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        Ok(cfg)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), String> {
        let fields: [(&str, &mut String); 4] = [
            ("LISTEN", &mut self.listen),
            ("PUBLIC_URL", &mut self.public_url),
            ("DATABASE_URL", &mut self.database_url),
            ("BOOTSTRAP_OWNER_EMAIL", &mut self.bootstrap_owner_email),
        ];
        // A path, not a secret: CASTELLAN_MASTER_KEY_FILE names the key file.
        if let Some(path) = get("CASTELLAN_MASTER_KEY_FILE") {
            self.master_key_file = path;
        }
        if let Some(key) = get("CASTELLAN_MASTER_KEY").filter(|k| !k.trim().is_empty()) {
            self.master_key = Some(key);
        }
        for (name, field) in fields {
            if let Some(v) = get(&format!("CASTELLAN_{name}")) {
                *field = v;
            } else if let Some(path) = get(&format!("CASTELLAN_{name}_FILE")) {
                *field = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read CASTELLAN_{name}_FILE {path}: {e}"))?
                    .trim()
                    .to_string();
            }
        }
        self.public_url = self.public_url.trim_end_matches('/').to_string();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_defaults() {
        let mut c = Config::default();
        c.apply_env(|k| (k == "CASTELLAN_LISTEN").then(|| "0.0.0.0:9000".to_string()))
            .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.public_url, "http://localhost:8080");
    }

    #[test]
    fn file_rejects_unknown_keys() {
        assert!(toml::from_str::<Config>("lisen = 'x'").is_err());
        let c: Config = toml::from_str("listen = '127.0.0.1:1'").unwrap();
        assert_eq!(c.listen, "127.0.0.1:1");
        assert_eq!(c.database_url, "sqlite:data/castellan.db");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite:data/x.db"), "sqlite:data/x.db");
        let c = Config {
            master_key: Some("c2VjcmV0LWtleS1tYXRlcmlhbA".into()),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn master_key_comes_from_the_environment_or_a_file_path() {
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "CASTELLAN_MASTER_KEY_FILE" => Some("/run/secrets/key".to_string()),
            "CASTELLAN_MASTER_KEY" => Some("abc".to_string()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.master_key_file, "/run/secrets/key");
        assert_eq!(c.master_key.as_deref(), Some("abc"));
        assert!(toml::from_str::<Config>("master_key = 'x'").is_err());
        let c: Config = toml::from_str("master_key_file = '/k'").unwrap();
        assert_eq!(c.master_key_file, "/k");
    }
}
