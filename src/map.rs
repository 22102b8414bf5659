//! Column mapping: finds the header row and decides which columns hold the department name,
//! its code and the organization, from aliases seen in real HR exports or from the operator's
//! flags.
//!
//! Headers are compared case-, space- and punctuation-insensitively ("Home Department
//! Description" = "home_department_description"), and by words with abbreviations expanded
//! ("EmpID" = "Employee ID"; see `map/aliases.rs`). Aliases come in tiers: a column matching a
//! better tier wins; two columns in the best tier are ambiguous and the operator must choose.
//! An employee list's person columns (name, e-mail) are found too (`map/person.rs`).

mod header;

use thiserror::Error;

use header::{advice, closest};
pub use header::{detect, is_name_header, repeats_header};

use crate::location::Location;

mod aliases;
mod current;
mod person;

use aliases::{Keys, ID_ALIASES, NAME_ALIASES, ORG_ALIASES, USER_ALIASES};
pub use current::{is_none as turns_off, CurrentColumns, Filter, StatusColumn};
pub use person::{email_address, PersonColumns};

/// The operator's mapping flags.
#[derive(Debug, Clone, Default)]
pub struct MapOptions {
    /// `--name-column`.
    pub name_column: Option<String>,
    /// `--id-column`.
    pub id_column: Option<String>,
    /// `--org-column`.
    pub org_column: Option<String>,
    /// `--org`: one organization for every row (the organization column is then ignored).
    pub org: Option<String>,
    /// `--header-row`, 1-based.
    pub header_row: Option<u64>,
    /// `--members`: a user column is needed too.
    pub members: bool,
    /// `--user-column`.
    pub user_column: Option<String>,
    /// `--keep-email-case`: send e-mail user IDs as written.
    pub keep_email_case: bool,
    /// The person's full-name column, instead of detecting it.
    pub full_name_column: Option<String>,
    /// The person's first-name column, instead of detecting it.
    pub first_name_column: Option<String>,
    /// The person's last-name column, instead of detecting it.
    pub last_name_column: Option<String>,
    /// The person's e-mail column, instead of detecting it.
    pub email_column: Option<String>,
    /// `--status-column` (`none`: no status column).
    pub status_column: Option<String>,
    /// `--end-date-column` (`none`: no end-date column).
    pub end_date_column: Option<String>,
    /// `--start-date-column` (`none`: no start-date column).
    pub start_date_column: Option<String>,
    /// `--include-inactive`: no status or date column is looked for.
    pub include_inactive: bool,
    /// `--where` filters.
    pub filters: Vec<Filter>,
    /// The columns of every `--group-by` kind after the first (the first is `name_column`
    /// and `id_column`): each kind's column and, when it has one, its code column.
    pub kinds: Vec<(String, Option<String>)>,
}

/// Whether a table lists departments or employees: it decides how an empty name is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// One row per department: a row without a name is an error.
    Departments,
    /// One row per person: a person without a department is a warning.
    Employees,
}

/// A mapped column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// 0-based index in the row.
    pub index: usize,
    /// Header text, for messages.
    pub header: String,
}

/// How one table's columns are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The header's row number (1-based).
    pub header_row: u64,
    /// Header cells up to the last non-empty one.
    pub width: usize,
    /// Department name.
    pub name: Column,
    /// Department code, when there is one.
    pub id: Option<Column>,
    /// Organization, unless `--org` is given.
    pub org: Option<Column>,
    /// Department list or employee list.
    pub kind: ListKind,
    /// The `status` column when the table is a velt-groups results report fed back as input.
    pub report_status: Option<Column>,
    /// The user-ID column, with `--members`.
    pub user: Option<Column>,
    /// The person's name and e-mail columns, in an employee list.
    pub person: PersonColumns,
    /// The header row's cells, up to `width`: a data row equal to it is a repeated header.
    pub header: Vec<String>,
    /// The status and date columns that decide who is current, and the filters' columns.
    pub current: CurrentColumns,
    /// The columns of each `--group-by` kind after the first, in order, with their code
    /// columns.
    pub kinds: Vec<(Column, Option<Column>)>,
}

