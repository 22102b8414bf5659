//! The JSON report: the run's summary and one object per group (and membership), for
//! schedulers and scripts.

use std::io::Write;

use serde::Serialize;

use super::{Report, SourceRef, Summary, Writer};

/// The JSON format.
#[derive(Debug, Clone, Copy)]
pub struct Json;

#[derive(Serialize)]
struct Doc<'a, G, U, M> {
    summary: &'a Summary,
    groups: G,
    #[serde(skip_serializing_if = "Option::is_none")]
    users: Option<U>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memberships: Option<M>,
}

/// A list written as it is made, one row at a time: a million memberships are never held as
/// rows (nor the document as text), only the outcomes they are made from.
struct Rows<F>(F);

impl<F, I> Serialize for Rows<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

#[derive(Serialize)]
struct User<'a> {
    organization_id: &'a str,
    user_id: &'a str,
    name: &'a str,
    email: &'a str,
    status: &'static str,
    attempts: u32,
    error: &'a str,
    sources: Vec<SourceRef<'a>>,
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
    sources: Vec<SourceRef<'a>>,
}

#[derive(Serialize)]
struct Row<'a> {
    organization_id: &'a str,
    group_id: &'a str,
    group_name: &'a str,
    status: &'static str,
    attempts: u32,
    error: std::borrow::Cow<'a, str>,
    sources: Vec<SourceRef<'a>>,
    /// The name the group had, when this run renames it.
    #[serde(skip_serializing_if = "Option::is_none")]
    renamed_from: Option<&'a str>,
    /// With `--group-by` or `--hierarchy-separator`: the group's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    /// A level of a hierarchy: the path down to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
}

impl Writer for Json {
    fn write(&self, report: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
        let doc = Doc {
            summary: report.summary,
            groups: Rows(|| {
                report.groups.iter().map(|o| Row {
                    organization_id: &o.organization_id,
                    group_id: &o.group_id,
                    group_name: &o.group_name,
                    status: o.status.as_str(),
                    attempts: o.attempts,
                    error: o.note(),
                    sources: report.source_objects(&o.sources),
                    renamed_from: o.rename_note().and(o.renamed_from.as_deref()),
                    kind: report.input.grouped_by.then(|| o.kind.as_str()),
                    path: o.path.as_deref(),
                })
            }),
            users: report.users.map(|list| {
                Rows(move || {
                    list.iter().map(|u| User {
                        organization_id: &u.organization_id,
                        user_id: &u.user_id,
                        name: &u.name,
                        email: &u.email,
                        status: u.status.as_str(),
                        attempts: u.attempts,
                        error: &u.error,
                        sources: report.source_objects(std::slice::from_ref(&u.source)),
                    })
                })
            }),
            memberships: report.members.map(|list| {
                Rows(move || {
                    list.iter().map(|m| Member {
                        organization_id: &m.organization_id,
                        group_id: &m.group_id,
                        user_id: &m.user_id,
                        action: m.action.as_str(),
                        status: m.status.as_str(),
                        attempts: m.attempts,
                        error: &m.error,
                        sources: report.source_objects(m.source.as_slice()),
                    })
                })
            }),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}
