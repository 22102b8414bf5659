//! Collecting rows: every distinct (organization, name, code) text is resolved once, and each
//! row lands on one spelling under one group ID. Nothing is decided here but the row's own
//! problems; [`Normalizer::finish`] (in `decide.rs`) judges the spellings against each other.

use std::collections::HashMap;

use super::{
    locate, same, slug, InvalidRow, ListKind, Member, Options, Problem, RowIn, Severity, Source, TableId, TableRef,
};

/// A cleaned name and its keys, computed once per distinct raw text.
pub(super) struct NameInfo {
    name: Box<str>,
    chars: usize,
    fold: Box<str>,
    class: Box<str>,
    slug: Option<Box<str>>,
}

/// One exact spelling (after cleaning) under one ID, with every row that wrote it so.
pub(super) struct Spelling {
    /// The cleaned text.
    pub(super) text: Box<str>,
    /// Lower case: spellings with one fold differ only in case or white space.
    pub(super) fold: Box<str>,
    /// The same-name key ([`same::same_name_key`]; marked, for a name without an ID):
    /// spellings with one class are one name typed several ways.
    pub(super) class: Box<str>,
    /// Its rows, in input order.
    pub(super) sources: Vec<Source>,
    /// Its members as each row gave them, in input order (not yet sorted or de-duplicated).
    pub(super) members: Vec<Member>,
}

/// Everything seen for one ID in one organization.
#[derive(Default)]
pub(super) struct IdEntry {
    /// The code as first written, when the ID comes from a code column.
    pub(super) code: Option<Box<str>>,
    /// Its spellings, in order of first appearance.
    pub(super) spellings: Vec<Spelling>,
    /// A level of a hierarchy: the path down to it, as written (of several ways, the one the
    /// tie rule of names picks).
    pub(super) path: Option<Box<str>>,
}

