//! How a run ended, as the page says it: one heading per outcome (Imported, Imported with
//! failures, Stopped, Failed, Nothing to do), counts in one unit per kind (groups, organization
//! users, memberships) that add up to the rows of the report, and the sentence the person
//! confirms before anything is sent.

use std::collections::HashSet;

use serde::Serialize;

use crate::plan::{Endpoint, Key, Plan, Status, Work};

/// The rows of one kind, by what became of them. The fields add up to `total`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Every row of this kind.
    pub total: usize,
    /// Added (or, for memberships, removed) by this run.
    pub added: usize,
    /// Memberships removed by this run.
    pub removed: usize,
    /// There before: the state knew it, or the server answered that it exists.
    pub already_there: usize,
    /// Sent, and not confirmed.
    pub failed: usize,
    /// Held back: conflicts, invalid rows, removals over the limit.
    pub held_back: usize,
    /// Never sent: the run stopped first, or what it needed was not confirmed.
    pub not_attempted: usize,
    /// A dry run's "would be sent".
    pub planned: usize,
    /// Known from an earlier run, no longer in the export (nothing is done to it).
    pub stale: usize,
    /// People the export says are not current (left, not yet started, filtered): not sent.
    pub left_out: usize,
}

impl Tally {
    fn add(&mut self, status: Status, error: &str, attempts: u32) {
        self.total += 1;
        let slot = match status {
            Status::Added => &mut self.added,
            Status::Removed => &mut self.removed,
            Status::Exists | Status::Unchanged => &mut self.already_there,
            Status::Invalid | Status::Skipped => &mut self.held_back,
            Status::Planned => &mut self.planned,
            Status::Stale => &mut self.stale,
            Status::LeftOut => &mut self.left_out,
            Status::Failed if attempts == 0 && error.starts_with("not attempted") => &mut self.not_attempted,
            Status::Failed => &mut self.failed,
        };
        *slot += 1;
    }
}

/// The counts of a whole run.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Tallies {
    /// Groups.
    pub groups: Tally,
    /// Organization users (members on only).
    pub users: Option<Tally>,
    /// Memberships (members on only).
    pub memberships: Option<Tally>,
}

impl Tallies {
    /// Counts `plan`'s rows.
    pub fn of(plan: &Plan) -> Self {
        let mut t = Tallies::default();
        for g in &plan.groups {
            t.groups.add(g.status, &g.error, g.attempts);
        }
        if let Some(users) = &plan.users {
            let tally = t.users.get_or_insert_default();
            for u in users {
                tally.add(u.status, &u.error, u.attempts);
            }
        }
        if let Some(members) = &plan.members {
            let tally = t.memberships.get_or_insert_default();
            for m in members {
                tally.add(m.status, &m.error, m.attempts);
            }
        }
        t
    }

    fn all(&self) -> impl Iterator<Item = &Tally> {
        std::iter::once(&self.groups)
            .chain(self.users.iter())
            .chain(self.memberships.iter())
    }
}

/// The outcome's kind, which the page turns into its heading and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Nothing was sent, by design.
    DryRun,
    /// Everything that was to be sent got there.
    Imported,
    /// Some got there, some did not.
    ImportedWithFailures,
    /// The person stopped it (the Stop button, Ctrl-C or SIGTERM).
    Stopped,
    /// Nothing that was to be sent got there.
    Failed,
    /// Nothing needed sending.
    NothingToDo,
}

impl Kind {
    /// The heading the page shows.
    pub fn heading(self) -> &'static str {
        match self {
            Kind::DryRun => "Dry run: nothing was sent",
            Kind::Imported => "Imported",
            Kind::ImportedWithFailures => "Imported with failures",
            Kind::Stopped => "Stopped",
            Kind::Failed => "Failed",
            Kind::NothingToDo => "Nothing to do",
        }
    }

    /// What the counts say.
    pub fn of(tallies: &Tallies, dry_run: bool, stopped: bool) -> Kind {
        if dry_run {
            return Kind::DryRun;
        }
        let got: usize = tallies.all().map(|t| t.added + t.removed).sum();
        let missed: usize = tallies.all().map(|t| t.failed + t.not_attempted).sum();
        // A Stop that came after the last answer stopped nothing.
        if stopped && missed > 0 {
            return Kind::Stopped;
        }
        match (got, missed) {
            (0, 0) => Kind::NothingToDo,
            (_, 0) => Kind::Imported,
            (0, _) => Kind::Failed,
            _ => Kind::ImportedWithFailures,
        }
    }
}

