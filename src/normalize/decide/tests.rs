use proptest::prelude::*;

use crate::normalize::tests::{groups, plan, plan_with};
use crate::normalize::{ListKind, Member, Normalizer, Options, Plan, RowIn, Severity, Source, TableRef};

fn strict(rows: &[(&str, &str, Option<&str>)]) -> Plan {
    plan_with(
        rows,
        ListKind::Departments,
        Options {
            strict_names: true,
            ..Options::default()
        },
    )
}

fn warnings(p: &Plan) -> Vec<&str> {
    p.problems
        .iter()
        .filter(|p| p.severity == Severity::Warning)
        .map(|p| p.message.as_str())
        .collect()
}

const RD: [(&str, &str, Option<&str>); 5] = [
    ("a", "R&D", None),
    ("a", "R & D", None),
    ("a", "r and d", None),
    ("a", "R AND D", None),
    ("a", "R&D", None),
];

#[test]
fn spellings_of_one_name_are_one_group_named_by_the_most_used() {
    let p = plan(&RD);
    assert_eq!(
        groups(&p),
        vec![("a".into(), "r-d".into(), "R&D".into(), vec![2, 3, 4, 5, 6])]
    );
    assert!(!p.has_errors());
    assert!(p.conflicts.is_empty());
    assert_eq!(
        warnings(&p),
        vec![
            "'R&D' (2x: hr.csv rows 2, 6) is also written 'R & D' (1x: hr.csv row 3), 'r and d' (1x: hr.csv row 4) \
             and 'R AND D' (1x: hr.csv row 5); these are one group named 'R&D' (the most used spelling)"
        ]
    );
    assert_eq!(p.problems[0].location.row, Some(2));
}

#[test]
fn a_tie_says_tie_and_never_most_used() {
    let p = plan(&[("a", "R & D", None), ("a", "R&D", None)]);
    assert_eq!(groups(&p)[0].2, "R & D", "code point order: ' ' before '&'");
    assert_eq!(
        warnings(&p),
        vec![
            "'R & D' (1x: hr.csv row 2) is also written 'R&D' (1x: hr.csv row 3); \
             these are one group named 'R & D' (a tie in rows, settled by a fixed rule: accents, then mixed case, then alphabetical order)"
        ]
    );
    // Two spellings tied at the top and a third behind: still a tie.
    let p = plan(&[
        ("a", "Ops", None),
        ("a", "OPS", None),
        ("a", "ops", None),
        ("a", "OPS", None),
        ("a", "Ops", None),
    ]);
    assert_eq!(groups(&p)[0].2, "Ops");
    assert!(warnings(&p)[0].contains("(a tie in rows,"), "{}", warnings(&p)[0]);
}

#[test]
fn accents_and_punctuation_are_spellings_too() {
    let p = plan(&[
        ("a", "Recherche & Développement", None),
        ("a", "RECHERCHE AND DEVELOPPEMENT", None),
        ("a", "Recherche & Développement", None),
    ]);
    assert_eq!(
        groups(&p),
        vec![(
            "a".into(),
            "recherche-developpement".into(),
            "Recherche & Développement".into(),
            vec![2, 3, 4]
        )]
    );
}

#[test]
fn strict_names_hold_spellings_back_but_still_merge_case() {
    let p = strict(&RD);
    assert!(groups(&p).is_empty());
    let names: Vec<&str> = p.conflicts[0].names.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["R&D", "R & D", "R AND D"]);
    assert!(p.has_errors());
    let p = strict(&[("a", "Sales", None), ("a", "SALES ", None), ("a", "Sales", None)]);
    assert_eq!(groups(&p)[0].2, "Sales");
    assert!(!p.has_errors());
    assert_eq!(warnings(&p).len(), 1);
}

