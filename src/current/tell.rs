//! What the run says about the rows left out: the line `check`, `import` and `verify` print,
//! the summary's counts, the departments with nobody current; and which groups a read-back
//! must cover so a leaver still on the server is seen.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;

use crate::map::Mapping;
use crate::normalize::{LeftOut, ListKind, Plan, Why};

/// One line for people: how many rows were left out and why, by reason and value
/// (`104 people left out: EmploymentStatus 'Voluntarily Terminated' 88, ...; 0 not yet
/// started; 0 filtered`), and the departments with nobody current. `None` when nothing was.
pub fn describe(plan: &Plan) -> Option<String> {
    let first = plan.left_out.first()?;
    let noun = match first.kind {
        ListKind::Employees => ("person", "people"),
        ListKind::Departments => ("row", "rows"),
    };
    let mut inactive: BTreeMap<&str, Vec<(String, usize)>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    let (mut not_started, mut filtered) = (0, 0);
    for l in &plan.left_out {
        let (column, value) = match &l.why {
            Why::Status { column, value } => (column.as_str(), format!("'{value}'")),
            Why::Ended { column, .. } => (column.as_str(), "passed".to_owned()),
            Why::NotStartedStatus { .. } | Why::NotStarted { .. } => {
                not_started += 1;
                continue;
            }
            Why::Filtered { .. } => {
                filtered += 1;
                continue;
            }
        };
        if !inactive.contains_key(column) {
            order.push(column);
        }
        let entry = inactive.entry(column).or_default();
        match entry.iter_mut().find(|(v, _)| *v == value) {
            Some((_, n)) => *n += 1,
            None => entry.push((value, 1)),
        }
    }
    let total = plan.left_out.len();
    let mut parts: Vec<String> = order
        .iter()
        .map(|column| {
            let values: Vec<String> = inactive[column].iter().map(|(v, n)| format!("{v} {n}")).collect();
            format!("{column} {}", values.join(", "))
        })
        .collect();
    if parts.is_empty() {
        parts.push("0 leavers".to_owned());
    }
    let mut text = format!(
        "{total} {} left out: {}; {not_started} not yet started; {filtered} filtered",
        if total == 1 { noun.0 } else { noun.1 },
        parts.join("; ")
    );
    let empty = nobody_current(plan);
    if !empty.is_empty() {
        let names: Vec<String> = empty.iter().take(10).map(|n| format!("'{n}'")).collect();
        let more = if empty.len() > 10 {
            format!(" and {} more", empty.len() - 10)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "; no group for {} with nobody current: {}{more}",
            if empty.len() == 1 {
                "1 department".to_owned()
            } else {
                format!("{} departments", empty.len())
            },
            names.join(", ")
        ));
    }
    Some(text)
}

/// Which columns decide who is current in one file, for `check`: `hr.csv: who is current is
/// read from 'Status' (status), 'Termination Date' (end date) as of 2026-12-04`. `None` when
/// nothing decides it.
pub fn columns(file: &str, m: &Mapping, day: Date) -> Option<String> {
    let c = &m.current;
    let mut parts: Vec<String> = c
        .status
        .iter()
        .map(|s| format!("'{}' (status)", s.column.header))
        .collect();
    parts.extend(c.end_date.iter().map(|d| format!("'{}' (end date)", d.header)));
    parts.extend(c.start_date.iter().map(|d| format!("'{}' (start date)", d.header)));
    parts.extend(c.filters.iter().map(|(_, f)| format!("--where {}", f.text)));
    if parts.is_empty() {
        return None;
    }
    let dated = c.end_date.is_some() || c.start_date.is_some();
    Some(format!(
        "{file}: who is current is read from {}{}",
        parts.join(", "),
        if dated { format!(", as of {day}") } else { String::new() }
    ))
}

/// Rows left out by reason, for the summary: `EmploymentStatus 'Terminated'`, `Termination
/// Date passed`, `not yet started`, `filtered`.
pub fn counts(plan: &Plan) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for l in &plan.left_out {
        let key = match &l.why {
            Why::Status { column, value } => format!("{column} '{value}'"),
            Why::Ended { column, .. } => format!("{column} passed"),
            Why::NotStartedStatus { .. } | Why::NotStarted { .. } => "not yet started".to_owned(),
            Why::Filtered { .. } => "filtered".to_owned(),
        };
        *out.entry(key).or_default() += 1;
    }
    out
}

/// The departments (by name) whose every row was left out: they get no group.
pub fn nobody_current(plan: &Plan) -> Vec<String> {
    let kept: std::collections::HashSet<(&str, &str)> = plan
        .organizations
        .iter()
        .flat_map(|o| o.groups.iter().map(move |g| (o.id.as_str(), g.id.as_str())))
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for l in plan.left_out.iter().filter(|l| !l.group_id.is_empty()) {
        let key = (l.organization_id.as_str(), l.group_id.as_str());
        if !kept.contains(&key) && seen.insert(key) {
            out.push(l.group_name.clone());
        }
    }
    out
}

/// The groups to read back for one organization: today's, and those of its people left out
/// (a department with nobody current included), each once.
pub fn groups_to_read(plan: &Plan, organization: &crate::normalize::Organization) -> Vec<String> {
    let mut seen: std::collections::HashSet<&str> = organization.groups.iter().map(|g| g.id.as_str()).collect();
    let mut groups: Vec<String> = organization.groups.iter().map(|g| g.id.clone()).collect();
    for l in people_of(plan, &organization.id).filter(|l| !l.group_id.is_empty()) {
        if seen.insert(l.group_id.as_str()) {
            groups.push(l.group_id.clone());
        }
    }
    groups
}

/// The left-out rows of one organization that name a user (the group may be empty: a leaver's
/// row need not name a department).
pub fn people_of<'p>(plan: &'p Plan, organization: &str) -> impl Iterator<Item = &'p LeftOut> + 'p {
    let organization = organization.to_owned();
    plan.left_out
        .iter()
        .filter(move |l| l.organization_id == organization && !l.user_id.is_empty())
}

/// The people of `organization` left out on every row of theirs: no current row puts them
/// in any group. Such a person has left the organization, so any group the server still
/// lists them in keeps a leaver's access, whichever department their row names (they may
/// have moved before leaving, or their leaver row may name none).
pub fn departed<'p>(plan: &'p Plan, organization: &crate::normalize::Organization) -> BTreeSet<&'p str> {
    let current: BTreeSet<&str> = organization
        .groups
        .iter()
        .flat_map(|g| g.members.iter().map(|m| &*m.user))
        .collect();
    people_of(plan, &organization.id)
        .filter(|l| !l.held_back_too && !l.current_too)
        .map(|l| l.user_id.as_str())
        .filter(|u| !current.contains(u))
        .collect()
}
