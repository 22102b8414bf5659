//! The plan: from the normalized groups and what the state file knows, every group and
//! membership with what is to be done about it (send, unchanged, stale, held back, removal
//! skipped), keyed by organization, group and user. A dry run is the plan as it stands; an
//! import carries it out and joins each result back by its [`Key`], never by position.

mod members;
mod outcome;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

pub use members::{Limit, RemovalGuard};
pub use outcome::{
    Action, Done, Endpoint, GroupOutcome, Key, MemberOutcome, Results, Scope, Status, UserOutcome, Work,
};

use crate::normalize::{self, fingerprint, user_hash};

/// Members of one organization's groups: group -> users.
pub type GroupUsers = HashMap<String, GroupMembers>;

/// One group's users as sorted fingerprints (64-bit hashes of their IDs): a plan asks "is
/// this user on record here?", and a million IDs as strings would cost several times more
/// (and take a string per row to read). A user new to a group of n on record is taken for
/// one of them by chance once in 2^64/n; the IDs a removal sends are looked up by name
/// ([`Known::names`]), never guessed from a hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupMembers(Vec<u64>);

impl GroupMembers {
    /// The group of these users.
    pub fn of<'a>(users: impl IntoIterator<Item = &'a str>) -> Self {
        Self::from_hashes(users.into_iter().map(user_hash).collect())
    }

    /// The group of these members.
    pub fn of_members(members: &[normalize::Member]) -> Self {
        Self::from_hashes(members.iter().map(normalize::Member::user_hash).collect())
    }

    /// The group of these fingerprints ([`user_hash`]).
    pub fn from_hashes(mut hashes: Vec<u64>) -> Self {
        hashes.sort_unstable();
        hashes.dedup();
        hashes.shrink_to_fit();
        GroupMembers(hashes)
    }

    /// Whether `user` is one of them.
    pub fn contains(&self, user: &str) -> bool {
        self.has(user_hash(user))
    }

    fn has(&self, hash: u64) -> bool {
        self.0.binary_search(&hash).is_ok()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Those in `self` or in `other`.
    pub fn union(&self, other: &GroupMembers) -> GroupMembers {
        Self::from_hashes(self.0.iter().chain(&other.0).copied().collect())
    }

    /// Those in both.
    pub fn intersection(&self, other: &GroupMembers) -> GroupMembers {
        GroupMembers(self.0.iter().copied().filter(|h| other.has(*h)).collect())
    }

    /// Their fingerprints, in order.
    fn hashes(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().copied()
    }

    /// Those not in `other`, as hashes.
    fn hashes_not_in<'a>(&'a self, other: &'a GroupMembers) -> impl Iterator<Item = u64> + 'a {
        self.0.iter().copied().filter(|h| !other.has(*h))
    }
}

/// What the state file knows of the organizations in today's export.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Per organization, the confirmed groups: ID -> name.
    pub groups: HashMap<String, HashMap<String, String>>,
    /// Per organization, the kind of each confirmed group that is not a department.
    pub kinds: HashMap<String, HashMap<String, normalize::Kind>>,
    /// Per organization, the members this tool added: group -> users.
    pub members: HashMap<String, GroupUsers>,
    /// Per organization, members that were there already when this tool added them (someone
    /// else's): group -> users. They count as there, never as this tool's to remove.
    pub present: HashMap<String, GroupUsers>,
    /// Per organization, memberships a stopped run was adding and never saw confirmed:
    /// group -> users.
    pub pending: HashMap<String, GroupUsers>,
    /// Per organization, the organization users this tool added, with the name and e-mail sent.
    pub users: HashMap<String, SentUsers>,
    /// Per organization, the user IDs behind the fingerprints a removal may send: those of
    /// [`Known::unnamed`], as the state (or a repair's read-back) spells them.
    pub names: HashMap<String, HashMap<u64, Arc<str>>>,
}

impl Known {
    /// The groups of `org` with members on record: added, or being added by a stopped run.
    pub fn groups_on_record(&self, org: &str) -> BTreeSet<&str> {
        [&self.members, &self.pending]
            .into_iter()
            .filter_map(|t| t.get(org))
            .flat_map(|groups| groups.keys().map(String::as_str))
            .collect()
    }