#[test]
fn with_a_code_the_code_stays_the_key() {
    let rows = [
        ("a", "R&D", Some("7")),
        ("a", "R & D", Some("7")),
        ("a", "R&D", Some("8")),
    ];
    let p = plan(&rows);
    let ids: Vec<(String, String)> = groups(&p).into_iter().map(|(_, id, n, _)| (id, n)).collect();
    // Under code 7 the two spellings tie: the fixed rule names it (' ' sorts before '&').
    assert_eq!(ids, vec![("7".into(), "R & D".into()), ("8".into(), "R&D".into())]);
    let p = strict(&rows);
    assert_eq!(p.conflicts.len(), 1);
    assert_eq!(p.conflicts[0].group_id, "7");
}

#[test]
fn long_row_lists_are_cut_with_a_count() {
    let mut rows = vec![("a", "Sales", None); 20];
    rows.push(("a", "sales", None));
    let p = plan(&rows);
    assert_eq!(
        warnings(&p),
        vec![
            "'Sales' (20x: hr.csv rows 2-13 and 8 more) is also written 'sales' (1x: hr.csv row 22); \
             these are one group named 'Sales' (the most used spelling)"
        ]
    );
}

/// `(name, user, person, email)` rows of one employee table in organization `a`.
fn staff(rows: &[(&str, &str, Option<&str>, Option<&str>)]) -> Plan {
    let mut n = Normalizer::new();
    let t = n.add_table(TableRef {
        file: "staff.csv".into(),
        sheet: None,
        name_column: "Department".into(),
        id_column: None,
        org_column: None,
        user_column: Some("User".into()),
    });
    for (i, (name, user, person, email)) in rows.iter().enumerate() {
        n.add(RowIn {
            organization: "a",
            name,
            code: None,
            source: Source {
                table: t,
                row: i as u32 + 2,
            },
            kind: ListKind::Employees,
            user: Some(user),
            person_name: *person,
            email: *email,
            parent: None,
            path: None,
        });
    }
    n.finish()
}

#[test]
fn members_carry_their_name_and_email_from_the_first_row_naming_them() {
    let p = staff(&[
        ("R&D", "7", Some("Grace Hopper"), Some("grace@example.com")),
        ("R & D", "3", Some("Ada Lovelace"), None),
        ("R&D", "7", Some("G. Hopper"), None),
        ("R&D", "", Some("Nobody"), None),
    ]);
    let g = &p.organizations[0].groups[0];
    assert_eq!(
        g.members,
        vec![
            Member::new(
                "3".into(),
                Some("Ada Lovelace".into()),
                None,
                Source { table: 0, row: 3 }
            ),
            Member::new(
                "7".into(),
                Some("Grace Hopper".into()),
                Some("grace@example.com".into()),
                Source { table: 0, row: 2 }
            ),
        ]
    );
}

fn names() -> impl Strategy<Value = Vec<(u8, String)>> {
    let name = prop_oneof![
        "[A-Za-z &.-]{1,8}",
        prop::sample::select(vec!["Sales", "sales", "SALES ", "R&D", "R-D", "R & D", "Ærø", "Aero"])
            .prop_map(String::from),
    ];
    prop::collection::vec((0u8..2, name), 0..40)
}

proptest! {
    #[test]
    fn strict_names_keep_the_old_invariants(rows in names()) {
        let orgs = ["acme", "globex"];
        let rows: Vec<(&str, &str, Option<&str>)> = rows.iter().map(|(o, n)| (orgs[*o as usize], n.as_str(), None)).collect();
        let p = strict(&rows);
        for org in &p.organizations {
            let folded: std::collections::HashSet<String> = org.groups.iter().map(|g| g.name.to_lowercase()).collect();
            prop_assert_eq!(folded.len(), org.groups.len());
        }
        for c in &p.conflicts {
            prop_assert!(c.names.len() > 1);
        }
        // By default, conflicts only between names that are not one name.
        let loose = plan(&rows);
        for c in &loose.conflicts {
            let keys: std::collections::HashSet<String> =
                c.names.iter().map(|(n, _)| crate::normalize::same::same_name_key(n)).collect();
            prop_assert_eq!(keys.len(), c.names.len());
        }
        let sent = |p: &Plan| p.organizations.iter().flat_map(|o| o.groups.iter().map(|g| g.sources.len())).sum::<usize>();
        let held = |p: &Plan| p.conflicts.iter().flat_map(|c| c.names.iter().map(|(_, s)| s.len())).sum::<usize>();
        prop_assert_eq!(sent(&loose) + held(&loose), sent(&p) + held(&p));
        prop_assert!(held(&loose) <= held(&p));
    }
}

