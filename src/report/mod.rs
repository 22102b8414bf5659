//! Reporting: one outcome per group (and per held-back row), written so that an operator can fix
//! and re-run, and so that Excel opens it safely.
//!
//! The CSV columns are a contract: `organization_id, group_id, group_name, status, attempts,
//! error, sources`. `check --format csv` writes the same columns with `planned` and `invalid`.

pub mod csv;
pub mod json;
pub mod xlsx;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::normalize::{Plan, Source};

/// What happened to one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The server confirmed it.
    Added,
    /// Sent, not confirmed; the error says why.
    Failed,
    /// Held back by the normalizer (conflict or bad row).
    Invalid,
    /// Skipped: the state says it is already there with this name.
    Unchanged,
    /// Dry run: would be sent.
    Planned,
    /// In the state from an earlier run but not in today's export (Velt has no delete-group
    /// call: nothing is removed).
    Stale,
    /// Memberships only: the user was removed from the group.
    Removed,
    /// Memberships only: not sent, for the reason in `error` (a removal above `--max-removals`).
    Skipped,
}

impl Status {
    /// The word written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Failed => "failed",
            Status::Invalid => "invalid",
            Status::Unchanged => "unchanged",
            Status::Planned => "planned",
            Status::Stale => "stale",
            Status::Removed => "removed",
            Status::Skipped => "skipped",
        }
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The organization.
    pub organization_id: String,
    /// The group ID (empty for a row too broken to have one).
    pub group_id: String,
    /// The group name.
    pub group_name: String,
    /// What happened.
    pub status: Status,
    /// Requests that carried this group.
    pub attempts: u32,
    /// Why it is not added, in plain words.
    pub error: String,
    /// The input rows behind it.
    pub sources: Vec<Source>,
}

/// One membership's row in the members part of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberOutcome {
    /// The organization.
    pub organization_id: String,
    /// The group.
    pub group_id: String,
    /// The user.
    pub user_id: String,
    /// `add` or `remove`.
    pub action: &'static str,
    /// What happened (`added`, `removed`, `failed`, `unchanged`, `planned`, `skipped`).
    pub status: Status,
    /// Requests that carried it.
    pub attempts: u32,
    /// Why it did not happen.
    pub error: String,
    /// The row naming the user in this group (none for a removal).
    pub sources: Vec<Source>,
}

/// The outcomes a plan implies before anything is sent: every group `planned`, every
/// conflicting name and every held-back row `invalid`; sorted by organization and group.
pub fn planned(plan: &Plan) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(plan.group_count() + plan.invalid.len());
    for org in &plan.organizations {
        for g in &org.groups {
            out.push(Outcome {
                organization_id: org.id.clone(),
                group_id: g.id.clone(),
                group_name: g.name.clone(),
                status: Status::Planned,
                attempts: 0,
                error: String::new(),
                sources: g.sources.clone(),
            });
        }
    }
    for c in &plan.conflicts {
        let others: Vec<&str> = c.names.iter().map(|(n, _)| n.as_str()).collect();
        for (name, sources) in &c.names {
            out.push(Outcome {
                organization_id: c.organization_id.clone(),
                group_id: c.group_id.clone(),
                group_name: name.clone(),
                status: Status::Invalid,
                attempts: 0,
                error: format!(
                    "conflict: group ID '{}' is claimed by {}",
                    c.group_id,
                    quote_all(&others)
                ),
                sources: sources.clone(),
            });
        }
    }
    for r in &plan.invalid {
        out.push(Outcome {
            organization_id: r.organization_id.clone(),
            group_id: String::new(),
            group_name: r.name.trim().to_owned(),
            status: Status::Invalid,
            attempts: 0,
            error: r.message.clone(),
            sources: vec![r.source],
        });
    }
    out.sort_by(|a, b| {
        (&a.organization_id, &a.group_id, &a.sources).cmp(&(&b.organization_id, &b.group_id, &b.sources))
    });
    out
}

/// Counts and figures of a run, printed at the end and written with the JSON report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Per organization, the number of groups in each status.
    pub organizations: BTreeMap<String, BTreeMap<&'static str, usize>>,
    /// Requests sent.
    pub requests: u64,
    /// Retries among them.
    pub retries: u64,
    /// Wall time of the upload, in seconds.
    pub elapsed_seconds: f64,
    /// Requests per second achieved.
    pub achieved_rate: f64,
    /// Why the run stopped early, if it did.
    pub stopped: Option<String>,
    /// Where the report is.
    pub report: Option<String>,
    /// With `--members`: per organization, the number of memberships in each status.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub memberships: BTreeMap<String, BTreeMap<&'static str, usize>>,
}

