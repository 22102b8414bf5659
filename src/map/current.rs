//! The columns that say whether a person still works there: employment status, termination
//! (end) date and start (hire) date, found by the same header matching as the department
//! columns; and the `--where` filters' columns.
//!
//! Several status columns may be used at once: BambooHR exports carry `Status` (Active /
//! Inactive) beside `Employment Status` (Full-Time, Contractor, Terminated...), Workday
//! `Worker Status` beside `Active Status`; a row whose any status says it left is left out.
//! Headers that name the opposite ("Leaver", "Terminated") are marked `negated`, so their
//! Yes / No read the other way round.

use super::aliases::Keys;
use super::person::ByFlag;
use super::{Column, MapError, MapOptions};

/// Status headers (the column's values say active, leave or left).
const STATUS: &[&str] = &[
    "status",
    "employmentstatus",
    "employeestatus",
    "workerstatus",
    "activestatus",
    "positionstatus",
    "lifecyclestatus",
    "employmentstate",
    "personstatus",
    "staffstatus",
    "hrstatus",
    "assignmentstatus",
    "statusofemployment",
    "active",
    "isactive",
    "activeemployee",
    "activeflag",
    "current",
    "iscurrent",
    "currentemployee",
];

/// Headers whose yes means the person left.
const NEGATED_STATUS: &[&str] = &[
    "leaver",
    "isleaver",
    "left",
    "hasleft",
    "terminated",
    "isterminated",
    "inactive",
    "isinactive",
];

/// Termination-date headers, best tier first: exports often carry a last working day beside
/// the termination date, and the termination date is the one HR keys.
const END_DATE: &[&[&str]] = &[
    &[
        "terminationdate",
        "dateoftermination",
        "termdate",
        "terminationeffectivedate",
        "dateterminated",
        "terminateddate",
    ],
    &[
        "separationdate",
        "dateofseparation",
        "leavingdate",
        "dateofleaving",
        "dateleft",
        "leftdate",
        "exitdate",
        "employmentenddate",
        "enddateofemployment",
    ],
    &[
        "lastdayofwork",
        "lastworkingday",
        "lastworkingdate",
        "lastdayworked",
        "enddate",
        "contractenddate",
        "lastday",
    ],
];

/// Start-date headers, best tier first (a rehire's latest hire before a first day or the
/// original hire).
const START_DATE: &[&[&str]] = &[
    &[
        "hiredate",
        "dateofhire",
        "mostrecenthiredate",
        "latesthiredate",
        "datehired",
        "hireddate",
    ],
    &[
        "startdate",
        "employmentstartdate",
        "joiningdate",
        "joindate",
        "dateofjoining",
        "datejoined",
        "firstdayofwork",
        "firstday",
        "contractstartdate",
    ],
    &["originalhiredate", "senioritydate"],
];

/// One status column, and whether its yes means "left".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusColumn {
    /// The column.
    pub column: Column,
    /// True for a "Leaver" or "Terminated" column: its yes is a leaver, its no is current.
    pub negated: bool,
}

/// One `--where` filter: `COLUMN=VALUE[,VALUE...]` or `COLUMN!=VALUE[,VALUE...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The column, by header or 1-based number, as written.
    pub column: String,
    /// True for `!=`: the row must hold none of the values.
    pub exclude: bool,
    /// The values, trimmed and lower-cased (compared case-insensitively).
    pub values: Vec<String>,
    /// The filter as written, for messages.
    pub text: String,
}

impl Filter {
    /// Parses `COLUMN=VALUE[,VALUE...]` or `COLUMN!=VALUE[,VALUE...]`; `Err` says what is wrong.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let (column, values, exclude) = match text.split_once("!=") {
            Some((c, v)) => (c, v, true),
            None => match text.split_once('=') {
                Some((c, v)) => (c, v, false),
                None => {
                    return Err(format!(
                        "'{text}' is not COLUMN=VALUE[,VALUE...] or COLUMN!=VALUE[,VALUE...]"
                    ))
                }
            },
        };
        let column = column.trim();
        if column.is_empty() {
            return Err(format!("'{text}' names no column before the ="));
        }
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_lowercase()).collect();
        Ok(Filter {
            column: column.to_owned(),
            exclude,
            values,
            text: text.trim().to_owned(),
        })
    }

    /// Whether a cell's text passes the filter.
    pub fn passes(&self, cell: &str) -> bool {
        let cell = cell.trim().to_lowercase();
        self.values.contains(&cell) != self.exclude
    }
}

/// The columns that decide who is current, and the filters' columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurrentColumns {
    /// Status columns (none with `--status-column none` or `--include-inactive`).
    pub status: Vec<StatusColumn>,
    /// The termination-date column.
    pub end_date: Option<Column>,
    /// The start-date column.
    pub start_date: Option<Column>,
    /// Each `--where` filter with its column.
    pub filters: Vec<(Column, Filter)>,
}

/// True when a flag's value turns a detection off.
pub fn is_none(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("none")
}

