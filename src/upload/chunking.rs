//! Requests from work items: which items share a request.

use crate::plan::{Endpoint, Work};

/// Splits `work` (sorted) into requests of at most `limit(endpoint)` items: groups or users of
/// one organization, or memberships of one group.
pub fn chunks(work: &[Work], limit: impl Fn(Endpoint) -> usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, w) in work.iter().enumerate() {
        let w = &w.key;
        let fits = |first: &Work, len: usize| {
            let first = &first.key;
            let same = len < limit(w.endpoint) && first.endpoint == w.endpoint && first.org == w.org;
            match w.endpoint {
                Endpoint::AddGroups | Endpoint::AddUsers => same,
                Endpoint::AddMembers | Endpoint::RemoveMembers => same && first.group == w.group,
            }
        };
        match out.last_mut() {
            Some(last) if fits(&work[last[0]], last.len()) => last.push(i),
            _ => out.push(vec![i]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::plan::{Action, Work};

    fn w(org: &str, id: &str) -> Work {
        Work::group(org, id, &id.to_uppercase())
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
    }
}
