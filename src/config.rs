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
    /// Reverse proxies (CIDR ranges) whose `X-Forwarded-For` names the client (none: the
    /// socket peer is the client).
    pub trusted_proxies: Vec<String>,
    /// Brute-force limits on sign-in and the password-hashing queue.
    pub sign_in: crate::limits::SignInLimits,
    /// The SMTP server mail goes through: `smtp://[user[:password]@]host[:port]` (plain, or
    /// STARTTLS with `?tls=required`), `smtps://...` (TLS). Empty: mail is written to the log.
    pub smtp_url: String,
    /// A file holding the SMTP password (instead of one in `smtp_url`).
    pub smtp_password_file: String,
    /// The From address of mail of tenants that set none (`Name <address>` or an address).
    pub mail_from: String,
    /// How the mail delivery worker paces itself.
    pub mail: crate::mail::Delivery,
    /// Password reset and address confirmation links: lifetimes and limits.
    pub account_email: crate::domain::account_email::AccountEmail,
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
            trusted_proxies: Vec::new(),
            sign_in: crate::limits::SignInLimits::default(),
            smtp_url: String::new(),
            smtp_password_file: String::new(),
            mail_from: "Castellan <noreply@localhost>".into(),
            mail: crate::mail::Delivery::default(),
            account_email: crate::domain::account_email::AccountEmail::default(),
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
            .field("trusted_proxies", &self.trusted_proxies)
            .field("sign_in", &self.sign_in)
            .field("smtp_url", &redact_url(&self.smtp_url))
            .field("smtp_password_file", &self.smtp_password_file)
            .field("mail_from", &self.mail_from)
            .field("mail", &self.mail)
            .field("account_email", &self.account_email)
            .finish()
    }
}

