//! Reporting: one outcome per group (and per held-back row), written so that an operator can fix
//! and re-run, and so that Excel opens it safely.
//!
//! The CSV columns are a contract: `organization_id, group_id, group_name, status, attempts,
//! error, sources`. `check --format csv` writes the same columns with `planned` and `invalid`.

pub mod csv;

use std::borrow::Cow;

use serde::Serialize;

use crate::normalize::{Plan, Source};

/// What happened to one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The server confirmed it.
    Added,
    /// Sent, not confirmed; the error says why.
    Failed,
    /// Held back by the normalizer (conflict or bad row).
    Invalid,
    /// Skipped: the state says it is already there with this name.
    Unchanged,
    /// Dry run: would be sent.
    Planned,
}

impl Status {
    /// The word written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Failed => "failed",
            Status::Invalid => "invalid",
            Status::Unchanged => "unchanged",
            Status::Planned => "planned",
        }
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The organization.
    pub organization_id: String,
    /// The group ID (empty for a row too broken to have one).
    pub group_id: String,
    /// The group name.
    pub group_name: String,
    /// What happened.
    pub status: Status,
    /// Requests that carried this group.
    pub attempts: u32,
    /// Why it is not added, in plain words.
    pub error: String,
    /// The input rows behind it.
    pub sources: Vec<Source>,
}

/// The outcomes a plan implies before anything is sent: every group `planned`, every
/// conflicting name and every held-back row `invalid`; sorted by organization and group.
pub fn planned(plan: &Plan) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(plan.group_count() + plan.invalid.len());
    for org in &plan.organizations {
        for g in &org.groups {
            out.push(Outcome {
                organization_id: org.id.clone(),
                group_id: g.id.clone(),
                group_name: g.name.clone(),
                status: Status::Planned,
                attempts: 0,
                error: String::new(),
                sources: g.sources.clone(),
            });
        }
    }
    for c in &plan.conflicts {
        let others: Vec<&str> = c.names.iter().map(|(n, _)| n.as_str()).collect();
        for (name, sources) in &c.names {
            out.push(Outcome {
                organization_id: c.organization_id.clone(),
                group_id: c.group_id.clone(),
                group_name: name.clone(),
                status: Status::Invalid,
                attempts: 0,
                error: format!(
                    "conflict: group ID '{}' is claimed by {}",
                    c.group_id,
                    quote_all(&others)
                ),
                sources: sources.clone(),
            });
        }
    }
    for r in &plan.invalid {
        out.push(Outcome {
            organization_id: r.organization_id.clone(),
            group_id: String::new(),
            group_name: r.name.trim().to_owned(),
            status: Status::Invalid,
            attempts: 0,
            error: r.message.clone(),
            sources: vec![r.source],
        });
    }
    out.sort_by(|a, b| {
        (&a.organization_id, &a.group_id, &a.sources).cmp(&(&b.organization_id, &b.group_id, &b.sources))
    });
    out
}

fn quote_all(names: &[&str]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(" and ")
}

/// Makes a cell safe to open in a spreadsheet (OWASP CSV injection): text that a spreadsheet
/// would run as a formula gets a leading `'`, which Excel shows as plain text.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    if crate::normalize::slug::looks_like_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralizes_formula_leaders() {
        for (cell, want) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Sales", "Sales"),
            ("R&D = fun", "R&D = fun"),
        ] {
            assert_eq!(neutralize(cell), want);
        }
    }
}
