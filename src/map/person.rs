//! Person columns of an employee list: a full name (or first and last names) and an e-mail
//! address, carried with each member so that a user can be shown and invited by name.
//!
//! They are optional: a table without them maps as before, and when two columns could fill one
//! of them the leftmost is used (a display name is not worth stopping an import for); the
//! `MapOptions` overrides settle any doubt.

use super::aliases::{Keys, EMAIL_ALIASES, FIRST_NAME_ALIASES, FULL_NAME_ALIASES, LAST_NAME_ALIASES};
use super::ListKind;
use super::{Column, MapError, MapOptions};

/// The columns that describe the person on each row of an employee list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonColumns {
    /// The person's whole name ("Full Name", "Employee Name", "Worker", ...).
    pub full_name: Option<Column>,
    /// Their first name, used with `last_name` when there is no full name.
    pub first_name: Option<Column>,
    /// Their last name.
    pub last_name: Option<Column>,
    /// Their e-mail address (the user column may be the same column).
    pub email: Option<Column>,
}

/// One candidate header row, as detection sees it.
pub(super) struct Headers<'a> {
    /// Each header's keys.
    pub(super) keys: &'a [Keys],
    /// The header cells as written.
    pub(super) cells: &'a [String],
    /// Columns already holding the department name, its code or the organization.
    pub(super) used: &'a [usize],
}

/// A column found by the operator's flag (header or 1-based number), or why not.
pub(super) type ByFlag<'a> = dyn Fn(&str, &'static str) -> Result<Column, MapError> + 'a;

impl Headers<'_> {
    /// The leftmost column of the best tier that has one, skipping used columns.
    fn best(&self, tiers: &[&[&str]]) -> Option<Column> {
        tiers.iter().find_map(|tier| {
            (0..self.keys.len())
                .filter(|i| !self.used.contains(i))
                .find(|&i| self.keys[i].is_in(tier))
                .map(|index| Column {
                    index,
                    header: self.cells[index].trim().to_owned(),
                })
        })
    }
}

/// Finds the person columns of one header row: by the operator's flags first, else by header.
/// A department list has none unless a flag names them.
pub(super) fn detect(
    h: &Headers<'_>,
    kind: ListKind,
    opts: &MapOptions,
    by_flag: &ByFlag<'_>,
) -> Result<PersonColumns, MapError> {
    // Only an employee list has people: in a department list a plain "Name" is the
    // department's, and since `used` holds the department column, a "Name" found here is not it.
    let pick = |flag_value: &Option<String>, flag: &'static str, tiers: &[&[&str]]| match flag_value {
        Some(wanted) => by_flag(wanted, flag).map(Some),
        None if kind == ListKind::Employees => Ok(h.best(tiers)),
        None => Ok(None),
    };
    let email = pick(&opts.email_column, "--email-column", EMAIL_ALIASES)?;
    let first_name = pick(&opts.first_name_column, "--first-name-column", FIRST_NAME_ALIASES)?;
    let last_name = pick(&opts.last_name_column, "--last-name-column", LAST_NAME_ALIASES)?;
    // The weaker full-name headers only when first and last names are missing: BambooHR's
    // "Preferred Name" is a first name, and a first + last pair says more.
    let tiers = if first_name.is_some() && last_name.is_some() {
        &FULL_NAME_ALIASES[..1]
    } else {
        FULL_NAME_ALIASES
    };
    let full_name = pick(&opts.full_name_column, "--full-name-column", tiers)?;
    Ok(PersonColumns {
        full_name,
        first_name,
        last_name,
        email,
    })
}

/// An e-mail cell as carried with a member: trimmed, lower-cased like an e-mail user ID unless
/// `keep_case`; `None` when the cell holds no address (no `@`).
pub fn email_address(text: &str, keep_case: bool) -> Option<String> {
    let text = text.trim();
    if !text.contains('@') || text.contains(char::is_whitespace) {
        return None;
    }
    Some(if keep_case {
        text.to_owned()
    } else {
        text.to_lowercase()
    })
}

#[cfg(test)]
mod tests;
