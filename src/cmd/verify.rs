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
use crate::upload::api::ServerUser;
use crate::upload::readback;
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
        let recorded = match &state {
            Some(state) => state.members(&org.id)?,
            None => Default::default(),
        };
        let departed = crate::current::departed(&normalized, org);
        // Group by group as each list arrives, each let go once compared: memory follows the
        // lists in flight, not the organization's size.
        let mut comparison = Comparison::new(org, &recorded, &left_out, &departed);
        runtime.block_on(readback::stream(&s.upload, &org.id, &groups, |group, held| {
            comparison.group(&group, &held);
        }))?;
        differences.extend(comparison.finish());
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

/// One organization's comparison, fed one group's server list at a time (in the export's
/// group order, then the other groups of people left out), so no more than the lists in
/// flight are ever held.
pub struct Comparison<'a> {
    org: &'a Organization,
    recorded: &'a crate::plan::GroupUsers,
    left_out: &'a [&'a LeftOut],
    departed: &'a BTreeSet<&'a str>,
    /// Users whose name and e-mail were compared already (in their first group).
    compared: BTreeSet<&'a str>,
    /// The export's groups' differences, in group order.
    found: Vec<Difference>,
    /// People left out still in a group on the server.
    still_there: Vec<Difference>,
}

impl<'a> Comparison<'a> {
    /// A comparison of `org` with nothing read yet.
    pub fn new(
        org: &'a Organization,
        recorded: &'a crate::plan::GroupUsers,
        left_out: &'a [&'a LeftOut],
        departed: &'a BTreeSet<&'a str>,
    ) -> Self {
        Comparison {
            org,
            recorded,
            left_out,
            departed,
            compared: BTreeSet::new(),
            found: Vec::new(),
            still_there: Vec::new(),
        }
    }

    /// Compares one group with `held`, the users the server lists in it.
    pub fn group(&mut self, group: &str, held: &BTreeMap<String, ServerUser>) {
        let (org, recorded) = (self.org, self.recorded);
        let believed = |user: &str| recorded.get(group).is_some_and(|u| u.contains(user));
        // Each leaver row's group, and anyone the server lists here who has no current row
        // at all.
        let gone: BTreeSet<&str> = self
            .left_out
            .iter()
            .filter(|l| l.group_id == group)
            .map(|l| l.user_id.as_str())
            .chain(
                held.keys()
                    .filter(|u| self.departed.contains(u.as_str()))
                    .map(String::as_str),
            )
            .collect();
        let today = org
            .groups
            .binary_search_by(|g| g.id.as_str().cmp(group))
            .ok()
            .map(|i| &org.groups[i]);
        let today = today.or_else(|| org.groups.iter().find(|g| g.id == group));
        if let Some(g) = today {
            let diff = |user: &str, difference, server: Option<&str>, export: Option<&str>| Difference {
                organization_id: org.id.clone(),
                group_id: g.id.clone(),
                user_id: user.to_owned(),
                difference,
                server: server.map(str::to_owned),
                export: export.map(str::to_owned),
                state_believes_added: believed(user),
            };
            for m in &g.members {
                let Some(there) = held.get(&*m.user) else {
                    self.found.push(diff(&m.user, Kind::Missing, None, None));
                    continue;
                };
                if !self.compared.insert(&*m.user) {
                    continue;
                }
                if let Some(name) = m.name.as_deref().filter(|n| there.name.as_deref() != Some(*n)) {
                    self.found
                        .push(diff(&m.user, Kind::Name, there.name.as_deref(), Some(name)));
                }
                if let Some(email) = m.email.as_deref().filter(|e| there.email.as_deref() != Some(*e)) {
                    self.found
                        .push(diff(&m.user, Kind::Email, there.email.as_deref(), Some(email)));
                }
            }
            // The members are sorted by user ID.
            let wanted = |u: &str| g.members.binary_search_by(|m| (*m.user).cmp(u)).is_ok();
            for user in held.keys().filter(|u| !wanted(u) && !gone.contains(u.as_str())) {
                self.found.push(diff(user, Kind::Extra, None, None));
            }
        }
        // A person left out who is still in their group on the server: drift, and the one
        // that matters most (a leaver keeps the group's access).
        for user in gone {
            let in_today = today.is_some_and(|g| g.members.binary_search_by(|m| (*m.user).cmp(user)).is_ok());
            if in_today || !held.contains_key(user) {
                continue;
            }
            let why = self
                .left_out
                .iter()
                .find(|l| l.group_id == group && l.user_id == user)
                .or_else(|| self.left_out.iter().find(|l| l.user_id == user))
                .map(|l| l.why.to_string());
            self.still_there.push(Difference {
                organization_id: org.id.clone(),
                group_id: group.to_owned(),
                user_id: user.to_owned(),
                difference: Kind::LeftOut,
                server: None,
                export: why,
                state_believes_added: believed(user),
            });
        }
    }

    /// Every difference: the export's groups' in group order, then the people left out who
    /// are still there, by group and user.
    pub fn finish(mut self) -> Vec<Difference> {
        self.still_there
            .sort_by(|a, b| (&a.group_id, &a.user_id).cmp(&(&b.group_id, &b.user_id)));
        self.found.extend(self.still_there);
        self.found
    }
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
