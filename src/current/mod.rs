//! Who counts as current: from each row's status, end date and start date (the columns
//! `map` found), and the `--where` filters, whether the person goes ahead or is left out, and
//! why. A row is a leaver when a status says so or its end date is on or before the day the run
//! judges by (`--as-of`, else today); not yet started when its start date is after that day.
//! Leave of absence, garden leave and onboarding are current. A status the vocabulary does
//! not know is never guessed: the file stops with every unknown value named.

pub mod date;
mod tell;
pub mod vocab;

use std::collections::BTreeMap;

use jiff::civil::Date;
use thiserror::Error;

use crate::location::Location;
use crate::map::{CurrentColumns, Mapping};
use crate::normalize::Why;
use crate::read::{Cell, ReadError, Row, Table};
use date::{DateFormat, Order};
pub use tell::{columns, counts, departed, describe, groups_to_read, nobody_current, people_of};
use vocab::{Class, Overrides};

/// The operator's rules.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// `--include-inactive`: status and dates decide nothing (filters still apply).
    pub include_inactive: bool,
    /// `--as-of`: the day to judge by; today when `None`.
    pub as_of: Option<Date>,
    /// `--active-values`, `--inactive-values`.
    pub overrides: Overrides,
    /// `--date-format`.
    pub date_format: Option<DateFormat>,
}

impl Rules {
    /// The day the run judges by.
    pub fn day(&self) -> Date {
        self.as_of.unwrap_or_else(|| jiff::ZonedDateTime::now().date())
    }
}

/// A table that cannot be judged: nothing of the run is sent.
#[derive(Debug, Error)]
pub enum CurrentError {
    /// Status values the vocabulary does not know.
    #[error("{location}: unknown status values {values}; nothing was sent: name the current ones with --active-values and the leavers with --inactive-values (comma-separated), or ignore the column with --status-column none")]
    UnknownStatus {
        /// The table and column.
        location: Location,
        /// Each value with its row count and first row.
        values: String,
    },
    /// A date column whose day/month order cannot be told.
    #[error("{location}: {detail}; settle it with --date-format DMY or --date-format MDY")]
    DateOrder {
        /// The table and column.
        location: Location,
        /// What was found.
        detail: String,
    },
    /// Every row was filtered out.
    #[error("{location}: no row is left after --where {filters} ({filtered} of the {rows} rows filtered out, the others not current); check the filter's values against the column's")]
    AllFiltered {
        /// The table.
        location: Location,
        /// The filters as written.
        filters: String,
        /// Rows the filters left out.
        filtered: u64,
        /// Rows read.
        rows: u64,
    },
    /// The table could not be read for the date scan.
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// How one row is judged.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// It goes ahead.
    Current,
    /// It is left out, why, and a warning when something is worth a look.
    LeftOut(Why, Option<(String, String)>),
    /// It cannot be judged (column, message): held back.
    Fault(String, String),
}

/// An unknown status value: rows and the first row.
struct Unknown {
    value: String,
    rows: u64,
    first: u64,
}

/// Judges the rows of one table.
pub struct Judge<'a> {
    columns: &'a CurrentColumns,
    rules: &'a Rules,
    day: Date,
    end_order: Order,
    start_order: Order,
    /// Per date column (end, start): whether its order is known (a value forced it, or
    /// `--date-format`), not merely the default.
    settled: [bool; 2],
    unknown: BTreeMap<(usize, String), Unknown>,
    /// Status texts already classified, in plain and in "Leaver" columns.
    classes: [std::collections::HashMap<String, Option<Class>>; 2],
    rows: u64,
    filtered: u64,
    kept: u64,
}

impl<'a> Judge<'a> {
    /// Prepares the judging of `table`: a date column with dates such as `03/04/2024` is
    /// read once first, to learn its day/month order from the values that can only be read
    /// one way.
    pub fn new(table: &Table, m: &'a Mapping, rules: &'a Rules) -> Result<Self, CurrentError> {
        let columns = &m.current;
        let day = rules.day();
        let mut orders = [Order::DayFirst, Order::DayFirst];
        let mut settled = [rules.date_format.is_some(); 2];
        let dates = [columns.end_date.as_ref(), columns.start_date.as_ref()];
        if rules.date_format.is_none() && dates.iter().any(Option::is_some) {
            let mut scans: [Scan; 2] = Default::default();
            table.for_each_row(m.header_row, m.width, |row| {
                for (scan, column) in scans.iter_mut().zip(dates) {
                    if let Some(Cell::Text(text)) = column.map(|c| row.cell(c.index)) {
                        if !text.trim().is_empty() {
                            scan.see(&text, row.number, day);
                        }
                    }
                }
                Ok::<(), ReadError>(())
            })?;
            for (((order, scan), column), settled) in orders.iter_mut().zip(&scans).zip(dates).zip(&mut settled) {
                *settled = scan.day_first.is_some() || scan.month_first.is_some();
                if let Some(column) = column {
                    *order = scan.order().map_err(|detail| CurrentError::DateOrder {
                        location: table.location.clone().with_column(column.header.clone()),
                        detail,
                    })?;
                }
            }
        }
        if let Some(DateFormat::Order(order)) = rules.date_format {
            orders = [order, order];
        }
        Ok(Judge {
            columns,
            rules,
            day,
            end_order: orders[0],
            start_order: orders[1],
            settled,
            unknown: BTreeMap::new(),
            classes: Default::default(),
            rows: 0,
            filtered: 0,
            kept: 0,
        })
    }

