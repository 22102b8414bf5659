//! The front half of the pipeline, shared by every command: read each input file, map its
//! columns, and feed its rows to the normalizer. File-level failures are collected (one per
//! file) so the operator sees every broken input in one run, not one per attempt.

mod handoff;

use std::path::PathBuf;

use thiserror::Error;

use crate::current::{CurrentError, Judge, Rules, Verdict};
use crate::map::{self, MapError, MapOptions, Mapping};
use crate::normalize::slug;
use crate::normalize::{
    kind, KindSpec, LeftOut, ListKind, Normalizer, Options as NormalizeOptions, Plan, Problem, RowIn, Severity, Source,
    TableId, TableRef, Why,
};
use crate::read::{self, Cell, ReadError, ReadOptions, Table, HEADER_SCAN_ROWS};

/// Everything that decides how inputs are read and mapped.
#[derive(Debug, Clone, Default)]
pub struct InputSettings {
    /// The files, in order.
    pub paths: Vec<PathBuf>,
    /// How messages name each file, when not as its path (a copy under its original name);
    /// empty: by path.
    pub names: Vec<String>,
    /// Reader options.
    pub read: ReadOptions,
    /// Mapping options.
    pub map: MapOptions,
    /// How names are judged against each other.
    pub normalize: NormalizeOptions,
    /// Who counts as current.
    pub current: Rules,
    /// `--group-by`: every kind of group, the first made from the department columns of `map`
    /// and `normalize`; empty: the department kind alone, as without the flag.
    pub kinds: Vec<KindSpec>,
}

