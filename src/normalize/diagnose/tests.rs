use proptest::prelude::*;

use super::*;
use crate::normalize::tests::{groups, plan};
use crate::normalize::{Plan, Severity};

/// `count` rows of `name` with `code` in organization `a`.
fn block<'a>(name: &'a str, code: &'a str, count: usize) -> Vec<(&'a str, &'a str, Option<&'a str>)> {
    vec![("a", name, Some(code)); count]
}

/// `(group ID, name, rows)` of every group.
fn sizes(p: &Plan) -> Vec<(String, String, usize)> {
    groups(p)
        .into_iter()
        .map(|(_, id, name, rows)| (id, name, rows.len()))
        .collect()
}

/// `(row, message)` of every error.
fn errors(p: &Plan) -> Vec<(u64, String)> {
    p.problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| (p.location.row.unwrap(), p.message.clone()))
        .collect()
}

#[test]
fn the_rule_is_three_rows_and_three_times_every_other() {
    for (counts, want) in [
        (&[9, 1][..], Some(0)),
        (&[1, 9], Some(1)),
        (&[9, 3], Some(0)),
        (&[8, 3], None),
        (&[3], Some(0)),
        (&[3, 1], Some(0)),
        (&[2], None),
        (&[2, 0], None),
        (&[5, 5], None),
        (&[31, 1, 1, 10], Some(0)),
        (&[30, 1, 1, 11], None),
        (&[], None),
    ] {
        assert_eq!(clear_majority(counts), want, "{counts:?}");
    }
}

#[test]
fn a_row_against_both_its_code_and_its_name_is_named_and_the_rest_goes() {
    let mut rows = block("Admin Offices", "1", 9);
    rows.extend(block("Software Engineering", "4", 10));
    rows.insert(5, ("a", "Software Engineering", Some("1")));
    let p = plan(&rows);
    assert_eq!(
        sizes(&p),
        vec![
            ("1".into(), "Admin Offices".into(), 9),
            ("4".into(), "Software Engineering".into(), 10)
        ]
    );
    assert_eq!(
        errors(&p),
        vec![(
            7,
            "'Software Engineering' with code 1, but code 1 is 'Admin Offices' on 9 other rows and \
             'Software Engineering' is code 4 on 10 rows; this row is probably mis-coded"
                .into()
        )]
    );
    assert!(p.conflicts.is_empty());
    assert_eq!(p.invalid.len(), 1);
    assert_eq!(
        (p.invalid[0].source.row, p.invalid[0].name.as_str()),
        (7, "Software Engineering")
    );
    assert_eq!(p.problems[0].location.column.as_deref(), Some("Code"));
}

#[test]
fn every_row_of_a_minority_is_held_back() {
    let mut rows = block("Sales", "6", 31);
    rows.push(("a", "Production", Some("6")));
    rows.push(("a", "Production", Some("6")));
    let p = plan(&rows);
    assert_eq!(sizes(&p), vec![("6".into(), "Sales".into(), 31)]);
    let want = "'Production' with code 6, but code 6 is 'Sales' on 31 other rows; this row is probably mis-coded";
    assert_eq!(errors(&p), vec![(33, want.into()), (34, want.into())]);
}

#[test]
fn a_name_clearly_under_another_code_is_held_back_from_a_code_of_its_own() {
    let mut rows = block("Production", "5", 5);
    rows.push(("a", "Production", Some("7")));
    let p = plan(&rows);
    assert_eq!(sizes(&p), vec![("5".into(), "Production".into(), 5)]);
    assert_eq!(
        errors(&p),
        vec![(
            7,
            "'Production' with code 7, but 'Production' is code 5 on 5 rows; this row is probably mis-coded".into()
        )]
    );
}

#[test]
fn a_code_whose_own_rows_agree_is_a_department_sharing_a_name() {
    // Sales in two business units: code 7's three rows all say Sales, so it is not a typo.
    let mut rows = block("Sales", "6", 31);
    rows.extend(block("Sales", "7", 3));
    let p = plan(&rows);
    assert_eq!(
        sizes(&p),
        vec![("6".into(), "Sales".into(), 31), ("7".into(), "Sales".into(), 3)]
    );
    assert!(errors(&p).is_empty(), "{:?}", p.problems);
    assert_eq!(p.problems.len(), 1);
    assert!(p.problems[0].message.contains("is the name of 2 groups (6, 7)"));
}

