//! The vocabulary shared by the plan, the uploader and the reports: what is to be sent
//! ([`Work`], keyed by [`Key`]), what came of it ([`Done`]), and the report rows
//! ([`GroupOutcome`], [`MemberOutcome`]) with their [`Status`].

use std::sync::Arc;

use serde::Serialize;

use crate::normalize::Source;

/// What happened to one group (or membership).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The server confirmed it.
    Added,
    /// Sent, not confirmed; the error says why.
    Failed,
    /// Held back by the normalizer (conflict or bad row).
    Invalid,
    /// Skipped: the state says it is already there with this name.
    Unchanged,
    /// Dry run: would be sent.
    Planned,
    /// In the state from an earlier run but not in today's export (Velt has no delete-group
    /// call: nothing is removed).
    Stale,
    /// Memberships only: the user was removed from the group.
    Removed,
    /// Memberships only: not sent, for the reason in `error` (a removal above `--max-removals`).
    Skipped,
    /// The server answered that it is there already (`already-exists`): counted as done.
    Exists,
    /// Memberships only: the row's person is not current (a leaver, not yet started) or a
    /// `--where` filter excludes the row; `error` says which. Nothing is sent for it.
    LeftOut,
}

impl Status {
    /// Every status, in the order of their declaration (`ALL[s as usize] == s`).
    pub const ALL: [Status; 10] = [
        Status::Added,
        Status::Failed,
        Status::Invalid,
        Status::Unchanged,
        Status::Planned,
        Status::Stale,
        Status::Removed,
        Status::Skipped,
        Status::Exists,
        Status::LeftOut,
    ];

    /// The word written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Failed => "failed",
            Status::Invalid => "invalid",
            Status::Unchanged => "unchanged",
            Status::Planned => "planned",
            Status::Stale => "stale",
            Status::Removed => "removed",
            Status::Skipped => "skipped",
            Status::Exists => "exists",
            Status::LeftOut => "left-out",
        }
    }
}

/// What a membership row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Put the user in the group.
    Add,
    /// Take the user out of the group.
    Remove,
}

impl Action {
    /// The endpoint that does it.
    pub fn endpoint(self) -> Endpoint {
        match self {
            Action::Add => Endpoint::AddMembers,
            Action::Remove => Endpoint::RemoveMembers,
        }
    }

    /// The word written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Remove => "remove",
        }
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupOutcome {
    /// The organization.
    pub organization_id: String,
    /// The group ID (empty for a row too broken to have one).
    pub group_id: String,
    /// The group name.
    pub group_name: String,
    /// What happened.
    pub status: Status,
    /// Requests that carried this group.
    pub attempts: u32,
    /// Why it is not added, in plain words.
    pub error: Box<str>,
    /// The input rows behind it.
    pub sources: Vec<Source>,
    /// The name the state file holds for it, when the export now names it otherwise by
    /// majority (a rename sent on purpose).
    pub renamed_from: Option<String>,
    /// Its kind (`department` unless `--group-by` says otherwise).
    pub kind: crate::normalize::Kind,
    /// A level of a hierarchy: the path down to it (`Engineering > Platform`).
    pub path: Option<Box<str>>,
}

impl GroupOutcome {
    /// `renamed: 'Cafe' → 'Café'`, for a group sent (or to be sent) under a new name.
    pub fn rename_note(&self) -> Option<String> {
        let from = self.renamed_from.as_deref()?;
        matches!(self.status, Status::Added | Status::Exists | Status::Planned)
            .then(|| format!("renamed: '{from}' → '{}'", self.group_name))
    }

    /// The report's `error` column: the error, or for a renamed group the rename.
    pub fn note(&self) -> std::borrow::Cow<'_, str> {
        match self.rename_note() {
            Some(note) if self.error.is_empty() => note.into(),
            _ => (*self.error).into(),
        }
    }
}

/// One membership's row in the members part of a report. Its strings are shared with the
/// normalized members and the upload's work items (a million rows hold each string once).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberOutcome {
    /// The organization.
    pub organization_id: Arc<str>,
    /// The group.
    pub group_id: Arc<str>,
    /// The user.
    pub user_id: Arc<str>,
    /// Add or remove.
    pub action: Action,
    /// What happened (`added`, `removed`, `failed`, `unchanged`, `planned`, `skipped`).
    pub status: Status,
    /// Requests that carried it.
    pub attempts: u32,
    /// Why it did not happen.
    pub error: Box<str>,
    /// The row naming the user in this group (none for a removal).
    pub source: Option<Source>,
}

