//! Normalizing: mapped rows in, the exact `groupId`/`groupName` pairs to send out, per
//! organization, with every row that asked for each group and every problem found on the way.
//!
//! Rules (each has a test below):
//! - The ID comes from the department code when an ID column is mapped (the code is the stable
//!   key, so a renamed department keeps its group), else from the name ([`slug::slug`]).
//! - Rows whose names differ only in case or white space are one group, displayed with the
//!   spelling used most often (ties: the first seen); the variants are a warning.
//! - Different names that give one ID are a conflict: none of them is sent, all are reported.
//! - Groups are per organization: one name in two organizations is two groups.

pub mod slug;

use std::collections::{BTreeMap, HashMap};

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
}

/// One employee in one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The user ID sent to Velt (trimmed; an e-mail lower-cased unless told otherwise).
    pub user: String,
    /// The person's display name ("Ada Lovelace"), when the export has name columns.
    pub name: Option<String>,
    /// The person's e-mail address, when the export has an e-mail column.
    pub email: Option<String>,
    /// The row it came from.
    pub source: Source,
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
}

impl Plan {
    /// The location of a source row.
    pub fn locate(&self, source: Source) -> Location {
        locate(&self.tables, source)
    }

    /// Sources as `file [sheet] rows 2-4, 9; other.csv rows 3` for people.
    pub fn describe_sources(&self, sources: &[Source]) -> String {
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

    /// True when anything is held back (a conflict or an invalid row).
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
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

/// Which cache holds a resolved row's ID: the name's slug or the code's.
#[derive(Clone, Copy)]
enum IdFrom {
    Name,
    Code,
}

/// Which of the row's columns a problem is about.
enum Col {
    Name,
    Id,
}

/// Why a row is held back (or, for a warning, left out).
struct Held {
    column: Col,
    severity: Severity,
    message: String,
}

impl Held {
    fn error(column: Col, message: String) -> Self {
        Held {
            column,
            severity: Severity::Error,
            message,
        }
    }
}

/// A cleaned name and its slug, computed once per distinct raw text.
struct NameInfo {
    name: Box<str>,
    chars: usize,
    fold: Box<str>,
    slug: Option<Box<str>>,
}

struct Spelling {
    text: Box<str>,
    count: u32,
}

/// One case-and-space-insensitive name under an ID.
#[derive(Default)]
struct Variant {
    fold: Box<str>,
    spellings: Vec<Spelling>,
    sources: Vec<Source>,
    members: Vec<(Box<str>, Source)>,
}

/// Everything seen for one ID in one organization: indices into [`Normalizer::variants`].
#[derive(Default)]
struct IdEntry {
    variants: Vec<usize>,
}

/// Accumulates rows; [`Normalizer::finish`] turns them into a [`Plan`].
#[derive(Default)]
pub struct Normalizer {
    tables: Vec<TableRef>,
    orgs: HashMap<String, HashMap<String, IdEntry>>,
    variants: Vec<Variant>,
    names: HashMap<String, NameInfo>,
    codes: HashMap<String, Option<String>>,
    /// Where rows with this exact (organization, name, code) text went: an employee export
    /// repeats a few thousand departments a million times, so after the first row of each the
    /// rest cost one lookup.
    seen: HashMap<String, (usize, usize)>,
    /// Scratch space for the `seen` key.
    key: String,
    invalid: Vec<InvalidRow>,
    problems: Vec<Problem>,
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
}

impl Normalizer {
    /// A normalizer with no rows yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a table; rows from it carry the returned ID.
    pub fn add_table(&mut self, table: TableRef) -> TableId {
        self.tables.push(table);
        (self.tables.len() - 1) as TableId
    }

    /// Records a problem found while mapping a row (an error cell, an empty organization).
    /// Errors hold the row back.
    pub fn row_problem(&mut self, severity: Severity, row: &RowIn<'_>, column: &str, message: String) {
        let location = locate(&self.tables, row.source).with_column(column);
        if severity == Severity::Error {
            self.invalid.push(InvalidRow {
                organization_id: row.organization.to_owned(),
                name: row.name.to_owned(),
                source: row.source,
                message: message.clone(),
            });
        }
        self.problems.push(Problem {
            severity,
            location,
            message,
        });
    }

    /// Takes one row.
    pub fn add(&mut self, row: RowIn<'_>) {
        self.key.clear();
        for part in [row.organization, row.name, row.code.unwrap_or("\u{1F}")] {
            self.key.push_str(part);
            self.key.push('\u{1E}');
        }
        if let Some(&(variant, spelling)) = self.seen.get(self.key.as_str()) {
            let v = &mut self.variants[variant];
            v.spellings[spelling].count += 1;
            v.sources.push(row.source);
            if let Some(user) = row.user.filter(|u| !u.is_empty()) {
                v.members.push((user.into(), row.source));
            }
            return;
        }
        match self.resolve(&row) {
            Ok(from) => self.insert(&row, from),
            Err(held) => {
                let t = &self.tables[row.source.table as usize];
                let column = match held.column {
                    Col::Name => t.name_column.clone(),
                    Col::Id => t.id_column.clone().unwrap_or_default(),
                };
                self.row_problem(held.severity, &row, &column, held.message);
            }
        }
    }

    /// Where the row's group ID comes from, or why the row is held back.
    fn resolve(&mut self, row: &RowIn<'_>) -> Result<IdFrom, Held> {
        let code = row.code.map(str::trim);
        if row.name.trim().is_empty() && code.is_none_or(str::is_empty) {
            return Err(match row.kind {
                ListKind::Departments => Held::error(Col::Name, "no department name on this row".to_owned()),
                ListKind::Employees => Held {
                    column: Col::Name,
                    severity: Severity::Warning,
                    message: "no department on this row; this employee is in no group".to_owned(),
                },
            });
        }
        if !self.names.contains_key(row.name) {
            if row.name.contains(['\n', '\r']) {
                // Legal in a quoted CSV cell, but far more often an unclosed quote that swallowed
                // the rows below it.
                let location = locate(&self.tables, row.source)
                    .with_column(self.tables[row.source.table as usize].name_column.clone());
                self.problems.push(Problem {
                    severity: Severity::Warning,
                    location,
                    message:
                        "the department name spans several lines; if that is not meant, a quote is probably not closed"
                            .into(),
                });
            }
            let name = slug::clean_name(row.name);
            let info = NameInfo {
                chars: name.chars().count(),
                fold: name.to_lowercase().into(),
                slug: slug::slug(&name).map(Into::into),
                name: name.into(),
            };
            self.names.insert(row.name.to_owned(), info);
        }
        let info = &self.names[row.name];
        let name_chars = info.chars;
        if name_chars > slug::MAX_NAME_CHARS {
            return Err(Held::error(
                Col::Name,
                format!(
                    "the department name is {name_chars} characters long; at most {} are allowed",
                    slug::MAX_NAME_CHARS
                ),
            ));
        }
        let Some(code) = code else {
            return info.slug.as_ref().map(|_| IdFrom::Name).ok_or_else(|| {
                Held::error(
                    Col::Name,
                    format!(
                        "'{}' has no letters or digits to make a group ID from; rename it or map a code column with --id-column",
                        info.name
                    ),
                )
            });
        };
        if code.is_empty() {
            return Err(Held::error(
                Col::Id,
                format!("'{}' has no department code on this row", info.name),
            ));
        }
        if info.name.is_empty() {
            return Err(Held::error(
                Col::Name,
                format!("the code '{code}' has no department name on this row"),
            ));
        }
        if !self.codes.contains_key(code) {
            self.codes.insert(code.to_owned(), slug::slug(&slug::clean_name(code)));
        }
        self.codes[code].as_ref().map(|_| IdFrom::Code).ok_or_else(|| {
            Held::error(
                Col::Id,
                format!("the code '{code}' has no letters or digits to make a group ID from"),
            )
        })
    }

    fn insert(&mut self, row: &RowIn<'_>, from: IdFrom) {
        let info = &self.names[row.name];
        let id = match (from, row.code) {
            (IdFrom::Code, Some(code)) => self.codes[code.trim()].as_deref(),
            _ => info.slug.as_deref(),
        }
        .expect("resolve checked the ID");
        let org = match self.orgs.get_mut(row.organization) {
            Some(org) => org,
            None => self.orgs.entry(row.organization.to_owned()).or_default(),
        };
        let entry = match org.get_mut(id) {
            Some(entry) => entry,
            None => org.entry(id.to_owned()).or_default(),
        };
        let variants = &mut self.variants;
        let variant = match entry.variants.iter().copied().find(|&i| variants[i].fold == info.fold) {
            Some(i) => i,
            None => {
                variants.push(Variant {
                    fold: info.fold.clone(),
                    spellings: Vec::new(),
                    sources: Vec::new(),
                    members: Vec::new(),
                });
                entry.variants.push(variants.len() - 1);
                variants.len() - 1
            }
        };
        let v = &mut variants[variant];
        let spelling = match v.spellings.iter().position(|s| s.text == info.name) {
            Some(i) => i,
            None => {
                v.spellings.push(Spelling {
                    text: info.name.clone(),
                    count: 0,
                });
                v.spellings.len() - 1
            }
        };
        v.spellings[spelling].count += 1;
        v.sources.push(row.source);
        if let Some(user) = row.user.filter(|u| !u.is_empty()) {
            v.members.push((user.into(), row.source));
        }
        self.seen.insert(self.key.clone(), (variant, spelling));
    }

    /// Decides every group and conflict.
    pub fn finish(mut self) -> Plan {
        let mut plan = Plan {
            tables: std::mem::take(&mut self.tables),
            invalid: self.invalid,
            ..Plan::default()
        };
        let mut problems = self.problems;
        let orgs: BTreeMap<String, HashMap<String, IdEntry>> = self.orgs.into_iter().collect();
        for (org_id, entries) in orgs {
            let entries: BTreeMap<String, IdEntry> = entries.into_iter().collect();
            let mut groups = Vec::new();
            for (id, entry) in entries {
                let mut variants: Vec<Variant> = entry
                    .variants
                    .iter()
                    .map(|&i| std::mem::take(&mut self.variants[i]))
                    .collect();
                if variants.len() > 1 {
                    let names: Vec<(String, Vec<Source>)> = variants
                        .into_iter()
                        .map(|v| (display_name(&v.spellings).to_owned(), v.sources))
                        .collect();
                    let conflict = Conflict {
                        organization_id: org_id.clone(),
                        group_id: id,
                        names,
                    };
                    problems.push(conflict_problem(&plan, &conflict));
                    plan.conflicts.push(conflict);
                    continue;
                }
                let variant = variants.pop().expect("an entry has a variant");
                let name = display_name(&variant.spellings).to_owned();
                let mut members: Vec<(String, Source)> =
                    variant.members.into_iter().map(|(u, s)| (u.into_string(), s)).collect();
                // Sorted by user, then row: the first row naming a user is the one kept.
                members.sort();
                members.dedup_by(|b, a| a.0 == b.0);
                let members = members
                    .into_iter()
                    .map(|(user, source)| Member {
                        user,
                        name: None,
                        email: None,
                        source,
                    })
                    .collect();
                let group = Group {
                    id,
                    name,
                    sources: variant.sources,
                    members,
                };
                if variant.spellings.len() > 1 {
                    let others: Vec<String> = variant
                        .spellings
                        .iter()
                        .filter(|s| *s.text != *group.name)
                        .map(|s| format!("'{}' ({}x)", s.text, s.count))
                        .collect();
                    problems.push(group_warning(
                        &plan,
                        &group,
                        format!(
                            "'{}' is also written {}; these are one group named '{}' (the most used spelling)",
                            group.name,
                            others.join(", "),
                            group.name
                        ),
                    ));
                }
                if slug::looks_like_formula(&group.name) {
                    problems.push(group_warning(
                        &plan,
                        &group,
                        format!(
                            "'{}' starts like a spreadsheet formula; it is kept as a name, and reports write it so that Excel does not run it",
                            group.name
                        ),
                    ));
                }
                groups.push(group);
            }
            same_name_warnings(&plan, &groups, &mut problems);
            member_warnings(&plan, &groups, &mut problems);
            plan.organizations.push(Organization { id: org_id, groups });
        }
        plan.problems = problems;
        plan
    }
}

/// The most used spelling; ties go to the first seen (spellings are kept in order of arrival).
fn display_name(spellings: &[Spelling]) -> &str {
    let mut best = &spellings[0];
    for s in &spellings[1..] {
        if s.count > best.count {
            best = s;
        }
    }
    &best.text
}

fn group_warning(plan: &Plan, group: &Group, message: String) -> Problem {
    let column = plan.tables[group.sources[0].table as usize].name_column.clone();
    Problem {
        severity: Severity::Warning,
        location: plan.locate(group.sources[0]).with_column(column),
        message,
    }
}

fn conflict_problem(plan: &Plan, c: &Conflict) -> Problem {
    let first = c.names[0].1[0];
    let table = &plan.tables[first.table as usize];
    let listed: Vec<String> = c
        .names
        .iter()
        .map(|(name, sources)| format!("'{name}' ({})", plan.describe_sources(sources)))
        .collect();
    let advice = if table.id_column.is_some() {
        "give each department its own code, or one name per code"
    } else {
        "rename one of them, or map a department code column with --id-column"
    };
    Problem {
        severity: Severity::Error,
        location: plan.locate(first).with_column(table.name_column.clone()),
        message: format!(
            "conflict in organization '{}': {} all make group ID '{}'; none of them is sent; {advice}",
            c.organization_id,
            listed.join(" and "),
            c.group_id
        ),
    }
}

/// An employee listed in two departments is added to both; worth a look all the same.
fn member_warnings(plan: &Plan, groups: &[Group], problems: &mut Vec<Problem>) {
    let mut by_user: BTreeMap<&str, Vec<(&Group, Source)>> = BTreeMap::new();
    for g in groups {
        for m in &g.members {
            by_user.entry(&m.user).or_default().push((g, m.source));
        }
    }
    for (user, places) in by_user.iter().filter(|(_, v)| v.len() > 1) {
        let column = plan.tables[places[0].1.table as usize].name_column.clone();
        let ids: Vec<&str> = places.iter().map(|(g, _)| g.id.as_str()).collect();
        problems.push(Problem {
            severity: Severity::Warning,
            location: plan.locate(places[1].1).with_column(column),
            message: format!(
                "user '{user}' is in {} departments ({}); they are added to each",
                places.len(),
                ids.join(", ")
            ),
        });
    }
}

/// With codes, two codes may carry one name: legal, but two groups look alike in Velt.
fn same_name_warnings(plan: &Plan, groups: &[Group], problems: &mut Vec<Problem>) {
    let mut by_name: BTreeMap<String, Vec<&Group>> = BTreeMap::new();
    for g in groups {
        by_name.entry(g.name.to_lowercase()).or_default().push(g);
    }
    for same in by_name.values().filter(|v| v.len() > 1) {
        let ids: Vec<&str> = same.iter().map(|g| g.id.as_str()).collect();
        problems.push(group_warning(
            plan,
            same[0],
            format!(
                "'{}' is the name of {} groups ({}); they are separate groups with the same name",
                same[0].name,
                same.len(),
                ids.join(", ")
            ),
        ));
    }
}

#[cfg(test)]
mod tests;