    /// Judges one row.
    pub fn judge(&mut self, row: &Row<'_>) -> Verdict {
        self.rows += 1;
        let mut leaver: Option<Why> = None;
        let mut not_started: Option<Why> = None;
        // The first active-looking status, named only if an end date contradicts it.
        let mut active = None;
        // A cell that cannot be read only holds the row back when nothing else says it left.
        let mut broken = None;
        for s in &self.columns.status {
            let text = match row.cell(s.column.index) {
                Cell::Text(t) => t,
                Cell::Error(e) => {
                    broken.get_or_insert_with(|| fault(&s.column.header, &e));
                    continue;
                }
            };
            let value = text.trim();
            if value.is_empty() {
                continue; // no status: the dates decide
            }
            let why = |f: fn(String, String) -> Why| f(s.column.header.clone(), value.to_owned());
            match self.classify(value, s.negated) {
                Some(Class::Leaver) => {
                    leaver.get_or_insert_with(|| why(|column, value| Why::Status { column, value }));
                }
                Some(Class::NotStarted) => {
                    not_started.get_or_insert_with(|| why(|column, value| Why::NotStartedStatus { column, value }));
                }
                Some(Class::Active) if self.columns.end_date.is_some() => {
                    active.get_or_insert((&s.column.header, value.to_owned()));
                }
                Some(Class::Active) => {}
                Some(Class::Leave) => {}
                None => {
                    let u = self
                        .unknown
                        .entry((s.column.index, vocab::key(value)))
                        .or_insert(Unknown {
                            value: value.to_owned(),
                            rows: 0,
                            first: row.number,
                        });
                    u.rows += 1;
                }
            }
        }
        // A leaver status settles it, whatever the dates say or fail to say: a terminated
        // person whose termination date reads 'TBD' or #N/A must not stay in their group.
        if let Some(why) = leaver {
            return Verdict::LeftOut(why, None);
        }
        if let Some(fault) = broken {
            return fault;
        }
        let end = match self.date(row, self.columns.end_date.as_ref(), self.end_order) {
            Ok(d) => d,
            Err(f) => return f,
        };
        let start = match self.date(row, self.columns.start_date.as_ref(), self.start_order) {
            Ok(d) => d,
            Err(f) => return f,
        };
        // An end before the start closed an earlier employment: a rehire is current. Only
        // when both dates are sure: read in the order merely assumed, `05/04/2024` before
        // `04/05/2024` may be the other way round, and a leaver would pass for a rehire.
        let sure =
            self.sure(row, self.columns.end_date.as_ref(), 0) && self.sure(row, self.columns.start_date.as_ref(), 1);
        let end = end.filter(|e| !sure || start.is_none_or(|s| *e >= s));
        let header = |c: &Option<crate::map::Column>| c.as_ref().map_or(String::new(), |c| c.header.clone());
        if let Some(date) = end.filter(|e| *e <= self.day) {
            let column = header(&self.columns.end_date);
            let warning = active.map(|(status, value)| {
                let message = format!(
                    "{status} is '{value}' but the end date {date} has passed; left out as a leaver (the date wins)"
                );
                (column.clone(), message)
            });
            let date = date.to_string();
            return Verdict::LeftOut(Why::Ended { column, date }, warning);
        }
        if let Some(why) = not_started {
            return Verdict::LeftOut(why, None);
        }
        if let Some(date) = start.filter(|s| *s > self.day) {
            let column = header(&self.columns.start_date);
            let date = date.to_string();
            return Verdict::LeftOut(Why::NotStarted { column, date }, None);
        }
        for (column, filter) in &self.columns.filters {
            if !filter.passes(row.cell(column.index).text().unwrap_or("")) {
                self.filtered += 1;
                let why = Why::Filtered {
                    filter: filter.text.clone(),
                };
                return Verdict::LeftOut(why, None);
            }
        }
        self.kept += 1;
        Verdict::Current
    }

    /// What a status cell says, remembered per text: an export repeats a handful of values.
    fn classify(&mut self, value: &str, negated: bool) -> Option<Class> {
        let cache = &mut self.classes[usize::from(negated)];
        if let Some(class) = cache.get(value) {
            return *class;
        }
        let class = vocab::classify(&vocab::key(value), negated, &self.rules.overrides);
        // A column of free text must not grow the cache without end.
        if cache.len() < 10_000 {
            cache.insert(value.to_owned(), class);
        }
        class
    }

