//! Which row is the header: the first of the top rows that names a column the mapping knows
//! (or that a flag names), whatever a column given by number would accept; and the wording of
//! what went wrong, against that row.

use super::aliases::{ID_ALIASES, NAME_ALIASES, ORG_ALIASES, PERSON_HINTS, USER_ALIASES};
use super::{key, map_row, MapError, MapOptions, Mapping};
use crate::location::Location;

/// Finds the header among the top rows of a table and maps its columns.
pub fn detect(head: &[(u64, Vec<String>)], table: &Location, opts: &MapOptions) -> Result<Mapping, MapError> {
    if head.is_empty() {
        return Err(MapError::NoRows(table.clone()));
    }
    if let Some(wanted) = opts.header_row {
        let (row, cells) = head
            .iter()
            .find(|(n, _)| *n == wanted)
            .ok_or_else(|| MapError::NoHeaderRow(table.clone().with_row(wanted)))?;
        return map_row(*row, cells, table, opts);
    }
    let mut candidates: Vec<&(u64, Vec<String>)> = head.iter().filter(|(_, c)| looks_like_header(c, opts)).collect();
    if candidates.is_empty() {
        candidates.push(fullest_row(head));
    }
    // The first header-like row that maps wins; the most telling failure is reported when none
    // does, so a wrong flag is explained against the header, not against a title line.
    let mut best: Option<MapError> = None;
    for (row, cells) in candidates {
        match map_row(*row, cells, table, opts) {
            Ok(mapping) => return Ok(mapping),
            Err(err) => {
                if best.as_ref().is_none_or(|b| err.rank() > b.rank()) {
                    best = Some(err);
                }
            }
        }
    }
    Err(best.expect("there is a candidate row"))
}

/// True when a row has a cell that names a column: a known header, or a header a flag names.
/// A column given by number says nothing about which row is the header, so without this a
/// title row as wide as the table would be taken for it.
fn looks_like_header(cells: &[String], opts: &MapOptions) -> bool {
    let flags: Vec<String> = [&opts.name_column, &opts.id_column, &opts.org_column, &opts.user_column]
        .into_iter()
        .flatten()
        .filter(|f| f.trim().parse::<usize>().is_err())
        .map(|f| key(f))
        .collect();
    cells
        .iter()
        .map(|c| key(c))
        .any(|k| !k.is_empty() && (is_known_header(&k) || flags.contains(&k)))
}

/// True when a normalized header is one of the known column names of any role, compared
/// whole: "Acme employee directory" is a title, not a header.
fn is_known_header(k: &str) -> bool {
    [NAME_ALIASES, ID_ALIASES, ORG_ALIASES, USER_ALIASES]
        .iter()
        .flat_map(|tiers| tiers.iter())
        .any(|tier| tier.contains(&k))
        || PERSON_HINTS.contains(&k)
}

/// Without a recognizable header, the first row at least half as full as the fullest: title
/// lines hold one or two cells, a header one per column.
fn fullest_row(head: &[(u64, Vec<String>)]) -> &(u64, Vec<String>) {
    let filled = |cells: &Vec<String>| cells.iter().filter(|c| !c.trim().is_empty()).count();
    let widest = head.iter().map(|(_, c)| filled(c)).max().unwrap_or(0);
    let needed = widest.div_ceil(2).max(widest.min(2));
    head.iter().find(|(_, c)| filled(c) >= needed).unwrap_or(&head[0])
}

/// True when `text` is a department-name header ("Department", "Dept"...): as a department
/// name it is a second header row or a misplaced label, never a department.
pub fn is_name_header(text: &str) -> bool {
    // No alias is anywhere near this long: such text is a department, whatever it holds.
    if text.len() > 64 {
        return false;
    }
    // Asked of every row of an export: the key is built on the stack, and a character no
    // alias has (past the longest alias, or not ASCII) ends it early.
    let mut buf = [0u8; ALIAS_MAX];
    let mut len = 0;
    let mut push = |c: char| {
        if !c.is_ascii() || len == ALIAS_MAX {
            return false;
        }
        buf[len] = c as u8;
        len += 1;
        true
    };
    for c in text.chars() {
        let kept = if c.is_ascii() {
            !c.is_ascii_alphanumeric() || push(c.to_ascii_lowercase())
        } else {
            !c.is_alphanumeric() || c.to_lowercase().all(&mut push)
        };
        if !kept {
            return false;
        }
    }
    let k = &buf[..len];
    NAME_ALIASES.iter().any(|tier| tier.iter().any(|a| a.as_bytes() == k))
}

