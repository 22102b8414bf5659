//! Issue #23: groups from more than the department (`--group-by KIND=COLUMN`) and from
//! hierarchies (`--hierarchy-separator`), over two nights against the fake server: joiners,
//! movers between offices and leavers; and a state file written before kinds.

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Workdir, CREDS, X};

/// The report's `(group_id, kind, status)` rows, and the `path` column by group.
fn report_rows(w: &Workdir, name: &str) -> Vec<(String, String, String, String)> {
    let text = w.read(name);
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let at = |h: &str| headers.iter().position(|c| c == h).unwrap_or_else(|| panic!("no {h}"));
    let (id, kind, status, path) = (at("group_id"), at("kind"), at("status"), at("path"));
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[id].to_owned(),
                r[kind].to_owned(),
                r[status].to_owned(),
                r[path].to_owned(),
            )
        })
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A BambooHR-shaped export (Division, Department, Location, Status) as XLSX.
fn bamboo(w: &Workdir, people: &[[&'static str; 6]]) {
    let mut rows = vec![[
        "Employee #",
        "Work Email",
        "Division",
        "Department",
        "Location",
        "Employment Status",
    ]
    .map(X::S)
    .to_vec()];
    for p in people {
        rows.push(p.map(|c| if c.is_empty() { X::Empty } else { X::S(c) }).to_vec());
    }
    w.xlsx("bamboo.xlsx", &[("Employees", rows)]);
}

#[test]
fn bamboohr_division_department_and_office_over_two_nights() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let import = |extra: &[&str]| {
        let mut args = vec![
            "import",
            "--quiet",
            "--members",
            "--org",
            "acme",
            "--api-base",
            &url,
            "--rate",
            "500",
            "--state",
            "state.db",
            "--report",
            "r.csv",
            "--summary-json",
            "s.json",
            "--group-by",
            "department=Department",
            "--group-by",
            "division=Division",
            "--group-by",
            "office=Location",
        ];
        args.extend_from_slice(extra);
        args.push("bamboo.xlsx");
        w.run_env(&args, &CREDS)
    };
    bamboo(
        &w,
        &[
            ["1", "ada@x.example", "Engineering", "Platform", "Berlin", "Active"],
            ["2", "bob@x.example", "Engineering", "Platform", "London", "Active"],
            ["3", "cy@x.example", "Sales", "Field Sales", "London", "Active"],
            ["4", "di@x.example", "Engineering", "Platform", "Berlin", "Active"],
            ["5", "ed@x.example", "Sales", "Field Sales", "", "Active"],
        ],
    );
    let run = import(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let groups = fake.groups_of("acme");
    assert_eq!(
        groups.keys().cloned().collect::<Vec<_>>(),
        [
            "division-engineering",
            "division-sales",
            "field-sales",
            "office-berlin",
            "office-london",
            "platform"
        ]
    );
    assert_eq!(groups["office-berlin"], "Berlin");
    assert_eq!(groups["division-sales"], "Sales");
    assert_eq!(
        sorted(fake.members_of("acme", "office-berlin")),
        ["ada@x.example", "di@x.example"]
    );
    // A person's memberships are the union over kinds.
    for group in ["platform", "division-engineering", "office-london"] {
        assert!(
            fake.members_of("acme", group).contains(&"bob@x.example".to_owned()),
            "{group}"
        );
    }
    // Ed has no office: in no office group, counted, no error.
    let summary: serde_json::Value = serde_json::from_str(&w.read("s.json")).unwrap();
    assert_eq!(summary["without_group"], serde_json::json!({"office": 1}));
    assert_eq!(summary["kinds"]["office"]["added"], 2);
    assert_eq!(summary["kinds"]["department"]["added"], 2);
    let rows = report_rows(&w, "r.csv");
    assert!(rows.contains(&("office-london".into(), "office".into(), "added".into(), String::new())));
    assert!(rows.contains(&("platform".into(), "department".into(), "added".into(), String::new())));
    // The state knows each group's kind.
    let conn = rusqlite::Connection::open(w.path("state.db")).unwrap();
    let kind: String = conn
        .query_row("SELECT kind FROM groups WHERE group_id = 'office-berlin'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kind, "office");
    drop(conn);

    // Night two: Bob moves to Berlin, Di leaves (still in the export), Flo joins in London.
    bamboo(
        &w,
        &[
            ["1", "ada@x.example", "Engineering", "Platform", "Berlin", "Active"],
            ["2", "bob@x.example", "Engineering", "Platform", "Berlin", "Active"],
            ["3", "cy@x.example", "Sales", "Field Sales", "London", "Active"],
            ["4", "di@x.example", "Engineering", "Platform", "Berlin", "Terminated"],
            ["5", "ed@x.example", "Sales", "Field Sales", "", "Active"],
            ["6", "flo@x.example", "Sales", "Field Sales", "London", "Active"],
        ],
    );
    let run = import(&["--remove-departed"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        sorted(fake.members_of("acme", "office-berlin")),
        ["ada@x.example", "bob@x.example"]
    );
    assert_eq!(
        sorted(fake.members_of("acme", "office-london")),
        ["cy@x.example", "flo@x.example"]
    );
    for group in ["platform", "division-engineering"] {
        assert_eq!(
            sorted(fake.members_of("acme", group)),
            ["ada@x.example", "bob@x.example"],
            "{group}"
        );
    }
    let members = w.read("r-members.csv");
    assert!(
        members.contains("acme,office-london,bob@x.example,remove,removed,"),
        "{members}"
    );
    assert!(
        members.contains("acme,office-berlin,di@x.example,remove,removed,"),
        "{members}"
    );
    assert!(
        members.contains("acme,office-london,flo@x.example,add,added,"),
        "{members}"
    );
    // Nothing already there is sent again: every group unchanged.
    let rows = report_rows(&w, "r.csv");
    assert!(rows.iter().all(|r| r.2 == "unchanged"), "{rows:?}");

    // A removal guard counts the removals of every kind: a truncated export removes nothing.
    bamboo(
        &w,
        &[["1", "ada@x.example", "Engineering", "Platform", "Berlin", "Active"]],
    );
    let run = import(&["--remove-departed", "--max-removals", "2"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("exceed --max-removals"), "{}", run.stderr);
    assert_eq!(fake.members_of("acme", "office-london").len(), 2, "nothing removed");
    // A group gone from the export is stale under its kind, as the state recorded it.
    let rows = report_rows(&w, "r.csv");
    assert!(
        rows.contains(&("office-london".into(), "office".into(), "stale".into(), String::new())),
        "{rows:?}"
    );
    assert!(
        rows.contains(&(
            "division-sales".into(),
            "division".into(),
            "stale".into(),
            String::new()
        )),
        "{rows:?}"
    );
}

/// A Workday-shaped export: the supervisory organization as a path, and a location.
fn workday(w: &Workdir, people: &[(&str, &str, &str)]) {
    let mut text = String::from("Employee ID,Email,Supervisory Organization,Location,Worker Status\n");
    for (i, (email, org, location)) in people.iter().enumerate() {
        text.push_str(&format!("W{i},{email},{org},{location},Active\n"));
    }
    w.write("workday.csv", text);
}

#[test]
fn workday_supervisory_organization_path_makes_a_group_per_level_over_two_nights() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let import = |extra: &[&str]| {
        let mut args = vec![
            "import",
            "--quiet",
            "--members",
            "--org",
            "acme",
            "--api-base",
            &url,
            "--rate",
            "500",
            "--state",
            "state.db",
            "--report",
            "r.csv",
            "--group-by",
            "team=Supervisory Organization",
            "--group-by",
            "office=Location",
            "--hierarchy-separator",
            " > ",
        ];
        args.extend_from_slice(extra);
        args.push("workday.csv");
        w.run_env(&args, &CREDS)
    };
    workday(
        &w,
        &[
            ("ada@x.example", "Engineering > Platform > Storage", "Berlin"),
            ("bob@x.example", "Engineering > Platform", "Berlin"),
            ("cy@x.example", "Sales > Platform", "London"),
            // A spelling variant of one level is one group, named by the majority.
            ("di@x.example", "engineering > Platform > Storage", "London"),
        ],
    );
    let run = import(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let groups = fake.groups_of("acme");
    assert_eq!(
        groups.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(),
        [
            ("engineering", "Engineering"),
            ("engineering-platform", "Platform"),
            ("engineering-platform-storage", "Storage"),
            ("office-berlin", "Berlin"),
            ("office-london", "London"),
            ("sales", "Sales"),
            ("sales-platform", "Platform"),
        ]
    );
    // A person joins every level on their path.
    for group in ["engineering", "engineering-platform", "engineering-platform-storage"] {
        assert!(
            fake.members_of("acme", group).contains(&"ada@x.example".to_owned()),
            "{group}"
        );
    }
    assert_eq!(
        sorted(fake.members_of("acme", "engineering")),
        ["ada@x.example", "bob@x.example", "di@x.example"]
    );
    let rows = report_rows(&w, "r.csv");
    assert!(
        rows.contains(&(
            "engineering-platform-storage".into(),
            "team".into(),
            "added".into(),
            "Engineering > Platform > Storage".into()
        )),
        "{rows:?}"
    );

    // Night two: Ada moves up to Platform and to London; Cy leaves the export; Eve joins.
    workday(
        &w,
        &[
            ("ada@x.example", "Engineering > Platform", "London"),
            ("bob@x.example", "Engineering > Platform", "Berlin"),
            ("di@x.example", "Engineering > Platform > Storage", "London"),
            ("eve@x.example", "Sales > Platform", "Berlin"),
        ],
    );
    let run = import(&["--remove-departed"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        fake.members_of("acme", "engineering-platform-storage"),
        ["di@x.example"]
    );
    assert!(fake
        .members_of("acme", "engineering-platform")
        .contains(&"ada@x.example".to_owned()));
    assert_eq!(fake.members_of("acme", "sales-platform"), ["eve@x.example"]);
    assert_eq!(
        fake.members_of("acme", "office-berlin"),
        ["bob@x.example", "eve@x.example"]
    );
    assert_eq!(
        fake.members_of("acme", "office-london"),
        ["ada@x.example", "di@x.example"]
    );
}

#[test]
fn leaf_only_makes_only_the_deepest_levels_and_kinds_that_collide_are_held_back() {
    let w = Workdir::new();
    w.write(
        "hr.csv",
        "Email,Department,Location\na@x.example,Engineering > Platform,Berlin\nb@x.example,Office Berlin,London\n",
    );
    let (run, json) = w.check_json(&["--org", "acme", "--hierarchy-separator", ">", "--leaf-only", "hr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Vec<&str> = json["organizations"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["engineering-platform", "office-berlin"]);
    assert_eq!(json["organizations"][0]["groups"][0]["path"], "Engineering>Platform");

    // The department "Office Berlin" and the office "Berlin" make one ID: both held back.
    let run = w.run(&[
        "check",
        "--org",
        "acme",
        "--group-by",
        "department=Department",
        "--group-by",
        "office=Location",
        "hr.csv",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the department 'Office Berlin' and the office 'Berlin' both make the group ID 'office-berlin'"),
        "{}",
        run.stderr
    );
}

#[test]
fn group_by_is_a_config_array_of_tables_and_bad_kinds_are_refused() {
    let w = Workdir::new();
    w.write(
        "hr.csv",
        "Email,Dept,Dept Code,Site\na@x.example,Sales,D1,Berlin\nb@x.example,Sales,D1,\n",
    );
    w.write(
        "c.toml",
        "org = 'acme'\n\
         [[group-by]]\nkind = 'department'\ncolumn = 'Dept'\ncode-column = 'Dept Code'\n\
         [[group-by]]\nkind = 'site'\ncolumn = 'Site'\nid-prefix = 'loc-'\n",
    );
    let (run, json) = w.check_json(&["--config", "c.toml", "hr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Vec<(&str, Option<&str>)> = json["organizations"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group_id"].as_str().unwrap(), g["kind"].as_str()))
        .collect();
    assert_eq!(ids, [("d1", None), ("loc-berlin", Some("site"))]);

    for (args, says) in [
        (vec!["--group-by", "office"], "takes KIND=COLUMN"),
        (vec!["--group-by", "Office=Location"], "lower-case letters"),
        (
            vec!["--group-by", "a=Dept", "--group-by", "a=Site"],
            "names the kind 'a' twice",
        ),
        (vec!["--leaf-only"], "--leaf-only"),
    ] {
        let mut all = vec!["check", "--org", "acme"];
        all.extend(args);
        all.push("hr.csv");
        let run = w.run(&all);
        assert_eq!(run.code, 2, "{all:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{all:?}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    }
}

/// A state file written by the release before kinds (`tests/data/state-before-kinds.db`: the
/// binary of commit e5e0ec6 importing `Platform`/`Sales` with `--members` for `acme`): its
/// groups are the department kind, nothing of it is sent again, and the office kind is added
/// beside it.
#[test]
fn a_state_file_from_before_kinds_keeps_working() {
    let w = Workdir::new();
    w.fixture("state-before-kinds.db");
    std::fs::rename(w.path("state-before-kinds.db"), w.path("state.db")).unwrap();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let conn = rusqlite::Connection::open(w.path("state.db")).unwrap();
    for table in ["groups", "members", "org_users"] {
        conn.execute(
            &format!("UPDATE {table} SET api_base = ?1"),
            [url.trim_end_matches('/')],
        )
        .unwrap();
    }
    drop(conn);
    w.write(
        "hr.csv",
        "Work Email,Department,Location\nada@example.com,Platform,Berlin\nbob@example.com,Platform,London\ncy@example.com,Sales,London\n",
    );
    // The server holds what the state says.
    for (group, name, users) in [
        ("platform", "Platform", &["ada@example.com", "bob@example.com"][..]),
        ("sales", "Sales", &["cy@example.com"][..]),
    ] {
        fake.add_group("acme", group, name);
        for user in users {
            fake.add_org_user("acme", user, Default::default());
            assert!(fake.add_member("acme", group, user));
        }
    }
    let args = [
        "import",
        "--quiet",
        "--members",
        "--org",
        "acme",
        "--api-base",
        &url,
        "--rate",
        "500",
        "--state",
        "state.db",
        "--report",
        "r.csv",
        "--remove-departed",
        "--group-by",
        "department=Department",
        "--group-by",
        "office=Location",
        "hr.csv",
    ];
    let run = w.run_env(&args, &CREDS);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut rows = report_rows(&w, "r.csv");
    rows.sort();
    let rows: Vec<(&str, &str, &str)> = rows.iter().map(|r| (&*r.0, &*r.1, &*r.2)).collect();
    assert_eq!(
        rows,
        [
            ("office-berlin", "office", "added"),
            ("office-london", "office", "added"),
            ("platform", "department", "unchanged"),
            ("sales", "department", "unchanged"),
        ]
    );
    let members = w.read("r-members.csv");
    assert!(!members.contains(",remove,"), "nothing removed: {members}");
    assert_eq!(
        fake.members_of("acme", "office-london"),
        ["bob@example.com", "cy@example.com"]
    );
    let conn = rusqlite::Connection::open(w.path("state.db")).unwrap();
    let kinds: Vec<(String, String)> = conn
        .prepare("SELECT group_id, kind FROM groups ORDER BY 1")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        kinds,
        [
            ("office-berlin".to_owned(), "office".to_owned()),
            ("office-london".to_owned(), "office".to_owned()),
            ("platform".to_owned(), "department".to_owned()),
            ("sales".to_owned(), "department".to_owned()),
        ]
    );
    // Run again: every group unchanged, the office groups stay office ones.
    let run = w.run_env(&args, &CREDS);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(report_rows(&w, "r.csv").iter().all(|r| r.2 == "unchanged"));
}

/// `verify` reads the groups of every kind: a member taken out of an office group on the
/// server is named, and `--repair` puts them back.
#[test]
fn verify_and_repair_see_every_kind() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    w.write(
        "hr.csv",
        "Email,Department,Location\na@x.example,Ops,Berlin\nb@x.example,Ops,London\n",
    );
    let base = [
        "--members",
        "--org",
        "acme",
        "--api-base",
        &url,
        "--rate",
        "500",
        "--group-by",
        "department=Department",
        "--group-by",
        "office=Location",
    ];
    let mut import = vec!["import", "--quiet", "--report", "r.csv", "--state", "state.db"];
    import.extend(base);
    import.push("hr.csv");
    assert_eq!(w.run_env(&import, &CREDS).code, 0);
    assert!(fake.remove_member("acme", "office-london", "b@x.example"));
    let mut verify = vec!["verify"];
    verify.extend(base);
    verify.push("hr.csv");
    let run = w.run_env(&verify, &CREDS);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("group 'office-london'") && run.stdout.contains("b@x.example"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("group 'ops'"), "{}", run.stdout);
    import.insert(import.len() - 1, "--repair");
    let run = w.run_env(&import, &CREDS);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.members_of("acme", "office-london"), ["b@x.example"]);
}

/// The web page: "also group by" a column makes that kind's groups, shown with their kind, and
/// its import sends them.
#[test]
fn the_page_also_groups_by_a_column() {
    use reqwest::Method;
    use serde_json::json;
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let ui = crate::ui::Ui::start(&w, &["--api-base", &fake.url()], &CREDS);
    let csv = b"Email,Department,Location\na@x.example,Ops,Berlin\nb@x.example,Ops,London\n".to_vec();
    let (status, _) = ui.api(Method::PUT, "/api/files?name=hr.csv", Some(csv), None);
    assert_eq!(status, 200);
    let choices = json!({"org": "acme", "also_group_by": [{"kind": "location", "column": "Location"}]});
    let (_, view) = ui.api(Method::POST, "/api/check", None, Some(choices.clone()));
    assert_eq!(view["errors"], json!([]), "{view}");
    let groups: Vec<(String, String)> = view["organizations"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group_id"].as_str().unwrap().to_owned(),
                g["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("location-berlin", "location"),
        ("location-london", "location"),
        ("ops", "department"),
    ];
    assert_eq!(groups, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
    let (status, started) = ui.api(Method::POST, "/api/import", None, Some(json!({"choices": choices})));
    assert_eq!((status, &started["outcome"]), (200, &json!("started")), "{started}");
    let done = ui.wait_done();
    assert_eq!(
        done["finished"]["summary"]["organizations"]["acme"]["added"], 3,
        "{done}"
    );
    assert_eq!(
        fake.groups_of("acme").keys().cloned().collect::<Vec<_>>(),
        ["location-berlin", "location-london", "ops"]
    );
}

/// An error cell in a kind's column is no value of it: a warning naming the column, and the
/// row's other groups go ahead.
#[test]
fn an_error_cell_of_a_kind_is_a_warning_and_no_group() {
    let w = Workdir::new();
    let header = ["Email", "Department", "Location"].map(X::S).to_vec();
    let rows = vec![
        header,
        vec![X::S("a@x.example"), X::S("Ops"), X::F("=#REF!", "#REF!")],
        vec![X::S("b@x.example"), X::S("Ops"), X::S("Berlin")],
    ];
    w.xlsx("hr.xlsx", &[("Staff", rows)]);
    let (run, json) = w.check_json(&[
        "--org",
        "acme",
        "--group-by",
        "department=Department",
        "--group-by",
        "office=Location",
        "hr.xlsx",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Vec<&str> = json["organizations"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["office-berlin", "ops"]);
    let problem = &json["problems"][0];
    assert_eq!(problem["severity"], "warning", "{problem}");
    assert_eq!(problem["column"], "Location", "{problem}");
    assert_eq!(problem["row"], 2, "{problem}");
    assert!(
        problem["message"].as_str().unwrap().contains("spreadsheet error #REF!"),
        "{problem}"
    );
}