/// What a run got done: the keys of every item that ended as it should. A retry leaves these
/// out and sends the rest.
#[derive(Debug, Default)]
pub struct Finished(HashSet<Key>);

impl Finished {
    /// The items of `plan` that ended as they should.
    pub fn of(plan: &Plan) -> Self {
        let fine = |s: Status| matches!(s, Status::Added | Status::Exists | Status::Removed | Status::Unchanged);
        let groups = plan
            .groups
            .iter()
            .filter(|g| fine(g.status))
            .map(|g| Work::group(g.organization_id.as_str(), g.group_id.as_str(), "").key);
        let users = plan
            .users
            .iter()
            .flatten()
            .filter(|u| fine(u.status))
            .map(|u| Key::user(u.organization_id.clone(), u.user_id.clone()));
        let members = plan.members.iter().flatten().filter(|m| fine(m.status)).map(|m| {
            Work::member(
                m.action,
                m.organization_id.clone(),
                m.group_id.clone(),
                m.user_id.clone(),
            )
            .key
        });
        Finished(groups.chain(users).chain(members).collect())
    }

    /// Marks what is done as unchanged in `plan`, so only what failed or was not attempted
    /// goes; returns how many items that leaves out.
    pub fn leave_out(&self, plan: &mut Plan) -> usize {
        let mut n = 0;
        let mut skip = |status: &mut Status, key: Key| {
            if *status == Status::Planned && self.0.contains(&key) {
                *status = Status::Unchanged;
                n += 1;
            }
        };
        for g in &mut plan.groups {
            skip(
                &mut g.status,
                Work::group(g.organization_id.as_str(), g.group_id.as_str(), "").key,
            );
        }
        for u in plan.users.iter_mut().flatten() {
            skip(&mut u.status, Key::user(u.organization_id.clone(), u.user_id.clone()));
        }
        for m in plan.members.iter_mut().flatten() {
            skip(
                &mut m.status,
                Work::member(
                    m.action,
                    m.organization_id.clone(),
                    m.group_id.clone(),
                    m.user_id.clone(),
                )
                .key,
            );
        }
        n
    }
}

/// The sentence the person confirms before an import: what will happen, where. `None` when
/// nothing would be sent.
pub fn sentence(plan: &Plan) -> Option<String> {
    let groups = plan.group_work();
    let users = plan.user_work().len();
    let members = plan.member_work();
    let adds = members
        .iter()
        .filter(|w| w.key.endpoint == Endpoint::AddMembers)
        .count();
    let removes = members.len() - adds;
    let mut orgs: Vec<&str> = plan
        .groups
        .iter()
        .filter(|g| g.status != Status::Stale && !g.organization_id.is_empty())
        .map(|g| g.organization_id.as_str())
        .collect();
    orgs.dedup();
    let mut parts = Vec::new();
    if !groups.is_empty() {
        parts.push(format!("create {}", count(groups.len(), "group", "groups")));
    }
    if users > 0 {
        parts.push(format!(
            "add {} as organization users (they will see the organization's documents)",
            count(users, "person", "people")
        ));
    }
    if adds > 0 {
        parts.push(format!("add {}", count(adds, "membership", "memberships")));
    }
    if removes > 0 {
        parts.push(format!(
            "remove {} from their groups",
            count(removes, "member", "members")
        ));
    }
    let last = parts.pop()?;
    let what = if parts.is_empty() {
        last
    } else {
        format!("{} and {last}", parts.join(", "))
    };
    let mut what = capitalize(&what);
    if !orgs.is_empty() {
        let noun = if orgs.len() == 1 {
            "organization"
        } else {
            "organizations"
        };
        // The place goes after the first verb: "Create 400 groups in organization acme, ...".
        let at = what.find(", ").or_else(|| what.find(" and ")).unwrap_or(what.len());
        what.insert_str(at, &format!(" in {noun} {}", orgs.join(", ")));
    }
    Some(format!("{what}?"))
}

/// Why a plan sends nothing, in the page's words.
pub fn nothing_to_send(plan: &Plan) -> String {
    let t = Tallies::of(plan);
    let held: usize = t.all().map(|t| t.held_back).sum();
    let there: usize = t.all().map(|t| t.already_there).sum();
    match (there, held) {
        (0, 0) => "Nothing to send: the files hold no groups.".into(),
        (_, 0) => "Nothing to send: everything is already there.".into(),
        (0, _) => "Nothing to send: every row is held back (see the problems).".into(),
        _ => "Nothing to send: what is not already there is held back (see the problems).".into(),
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
