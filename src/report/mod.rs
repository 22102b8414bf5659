//! Reporting: one outcome per group (and per held-back row, and per membership), written so
//! that an operator can fix and re-run, and so that Excel opens it safely.
//!
//! Every format implements [`Writer`] over the same [`Report`]; [`ReportFile`] owns the
//! output path, checks it before anything is sent, and replaces each file whole (a temporary
//! file beside it, then a rename), so a reader never sees half a report. The CSV columns are a
//! contract: `organization_id, group_id, group_name, status, attempts, error, sources`, and
//! with `--group-by` or `--hierarchy-separator` (at the end, so readers by position keep
//! working) `kind, path`.

pub mod csv;
pub mod json;
pub mod xlsx;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use crate::normalize::{self, Source};
use crate::plan::{GroupOutcome, MemberOutcome, Status, UserOutcome};

/// Everything a report shows.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// The normalized input, for naming source rows.
    pub input: &'a normalize::Plan,
    /// One row per group and held-back row.
    pub groups: &'a [GroupOutcome],
    /// With `--members`, one row per organization user.
    pub users: Option<&'a [UserOutcome]>,
    /// With `--members`, one row per membership.
    pub members: Option<&'a [MemberOutcome]>,
    /// The run's figures.
    pub summary: &'a Summary,
}

/// One report format.
pub trait Writer {
    /// Writes the report (or its part) to `out`.
    fn write(&self, report: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()>;
}

/// A cell of a tabular report (CSV, XLSX).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Text, as the data has it (formats neutralize formula leaders themselves).
    Text(Cow<'a, str>),
    /// A count.
    Number(u32),
    /// One source row, as `file [sheet] row N` ([`crate::normalize::write_row_name`]):
    /// written in place, where a string per row of a million would be made and freed.
    Row {
        /// The file.
        file: &'a str,
        /// The sheet, for spreadsheets.
        sheet: Option<&'a str>,
        /// The row a person sees.
        row: u32,
    },
}

impl Cell<'_> {
    /// The text a [`Cell::Row`] stands for, appended to `out`.
    pub fn write_row(&self, out: &mut String) {
        if let Cell::Row { file, sheet, row } = self {
            crate::normalize::write_row_name(out, file, *sheet, *row);
        }
    }
}

/// The groups part's columns, in contract order.
pub const GROUP_COLUMNS: [&str; 9] = [
    "organization_id",
    "group_id",
    "group_name",
    "status",
    "attempts",
    "error",
    "sources",
    "kind",
    "path",
];

/// The groups part's columns without `--group-by`: the contract as it was before kinds.
pub const PLAIN_GROUP_COLUMNS: [&str; 7] = [
    "organization_id",
    "group_id",
    "group_name",
    "status",
    "attempts",
    "error",
    "sources",
];

/// The users part's columns, in contract order.
pub const USER_COLUMNS: [&str; 8] = [
    "organization_id",
    "user_id",
    "name",
    "email",
    "status",
    "attempts",
    "error",
    "sources",
];

/// The members part's columns, in contract order.
pub const MEMBER_COLUMNS: [&str; 8] = [
    "organization_id",
    "group_id",
    "user_id",
    "action",
    "status",
    "attempts",
    "error",
    "sources",
];

impl<'a> Report<'a> {
    /// A group's row, in [`GROUP_COLUMNS`] order.
    pub fn group_row(&self, o: &'a GroupOutcome) -> [Cell<'a>; 9] {
        let text = |s: &'a str| Cell::Text(Cow::Borrowed(s));
        [
            text(&o.organization_id),
            text(&o.group_id),
            text(&o.group_name),
            text(o.status.as_str()),
            Cell::Number(o.attempts),
            Cell::Text(o.note()),
            Cell::Text(Cow::Owned(self.input.describe_sources(&o.sources))),
            text(o.kind.as_str()),
            text(o.path.as_deref().unwrap_or_default()),
        ]
    }

    /// A group's row without the kind and path, in [`PLAIN_GROUP_COLUMNS`] order.
    pub fn plain_group_row(&self, o: &'a GroupOutcome) -> [Cell<'a>; 7] {
        let [a, b, c, d, e, f, g, _, _] = self.group_row(o);
        [a, b, c, d, e, f, g]
    }