/// One organization user's row in the users part of a report (strings shared, as for
/// [`MemberOutcome`]).
#[derive(Debug, Clone, PartialEq)]
pub struct UserOutcome {
    /// The organization.
    pub organization_id: Arc<str>,
    /// The user.
    pub user_id: Arc<str>,
    /// The display name sent (empty: none).
    pub name: Arc<str>,
    /// The e-mail sent (empty: none).
    pub email: Arc<str>,
    /// What happened (`added`, `exists`, `failed`, `unchanged`, `planned`).
    pub status: Status,
    /// Requests that carried it.
    pub attempts: u32,
    /// Why it did not happen.
    pub error: Box<str>,
    /// The first row naming the user.
    pub source: Source,
}

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `POST /v2/organizations/usergroups/add`.
    AddGroups,
    /// `POST /v2/users/add`: makes employees organization users, who alone can join groups.
    AddUsers,
    /// `POST /v2/organizations/usergroups/users/add`.
    AddMembers,
    /// `POST /v2/organizations/usergroups/users/delete`.
    RemoveMembers,
}

/// An organization and a group (empty for organization users): one pair shared by every item
/// of a group, so a million memberships do not each carry two more pointers.
pub type Scope = Arc<(Arc<str>, Arc<str>)>;

/// Names one item of work, and so its result: the same key never means two things.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// What is done with it.
    pub endpoint: Endpoint,
    /// The organization, and the `groupId` (the group itself, or the one the user joins or
    /// leaves; empty for an organization user).
    pub scope: Scope,
    /// What `result.data` is keyed by: the `groupId`, or the `userId`.
    pub item: Arc<str>,
}

impl Key {
    /// The organization and group `(org, group)` as a [`Scope`].
    pub fn scope(org: impl Into<Arc<str>>, group: impl Into<Arc<str>>) -> Scope {
        Arc::new((org.into(), group.into()))
    }

    /// The scope of an organization's users (no group: one shared empty string).
    pub fn user_scope(org: impl Into<Arc<str>>) -> Scope {
        static NO_GROUP: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from(""));
        Key::scope(org, Arc::clone(&NO_GROUP))
    }

    /// The key of an organization user.
    pub fn user(org: impl Into<Arc<str>>, user: impl Into<Arc<str>>) -> Self {
        Key {
            endpoint: Endpoint::AddUsers,
            scope: Key::user_scope(org),
            item: user.into(),
        }
    }

    /// The organization.
    pub fn org(&self) -> &str {
        &self.scope.0
    }

    /// The `groupId` (empty for an organization user).
    pub fn group(&self) -> &str {
        &self.scope.1
    }
}

/// One thing to send: a group, an organization user, or one user's membership of a group.
/// The strings are shared with the plan's rows: a work item is a few pointers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    /// Which item this is.
    pub key: Key,
    /// The `groupName`, or the user's `name` (none for a membership).
    pub name: Option<Arc<str>>,
    /// The user's `email` (none for a group or a membership).
    pub email: Option<Arc<str>>,
}

impl Work {
    /// A group to add.
    pub fn group(org: impl Into<Arc<str>>, id: impl Into<Arc<str>>, name: impl Into<Arc<str>>) -> Self {
        let id = id.into();
        Work {
            key: Key {
                endpoint: Endpoint::AddGroups,
                scope: Key::scope(org, Arc::clone(&id)),
                item: id,
            },
            name: Some(name.into()),
            email: None,
        }
    }

    /// A user to make an organization user (`name` and `email` may be empty).
    pub fn user(
        org: impl Into<Arc<str>>,
        user: impl Into<Arc<str>>,
        name: impl Into<Arc<str>>,
        email: impl Into<Arc<str>>,
    ) -> Self {
        Work {
            key: Key::user(org, user),
            name: Some(name.into()),
            email: Some(email.into()),
        }
    }

    /// An organization user of the organization of `scope` (shared with its other users).
    pub fn user_in(scope: &Scope, user: Arc<str>, name: Arc<str>, email: Arc<str>) -> Self {
        Work {
            key: Key {
                endpoint: Endpoint::AddUsers,
                scope: Arc::clone(scope),
                item: user,
            },
            name: Some(name),
            email: Some(email),
        }
    }

    /// A user to add to (or remove from) a group.
    pub fn member(
        action: Action,
        org: impl Into<Arc<str>>,
        group: impl Into<Arc<str>>,
        user: impl Into<Arc<str>>,
    ) -> Self {
        Work::member_in(action, &Key::scope(org, group), user)
    }

    /// A user to add to (or remove from) the group of `scope` (shared with its other items).
    pub fn member_in(action: Action, scope: &Scope, user: impl Into<Arc<str>>) -> Self {
        Work {
            key: Key {
                endpoint: action.endpoint(),
                scope: Arc::clone(scope),
                item: user.into(),
            },
            name: None,
            email: None,
        }
    }