/// A file that cannot be used at all.
#[derive(Debug, Error)]
pub enum InputError {
    /// Unreadable, unrecognized or malformed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// No usable header or columns.
    #[error(transparent)]
    Map(#[from] MapError),
    /// Status or date values that cannot be judged, or a filter that leaves nothing.
    #[error(transparent)]
    Current(#[from] CurrentError),
}

/// Where mapped rows go: the [`Normalizer`], or a counter when only reading is measured.
pub trait RowSink {
    /// A new table starts; its rows carry the returned ID.
    fn table(&mut self, table: TableRef) -> TableId;
    /// A mapped row.
    fn row(&mut self, row: RowIn<'_>);
    /// A row that cannot be mapped (an error cell, no organization).
    fn problem(&mut self, row: &RowIn<'_>, column: &str, message: String);
    /// Something worth a look on a row that goes ahead.
    fn warning(&mut self, row: &RowIn<'_>, column: &str, message: String);
    /// A row left out: the person is not current, or a `--where` filter excludes the row.
    fn left_out(&mut self, row: &RowIn<'_>, why: Why);
    /// A new table starts, as the `kind`-th `--group-by` kind after the first reads it (its
    /// columns named in `table`); called right after [`RowSink::table`].
    fn kind_table(&mut self, _kind: usize, _table: TableRef) {}
    /// A mapped row's value of the `kind`-th kind after the first (in `row.name` and
    /// `row.code`); called right after [`RowSink::row`].
    fn kind_row(&mut self, _kind: usize, _row: RowIn<'_>) {}
}

/// A `--group-by` kind after the first: its own normalizer, and the rows without a value.
struct Extra {
    spec: KindSpec,
    normalizer: Normalizer,
    empty: u64,
}

/// Feeds one row to `normalizer`: as it is, or, when the kind has a separator, one row per
/// level of its path (a row with no levels goes as it is, so an empty value is judged as ever).
fn feed(normalizer: &mut Normalizer, spec: Option<&KindSpec>, row: RowIn<'_>) {
    let Some(separator) = spec.and_then(|s| s.separator.as_deref()) else {
        normalizer.add(row);
        return;
    };
    let levels = kind::levels(row.name, separator, spec.is_some_and(|s| s.leaf_only));
    if levels.is_empty() {
        normalizer.add(row);
        return;
    }
    // A code names the whole value, not a level: a path's levels are keyed by their names.
    for level in &levels {
        normalizer.add(RowIn {
            name: &level.name,
            code: None,
            parent: level.parent.as_deref(),
            path: Some(&level.path),
            ..row
        });
    }
}

/// The normalizer, and the rows left out beside it.
struct Collect {
    normalizer: Normalizer,
    /// The first kind, when `--group-by` gives it (its separator splits the department path).
    first: Option<KindSpec>,
    /// The kinds after the first.
    extra: Vec<Extra>,
    left_out: Vec<LeftOut>,
    /// Each row's user, hashed: after normalizing, which users are on held-back rows.
    users: Vec<(Source, u64)>,
}

impl Collect {
    fn note_user(&mut self, row: &RowIn<'_>) {
        if let Some(user) = row.user.filter(|u| !u.is_empty()) {
            // Two users sharing a hash would only make a removal wait.
            self.users.push((row.source, crate::normalize::user_hash(user)));
        }
    }

    /// Marks the people left out who are also on a held-back row of `plan`.
    fn mark_held_back(&mut self, plan: &Plan) {
        if self.left_out.is_empty() {
            return;
        }
        self.users.sort_unstable();
        let users = &self.users;
        let user_of = |source: &Source| {
            let source = *source;
            let i = users.partition_point(|(s, _)| *s < source);
            users[i..]
                .iter()
                .take_while(move |(s, _)| *s == source)
                .map(|(_, h)| *h)
        };
        let held: std::collections::HashSet<u64> = plan
            .invalid
            .iter()
            .map(|r| &r.source)
            .chain(plan.conflicts.iter().flat_map(|c| c.names.iter().flat_map(|(_, s)| s)))
            .flat_map(user_of)
            .collect();
        let seen: std::collections::HashSet<u64> = users.iter().map(|(_, h)| *h).collect();
        for l in &mut self.left_out {
            l.held_back_too = !l.user_id.is_empty() && held.contains(&crate::normalize::user_hash(&l.user_id));
            l.current_too = !l.user_id.is_empty() && seen.contains(&crate::normalize::user_hash(&l.user_id));
        }
    }
}

impl RowSink for Collect {
    fn table(&mut self, table: TableRef) -> TableId {
        self.normalizer.table(table)
    }
    fn row(&mut self, row: RowIn<'_>) {
        self.note_user(&row);
        feed(&mut self.normalizer, self.first.as_ref(), row);
    }
    fn problem(&mut self, row: &RowIn<'_>, column: &str, message: String) {
        self.note_user(row);
        self.normalizer.problem(row, column, message);
    }
    fn kind_table(&mut self, kind: usize, table: TableRef) {
        if let Some(extra) = self.extra.get_mut(kind) {
            extra.normalizer.add_table(table);
        }
    }
    fn kind_row(&mut self, kind: usize, row: RowIn<'_>) {
        let Some(extra) = self.extra.get_mut(kind) else {
            return;
        };
        // No value is no group of this kind: counted, not a problem (an office left blank).
        let empty = slug::clean_name(row.name).is_empty() && row.code.is_none_or(|c| c.trim().is_empty());
        if empty {
            extra.empty += 1;
            return;
        }
        feed(&mut extra.normalizer, Some(&extra.spec), row);
    }
    fn warning(&mut self, row: &RowIn<'_>, column: &str, message: String) {
        self.normalizer.warning(row, column, message);
    }
    fn left_out(&mut self, row: &RowIn<'_>, why: Why) {
        let (group_id, group_name) = crate::normalize::group_of(row.name, row.code);
        self.left_out.push(LeftOut {
            organization_id: row.organization.to_owned(),
            group_id,
            group_name,
            user_id: row.user.unwrap_or_default().to_owned(),
            why,
            source: row.source,
            kind: row.kind,
            held_back_too: false,
            current_too: false,
        });
    }
}

impl RowSink for Normalizer {
    fn table(&mut self, table: TableRef) -> TableId {
        self.add_table(table)
    }
    fn row(&mut self, row: RowIn<'_>) {
        self.add(row);
    }
    fn problem(&mut self, row: &RowIn<'_>, column: &str, message: String) {
        self.row_problem(Severity::Error, row, column, message);
    }
    fn warning(&mut self, row: &RowIn<'_>, column: &str, message: String) {
        self.row_problem(Severity::Warning, row, column, message);
    }
    /// The normalizer keeps no left-out rows ([`load`] does): they are no group's rows.
    fn left_out(&mut self, _: &RowIn<'_>, _: Why) {}
}

/// Counts rows and problems; for measuring the reader alone.
#[derive(Debug, Default)]
pub struct Counter {
    /// Tables seen.
    pub tables: u32,
    /// Rows mapped.
    pub rows: u64,
    /// Rows with a problem.
    pub problems: u64,
    /// Rows left out (not current, or filtered).
    pub left_out: u64,
}

impl RowSink for Counter {
    fn table(&mut self, _: TableRef) -> TableId {
        self.tables += 1;
        self.tables - 1
    }
    fn row(&mut self, _: RowIn<'_>) {
        self.rows += 1;
    }
    fn problem(&mut self, _: &RowIn<'_>, _: &str, _: String) {
        self.problems += 1;
    }
    fn warning(&mut self, _: &RowIn<'_>, _: &str, _: String) {}
    fn left_out(&mut self, _: &RowIn<'_>, _: Why) {
        self.left_out += 1;
    }
}

/// What was made of one input file: its table, header row and cells, and mapping if one was made.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// The file as messages name it.
    pub file: String,
    /// Every sheet of a workbook, in order.
    pub sheets: Vec<String>,
    /// The sheet used (or looked at last).
    pub sheet: Option<String>,
    /// The header row, 1-based, when one was found or looked at.
    pub header_row: Option<u64>,
    /// That row's cells.
    pub headers: Vec<String>,
    /// The columns chosen, when the mapping succeeded.
    pub mapping: Option<Mapping>,
}

/// Reads, maps and normalizes every input. `Err` lists every file that could not be used.
pub fn load(settings: &InputSettings) -> Result<Plan, Vec<InputError>> {
    load_seen(settings, &mut Vec::new())
}

/// [`load`], adding to `seen` what was made of each file, also of the files that failed.
pub fn load_seen(settings: &InputSettings, seen: &mut Vec<Seen>) -> Result<Plan, Vec<InputError>> {
    let extra = settings
        .kinds
        .iter()
        .skip(1)
        .map(|spec| Extra {
            spec: spec.clone(),
            normalizer: Normalizer::with_options(NormalizeOptions {
                strict_names: settings.normalize.strict_names,
                id_prefix: spec.id_prefix.clone(),
                kind: spec.kind.clone(),
            }),
            empty: 0,
        })
        .collect();
    let mut collect = Collect {
        normalizer: Normalizer::with_options(settings.normalize.clone()),
        first: settings.kinds.first().cloned(),
        extra,
        left_out: Vec::new(),
        users: Vec::new(),
    };
    let mut notes = Vec::new();
    scan_noting(settings, &mut collect, &mut notes, seen)?;
    let normalizer = std::mem::take(&mut collect.normalizer);
    let mut plan = normalizer.finish();
    plan.grouped_by = !settings.kinds.is_empty();
    for extra in std::mem::take(&mut collect.extra) {
        plan.without_group.push((extra.spec.kind.clone(), extra.empty));
        kind::merge(&mut plan, extra.normalizer.finish());
    }
    plan.problems.extend(notes);
    collect.mark_held_back(&plan);
    plan.left_out = collect.left_out;
    // An organization whose every row was left out is still the export's: it is listed with
    // no group, so its leavers are removed (within the guard) and verify reads its groups.
    for l in &plan.left_out {
        if l.organization_id.is_empty() {
            continue;
        }
        if let Err(at) = plan
            .organizations
            .binary_search_by(|o| o.id.as_str().cmp(&l.organization_id))
        {
            let org = crate::normalize::Organization {
                id: l.organization_id.clone(),
                groups: Vec::new(),
            };
            plan.organizations.insert(at, org);
        }
    }
    Ok(plan)
}

/// Reads and maps every input into `sink`. `Err` lists every file that could not be used.
pub fn scan(settings: &InputSettings, sink: &mut dyn RowSink) -> Result<(), Vec<InputError>> {
    scan_noting(settings, sink, &mut Vec::new(), &mut Vec::new())
}

/// [`scan`], with notes about whole tables (rows a report skipped) added to `notes`.
fn scan_noting(
    settings: &InputSettings,
    sink: &mut dyn RowSink,
    notes: &mut Vec<Problem>,
    seen: &mut Vec<Seen>,
) -> Result<(), Vec<InputError>> {
    let errors: Vec<InputError> = settings
        .paths
        .iter()
        .enumerate()
        .filter_map(|(i, path)| {
            let name = settings
                .names
                .get(i)
                .cloned()
                .unwrap_or_else(|| read::display_name(path));
            let mut file = Seen {
                file: name.clone(),
                ..Seen::default()
            };
            let result = load_file(path, &name, settings, sink, notes, &mut file);
            seen.push(file);
            result.err()
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn load_file(
    path: &std::path::Path,
    name: &str,
    settings: &InputSettings,
    sink: &mut dyn RowSink,
    notes: &mut Vec<Problem>,
    seen: &mut Seen,
) -> Result<(), InputError> {
    let input = read::open_as(path, name, &settings.read)?;
    seen.sheets = input.tables.iter().filter_map(|t| t.location.sheet.clone()).collect();
    let limit = HEADER_SCAN_ROWS.max(settings.map.header_row.unwrap_or(0) as usize);
    let mut best: Option<MapError> = None;
    for table in &input.tables {
        let head = table.head(limit)?;
        match map::detect(&head, &table.location, &settings.map) {
            Ok(mapping) => {
                seen.sheet = table.location.sheet.clone();
                seen.header_row = Some(mapping.header_row);
                seen.headers = mapping.header.clone();
                seen.mapping = Some(mapping.clone());
                return stream(table, &mapping, settings, sink, notes);
            }
            Err(err) => {
                if best.as_ref().is_none_or(|b| err.rank() > b.rank()) {
                    // The row the error speaks of, so its columns can be offered instead.
                    let row = err.location().row;
                    let cells = head.iter().find(|(n, _)| Some(*n) == row).or(head.first());
                    seen.sheet = table.location.sheet.clone();
                    seen.header_row = cells.map(|(n, _)| *n);
                    seen.headers = cells.map(|(_, c)| c.clone()).unwrap_or_default();
                    best = Some(err);
                }
            }
        }
    }
    Err(best
        .unwrap_or(MapError::NoRows(crate::location::Location::file(name)))
        .into())
}

fn stream(
    table: &Table,
    m: &Mapping,
    settings: &InputSettings,
    sink: &mut dyn RowSink,
    notes: &mut Vec<Problem>,
) -> Result<(), InputError> {
    let mut judge = Judge::new(table, m, &settings.current)?;
    let table_id = sink.table(TableRef {
        file: table.location.file.clone(),
        sheet: table.location.sheet.clone(),
        name_column: m.name.header.clone(),
        id_column: m.id.as_ref().map(|c| c.header.clone()),
        org_column: m.org.as_ref().map(|c| c.header.clone()),
        user_column: m.user.as_ref().map(|c| c.header.clone()),
    });
    for (k, (column, code)) in m.kinds.iter().enumerate() {
        sink.kind_table(
            k,
            TableRef {
                file: table.location.file.clone(),
                sheet: table.location.sheet.clone(),
                name_column: column.header.clone(),
                id_column: code.as_ref().map(|c| c.header.clone()),
                org_column: m.org.as_ref().map(|c| c.header.clone()),
                user_column: m.user.as_ref().map(|c| c.header.clone()),
            },
        );
    }
    // Read (and judged) on a thread of their own, told to `sink` here in the same order.
    let (rows, skipped) = std::thread::scope(|scope| {
        let (full, batches) = std::sync::mpsc::sync_channel(handoff::IN_FLIGHT);
        let (empty, recycled) = std::sync::mpsc::channel();
        let reader = scope.spawn(move || {
            let mut recorder = handoff::Recorder::new(full, recycled);
            let counts = read_rows(table, m, settings, table_id, &mut judge, &mut recorder);
            recorder.flush();
            drop(recorder);
            let counts = counts?;
            judge.finish(table)?;
            Ok::<_, InputError>(counts)
        });
        for mut batch in batches {
            batch.replay(sink);
            let _ = empty.send(batch);
        }
        reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    if rows == 0 {
        return Err(MapError::HeaderOnly(table.location.clone().with_row(m.header_row)).into());
    }
    if skipped > 0 {
        notes.push(Problem {
            severity: Severity::Warning,
            location: table.location.clone(),
            message: format!("a results report; {skipped} invalid or stale rows in it were skipped"),
        });
    }
    Ok(())
}

/// Reads every row of `table` into `sink`; the rows read, and the report rows skipped.
fn read_rows(
    table: &Table,
    m: &Mapping,
    settings: &InputSettings,
    table_id: TableId,
    judge: &mut Judge<'_>,
    sink: &mut dyn RowSink,
) -> Result<(u64, u64), InputError> {
    let mut rows = 0u64;
    let mut skipped = 0u64;
    table.for_each_row(m.header_row, m.width, |row| {
        rows += 1;
        let source = Source {
            table: table_id,
            row: u32::try_from(row.number).unwrap_or(u32::MAX),
        };
        if let Some(status) = &m.report_status {
            // A report fed back: its invalid and stale rows were never groups to send.
            if matches!(row.cell(status.index).text().map(str::trim), Some("invalid" | "stale")) {
                skipped += 1;
                return Ok(());
            }
        }
        let report = m.report_status.is_some();
        let name = unneutralize(row.cell(m.name.index), report);
        let code = m.id.as_ref().map(|c| (c, unneutralize(row.cell(c.index), report)));
        let org = match (&settings.map.org, &m.org) {
            (Some(org), _) => Cell::Text(org.as_str().into()),
            (None, Some(c)) => unneutralize(row.cell(c.index), report),
            (None, None) => Cell::Text("".into()),
        };
        let user = m
            .user
            .as_ref()
            .map(|c| user_id(row.cell(c.index), settings.map.keep_email_case));
        // Only members carry a person, so a run without --members reads no extra cells; the
        // cells are read in place, not copied (a million rows).
        let cell = |c: &Option<map::Column>| c.as_ref().filter(|_| user.is_some()).map(|c| row.cell(c.index));
        let [full, first, last, email] = [
            &m.person.full_name,
            &m.person.first_name,
            &m.person.last_name,
            &m.person.email,
        ]
        .map(cell);
        fn text<'c>(c: &'c Option<Cell<'_>>) -> Option<&'c str> {
            c.as_ref().and_then(Cell::text)
        }
        let person_name = crate::normalize::display_name(text(&full), text(&first), text(&last));
        let email = text(&email).and_then(|e| map::email_address(e, settings.map.keep_email_case));
        let row_in = RowIn {
            organization: org.text().unwrap_or("").trim(),
            name: name.text().unwrap_or(""),
            code: code.as_ref().map(|(_, c)| c.text().unwrap_or("")),
            source,
            kind: m.kind,
            user: user.as_deref(),
            person_name: person_name.as_deref(),
            email: email.as_deref(),
            parent: None,
            path: None,
        };
        // Who is current first: a leaver's row takes no part, whatever else is wrong with it.
        match judge.judge(&row) {
            Verdict::Current => {}
            Verdict::LeftOut(why, warning) => {
                if let Some((column, message)) = warning {
                    sink.warning(&row_in, &column, message);
                }
                sink.left_out(&row_in, why);
                return Ok(());
            }
            Verdict::Fault(column, message) => {
                sink.problem(&row_in, &column, message);
                return Ok(());
            }
        }
        // Error cells first: the value a formula should have produced is unknown.
        let errors = [
            (Some(&m.name), &name),
            (m.org.as_ref().filter(|_| settings.map.org.is_none()), &org),
        ]
        .into_iter()
        .chain(code.as_ref().map(|(c, cell)| (Some(*c), cell)));
        for (column, cell) in errors {
            if let (Some(column), Cell::Error(e)) = (column, cell) {
                let message =
                    format!("the cell holds the spreadsheet error {e}; fix the formula or value in the source file");
                sink.problem(&row_in, &column.header, message);
                return Ok(());
            }
        }
        if !screen_name(table, m, &row, &row_in, sink) {
            return Ok(());
        }
        let has_department = !row_in.name.trim().is_empty() || row_in.code.is_some_and(|c| !c.trim().is_empty());
        if row_in.organization.is_empty() && has_department {
            let column = m.org.as_ref().map_or("", |c| c.header.as_str());
            sink.problem(&row_in, column, "no organization on this row".to_owned());
            return Ok(());
        }
        if let (Some(column), Some("")) = (&m.user, row_in.user) {
            if has_department {
                let message = "no user ID on this row; the employee is not added to the group".to_owned();
                sink.warning(&row_in, &column.header, message);
            }
        }
        sink.row(row_in);
        for (k, (column, code)) in m.kinds.iter().enumerate() {
            // An error cell is no value of the kind: the person joins no group of it, said.
            let value = unneutralize(row.cell(column.index), report);
            let code = code.as_ref().map(|c| (c, unneutralize(row.cell(c.index), report)));
            let cells = std::iter::once((column, &value)).chain(code.as_ref().map(|(c, cell)| (*c, cell)));
            for (column, cell) in cells {
                if let Cell::Error(e) = cell {
                    let message = format!(
                        "the cell holds the spreadsheet error {e}; this row joins no group from this column; fix the formula or value in the source file"
                    );
                    sink.warning(&row_in, &column.header, message);
                }
            }
            let code = code.map(|(_, cell)| cell);
            sink.kind_row(
                k,
                RowIn {
                    name: value.text().unwrap_or(""),
                    code: code.as_ref().map(|c| c.text().unwrap_or("")),
                    ..row_in
                },
            );
        }
        Ok::<(), InputError>(())
    })?;
    Ok((rows, skipped))
}

/// Checks the department name beyond its text; `false` when the row was reported and is not
/// to be used: a second header (exports pasted together), a header word as a name, or an empty
/// cell under a merged one. Invisible formatting characters only earn a warning (the
/// normalizer removes them).
fn screen_name(table: &Table, m: &Mapping, row: &read::Row<'_>, row_in: &RowIn<'_>, sink: &mut dyn RowSink) -> bool {
    let (name, column) = (row_in.name.trim(), m.name.header.as_str());
    if map::is_name_header(name) || (!name.is_empty() && name.eq_ignore_ascii_case(column)) {
        let cell = |i: usize| row.cell(i).text().unwrap_or("").to_owned();
        if map::repeats_header(&m.header, cell) {
            sink.warning(row_in, column, "this row repeats the header; it is skipped".into());
        } else {
            let message = format!("'{name}' is a column header, not a department; is this a second header row?");
            sink.problem(row_in, column, message);
        }
        return false;
    }
    if name.is_empty() {
        if let Some(range) = table.merged_below_first_row(row.number, m.name.index) {
            let what = match m.kind {
                ListKind::Departments => "this row has no department name",
                ListKind::Employees => "this employee is in no group",
            };
            let message = format!(
                "row {} is part of the merged cell {range}; only its first row holds the value, so {what} (unmerge the cells and fill in every row)",
                row.number
            );
            match m.kind {
                ListKind::Departments => sink.problem(row_in, column, message),
                ListKind::Employees => sink.warning(row_in, column, message),
            }
            return false;
        }
    }
    let hidden = crate::normalize::slug::hidden_format_chars(name);
    if !hidden.is_empty() {
        let codes: Vec<String> = hidden.iter().map(|c| format!("U+{:04X}", u32::from(*c))).collect();
        let message = format!(
            "the department name holds invisible formatting characters ({}) that could make it display as something else; they are removed",
            codes.join(", ")
        );
        sink.warning(row_in, column, message);
    }
    true
}

/// The user ID sent for a cell: its text, trimmed; an e-mail address lower-cased (mail systems
/// treat case as the same address, Velt compares IDs exactly) unless `keep_case`.
fn user_id(cell: Cell<'_>, keep_case: bool) -> String {
    let text = cell.text().unwrap_or("").trim();
    if !keep_case && text.contains('@') {
        text.to_lowercase()
    } else {
        text.to_owned()
    }
}

/// Undoes the report writers' CSV-injection guard (a `'` before a formula leader) when the
/// input is one of our own reports, so a report fed back sends the very same names.
fn unneutralize(cell: Cell<'_>, report: bool) -> Cell<'_> {
    match cell {
        Cell::Text(t) if report && t.starts_with('\'') && crate::normalize::slug::looks_like_formula(&t[1..]) => {
            Cell::Text(match t {
                std::borrow::Cow::Borrowed(b) => std::borrow::Cow::Borrowed(&b[1..]),
                std::borrow::Cow::Owned(o) => std::borrow::Cow::Owned(o[1..].to_owned()),
            })
        }
        other => other,
    }
}