    /// An organization user's row, in [`USER_COLUMNS`] order.
    pub fn user_row(&self, u: &'a UserOutcome) -> [Cell<'a>; 8] {
        let text = |s: &'a str| Cell::Text(Cow::Borrowed(s));
        [
            text(&u.organization_id),
            text(&u.user_id),
            text(&u.name),
            text(&u.email),
            text(u.status.as_str()),
            Cell::Number(u.attempts),
            text(&u.error),
            self.row_cell(Some(u.source)),
        ]
    }

    /// A membership's row, in [`MEMBER_COLUMNS`] order.
    pub fn member_row(&self, m: &'a MemberOutcome) -> [Cell<'a>; 8] {
        let text = |s: &'a str| Cell::Text(Cow::Borrowed(s));
        [
            text(&m.organization_id),
            text(&m.group_id),
            text(&m.user_id),
            text(m.action.as_str()),
            text(m.status.as_str()),
            Cell::Number(m.attempts),
            text(&m.error),
            self.row_cell(m.source),
        ]
    }

    /// A person's source row (none: an empty cell).
    fn row_cell(&self, source: Option<Source>) -> Cell<'a> {
        match source {
            Some(s) => {
                let t = &self.input.tables[s.table as usize];
                Cell::Row {
                    file: &t.file,
                    sheet: t.sheet.as_deref(),
                    row: s.row,
                }
            }
            None => Cell::Text(Cow::Borrowed("")),
        }
    }

    /// Sources as `{"file", "sheet", "row"}` objects.
    pub fn source_objects(&self, sources: &[Source]) -> Vec<SourceRef<'a>> {
        sources
            .iter()
            .map(|s| {
                let t = &self.input.tables[s.table as usize];
                SourceRef {
                    file: &t.file,
                    sheet: t.sheet.as_deref(),
                    row: s.row,
                }
            })
            .collect()
    }
}

/// A source row as JSON shows it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SourceRef<'a> {
    /// The file.
    pub file: &'a str,
    /// The sheet, for spreadsheets.
    pub sheet: Option<&'a str>,
    /// The row a person sees.
    pub row: u32,
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
    /// 429 answers: how often the server asked to slow down.
    pub rate_limited: u64,
    /// Times `--rate auto` cut the pace because the server was slow: requests that timed
    /// out, or answers 504 or 408.
    pub slowed_down: u64,
    /// The rate in force at the end, requests per second (below `--rate` after 429s).
    pub final_rate: f64,
    /// Whether the rate was `--rate auto`.
    pub auto_rate: bool,
    /// The rate the run settled on, requests per second: the mean rate held after the first
    /// 429, or without any, the highest rate the server accepted. A `--rate` to pin a later
    /// run to. `null` when too few requests went to tell.
    pub settled_rate: Option<f64>,
    /// Why the run stopped early, if it did.
    pub stopped: Option<String>,
    /// Where the report is.
    pub report: Option<String>,
    /// With `--members`: per organization, the number of organization users in each status.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub users: BTreeMap<String, BTreeMap<&'static str, usize>>,
    /// With `--members`: per organization, the number of memberships in each status.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub memberships: BTreeMap<String, BTreeMap<&'static str, usize>>,
    /// With `--state`: the groups whose name the export changed by majority, as
    /// `acme/cafe renamed: 'Cafe' → 'Café'`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub renamed: Vec<String>,
    /// Rows left out, by reason (`EmploymentStatus 'Terminated'`, `Termination Date passed`,
    /// `not yet started`, `filtered`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub left_out: BTreeMap<String, usize>,
    /// With `--group-by` kinds other than the department: per kind, the number of groups in
    /// each status (over every organization).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub kinds: BTreeMap<String, BTreeMap<&'static str, usize>>,
    /// Per `--group-by` kind after the first: the rows with no value of it, whose person joins
    /// no group of that kind.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub without_group: BTreeMap<String, u64>,
}

impl Summary {
    /// Counts groups, organization users and memberships per organization and status.
    pub fn count(groups: &[GroupOutcome], users: Option<&[UserOutcome]>, members: Option<&[MemberOutcome]>) -> Self {
        let mut s = Summary::default();
        for o in groups {
            if let Some(note) = o.rename_note() {
                s.renamed.push(format!("{}/{} {note}", o.organization_id, o.group_id));
            }
            *s.organizations
                .entry(o.organization_id.clone())
                .or_default()
                .entry(o.status.as_str())
                .or_default() += 1;
        }
        // Per kind only when there is more than the department: today's summary unchanged.
        if groups.iter().any(|o| o.kind.as_str() != normalize::kind::DEPARTMENT) {
            for o in groups {
                *s.kinds
                    .entry(o.kind.to_string())
                    .or_default()
                    .entry(o.status.as_str())
                    .or_default() += 1;
            }
        }
        let users = users.into_iter().flatten();
        tally(&mut s.users, users.map(|u| (&*u.organization_id, u.status)));
        let members = members.into_iter().flatten();
        tally(&mut s.memberships, members.map(|m| (&*m.organization_id, m.status)));
        s
    }
}