/// Why no mapping could be made.
#[derive(Debug, Error, PartialEq)]
pub enum MapError {
    /// No header row with a department column.
    #[error("{location}: no department column among the headers ({headers}); name it with --name-column")]
    NoNameColumn {
        /// The table (and the row looked at).
        location: Location,
        /// The headers found.
        headers: String,
    },
    /// A flag names a column that is not there.
    #[error("{location}: no column '{wanted}' (from {flag}) among the headers in row {row} ({headers}){}", advice(.suggestion.as_deref(), *.row))]
    NoSuchColumn {
        /// The table and header row.
        location: Location,
        /// The flag.
        flag: &'static str,
        /// What it asked for.
        wanted: String,
        /// The header row looked at.
        row: u64,
        /// The headers found.
        headers: String,
        /// The header closest to what was asked for, when one is close.
        suggestion: Option<String>,
    },
    /// A flag gives a column number past the header's last column.
    #[error("{location}: no column {number} (from {flag}): the header in row {row} has {count} columns ({headers}); if the header is not row {row}, give its row with --header-row")]
    NoSuchColumnNumber {
        /// The table and header row.
        location: Location,
        /// The flag.
        flag: &'static str,
        /// The 1-based number asked for.
        number: usize,
        /// The header row looked at.
        row: u64,
        /// Columns in the header row.
        count: usize,
        /// The headers found.
        headers: String,
    },
    /// Two columns could both be the one wanted.
    #[error("{location}: both {candidates} could be the {role} column; choose one with {flag}")]
    Ambiguous {
        /// The table and header row.
        location: Location,
        /// "department", "department code" or "organization".
        role: &'static str,
        /// The candidates, quoted.
        candidates: String,
        /// The flag that settles it.
        flag: &'static str,
    },
    /// Neither `--org` nor an organization column.
    #[error("{location}: no organization column among the headers ({headers}); give one organization for every row with --org ID, or name the column with --org-column")]
    NoOrganization {
        /// The table and header row.
        location: Location,
        /// The headers found.
        headers: String,
    },
    /// The table has no rows at all.
    #[error("{0}: there are no rows to read")]
    NoRows(Location),
    /// `--header-row` points at a blank row or past the rows looked at.
    #[error("{0}: --header-row points at a row that is blank or missing")]
    NoHeaderRow(Location),
    /// The table has a header but no data below it.
    #[error("{0}: there is a header but no data rows below it")]
    HeaderOnly(Location),
    /// `--members` without a user column.
    #[error("{location}: no user column among the headers ({headers}) for --members; name it with --user-column")]
    NoUserColumn {
        /// The table and header row.
        location: Location,
        /// The headers found.
        headers: String,
    },
}

impl MapError {
    /// How header-like the failing row was: the most telling failure is the one reported
    /// ("ambiguous" on the real header beats "no department column" on a title row).
    pub fn rank(&self) -> u8 {
        match self {
            MapError::NoRows(_) | MapError::NoHeaderRow(_) => 0,
            MapError::NoNameColumn { .. } => 1,
            MapError::NoSuchColumn { .. } | MapError::NoSuchColumnNumber { .. } => 2,
            MapError::Ambiguous { .. } => 3,
            MapError::NoOrganization { .. } | MapError::NoUserColumn { .. } => 4,
            MapError::HeaderOnly(_) => 5,
        }
    }
}

