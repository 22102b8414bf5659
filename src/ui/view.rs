//! What the page is sent: the files as they were read, the problems worded as the terminal
//! words them, and the groups per organization with their status, rows and members. Built
//! from the pipeline's own types; nothing here decides anything.

use std::collections::HashMap;

use serde::Serialize;

use crate::console::{self, Sending};
use crate::input::Seen;
use crate::map::ListKind;
use crate::normalize;
use crate::plan::{Action, Plan, Status};
use crate::upload::UploadSettings;
use crate::wording;

/// The answer to a check: what was found, and what an import would do.
#[derive(Debug, Default, Serialize)]
pub struct CheckView {
    /// Each file as it was read.
    pub files: Vec<FileView>,
    /// Files that cannot be used, one line each, as `error: ...` on the terminal.
    pub errors: Vec<String>,
    /// Warnings and row errors, as the terminal prints them.
    pub problems: Vec<String>,
    /// The groups per organization.
    pub organizations: Vec<OrgView>,
    /// `check`'s summary line.
    pub summary: String,
    /// How many rows were left out and why (people not current, filtered), when any were.
    pub left_out: Option<String>,
    /// Groups and rows held back (conflicts, invalid rows).
    pub held_back: usize,
    /// Members that would be removed.
    pub removals: usize,
    /// Why the removals are held back, when they exceed `max-removals`.
    pub removal_guard: Option<String>,
    /// What an import would send.
    pub sending: Option<Sending>,
    /// The table's rows by what would become of them, in one unit per kind.
    pub tallies: Option<super::outcome::Tallies>,
    /// Why Import cannot send anything, when it cannot.
    pub nothing_to_send: Option<String>,
}

/// One file: where its header was found and which column fills each role.
#[derive(Debug, Serialize)]
pub struct FileView {
    /// The file's name.
    pub file: String,
    /// Its sheets, for a workbook.
    pub sheets: Vec<String>,
    /// The sheet used.
    pub sheet: Option<String>,
    /// The header row, 1-based.
    pub header_row: Option<u64>,
    /// The header row's cells, trimmed.
    pub headers: Vec<String>,
    /// `departments` or `employees`, once mapped.
    pub kind: Option<&'static str>,
    /// Role -> header of the column chosen.
    pub columns: HashMap<&'static str, String>,
}

/// One organization's groups.
#[derive(Debug, Serialize)]
pub struct OrgView {
    /// The organization ID.
    pub id: String,
    /// Its groups, held-back names and rows included.
    pub groups: Vec<GroupRow>,
}

/// One row of the groups table, as the report has it.
#[derive(Debug, Serialize)]
pub struct GroupRow {
    /// The `groupId` (empty for a row too broken to have one).
    pub group_id: String,
    /// The `groupName`.
    pub group_name: String,
    /// `planned`, `unchanged`, `invalid`, `stale`; after an import `added`, `failed`...
    pub status: &'static str,
    /// Why it is held back or failed.
    pub note: String,
    /// Input rows behind it.
    pub rows: usize,
    /// Those rows, for people (`hr.xlsx [Staff] rows 2-4`).
    pub sources: String,
    /// People in it, with members on.
    pub members: Option<usize>,
    /// Requests that carried it.
    pub attempts: u32,
    /// Its kind (`department` unless the page groups by more).
    pub kind: String,
    /// A level of a hierarchy: the path down to it.
    pub path: Option<String>,
}

/// The view of a check that read every file.
pub fn checked(normalized: &normalize::Plan, plan: &Plan, seen: &[Seen], upload: &UploadSettings) -> CheckView {
    CheckView {
        files: files(seen),
        errors: Vec::new(),
        problems: console::problem_lines(&normalized.problems)
            .iter()
            .map(|l| wording::for_page(l))
            .collect(),
        organizations: organizations(normalized, plan),
        summary: crate::cmd::check::summary(normalized),
        left_out: crate::current::describe(normalized),
        held_back: plan.held_back(),
        removals: plan
            .members
            .iter()
            .flatten()
            .filter(|m| m.action == Action::Remove && m.status == Status::Planned)
            .count(),
        removal_guard: plan.removal_guard.as_ref().map(|g| wording::for_page(&g.to_string())),
        sending: Some(Sending::of(plan, upload)),
        tallies: Some(super::outcome::Tallies::of(plan)),
        nothing_to_send: super::outcome::sentence(plan)
            .is_none()
            .then(|| super::outcome::nothing_to_send(plan)),
    }
}

/// The view of a check that stopped at `errors` (one per line, as the terminal prints them).
pub fn failed(errors: &[String], seen: &[Seen]) -> CheckView {
    CheckView {
        files: files(seen),
        errors: errors
            .iter()
            .flat_map(|e| {
                e.lines()
                    .map(|l| format!("error: {}", wording::for_page(l)))
                    .collect::<Vec<_>>()
            })
            .collect(),
        ..CheckView::default()
    }
}

