//! CSV import of users: [`parse`] reads the file, [`wanted`] and [`plan`] turn each row into a
//! creation, changes, "unchanged" or a refusal without writing, [`apply`] carries out the plan
//! through the admin API's service functions. A dry run stops after planning.

pub mod apply;
pub mod parse;
pub mod plan;
pub mod wanted;

use crate::domain::authz::Caller;
use crate::domain::*;
use crate::oidc::logout::Notifier;
use crate::store::Store;
use parse::{Column, ImportFile, Mapping};
use plan::plan_row;
use serde::Serialize;
use std::collections::HashMap;
use wanted::Catalogue;

/// How to run an import.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Plan and report; write nothing.
    pub dry_run: bool,
    /// Any refused row stops the import before anything is written.
    pub all_or_nothing: bool,
    pub mapping: Mapping,
}

/// What happened (or, in a dry run, would happen) to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Create,
    Update,
    Unchanged,
    Refused,
    /// Valid, but not applied: another row was refused and the import was all or nothing.
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Create => "create",
            Outcome::Update => "update",
            Outcome::Unchanged => "unchanged",
            Outcome::Refused => "refused",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One line of the report.
#[derive(Clone, Debug)]
pub struct ReportRow {
    /// The line of the file the row starts on.
    pub line: u64,
    pub email: String,
    pub external_id: String,
    pub outcome: Outcome,
    pub reason: String,
}

/// The report's header, then [`ReportRow::cells`] per row.
pub const REPORT_HEADER: [&str; 5] = ["line", "email", "external_id", "outcome", "reason"];

impl ReportRow {
    pub fn cells(&self) -> [String; 5] {
        [
            self.line.to_string(),
            self.email.clone(),
            self.external_id.clone(),
            self.outcome.as_str().to_owned(),
            self.reason.clone(),
        ]
    }
}

/// Rows by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub refused: u64,
    pub skipped: u64,
}

impl Counts {
    pub fn add(&mut self, o: Outcome) {
        self.rows += 1;
        *match o {
            Outcome::Create => &mut self.created,
            Outcome::Update => &mut self.updated,
            Outcome::Unchanged => &mut self.unchanged,
            Outcome::Refused => &mut self.refused,
            Outcome::Skipped => &mut self.skipped,
        } += 1;
    }
}

/// Imports `bytes` into the caller's tenant, calling `on_row` with each row's report line as it
/// is decided. A file that cannot be read as a whole (not UTF-8, unknown column...) is an error;
/// a bad row is a refused line of the report.
pub async fn run(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &Caller,
    bytes: &[u8],
    options: &Options,
    mut on_row: impl FnMut(&ReportRow),
) -> Result<Counts> {
    caller.user_write_scope()?;
    let cat = Catalogue::load(store, caller.tenant_id()).await?;
    let keys: Vec<String> = cat.defs.iter().map(|d| d.key.clone()).collect();
    let file = ImportFile::open(bytes, &options.mapping, &keys)?;
    let mut counts = Counts::default();
    if options.dry_run || options.all_or_nothing {
        let mut rows = Vec::new();
        pass(store, notifier, caller, &cat, &file, false, |r| {
            counts.add(r.outcome);
            rows.push(r);
        })
        .await;
        if options.dry_run || counts.refused > 0 {
            let mut out = Counts::default();
            for mut r in rows {
                if !options.dry_run && r.outcome != Outcome::Refused {
                    r.reason = "not applied: other rows were refused (all or nothing)".into();
                    r.outcome = Outcome::Skipped;
                }
                out.add(r.outcome);
                on_row(&r);
            }
            return Ok(out);
        }
        counts = Counts::default();
    }
    pass(store, notifier, caller, &cat, &file, true, |r| {
        counts.add(r.outcome);
        on_row(&r);
    })
    .await;
    Ok(counts)
}

/// Rows planned, then applied, together: creations go to the store in one transaction.
const CHUNK: usize = 500;

/// One pass over the file: each row planned and, with `write`, applied, a chunk at a time.
async fn pass(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &Caller,
    cat: &Catalogue,
    file: &ImportFile<'_>,
    write: bool,
    mut out: impl FnMut(ReportRow),
) {
    // The first line of each email and external id: a later one is a duplicate.
    let mut seen: HashMap<(bool, String), u64> = HashMap::new();
    let mut records = file.records();
    loop {
        let chunk: Vec<_> = records.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        let (mut rows, mut plans) = (Vec::new(), Vec::new());
        for record in chunk {
            let cells = record.cells.as_deref().unwrap_or(&[]);
            let row = ReportRow {
                line: record.line,
                email: file.cell(cells, &Column::Email).unwrap_or("").to_owned(),
                external_id: file
                    .cell(cells, &Column::ExternalId)
                    .unwrap_or("")
                    .to_owned(),
                outcome: Outcome::Refused,
                reason: String::new(),
            };
            let planned = match &record.cells {
                Err(e) => Err(e.clone()),
                Ok(cells) => match duplicate(&mut seen, &row) {
                    Some(e) => Err(e),
                    None => plan_row(store, caller, cat, file, cells).await,
                },
            };
            rows.push(row);
            plans.push(planned);
        }
        let decided = if write {
            apply::chunk(store, notifier, caller, plans).await
        } else {
            plans.into_iter().map(|p| p.map(|p| p.outcome())).collect()
        };
        for (mut row, d) in rows.into_iter().zip(decided) {
            match d {
                Ok(outcome) => row.outcome = outcome,
                Err(e) => row.reason = e,
            }
            out(row);
        }
    }
}

fn duplicate(seen: &mut HashMap<(bool, String), u64>, row: &ReportRow) -> Option<String> {
    let keys = [
        (false, row.email.to_lowercase()),
        (true, row.external_id.clone()),
    ];
    for key in keys.iter().filter(|k| !k.1.is_empty()) {
        if let Some(first) = seen.get(key) {
            let what = if key.0 { "external id" } else { "email" };
            return Some(format!("duplicate: the same {what} as line {first}"));
        }
    }
    for key in keys.into_iter().filter(|k| !k.1.is_empty()) {
        seen.insert(key, row.line);
    }
    None
}