fn bad_env(name: &str, value: &str) -> String {
    format!("CASTELLAN_SIGN_IN__{name}: `{value}` is not a valid value")
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
    /// The SMTP password from `smtp_password_file`, when one is named.
    pub fn smtp_password(&self) -> Result<Option<String>, String> {
        if self.smtp_password_file.is_empty() {
            return Ok(None);
        }
        std::fs::read_to_string(&self.smtp_password_file)
            .map(|p| Some(p.trim_end_matches(['\r', '\n']).to_string()))
            .map_err(|e| {
                format!(
                    "cannot read smtp_password_file {}: {e}",
                    self.smtp_password_file
                )
            })
    }

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
        cfg.apply_limits_env(|k| std::env::var(k).ok())?;
        cfg.trusted_proxy_ranges()?;
        cfg.sign_in.validate()?;
        cfg.account_email.validate()?;
        crate::mail::transport::Transport::new(&cfg.smtp_url, None)?;
        Ok(cfg)
    }

    /// `trusted_proxies` parsed (an error names the bad entry).
    pub fn trusted_proxy_ranges(&self) -> Result<Vec<crate::limits::Cidr>, String> {
        self.trusted_proxies
            .iter()
            .map(|s| crate::limits::Cidr::parse(s))
            .collect()
    }

    /// `CASTELLAN_TRUSTED_PROXIES` (comma-separated) and `CASTELLAN_SIGN_IN__<KEY>`.
    fn apply_limits_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), String> {
        if let Some(v) = get("CASTELLAN_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        let l = &mut self.sign_in;
        let numbers: [(&str, &mut u64); 4] = [
            ("DEVICE_COOKIE_DAYS", &mut l.device_cookie_days),
            ("WAIT_INCREMENT_SECS", &mut l.wait_increment_secs),
            ("MAX_WAIT_SECS", &mut l.max_wait_secs),
            ("FAILURE_RESET_SECS", &mut l.failure_reset_secs),
        ];
        for (name, field) in numbers {
            if let Some(v) = get(&format!("CASTELLAN_SIGN_IN__{name}")) {
                *field = v.trim().parse().map_err(|_| bad_env(name, &v))?;
            }
        }
        let counts: [(&str, &mut u32); 5] = [
            ("TRUSTED_HASH_QUEUE", &mut l.trusted_hash_queue),
            ("FAILURE_FACTOR", &mut l.failure_factor),
            ("MAX_FAILURES", &mut l.max_failures),
            ("ADDRESS_FAILURE_FACTOR", &mut l.address_failure_factor),
            ("HASH_QUEUE", &mut l.hash_queue),
        ];
        for (name, field) in counts {
            if let Some(v) = get(&format!("CASTELLAN_SIGN_IN__{name}")) {
                *field = v.trim().parse().map_err(|_| bad_env(name, &v))?;
            }
        }
        if let Some(v) = get("CASTELLAN_SIGN_IN__PERMANENT_LOCKOUT") {
            l.permanent_lockout = v
                .trim()
                .parse()
                .map_err(|_| bad_env("PERMANENT_LOCKOUT", &v))?;
        }
        Ok(())
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), String> {
        let fields: [(&str, &mut String); 6] = [
            ("SMTP_URL", &mut self.smtp_url),
            ("MAIL_FROM", &mut self.mail_from),
            ("LISTEN", &mut self.listen),
            ("PUBLIC_URL", &mut self.public_url),
            ("DATABASE_URL", &mut self.database_url),
            ("BOOTSTRAP_OWNER_EMAIL", &mut self.bootstrap_owner_email),
        ];
        // A path, not a secret: CASTELLAN_MASTER_KEY_FILE names the key file.
        if let Some(path) = get("CASTELLAN_MASTER_KEY_FILE") {
            self.master_key_file = path;
        }
        // A path too: the SMTP password is read from it when mail is sent.
        if let Some(path) = get("CASTELLAN_SMTP_PASSWORD_FILE") {
            self.smtp_password_file = path;
        }
        let mail: [(&str, &mut u64); 4] = [
            ("POLL_MS", &mut self.mail.poll_ms),
            ("LEASE_SECS", &mut self.mail.lease_secs),
            ("RETRY_BASE_SECS", &mut self.mail.retry_base_secs),
            ("RETRY_MAX_SECS", &mut self.mail.retry_max_secs),
        ];
        for (name, field) in mail {
            if let Some(v) = get(&format!("CASTELLAN_MAIL__{name}")) {
                *field = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("CASTELLAN_MAIL__{name}: `{v}` is not a valid value"))?;
            }
        }
        if let Some(v) = get("CASTELLAN_MAIL__MAX_ATTEMPTS") {
            self.mail.max_attempts = v
                .trim()
                .parse()
                .map_err(|_| format!("CASTELLAN_MAIL__MAX_ATTEMPTS: `{v}` is not a valid value"))?;
        }
        let links = &mut self.account_email;
        let account_email: [(&str, &mut u32); 4] = [
            ("RESET_LINK_MINUTES", &mut links.reset_link_minutes),
            ("CONFIRM_LINK_HOURS", &mut links.confirm_link_hours),
            ("RESETS_PER_ADDRESS", &mut links.resets_per_address),
            ("RESETS_PER_CLIENT", &mut links.resets_per_client),
        ];
        for (name, field) in account_email {
            if let Some(v) = get(&format!("CASTELLAN_ACCOUNT_EMAIL__{name}")) {
                *field = v.trim().parse().map_err(|_| {
                    format!("CASTELLAN_ACCOUNT_EMAIL__{name}: `{v}` is not a valid value")
                })?;
            }
        }
        if let Some(v) = get("CASTELLAN_ACCOUNT_EMAIL__WINDOW_SECS") {
            links.window_secs = v.trim().parse().map_err(|_| {
                format!("CASTELLAN_ACCOUNT_EMAIL__WINDOW_SECS: `{v}` is not a valid value")
            })?;
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
    fn sign_in_limits_from_file_and_environment() {
        let c: Config = toml::from_str(
            "trusted_proxies = ['10.0.0.0/8']\n[sign_in]\nfailure_factor = 3\nhash_queue = 4",
        )
        .unwrap();
        assert_eq!(c.sign_in.failure_factor, 3);
        assert_eq!(c.sign_in.max_failures, 100, "the rest keep their defaults");
        assert_eq!(c.trusted_proxy_ranges().unwrap().len(), 1);
        assert!(toml::from_str::<Config>("[sign_in]\nfailure_factr = 3").is_err());
        let mut c = Config::default();
        c.apply_limits_env(|k| match k {
            "CASTELLAN_TRUSTED_PROXIES" => Some("10.0.0.1, fd00::/8".into()),
            "CASTELLAN_SIGN_IN__HASH_QUEUE" => Some("7".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.trusted_proxies, ["10.0.0.1", "fd00::/8"]);
        assert_eq!(c.sign_in.hash_queue, 7);
        assert!(
            c.apply_limits_env(|k| (k == "CASTELLAN_SIGN_IN__MAX_FAILURES").then(|| "x".into()))
                .is_err()
        );
        let bad = Config {
            trusted_proxies: vec!["10.0.0.0/40".into()],
            ..Config::default()
        };
        assert!(bad.trusted_proxy_ranges().is_err());
    }

    /// The reference file parses, and its brute-force keys say the defaults.
    #[test]
    fn reference_file_states_the_sign_in_defaults() {
        let c: Config = toml::from_str(include_str!("../config/castellan.toml")).unwrap();
        assert_eq!(c.sign_in, crate::limits::SignInLimits::default());
        assert_eq!(c.mail, crate::mail::Delivery::default());
        assert_eq!(
            c.account_email,
            crate::domain::account_email::AccountEmail::default()
        );
        assert_eq!(c.mail_from, Config::default().mail_from);
        assert!(c.trusted_proxies.is_empty());
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
