use super::*;
use crate::location::Location;
use crate::map::{detect, MapError, Mapping};

fn map(headers: &[&str], opts: MapOptions) -> Result<Mapping, MapError> {
    let row = (1, headers.iter().map(|s| s.to_string()).collect());
    detect(
        &[row],
        &Location::file("f.csv"),
        &MapOptions {
            org: Some("o".into()),
            ..opts
        },
    )
}

/// The headers of the person columns found: (full name, first, last, e-mail).
fn found(headers: &[&str]) -> [Option<String>; 4] {
    let p = map(headers, MapOptions::default()).unwrap().person;
    [p.full_name, p.first_name, p.last_name, p.email].map(|c| c.map(|c| c.header))
}

fn some(header: &str) -> Option<String> {
    Some(header.to_owned())
}

#[test]
fn a_full_name_column_in_its_many_shapes() {
    for header in [
        "Employee_Name",
        "Full Name",
        "Employee Name",
        "Display Name",
        "Worker",
        "Legal Name",
        "Employee",
        "Name",
    ] {
        assert_eq!(found(&[header, "Department"])[0], some(header), "{header}");
    }
}

#[test]
fn first_and_last_names_with_their_variants() {
    assert_eq!(
        found(&["First_Name", "Last_Name", "Department"]),
        [None, some("First_Name"), some("Last_Name"), None]
    );
    assert_eq!(
        found(&["Given Name", "Surname", "Dept"]),
        [None, some("Given Name"), some("Surname"), None]
    );
    // Workday: legal names, a worker column, a preferred first name that is often blank.
    assert_eq!(
        found(&[
            "Employee ID",
            "Worker",
            "Preferred Name - First Name",
            "Legal Name - First Name",
            "Legal Name - Last Name",
            "Supervisory Organization",
            "Primary Work Email",
        ]),
        [
            some("Worker"),
            some("Legal Name - First Name"),
            some("Legal Name - Last Name"),
            some("Primary Work Email")
        ]
    );
}

#[test]
fn a_preferred_name_is_the_full_name_only_without_first_and_last() {
    // BambooHR's "Preferred Name" holds a first name ("Bob" for Robert).
    assert_eq!(
        found(&["Employee #", "First Name", "Last Name", "Preferred Name", "Department"])[0],
        None
    );
    assert_eq!(
        found(&["Employee #", "Preferred Name", "Department"])[0],
        some("Preferred Name")
    );
}

#[test]
fn a_name_in_a_department_list_is_no_person() {
    let m = map(
        &["Dept Code", "Name"],
        MapOptions {
            name_column: Some("Name".into()),
            ..MapOptions::default()
        },
    )
    .unwrap();
    assert_eq!(m.kind, ListKind::Departments);
    assert_eq!(m.person, PersonColumns::default());
    // Nor is the department column itself, in an employee list.
    let m = map(
        &["Name", "Email"],
        MapOptions {
            name_column: Some("Name".into()),
            ..MapOptions::default()
        },
    )
    .unwrap();
    assert_eq!((m.kind, m.person.full_name), (ListKind::Employees, None));
}

#[test]
fn the_email_is_found_even_when_it_is_the_user_column() {
    let m = map(
        &["Employee ID", "Personal Email", "Work Email", "Department"],
        MapOptions {
            members: true,
            ..MapOptions::default()
        },
    )
    .unwrap();
    assert_eq!(m.user.unwrap().header, "Work Email");
    assert_eq!(m.person.email.unwrap().header, "Work Email");
    assert_eq!(found(&["Personal Email", "Department"])[3], some("Personal Email"));
}

#[test]
fn overrides_win_and_a_missing_one_is_an_error() {
    let opts = MapOptions {
        full_name_column: Some("Nom".into()),
        email_column: Some("3".into()),
        first_name_column: Some("Prénom".into()),
        last_name_column: Some("Nom de famille".into()),
        ..MapOptions::default()
    };
    let p = map(
        &["Nom", "Prénom", "Courriel", "Nom de famille", "Department"],
        opts.clone(),
    )
    .unwrap()
    .person;
    assert_eq!(
        [p.full_name, p.first_name, p.last_name, p.email].map(|c| c.unwrap().index),
        [0, 1, 3, 2]
    );
    let missing = MapOptions {
        email_column: Some("Courriel".into()),
        ..MapOptions::default()
    };
    let err = map(&["Nom", "Department"], missing).unwrap_err();
    assert_eq!(
        err.to_string(),
        "f.csv, row 1: no column 'Courriel' (from --email-column) among the headers in row 1 ('Nom', 'Department'); if the header is not row 1, give its row with --header-row"
    );
}

#[test]
fn user_columns_of_real_exports() {
    let members = || MapOptions {
        members: true,
        ..MapOptions::default()
    };
    for (headers, want) in [
        (
            &[
                "Employee_Name",
                "EmpID",
                "MarriedID",
                "DeptID",
                "Department",
                "ManagerID",
            ][..],
            "EmpID",
        ),
        (&["Employee", "Employee ID", "Department"], "Employee ID"),
        (&["Employee #", "First Name", "Department"], "Employee #"),
        (
            &["Associate ID", "File Number", "Home Department Description"],
            "Associate ID",
        ),
        (&["USERID", "EMPID", "DEPARTMENT"], "USERID"),
        (&["Badge ID", "Staff Name", "Team"], "Badge ID"),
    ] {
        let m = map(headers, members()).unwrap();
        assert_eq!(m.user.unwrap().header, want, "{headers:?}");
        assert_eq!(m.kind, ListKind::Employees, "{headers:?}");
    }
}

#[test]
fn emails_are_trimmed_lower_cased_and_checked() {
    assert_eq!(
        email_address(" Ada@Example.COM ", false).as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(
        email_address("Ada@Example.COM", true).as_deref(),
        Some("Ada@Example.COM")
    );
    assert_eq!(email_address("n/a", false), None);
    assert_eq!(email_address("", false), None);
    assert_eq!(email_address("a b@c", false), None);
}