    /// What `--remove-departed` may remove from `group`: its members on record, and those a
    /// stopped run was adding (they may be on the server; removing one that is not costs
    /// nothing).
    pub fn removable(&self, org: &str, group: &str) -> GroupMembers {
        let had = self.members.get(org).and_then(|g| g.get(group));
        let pending = self.pending.get(org).and_then(|g| g.get(group));
        match (had, pending) {
            (Some(had), Some(pending)) => had.union(pending),
            (Some(only), None) | (None, Some(only)) => only.clone(),
            (None, None) => GroupMembers::default(),
        }
    }

    /// Per organization and group, the [`Known::removable`] users whom today's export does not
    /// put there and whose IDs are not yet in [`Known::names`]: to be named before the plan.
    pub fn unnamed(&self, normalized: &normalize::Plan) -> Vec<(String, String, Vec<u64>)> {
        let mut out = Vec::new();
        for org in normalized.organizations.iter().map(|o| &o.id) {
            let named = self.names.get(org);
            for group in self.groups_on_record(org) {
                let today = GroupMembers::of_members(normalized.members_of(org, group));
                let hashes: Vec<u64> = self
                    .removable(org, group)
                    .hashes_not_in(&today)
                    .filter(|h| !named.is_some_and(|n| n.contains_key(h)))
                    .collect();
                if !hashes.is_empty() {
                    out.push((org.clone(), group.to_owned(), hashes));
                }
            }
        }
        out
    }

    /// Records `user` as the ID behind its fingerprint in `org`.
    pub fn name(&mut self, org: &str, user: &str) {
        let names = self.names.entry(org.to_owned()).or_default();
        names.entry(user_hash(user)).or_insert_with(|| user.into());
    }
}

/// Organization users with the name and e-mail sent to each, kept as fingerprints (64-bit
/// hashes): a plan only asks "is this still what was sent?", and a million people's IDs,
/// names and e-mails as strings would cost ten times more. Two different people (or names)
/// hashing alike is a one in 2^64 chance per person, and its worst outcome is one user
/// re-sent or one rename missed until the next change.
///
/// Kept sorted by user ([`SentUser`]): a plan asks about users in the order of their IDs
/// (their first eight bytes first), so it walks this list once, front to back
/// ([`SentUsers::cursor`]), where a table of a million would cost a cache miss per person.
#[derive(Debug, Clone, Default)]
pub struct SentUsers(Vec<SentUser>);

/// One organization user as sent, as [`SentUsers`] keeps it: the first eight bytes of the ID
/// (for the order), its fingerprint, and the fingerprint of the name and e-mail sent.
#[derive(Debug, Clone, Copy)]
pub struct SentUser {
    prefix: u64,
    user: u64,
    sent: u64,
}

impl SentUser {
    /// `user` sent with `name` and `email` (empty: none), as text; the state file's bytes are
    /// taken as they are (UTF-8, not checked again).
    pub fn new(user: &[u8], name: &[u8], email: &[u8]) -> Self {
        SentUser {
            prefix: normalize::order_prefix_of(user),
            user: user_hash(user),
            sent: fingerprint(&[name, email]),
        }
    }
}

impl SentUsers {
    /// Records `user` as sent with `name` and `email` (empty: none).
    pub fn insert(&mut self, user: &str, name: &str, email: &str) {
        self.extend([SentUser::new(user.as_bytes(), name.as_bytes(), email.as_bytes())]);
    }

    /// A reader for questions asked in the order of the users' IDs.
    pub fn cursor(&self) -> SentCursor<'_> {
        SentCursor {
            sent: &self.0,
            run: 0..0,
        }
    }
}

impl Extend<SentUser> for SentUsers {
    /// Records each user as sent; a user recorded before takes the name and e-mail given last.
    fn extend<I: IntoIterator<Item = SentUser>>(&mut self, users: I) {
        let before = self.0.len();
        self.0.extend(users);
        if self.0.len() > before {
            // Stable: of two records of one user, the later stays after the earlier.
            self.0.sort_by_key(|u| (u.prefix, u.user));
            self.0.dedup_by(|later, kept| {
                let same = (later.prefix, later.user) == (kept.prefix, kept.user);
                if same {
                    kept.sent = later.sent;
                }
                same
            });
        }
    }
}

