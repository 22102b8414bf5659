//! Look-alikes of real HR exports: the column conventions of Workday, BambooHR, ADP, SAP
//! SuccessFactors, Personio and HiBob, with the dirt real files have (title blocks, padded
//! cells, codes with leading zeros, Windows-1252, semicolons, spellings typed several ways, a
//! mis-coded row). Each must give the departments a person would list by hand.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use velt_groups::input::{self, InputSettings};
use velt_groups::normalize::{Member, Plan};

use crate::workdir::Workdir;

/// A cell for [`xlsx`].
pub enum C {
    /// Text.
    S(String),
    /// A number.
    N(f64),
    /// A date cell (year, month, day).
    D(u16, u8, u8),
    /// Nothing written.
    E,
}

/// Text cell shorthand.
pub fn s(text: &str) -> C {
    C::S(text.to_owned())
}

/// Writes one sheet with rust_xlsxwriter.
pub fn xlsx(path: &Path, sheet: &str, rows: &[Vec<C>]) {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("mm/dd/yyyy");
    let ws = book.add_worksheet().set_name(sheet).unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                C::S(t) => {
                    ws.write_string(r, c, t).unwrap();
                }
                C::N(n) => {
                    ws.write_number(r, c, *n).unwrap();
                }
                C::D(y, m, d) => {
                    let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                    ws.write_datetime_with_format(r, c, dt, &date).unwrap();
                }
                C::E => {}
            }
        }
    }
    book.save(path).unwrap();
}

/// One CSV record: fields quoted when they need it (or always, as some exporters do).
pub fn record(fields: &[&str], delimiter: char, quote_all: bool) -> String {
    let cells: Vec<String> = fields
        .iter()
        .map(|f| {
            if quote_all || f.contains([delimiter, '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                (*f).to_owned()
            }
        })
        .collect();
    cells.join(&delimiter.to_string())
}

/// A deterministic pseudo-random sequence, so generated files are the same on every run.
pub struct Lcg(pub u64);

impl Lcg {
    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize % n
    }
}

/// Reads, maps and normalizes like `check --org acme [--members]`, through the library.
pub fn load(path: &Path, members: bool) -> Plan {
    let mut settings = InputSettings {
        paths: vec![path.to_owned()],
        ..InputSettings::default()
    };
    settings.map.org = Some("acme".into());
    settings.map.members = members;
    input::load(&settings).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

/// Group names, sorted.
pub fn departments(plan: &Plan) -> Vec<String> {
    let mut names: Vec<String> = plan
        .organizations
        .iter()
        .flat_map(|o| o.groups.iter().map(|g| g.name.clone()))
        .collect();
    names.sort();
    names
}

/// The member with user ID `user`, wherever they are.
pub fn member<'a>(plan: &'a Plan, user: &str) -> &'a Member {
    plan.organizations
        .iter()
        .flat_map(|o| o.groups.iter().flat_map(|g| g.members.iter()))
        .find(|m| &*m.user == user)
        .unwrap_or_else(|| panic!("no member {user}"))
}

/// Errors and warnings as `(severity, row, message)`.
fn problems(plan: &Plan) -> Vec<(String, u64, String)> {
    plan.problems
        .iter()
        .map(|p| {
            (
                format!("{:?}", p.severity),
                p.location.row.unwrap_or(0),
                p.message.clone(),
            )
        })
        .collect()
}

