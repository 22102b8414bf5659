//! Memberships (`import --members`): who should be in each group, what to send to get there,
//! and the guard that keeps a truncated export from emptying the directory.
//!
//! With a state, only new memberships are sent; `--remove-departed` also removes users that
//! this tool added earlier and today's export no longer has in that group (the state is the
//! record: users someone else added are never touched).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Action, GroupMembers, GroupOutcome, Known, MemberOutcome, PlanOptions, Status, UserOutcome};
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
    // Sized once: a million rows grown by doubling would hold up to twice their size.
    let people: usize = normalized
        .organizations
        .iter()
        .flat_map(|o| &o.groups)
        .map(|g| g.members.len())
        .sum();
    let mut out = Vec::with_capacity(people + normalized.left_out.len());
    let mut recorded = 0usize;
    let nobody = Default::default();
    let no_names = Default::default();
    for org in &normalized.organizations {
        let org_id: Arc<str> = org.id.as_str().into();
        let had_by_group = known.members.get(&org.id).unwrap_or(&nobody);
        let groups_on_record = known.groups_on_record(&org.id);
        recorded += groups_on_record
            .iter()
            .map(|g| known.removable(&org.id, g).len())
            .sum::<usize>();
        let names = known.names.get(&org.id).unwrap_or(&no_names);
        let row = |group: &Arc<str>, user: Arc<str>, action, status, source| MemberOutcome {
            organization_id: Arc::clone(&org_id),
            group_id: Arc::clone(group),
            user_id: user,
            action,
            status,
            attempts: 0,
            error: Box::default(),
            source,
        };
        // The removals of `group`: those on record whom `today` does not hold, by their names.
        let removals = |group: &Arc<str>, today: &GroupMembers, out: &mut Vec<MemberOutcome>| {
            let gone = known
                .removable(&org.id, group)
                .hashes_not_in(today)
                .collect::<Vec<u64>>();
            for user in gone.iter().filter_map(|h| names.get(h)) {
                out.push(row(group, Arc::clone(user), Action::Remove, Status::Planned, None));
            }
        };
        // A department gone from the export takes its members with it (within the cap below).
        if opts.remove_departed {
            let today: BTreeSet<&str> = org.groups.iter().map(|g| g.id.as_str()).collect();
            for group in groups_on_record.iter().filter(|g| !today.contains(*g)) {
                removals(&(*group).into(), &GroupMembers::default(), &mut out);
            }
        }
        for g in &org.groups {
            if !sendable.contains(&(org.id.as_str(), g.id.as_str())) {
                continue;
            }
            let group: Arc<str> = g.id.as_str().into();
            let had = had_by_group.get(&g.id);
            let present = known.present.get(&org.id).and_then(|p| p.get(&g.id));
            for m in &g.members {
                let there = |set: Option<&GroupMembers>| set.is_some_and(|s| s.has(m.user_hash()));
                let status = if !opts.full && (there(had) || there(present)) {
                    Status::Unchanged
                } else {
                    Status::Planned
                };
                out.push(row(&group, Arc::clone(&m.user), Action::Add, status, Some(m.source)));
            }
            if opts.remove_departed {
                removals(&group, &GroupMembers::of_members(&g.members), &mut out);
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
            && held_back.contains(&*m.organization_id)
            && !leavers.contains(&(&*m.organization_id, &*m.user_id))
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
            m.error = why.as_str().into();
        }
    }
    // A row for each person left out, with the reason: the report says who is not there, and why.
    for l in normalized
        .left_out
        .iter()
        .filter(|l| !l.user_id.is_empty() && !l.organization_id.is_empty())
    {
        out.push(MemberOutcome {
            organization_id: l.organization_id.as_str().into(),
            group_id: l.group_id.as_str().into(),
            user_id: l.user_id.as_str().into(),
            action: Action::Add,
            status: Status::LeftOut,
            attempts: 0,
            error: l.why.to_string().into(),
            source: Some(l.source),
        });
    }
    // The rows to add come in order (organizations, their groups, each group's members by
    // user); only removals and rows of people left out need sorting in. Unstable (no buffer
    // of half a million rows), with the order the rows were made in as the tie-break: a row
    // to add comes before a left-out row of one key (the status order), and left-out rows of
    // one key go by row.
    let in_order = out
        .iter()
        .all(|m| m.action == Action::Add && m.status != Status::LeftOut);
    let order = |a: &MemberOutcome, b: &MemberOutcome| {
        (
            &a.organization_id,
            &a.group_id,
            a.action,
            &a.user_id,
            a.status,
            a.source,
        )
            .cmp(&(
                &b.organization_id,
                &b.group_id,
                b.action,
                &b.user_id,
                b.status,
                b.source,
            ))
    };
    if in_order {
        debug_assert!(
            out.is_sorted_by(|a, b| order(a, b).is_le()),
            "the rows to add come sorted"
        );
    } else {
        out.sort_unstable_by(order);
    }
    (out, guard)
}