    /// Whether a date cell reads as one date: not ambiguous, or its column's order is known.
    fn sure(&self, row: &Row<'_>, column: Option<&crate::map::Column>, which: usize) -> bool {
        self.settled[which]
            || column.is_none_or(|c| !row.cell(c.index).text().is_some_and(|t| date::read(t).is_ambiguous()))
    }

    /// A date cell, read; `Err` is the row's fault.
    fn date(&self, row: &Row<'_>, column: Option<&crate::map::Column>, order: Order) -> Result<Option<Date>, Verdict> {
        let Some(column) = column else {
            return Ok(None);
        };
        let text = match row.cell(column.index) {
            Cell::Text(t) => t,
            Cell::Error(e) => return Err(fault(&column.header, &e)),
        };
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let date = match &self.rules.date_format {
            Some(DateFormat::Pattern(p)) => date::read_with(text, p),
            _ => date::read(text).date(order),
        };
        match date {
            Some(d) => Ok(Some(d)),
            None => Err(Verdict::Fault(
                column.header.clone(),
                format!("'{text}' is not a date this tool can read; write it as 2024-03-14 (or give its pattern with --date-format)"),
            )),
        }
    }

    /// After the last row: every unknown status value, or a filter that left nothing.
    pub fn finish(self, table: &Table) -> Result<(), CurrentError> {
        if self.rows > 0 && self.kept == 0 && self.filtered > 0 {
            let filters: Vec<&str> = self.columns.filters.iter().map(|(_, f)| f.text.as_str()).collect();
            return Err(CurrentError::AllFiltered {
                location: table.location.clone(),
                filters: filters.join(" --where "),
                filtered: self.filtered,
                rows: self.rows,
            });
        }
        let Some(((index, _), _)) = self.unknown.first_key_value() else {
            return Ok(());
        };
        // Every column's values, the first column named (one line per error).
        let index = *index;
        let column = self
            .columns
            .status
            .iter()
            .find(|s| s.column.index == index)
            .map(|s| s.column.header.clone())
            .unwrap_or_default();
        let mut unknown: Vec<&Unknown> = self.unknown.values().collect();
        unknown.sort_by_key(|u| u.first);
        // A column of free text would make a line no one reads: the first 20, then a count.
        const SHOWN: usize = 20;
        let mut values: Vec<String> = unknown
            .iter()
            .take(SHOWN)
            .map(|u| match u.rows {
                1 => format!("'{}' (1 row: row {})", u.value, u.first),
                n => format!("'{}' ({n} rows, first row {})", u.value, u.first),
            })
            .collect();
        if unknown.len() > SHOWN {
            values.push(format!("and {} more values", unknown.len() - SHOWN));
        }
        Err(CurrentError::UnknownStatus {
            location: table.location.clone().with_column(column),
            values: values.join(", "),
        })
    }
}

fn fault(column: &str, error: &str) -> Verdict {
    Verdict::Fault(
        column.to_owned(),
        format!("the cell holds the spreadsheet error {error}; fix the formula or value in the source file"),
    )
}

/// The values of one date column, for its order.
#[derive(Default)]
struct Scan {
    day_first: Option<(u64, String)>,
    month_first: Option<(u64, String)>,
    ambiguous: Option<(u64, String)>,
}

impl Scan {
    /// Notes one value. A value that reads both ways counts only when its two dates fall on
    /// either side of `day`: otherwise the order changes nobody's verdict.
    fn see(&mut self, text: &str, row: u64, day: Date) {
        let reading = date::read(text);
        let straddles = || {
            let past = |order| reading.date(order).is_some_and(|d| d <= day);
            past(Order::DayFirst) != past(Order::MonthFirst)
        };
        let slot = match reading.forces() {
            Some(Order::DayFirst) => &mut self.day_first,
            Some(Order::MonthFirst) => &mut self.month_first,
            None if reading.is_ambiguous() && straddles() => &mut self.ambiguous,
            None => return,
        };
        slot.get_or_insert_with(|| (row, text.trim().to_owned()));
    }

    fn order(&self) -> Result<Order, String> {
        match (&self.day_first, &self.month_first, &self.ambiguous) {
            (Some((r1, d)), Some((r2, m)), _) => Err(format!(
                "the dates are written both day first ('{d}', row {r1}) and month first ('{m}', row {r2})"
            )),
            (Some(_), None, _) => Ok(Order::DayFirst),
            (None, Some(_), _) => Ok(Order::MonthFirst),
            (None, None, Some((row, text))) => Err(format!(
                "no date tells whether the day or the month comes first, and '{text}' (row {row}) is past read one way and still to come read the other"
            )),
            (None, None, None) => Ok(Order::DayFirst),
        }
    }
}

#[cfg(test)]
mod tests;