    /// The `groupName` or the user's name (empty: none).
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The user's e-mail (empty: none).
    pub fn email(&self) -> &str {
        self.email.as_deref().unwrap_or("")
    }
}

/// What became of one item of work.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Done {
    /// The server holds it (added now, or there already).
    pub confirmed: bool,
    /// It was there already (`already-exists`).
    pub existed: bool,
    /// Requests that carried it.
    pub attempts: u32,
    /// Why it is not confirmed.
    pub error: Box<str>,
}

/// Results by key; an item of work without one was never sent. Two sorted lists, not a hash
/// map: a million results cost their own size, and the keys are the work items' own, moved
/// (see [`Results::from_work`]), not copied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    keys: Vec<Key>,
    done: Vec<Done>,
}

impl Results {
    /// No results.
    pub fn new() -> Self {
        Results::default()
    }

    /// Each item of `work` with its outcome, at the same index. The work's memory is reused
    /// for the keys.
    pub fn from_work(work: Vec<Work>, done: Vec<Done>) -> Self {
        debug_assert_eq!(work.len(), done.len());
        let keys: Vec<Key> = work.into_iter().map(|w| w.key).collect();
        Results::sorted(keys, done)
    }

    fn sorted(keys: Vec<Key>, done: Vec<Done>) -> Self {
        // Work arrives in plan order, which is key order: then this is one pass.
        if keys.is_sorted() {
            return Results { keys, done };
        }
        // Stable: of one key given twice, the later stays later (and `get` finds it).
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        let mut keys: Vec<Option<Key>> = keys.into_iter().map(Some).collect();
        let mut done: Vec<Option<Done>> = done.into_iter().map(Some).collect();
        let (mut k, mut d) = (Vec::with_capacity(order.len()), Vec::with_capacity(order.len()));
        for i in order {
            k.push(keys[i].take().expect("each index once"));
            d.push(done[i].take().expect("each index once"));
        }
        Results { keys: k, done: d }
    }

    /// The result for `key` (the last one given, when one key was given twice).
    pub fn get(&self, key: &Key) -> Option<&Done> {
        let after = self.keys.partition_point(|k| k <= key);
        (after > 0 && self.keys[after - 1] == *key).then(|| &self.done[after - 1])
    }

    /// Sets the result for `key`.
    pub fn insert(&mut self, key: Key, done: Done) {
        match self.keys.binary_search(&key) {
            Ok(i) => self.done[i] = done,
            Err(i) => {
                self.keys.insert(i, key);
                self.done.insert(i, done);
            }
        }
    }

    /// How many items have a result.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no item has a result.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every result, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Done)> {
        self.keys.iter().zip(&self.done)
    }

    /// Every result's outcome, in key order.
    pub fn values(&self) -> impl Iterator<Item = &Done> {
        self.done.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_listed_at_its_own_place() {
        for (i, s) in Status::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i, "{s:?}");
        }
        // A status added after the last one listed must be listed too.
        assert_eq!(Status::LeftOut as usize + 1, Status::ALL.len());
    }

    /// Issue 22: a million people means a million of each of these; their sizes are the
    /// budget BENCHMARKS.md accounts for (pointers to shared strings, nothing owned).
    #[test]
    fn a_person_s_rows_stay_small() {
        use std::mem::size_of;
        assert!(size_of::<MemberOutcome>() <= 88, "{}", size_of::<MemberOutcome>());
        assert!(size_of::<UserOutcome>() <= 96, "{}", size_of::<UserOutcome>());
        assert!(size_of::<Key>() <= 32, "{}", size_of::<Key>());
        assert!(size_of::<Work>() <= 64, "{}", size_of::<Work>());
        assert!(size_of::<Done>() <= 24, "{}", size_of::<Done>());
    }

    #[test]
    fn results_are_found_by_key_in_any_order_and_the_later_of_two_wins() {
        let done = |attempts| Done {
            attempts,
            ..Done::default()
        };
        let work = vec![
            Work::member(Action::Add, "o", "g", "b"),
            Work::member(Action::Add, "o", "g", "a"),
            Work::member(Action::Add, "o", "g", "b"),
            Work::group("o", "g", "G"),
        ];
        let results = Results::from_work(work, vec![done(1), done(2), done(3), done(4)]);
        let key = |w: Work| w.key;
        assert_eq!(
            results.get(&key(Work::member(Action::Add, "o", "g", "a"))),
            Some(&done(2))
        );
        assert_eq!(
            results.get(&key(Work::member(Action::Add, "o", "g", "b"))),
            Some(&done(3))
        );
        assert_eq!(results.get(&key(Work::group("o", "g", ""))), Some(&done(4)));
        assert_eq!(results.get(&key(Work::member(Action::Remove, "o", "g", "a"))), None);
        assert_eq!(results.len(), 4);
    }
}