impl Summary {
    /// Counts the outcomes per organization and status.
    pub fn count(outcomes: &[Outcome]) -> Self {
        let mut s = Summary::default();
        for o in outcomes {
            *s.organizations
                .entry(o.organization_id.clone())
                .or_default()
                .entry(o.status.as_str())
                .or_default() += 1;
        }
        s
    }

    /// Counts memberships per organization and status.
    pub fn count_members(&mut self, members: &[MemberOutcome]) {
        for m in members {
            *self
                .memberships
                .entry(m.organization_id.clone())
                .or_default()
                .entry(m.status.as_str())
                .or_default() += 1;
        }
    }
}

/// The formats a report can be written in, chosen by the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// UTF-8 CSV with a BOM.
    Csv,
    /// JSON with the summary.
    Json,
    /// An Excel workbook.
    Xlsx,
}

/// Owns the report's path: checks it up front (a bad path fails before anything is sent) and
/// replaces the file whole each time it is written, so a reader never sees half a report.
#[derive(Debug, Clone)]
pub struct ReportFile {
    path: PathBuf,
    format: Format,
    /// Whether the path was created by the early check (and so is ours to remove unused).
    placeholder: bool,
}

impl ReportFile {
    /// `path`, or `velt-groups-report-<UTC time>.csv` in the current directory.
    pub fn new(path: Option<PathBuf>) -> Result<Self, String> {
        let path = path.unwrap_or_else(|| {
            let now = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ");
            PathBuf::from(format!("velt-groups-report-{now}.csv"))
        });
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let format = match ext.as_deref() {
            Some("csv") => Format::Csv,
            Some("json") => Format::Json,
            Some("xlsx") => Format::Xlsx,
            _ => {
                return Err(format!(
                    "cannot write the report to {}: name it .csv, .json or .xlsx",
                    path.display()
                ))
            }
        };
        let placeholder = !path.exists();
        let report = ReportFile {
            path,
            format,
            placeholder,
        };
        // Prove now that the file can be created, not after an hour of uploading.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&report.path)
            .map_err(|e| report.error(e))?;
        Ok(report)
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the empty file the early check created, when the run stopped before a report
    /// was written (a validation failure must not leave an empty "report" behind).
    pub fn discard_placeholder(&self) {
        let empty = std::fs::metadata(&self.path).is_ok_and(|m| m.len() == 0);
        if self.placeholder && empty {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    fn error(&self, e: std::io::Error) -> String {
        format!("cannot write the report to {}: {e}", self.path.display())
    }

    /// Writes the whole report (to a temporary file beside it, then renamed over it).
    pub fn write(
        &self,
        plan: &Plan,
        outcomes: &[Outcome],
        members: Option<&[MemberOutcome]>,
        summary: &Summary,
    ) -> Result<(), String> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp"));
        let written = std::fs::File::create(&tmp).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            match self.format {
                Format::Csv => csv::write(plan, outcomes, &mut w, true)?,
                Format::Json => json::write(plan, outcomes, members, summary, &mut w)?,
                Format::Xlsx => {
                    w.write_all(&xlsx::to_bytes(plan, outcomes, members).map_err(std::io::Error::other)?)?
                }
            }
            w.flush()?;
            w.get_ref().sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &self.path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.error(e));
        }
        // CSV has one table per file: the memberships go beside it, `<name>-members.csv`.
        if let (Format::Csv, Some(members)) = (self.format, members) {
            let path = self.members_path();
            let written = std::fs::File::create(&path).and_then(|f| {
                let mut w = std::io::BufWriter::new(f);
                csv::write_members(plan, members, &mut w)?;
                w.flush()
            });
            written.map_err(|e| format!("cannot write the report to {}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// `<report>-members.csv`, beside a CSV report.
    pub fn members_path(&self) -> PathBuf {
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.path.with_file_name(format!("{stem}-members.csv"))
    }
}

fn quote_all(names: &[&str]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(" and ")
}

/// Makes a cell safe to open in a spreadsheet (OWASP CSV injection): text that a spreadsheet
/// would run as a formula gets a leading `'`, which Excel shows as plain text.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    if crate::normalize::slug::looks_like_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralizes_formula_leaders() {
        for (cell, want) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Sales", "Sales"),
            ("R&D = fun", "R&D = fun"),
        ] {
            assert_eq!(neutralize(cell), want);
        }
    }
}