/// Normalized header text: lower case, letters and digits only.
fn key(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The headers as a list for messages: `'Name', 'Email', 'Site'`.
pub fn list_headers(cells: &[String]) -> String {
    let shown: Vec<String> = cells
        .iter()
        .filter(|c| !c.trim().is_empty())
        .take(30)
        .map(|c| format!("'{}'", c.trim()))
        .collect();
    if shown.is_empty() {
        "none".to_owned()
    } else {
        shown.join(", ")
    }
}

/// Maps one candidate header row.
fn map_row(row: u64, cells: &[String], table: &Location, opts: &MapOptions) -> Result<Mapping, MapError> {
    let at = table.clone().with_row(row);
    let keys: Vec<String> = cells.iter().map(|c| key(c)).collect();
    let aliased: Vec<Keys> = cells.iter().map(|c| Keys::of(c)).collect();
    let headers = || list_headers(cells);
    let column = |index: usize| Column {
        index,
        header: cells[index].trim().to_owned(),
    };
    let by_flag = |wanted: &str, flag: &'static str| -> Result<Column, MapError> {
        let k = key(wanted);
        if let Some(i) = keys.iter().position(|h| *h == k && !k.is_empty()) {
            return Ok(column(i));
        }
        // A 1-based column number, for files whose headers are blank or unusable.
        if let Ok(n) = wanted.trim().parse::<usize>() {
            if (1..=cells.len()).contains(&n) {
                // A blank header is named by its letter in messages.
                let header = match cells[n - 1].trim() {
                    "" => crate::location::column_letter(n - 1),
                    text => text.to_owned(),
                };
                return Ok(Column { index: n - 1, header });
            }
            return Err(MapError::NoSuchColumnNumber {
                location: at.clone(),
                flag,
                number: n,
                row,
                count: cells.iter().rposition(|c| !c.trim().is_empty()).map_or(0, |i| i + 1),
                headers: headers(),
            });
        }
        Err(MapError::NoSuchColumn {
            location: at.clone(),
            flag,
            wanted: wanted.to_owned(),
            row,
            headers: headers(),
            suggestion: closest(wanted, cells).map(str::to_owned),
        })
    };
    let by_alias = |tiers: &[&[&str]], role: &'static str, flag: &'static str| -> Result<Option<Column>, MapError> {
        for tier in tiers {
            let found: Vec<usize> = (0..keys.len()).filter(|&i| aliased[i].is_in(tier)).collect();
            match found.as_slice() {
                [] => continue,
                [one] => return Ok(Some(column(*one))),
                many => {
                    let candidates: Vec<String> = many.iter().map(|&i| format!("'{}'", cells[i].trim())).collect();
                    return Err(MapError::Ambiguous {
                        location: at.clone(),
                        role,
                        candidates: candidates.join(" and "),
                        flag,
                    });
                }
            }
        }
        Ok(None)
    };

    let name = match &opts.name_column {
        Some(wanted) => by_flag(wanted, "--name-column")?,
        None => by_alias(NAME_ALIASES, "department", "--name-column")?.ok_or_else(|| MapError::NoNameColumn {
            location: at.clone(),
            headers: headers(),
        })?,
    };
    let id = match &opts.id_column {
        Some(wanted) => Some(by_flag(wanted, "--id-column")?),
        None => by_alias(ID_ALIASES, "department code", "--id-column")?,
    };
    let org =
        match (&opts.org, &opts.org_column) {
            (Some(_), _) => None,
            (None, Some(wanted)) => Some(by_flag(wanted, "--org-column")?),
            (None, None) => Some(by_alias(ORG_ALIASES, "organization", "--org-column")?.ok_or_else(|| {
                MapError::NoOrganization {
                    location: at.clone(),
                    headers: headers(),
                }
            })?),
        };
    let user = match (&opts.user_column, opts.members) {
        (Some(wanted), _) => Some(by_flag(wanted, "--user-column")?),
        (None, true) => {
            Some(
                by_alias(USER_ALIASES, "user", "--user-column")?.ok_or_else(|| MapError::NoUserColumn {
                    location: at.clone(),
                    headers: headers(),
                })?,
            )
        }
        (None, false) => None,
    };
    let used = [
        Some(name.index),
        id.as_ref().map(|c| c.index),
        org.as_ref().map(|c| c.index),
    ];
    let kind = if user.is_some() || (0..keys.len()).any(|i| !used.contains(&Some(i)) && aliased[i].is_person_hint()) {
        ListKind::Employees
    } else {
        ListKind::Departments
    };
    let person = person::detect(
        &person::Headers {
            keys: &aliased,
            cells,
            used: &used.iter().flatten().copied().collect::<Vec<_>>(),
        },
        kind,
        opts,
        &by_flag,
    )?;
    let width = cells.iter().rposition(|c| !c.trim().is_empty()).map_or(0, |i| i + 1);
    // A results report has exactly these columns first; its rows carry a status to honour.
    let is_report = keys.len() >= 4 && keys[..4] == ["organizationid", "groupid", "groupname", "status"];
    let ambiguous = |many: &[usize], role: &'static str, flag: &'static str| {
        let candidates: Vec<String> = many.iter().map(|&i| format!("'{}'", cells[i].trim())).collect();
        MapError::Ambiguous {
            location: at.clone(),
            role,
            candidates: candidates.join(" and "),
            flag,
        }
    };
    let taken: Vec<usize> = used
        .iter()
        .flatten()
        .chain(user.as_ref().map(|c| &c.index))
        .copied()
        .collect();
    let current = current::detect(&aliased, cells, &taken, is_report, opts, &by_flag, &ambiguous)?;
    let kinds = opts
        .kinds
        .iter()
        .map(|(column, code)| {
            let code = code.as_deref().map(|c| by_flag(c, "--group-by")).transpose()?;
            Ok((by_flag(column, "--group-by")?, code))
        })
        .collect::<Result<Vec<_>, MapError>>()?;
    Ok(Mapping {
        header_row: row,
        width,
        name,
        id,
        org,
        kind,
        report_status: is_report.then(|| column(3)),
        user,
        person,
        header: cells[..width].to_vec(),
        current,
        kinds,
    })
}

#[cfg(test)]
mod tests;
