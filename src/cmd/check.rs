//! `velt-groups check`: what an import would send, shown as a table, CSV or JSON.

use std::io::Write;

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::cli::OutputFormat;
use crate::console::{self, count};
use crate::error::{Error, Exit};
use crate::normalize::{Plan, Problem, Severity, Source};
use crate::report::{self, Writer};
use crate::settings::CheckSettings;

/// Runs `check`.
pub fn run(settings: &CheckSettings) -> Result<Exit, Error> {
    let mut seen = Vec::new();
    let plan = crate::input::load_seen(&settings.input, &mut seen).map_err(Error::Inputs)?;
    crate::observe::input_read(&plan);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match settings.format {
        OutputFormat::Table => write_table(&plan, &mut out).map(|()| console::problems(&plan.problems)),
        OutputFormat::Csv => {
            let groups = crate::plan::planned(&plan);
            let report = report::Report {
                input: &plan,
                groups: &groups,
                users: None,
                members: None,
                summary: &report::Summary::default(),
            };
            report::csv::Groups { bom: false }
                .write(&report, &mut out)
                .map(|()| console::problems(&plan.problems))
        }
        OutputFormat::Json => write_json(&plan, &mut out),
    };
    written.and_then(|()| out.flush()).map_err(Error::Output)?;
    let day = settings.input.current.day();
    for file in &seen {
        if let Some(line) = file
            .mapping
            .as_ref()
            .and_then(|m| crate::current::columns(&file.file, m, day))
        {
            console::line(line);
        }
    }
    if let Some(left_out) = crate::current::describe(&plan) {
        console::line(left_out);
    }
    if !settings.quiet {
        console::line(summary(&plan));
    }
    Ok(if plan.has_errors() {
        Exit::Incomplete
    } else {
        Exit::Success
    })
}

/// The table's columns; `import --dry-run` prints the same table of the groups it would send.
pub(super) const TABLE_HEADERS: [&str; 4] = ["ORGANIZATION", "GROUP ID", "GROUP NAME", "ROWS"];

fn write_table(plan: &Plan, out: &mut dyn Write) -> std::io::Result<()> {
    let rows: Vec<[String; 4]> = plan
        .organizations
        .iter()
        .flat_map(|o| {
            o.groups
                .iter()
                .map(|g| [o.id.clone(), g.id.clone(), g.name.clone(), g.sources.len().to_string()])
        })
        .collect();
    write_rows(TABLE_HEADERS, &rows, out)
}

/// Aligned columns, the last one (a count) right-aligned.
pub(super) fn write_rows(headers: [&str; 4], rows: &[[String; 4]], out: &mut dyn Write) -> std::io::Result<()> {
    let mut widths = headers.map(UnicodeWidthStr::width);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let line = |cells: [&str; 4], out: &mut dyn Write| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.width();
            if i == 3 {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(headers, out)?;
    for row in rows {
        line([&row[0], &row[1], &row[2], &row[3]], out)?;
    }
    Ok(())
}

/// One line for people: groups per organization, then what is held back.
pub fn summary(plan: &Plan) -> String {
    let orgs: Vec<String> = plan
        .organizations
        .iter()
        .map(|o| format!("{} ({})", o.id, count(o.groups.len(), "group")))
        .collect();
    let warnings = plan.problems.iter().filter(|p| p.severity == Severity::Warning).count();
    format!(
        "{} in {}: {}; {}, {}, {}",
        count(plan.group_count(), "group"),
        count(plan.organizations.len(), "organization"),
        if orgs.is_empty() {
            "none".to_owned()
        } else {
            orgs.join(", ")
        },
        count(plan.conflicts.len(), "conflict"),
        count(plan.invalid.len(), "invalid row"),
        count(warnings, "warning")
    )
}

#[derive(Serialize)]
struct JsonPlan<'a> {
    organizations: Vec<JsonOrg<'a>>,
    conflicts: Vec<JsonConflict<'a>>,
    problems: &'a [Problem],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    left_out: Vec<JsonLeftOut<'a>>,
}

/// A row left out (not current, or filtered), with its reason.
#[derive(Serialize)]
struct JsonLeftOut<'a> {
    organization_id: &'a str,
    group_id: &'a str,
    user_id: &'a str,
    reason: String,
    sources: Sources<'a>,
}

#[derive(Serialize)]
struct JsonOrg<'a> {
    organization_id: &'a str,
    groups: Vec<JsonGroup<'a>>,
}

#[derive(Serialize)]
struct JsonGroup<'a> {
    group_id: &'a str,
    group_name: &'a str,
    sources: Sources<'a>,
    /// A `--group-by` kind other than the department (the contract without it is unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    /// A level of a hierarchy: the path down to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonConflict<'a> {
    organization_id: &'a str,
    group_id: &'a str,
    names: Vec<JsonName<'a>>,
}

#[derive(Serialize)]
struct JsonName<'a> {
    group_name: &'a str,
    sources: Sources<'a>,
}

/// Sources serialized as `{"file", "sheet", "row"}` objects without building them all first.
struct Sources<'a>(&'a Plan, &'a [Source]);

impl Serialize for Sources<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct One<'a> {
            file: &'a str,
            sheet: Option<&'a str>,
            row: u32,
        }
        let mut seq = s.serialize_seq(Some(self.1.len()))?;
        for src in self.1 {
            let t = &self.0.tables[src.table as usize];
            seq.serialize_element(&One {
                file: &t.file,
                sheet: t.sheet.as_deref(),
                row: src.row,
            })?;
        }
        seq.end()
    }
}

fn write_json(plan: &Plan, out: &mut dyn Write) -> std::io::Result<()> {
    let doc = JsonPlan {
        organizations: plan
            .organizations
            .iter()
            .map(|o| JsonOrg {
                organization_id: &o.id,
                groups: o
                    .groups
                    .iter()
                    .map(|g| JsonGroup {
                        group_id: &g.id,
                        group_name: &g.name,
                        sources: Sources(plan, &g.sources),
                        kind: Some(g.kind.as_str()).filter(|k| *k != crate::normalize::kind::DEPARTMENT),
                        path: g.path.as_deref(),
                    })
                    .collect(),
            })
            .collect(),
        conflicts: plan
            .conflicts
            .iter()
            .map(|c| JsonConflict {
                organization_id: &c.organization_id,
                group_id: &c.group_id,
                names: c
                    .names
                    .iter()
                    .map(|(n, s)| JsonName {
                        group_name: n,
                        sources: Sources(plan, s),
                    })
                    .collect(),
            })
            .collect(),
        problems: &plan.problems,
        left_out: plan
            .left_out
            .iter()
            .map(|l| JsonLeftOut {
                organization_id: &l.organization_id,
                group_id: &l.group_id,
                user_id: &l.user_id,
                reason: l.why.to_string(),
                sources: Sources(plan, std::slice::from_ref(&l.source)),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