/// Answers [`SentCursor::same`] for users asked in ascending order of their IDs, reading the
/// sent users once from front to back.
pub struct SentCursor<'a> {
    sent: &'a [SentUser],
    /// The sent users sharing the last user's order prefix.
    run: std::ops::Range<usize>,
}

impl SentCursor<'_> {
    /// Whether `member`'s user was sent with exactly their name and e-mail. Members must come
    /// in ascending order of their IDs (one asked out of order is answered "no").
    pub fn same(&mut self, member: &normalize::Member) -> bool {
        // Nobody sent yet (a first night, a dry run on a new state): nothing to hash.
        if self.sent.is_empty() {
            return false;
        }
        let prefix = member.order_prefix();
        if self.run.is_empty() || self.sent[self.run.start].prefix != prefix {
            // Forward only: every sent user is passed over once in a plan.
            let skipped = self.sent[self.run.end..]
                .iter()
                .take_while(|u| u.prefix < prefix)
                .count();
            let start = self.run.end + skipped;
            let len = self.sent[start..].iter().take_while(|u| u.prefix == prefix).count();
            self.run = start..start + len;
        }
        let run = &self.sent[self.run.clone()];
        let (name, email) = (member.name.as_deref(), member.email.as_deref());
        let (name, email) = (name.unwrap_or_default(), email.unwrap_or_default());
        run.binary_search_by_key(&member.user_hash(), |u| u.user)
            .is_ok_and(|i| run[i].sent == fingerprint(&[name.as_bytes(), email.as_bytes()]))
    }
}

/// How to plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// `--full`: send what the state says is there.
    pub full: bool,
    /// `--members`: plan memberships too.
    pub members: bool,
    /// `--remove-departed`.
    pub remove_departed: bool,
    /// `--max-removals`.
    pub max_removals: Option<Limit>,
    /// `--repair`: people left out (leavers, not yet started, filtered) whom the server still
    /// lists in their group are removed, even without `--remove-departed`.
    pub repair: bool,
}

/// Every group and membership with its status; `planned` ones are to be sent.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Groups (and held-back rows), sorted by organization and group.
    pub groups: Vec<GroupOutcome>,
    /// With `--members`: the employees to make organization users (only they can join
    /// groups), sorted by organization and user.
    pub users: Option<Vec<UserOutcome>>,
    /// With `--members`: memberships, sorted by organization, group, action and user.
    pub members: Option<Vec<MemberOutcome>>,
    /// Set when the removals exceed `--max-removals` (they are then `skipped`).
    pub removal_guard: Option<RemovalGuard>,
}

impl Plan {
    /// Plans every group and membership of `normalized`.
    pub fn build(normalized: &normalize::Plan, known: &Known, opts: PlanOptions) -> Plan {
        let mut groups = planned(normalized);
        keep_names(&mut groups, normalized, known);
        apply_known(&mut groups, known, opts.full);
        let (users, members, removal_guard) = if opts.members {
            // The users and the memberships are planned apart, each on a core of its own.
            let (users, (m, guard)) = std::thread::scope(|scope| {
                let users = scope.spawn(|| members::users(normalized, &groups, known, opts.full));
                let members = members::plan(normalized, &groups, known, opts);
                let users = users.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (users, members)
            });
            (Some(users), Some(m), guard)
        } else {
            (None, None, None)
        };
        Plan {
            groups,
            users,
            members,
            removal_guard,
        }
    }

    /// Groups and rows held back by the normalizer.
    pub fn held_back(&self) -> usize {
        self.groups.iter().filter(|o| o.status == Status::Invalid).count()
    }

    /// The groups to send.
    pub fn group_work(&self) -> Vec<Work> {
        self.groups
            .iter()
            .filter(|o| o.status == Status::Planned)
            .map(|o| Work::group(o.organization_id.as_str(), o.group_id.as_str(), o.group_name.as_str()))
            .collect()
    }

