//! Memberships (`import --members`): who should be in each group, what to send to get there,
//! and the guard that keeps a truncated export from emptying the directory.
//!
//! With a state, only new memberships are sent; `--remove-departed` also removes users that
//! this tool added earlier and today's export no longer has in that group (the state is the
//! record: users someone else added are never touched).

use std::collections::BTreeSet;

use std::collections::BTreeMap;

use super::{Action, GroupOutcome, Known, MemberOutcome, PlanOptions, Status, UserOutcome};
use crate::normalize;

/// How removals are capped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// At most this many.
    Count(usize),
    /// At most this share (0..=1) of the recorded members.
    Share(f64),
}

/// The default cap: 10% of the recorded members, but at least 5.
const DEFAULT_SHARE: f64 = 0.10;
const DEFAULT_FLOOR: usize = 5;

impl Limit {
    /// Removals allowed when `recorded` members are on record; `None` is the default rule.
    pub fn allowed(limit: Option<Limit>, recorded: usize) -> usize {
        match limit {
            Some(Limit::Count(n)) => n,
            Some(Limit::Share(p)) => (p * recorded as f64).floor() as usize,
            None => ((DEFAULT_SHARE * recorded as f64).floor() as usize).max(DEFAULT_FLOOR),
        }
    }
}

/// The removals exceeded `--max-removals`, so none is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovalGuard {
    /// Removals planned.
    pub removals: usize,
    /// Removals allowed.
    pub allowed: usize,
    /// Members on record.
    pub recorded: usize,
}

impl std::fmt::Display for RemovalGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not removed: {} removals exceed --max-removals ({} of {} recorded members); \
             a truncated or half-exported file looks like this; raise --max-removals if the removals are right",
            self.removals, self.allowed, self.recorded
        )
    }
}

/// Decides every membership: `planned` (to add or remove), `unchanged` (the state has it) or
/// `skipped` (a removal above the cap). Groups held back get no members.
pub(super) fn plan(
    normalized: &normalize::Plan,
    groups: &[GroupOutcome],
    known: &Known,
    opts: PlanOptions,
) -> (Vec<MemberOutcome>, Option<RemovalGuard>) {
    let sendable = sendable(groups);
    let mut out = Vec::new();
    let mut recorded = 0usize;
    let nobody = Default::default();
    for org in &normalized.organizations {
        let had_by_group = known.members.get(&org.id).unwrap_or(&nobody);
        // Removal candidates: members on record, and members a stopped run was adding (they
        // may be on the server; a removal of one that is not costs nothing).
        let mut removable = had_by_group.clone();
        for (group, users) in known.pending.get(&org.id).unwrap_or(&nobody) {
            removable
                .entry(group.clone())
                .or_default()
                .extend(users.iter().cloned());
        }
        recorded += removable.values().map(BTreeSet::len).sum::<usize>();
        let row = |group: &str, user: &str, action, status, sources| MemberOutcome {
            organization_id: org.id.clone(),
            group_id: group.to_owned(),
            user_id: user.to_owned(),
            action,
            status,
            attempts: 0,
            error: String::new(),
            sources,
        };
        // A department gone from the export takes its members with it (within the cap below).
        if opts.remove_departed {
            let today: BTreeSet<&str> = org.groups.iter().map(|g| g.id.as_str()).collect();
            for (group, users) in removable.iter().filter(|(g, _)| !today.contains(g.as_str())) {
                for user in users {
                    out.push(row(group, user, Action::Remove, Status::Planned, Vec::new()));
                }
            }
        }
        for g in &org.groups {
            if !sendable.contains(&(org.id.as_str(), g.id.as_str())) {
                continue;
            }
            let had = had_by_group.get(&g.id);
            let present = known.present.get(&org.id).and_then(|p| p.get(&g.id));
            for m in &g.members {
                let there = |set: Option<&BTreeSet<String>>| set.is_some_and(|s| s.contains(&m.user));
                let status = if !opts.full && (there(had) || there(present)) {
                    Status::Unchanged
                } else {
                    Status::Planned
                };
                out.push(row(&g.id, &m.user, Action::Add, status, vec![m.source]));
            }
            if opts.remove_departed {
                let today: BTreeSet<&str> = g.members.iter().map(|m| m.user.as_str()).collect();
                for user in removable
                    .get(&g.id)
                    .into_iter()
                    .flatten()
                    .filter(|u| !today.contains(u.as_str()))
                {
                    out.push(row(&g.id, user, Action::Remove, Status::Planned, Vec::new()));
                }
            }
        }
    }
    // A repair removes the people left out that the server still lists in their group: HR
    // says they left, which an export merely missing them does not. The guards below hold.
    if opts.repair && !opts.remove_departed {
        out.extend(left_out_removals(normalized, known));
    }
    // An employee whose row is held back (a conflict, an error cell) is missing from today's
    // groups without having left: no removal in an organization with held-back rows.
    let held_back: BTreeSet<&str> = normalized
        .conflicts
        .iter()
        .map(|c| c.organization_id.as_str())
        .chain(normalized.invalid.iter().map(|r| r.organization_id.as_str()))
        .collect();
    // Someone whose own row says they left is no such employee, unless they are on a
    // held-back row too: their removal goes ahead.
    let leavers: BTreeSet<(&str, &str)> = normalized
        .left_out
        .iter()
        .filter(|l| !l.held_back_too && !l.user_id.is_empty())
        .map(|l| (l.organization_id.as_str(), l.user_id.as_str()))
        .collect();
    for m in out.iter_mut().filter(|m| {
        m.action == Action::Remove
            && held_back.contains(m.organization_id.as_str())
            && !leavers.contains(&(m.organization_id.as_str(), m.user_id.as_str()))
    }) {
        m.status = Status::Skipped;
        m.error = "not removed: rows of this organization are held back (see the invalid rows), \
                   and an employee on one of them would look like a leaver"
            .into();
    }
    let removals = out
        .iter()
        .filter(|m| m.action == Action::Remove && m.status == Status::Planned)
        .count();
    let allowed = Limit::allowed(opts.max_removals, recorded);
    let guard = (removals > allowed).then_some(RemovalGuard {
        removals,
        allowed,
        recorded,
    });
    if let Some(guard) = guard {
        let why = guard.to_string();
        for m in out
            .iter_mut()
            .filter(|m| m.action == Action::Remove && m.status == Status::Planned)
        {
            m.status = Status::Skipped;
            m.error = why.clone();
        }
    }
    // A row for each person left out, with the reason: the report says who is not there, and why.
    for l in normalized
        .left_out
        .iter()
        .filter(|l| !l.user_id.is_empty() && !l.organization_id.is_empty())
    {
        out.push(MemberOutcome {
            organization_id: l.organization_id.clone(),
            group_id: l.group_id.clone(),
            user_id: l.user_id.clone(),
            action: Action::Add,
            status: Status::LeftOut,
            attempts: 0,
            error: l.why.to_string(),
            sources: vec![l.source],
        });
    }
    out.sort_by(|a, b| {
        (&a.organization_id, &a.group_id, a.action, &a.user_id).cmp(&(
            &b.organization_id,
            &b.group_id,
            b.action,
            &b.user_id,
        ))
    });
    (out, guard)
}

