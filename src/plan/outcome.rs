//! The vocabulary shared by the plan, the uploader and the reports: what is to be sent
//! ([`Work`], keyed by [`Key`]), what came of it ([`Done`]), and the report rows
//! ([`GroupOutcome`], [`MemberOutcome`]) with their [`Status`].

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
    pub error: String,
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
            _ => self.error.as_str().into(),
        }
    }
}

/// One membership's row in the members part of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberOutcome {
    /// The organization.
    pub organization_id: String,
    /// The group.
    pub group_id: String,
    /// The user.
    pub user_id: String,
    /// Add or remove.
    pub action: Action,
    /// What happened (`added`, `removed`, `failed`, `unchanged`, `planned`, `skipped`).
    pub status: Status,
    /// Requests that carried it.
    pub attempts: u32,
    /// Why it did not happen.
    pub error: String,
    /// The row naming the user in this group (none for a removal).
    pub sources: Vec<Source>,
}

/// One organization user's row in the users part of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct UserOutcome {
    /// The organization.
    pub organization_id: String,
    /// The user.
    pub user_id: String,
    /// The display name sent (empty: none).
    pub name: String,
    /// The e-mail sent (empty: none).
    pub email: String,
    /// What happened (`added`, `exists`, `failed`, `unchanged`, `planned`).
    pub status: Status,
    /// Requests that carried it.
    pub attempts: u32,
    /// Why it did not happen.
    pub error: String,
    /// The first row naming the user.
    pub sources: Vec<Source>,
}

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// Names one item of work, and so its result: the same key never means two things.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// What is done with it.
    pub endpoint: Endpoint,
    /// Organization.
    pub org: String,
    /// The `groupId` (the group itself, or the one the user joins or leaves).
    pub group: String,
    /// What `result.data` is keyed by: the `groupId`, or the `userId`.
    pub item: String,
}

/// One thing to send: a group, an organization user, or one user's membership of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    /// Which item this is.
    pub key: Key,
    /// The `groupName`, or the user's `name` (empty: none).
    pub name: String,
    /// The user's `email` (empty: none).
    pub email: String,
}

impl Work {
    /// A group to add.
    pub fn group(org: &str, id: &str, name: &str) -> Self {
        Work {
            key: Key {
                endpoint: Endpoint::AddGroups,
                org: org.to_owned(),
                group: id.to_owned(),
                item: id.to_owned(),
            },
            name: name.to_owned(),
            email: String::new(),
        }
    }

    /// A user to make an organization user (`name` and `email` may be empty).
    pub fn user(org: &str, user: &str, name: &str, email: &str) -> Self {
        Work {
            key: Key {
                endpoint: Endpoint::AddUsers,
                org: org.to_owned(),
                group: String::new(),
                item: user.to_owned(),
            },
            name: name.to_owned(),
            email: email.to_owned(),
        }
    }

    /// A user to add to (or remove from) a group.
    pub fn member(action: Action, org: &str, group: &str, user: &str) -> Self {
        Work {
            key: Key {
                endpoint: action.endpoint(),
                org: org.to_owned(),
                group: group.to_owned(),
                item: user.to_owned(),
            },
            name: String::new(),
            email: String::new(),
        }
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
    pub error: String,
}

/// Results by key; an item of work without one was never sent.
pub type Results = std::collections::HashMap<Key, Done>;
