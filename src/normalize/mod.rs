//! Normalizing: mapped rows in, the exact `groupId`/`groupName` pairs to send out, per
//! organization, with every row that asked for each group and every problem found on the way.
//!
//! Rules (each has a test in `tests.rs`, `decide/tests.rs` or `diagnose/tests.rs`):
//! - The ID comes from the department code when an ID column is mapped (the code is the stable
//!   key, so a renamed department keeps its group), else from the name ([`slug::name_id`]).
//! - Spellings of one name ([`same`]: they differ only in case, white space, accents,
//!   compatibility forms, word-separating punctuation, or `&` for `and`) are one group,
//!   displayed with the spelling used most often (ties: a fixed rule, never the
//!   row order); the spellings are a warning. Names that make one ID but differ otherwise
//!   (`C++` / `C#`) are a conflict. With [`Options::strict_names`] only case and white space
//!   variants merge.
//! - With codes, a code carrying several names (or a name several codes) is settled by a clear
//!   majority ([`diagnose`]): the rows against it are held back as probably mis-coded. Without
//!   one, the names are a conflict: none of them is sent, all are reported.
//! - Groups are per organization: one name in two organizations is two groups.

mod collect;
mod decide;
pub mod diagnose;
pub mod kind;
mod left_out;
mod people;
mod person;
pub mod same;
pub mod slug;

pub use collect::Normalizer;
pub use kind::{Kind, KindSpec};

use std::sync::Arc;

use serde::Serialize;

use crate::location::{compress_rows, Location};

/// Whether a problem holds rows back or only informs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Held back: the rows or groups are not sent.
    Error,
    /// Sent as is; worth a look.
    Warning,
}

/// Something found in the input, located as precisely as possible.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// Where.
    #[serde(flatten)]
    pub location: Location,
    /// What is wrong and what to do, in plain words.
    pub message: String,
}

pub use crate::map::ListKind;
pub use left_out::{group_of, LeftOut, Why};
pub use person::display_name;

/// One table the rows came from (a CSV file or one sheet).
#[derive(Debug, Clone)]
pub struct TableRef {
    /// File as named by the operator.
    pub file: String,
    /// Sheet name, for workbooks.
    pub sheet: Option<String>,
    /// Header of the department-name column, for messages.
    pub name_column: String,
    /// Header of the ID column, when one is mapped.
    pub id_column: Option<String>,
    /// Header of the organization column, when the organization comes from one.
    pub org_column: Option<String>,
    /// Header of the user ID column, with `--members`.
    pub user_column: Option<String>,
}

/// Index of a [`TableRef`] in [`Plan::tables`].
pub type TableId = u32;

/// One input row behind a group: compact, because an employee export has millions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    /// Which table.
    pub table: TableId,
    /// 1-based row as the operator sees it.
    pub row: u32,
}

/// A group that will be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The `groupId`.
    pub id: String,
    /// The `groupName`.
    pub name: String,
    /// Every row that asked for it, in input order.
    pub sources: Vec<Source>,
    /// Its members (with `--members`): sorted by user ID, each once, from the first row naming it.
    pub members: Vec<Member>,
    /// The spellings used on as many rows as `name` (`name` first, then in tie order): with a
    /// state file, a group whose last sent name is one of them keeps that name, so a tie never
    /// renames.
    pub tied: Vec<String>,
    /// Its kind (`department` unless `--group-by` says otherwise).
    pub kind: Kind,
    /// A level of a hierarchy: the path down to it (`Engineering > Platform`).
    pub path: Option<Box<str>>,
}

/// One employee in a group, as the first row naming them in it gave them. The strings are
/// shared (`Arc`): the plan's rows and the upload's work items point at these, so a million
/// people are held once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The user ID sent to Velt (trimmed; an e-mail lower-cased unless told otherwise). Made
    /// by [`Member::new`], which keeps its prefix and fingerprint: not to be changed after.
    pub user: Arc<str>,
    /// The person's display name ("Ada Lovelace"), when the export has name columns.
    pub name: Option<Arc<str>>,
    /// The person's e-mail address, when the export has an e-mail column.
    pub email: Option<Arc<str>>,
    /// The row it came from.
    pub source: Source,
    /// `user`'s [`order_prefix`] and [`user_hash`], kept beside it: the sorts, merges and
    /// look-ups of a million members read them where the member is, instead of a cache miss
    /// per string.
    prefix: u64,
    hash: u64,
}