/// Workday "Workers by Organization", exported to Excel: a title block, numeric employee IDs,
/// a worker column, legal and (mostly blank) preferred names, supervisory organizations.
fn workday(w: &Workdir) -> PathBuf {
    let header = [
        "Employee ID",
        "Worker",
        "Legal Name - First Name",
        "Legal Name - Last Name",
        "Preferred Name - First Name",
        "Business Title",
        "Supervisory Organization",
        "Cost Center",
        "Company",
        "Hire Date",
        "Primary Work Email",
    ];
    let people = [
        (
            "Logan McNeil",
            "Logan",
            "McNeil",
            "",
            "Chief Executive Officer",
            "Executive Management",
            "10000 Executive",
        ),
        (
            "Ada Lovelace",
            "Augusta Ada",
            "King",
            "Ada",
            "Principal Engineer",
            "Engineering",
            "41000 Engineering",
        ),
        (
            "Alan Turing",
            "Alan",
            "Turing",
            "",
            "Software Engineer",
            "Engineering ",
            "41000 Engineering",
        ),
        (
            "Grace Hopper",
            "Grace",
            "Hopper",
            "",
            "Engineering Manager",
            "Engineering",
            "41000 Engineering",
        ),
        (
            "Edsger Dijkstra",
            "Edsger",
            "Dijkstra",
            "",
            "Software Engineer",
            "Engineering",
            "41000 Engineering",
        ),
        (
            "Joan Clarke",
            "Joan",
            "Clarke",
            "",
            "Account Executive",
            "Global Sales",
            "52000 Sales",
        ),
        (
            "Bob Noyce",
            "Robert",
            "Noyce",
            "Bob",
            "Account Executive",
            "Global  Sales",
            "52000 Sales",
        ),
        (
            "Hedy Lamarr",
            "Hedwig",
            "Kiesler",
            "Hedy",
            "Sales Director",
            "Global Sales",
            "52000 Sales",
        ),
        (
            "Mary Jackson",
            "Mary",
            "Jackson",
            "",
            "Support Specialist",
            "Customer Success",
            "53000 Support",
        ),
        (
            "Dorothy Vaughan",
            "Dorothy",
            "Vaughan",
            "",
            "Support Lead",
            "Customer Success",
            "53000 Support",
        ),
        (
            "Katherine Johnson",
            "Katherine",
            "Johnson",
            "",
            "Controller",
            "Finance",
            "60000 G&A",
        ),
        (
            "John von Neumann",
            "John",
            "von Neumann",
            "",
            "Accountant",
            "Finance",
            "60000 G&A",
        ),
    ];
    let mut rows = vec![
        vec![s("Workers by Organization")],
        vec![s("Effective as of: 01/31/2025")],
        vec![],
        header.iter().map(|h| s(h)).collect(),
    ];
    for (i, (worker, first, last, preferred, title, org, cost)) in people.iter().enumerate() {
        let email = format!("{}@gms.example", worker.to_lowercase().replace(' ', "."));
        rows.push(vec![
            C::N(21001.0 + i as f64),
            s(worker),
            s(first),
            s(last),
            if preferred.is_empty() { C::E } else { s(preferred) },
            s(title),
            s(org),
            s(cost),
            s("Global Modern Services, Inc. (USA)"),
            C::D(2015 + i as u16 % 9, 1 + i as u8 % 12, 1 + i as u8),
            C::S(email),
        ]);
    }
    let path = w.path("Workers_by_Organization.xlsx");
    xlsx(&path, "Workers by Organization", &rows);
    path
}

