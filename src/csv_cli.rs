//! `castellan import users` and `castellan export users`: the CSV import and export of
//! `admin::import` and `admin::export` on the configured database, acting as the CLI.

use crate::admin::export::Export;
use crate::admin::import::{self, Counts, Options, REPORT_HEADER, parse::Mapping};
use crate::admin::invitations::Outlet;
use crate::config::Config;
use crate::oidc::Provider;
use crate::oidc::logout::Notifier;
use crate::store::Store;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Creates and updates users from a CSV file (UTF-8, `,` or `;`); prints a per-row report.
    Users {
        #[arg(long)]
        tenant: String,
        /// The CSV file; its header names the columns (see README: CSV import and export).
        file: PathBuf,
        /// Plans and reports, writes nothing.
        #[arg(long)]
        dry_run: bool,
        /// Renames the spreadsheet's headers: one `Spreadsheet header = column` per line.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Any refused row stops the import before anything is written.
        #[arg(long)]
        all_or_nothing: bool,
        /// Where the per-row report (CSV) goes; stdout when absent.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Sends each created `invited` user their invitation (by mail when `smtp_url` is set,
        /// else each link is written to the log).
        #[arg(long)]
        invite: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Writes the tenant's users as CSV (the import's columns) on stdout.
    Users {
        #[arg(long)]
        tenant: String,
    },
}

/// Runs `castellan import users`.
pub async fn import(store: &Store, config: &Config, command: ImportCommand) -> Result<(), String> {
    let ImportCommand::Users {
        tenant,
        file,
        dry_run,
        mapping,
        all_or_nothing,
        report,
        invite,
    } = command;
    let public_url = config.public_url.as_str();
    let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mapping = match mapping {
        Some(path) => {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            Mapping::parse(&text).map_err(|e| e.to_string())?
        }
        None => Mapping::default(),
    };
    let options = Options {
        dry_run,
        all_or_nothing,
        mapping,
        invite,
        mail: Outlet::of(config).mail,
    };
    let sink: Box<dyn Write> = match &report {
        Some(path) => {
            Box::new(std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = csv::Writer::from_writer(sink);
    out.write_record(REPORT_HEADER).map_err(|e| e.to_string())?;
    let caller = crate::cli::cli_caller(crate::cli::tenant_named(store, &tenant).await?);
    let bar = progress_bar(import::parse::count_records(&bytes));
    let provider = Provider::default();
    let notifier = Notifier {
        provider: &provider,
        public_url,
    };
    let mut write_error = None;
    let counts = import::run(store, notifier, &caller, &bytes, &options, |row| {
        bar.inc(1);
        if let Err(e) = out.write_record(row.cells()) {
            write_error.get_or_insert(e.to_string());
        }
    })
    .await
    .map_err(|e| e.to_string());
    bar.finish_and_clear();
    out.flush().map_err(|e| e.to_string())?;
    let counts = counts?;
    if let Some(e) = write_error {
        return Err(format!("the report could not be written: {e}"));
    }
    eprintln!("{}", summary(&counts, dry_run));
    if all_or_nothing && counts.refused > 0 {
        return Err(format!(
            "nothing imported: {} rows refused (--all-or-nothing)",
            counts.refused
        ));
    }
    Ok(())
}

fn progress_bar(rows: u64) -> ProgressBar {
    // On stderr, and hidden by indicatif when stderr is not a terminal.
    let bar = ProgressBar::new(rows);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// One line saying what happened, for stderr.
pub fn summary(c: &Counts, dry_run: bool) -> String {
    format!(
        "{}{} rows: {} created, {} updated, {} unchanged, {} refused{}",
        if dry_run {
            "dry run, nothing written: "
        } else {
            ""
        },
        c.rows,
        c.created,
        c.updated,
        c.unchanged,
        c.refused,
        if c.skipped > 0 {
            format!(", {} skipped", c.skipped)
        } else {
            String::new()
        }
    )
}

/// Runs `castellan export users`.
pub async fn export(store: &Store, command: ExportCommand) -> Result<(), String> {
    let ExportCommand::Users { tenant } = command;
    let caller = crate::cli::cli_caller(crate::cli::tenant_named(store, &tenant).await?);
    let export = Export::start(store.clone(), caller)
        .await
        .map_err(|e| e.to_string())?;
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    export
        .write_all(|chunk| {
            stdout
                .write_all(chunk)
                .map_err(|e| crate::domain::DomainError::Internal(e.to_string()))
        })
        .await
        .map_err(|e| e.to_string())?;
    stdout.flush().map_err(|e| e.to_string())
}