/// Counts rows by organization and status. Rows come organization by organization, so a run
/// of one organization is counted in an array and added to the map once (a million rows of
/// five organizations); rows in any order still count right.
fn tally<'a>(
    counts: &mut BTreeMap<String, BTreeMap<&'static str, usize>>,
    rows: impl Iterator<Item = (&'a str, Status)>,
) {
    let mut add = |org: &str, n: &[usize; Status::ALL.len()]| {
        let per_org = match counts.get_mut(org) {
            Some(per_org) => per_org,
            None => counts.entry(org.to_owned()).or_default(),
        };
        for (status, &n) in Status::ALL.iter().zip(n).filter(|(_, &n)| n > 0) {
            *per_org.entry(status.as_str()).or_default() += n;
        }
    };
    let mut run: Option<(&str, [usize; Status::ALL.len()])> = None;
    for (org, status) in rows {
        match &mut run {
            Some((o, n)) if *o == org => n[status as usize] += 1,
            _ => {
                if let Some((o, n)) = &run {
                    add(o, n);
                }
                let mut n = [0; Status::ALL.len()];
                n[status as usize] = 1;
                run = Some((org, n));
            }
        }
    }
    if let Some((o, n)) = &run {
        add(o, n);
    }
}

/// A report (or summary) file that cannot be written.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The extension names no format.
    #[error("cannot write the report to {}: name it .csv, .json or .xlsx", .0.display())]
    Format(PathBuf),
    /// Creating, writing or renaming failed.
    #[error("cannot write the {what} to {}: {source}", path.display())]
    Io {
        /// `report` or `summary`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The formats a report can be written in, chosen by the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// UTF-8 CSV with a BOM; memberships in a second file beside it.
    Csv,
    /// JSON with the summary.
    Json,
    /// An Excel workbook; memberships on a second sheet.
    Xlsx,
}

/// Owns the report's path: checks it up front (a bad path fails before anything is sent) and
/// replaces the file whole each time it is written.
#[derive(Debug, Clone)]
pub struct ReportFile {
    path: PathBuf,
    format: Format,
}