impl Member {
    /// `user` in a group, named and reached as given, from the row `source`.
    pub fn new(user: Arc<str>, name: Option<Arc<str>>, email: Option<Arc<str>>, source: Source) -> Self {
        Member {
            prefix: order_prefix(&user),
            hash: user_hash(&*user),
            user,
            name,
            email,
            source,
        }
    }

    /// [`order_prefix`] of the user ID.
    pub(crate) fn order_prefix(&self) -> u64 {
        self.prefix
    }

    /// [`user_hash`] of the user ID.
    pub fn user_hash(&self) -> u64 {
        self.hash
    }
}

/// One organization's groups, sorted by ID.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// The `organizationId`.
    pub id: String,
    /// Its groups.
    pub groups: Vec<Group>,
}

/// Several names claiming one ID in one organization: none of them is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The organization.
    pub organization_id: String,
    /// The contested ID.
    pub group_id: String,
    /// Each name with its rows.
    pub names: Vec<(String, Vec<Source>)>,
    /// The kind whose names these are (the first one's, when two kinds made the ID).
    pub kind: Kind,
}

/// A row held back by a problem of its own (an empty name, an error cell...).
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidRow {
    /// The organization, when known.
    pub organization_id: String,
    /// The department text as read (may be empty).
    pub name: String,
    /// Where.
    pub source: Source,
    /// Why.
    pub message: String,
    /// The kind of group the row was for.
    pub kind: Kind,
}

/// The normalizer's answer: what to send, what is held back, and why.
#[derive(Debug, Default)]
pub struct Plan {
    /// The tables that [`Source::table`] points into.
    pub tables: Vec<TableRef>,
    /// Groups to send, by organization (sorted by ID).
    pub organizations: Vec<Organization>,
    /// Groups held back because names disagree about an ID.
    pub conflicts: Vec<Conflict>,
    /// Rows held back.
    pub invalid: Vec<InvalidRow>,
    /// Every problem, errors and warnings, in input order then group order.
    pub problems: Vec<Problem>,
    /// Rows left out: people not current, rows a `--where` filter excludes (input order).
    pub left_out: Vec<LeftOut>,
    /// Per `--group-by` kind after the first: the rows with no value of it, so in no group of
    /// that kind.
    pub without_group: Vec<(Kind, u64)>,
    /// `--group-by` or `--hierarchy-separator` was given: reports show each group's kind and
    /// path (without them, today's columns exactly).
    pub grouped_by: bool,
}

impl Plan {
    /// The location of a source row.
    pub fn locate(&self, source: Source) -> Location {
        locate(&self.tables, source)
    }

    /// Sources as `file [sheet] rows 2-4, 9; other.csv rows 3` for people.
    pub fn describe_sources(&self, sources: &[Source]) -> String {
        // One row (a person's): the common case by a million, said without the general machinery.
        if let [one] = sources {
            let t = &self.tables[one.table as usize];
            let mut out = String::new();
            write_row_name(&mut out, &t.file, t.sheet.as_deref(), one.row);
            return out;
        }
        let mut parts: Vec<String> = Vec::new();
        let mut i = 0;
        while i < sources.len() {
            let table = sources[i].table;
            let j = sources[i..]
                .iter()
                .position(|s| s.table != table)
                .map_or(sources.len(), |k| i + k);
            let t = &self.tables[table as usize];
            let rows = compress_rows(sources[i..j].iter().map(|s| s.row as u64));
            let noun = if j - i == 1 { "row" } else { "rows" };
            parts.push(match &t.sheet {
                Some(sheet) => format!("{} [{sheet}] {noun} {rows}", t.file),
                None => format!("{} {noun} {rows}", t.file),
            });
            i = j;
        }
        parts.join("; ")
    }

    /// The members of `group` in `org`, sorted by user ID (none when the export has no such
    /// group).
    pub fn members_of(&self, org: &str, group: &str) -> &[Member] {
        self.organizations
            .binary_search_by(|o| o.id.as_str().cmp(org))
            .ok()
            .and_then(|o| {
                let groups = &self.organizations[o].groups;
                groups
                    .binary_search_by(|g| g.id.as_str().cmp(group))
                    .ok()
                    .map(|g| &groups[g])
            })
            .map_or(&[], |g| &g.members)
    }