    /// The organization users to add.
    pub fn user_work(&self) -> Vec<Work> {
        let planned = || self.users.iter().flatten().filter(|u| u.status == Status::Planned);
        // The rows come organization by organization: each one's users share one scope.
        let mut last: Option<Scope> = None;
        exactly(
            planned().count(),
            planned().map(|u| {
                let org = &u.organization_id;
                let scope = reuse(&mut last, org, "", || Key::user_scope(Arc::clone(org)));
                Work::user_in(
                    &scope,
                    Arc::clone(&u.user_id),
                    Arc::clone(&u.name),
                    Arc::clone(&u.email),
                )
            }),
        )
    }

    /// Joins the organization users' results by key; then a membership is sent only for a
    /// user the server holds as an organization user.
    pub fn record_users(&mut self, results: &Results) {
        for u in self.users.iter_mut().flatten().filter(|u| u.status == Status::Planned) {
            let key = Key::user(Arc::clone(&u.organization_id), Arc::clone(&u.user_id));
            settle(
                &mut u.status,
                &mut u.attempts,
                &mut u.error,
                results.get(&key),
                Status::Added,
            );
        }
        let adding = |m: &MemberOutcome| m.status == Status::Planned && m.action == Action::Add;
        if !self.members.iter().flatten().any(adding) {
            // Nothing to add (an unchanged night): no membership waits on a user.
            return;
        }
        // The users are sorted by organization and user: searched where they are, for no list
        // of a million pairs beside them (it made the first night's peak).
        let users = self.users.as_deref().unwrap_or_default();
        let held = |org: &str, user: &str| {
            users
                .binary_search_by(|u| (&*u.organization_id, &*u.user_id).cmp(&(org, user)))
                .is_ok_and(|i| matches!(users[i].status, Status::Added | Status::Exists | Status::Unchanged))
        };
        for m in self.members.iter_mut().flatten() {
            if adding(m) && !held(&m.organization_id, &m.user_id) {
                m.status = Status::Failed;
                m.error = "not attempted: the user was not confirmed as an organization user".into();
            }
        }
    }

    /// Marks everything still `planned` as failed, not attempted, for `why`.
    pub fn not_attempted(&mut self, why: &str) {
        let groups = self.groups.iter_mut().map(|o| (&mut o.status, &mut o.error));
        let users = self.users.iter_mut().flatten().map(|u| (&mut u.status, &mut u.error));
        let members = self.members.iter_mut().flatten().map(|m| (&mut m.status, &mut m.error));
        for (status, error) in groups.chain(users).chain(members) {
            if *status == Status::Planned {
                *status = Status::Failed;
                *error = why.into();
            }
        }
    }

    /// The membership changes to send.
    pub fn member_work(&self) -> Vec<Work> {
        let planned = || self.members.iter().flatten().filter(|m| m.status == Status::Planned);
        // The rows come group by group: each group's items share one scope.
        let mut last: Option<Scope> = None;
        exactly(
            planned().count(),
            planned().map(|m| {
                let (org, group) = (&m.organization_id, &m.group_id);
                let scope = reuse(&mut last, org, group, || Key::scope(Arc::clone(org), Arc::clone(group)));
                Work::member_in(m.action, &scope, Arc::clone(&m.user_id))
            }),
        )
    }

    /// Joins the groups' results by key.
    pub fn record_groups(&mut self, results: &Results) {
        for o in self.groups.iter_mut().filter(|o| o.status == Status::Planned) {
            let key = Work::group(o.organization_id.as_str(), o.group_id.as_str(), "").key;
            settle(
                &mut o.status,
                &mut o.attempts,
                &mut o.error,
                results.get(&key),
                Status::Added,
            );
        }
    }