/// Finds the status and date columns (unless `--include-inactive`) and the filters' columns.
/// `used` are the columns already holding a department, its code, the organization or a user.
pub(super) fn detect(
    keys: &[Keys],
    cells: &[String],
    used: &[usize],
    report: bool,
    opts: &MapOptions,
    by_flag: &ByFlag<'_>,
    ambiguous: &dyn Fn(&[usize], &'static str, &'static str) -> MapError,
) -> Result<CurrentColumns, MapError> {
    let column = |index: usize| Column {
        index,
        header: cells[index].trim().to_owned(),
    };
    let free = |i: &usize| !used.contains(i);
    let mut out = CurrentColumns::default();
    // A results report fed back has a `status` column of its own (added, failed...).
    if !opts.include_inactive && !report {
        out.status = match opts.status_column.as_deref() {
            Some(v) if is_none(v) => Vec::new(),
            Some(wanted) => {
                let c = by_flag(wanted, "--status-column")?;
                let negated = keys[c.index].is_in(NEGATED_STATUS);
                vec![StatusColumn { column: c, negated }]
            }
            None => (0..keys.len())
                .filter(free)
                .filter_map(|i| {
                    let negated = keys[i].is_in(NEGATED_STATUS);
                    (negated || keys[i].is_in(STATUS)).then(|| StatusColumn {
                        column: column(i),
                        negated,
                    })
                })
                .collect(),
        };
        let date =
            |flag_value: &Option<String>, flag: &'static str, role: &'static str, tiers: &[&[&str]]| match flag_value
                .as_deref()
            {
                Some(v) if is_none(v) => Ok(None),
                Some(wanted) => by_flag(wanted, flag).map(Some),
                None => {
                    for tier in tiers {
                        let found: Vec<usize> = (0..keys.len()).filter(free).filter(|&i| keys[i].is_in(tier)).collect();
                        match found.as_slice() {
                            [] => continue,
                            [one] => return Ok(Some(column(*one))),
                            many => return Err(ambiguous(many, role, flag)),
                        }
                    }
                    Ok(None)
                }
            };
        out.end_date = date(&opts.end_date_column, "--end-date-column", "end-date", END_DATE)?;
        out.start_date = date(&opts.start_date_column, "--start-date-column", "start-date", START_DATE)?;
    }
    for f in &opts.filters {
        out.filters.push((by_flag(&f.column, "--where")?, f.clone()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::Location;

    fn map(headers: &[&str], opts: MapOptions) -> Result<CurrentColumns, MapError> {
        let head = [(1, headers.iter().map(|h| h.to_string()).collect())];
        let opts = MapOptions {
            org: Some("o".into()),
            ..opts
        };
        super::super::detect(&head, &Location::file("f"), &opts).map(|m| m.current)
    }

    #[test]
    fn every_status_column_and_the_best_dates() {
        let c = map(
            &[
                "Email",
                "Department",
                "Status",
                "Employment Status",
                "Leaver",
                "Last Day of Work",
                "Termination Date",
                "Original Hire Date",
                "Start Date",
                "Hire Date",
            ],
            MapOptions::default(),
        )
        .unwrap();
        let status: Vec<(&str, bool)> = c.status.iter().map(|s| (s.column.header.as_str(), s.negated)).collect();
        assert_eq!(
            status,
            [("Status", false), ("Employment Status", false), ("Leaver", true)]
        );
        assert_eq!(c.end_date.unwrap().header, "Termination Date");
        assert_eq!(c.start_date.unwrap().header, "Hire Date");
        // camelCase and underscores, as the HR sample writes them.
        let c = map(
            &["Dept", "EmploymentStatus", "DateofTermination", "date_of_hire"],
            MapOptions::default(),
        )
        .unwrap();
        assert_eq!(c.status[0].column.header, "EmploymentStatus");
        assert_eq!(c.end_date.unwrap().header, "DateofTermination");
        assert_eq!(c.start_date.unwrap().header, "date_of_hire");
        // ERP spellings: an end date missed is a leaver kept.
        for (end, start) in [
            ("TERMINATION_DT", "HIRE_DT"),
            ("Date Terminated", "Date Hired"),
            ("Term Dt", "Hired Date"),
        ] {
            let c = map(
                &["EMPLID", "Department", "EMPL_STATUS", end, start],
                MapOptions::default(),
            )
            .unwrap();
            assert_eq!(c.status[0].column.header, "EMPL_STATUS");
            assert_eq!(c.end_date.map(|c| c.header).as_deref(), Some(end));
            assert_eq!(c.start_date.map(|c| c.header).as_deref(), Some(start));
        }
    }

    #[test]
    fn two_of_a_rank_are_ambiguous_and_flags_settle_or_turn_off() {
        let headers = ["Department", "Hire Date", "Date of Hire", "Status"];
        let err = map(&headers, MapOptions::default()).unwrap_err().to_string();
        assert_eq!(
            err,
            "f, row 1: both 'Hire Date' and 'Date of Hire' could be the start-date column; choose one with --start-date-column"
        );
        let opts = MapOptions {
            start_date_column: Some("Date of Hire".into()),
            status_column: Some("none".into()),
            ..MapOptions::default()
        };
        let c = map(&headers, opts).unwrap();
        assert_eq!(c.start_date.unwrap().header, "Date of Hire");
        assert!(c.status.is_empty());
        let opts = MapOptions {
            include_inactive: true,
            ..MapOptions::default()
        };
        assert_eq!(map(&headers, opts).unwrap(), CurrentColumns::default());
    }

    #[test]
    fn filters_parse_and_match_case_insensitively() {
        let f = Filter::parse(" Worker Type = Employee, Intern ").unwrap();
        assert_eq!((f.column.as_str(), f.exclude), ("Worker Type", false));
        assert!(f.passes("EMPLOYEE") && f.passes(" intern ") && !f.passes("Contingent Worker"));
        let f = Filter::parse("Country!=FR").unwrap();
        assert!(f.exclude && f.passes("DE") && !f.passes("fr"));
        assert!(Filter::parse("Country").is_err());
        assert!(Filter::parse("=x").is_err());
    }
}
