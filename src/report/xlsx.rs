//! The XLSX report, for the person who opens it in Excel: bold frozen header, an autofilter,
//! failed and invalid rows highlighted, columns as wide as their content. Every text cell is
//! written as a string, so a department called `=SUM(A1)` stays text.

use rust_xlsxwriter::{Color, Format, Workbook, XlsxError};

use super::csv::{COLUMNS, MEMBER_COLUMNS};
use super::{MemberOutcome, Outcome, Status};
use crate::normalize::Plan;

/// Widest column, in characters.
const MAX_WIDTH: usize = 80;

/// Builds the workbook in memory and returns its bytes.
pub fn to_bytes(plan: &Plan, outcomes: &[Outcome], members: Option<&[MemberOutcome]>) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Results")?;
    let header = Format::new().set_bold().set_background_color(Color::RGB(0xD9E1F2));
    let failed = Format::new().set_background_color(Color::RGB(0xFFC7CE));
    let invalid = Format::new().set_background_color(Color::RGB(0xFFEB9C));
    let plain = Format::new();
    let mut widths: Vec<usize> = COLUMNS.iter().map(|c| c.len() + 3).collect();
    for (c, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &header)?;
    }
    for (i, o) in outcomes.iter().enumerate() {
        let r = i as u32 + 1;
        let format = match o.status {
            Status::Failed => &failed,
            Status::Invalid => &invalid,
            Status::Added | Status::Unchanged | Status::Planned | Status::Stale | Status::Removed | Status::Skipped => {
                &plain
            }
        };
        let sources = plan.describe_sources(&o.sources);
        let texts = [
            o.organization_id.as_str(),
            o.group_id.as_str(),
            o.group_name.as_str(),
            o.status.as_str(),
            "",
            o.error.as_str(),
            sources.as_str(),
        ];
        for (c, text) in texts.iter().enumerate() {
            if c == 4 {
                sheet.write_number_with_format(r, 4, o.attempts as f64, format)?;
            } else {
                sheet.write_string_with_format(r, c as u16, *text, format)?;
            }
            widths[c] = widths[c].max(text.chars().count());
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w).min(MAX_WIDTH) as f64 + 1.0)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, outcomes.len() as u32, (COLUMNS.len() - 1) as u16)?;
    if let Some(members) = members {
        let rows: Vec<(Status, [String; 8])> = members
            .iter()
            .map(|m| {
                let cells = [
                    m.organization_id.clone(),
                    m.group_id.clone(),
                    m.user_id.clone(),
                    m.action.to_owned(),
                    m.status.as_str().to_owned(),
                    m.attempts.to_string(),
                    m.error.clone(),
                    plan.describe_sources(&m.sources),
                ];
                (m.status, cells)
            })
            .collect();
        let sheet = book.add_worksheet();
        sheet.set_name("Members")?;
        let mut widths: Vec<usize> = MEMBER_COLUMNS.iter().map(|c| c.len() + 3).collect();
        for (c, name) in MEMBER_COLUMNS.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *name, &header)?;
        }
        for (i, (status, cells)) in rows.iter().enumerate() {
            let format = match status {
                Status::Failed => &failed,
                Status::Skipped | Status::Invalid => &invalid,
                _ => &plain,
            };
            for (c, text) in cells.iter().enumerate() {
                if c == 5 {
                    sheet.write_number_with_format(i as u32 + 1, 5, text.parse::<f64>().unwrap_or(0.0), format)?;
                } else {
                    sheet.write_string_with_format(i as u32 + 1, c as u16, text, format)?;
                }
                widths[c] = widths[c].max(text.chars().count());
            }
        }
        for (c, w) in widths.iter().enumerate() {
            sheet.set_column_width(c as u16, (*w).min(MAX_WIDTH) as f64 + 1.0)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofilter(0, 0, rows.len() as u32, (MEMBER_COLUMNS.len() - 1) as u16)?;
    }
    book.save_to_buffer()
}