    /// After the groups: memberships of a group that was not confirmed are not sent, and
    /// none is when the run stopped (`stopped` says why).
    pub fn after_groups(&mut self, stopped: Option<&str>) {
        let confirmed: BTreeSet<(&str, &str)> = self
            .groups
            .iter()
            .filter(|o| matches!(o.status, Status::Added | Status::Exists | Status::Unchanged))
            .map(|o| (o.organization_id.as_str(), o.group_id.as_str()))
            .collect();
        let today: BTreeSet<(&str, &str)> = self
            .groups
            .iter()
            .filter(|o| o.status != Status::Stale)
            .map(|o| (o.organization_id.as_str(), o.group_id.as_str()))
            .collect();
        for m in self
            .members
            .iter_mut()
            .flatten()
            .filter(|m| m.status == Status::Planned)
        {
            let group = (&*m.organization_id, &*m.group_id);
            if let Some(why) = stopped {
                m.status = Status::Failed;
                m.error = why.into();
            } else if today.contains(&group) && !confirmed.contains(&group) {
                // A group of today's export that was not confirmed; a department gone from the
                // export (only removals) has no group row to wait for.
                m.status = Status::Failed;
                m.error = "not attempted: the group was not confirmed".into();
            }
        }
    }

    /// Joins the memberships' results by key.
    pub fn record_members(&mut self, results: &Results) {
        for m in self
            .members
            .iter_mut()
            .flatten()
            .filter(|m| m.status == Status::Planned)
        {
            let key = Work::member(
                m.action,
                Arc::clone(&m.organization_id),
                Arc::clone(&m.group_id),
                Arc::clone(&m.user_id),
            )
            .key;
            let done = match m.action {
                Action::Add => Status::Added,
                Action::Remove => Status::Removed,
            };
            settle(&mut m.status, &mut m.attempts, &mut m.error, results.get(&key), done);
        }
    }

    /// Whether anything is planned to be sent.
    pub fn sends_anything(&self) -> bool {
        let planned = |s: Status| s == Status::Planned;
        self.groups.iter().any(|o| planned(o.status))
            || self.users.iter().flatten().any(|u| planned(u.status))
            || self.members.iter().flatten().any(|m| planned(m.status))
    }

    /// Whether every group and membership ended as it should (nothing failed, invalid or
    /// skipped).
    pub fn complete(&self) -> bool {
        let fine = |s: Status| {
            matches!(
                s,
                Status::Added
                    | Status::Exists
                    | Status::Removed
                    | Status::Planned
                    | Status::Unchanged
                    | Status::Stale
                    | Status::LeftOut
            )
        };
        self.groups.iter().all(|o| fine(o.status))
            && self.users.iter().flatten().all(|u| fine(u.status))
            && self.members.iter().flatten().all(|m| fine(m.status))
    }
}

/// The scope of the row before when it names the same organization and group (work rows come
/// sorted, so a group's items share one), else a new one from `make`.
fn reuse(last: &mut Option<Scope>, org: &str, group: &str, make: impl FnOnce() -> Scope) -> Scope {
    match last {
        Some(scope) if *scope.0 == *org && *scope.1 == *group => Arc::clone(scope),
        _ => Arc::clone(last.insert(make())),
    }
}

/// `items` (`n` of them) in a vector of exactly that size: a million work items grown by
/// doubling would, while growing, hold one and a half times their size.
fn exactly<T>(n: usize, items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    out.extend(items);
    out
}

fn settle(status: &mut Status, attempts: &mut u32, error: &mut Box<str>, done: Option<&Done>, ok: Status) {
    match done {
        Some(d) => {
            *status = match (d.confirmed, d.existed) {
                (false, _) => Status::Failed,
                (true, true) => Status::Exists,
                (true, false) => ok,
            };
            *attempts = d.attempts;
            *error = d.error.clone();
        }
        None => {
            *status = Status::Failed;
            *error = "not attempted".into();
        }
    }
}

