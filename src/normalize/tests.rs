use proptest::prelude::*;

use super::*;

/// Normalizes `(org, name, code)` rows from one department-list table.
pub(super) fn plan(rows: &[(&str, &str, Option<&str>)]) -> Plan {
    plan_kind(rows, ListKind::Departments)
}

fn plan_kind(rows: &[(&str, &str, Option<&str>)], kind: ListKind) -> Plan {
    plan_with(rows, kind, Options::default())
}

/// Normalizes `(org, name, code)` rows from one table, judged by `options`.
pub(super) fn plan_with(rows: &[(&str, &str, Option<&str>)], kind: ListKind, options: Options) -> Plan {
    let mut n = Normalizer::with_options(options);
    let has_code = rows.iter().any(|r| r.2.is_some());
    let t = n.add_table(TableRef {
        file: "hr.csv".into(),
        sheet: None,
        name_column: "Department".into(),
        id_column: has_code.then(|| "Code".into()),
        org_column: Some("Org".into()),
        user_column: Some("User".into()),
    });
    for (i, (org, name, code)) in rows.iter().enumerate() {
        n.add(RowIn {
            organization: org,
            name,
            code: *code,
            source: Source {
                table: t,
                row: i as u32 + 2,
            },
            kind,
            user: None,
            person_name: None,
            email: None,
            parent: None,
            path: None,
        });
    }
    n.finish()
}

pub(super) fn groups(p: &Plan) -> Vec<(String, String, String, Vec<u32>)> {
    p.organizations
        .iter()
        .flat_map(|o| {
            o.groups.iter().map(|g| {
                (
                    o.id.clone(),
                    g.id.clone(),
                    g.name.clone(),
                    g.sources.iter().map(|s| s.row).collect(),
                )
            })
        })
        .collect()
}

#[test]
fn repeated_departments_are_one_group_with_every_row() {
    let p = plan(&[
        ("acme", "Sales", None),
        ("acme", "Engineering", None),
        ("acme", "Sales", None),
    ]);
    assert_eq!(
        groups(&p),
        vec![
            ("acme".into(), "engineering".into(), "Engineering".into(), vec![3]),
            ("acme".into(), "sales".into(), "Sales".into(), vec![2, 4]),
        ]
    );
    assert!(p.problems.is_empty(), "{:?}", p.problems);
}

#[test]
fn case_and_space_variants_merge_under_the_most_used_spelling() {
    let p = plan(&[
        ("a", "sales ", None),
        ("a", "Sales", None),
        ("a", "SALES", None),
        ("a", "Sales", None),
    ]);
    assert_eq!(
        groups(&p),
        vec![("a".into(), "sales".into(), "Sales".into(), vec![2, 3, 4, 5])]
    );
    assert_eq!(p.problems.len(), 1);
    assert_eq!(p.problems[0].severity, Severity::Warning);
    assert_eq!(
        p.problems[0].message,
        "'Sales' (2x: hr.csv rows 3, 5) is also written 'sales' (1x: hr.csv row 2) and 'SALES' (1x: hr.csv row 4); \
         these are one group named 'Sales' (the most used spelling)"
    );
    // A tie goes to mixed case, whichever came first.
    let tie = plan(&[("a", "sales", None), ("a", "Sales", None)]);
    assert_eq!(groups(&tie)[0].2, "Sales");
}

/// Normalizes like [`plan`] with `--strict-names`.
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

#[test]
fn with_strict_names_different_names_with_one_id_are_a_conflict_and_nothing_of_it_is_sent() {
    let p = strict(&[
        ("acme", "R&D", None),
        ("acme", "Sales", None),
        ("acme", "R-D", None),
        ("acme", "R&D", None),
    ]);
    assert_eq!(
        groups(&p),
        vec![("acme".into(), "sales".into(), "Sales".into(), vec![3])]
    );
    assert_eq!(p.conflicts.len(), 1);
    let c = &p.conflicts[0];
    assert_eq!((c.organization_id.as_str(), c.group_id.as_str()), ("acme", "r-d"));
    let rows: Vec<(&str, Vec<u32>)> = c
        .names
        .iter()
        .map(|(n, s)| (n.as_str(), s.iter().map(|s| s.row).collect()))
        .collect();
    assert_eq!(rows, vec![("R&D", vec![2, 5]), ("R-D", vec![4])]);
    let err = p.problems.iter().find(|p| p.severity == Severity::Error).unwrap();
    assert_eq!(
        err.message,
        "conflict in organization 'acme': 'R&D' (hr.csv rows 2, 5) and 'R-D' (hr.csv row 4) all make group ID 'r-d' \
         but are different names ('R&D' has '&' where 'R-D' has '-'); none of them is sent; if they are one department, \
         write its name one way in the source; if not, rename one of them or map a department code column with --id-column"
    );
    assert!(p.has_errors());
}