impl ReportFile {
    /// `path`, or `velt-groups-report-<UTC time>.csv` in the current directory.
    pub fn new(path: Option<PathBuf>) -> Result<Self, ReportError> {
        let path = path.unwrap_or_else(|| {
            let now = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ");
            PathBuf::from(format!("velt-groups-report-{now}.csv"))
        });
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let format = match ext.as_deref() {
            Some("csv") => Format::Csv,
            Some("json") => Format::Json,
            Some("xlsx") => Format::Xlsx,
            _ => return Err(ReportError::Format(path)),
        };
        probe(&path).map_err(|source| ReportError::Io {
            what: "report",
            path: path.clone(),
            source,
        })?;
        Ok(ReportFile { path, format })
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<name>.fallback.csv` beside the report: where a report that failed after sending goes
    /// instead, in the plainest format, so the record of what was sent is not lost.
    pub fn fallback(&self) -> ReportFile {
        ReportFile {
            path: fallback_path(&self.path),
            format: Format::Csv,
        }
    }

    /// `<report>-<part>.csv`, beside a CSV report.
    fn part_path(&self, part: &str) -> PathBuf {
        part_path(&self.path, part)
    }

    /// Writes every part of the report, each replacing its file whole.
    pub fn write(&self, report: &Report<'_>) -> Result<(), ReportError> {
        let mut parts: Vec<(PathBuf, Box<dyn Writer + Send + Sync>)> = Vec::new();
        match self.format {
            Format::Csv => {
                parts.push((self.path.clone(), Box::new(csv::Groups { bom: true })));
                // CSV has one table per file: users and memberships go beside it.
                if report.users.is_some() {
                    parts.push((self.part_path("users"), Box::new(csv::Users)));
                }
                if report.members.is_some() {
                    parts.push((self.part_path("members"), Box::new(csv::Members)));
                }
            }
            Format::Json => parts.push((self.path.clone(), Box::new(json::Json))),
            Format::Xlsx => parts.push((self.path.clone(), Box::new(xlsx::Xlsx))),
        }
        // The parts at once, each on a thread of its own: a million people's users and
        // memberships are two files of a hundred megabytes, and the machine has cores for both.
        let written: Vec<std::io::Result<()>> = std::thread::scope(|scope| {
            let running: Vec<_> = parts
                .iter()
                .map(|(path, writer)| scope.spawn(move || write_atomic(path, |out| writer.write(report, out))))
                .collect();
            running
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        });
        for ((path, _), result) in parts.into_iter().zip(written) {
            result.map_err(|source| ReportError::Io {
                what: "report",
                path,
                source,
            })?;
        }
        Ok(())
    }
}

/// Every file a report at `report` may write: itself, the CSV parts beside it, its fallback
/// and the fallback's parts. Checked against the inputs and the other outputs up front.
pub fn files(report: &Path) -> Vec<PathBuf> {
    let fallback = fallback_path(report);
    let mut files = vec![report.to_owned()];
    for path in [report, fallback.as_path()] {
        files.extend(["users", "members"].map(|part| part_path(path, part)));
    }
    files.push(fallback);
    files
}

fn fallback_path(report: &Path) -> PathBuf {
    let stem = report
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    report.with_file_name(format!("{stem}.fallback.csv"))
}

/// `<report>-<part>.csv`.
fn part_path(report: &Path, part: &str) -> PathBuf {
    let stem = report
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    report.with_file_name(format!("{stem}-{part}.csv"))
}

/// Proves a file can be written there, without leaving anything behind: an existing file must
/// open for writing, and a new one's folder must take a file.
fn probe(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return std::fs::OpenOptions::new().append(true).open(path).map(drop);
    }
    // Dropped (removed) at once.
    temp_beside(path).map(drop)
}

/// A new file beside `path`, under a name no other file has (created exclusively, never
/// through a symlink): a fixed name such as `.report.csv.tmp` would truncate, then rename
/// away, whatever file or link already had it, an input or the config among them. Its mode
/// is what `File::create` gives (the umask decides), so a metrics file stays readable by the
/// exporter that collects it.
fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(folder)
}

/// Writes a file whole: to a temporary file beside it, synced, then renamed over it, so a
/// reader (or a `kill -9`) never leaves half a file behind.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<()> {
    let tmp = temp_beside(path)?;
    // A report of a million rows is 100 MB: written in 8 KiB calls, the calls alone cost a
    // tenth of a second.
    let mut w = std::io::BufWriter::with_capacity(256 << 10, tmp);
    write(&mut w)?;
    w.flush()?;
    let tmp = w.into_inner().map_err(|e| e.into_error())?;
    tmp.as_file().sync_all()?;
    // On failure the temporary file is dropped, so removed.
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

/// Checks up front that the summary can be written at `path`, as [`ReportFile::new`] does for
/// the report, so a bad path fails before anything is sent.
pub fn check_summary(path: &Path) -> Result<(), ReportError> {
    probe(path).map_err(|source| ReportError::Io {
        what: "summary",
        path: path.to_owned(),
        source,
    })
}

/// Writes the summary as JSON for schedulers.
pub fn write_summary(path: &Path, summary: &Summary) -> Result<(), ReportError> {
    write_atomic(path, |out| {
        serde_json::to_writer_pretty(&mut *out, summary)?;
        writeln!(out)
    })
    .map_err(|source| ReportError::Io {
        what: "summary",
        path: path.to_owned(),
        source,
    })
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
    fn rows_are_counted_by_organization_and_status_in_any_order() {
        let mut counts = BTreeMap::new();
        let rows = [
            ("acme", Status::Unchanged),
            ("acme", Status::Added),
            ("acme", Status::Unchanged),
            ("labs", Status::LeftOut),
            ("acme", Status::Failed),
        ];
        tally(&mut counts, rows.into_iter());
        tally(&mut counts, [("labs", Status::LeftOut)].into_iter());
        let want: BTreeMap<String, BTreeMap<&str, usize>> = [
            (
                "acme".to_owned(),
                [("added", 1), ("failed", 1), ("unchanged", 2)].into(),
            ),
            ("labs".to_owned(), [("left-out", 2)].into()),
        ]
        .into();
        assert_eq!(counts, want);
    }

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

    #[test]
    fn the_early_check_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        ReportFile::new(Some(path.clone())).unwrap();
        assert!(!path.exists(), "no empty report before the run has one");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let err = ReportFile::new(Some(dir.path().join("nope/r.csv"))).unwrap_err();
        assert!(err.to_string().starts_with("cannot write the report to "), "{err}");
    }
}
