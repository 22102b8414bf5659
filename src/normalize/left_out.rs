//! Rows left out because the person is not current (a leaver, not yet started) or a `--where`
//! filter excludes them: not a group's row, not a member, and listed with the reason.

use super::{slug, ListKind, Source};

/// Why a row is left out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Why {
    /// A status column holds a leaver value.
    Status {
        /// The column's header.
        column: String,
        /// The value as written.
        value: String,
    },
    /// The end date is on or before the day the run judges by.
    Ended {
        /// The column's header.
        column: String,
        /// The date, ISO.
        date: String,
    },
    /// The status says the person has not started (a pre-hire).
    NotStartedStatus {
        /// The column's header.
        column: String,
        /// The value as written.
        value: String,
    },
    /// The start date is after the day the run judges by.
    NotStarted {
        /// The column's header.
        column: String,
        /// The date, ISO.
        date: String,
    },
    /// A `--where` filter excludes the row.
    Filtered {
        /// The filter as written.
        filter: String,
    },
}

impl Why {
    /// True for a leaver (as opposed to a person not yet started, or a filtered row).
    pub fn is_inactive(&self) -> bool {
        matches!(self, Why::Status { .. } | Why::Ended { .. })
    }

    /// True for a person who has not started yet.
    pub fn is_not_started(&self) -> bool {
        matches!(self, Why::NotStartedStatus { .. } | Why::NotStarted { .. })
    }
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::Status { column, value } => write!(f, "left out: {column} is '{value}', a leaver"),
            Why::Ended { column, date } => write!(f, "left out: {column} {date} has passed"),
            Why::NotStartedStatus { column, value } => {
                write!(f, "left out: {column} is '{value}', not started yet")
            }
            Why::NotStarted { column, date } => write!(f, "left out: {column} {date} is still to come"),
            Why::Filtered { filter } => write!(f, "left out: --where {filter} excludes this row"),
        }
    }
}

/// One row left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The organization (may be empty when the row has none).
    pub organization_id: String,
    /// The group the row would have joined (empty when the row names none that could be one).
    pub group_id: String,
    /// The department as written, cleaned.
    pub group_name: String,
    /// The user ID, with `--members` (empty otherwise).
    pub user_id: String,
    /// Why.
    pub why: Why,
    /// Where.
    pub source: Source,
    /// A department list's row or an employee's.
    pub kind: ListKind,
    /// True when the same user is also on a held-back row (a conflict, an invalid row): a
    /// current row of theirs may be among them, so their removal waits like everyone's.
    pub held_back_too: bool,
    /// True when the same user is also on a row that goes ahead (one without a department,
    /// say): they still work there, so they are no leaver beyond this row's group.
    pub current_too: bool,
}

/// The group a row would have joined: its code's ID when it has one, else its name's, made as
/// for a row that goes ahead. The normalizer's later judgements (a code named two ways) are not
/// made for rows that take no part in them.
pub fn group_of(name: &str, code: Option<&str>) -> (String, String) {
    let name = slug::clean_name(name);
    let id = match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => slug::slug(&slug::clean_name(code)),
        None => slug::slug(&name),
    };
    (id.unwrap_or_default(), name.into_owned())
}