    /// True when anything is held back (a conflict or an invalid row).
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// Lets go of every group's members once they are planned: from there on only the tables
    /// (to name rows) and the groups are read, and a million people's IDs, names and e-mails
    /// would stay in memory through the whole upload.
    pub fn release_members(&mut self) {
        for g in self.organizations.iter_mut().flat_map(|o| o.groups.iter_mut()) {
            g.members = Vec::new();
        }
        give_back_freed_memory();
    }

    /// Number of groups that will be sent.
    pub fn group_count(&self) -> usize {
        self.organizations.iter().map(|o| o.groups.len()).sum()
    }
}

fn locate(tables: &[TableRef], source: Source) -> Location {
    let t = &tables[source.table as usize];
    Location::file(&t.file)
        .with_sheet(t.sheet.as_deref())
        .with_row(source.row as u64)
}

/// How the normalizer judges names.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--strict-names`: only case and white space variants of a name are one group; other
    /// spellings of one name ("R&D", "R & D") are a conflict and held back.
    pub strict_names: bool,
    /// `--id-prefix`: put before every group ID (`dept-` makes `dept-sales`), for an
    /// organization whose other groups could have IDs like `1` or `sales`. Already checked to
    /// be lower-case letters, digits and dashes, ending with a dash.
    pub id_prefix: Option<String>,
    /// The kind of every group made (`department` by default).
    pub kind: Kind,
}

/// One mapped row, as the normalizer takes it.
#[derive(Debug, Clone, Copy)]
pub struct RowIn<'a> {
    /// The organization.
    pub organization: &'a str,
    /// The department name cell, raw.
    pub name: &'a str,
    /// The department code cell, raw, when an ID column is mapped.
    pub code: Option<&'a str>,
    /// Where the row is.
    pub source: Source,
    /// Department or employee list.
    pub kind: ListKind,
    /// The employee's user ID (already trimmed, e-mails lower-cased), with `--members`.
    pub user: Option<&'a str>,
    /// The employee's display name, with `--members` and name columns.
    pub person_name: Option<&'a str>,
    /// The employee's e-mail address, with `--members` and an e-mail column.
    pub email: Option<&'a str>,
    /// A level of a hierarchy below the top: the ID part of the levels above it
    /// (`engineering`), which its own ID continues.
    pub parent: Option<&'a str>,
    /// A level of a hierarchy: the path down to it, for the report.
    pub path: Option<&'a str>,
}

#[cfg(test)]
mod tests;

/// Appends one row's name as messages and reports give it: `hr.csv row 7`,
/// `hr.xlsx [Staff] row 7`.
pub fn write_row_name(out: &mut String, file: &str, sheet: Option<&str>, row: u32) {
    out.push_str(file);
    if let Some(sheet) = sheet {
        out.push_str(" [");
        out.push_str(sheet);
        out.push(']');
    }
    out.push_str(" row ");
    out.push_str(itoa::Buffer::new().format(row));
}

/// A fixed-seed 64-bit hash of `parts` (each ended by a byte no UTF-8 text holds), the same in
/// every run of this build (never stored): how people are told apart in memory. Bytes, so the
/// state's rows are hashed without a UTF-8 check; foldhash's quality variant: a few
/// nanoseconds for an ID, where SipHash takes tens, and a million are hashed each night.
pub fn fingerprint(parts: &[&[u8]]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::quality::FixedState::with_seed(0x7665_6c74).build_hasher();
    for part in parts {
        h.write(part);
        h.write_u8(0xff);
    }
    h.finish()
}

/// A user ID's [`fingerprint`].
pub fn user_hash(user: impl AsRef<[u8]>) -> u64 {
    fingerprint(&[user.as_ref()])
}

/// The first eight bytes of `s` as a number, in the order of `s` (shorter strings padded with
/// zeros, so equal numbers only mean "compare the strings"): sorting a million people by it
/// first compares integers held in the array instead of following a pointer per comparison.
pub(crate) fn order_prefix(s: &str) -> u64 {
    order_prefix_of(s.as_bytes())
}

/// [`order_prefix`] of text as bytes.
pub(crate) fn order_prefix_of(s: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = s.len().min(8);
    b[..n].copy_from_slice(&s[..n]);
    u64::from_be_bytes(b)
}

/// Returns the heap's free pages to the system. glibc keeps freed memory for reuse; after the
/// members go (a million small records), the upload's large buffers would not reuse it, and a
/// pod's memory limit counts it all.
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases free memory; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