fn members_of(p: &Plan) -> Vec<(String, Vec<String>)> {
    p.organizations[0]
        .groups
        .iter()
        .map(|g| (g.id.clone(), g.members.iter().map(|m| m.user.to_string()).collect()))
        .collect()
}

#[test]
fn a_user_id_with_a_zero_width_space_is_the_same_user_with_a_warning() {
    let p = staff(&[
        ("Sales", "E001", None, None),
        ("Ops", "E001\u{200B}", None, None),
        ("Ops", "\u{2060}E002\u{200E}", None, Some("e002@example.com\u{200B}")),
    ]);
    assert_eq!(
        members_of(&p),
        vec![
            ("ops".into(), vec!["E001".into(), "E002".into()]),
            ("sales".into(), vec!["E001".into()]),
        ]
    );
    let ops = &p.organizations[0].groups[0];
    assert_eq!(ops.members[1].email.as_deref(), Some("e002@example.com"));
    let w = warnings(&p);
    assert!(
        w.iter()
            .any(|m| m.starts_with("the user ID 'E001' holds invisible characters (U+200B)")),
        "{w:?}"
    );
    assert!(!p.has_errors());
    // Nothing but invisible characters: no user at all, said so.
    let p = staff(&[("Sales", "\u{200B}", None, None)]);
    assert_eq!(members_of(&p), vec![("sales".into(), vec![])]);
    assert!(warnings(&p)[0].starts_with("the user ID holds only invisible characters"));
}

#[test]
fn user_ids_that_differ_only_in_case_are_a_conflict_held_back() {
    let p = staff(&[
        ("Sales", "E001", Some("Ada"), None),
        ("Sales", "E002", None, None),
        ("Ops", "e001", Some("Ada"), None),
    ]);
    assert_eq!(
        members_of(&p),
        vec![("ops".into(), vec![]), ("sales".into(), vec!["E002".into()])]
    );
    assert!(p.has_errors());
    let err = p.problems.iter().find(|p| p.severity == Severity::Error).unwrap();
    assert_eq!(
        err.message,
        "conflict in organization 'a': the user IDs 'E001' (first on staff.csv row 2) and 'e001' (first on staff.csv row 4) \
         differ only in case, so Velt would make them two users; none of them is added to a group; write the ID one way in the source"
    );
    assert_eq!(err.location.column.as_deref(), Some("User"));
    let mut held: Vec<u32> = p.invalid.iter().map(|r| r.source.row).collect();
    held.sort_unstable();
    assert_eq!(held, vec![2, 4]);
}

#[test]
fn one_user_id_with_two_names_is_a_warning() {
    let p = staff(&[
        ("Sales", "E001", Some("Ada Lovelace"), None),
        ("Ops", "E001", Some("Ada King"), None),
        ("Ops", "E002", Some("Grace"), None),
        ("Sales", "E002", Some("Grace"), None),
    ]);
    assert!(!p.has_errors());
    assert_eq!(
        warnings(&p),
        vec![
            "user 'E001' is 'Ada King' here but 'Ada Lovelace' on staff.csv row 2; one ID is one person, so the name from \
             the first row is sent; check the ID",
            "user 'E001' is in 2 departments (ops, sales); they are added to each",
            "user 'E002' is in 2 departments (ops, sales); they are added to each",
        ]
    );
}