#[test]
fn workday_workers_by_organization() {
    let w = Workdir::new();
    let path = workday(&w);
    let plan = load(&path, true);
    assert_eq!(
        departments(&plan),
        [
            "Customer Success",
            "Engineering",
            "Executive Management",
            "Finance",
            "Global Sales"
        ]
    );
    assert!(!plan.has_errors(), "{:?}", problems(&plan));
    // The user is the work e-mail; the display name is the worker's, not the legal one.
    let ada = member(&plan, "ada.lovelace@gms.example");
    assert_eq!(ada.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(ada.email.as_deref(), Some("ada.lovelace@gms.example"));
    let run = w.run(&["check", "--org", "acme", "--members", "Workers_by_Organization.xlsx"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// BambooHR's CSV report: every field quoted, a BOM, CRLF, "Employee #", a preferred first
/// name, a department typed four ways and an employee without one.
pub fn bamboohr(w: &Workdir) -> PathBuf {
    let header = [
        "Employee #",
        "First Name",
        "Last Name",
        "Preferred Name",
        "Work Email",
        "Department",
        "Division",
        "Job Title",
        "Location",
        "Hire Date",
        "Status",
    ];
    let people = [
        ("Ada", "Lovelace", "", "R&D"),
        ("Charles", "Babbage", "Charlie", "Marketing"),
        ("Grace", "Hopper", "", "R & D"),
        ("Alan", "Turing", "", "R&D"),
        ("Hedy", "Lamarr", "", "Customer Support"),
        ("Claude", "Shannon", "", "R and D"),
        ("Barbara", "Liskov", "", "Marketing"),
        ("Frances", "Allen", "Fran", "R&D"),
        ("Margaret", "Hamilton", "", "r&d"),
        ("Radia", "Perlman", "", "Customer Support"),
        ("Ken", "Thompson", "", ""),
    ];
    let mut text = String::from("\u{FEFF}");
    text.push_str(&record(&header, ',', true));
    text.push_str("\r\n");
    for (i, (first, last, preferred, dept)) in people.iter().enumerate() {
        let email = format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase());
        let id = (101 + i).to_string();
        let hire = format!("2021-0{}-1{}", 1 + i % 9, i % 10);
        let fields = [
            id.as_str(),
            first,
            last,
            preferred,
            &email,
            dept,
            "North America",
            "Engineer",
            "Remote",
            &hire,
            "Active",
        ];
        text.push_str(&record(&fields, ',', true));
        text.push_str("\r\n");
    }
    w.write("bamboohr.csv", text)
}

#[test]
fn bamboohr_report() {
    let w = Workdir::new();
    let path = bamboohr(&w);
    let plan = load(&path, true);
    assert_eq!(departments(&plan), ["Customer Support", "Marketing", "R&D"]);
    assert!(!plan.has_errors(), "{:?}", problems(&plan));
    // First and last name, not the preferred name, which BambooHR fills with a first name only.
    let charles = member(&plan, "charles.babbage@example.com");
    assert_eq!(charles.name.as_deref(), Some("Charles Babbage"));
    assert_eq!(charles.email.as_deref(), Some("charles.babbage@example.com"));
}

/// ADP Workforce Now: Windows-1252, padded descriptions, home department codes with leading
/// zeros, legal names, and one warehouse worker given accounting's code.
fn adp(w: &Workdir) -> PathBuf {
    let header = [
        "Payroll Company Code",
        "Associate ID",
        "File Number",
        "Legal First Name",
        "Legal Last Name",
        "Payroll Name",
        "Position Status",
        "Home Department Code",
        "Home Department Description",
        "Work Contact: Work Email",
        "Job Title Description",
    ];
    let mut depts = Vec::new();
    depts.extend(["001000"; 6].map(|c| (c, "Accounting          ")));
    depts.extend(["002000"; 8].map(|c| (c, "Warehouse           ")));
    depts.extend(["003000"; 3].map(|c| (c, "Customer Service    ")));
    // Row 12 of the file: a warehouse worker keyed with accounting's code.
    depts.insert(10, ("001000", "Warehouse           "));
    let firsts = ["Désirée", "José", "Zoë", "Renée", "André", "Chloé"];
    let lasts = ["Müller", "García", "Nguyen", "O'Brien", "Smith", "Dubois"];
    let mut text = record(&header, ',', false);
    text.push_str("\r\n");
    for (i, (code, desc)) in depts.iter().enumerate() {
        let (first, last) = (firsts[i % firsts.len()], lasts[i % lasts.len()]);
        let aoid = format!("G3{:08}", 4711 + i);
        let file = format!("{:06}", 100 + i);
        let payroll = format!("{}, {first}", last.to_uppercase());
        let email = format!("{}{}@acme.example", &first[..1].to_lowercase(), i);
        let fields = [
            "XYZ", &aoid, &file, first, last, &payroll, "Active", code, desc, &email, "Clerk",
        ];
        text.push_str(&record(&fields, ',', false));
        text.push_str("\r\n");
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    w.write("adp-employees.csv", bytes)
}

#[test]
fn adp_workforce_now_with_a_mis_coded_row() {
    let w = Workdir::new();
    let path = adp(&w);
    let plan = load(&path, true);
    let sizes: Vec<(String, String, usize)> = plan.organizations[0]
        .groups
        .iter()
        .map(|g| (g.id.clone(), g.name.clone(), g.sources.len()))
        .collect();
    assert_eq!(
        sizes,
        vec![
            ("001000".into(), "Accounting".into(), 6),
            ("002000".into(), "Warehouse".into(), 8),
            ("003000".into(), "Customer Service".into(), 3),
        ]
    );
    assert_eq!(
        problems(&plan),
        vec![(
            "Error".into(),
            12,
            "'Warehouse' with code 001000, but code 001000 is 'Accounting' on 6 other rows and \
             'Warehouse' is code 002000 on 8 rows; this row is probably mis-coded"
                .into()
        )]
    );
    // Windows-1252 names arrive intact; the e-mail column is ADP's "Work Contact: Work Email".
    let first = member(&plan, "d0@acme.example");
    assert_eq!(first.name.as_deref(), Some("Désirée Müller"));
    let run = w.run(&["check", "--org", "acme", "adp-employees.csv"]);
    assert_eq!(run.code, 1, "the mis-coded row is held back");
    assert!(
        run.stderr
            .contains("error: adp-employees.csv, row 12, column 'Home Department Code': 'Warehouse' with code 001000"),
        "{}",
        run.stderr
    );
}

/// SAP SuccessFactors' user data file: capital technical headers, a manager column holding
/// user IDs, two ID columns, a department in two cases.
fn successfactors(w: &Workdir) -> PathBuf {
    let mut text = String::from(
        "STATUS,USERID,USERNAME,FIRSTNAME,LASTNAME,MI,GENDER,EMAIL,MANAGER,HR,DEPARTMENT,JOBCODE,DIVISION,LOCATION,TIMEZONE,HIREDATE,EMPID,TITLE\n",
    );
    let rows = [
        ("cgrant", "Carla", "Grant", "NO_MANAGER", "Sales"),
        ("jreed", "Jonas", "Reed", "cgrant", "Sales"),
        ("mlee", "Min", "Lee", "cgrant", "SALES"),
        ("tkaur", "Tara", "Kaur", "cgrant", "Sales"),
        ("pchen", "Paul", "Chen", "NO_MANAGER", "Product Management"),
        ("aokafor", "Ada", "Okafor", "pchen", "Product Management"),
        ("sberg", "Sven", "Berg", "NO_MANAGER", "Human Resources"),
        ("lrossi", "Lucia", "Rossi", "sberg", "Human Resources"),
    ];
    for (i, (user, first, last, manager, dept)) in rows.iter().enumerate() {
        let email = format!("{user}@bestrun.example");
        let fields = [
            "active",
            user,
            user,
            first,
            last,
            "",
            if i % 2 == 0 { "F" } else { "M" },
            &email,
            manager,
            "NO_HR",
            dept,
            "JC-100",
            "Americas",
            "Chicago",
            "US/Central",
            "03/01/2020",
            &format!("8000{i}"),
            "Specialist",
        ];
        text.push_str(&record(&fields, ',', false));
        text.push('\n');
    }
    w.write("sf-user-data.csv", text)
}

#[test]
fn sap_successfactors_user_data_file() {
    let w = Workdir::new();
    let path = successfactors(&w);
    let plan = load(&path, true);
    assert_eq!(departments(&plan), ["Human Resources", "Product Management", "Sales"]);
    assert!(!plan.has_errors(), "{:?}", problems(&plan));
    let min = member(&plan, "mlee@bestrun.example");
    assert_eq!(min.name.as_deref(), Some("Min Lee"));
    let warning = &problems(&plan)[0].2;
    assert!(
        warning.starts_with("'Sales' (3x: ")
            && warning.contains("sf-user-data.csv rows 2-3, 5) is also written 'SALES' (1x: ")
            && warning.ends_with("sf-user-data.csv row 4); these are one group named 'Sales' (the most used spelling)"),
        "{warning}"
    );
}

/// Personio's CSV export: semicolons, a BOM, CRLF, umlauts, a department typed two ways.
fn personio(w: &Workdir) -> PathBuf {
    let header = [
        "ID",
        "First name",
        "Last name",
        "Email",
        "Status",
        "Position",
        "Department",
        "Office",
        "Hire date",
        "Subcompany",
        "Cost center",
    ];
    let rows = [
        ("Jürgen", "Böhm", "Vertrieb"),
        ("Anna", "Schäfer", "Vertrieb"),
        ("Lukas", "Weiß", "F&E"),
        ("Marie", "Krüger", "Geschäftsführung"),
        ("Felix", "Groß", "F & E"),
        ("Lea", "Hoffmann", "Personalwesen"),
        ("Jonas", "Becker", "Vertrieb"),
        ("Sophie", "Wagner", "F&E"),
        ("Paul", "Schulz", "Personalwesen "),
    ];
    let mut text = String::from("\u{FEFF}");
    text.push_str(&record(&header, ';', false));
    text.push_str("\r\n");
    for (i, (first, last, dept)) in rows.iter().enumerate() {
        let email = format!("{}.{}@firma.example", first.to_lowercase(), last.to_lowercase());
        let id = (1_000_200 + i).to_string();
        let fields = [
            id.as_str(),
            first,
            last,
            &email,
            "active",
            "Mitarbeiter",
            dept,
            "München",
            "01.04.2022",
            "Firma GmbH",
            "KST 4711",
        ];
        text.push_str(&record(&fields, ';', false));
        text.push_str("\r\n");
    }
    w.write("personio-export.csv", text)
}

#[test]
fn personio_export() {
    let w = Workdir::new();
    let path = personio(&w);
    let plan = load(&path, true);
    assert_eq!(
        departments(&plan),
        ["F&E", "Geschäftsführung", "Personalwesen", "Vertrieb"]
    );
    assert!(!plan.has_errors(), "{:?}", problems(&plan));
    let ids: Vec<&str> = plan.organizations[0].groups.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["f-e", "geschaftsfuhrung", "personalwesen", "vertrieb"]);
    assert_eq!(
        member(&plan, "jürgen.böhm@firma.example").name.as_deref(),
        Some("Jürgen Böhm")
    );
}

/// HiBob's people export (XLSX): a display name that differs from first + last, a trailing
/// space and a lower-case spelling.
fn hibob(w: &Workdir) -> PathBuf {
    let header = [
        "Employee ID",
        "Display name",
        "First name",
        "Last name",
        "Email",
        "Department",
        "Site",
        "Title",
        "Start date",
        "Reports to",
    ];
    let people = [
        ("Jess Ray", "Jessica", "Ray", "Product"),
        ("Omar Haddad", "Omar", "Haddad", "Engineering"),
        ("Li Wei", "Wei", "Li", "Product"),
        ("Noa Levi", "Noa", "Levi", "Engineering"),
        ("Sam Cole", "Samuel", "Cole", "product "),
        ("Ines Duarte", "Inês", "Duarte", "Customer Experience"),
        ("Tom Berg", "Thomas", "Berg", "Engineering"),
        ("Ava Stone", "Ava", "Stone", "Customer Experience"),
        ("Raj Patel", "Rajesh", "Patel", "Product"),
        ("Kim Park", "Kim", "Park", "G&A"),
    ];
    let mut rows = vec![header.iter().map(|h| s(h)).collect::<Vec<_>>()];
    for (i, (display, first, last, dept)) in people.iter().enumerate() {
        let email = format!("{}@bob.example", first.to_lowercase());
        rows.push(vec![
            C::S(format!("{}", 3_141_592 + i)),
            s(display),
            s(first),
            s(last),
            C::S(email),
            s(dept),
            s("London"),
            s("Specialist"),
            C::D(2023, 1 + i as u8, 2),
            if i == 0 { C::E } else { s("Jess Ray") },
        ]);
    }
    let path = w.path("hibob-people.xlsx");
    xlsx(&path, "People data", &rows);
    path
}

#[test]
fn hibob_people_export() {
    let w = Workdir::new();
    let path = hibob(&w);
    let plan = load(&path, true);
    assert_eq!(
        departments(&plan),
        ["Customer Experience", "Engineering", "G&A", "Product"]
    );
    assert!(!plan.has_errors(), "{:?}", problems(&plan));
    let jess = member(&plan, "jessica@bob.example");
    assert_eq!(
        (jess.name.as_deref(), jess.email.as_deref()),
        (Some("Jess Ray"), Some("jessica@bob.example"))
    );
}