/// The removals of people left out whom `known` (with a repair: the server, and the state when
/// there is one) holds in the group their row names, unless another row puts them there today.
fn left_out_removals(normalized: &normalize::Plan, known: &Known) -> Vec<MemberOutcome> {
    let mut out: Vec<MemberOutcome> = Vec::new();
    let today: BTreeSet<(&str, &str, &str)> = normalized
        .organizations
        .iter()
        .flat_map(|o| {
            o.groups.iter().flat_map(move |g| {
                g.members
                    .iter()
                    .map(move |m| (o.id.as_str(), g.id.as_str(), m.user.as_str()))
            })
        })
        .collect();
    // Each leaver row's group; and for someone with no current row at all, every group
    // `known` holds them in (they may have moved before leaving, or their row names none).
    let mut keys: BTreeSet<(&str, &str, &str)> = normalized
        .left_out
        .iter()
        .map(|l| (l.organization_id.as_str(), l.group_id.as_str(), l.user_id.as_str()))
        .collect();
    for org in &normalized.organizations {
        let departed = crate::current::departed(normalized, org);
        for (group, users) in known.members.get(&org.id).into_iter().flatten() {
            keys.extend(
                users
                    .iter()
                    .filter(|u| departed.contains(u.as_str()))
                    .map(|u| (org.id.as_str(), group.as_str(), u.as_str())),
            );
        }
    }
    for key @ (organization, group, user) in keys {
        let held = known
            .members
            .get(organization)
            .and_then(|g| g.get(group))
            .is_some_and(|users| users.contains(user));
        if user.is_empty() || !held || today.contains(&key) {
            continue;
        }
        out.push(MemberOutcome {
            organization_id: organization.to_owned(),
            group_id: group.to_owned(),
            user_id: user.to_owned(),
            action: Action::Remove,
            status: Status::Planned,
            attempts: 0,
            error: String::new(),
            sources: Vec::new(),
        });
    }
    out
}

/// Every employee of a group that can be sent, once per organization, with the name and
/// e-mail of the first row naming them: `planned`, or `unchanged` when the state records the
/// same name and e-mail (unless `full`).
pub(super) fn users(
    normalized: &normalize::Plan,
    groups: &[GroupOutcome],
    known: &Known,
    full: bool,
) -> Vec<UserOutcome> {
    let sendable = sendable(groups);
    let mut out = Vec::new();
    let nobody = Default::default();
    for org in &normalized.organizations {
        let had = known.users.get(&org.id).unwrap_or(&nobody);
        let mut first: BTreeMap<&str, &normalize::Member> = BTreeMap::new();
        for g in org
            .groups
            .iter()
            .filter(|g| sendable.contains(&(org.id.as_str(), g.id.as_str())))
        {
            for m in &g.members {
                let seen = first.entry(m.user.as_str()).or_insert(m);
                if m.source < seen.source {
                    *seen = m;
                }
            }
        }
        for (user, m) in first {
            let name = m.name.clone().unwrap_or_default();
            let email = m.email.clone().unwrap_or_default();
            let same = had.get(user).is_some_and(|(n, e)| *n == name && *e == email);
            out.push(UserOutcome {
                organization_id: org.id.clone(),
                user_id: user.to_owned(),
                name,
                email,
                status: if same && !full {
                    Status::Unchanged
                } else {
                    Status::Planned
                },
                attempts: 0,
                error: String::new(),
                sources: vec![m.source],
            });
        }
    }
    out
}

/// The groups whose members go: those to send and those already there.
fn sendable(groups: &[GroupOutcome]) -> BTreeSet<(&str, &str)> {
    groups
        .iter()
        .filter(|o| matches!(o.status, Status::Planned | Status::Unchanged))
        .map(|o| (o.organization_id.as_str(), o.group_id.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(Limit::allowed(None, 1000), 100);
        assert_eq!(Limit::allowed(None, 8), 5);
        assert_eq!(Limit::allowed(Some(Limit::Share(0.5)), 9), 4);
        assert_eq!(Limit::allowed(Some(Limit::Count(0)), 9), 0);
    }
}
