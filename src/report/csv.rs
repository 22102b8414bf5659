//! The CSV report: UTF-8 with a BOM (so Excel keeps accents) when written to a file, formula
//! leaders neutralized in every cell.

use std::io::Write;

use super::{neutralize, MemberOutcome, Outcome};
use crate::normalize::Plan;

/// The report's columns, in contract order.
pub const COLUMNS: [&str; 7] = [
    "organization_id",
    "group_id",
    "group_name",
    "status",
    "attempts",
    "error",
    "sources",
];

/// Writes `outcomes` as CSV; `bom` for files that people open in Excel.
pub fn write(plan: &Plan, outcomes: &[Outcome], out: &mut dyn Write, bom: bool) -> std::io::Result<()> {
    if bom {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for o in outcomes {
        let attempts = o.attempts.to_string();
        let sources = plan.describe_sources(&o.sources);
        w.write_record([
            neutralize(&o.organization_id).as_ref(),
            neutralize(&o.group_id).as_ref(),
            neutralize(&o.group_name).as_ref(),
            o.status.as_str(),
            &attempts,
            neutralize(&o.error).as_ref(),
            neutralize(&sources).as_ref(),
        ])?;
    }
    w.flush()
}

/// The members part's columns, in contract order.
pub const MEMBER_COLUMNS: [&str; 8] = [
    "organization_id",
    "group_id",
    "user_id",
    "action",
    "status",
    "attempts",
    "error",
    "sources",
];

/// Writes the memberships as CSV (with a BOM: it is for Excel too).
pub fn write_members(plan: &Plan, members: &[MemberOutcome], out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(MEMBER_COLUMNS)?;
    for m in members {
        let attempts = m.attempts.to_string();
        let sources = plan.describe_sources(&m.sources);
        w.write_record([
            neutralize(&m.organization_id).as_ref(),
            neutralize(&m.group_id).as_ref(),
            neutralize(&m.user_id).as_ref(),
            m.action,
            m.status.as_str(),
            &attempts,
            neutralize(&m.error).as_ref(),
            neutralize(&sources).as_ref(),
        ])?;
    }
    w.flush()
}
