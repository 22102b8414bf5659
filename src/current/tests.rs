use super::*;
use crate::normalize::{Group, LeftOut, ListKind, Organization, Plan, Source};

fn left(group: &str, user: &str, why: Why) -> LeftOut {
    LeftOut {
        organization_id: "acme".into(),
        group_id: group.to_lowercase(),
        group_name: group.into(),
        user_id: user.into(),
        why,
        source: Source { table: 0, row: 2 },
        kind: ListKind::Employees,
        held_back_too: false,
        current_too: false,
    }
}

fn status(value: &str) -> Why {
    Why::Status {
        column: "EmploymentStatus".into(),
        value: value.into(),
    }
}

#[test]
fn the_line_counts_by_reason_and_value_and_names_departments_with_nobody_current() {
    let mut plan = Plan {
        organizations: vec![Organization {
            id: "acme".into(),
            groups: vec![Group {
                id: "sales".into(),
                name: "Sales".into(),
                sources: Vec::new(),
                members: Vec::new(),
                tied: Vec::new(),
                kind: Default::default(),
                path: None,
            }],
        }],
        ..Plan::default()
    };
    assert_eq!(describe(&plan), None);
    plan.left_out = vec![
        left("Sales", "a", status("Voluntarily Terminated")),
        left("Sales", "b", status("Terminated for Cause")),
        left("Sales", "c", status("Voluntarily Terminated")),
        left(
            "Closed",
            "d",
            Why::Ended {
                column: "DateofTermination".into(),
                date: "2024-01-31".into(),
            },
        ),
        left(
            "Sales",
            "e",
            Why::NotStarted {
                column: "DateofHire".into(),
                date: "2030-01-01".into(),
            },
        ),
        left(
            "Sales",
            "f",
            Why::Filtered {
                filter: "Type!=Contractor".into(),
            },
        ),
    ];
    assert_eq!(
        describe(&plan).unwrap(),
        "6 people left out: EmploymentStatus 'Voluntarily Terminated' 2, 'Terminated for Cause' 1; \
         DateofTermination passed 1; 1 not yet started; 1 filtered; \
         no group for 1 department with nobody current: 'Closed'"
    );
    assert_eq!(nobody_current(&plan), ["Closed"]);
    let counts: Vec<(String, usize)> = counts(&plan).into_iter().collect();
    assert_eq!(
        counts,
        [
            ("DateofTermination passed".to_owned(), 1),
            ("EmploymentStatus 'Terminated for Cause'".to_owned(), 1),
            ("EmploymentStatus 'Voluntarily Terminated'".to_owned(), 2),
            ("filtered".to_owned(), 1),
            ("not yet started".to_owned(), 1),
        ]
    );
    let groups = groups_to_read(&plan, &plan.organizations[0]);
    assert_eq!(groups, ["sales", "closed"]);
}
