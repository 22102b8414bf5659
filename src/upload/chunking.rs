//! Requests from work items: which items share a request.

use crate::plan::{Endpoint, Key, Work};

/// What decides which request an item goes in: its endpoint, organization and group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item<'a> {
    /// What is done with it.
    pub endpoint: Endpoint,
    /// Organization.
    pub org: &'a str,
    /// The group (the one a user joins or leaves; not compared for groups and users).
    pub group: &'a str,
}

impl<'a> From<&'a Key> for Item<'a> {
    fn from(k: &'a Key) -> Self {
        Item {
            endpoint: k.endpoint,
            org: k.org(),
            group: k.group(),
        }
    }
}

/// Whether `w` joins the request that starts with `first` and holds `len` items: groups or
/// users of one organization, or memberships of one group, at most `limit` of them.
fn joins(first: Item<'_>, len: usize, w: Item<'_>, limit: usize) -> bool {
    let same = len < limit && first.endpoint == w.endpoint && first.org == w.org;
    match w.endpoint {
        Endpoint::AddGroups | Endpoint::AddUsers => same,
        Endpoint::AddMembers | Endpoint::RemoveMembers => same && first.group == w.group,
    }
}

/// Splits `work` (sorted) into requests of at most `limit(endpoint)` items: groups or users of
/// one organization, or memberships of one group.
pub fn chunks(work: &[Work], limit: impl Fn(Endpoint) -> usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, w) in work.iter().enumerate() {
        let item = Item::from(&w.key);
        match out.last_mut() {
            Some(last) if joins(Item::from(&work[last[0]].key), last.len(), item, limit(item.endpoint)) => last.push(i),
            _ => out.push(vec![i]),
        }
    }
    out
}

/// How many requests [`chunks`] makes of `items` (in the same order), without the work
/// itself: a dry run counts a million memberships' requests without copying them.
pub fn count<'a>(items: impl IntoIterator<Item = Item<'a>>, limit: impl Fn(Endpoint) -> usize) -> usize {
    let mut requests = 0;
    let mut open: Option<(Item<'a>, usize)> = None;
    for item in items {
        match &mut open {
            Some((first, len)) if joins(*first, *len, item, limit(item.endpoint)) => *len += 1,
            _ => {
                requests += 1;
                open = Some((item, 1));
            }
        }
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::plan::{Action, Work};

    fn w(org: &str, id: &str) -> Work {
        Work::group(org, id, id.to_uppercase())
    }

    #[test]
    fn chunks_never_mix_organizations() {
        let work = vec![
            w("a", "1"),
            w("a", "2"),
            w("a", "3"),
            w("b", "1"),
            w("c", "1"),
            w("c", "2"),
        ];
        assert_eq!(chunks(&work, |_| 2), vec![vec![0, 1], vec![2], vec![3], vec![4, 5]]);
        assert_eq!(chunks(&work, |_| 1).len(), 6);
        assert_eq!(chunks(&work, |_| 100), vec![vec![0, 1, 2], vec![3], vec![4, 5]]);
        assert!(chunks(&[], |_| 5).is_empty());
    }

    #[test]
    fn member_chunks_never_mix_groups_or_actions() {
        let m = |a, g: &str, u: &str| Work::member(a, "a", g, u);
        let work = vec![
            m(Action::Add, "g1", "u1"),
            m(Action::Add, "g1", "u2"),
            m(Action::Add, "g1", "u3"),
            m(Action::Add, "g2", "u1"),
            m(Action::Remove, "g2", "u2"),
        ];
        let limit = |e| if e == Endpoint::AddGroups { 99 } else { 2 };
        assert_eq!(chunks(&work, limit), vec![vec![0, 1], vec![2], vec![3], vec![4]]);
        assert_eq!(count(work.iter().map(|w| Item::from(&w.key)), limit), 4);
    }

    #[test]
    fn count_is_the_number_of_chunks() {
        let work = vec![
            w("a", "1"),
            w("a", "2"),
            w("a", "3"),
            w("b", "1"),
            Work::user("b", "u1", "", ""),
            Work::user("b", "u2", "", ""),
            Work::member(Action::Add, "b", "1", "u1"),
            Work::member(Action::Add, "b", "1", "u2"),
            Work::member(Action::Add, "b", "2", "u1"),
        ];
        for limit in 1..5 {
            let items = work.iter().map(|w| Item::from(&w.key));
            assert_eq!(count(items, |_| limit), chunks(&work, |_| limit).len(), "limit {limit}");
        }
        assert_eq!(count([], |_| 5), 0);
    }
}
