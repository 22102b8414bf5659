use super::*;

fn row(n: u64, cells: &[&str]) -> (u64, Vec<String>) {
    (n, cells.iter().map(|s| s.to_string()).collect())
}

fn org(o: &str) -> MapOptions {
    MapOptions {
        org: Some(o.into()),
        ..MapOptions::default()
    }
}

#[test]
fn finds_header_below_a_title_block() {
    let head = [
        row(1, &["Acme Corp employee directory"]),
        row(2, &["Exported 2026-01-05"]),
        row(
            4,
            &[
                "Employee ID",
                "Work Email",
                "Home Department Code",
                "Home Department Description",
            ],
        ),
    ];
    let m = detect(&head, &Location::file("x.xlsx"), &org("acme")).unwrap();
    assert_eq!(m.header_row, 4);
    assert_eq!(m.name.header, "Home Department Description");
    assert_eq!(m.id.unwrap().header, "Home Department Code");
    assert_eq!(m.kind, ListKind::Employees);
    assert_eq!(m.width, 4);
}

#[test]
fn aliases_from_real_exports() {
    for (headers, want) in [
        (&["Name", "Department"][..], "Department"),
        (&["Worker", "Supervisory Organization"], "Supervisory Organization"),
        (&["DEPT NAME"], "DEPT NAME"),
        (&["group_name", "Email"], "group_name"),
        (&["Team", "Email"], "Team"),
    ] {
        let m = detect(&[row(1, headers)], &Location::file("f"), &org("o")).unwrap();
        assert_eq!(m.name.header, want, "{headers:?}");
    }
}

#[test]
fn department_list_vs_employee_list() {
    let m = detect(
        &[row(1, &["Department ID", "Department Name", "Organization ID"])],
        &Location::file("f"),
        &MapOptions::default(),
    )
    .unwrap();
    assert_eq!(m.kind, ListKind::Departments);
    assert_eq!(m.org.unwrap().header, "Organization ID");
}

#[test]
fn ambiguity_and_absence_are_explained() {
    let err = detect(&[row(1, &["Department", "Dept"])], &Location::file("f.csv"), &org("o")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "f.csv, row 1: both 'Department' and 'Dept' could be the department column; choose one with --name-column"
    );
    let err = detect(
        &[row(1, &["Name", "Email", "Site"])],
        &Location::file("f.csv"),
        &org("o"),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "f.csv, row 1: no department column among the headers ('Name', 'Email', 'Site'); name it with --name-column"
    );
    let err = detect(
        &[row(1, &["Department"])],
        &Location::file("f.csv"),
        &MapOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, MapError::NoOrganization { .. }), "{err}");
}

#[test]
fn a_results_report_is_recognized() {
    let head = [row(
        1,
        &[
            "organization_id",
            "group_id",
            "group_name",
            "status",
            "attempts",
            "error",
            "sources",
        ],
    )];
    let m = detect(&head, &Location::file("r.csv"), &MapOptions::default()).unwrap();
    assert_eq!(
        (
            m.name.index,
            m.id.as_ref().unwrap().index,
            m.org.as_ref().unwrap().index
        ),
        (2, 1, 0)
    );
    assert_eq!(m.report_status.unwrap().index, 3);
    assert_eq!(m.kind, ListKind::Departments);
}

#[test]
fn user_column_prefers_a_work_email() {
    let opts = MapOptions {
        members: true,
        ..org("o")
    };
    let head = [row(1, &["Employee ID", "Personal Email", "Work Email", "Department"])];
    assert_eq!(
        detect(&head, &Location::file("f"), &opts).unwrap().user.unwrap().header,
        "Work Email"
    );
    let head = [row(1, &["Employee ID", "Department"])];
    assert_eq!(
        detect(&head, &Location::file("f"), &opts).unwrap().user.unwrap().header,
        "Employee ID"
    );
    let err = detect(&[row(1, &["Name", "Department"])], &Location::file("f"), &opts).unwrap_err();
    assert!(matches!(err, MapError::NoUserColumn { .. }), "{err}");
}

#[test]
fn flags_override() {
    let opts = MapOptions {
        name_column: Some("unit".into()),
        org_column: Some("tenant".into()),
        ..MapOptions::default()
    };
    let m = detect(
        &[row(1, &["Department", "Unit", "Tenant"])],
        &Location::file("f"),
        &opts,
    )
    .unwrap();
    assert_eq!((m.name.index, m.org.unwrap().index), (1, 2));
    let by_number = MapOptions {
        name_column: Some("2".into()),
        ..org("o")
    };
    assert_eq!(
        detect(&[row(1, &["a", "b"])], &Location::file("f"), &by_number)
            .unwrap()
            .name
            .index,
        1
    );
}
