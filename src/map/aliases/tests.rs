use super::*;

#[test]
fn words_split_at_camel_case_underscores_and_punctuation() {
    for (header, want) in [
        ("EmpID", &["emp", "id"][..]),
        ("Emp ID", &["emp", "id"]),
        ("Employee_Number", &["employee", "number"]),
        ("EmployeeNumber", &["employee", "number"]),
        ("HRDept", &["hr", "dept"]),
        ("PersonID", &["person", "id"]),
        ("Employee #", &["employee", "number"]),
        ("Legal Name - First Name", &["legal", "name", "first", "name"]),
        ("EMPID", &["empid"]),
        ("address2Line", &["address2", "line"]),
        ("", &[]),
    ] {
        assert_eq!(words(header), want, "{header}");
    }
}

#[test]
fn canonical_keys_expand_abbreviations() {
    for (header, want) in [
        ("EmpID", "employeeid"),
        ("Emp ID", "employeeid"),
        ("emp_id", "employeeid"),
        ("Emp No.", "employeenumber"),
        ("EE Nbr", "employeenumber"),
        ("Dept #", "departmentnumber"),
        ("DeptID", "departmentid"),
        ("Pers.No.", "personnelnumber"),
        ("E-mail", "email"),
        // A word that merely starts like an abbreviation is left alone.
        ("Employer", "employer"),
        ("Nominal", "nominal"),
    ] {
        assert_eq!(Keys::of(header).canonical, want, "{header}");
    }
}

#[test]
fn employee_id_headers_of_many_shapes_are_user_ids() {
    let user = |header: &str| USER_ALIASES.iter().position(|tier| Keys::of(header).is_in(tier));
    for header in [
        "EmpID",
        "Emp ID",
        "EMPID",
        "Employee_Number",
        "EmployeeNumber",
        "Worker ID",
        "Associate ID",
        "Personnel Number",
        "Badge ID",
        "Employee Code",
        "Staff ID",
        "PersonID",
        "Employee #",
        "File Number",
        "USERID",
    ] {
        assert!(user(header).is_some(), "{header} is not recognized");
    }
    // IDs rank above numbers and codes, and a bare "Employee" (often a name) comes last.
    assert!(user("Employee ID") < user("Badge ID"));
    assert!(user("Badge ID") < user("Employee"));
    for header in ["Manager ID", "Position ID", "EmpStatusID", "Department"] {
        assert_eq!(user(header), None, "{header}");
    }
}

#[test]
fn plain_keys_keep_the_number_sign() {
    let k = Keys::of("Employee #");
    assert_eq!(
        (k.plain.as_str(), k.canonical.as_str()),
        ("employeenumber", "employeenumber")
    );
    assert!(!k.is_in(&["employee"]), "'Employee #' is a number, not a name");
    assert_eq!(Keys::of("EMP_NO").plain, "empno");
}

#[test]
fn person_hints_see_through_abbreviations() {
    for header in [
        "EmpID",
        "Badge ID",
        "Name",
        "Display Name",
        "Legal Name",
        "Surname",
        "E-mail",
    ] {
        assert!(Keys::of(header).is_person_hint(), "{header}");
    }
    for header in ["Department Name", "Organization ID", "Dept #", "Cost Center", "Team"] {
        assert!(!Keys::of(header).is_person_hint(), "{header}");
    }
}
