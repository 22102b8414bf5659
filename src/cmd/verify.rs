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
use crate::normalize::{LeftOut, Organization};
use crate::settings::VerifySettings;
use crate::state::State;
use crate::upload::readback::{self, Members};
use crate::upload::sanitize::printable;

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
    /// The server has the user in the group; the export says they are not current (a leaver,
    /// not yet started) or a `--where` filter leaves them out.
    LeftOut,
}

impl Kind {
    /// The word the JSON output, the CSV and the metrics use.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Missing => "missing",
            Kind::Extra => "extra",
            Kind::Name => "name",
            Kind::Email => "email",
            Kind::LeftOut => "left-out",
        }
    }
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
    crate::observe::input_read(&normalized);
    console::problems(&normalized.problems);
    if let Some(left_out) = crate::current::describe(&normalized) {
        console::line(left_out);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let mut differences = Vec::new();
    for org in &normalized.organizations {
        let left_out: Vec<&LeftOut> = crate::current::people_of(&normalized, &org.id).collect();
        let groups = crate::current::groups_to_read(&normalized, org);
        let server = runtime.block_on(readback::members(&s.upload, &org.id, &groups))?;
        let recorded = match &state {
            Some(state) => {
                let intern = normalized.interner();
                state.members(&org.id, &|group, user| intern(&org.id, group, user))?
            }
            None => Default::default(),
        };
        let departed = crate::current::departed(&normalized, org);
        differences.extend(compare(org, &server, &recorded, &left_out, &departed));
    }
    crate::observe::differences(
        normalized.organizations.iter().map(|o| o.id.as_str()),
        differences
            .iter()
            .map(|d| (d.organization_id.as_str(), d.difference.as_str())),
    );
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write(&differences, s.format, &mut out)
        .and_then(|()| out.flush())
        .map_err(Error::Output)?;
    let groups: usize = normalized.organizations.iter().map(|o| o.groups.len()).sum();
    if !s.quiet {
        console::line(format!(
            "verify: {} read back, {} found",
            count(groups, "group"),
            count(differences.len(), "difference")
        ));
    }
    Ok(if differences.is_empty() {
        Exit::Success
    } else {
        Exit::Incomplete
    })
}

/// The differences between one organization of the export and what the server holds.
pub fn compare(
    org: &Organization,
    server: &Members,
    recorded: &crate::plan::GroupUsers,
    left_out: &[&LeftOut],
    departed: &BTreeSet<&str>,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let empty = BTreeMap::new();
    // Each leaver row's group, and every group read back that still lists someone with no
    // current row at all.
    let mut gone: BTreeSet<(&str, &str)> = left_out
        .iter()
        .filter(|l| !l.group_id.is_empty())
        .map(|l| (l.group_id.as_str(), l.user_id.as_str()))
        .collect();
    for (group, held) in server {
        gone.extend(
            held.keys()
                .filter(|u| departed.contains(u.as_str()))
                .map(|u| (group.as_str(), u.as_str())),
        );
    }
    let mut compared: BTreeSet<&str> = BTreeSet::new();
    for g in &org.groups {
        let held = server.get(&g.id).unwrap_or(&empty);
        let believed = |user: &str| recorded.get(&g.id).is_some_and(|u| u.contains(user));
        let diff = |user: &str, difference, server: Option<&str>, export: Option<&str>| Difference {
            organization_id: org.id.clone(),
            group_id: g.id.clone(),
            user_id: user.to_owned(),
            difference,
            server: server.map(str::to_owned),
            export: export.map(str::to_owned),
            state_believes_added: believed(user),
        };
        let wanted: BTreeSet<&str> = g.members.iter().map(|m| &*m.user).collect();
        for m in &g.members {
            let Some(there) = held.get(&*m.user) else {
                out.push(diff(&m.user, Kind::Missing, None, None));
                continue;
            };
            if !compared.insert(&*m.user) {
                continue;
            }
            if let Some(name) = m.name.as_deref().filter(|n| there.name.as_deref() != Some(*n)) {
                out.push(diff(&m.user, Kind::Name, there.name.as_deref(), Some(name)));
            }
            if let Some(email) = m.email.as_deref().filter(|e| there.email.as_deref() != Some(*e)) {
                out.push(diff(&m.user, Kind::Email, there.email.as_deref(), Some(email)));
            }
        }
        for user in held
            .keys()
            .filter(|u| !wanted.contains(u.as_str()) && !gone.contains(&(g.id.as_str(), u.as_str())))
        {
            out.push(diff(user, Kind::Extra, None, None));
        }
    }
    // A person left out who is still in their group on the server: drift, and the one that
    // matters most (a leaver keeps the group's access).
    for (group, user) in gone {
        let today = org
            .groups
            .iter()
            .any(|g| g.id == group && g.members.iter().any(|m| &*m.user == user));
        if today || !server.get(group).is_some_and(|held| held.contains_key(user)) {
            continue;
        }
        let why = left_out
            .iter()
            .find(|l| l.group_id == group && l.user_id == user)
            .or_else(|| left_out.iter().find(|l| l.user_id == user))
            .map(|l| l.why.to_string());
        out.push(Difference {
            organization_id: org.id.clone(),
            group_id: group.to_owned(),
            user_id: user.to_owned(),
            difference: Kind::LeftOut,
            server: None,
            export: why,
            state_believes_added: recorded.get(group).is_some_and(|u| u.contains(user)),
        });
    }
    out
}

/// The line a person reads for one difference.
pub fn describe(d: &Difference) -> String {
    // The server's values (and IDs it lists) are shown escaped: a tab or an escape sequence
    // stays visible and cannot drive the terminal.
    let quote = |v: &Option<String>| {
        v.as_deref()
            .map_or("nothing".to_owned(), |v| format!("'{}'", printable(v)))
    };
    let what = match d.difference {
        Kind::Missing => "is not in the group on the server; the export puts them there".to_owned(),
        Kind::Extra => "is in the group on the server; the export does not put them there".to_owned(),
        Kind::LeftOut => format!(
            "is in the group on the server but is not current ({}); `import --members --repair` removes them",
            d.export
                .as_deref()
                .unwrap_or("left out")
                .trim_start_matches("left out: ")
        ),
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
        printable(&d.organization_id),
        printable(&d.group_id),
        printable(&d.user_id)
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