#[test]
fn without_a_clear_majority_it_stays_a_conflict() {
    for (major, minor) in [(2, 1), (8, 3), (4, 4)] {
        let mut rows = block("Sales", "1", major);
        rows.extend(block("Marketing", "1", minor));
        let p = plan(&rows);
        assert!(groups(&p).is_empty(), "{major}:{minor}");
        assert_eq!(p.conflicts.len(), 1, "{major}:{minor}");
        assert!(p.invalid.is_empty());
        let names: Vec<(&str, usize)> = p.conflicts[0]
            .names
            .iter()
            .map(|(n, s)| (n.as_str(), s.len()))
            .collect();
        assert_eq!(names, vec![("Sales", major), ("Marketing", minor)]);
    }
}

#[test]
fn a_name_explained_away_leaves_its_code_to_the_other_name() {
    // Code 9 alone has no majority (1 and 1), but Legal is clearly code 3 elsewhere.
    let mut rows = block("Legal", "3", 4);
    rows.push(("a", "Legal", Some("9")));
    rows.push(("a", "Tax", Some("9")));
    let p = plan(&rows);
    assert_eq!(
        sizes(&p),
        vec![("3".into(), "Legal".into(), 4), ("9".into(), "Tax".into(), 1)]
    );
    assert_eq!(errors(&p).len(), 1);
    assert_eq!(errors(&p)[0].0, 6);
    assert!(p.conflicts.is_empty());
}

#[test]
fn spellings_of_one_name_are_one_reading() {
    // "R&D" and "R and D" are one name: no majority against a spelling, one group under the code.
    let mut rows = block("R&D", "7", 3);
    rows.push(("a", "R and D", Some("7")));
    let p = plan(&rows);
    assert_eq!(sizes(&p), vec![("7".into(), "R&D".into(), 4)]);
    assert!(errors(&p).is_empty());
}

#[test]
fn majorities_are_per_organization() {
    let mut rows = block("Admin", "1", 9);
    rows.push(("b", "Engineering", Some("1")));
    let p = plan(&rows);
    assert_eq!(p.group_count(), 2);
    assert!(errors(&p).is_empty());
}

#[test]
fn codes_are_shown_as_written() {
    let mut rows = block("Admin", "D-01", 3);
    rows.push(("a", "Engineering", Some("d_01")));
    let p = plan(&rows);
    assert_eq!(
        errors(&p)[0].1,
        "'Engineering' with code D-01, but code D-01 is 'Admin' on 3 other rows; this row is probably mis-coded"
    );
}

fn coded_rows() -> impl Strategy<Value = Vec<(u8, u8, u8)>> {
    // Few names and codes, skewed, so that majorities, ties and conflicts all happen.
    prop::collection::vec((0u8..2, 0u8..4, 0u8..4), 0..60)
}

proptest! {
    #[test]
    fn every_row_is_sent_held_or_in_a_conflict_exactly_once(rows in coded_rows()) {
        let (orgs, names, codes) = (["a", "b"], ["Sales", "SALES", "R&D", "Ops"], ["1", "2", "3", "01"]);
        let input: Vec<(&str, &str, Option<&str>)> = rows
            .iter()
            .map(|&(o, n, c)| (orgs[o as usize], names[n as usize], Some(codes[c.min(n) as usize])))
            .collect();
        let p = plan(&input);
        let mut seen: Vec<u32> = p.organizations.iter().flat_map(|o| o.groups.iter().flat_map(|g| g.sources.iter().map(|s| s.row))).collect();
        seen.extend(p.conflicts.iter().flat_map(|c| c.names.iter().flat_map(|(_, s)| s.iter().map(|s| s.row))));
        seen.extend(p.invalid.iter().map(|r| r.source.row));
        seen.sort_unstable();
        let all: Vec<u32> = (0..input.len() as u32).map(|i| i + 2).collect();
        prop_assert_eq!(seen, all);
        // A held-back row always says why in the words of the rule.
        for r in &p.invalid {
            prop_assert!(r.message.ends_with("this row is probably mis-coded"), "{}", r.message);
        }
    }

    #[test]
    fn the_diagnosis_does_not_depend_on_row_order(rows in coded_rows(), seed in any::<u64>()) {
        let (names, codes) = (["Sales", "SALES", "R&D", "Ops"], ["1", "2", "3", "01"]);
        let forward: Vec<(&str, &str, Option<&str>)> = rows
            .iter()
            .map(|&(_, n, c)| ("a", names[n as usize], Some(codes[c.min(n) as usize])))
            .collect();
        let mut shuffled = forward.clone();
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (x >> 33) as usize % (i + 1));
        }
        let (a, b) = (plan(&forward), plan(&shuffled));
        let sized = |p: &Plan| sizes(p).into_iter().map(|(id, _, n)| (id, n)).collect::<Vec<_>>();
        prop_assert_eq!(sized(&a), sized(&b));
        // Which spelling names a reading may change with the order (ties), what is held may not.
        prop_assert_eq!(a.invalid.len(), b.invalid.len());
        prop_assert_eq!(a.conflicts.len(), b.conflicts.len());
    }
}
