//! CSV import of users: [`parse`] reads the file, [`wanted`] and [`plan`] turn each row into a
//! creation, changes, "unchanged" or a refusal without writing, [`apply`] carries out the plan
//! through the admin API's service functions. A dry run stops after planning.

pub mod apply;
mod lease;
pub mod matching;
pub mod parse;
pub mod plan;
pub mod wanted;

use crate::admin::invitations::Outlet;
use crate::domain::authz::Caller;
use crate::domain::*;
use crate::oidc::logout::Notifier;
use crate::store::Store;
use matching::{Found, Matches};
use parse::{Column, ImportFile, Mapping, Record};
use plan::{Plan, plan_row};
use serde::Serialize;
use std::collections::HashMap;
use wanted::{Catalogue, Wanted};

/// How to run an import.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Plan and report; write nothing.
    pub dry_run: bool,
    /// Any refused row stops the import before anything is written.
    pub all_or_nothing: bool,
    pub mapping: Mapping,
    /// Send each created `invited` user their invitation.
    pub invite: bool,
    /// Invitations go by mail (an SMTP server is configured); without, their links are
    /// written to the log for the administrator, as `admin::invitations::send` does.
    pub mail: bool,
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
/// is decided (nothing of the report is kept here). A file that cannot be read as a whole (not
/// UTF-8, unknown column...) is an error; a bad row is a refused line of the report.
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
    let ctx = Pass {
        store,
        notifier,
        caller,
        cat: &cat,
        file: &file,
        invite: options.invite.then_some(Outlet {
            public_url: notifier.public_url,
            mail: options.mail,
        }),
    };
    let mut counts = Counts::default();
    if options.dry_run {
        ctx.run(false, |r| {
            counts.add(r.outcome);
            on_row(&r);
        })
        .await;
        return Ok(counts);
    }
    let write = async {
        if options.all_or_nothing {
            // A first pass only counts; when a row is refused, a second one reports (planning
            // again rather than holding every row's report).
            ctx.run(false, |r| counts.add(r.outcome)).await;
            if counts.refused > 0 {
                let mut out = Counts::default();
                ctx.run(false, |mut r| {
                    if r.outcome != Outcome::Refused {
                        r.reason = "not applied: other rows were refused (all or nothing)".into();
                        r.outcome = Outcome::Skipped;
                    }
                    out.add(r.outcome);
                    on_row(&r);
                })
                .await;
                return out;
            }
            counts = Counts::default();
        }
        ctx.run(true, |r| {
            counts.add(r.outcome);
            on_row(&r);
        })
        .await;
        counts
    };
    lease::exclusively(store, caller.tenant_id(), write).await
}

/// Rows planned, then applied, together: the creations go to the store in one transaction.
const CHUNK: usize = 1000;

/// What a pass over the file works with.
struct Pass<'a> {
    store: &'a Store,
    notifier: Notifier<'a>,
    caller: &'a Caller,
    cat: &'a Catalogue,
    file: &'a ImportFile<'a>,
    invite: Option<Outlet<'a>>,
}

impl Pass<'_> {
    /// One pass over the file: each row planned and, with `write`, applied, a chunk at a time.
    async fn run(&self, write: bool, mut out: impl FnMut(ReportRow)) {
        // The first line of each email and external id: a later one is a duplicate.
        let mut seen: HashMap<(bool, String), u64> = HashMap::new();
        let mut records = self.file.records();
        let (mut chunks, mut next_statistics) = (0u64, 1u64);
        loop {
            let chunk: Vec<_> = records.by_ref().take(CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            let (rows, plans) = self.plan_chunk(&mut seen, chunk).await;
            let decided = if write {
                let (store, caller) = (self.store, self.caller);
                apply::chunk(store, self.notifier, caller, self.invite, plans).await
            } else {
                plans.into_iter().map(|p| p.map(|p| p.outcome())).collect()
            };
            chunks += 1;
            if write && chunks == next_statistics {
                // The tables grow under the import: the planner learns their new sizes after
                // the first chunk, then each time they have doubled.
                if let Err(e) = self.store.refresh_statistics().await {
                    tracing::warn!(error = %e, "the planner's statistics could not be refreshed");
                }
                next_statistics *= 2;
            }
            for (mut row, d) in rows.into_iter().zip(decided) {
                match d {
                    Ok(outcome) => row.outcome = outcome,
                    Err(e) => row.reason = e,
                }
                out(row);
            }
        }
    }

    /// Each record's report line (refused until decided) and plan: the wishes read, duplicates
    /// found, the users of the whole chunk matched at once, then each row planned.
    async fn plan_chunk(
        &self,
        seen: &mut HashMap<(bool, String), u64>,
        chunk: Vec<Record>,
    ) -> (Vec<ReportRow>, Vec<std::result::Result<Plan, String>>) {
        let file = self.file;
        let mut rows = Vec::with_capacity(chunk.len());
        let mut wishes = Vec::with_capacity(chunk.len());
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
            wishes.push(match &record.cells {
                Err(e) => Err(e.clone()),
                Ok(cells) => match duplicate(seen, &row) {
                    Some(e) => Err(e),
                    None => Wanted::read(self.cat, file, cells),
                },
            });
            rows.push(row);
        }
        let (matched, found) = match self.matches(&wishes).await {
            Ok(m) => m,
            Err(e) => return (rows, wishes.iter().map(|_| Err(e.clone())).collect()),
        };
        let mut plans = Vec::with_capacity(wishes.len());
        for (wanted, id) in wishes.into_iter().zip(matched) {
            let user = match id {
                Ok(Some(id)) => found.get(&id).map(Some),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
            plans.push(match (wanted, user) {
                (Err(e), _) | (_, Err(e)) => Err(e),
                (Ok(w), Ok(user)) => {
                    plan_row(self.store, self.caller, self.cat, file, w, user).await
                }
            });
        }
        (rows, plans)
    }

    /// The user each wish matched (or why it cannot be said), and those users read.
    async fn matches(
        &self,
        wishes: &[std::result::Result<Wanted, String>],
    ) -> std::result::Result<(Vec<std::result::Result<Option<UserId>, String>>, Found), String>
    {
        let keys: Vec<(&str, Option<&str>)> = wishes
            .iter()
            .filter_map(|w| w.as_ref().ok())
            .map(|w| (w.create.email.as_str(), w.create.external_id.as_deref()))
            .collect();
        let matches = Matches::load(self.store, self.caller.tenant_id(), &keys).await?;
        let matched: Vec<_> = wishes
            .iter()
            .map(|w| match w {
                Ok(w) => matches.find(&w.create.email, w.create.external_id.as_deref()),
                Err(_) => Ok(None),
            })
            .collect();
        let mut ids: Vec<UserId> = matched
            .iter()
            .filter_map(|m| m.as_ref().ok().cloned().flatten())
            .collect();
        ids.sort();
        ids.dedup();
        let found = Found::load(self.store, self.caller, &ids).await?;
        Ok((matched, found))
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