fn files(seen: &[Seen]) -> Vec<FileView> {
    seen.iter()
        .map(|s| {
            let mut columns = HashMap::new();
            if let Some(m) = &s.mapping {
                let roles = [
                    ("name", Some(&m.name)),
                    ("id", m.id.as_ref()),
                    ("org", m.org.as_ref()),
                    ("user", m.user.as_ref()),
                    ("full_name", m.person.full_name.as_ref()),
                    ("first_name", m.person.first_name.as_ref()),
                    ("last_name", m.person.last_name.as_ref()),
                    ("email", m.person.email.as_ref()),
                ];
                for (role, column) in roles {
                    if let Some(c) = column {
                        columns.insert(role, c.header.clone());
                    }
                }
                // Who counts as current: every status column used, and the dates.
                let status: Vec<&str> = m.current.status.iter().map(|s| s.column.header.as_str()).collect();
                if !status.is_empty() {
                    columns.insert("status", status.join("', '"));
                }
                for (role, column) in [("end_date", &m.current.end_date), ("start_date", &m.current.start_date)] {
                    if let Some(c) = column {
                        columns.insert(role, c.header.clone());
                    }
                }
            }
            FileView {
                file: s.file.clone(),
                sheets: s.sheets.clone(),
                sheet: s.sheet.clone(),
                header_row: s.header_row,
                headers: s.headers.iter().map(|h| h.trim().to_owned()).collect(),
                kind: s.mapping.as_ref().map(|m| match m.kind {
                    ListKind::Departments => "departments",
                    ListKind::Employees => "employees",
                }),
                columns,
            }
        })
        .collect()
}

/// The plan's groups per organization, with each group's member count when members are on.
pub fn organizations(normalized: &normalize::Plan, plan: &Plan) -> Vec<OrgView> {
    let members: HashMap<(&str, &str), usize> = normalized
        .organizations
        .iter()
        .flat_map(|o| {
            o.groups
                .iter()
                .map(move |g| ((o.id.as_str(), g.id.as_str()), g.members.len()))
        })
        .collect();
    let mut out: Vec<OrgView> = Vec::new();
    for o in &plan.groups {
        let row = GroupRow {
            group_id: o.group_id.clone(),
            group_name: o.group_name.clone(),
            status: o.status.as_str(),
            note: match o.status {
                Status::Failed => cause(&wording::for_page(&o.error)),
                _ => wording::for_page(&o.error),
            },
            rows: o.sources.len(),
            sources: normalized.describe_sources(&o.sources),
            members: plan
                .members
                .is_some()
                .then(|| members.get(&(o.organization_id.as_str(), o.group_id.as_str())).copied())
                .flatten(),
            attempts: o.attempts,
            kind: o.kind.to_string(),
            path: o.path.as_deref().map(str::to_owned),
        };
        match out.last_mut() {
            Some(last) if last.id == o.organization_id => last.groups.push(row),
            _ => out.push(OrgView {
                id: o.organization_id.clone(),
                groups: vec![row],
            }),
        }
    }
    out
}

/// A failed row's cause in plain words, ahead of what the server said (kept whole, as the
/// report has it). Our own notes ("not attempted: ...", "refused by the server: ...") are
/// plain already.
pub fn cause(error: &str) -> String {
    let http = |codes: &[&str]| {
        codes
            .iter()
            .any(|c| error.contains(&format!("(HTTP {c}")) || error.starts_with(&format!("HTTP {c}")))
    };
    let plain = if http(&["5"]) {
        Some("The server failed on every try (it may be down or overloaded); retry later.")
    } else if http(&["429"]) {
        Some("The server kept asking to slow down; retry later.")
    } else if http(&["401", "403"]) {
        Some("The server refused the credentials.")
    } else if http(&["4"]) {
        Some("The server refused it as sent.")
    } else if error.starts_with("no answer within") {
        Some("The server did not answer in time on any try; retry later.")
    } else if error.starts_with("cannot connect") || error.starts_with("connection failed") {
        Some("The server could not be reached; check the network, then retry.")
    } else {
        None
    };
    match plain {
        Some(plain) => format!("{plain} It said: {error}"),
        None => error.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn causes_in_plain_words() {
        assert_eq!(
            super::cause("INTERNAL (HTTP 500): boom (gave up after 5 attempts)"),
            "The server failed on every try (it may be down or overloaded); retry later. It said: INTERNAL (HTTP 500): boom (gave up after 5 attempts)"
        );
        assert!(super::cause("RESOURCE_EXHAUSTED (HTTP 429): m").starts_with("The server kept asking"));
        assert_eq!(super::cause("not attempted: interrupted"), "not attempted: interrupted");
    }
}
