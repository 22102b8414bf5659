//! The JSON report: the run's summary and one object per group, for schedulers and scripts.

use std::io::Write;

use serde::Serialize;

use super::{MemberOutcome, Outcome, Summary};
use crate::normalize::Plan;

#[derive(Serialize)]
struct Doc<'a> {
    summary: &'a Summary,
    groups: Vec<Row<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memberships: Option<Vec<Member<'a>>>,
}

#[derive(Serialize)]
struct Member<'a> {
    organization_id: &'a str,
    group_id: &'a str,
    user_id: &'a str,
    action: &'static str,
    status: &'static str,
    attempts: u32,
    error: &'a str,
    sources: Vec<Source<'a>>,
}

#[derive(Serialize)]
struct Row<'a> {
    organization_id: &'a str,
    group_id: &'a str,
    group_name: &'a str,
    status: &'static str,
    attempts: u32,
    error: &'a str,
    sources: Vec<Source<'a>>,
}

#[derive(Serialize)]
struct Source<'a> {
    file: &'a str,
    sheet: Option<&'a str>,
    row: u32,
}

/// Writes the report as pretty JSON.
pub fn write(
    plan: &Plan,
    outcomes: &[Outcome],
    members: Option<&[MemberOutcome]>,
    summary: &Summary,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let sources = |list: &[crate::normalize::Source]| -> Vec<Source<'_>> {
        list.iter()
            .map(|s| {
                let t = &plan.tables[s.table as usize];
                Source {
                    file: &t.file,
                    sheet: t.sheet.as_deref(),
                    row: s.row,
                }
            })
            .collect()
    };
    let doc = Doc {
        summary,
        groups: outcomes
            .iter()
            .map(|o| Row {
                organization_id: &o.organization_id,
                group_id: &o.group_id,
                group_name: &o.group_name,
                status: o.status.as_str(),
                attempts: o.attempts,
                error: &o.error,
                sources: sources(&o.sources),
            })
            .collect(),
        memberships: members.map(|list| {
            list.iter()
                .map(|m| Member {
                    organization_id: &m.organization_id,
                    group_id: &m.group_id,
                    user_id: &m.user_id,
                    action: m.action,
                    status: m.status.as_str(),
                    attempts: m.attempts,
                    error: &m.error,
                    sources: sources(&m.sources),
                })
                .collect()
        }),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