/// The outcomes a normalized export implies before anything is known: every group `planned`,
/// every conflicting name and every held-back row `invalid`; sorted by organization and group.
pub fn planned(plan: &normalize::Plan) -> Vec<GroupOutcome> {
    let mut out = Vec::with_capacity(plan.group_count() + plan.invalid.len());
    for org in &plan.organizations {
        for g in &org.groups {
            out.push(GroupOutcome {
                organization_id: org.id.clone(),
                group_id: g.id.clone(),
                group_name: g.name.clone(),
                status: Status::Planned,
                attempts: 0,
                error: Box::default(),
                sources: g.sources.clone(),
                renamed_from: None,
                kind: g.kind.clone(),
                path: g.path.clone(),
            });
        }
    }
    for c in &plan.conflicts {
        let others: Vec<String> = c.names.iter().map(|(n, _)| format!("'{n}'")).collect();
        for (name, sources) in &c.names {
            out.push(GroupOutcome {
                organization_id: c.organization_id.clone(),
                group_id: c.group_id.clone(),
                group_name: name.clone(),
                status: Status::Invalid,
                attempts: 0,
                error: format!(
                    "conflict: group ID '{}' is claimed by {}",
                    c.group_id,
                    others.join(" and ")
                )
                .into(),
                sources: sources.clone(),
                renamed_from: None,
                kind: c.kind.clone(),
                path: None,
            });
        }
    }
    for r in &plan.invalid {
        out.push(GroupOutcome {
            organization_id: r.organization_id.clone(),
            group_id: String::new(),
            group_name: r.name.trim().to_owned(),
            status: Status::Invalid,
            attempts: 0,
            error: r.message.as_str().into(),
            sources: vec![r.source],
            renamed_from: None,
            kind: r.kind.clone(),
            path: None,
        });
    }
    out.sort_by(|a, b| {
        (&a.organization_id, &a.group_id, &a.sources).cmp(&(&b.organization_id, &b.group_id, &b.sources))
    });
    out
}

/// A group the state holds under another name keeps that name while it is one of the
/// spellings tied for most rows (a tie never renames: which of two equal spellings came first
/// depends on the export's row order); otherwise the export's spelling wins by majority and
/// the group is renamed, on purpose and said so.
fn keep_names(outcomes: &mut [GroupOutcome], normalized: &normalize::Plan, known: &Known) {
    if known.groups.is_empty() {
        return;
    }
    let tied: HashMap<(&str, &str), &[String]> = normalized
        .organizations
        .iter()
        .flat_map(|o| {
            o.groups
                .iter()
                .map(move |g| ((o.id.as_str(), g.id.as_str()), g.tied.as_slice()))
        })
        .collect();
    for o in outcomes.iter_mut().filter(|o| o.status == Status::Planned) {
        let Some(old) = known.groups.get(&o.organization_id).and_then(|c| c.get(&o.group_id)) else {
            continue;
        };
        if *old == o.group_name {
            continue;
        }
        let tie = tied
            .get(&(o.organization_id.as_str(), o.group_id.as_str()))
            .is_some_and(|t| t.contains(old));
        if tie {
            o.group_name = old.clone();
        } else {
            o.renamed_from = Some(old.clone());
        }
    }
}

