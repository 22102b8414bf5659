//! Memberships (`import --members`): who should be in each group, what to send to get there,
//! and the guard that keeps a truncated export from emptying the directory.
//!
//! Members are added only to groups the server confirmed in this run or that the state says
//! exist. With a state, only new memberships are sent; `--remove-departed` also removes users
//! that this tool added earlier and today's export no longer has in that group (the state is
//! the record: users someone else added are never touched).

use std::collections::{BTreeSet, HashMap};

use crate::error::Error;
use crate::normalize::Plan;
use crate::report::{MemberOutcome, Outcome, Status};
use crate::state::State;
use crate::upload::{Endpoint, Work};

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

/// Parses `--max-removals`: `25` or `10%`.
pub fn parse_limit(text: &str) -> Result<Limit, Error> {
    let t = text.trim();
    let bad = || {
        Error::Usage(format!(
            "--max-removals takes a count (25) or a percentage (10%), not '{text}'"
        ))
    };
    match t.strip_suffix('%') {
        Some(p) => {
            let p: f64 = p.trim().parse().map_err(|_| bad())?;
            if (0.0..=100.0).contains(&p) {
                Ok(Limit::Share(p / 100.0))
            } else {
                Err(bad())
            }
        }
        None => t.parse().map(Limit::Count).map_err(|_| bad()),
    }
}

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

/// Membership options.
#[derive(Debug, Clone, Copy)]
pub struct MemberOptions {
    /// `--remove-departed`.
    pub remove_departed: bool,
    /// `--max-removals`.
    pub max_removals: Option<Limit>,
    /// `--full`: send every membership, known or not.
    pub full: bool,
    /// `--dry-run`: planned groups count as existing.
    pub dry_run: bool,
}

/// Decides every membership: `planned` (to add or remove), `unchanged` (the state has it),
/// `failed` (its group was not confirmed) or `skipped` (a removal above the cap).
pub fn plan(
    plan: &Plan,
    groups: &[Outcome],
    state: Option<&State>,
    opts: MemberOptions,
) -> Result<Vec<MemberOutcome>, Error> {
    let status: HashMap<(&str, &str), Status> = groups
        .iter()
        .map(|o| ((o.organization_id.as_str(), o.group_id.as_str()), o.status))
        .collect();
    let mut out = Vec::new();
    let mut recorded = 0usize;
    for org in &plan.organizations {
        let known = match state {
            Some(s) => s.members(&org.id).map_err(|e| Error::State(e.to_string()))?,
            None => HashMap::new(),
        };
        recorded += known.values().map(BTreeSet::len).sum::<usize>();
        // A department gone from the export takes its members with it (within the cap below).
        if opts.remove_departed {
            let today: BTreeSet<&str> = org.groups.iter().map(|g| g.id.as_str()).collect();
            for (group, users) in known.iter().filter(|(g, _)| !today.contains(g.as_str())) {
                for user in users {
                    out.push(MemberOutcome {
                        organization_id: org.id.clone(),
                        group_id: group.clone(),
                        user_id: user.clone(),
                        action: "remove",
                        status: Status::Planned,
                        attempts: 0,
                        error: String::new(),
                        sources: Vec::new(),
                    });
                }
            }
        }
        for g in &org.groups {
            let group_status = status.get(&(org.id.as_str(), g.id.as_str())).copied();
            let exists = matches!(group_status, Some(Status::Added | Status::Unchanged))
                || (opts.dry_run && group_status == Some(Status::Planned));
            let had = known.get(&g.id);
            let outcome = |user: &str, action: &'static str, status: Status, error: &str, sources| MemberOutcome {
                organization_id: org.id.clone(),
                group_id: g.id.clone(),
                user_id: user.to_owned(),
                action,
                status,
                attempts: 0,
                error: error.to_owned(),
                sources,
            };
            for crate::normalize::Member { user, source, .. } in &g.members {
                let (status, error) = if !exists {
                    (Status::Failed, "not attempted: the group was not confirmed")
                } else if !opts.full && had.is_some_and(|h| h.contains(user)) {
                    (Status::Unchanged, "")
                } else {
                    (Status::Planned, "")
                };
                out.push(outcome(user, "add", status, error, vec![*source]));
            }
            if opts.remove_departed && exists {
                let today: BTreeSet<&str> = g.members.iter().map(|m| m.user.as_str()).collect();
                for user in had.into_iter().flatten().filter(|u| !today.contains(u.as_str())) {
                    out.push(outcome(user, "remove", Status::Planned, "", Vec::new()));
                }
            }
        }
    }
    let removals = out.iter().filter(|m| m.action == "remove").count();
    let allowed = Limit::allowed(opts.max_removals, recorded);
    if removals > allowed {
        let why = format!(
            "not removed: {removals} removals exceed --max-removals ({allowed} of {recorded} recorded members); \
             a truncated or half-exported file looks like this; raise --max-removals if the removals are right"
        );
        eprintln!("error: {why}");
        for m in out.iter_mut().filter(|m| m.action == "remove") {
            m.status = Status::Skipped;
            m.error = why.clone();
        }
    }
    out.sort_by(|a, b| {
        (&a.organization_id, &a.group_id, a.action, &a.user_id).cmp(&(
            &b.organization_id,
            &b.group_id,
            b.action,
            &b.user_id,
        ))
    });
    Ok(out)
}

/// The planned memberships as upload work, in order.
pub fn work(members: &[MemberOutcome]) -> Vec<Work> {
    members
        .iter()
        .filter(|m| m.status == Status::Planned)
        .map(|m| {
            let endpoint = if m.action == "remove" {
                Endpoint::RemoveMembers
            } else {
                Endpoint::AddMembers
            };
            Work::member(endpoint, &m.organization_id, &m.group_id, &m.user_id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(parse_limit("25").unwrap(), Limit::Count(25));
        assert_eq!(parse_limit(" 10% ").unwrap(), Limit::Share(0.10));
        assert!(parse_limit("lots").is_err());
        assert!(parse_limit("150%").is_err());
        assert_eq!(Limit::allowed(None, 1000), 100);
        assert_eq!(Limit::allowed(None, 8), 5);
        assert_eq!(Limit::allowed(Some(Limit::Share(0.5)), 9), 4);
        assert_eq!(Limit::allowed(Some(Limit::Count(0)), 9), 0);
    }
}