#[test]
fn a_code_with_two_names_and_no_majority_is_a_conflict() {
    let p = plan(&[("a", "Sales", Some("D-1")), ("a", "Marketing", Some("d_1"))]);
    assert!(groups(&p).is_empty());
    assert_eq!(p.conflicts[0].group_id, "d-1");
}

#[test]
fn codes_are_the_ids_so_renames_keep_the_group() {
    let p = plan(&[
        ("a", "Sales", Some("D-0042")),
        ("a", "Sales", Some("D-0042")),
        ("a", "Support", Some("0042")),
    ]);
    assert_eq!(
        groups(&p),
        vec![
            ("a".into(), "0042".into(), "Support".into(), vec![4]),
            ("a".into(), "d-0042".into(), "Sales".into(), vec![2, 3]),
        ]
    );
}

#[test]
fn one_name_with_two_codes_is_two_groups_and_a_warning() {
    let p = plan(&[("a", "Sales", Some("S1")), ("a", "Sales", Some("S2"))]);
    assert_eq!(groups(&p).len(), 2);
    assert_eq!(p.problems.len(), 1);
    assert!(
        p.problems[0].message.contains("is the name of 2 groups (s1, s2)"),
        "{}",
        p.problems[0].message
    );
}

#[test]
fn the_same_name_in_two_organizations_is_two_groups() {
    let p = plan(&[("acme", "Sales", None), ("globex", "Sales", None)]);
    assert_eq!(
        groups(&p),
        vec![
            ("acme".into(), "sales".into(), "Sales".into(), vec![2]),
            ("globex".into(), "sales".into(), "Sales".into(), vec![3]),
        ]
    );
}

#[test]
fn empty_department_is_an_error_in_a_list_and_a_warning_for_an_employee() {
    let list = plan(&[("a", "  ", None)]);
    assert_eq!(list.problems[0].severity, Severity::Error);
    assert_eq!(list.invalid.len(), 1);
    let staff = plan_kind(&[("a", "", None), ("a", "Sales", None)], ListKind::Employees);
    assert_eq!(staff.problems[0].severity, Severity::Warning);
    assert!(staff.invalid.is_empty());
    assert!(!staff.has_errors());
    assert_eq!(staff.group_count(), 1);
}

#[test]
fn bad_names_are_row_problems_not_truncations() {
    let long = "x".repeat(slug::MAX_NAME_CHARS + 1);
    let p = plan(&[
        ("a", &long, None),
        ("a", "★☆!", None),
        ("a", "Sales", Some("")),
        ("a", "", Some("D-9")),
        ("a", "Ops", Some("**")),
    ]);
    let messages: Vec<&str> = p.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "the department name is 201 characters long; at most 200 are allowed",
            "'★☆!' has no letters or digits to make a group ID from; rename it or map a code column with --id-column",
            "'Sales' has no department code on this row",
            "the code 'D-9' has no department name on this row",
            "the code '**' has no letters or digits to make a group ID from",
        ]
    );
    assert_eq!(p.invalid.len(), 5);
    assert_eq!(p.problems[2].location.column.as_deref(), Some("Code"));
    assert_eq!(p.group_count(), 0);
}

#[test]
fn formula_like_names_are_kept_and_flagged() {
    let p = plan(&[("a", "=cmd|' /C calc'!A0", None), ("a", "-Ops", None)]);
    assert_eq!(p.group_count(), 2);
    assert_eq!(
        p.problems
            .iter()
            .filter(|p| p.message.contains("starts like a spreadsheet formula"))
            .count(),
        2
    );
}

#[test]
fn sources_are_described_for_people() {
    let p = plan(&[
        ("a", "X", None),
        ("a", "X", None),
        ("a", "X", None),
        ("a", "Y", None),
        ("a", "X", None),
    ]);
    let g = &p.organizations[0].groups[0];
    assert_eq!(p.describe_sources(&g.sources), "hr.csv rows 2-4, 6");
}

fn names() -> impl Strategy<Value = Vec<(u8, String)>> {
    let name = prop_oneof![
        "\\PC{0,30}",
        "[A-Za-z &-]{1,12}",
        prop::sample::select(vec!["Sales", "sales", "SALES ", "R&D", "R-D", "Ærø", "Aero", "東京"])
            .prop_map(String::from),
    ];
    prop::collection::vec((0u8..3, name), 0..40)
}

