//! `velt-groups verify`: read back every group's members from the server (`users/get`) and
//! compare them with the export: members missing on the server, members the export does not
//! put there, and organization users whose name or e-mail differ. The state file is a belief;
//! this is the check of it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde::Serialize;

use crate::cli::OutputFormat;
use crate::console::{self, count};
use crate::error::{Error, Exit};
use crate::input;
use crate::normalize::Group;
use crate::settings::VerifySettings;
use crate::state::State;
use crate::upload::api::ServerUser;
use crate::upload::readback;

/// What differs for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The export puts the user in the group; the server does not have them there.
    Missing,
    /// The server has the user in the group; the export does not put them there.
    Extra,
    /// The server's name for the user differs from the export's.
    Name,
    /// The server's e-mail for the user differs from the export's.
    Email,
}

/// One difference between the export and the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// Organization.
    pub organization_id: String,
    /// Group (for names and e-mails: a group the user is in).
    pub group_id: String,
    /// User.
    pub user_id: String,
    /// What differs.
    pub difference: Kind,
    /// The server's value (names and e-mails).
    pub server: Option<String>,
    /// The export's value (names and e-mails).
    pub export: Option<String>,
    /// Whether the state file records this member as added (it believes otherwise).
    pub state_believes_added: bool,
}

/// Runs `verify`.
pub fn run(s: &VerifySettings) -> Result<Exit, Error> {
    let state = match &s.state {
        Some(path) => Some(State::open_read_only(path, s.upload.api_base.as_str())?),
        None => None,
    };
    let normalized = input::load(&s.input).map_err(Error::Inputs)?;
    console::problems(&normalized.problems);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let mut differences = Vec::new();
    // A window of groups at a time, as many as there are requests in flight: memory holds
    // their member lists, never a whole organization's (a million people would be gigabytes).
    let window = s.upload.concurrency.max(1);
    for org in &normalized.organizations {
        let mut compared = BTreeSet::new();
        for groups in org.groups.chunks(window) {
            let ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
            let server = runtime.block_on(readback::members(&s.upload, &org.id, &ids))?;
            for g in groups {
                let recorded = match &state {
                    Some(state) => state.group_members(&org.id, &g.id)?,
                    None => BTreeSet::new(),
                };
                differences.extend(compare(&org.id, g, server.get(&g.id), &recorded, &mut compared));
            }
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write(&differences, s.format, &mut out)
        .and_then(|()| out.flush())
        .map_err(Error::Output)?;
    let groups: usize = normalized.organizations.iter().map(|o| o.groups.len()).sum();
    console::line(format!(
        "verify: {} read back, {} found",
        count(groups, "group"),
        count(differences.len(), "difference")
    ));
    Ok(if differences.is_empty() {
        Exit::Success
    } else {
        Exit::Incomplete
    })
}

/// The differences between one group of the export and what the server holds in it (`held`;
/// `None`: nothing). `recorded` is who the state believes this tool added; `compared` the users
/// of the organization whose name and e-mail were compared already (in an earlier group).
pub fn compare<'a>(
    org: &str,
    g: &'a Group,
    held: Option<&BTreeMap<String, ServerUser>>,
    recorded: &BTreeSet<String>,
    compared: &mut BTreeSet<&'a str>,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let empty = BTreeMap::new();
    let held = held.unwrap_or(&empty);
    let diff = |user: &str, difference, server: Option<&str>, export: Option<&str>| Difference {
        organization_id: org.to_owned(),
        group_id: g.id.clone(),
        user_id: user.to_owned(),
        difference,
        server: server.map(str::to_owned),
        export: export.map(str::to_owned),
        state_believes_added: recorded.contains(user),
    };
    let wanted: BTreeSet<&str> = g.members.iter().map(|m| m.user.as_str()).collect();
    for m in &g.members {
        let Some(there) = held.get(&m.user) else {
            out.push(diff(&m.user, Kind::Missing, None, None));
            continue;
        };
        if !compared.insert(m.user.as_str()) {
            continue;
        }
        if let Some(name) = m.name.as_deref().filter(|n| there.name.as_deref() != Some(*n)) {
            out.push(diff(&m.user, Kind::Name, there.name.as_deref(), Some(name)));
        }
        if let Some(email) = m.email.as_deref().filter(|e| there.email.as_deref() != Some(*e)) {
            out.push(diff(&m.user, Kind::Email, there.email.as_deref(), Some(email)));
        }
    }
    for user in held.keys().filter(|u| !wanted.contains(u.as_str())) {
        out.push(diff(user, Kind::Extra, None, None));
    }
    out
}

/// The line a person reads for one difference.
pub fn describe(d: &Difference) -> String {
    let quote = |v: &Option<String>| v.as_deref().map_or("nothing".to_owned(), |v| format!("'{v}'"));
    let what = match d.difference {
        Kind::Missing => "is not in the group on the server; the export puts them there".to_owned(),
        Kind::Extra => "is in the group on the server; the export does not put them there".to_owned(),
        Kind::Name => format!(
            "has the name {} on the server and {} in the export",
            quote(&d.server),
            quote(&d.export)
        ),
        Kind::Email => format!(
            "has the e-mail {} on the server and {} in the export",
            quote(&d.server),
            quote(&d.export)
        ),
    };
    let belief = if d.state_believes_added && d.difference == Kind::Missing {
        "; the state file believes it added them"
    } else {
        ""
    };
    format!(
        "{}, group '{}': user {} {what}{belief}",
        d.organization_id, d.group_id, d.user_id
    )
}

fn write(differences: &[Difference], format: OutputFormat, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        OutputFormat::Table => {
            for d in differences {
                writeln!(out, "{}", describe(d))?;
            }
            Ok(())
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "organization_id",
                "group_id",
                "user_id",
                "difference",
                "server",
                "export",
                "state_believes_added",
            ])?;
            for d in differences {
                let kind = serde_json::to_value(&d.difference).ok();
                let kind = kind.as_ref().and_then(|v| v.as_str()).unwrap_or_default();
                let believed = d.state_believes_added.to_string();
                let cells = [
                    d.organization_id.as_str(),
                    &d.group_id,
                    &d.user_id,
                    kind,
                    d.server.as_deref().unwrap_or(""),
                    d.export.as_deref().unwrap_or(""),
                    &believed,
                ];
                w.write_record(cells.map(|c| crate::report::neutralize(c).into_owned()))?;
            }
            w.flush()
        }
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, differences)?;
            writeln!(out)
        }
    }
}
