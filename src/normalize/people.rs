//! People's identities across one organization's rows: user IDs that differ only in case
//! (`E001` / `e001`) are two Velt users that look like one, so they are held back; one user ID
//! with two display names is worth a look.

use std::borrow::Cow;
use std::collections::HashSet;

use super::collect::IdEntry;
use super::{Group, InvalidRow, Plan, Problem, Severity, Source};

/// Every member row of one organization as `(user, display name, row)`, sorted by user, then
/// row: one sort serves both checks below (a million rows hashed into maps of their own cost
/// several times more).
pub(super) fn member_rows(entries: &[(String, IdEntry)]) -> Vec<PersonRow<'_>> {
    let mut rows: Vec<(u64, &str, Option<&str>, Source)> = entries
        .iter()
        .flat_map(|(_, e)| e.spellings.iter())
        .flat_map(|s| s.members.iter())
        .map(|m| (m.order_prefix(), &*m.user, m.name.as_deref(), m.source))
        .collect();
    // A row names one user once: (user, row) is unique.
    rows.sort_unstable_by_key(|&(prefix, user, _, source)| (prefix, user, source));
    rows
}

/// A member row: the user's [`super::order_prefix`] (compared before the user, whose string
/// then mostly stays unread), user, display name and row.
pub(super) type PersonRow<'a> = (u64, &'a str, Option<&'a str>, Source);

/// The user IDs of one organization that share their lower case with another user ID: Velt
/// compares IDs exactly, so `E001` and `e001` would be two users, while the HR system (and the
/// person) most likely means one. Each is reported with its rows; the caller holds them back.
/// `rows` are [`member_rows`].
pub(super) fn case_clashes(
    plan: &Plan,
    org_id: &str,
    rows: &[PersonRow<'_>],
    problems: &mut Vec<Problem>,
) -> HashSet<String> {
    // Each distinct ID once (an export repeats them), with its first row; then by lower case.
    let mut first: Vec<(&str, Source)> = Vec::new();
    for pair in rows.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1) {
        first.push((pair[0].1, pair[0].3));
    }
    // Lower case made once per ID (most have none to lower: then no copy), then sorted by it.
    let mut folded: Vec<(u64, Cow<'_, str>, &str, Source)> = first
        .into_iter()
        .map(|(user, source)| {
            let upper = match user.is_ascii() {
                true => user.bytes().any(|b| b.is_ascii_uppercase()),
                false => user.chars().any(char::is_uppercase),
            };
            let fold = if upper {
                Cow::Owned(user.to_lowercase())
            } else {
                Cow::Borrowed(user)
            };
            (super::order_prefix(&fold), fold, user, source)
        })
        .collect();
    folded.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut clashes: Vec<Vec<(&str, Source)>> = folded
        .chunk_by(|a, b| a.0 == b.0 && a.1 == b.1)
        .filter(|run| run.len() > 1)
        .map(|run| run.iter().map(|&(_, _, user, source)| (user, source)).collect())
        .collect();
    clashes.sort_by_key(|v| v.iter().map(|&(_, s)| s).min());
    let mut held = HashSet::new();
    for mut users in clashes {
        users.sort_by_key(|&(_, s)| s);
        let listed: Vec<String> = users
            .iter()
            .map(|&(u, s)| format!("'{u}' (first on {})", plan.describe_sources(&[s])))
            .collect();
        let (_, first) = users[0];
        let column = plan.tables[first.table as usize]
            .user_column
            .clone()
            .unwrap_or_default();
        problems.push(Problem {
            severity: Severity::Error,
            location: plan.locate(first).with_column(column),
            message: format!(
                "conflict in organization '{org_id}': the user IDs {} differ only in case, so Velt would make them two users; none of them is added to a group; write the ID one way in the source",
                listed.join(" and ")
            ),
        });
        held.extend(users.iter().map(|&(u, _)| u.to_owned()));
    }
    held
}

/// One user ID with two display names: the first row's is sent, and each other name is a
/// warning, so a mistyped ID (two people under one ID) does not pass unseen. `rows` are
/// [`member_rows`].
pub(super) fn name_warnings(plan: &Plan, rows: &[PersonRow<'_>], problems: &mut Vec<Problem>) {
    let mut first: Option<(u64, &str, &str, Source)> = None;
    let mut told: HashSet<(&str, &str)> = HashSet::new();
    for &(prefix, user, name, source) in rows.iter().filter(|r| r.2.is_some()) {
        let name = name.unwrap_or_default();
        match first {
            Some((p, u, n, at)) if p == prefix && u == user => {
                if n != name && told.insert((user, name)) {
                    let column = plan.tables[source.table as usize]
                        .user_column
                        .clone()
                        .unwrap_or_default();
                    problems.push(Problem {
                        severity: Severity::Warning,
                        location: plan.locate(source).with_column(column),
                        message: format!(
                            "user '{user}' is '{name}' here but '{n}' on {}; one ID is one person, so the name from the first row is sent; check the ID",
                            plan.describe_sources(&[at])
                        ),
                    });
                }
            }
            _ => first = Some((prefix, user, name, source)),
        }
    }
}

/// Takes the `held` users out of `groups`, each row of theirs an invalid row.
pub(super) fn hold_back(plan: &mut Plan, org_id: &str, groups: &mut [Group], held: &HashSet<String>) {
    if held.is_empty() {
        return;
    }
    for g in groups {
        g.members.retain(|m| {
            if !held.contains(&*m.user) {
                return true;
            }
            plan.invalid.push(InvalidRow {
                organization_id: org_id.to_owned(),
                name: g.name.clone(),
                source: m.source,
                message: format!(
                    "user '{}' is held back: another user ID differs from it only in case",
                    m.user
                ),
                kind: Default::default(),
            });
            false
        });
    }
}