proptest! {
    #[test]
    fn ids_are_well_formed_and_unique_per_org(rows in names()) {
        let orgs = ["acme", "globex", "initech"];
        let rows: Vec<(&str, &str, Option<&str>)> = rows.iter().map(|(o, n)| (orgs[*o as usize], n.as_str(), None)).collect();
        let p = plan(&rows);
        for org in &p.organizations {
            let mut seen = std::collections::HashSet::new();
            for g in &org.groups {
                prop_assert!(slug::is_valid_id(&g.id), "{:?}", g.id);
                prop_assert!(seen.insert(g.id.clone()), "duplicate id {}", g.id);
            }
        }
        // Different normalized names get different IDs unless reported as a conflict.
        for org in &p.organizations {
            let folded: std::collections::HashSet<String> = org.groups.iter().map(|g| g.name.to_lowercase()).collect();
            prop_assert_eq!(folded.len(), org.groups.len());
        }
        for c in &p.conflicts {
            prop_assert!(c.names.len() > 1);
            prop_assert!(p.organizations.iter().all(|o| o.id != c.organization_id || o.groups.iter().all(|g| g.id != c.group_id)));
        }
    }

    #[test]
    fn output_does_not_depend_on_row_order(rows in names(), seed in any::<u64>()) {
        let orgs = ["acme", "globex", "initech"];
        let forward: Vec<(&str, &str, Option<&str>)> = rows.iter().map(|(o, n)| (orgs[*o as usize], n.as_str(), None)).collect();
        let mut shuffled = forward.clone();
        // A deterministic shuffle from the seed (Fisher-Yates with an LCG).
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (x >> 33) as usize % (i + 1));
        }
        let (a, b) = (plan(&forward), plan(&shuffled));
        let ids = |p: &Plan| -> Vec<(String, String, String, usize)> {
            p.organizations.iter().flat_map(|o| o.groups.iter().map(|g| (o.id.clone(), g.id.clone(), g.name.clone(), g.sources.len()))).collect()
        };
        prop_assert_eq!(ids(&a), ids(&b));
        let conflicts = |p: &Plan| -> Vec<(String, String)> {
            p.conflicts.iter().map(|c| (c.organization_id.clone(), c.group_id.clone())).collect()
        };
        prop_assert_eq!(conflicts(&a), conflicts(&b));
        prop_assert_eq!(a.invalid.len(), b.invalid.len());
        // The same input twice gives the same output, names included.
        let again = plan(&forward);
        prop_assert_eq!(groups(&a), groups(&again));
    }

    /// Issue 20: any permutation of an export's rows gives the same (groupId, groupName)
    /// pairs, with codes or without, among spellings built to tie.
    #[test]
    fn any_permutation_gives_the_same_pairs(
        (rows, shuffled) in prop::collection::vec(
            (
                0u8..2,
                prop::sample::select(vec![
                    "Café", "Cafe", "CAFE", "cafe", "Sales & Marketing", "Sales and Marketing", "sales-marketing",
                    "R&D", "R & D", "r and d", "C++", "C#", "C", "Ops", "OPS", "Straße", "STRASSE",
                ]),
                prop::option::of(prop::sample::select(vec!["1", "2", "3"])),
            ),
            0..30,
        )
        .prop_flat_map(|rows| (Just(rows.clone()), Just(rows).prop_shuffle()))
    ) {
        let orgs = ["acme", "globex"];
        let with_codes = rows.iter().any(|r| r.2.is_some());
        let table = |rows: &[(u8, &'static str, Option<&'static str>)]| -> Vec<(&str, &str, Option<&str>)> {
            rows.iter()
                .map(|&(o, n, c)| (orgs[o as usize], n, if with_codes { Some(c.unwrap_or("1")) } else { None }))
                .collect()
        };
        let (a, b) = (plan(&table(&rows)), plan(&table(&shuffled)));
        let pairs = |p: &Plan| -> Vec<(String, String, String)> {
            p.organizations.iter().flat_map(|o| o.groups.iter().map(|g| (o.id.clone(), g.id.clone(), g.name.clone()))).collect()
        };
        prop_assert_eq!(pairs(&a), pairs(&b));
        let conflicts = |p: &Plan| -> Vec<(String, String, Vec<String>)> {
            let mut out: Vec<_> = p.conflicts.iter().map(|c| {
                let mut names: Vec<String> = c.names.iter().map(|(n, _)| n.clone()).collect();
                names.sort();
                (c.organization_id.clone(), c.group_id.clone(), names)
            }).collect();
            out.sort();
            out
        };
        prop_assert_eq!(conflicts(&a), conflicts(&b));
    }
}

#[test]
fn a_value_of_invisible_characters_only_is_no_value() {
    let p = plan(&[("a", "\u{200B}\u{200D}", None), ("a", "Sales", Some("\u{2060}"))]);
    assert!(groups(&p).is_empty());
    let messages: Vec<&str> = p.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "no department name on this row",
            "'Sales' has no department code on this row"
        ]
    );
    assert_eq!(p.invalid.len(), 2);
    // An organization of invisible characters only: held back, said so.
    let p = plan(&[("\u{200E}", "Sales", None), ("acme\u{200F}", "Sales", None)]);
    assert_eq!(
        groups(&p),
        vec![("acme".into(), "sales".into(), "Sales".into(), vec![3])]
    );
    assert!(p.problems[0]
        .message
        .starts_with("the organization ID holds only invisible characters"));
}