/// Accumulates rows; [`Normalizer::finish`] turns them into a [`super::Plan`].
#[derive(Default)]
pub struct Normalizer {
    pub(super) options: Options,
    pub(super) tables: Vec<TableRef>,
    /// Organization -> group ID -> index in `entries`.
    pub(super) orgs: HashMap<String, HashMap<String, usize>>,
    pub(super) entries: Vec<IdEntry>,
    names: HashMap<String, NameInfo>,
    codes: HashMap<String, Option<String>>,
    /// Where rows with this exact (organization, name, code) text went: an employee export
    /// repeats a few thousand departments a million times, so after the first row of each the
    /// rest cost one lookup (hashed by foldhash: SipHash took longer than the rest of it).
    seen: HashMap<String, (usize, usize), foldhash::fast::RandomState>,
    /// Scratch space for the `seen` key.
    key: String,
    /// Organization IDs as written that held invisible characters, warned about once each.
    warned_orgs: std::collections::HashSet<String>,
    pub(super) invalid: Vec<InvalidRow>,
    pub(super) problems: Vec<Problem>,
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

/// Which cache holds a resolved row's ID: the name's slug or the code's.
#[derive(Clone, Copy)]
enum IdFrom {
    Name,
    Code,
}

impl Normalizer {
    /// A normalizer with no rows yet and the default rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// A normalizer with no rows yet, judging names by `options`.
    pub fn with_options(options: Options) -> Self {
        Normalizer {
            options,
            ..Self::default()
        }
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
                kind: Default::default(),
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
        let organization = slug::clean_id(row.organization);
        if organization.is_empty() && !row.organization.is_empty() {
            let column = self.tables[row.source.table as usize]
                .org_column
                .clone()
                .unwrap_or_default();
            let message = "the organization ID holds only invisible characters; write the organization in the source, or give one with --org".to_owned();
            self.row_problem(Severity::Error, &row, &column, message);
            return;
        }
        if organization.len() != row.organization.trim().len() && self.warned_orgs.insert(row.organization.to_owned()) {
            // Once per spelling: an organization column repeats it on every row.
            let column = self.tables[row.source.table as usize]
                .org_column
                .clone()
                .unwrap_or_default();
            let message = format!(
                "the organization ID '{organization}' holds invisible characters ({}); they are removed, so it is the organization '{organization}' (said once for this spelling)",
                hidden_codes(row.organization)
            );
            self.row_problem(Severity::Warning, &row, &column, message);
        }
        let user = row.user.map(slug::clean_id);
        if let (Some(raw), Some(clean)) = (row.user, &user) {
            if clean.len() != raw.trim().len() {
                self.user_warning(&row, clean);
            }
        }
        let email = row.email.map(slug::clean_id);
        let row = RowIn {
            organization: &organization,
            user: user.as_deref(),
            email: email.as_deref(),
            ..row
        };
        self.key.clear();
        for part in [
            row.organization,
            row.name,
            row.code.unwrap_or("\u{1F}"),
            row.parent.unwrap_or("\u{1F}"),
            row.path.unwrap_or("\u{1F}"),
        ] {
            self.key.push_str(part);
            self.key.push('\u{1E}');
        }
        if let Some(&(entry, spelling)) = self.seen.get(self.key.as_str()) {
            push_row(&mut self.entries[entry].spellings[spelling], &row);
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

    /// The user ID had invisible characters: they are removed (a user ID is compared exactly,
    /// so they would make a second user that looks like the first), and the row says so.
    fn user_warning(&mut self, row: &RowIn<'_>, clean: &str) {
        let t = &self.tables[row.source.table as usize];
        let column = t.user_column.clone().unwrap_or_default();
        let hidden = hidden_codes(row.user.unwrap_or_default());
        let message = if clean.is_empty() {
            format!(
                "the user ID holds only invisible characters ({hidden}); the employee is not added to the group; write the ID in the source"
            )
        } else {
            format!(
                "the user ID '{clean}' holds invisible characters ({hidden}); they are removed, so it is the same user as '{clean}' elsewhere"
            )
        };
        self.row_problem(Severity::Warning, row, &column, message);
    }

    /// Where the row's group ID comes from, or why the row is held back.
    fn resolve(&mut self, row: &RowIn<'_>) -> Result<IdFrom, Held> {
        let code = row.code.map(slug::clean_id);
        let code = code.as_deref();
        // Invisible characters alone are no name: the cleaned text decides.
        let no_name = row.name.trim().is_empty() || slug::clean_name(row.name).is_empty();
        if no_name && code.is_none_or(str::is_empty) {
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
            let fold: Box<str> = name.to_lowercase().into();
            let slug: Option<Box<str>> = self.id_of(&name, slug::name_id_within).map(Into::into);
            // A name without an ID is held back alone; the mark keeps its class apart from
            // every name that has one.
            let class: Box<str> = match &slug {
                Some(_) => same::same_name_key(&name).into(),
                None => format!("\u{1}{fold}").into(),
            };
            let info = NameInfo {
                chars: name.chars().count(),
                fold,
                class,
                slug,
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
            let id = self.id_of(code, slug::slug_within);
            self.codes.insert(code.to_owned(), id);
        }
        self.codes[code].as_ref().map(|_| IdFrom::Code).ok_or_else(|| {
            Held::error(
                Col::Id,
                format!("the code '{code}' has no letters or digits to make a group ID from"),
            )
        })
    }

    /// The group ID `make` gives `text`, with the `--id-prefix` in front (the whole within
    /// [`slug::MAX_ID_LEN`]).
    fn id_of(&self, text: &str, make: fn(&str, usize) -> Option<String>) -> Option<String> {
        let prefix = self.options.id_prefix.as_deref().unwrap_or_default();
        make(text, slug::MAX_ID_LEN - prefix.len()).map(|id| format!("{prefix}{id}"))
    }

    fn insert(&mut self, row: &RowIn<'_>, from: IdFrom) {
        let info = &self.names[row.name];
        let code = match from {
            IdFrom::Code => row.code.map(slug::clean_id),
            IdFrom::Name => None,
        };
        // A level below the top of a path continues its parent's ID: `Platform` under
        // `Engineering` is `engineering-platform`, apart from a `Platform` elsewhere.
        let below = match (code.as_deref(), row.parent) {
            (None, Some(parent)) => self.id_of(&format!("{parent} {}", info.name), slug::name_id_within),
            _ => None,
        };
        let info = &self.names[row.name];
        let id = match (code.as_deref(), below.as_deref()) {
            (_, Some(below)) => Some(below),
            (Some(code), None) => self.codes[code].as_deref(),
            (None, None) => info.slug.as_deref(),
        }
        .expect("resolve checked the ID");
        let org = match self.orgs.get_mut(row.organization) {
            Some(org) => org,
            None => self.orgs.entry(row.organization.to_owned()).or_default(),
        };
        let entry = match org.get(id) {
            Some(&entry) => entry,
            None => {
                self.entries.push(IdEntry::default());
                org.insert(id.to_owned(), self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        let e = &mut self.entries[entry];
        if e.code.is_none() {
            e.code = code.map(|c| c.into());
        }
        // Of the ways a path is written, one chosen by the fixed tie rule, never the row order.
        if let Some(path) = row.path {
            if e.path
                .as_deref()
                .is_none_or(|old| super::decide::tie_order(path, old).is_lt())
            {
                e.path = Some(path.into());
            }
        }
        let spelling = match e.spellings.iter().position(|s| s.text == info.name) {
            Some(i) => i,
            None => {
                e.spellings.push(Spelling {
                    text: info.name.clone(),
                    fold: info.fold.clone(),
                    class: info.class.clone(),
                    sources: Vec::new(),
                    members: Vec::new(),
                });
                e.spellings.len() - 1
            }
        };
        push_row(&mut e.spellings[spelling], row);
        self.seen.insert(self.key.clone(), (entry, spelling));
    }
}

/// The invisible characters [`slug::clean_id`] removes from `raw`, as `U+200B, U+200E`.
fn hidden_codes(raw: &str) -> String {
    let mut codes: Vec<String> = Vec::new();
    for c in raw.chars().filter(|&c| c.is_control() || slug::is_hidden_format(c)) {
        let code = format!("U+{:04X}", u32::from(c));
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes.join(", ")
}

fn push_row(spelling: &mut Spelling, row: &RowIn<'_>) {
    spelling.sources.push(row.source);
    if let Some(user) = row.user.filter(|u| !u.is_empty()) {
        spelling.members.push(Member::new(
            user.into(),
            row.person_name.filter(|n| !n.is_empty()).map(Into::into),
            row.email.filter(|e| !e.is_empty()).map(Into::into),
            row.source,
        ));
    }
}
