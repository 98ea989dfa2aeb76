//! Background jobs of the admin API (CSV imports): their state and counts, pollable.

use super::clock::rfc3339_ms;
use super::ids::JobId;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// Rows of an import by what became of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    /// Rows in the file.
    pub total: i64,
    /// Rows decided so far.
    pub done: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub refused: i64,
    pub skipped: i64,
}

/// A job as the API shows it (its report is read apart).
#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub state: JobState,
    pub dry_run: bool,
    pub counts: JobCounts,
    /// Why a failed job failed (the whole file was refused, or an internal error).
    pub error: Option<String>,
    /// Who started it.
    pub started_by: String,
    /// The kind and id of who started it (their audit actor), to show them their own jobs.
    #[serde(skip)]
    pub started_by_id: (String, Option<String>),
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms")]
    pub updated_at: i64,
}