/// Marks groups the state already holds with the same name `unchanged` (unless `full`), and
/// lists the state's groups that today's export no longer has as `stale`.
fn apply_known(outcomes: &mut Vec<GroupOutcome>, known: &Known, full: bool) {
    let orgs: BTreeSet<String> = outcomes.iter().map(|o| o.organization_id.clone()).collect();
    let mut stale = Vec::new();
    for org in orgs.iter().filter(|o| !o.is_empty()) {
        let Some(confirmed) = known.groups.get(org) else {
            continue;
        };
        let today: BTreeSet<&str> = outcomes
            .iter()
            .filter(|o| o.organization_id == *org)
            .map(|o| o.group_id.as_str())
            .collect();
        for (id, name) in confirmed.iter().filter(|(id, _)| !today.contains(id.as_str())) {
            stale.push(GroupOutcome {
                organization_id: org.clone(),
                group_id: id.clone(),
                group_name: name.clone(),
                status: Status::Stale,
                attempts: 0,
                error:
                    "in the state from an earlier run, not in this export; Velt has no delete-group call, so it stays"
                        .into(),
                sources: Vec::new(),
                renamed_from: None,
                kind: known
                    .kinds
                    .get(org)
                    .and_then(|k| k.get(id))
                    .cloned()
                    .unwrap_or_default(),
                path: None,
            });
        }
        if full {
            continue;
        }
        for o in outcomes
            .iter_mut()
            .filter(|o| o.organization_id == *org && o.status == Status::Planned)
        {
            if confirmed.get(&o.group_id) == Some(&o.group_name) {
                o.status = Status::Unchanged;
            }
        }
    }
    outcomes.extend(stale);
    outcomes.sort_by(|a, b| (&a.organization_id, &a.group_id).cmp(&(&b.organization_id, &b.group_id)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(user: &str, name: &str) -> normalize::Member {
        normalize::Member::new(
            user.into(),
            Some(name.into()),
            None,
            normalize::Source { table: 0, row: 2 },
        )
    }

    /// Users asked in the order of their IDs, many sharing the first eight bytes (`EMP00000…`),
    /// answered from one pass over what was sent; a later record of a user replaces the earlier.
    #[test]
    fn sent_users_are_found_in_one_pass_in_id_order() {
        let mut sent = SentUsers::default();
        let ids: Vec<String> = (0..300).map(|i| format!("EMP{i:08}")).collect();
        sent.extend(
            ids.iter()
                .step_by(2)
                .map(|id| SentUser::new(id.as_bytes(), b"Ada", b"")),
        );
        sent.insert("EMP00000010", "Grace", "");
        sent.insert("zed", "Zed", "");
        let mut asked: Vec<&str> = ids.iter().map(String::as_str).collect();
        asked.push("zed");
        asked.sort_unstable();
        let mut cursor = sent.cursor();
        let same: Vec<&str> = asked
            .iter()
            .copied()
            .filter(|id| cursor.same(&member(id, if *id == "zed" { "Zed" } else { "Ada" })))
            .collect();
        let want: Vec<&str> = ids
            .iter()
            .step_by(2)
            .map(String::as_str)
            .filter(|id| *id != "EMP00000010")
            .chain(["zed"])
            .collect();
        assert_eq!(same, want);
        assert!(
            sent.cursor().same(&member("EMP00000010", "Grace")),
            "the name given last"
        );
        assert!(!SentUsers::default().cursor().same(&member("EMP00000000", "Ada")));
    }

    fn row(org: &str, id: &str, status: Status) -> GroupOutcome {
        GroupOutcome {
            organization_id: org.into(),
            group_id: id.into(),
            group_name: id.to_uppercase(),
            status,
            attempts: 0,
            error: Box::default(),
            sources: Vec::new(),
            renamed_from: None,
            kind: Default::default(),
            path: None,
        }
    }

    #[test]
    fn results_are_joined_by_key_not_position() {
        let mut plan = Plan {
            groups: vec![
                row("a", "x", Status::Planned),
                row("a", "y", Status::Planned),
                row("b", "x", Status::Planned),
            ],
            users: None,
            members: None,
            removal_guard: None,
        };
        let mut results = Results::new();
        // Answers arrive in any order; b/x is missing (never sent).
        results.insert(
            Work::group("a", "y", "").key,
            Done {
                attempts: 2,
                error: "refused".into(),
                ..Done::default()
            },
        );
        results.insert(
            Work::group("a", "x", "").key,
            Done {
                confirmed: true,
                attempts: 1,
                ..Done::default()
            },
        );
        plan.record_groups(&results);
        let got: Vec<(&str, &str, Status, u32)> = plan
            .groups
            .iter()
            .map(|o| (o.organization_id.as_str(), o.group_id.as_str(), o.status, o.attempts))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "x", Status::Added, 1),
                ("a", "y", Status::Failed, 2),
                ("b", "x", Status::Failed, 0)
            ]
        );
        assert!(!plan.complete());
    }

    #[test]
    fn known_groups_are_unchanged_or_stale() {
        let mut groups = vec![row("a", "x", Status::Planned), row("a", "y", Status::Planned)];
        let mut known = Known::default();
        known.groups.insert(
            "a".into(),
            HashMap::from([
                ("x".into(), "X".into()),
                ("gone".into(), "Gone".into()),
                ("y".into(), "Old".into()),
            ]),
        );
        apply_known(&mut groups, &known, false);
        let got: Vec<(&str, Status)> = groups.iter().map(|o| (o.group_id.as_str(), o.status)).collect();
        assert_eq!(
            got,
            vec![
                ("gone", Status::Stale),
                ("x", Status::Unchanged),
                ("y", Status::Planned)
            ]
        );
    }
}