/// The removals of people left out whom `known` (with a repair: the server, and the state when
/// there is one) holds in the group their row names, unless another row puts them there today.
fn left_out_removals(normalized: &normalize::Plan, known: &Known) -> Vec<MemberOutcome> {
    let mut out: Vec<MemberOutcome> = Vec::new();
    // Whether a current row puts `user` in `group` today (members are sorted by user ID).
    let groups: std::collections::HashMap<(&str, &str), &normalize::Group> = normalized
        .organizations
        .iter()
        .flat_map(|o| o.groups.iter().map(move |g| ((o.id.as_str(), g.id.as_str()), g)))
        .collect();
    let today = |(org, group, user): (&str, &str, &str)| {
        groups
            .get(&(org, group))
            .is_some_and(|g| g.members.binary_search_by(|m| (*m.user).cmp(user)).is_ok())
    };
    // Each leaver row's group; and for someone with no current row at all, every group
    // `known` holds them in (they may have moved before leaving, or their row names none).
    let mut keys: BTreeSet<(&str, &str, &str)> = normalized
        .left_out
        .iter()
        .map(|l| (l.organization_id.as_str(), l.group_id.as_str(), l.user_id.as_str()))
        .collect();
    for org in &normalized.organizations {
        // One pass over the members on record, each looked up among the departed by hash.
        let departed: std::collections::HashMap<u64, &str> = crate::current::departed(normalized, org)
            .into_iter()
            .map(|u| (crate::normalize::user_hash(u), u))
            .collect();
        if departed.is_empty() {
            continue;
        }
        for (group, users) in known.members.get(&org.id).into_iter().flatten() {
            keys.extend(
                users
                    .hashes()
                    .filter_map(|h| departed.get(&h))
                    .map(|u| (org.id.as_str(), group.as_str(), *u)),
            );
        }
    }
    for key @ (organization, group, user) in keys {
        let held = known
            .members
            .get(organization)
            .and_then(|g| g.get(group))
            .is_some_and(|users| users.contains(user));
        if user.is_empty() || !held || today(key) {
            continue;
        }
        out.push(MemberOutcome {
            organization_id: organization.into(),
            group_id: group.into(),
            user_id: user.into(),
            action: Action::Remove,
            status: Status::Planned,
            attempts: 0,
            error: Box::default(),
            source: None,
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
    let none: Arc<str> = Arc::from("");
    for org in &normalized.organizations {
        let org_id: Arc<str> = org.id.as_str().into();
        let sent = known.users.get(&org.id).unwrap_or(&nobody);
        // Each user once, from the first row naming them: by user, then row.
        let mut first: Vec<(u64, &normalize::Member)> = org
            .groups
            .iter()
            .filter(|g| sendable.contains(&(org.id.as_str(), g.id.as_str())))
            .flat_map(|g| &g.members)
            .map(|m| (m.order_prefix(), m))
            .collect();
        first.sort_unstable_by(|(pa, a), (pb, b)| {
            pa.cmp(pb).then_with(|| (&a.user, a.source).cmp(&(&b.user, b.source)))
        });
        first.dedup_by(|later, kept| later.0 == kept.0 && later.1.user == kept.1.user);
        let fill = |part: &[(u64, &normalize::Member)], out: &mut Vec<UserOutcome>| {
            let mut had = sent.cursor();
            for &(_, m) in part {
                let same = had.same(m);
                out.push(UserOutcome {
                    organization_id: Arc::clone(&org_id),
                    user_id: Arc::clone(&m.user),
                    name: m.name.clone().unwrap_or_else(|| Arc::clone(&none)),
                    email: m.email.clone().unwrap_or_else(|| Arc::clone(&none)),
                    status: if same && !full {
                        Status::Unchanged
                    } else {
                        Status::Planned
                    },
                    attempts: 0,
                    error: Box::default(),
                    source: m.source,
                });
            }
        };
        out.reserve_exact(first.len());
        if first.len() < SPLIT_AT {
            fill(&first, &mut out);
            continue;
        }
        // A large organization in two halves, the second on a core of its own: hashing the
        // names sent and sharing the strings is most of the work.
        let (low, high) = first.split_at(first.len() / 2);
        let high = std::thread::scope(|scope| {
            let fill = &fill;
            let high = scope.spawn(move || {
                let mut part = Vec::with_capacity(high.len());
                fill(high, &mut part);
                part
            });
            fill(low, &mut out);
            high.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        out.extend(high);
    }
    out
}

/// An organization of this many users is planned on two cores.
const SPLIT_AT: usize = 50_000;

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