/// Longer than every department-name alias (a test holds it).
const ALIAS_MAX: usize = 48;

/// True when a data row's cells are the header's, compared as headers are.
pub fn repeats_header(header: &[String], cell: impl Fn(usize) -> String) -> bool {
    header.iter().enumerate().all(|(i, h)| key(h) == key(&cell(i)))
}

/// The end of a "no such column" message: the closest header, and where to look otherwise.
pub(super) fn advice(suggestion: Option<&str>, row: u64) -> String {
    match suggestion {
        Some(s) => format!("; did you mean '{s}'? If the header is not row {row}, give its row with --header-row"),
        None => format!("; if the header is not row {row}, give its row with --header-row"),
    }
}

/// The header most like `wanted`, if it is close enough to be a typo of it.
pub(super) fn closest<'a>(wanted: &str, cells: &'a [String]) -> Option<&'a str> {
    let k = key(wanted);
    cells
        .iter()
        .map(|c| (c.trim(), strsim::normalized_damerau_levenshtein(&k, &key(c))))
        .filter(|(c, score)| !c.is_empty() && *score >= 0.6)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

impl MapError {
    /// Where it went wrong: the table, and the header row looked at when there was one.
    pub fn location(&self) -> &Location {
        match self {
            MapError::NoNameColumn { location, .. }
            | MapError::NoSuchColumn { location, .. }
            | MapError::NoSuchColumnNumber { location, .. }
            | MapError::Ambiguous { location, .. }
            | MapError::NoOrganization { location, .. }
            | MapError::NoUserColumn { location, .. } => location,
            MapError::NoRows(location) | MapError::NoHeaderRow(location) | MapError::HeaderOnly(location) => location,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u64, cells: &[&str]) -> (u64, Vec<String>) {
        (n, cells.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn a_column_number_does_not_make_a_title_row_the_header() {
        let opts = MapOptions {
            name_column: Some("4".into()),
            org: Some("o".into()),
            ..MapOptions::default()
        };
        let title = ["Acme directory", "", "", ""];
        let head = [row(1, &title), row(3, &["Employee ID", "Email", "Site", "Abteilung"])];
        let m = detect(&head, &Location::file("f"), &opts).unwrap();
        assert_eq!((m.header_row, m.name.header.as_str()), (3, "Abteilung"));
        // Nothing recognizable: the first row as full as a header.
        let head = [
            row(1, &title),
            row(2, &["A", "B", "", "D"]),
            row(3, &["1", "2", "3", "4"]),
        ];
        assert_eq!(detect(&head, &Location::file("f"), &opts).unwrap().header_row, 2);
    }

    #[test]
    fn typos_get_a_suggestion_and_strangers_do_not() {
        let cells: Vec<String> = ["Employee ID", "Division", "Site"].map(String::from).to_vec();
        assert_eq!(closest("Divison", &cells), Some("Division"));
        assert_eq!(closest("employe id", &cells), Some("Employee ID"));
        assert_eq!(closest("Department", &cells), None);
    }

    #[test]
    fn header_words_and_repeated_headers() {
        assert!(is_name_header(" DEPT "));
        assert!(is_name_header("Home Department Description"));
        assert!(!is_name_header("Sales"));
        let longest = NAME_ALIASES.iter().flat_map(|t| t.iter()).map(|a| a.len()).max();
        assert!(longest < Some(ALIAS_MAX), "{longest:?}");
        // The same answer as the header key gives, whatever the text.
        let long = "Department".repeat(5);
        for text in [
            "Département",
            "D-E-P-T",
            "\u{212A}Team",
            "Grup",
            "Team\u{301}",
            "TEAM NAME",
            &long,
            "",
        ] {
            let by_key = text.len() <= 64 && NAME_ALIASES.iter().any(|tier| tier.contains(&key(text).as_str()));
            assert_eq!(is_name_header(text), by_key, "{text}");
        }
        assert!(is_name_header("D-E-P-T"));
        // Long text is a department even when its letters spell a header word.
        assert!(!is_name_header(&format!("Department{}", "-".repeat(60))));
        let header: Vec<String> = ["Department", "Email"].map(String::from).to_vec();
        assert!(repeats_header(&header, |i| ["department", "E-mail"][i].to_owned()));
        assert!(!repeats_header(&header, |i| ["Department", "a@x.com"][i].to_owned()));
    }
}
