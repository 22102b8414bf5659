use std::collections::BTreeMap;

use calamine::{Data, Reader};
use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Run, Workdir, CREDS};

/// Departments with a formula-like name, an accent, a conflict (under --strict-names) and a
/// group the server rejects.
const HR: &str = "Department\nSales\nRecherche & Développement\n=SUM(A1)\n@Ops\nR&D\nR-D\nRejected\n";

fn import(w: &Workdir, fake: &FakeVelt, extra: &[&str]) -> Run {
    let url = fake.url();
    let mut args = vec![
        "import",
        "--quiet",
        "--org",
        "acme",
        "--api-base",
        &url,
        "--rate",
        "500",
        "--backoff-min-ms",
        "10",
        "--strict-names",
    ];
    args.extend_from_slice(extra);
    w.run_env(&args, &CREDS)
}

fn rejecting() -> FakeVelt {
    FakeVelt::start(FakeConfig {
        reject_groups: ["rejected".to_owned()].into(),
        ..FakeConfig::default()
    })
}

/// The expected report rows: (group_id, group_name as written, status, attempts, error).
fn expected() -> Vec<[&'static str; 5]> {
    vec![
        ["ops", "'@Ops", "added", "1", ""],
        [
            "r-d",
            "R&D",
            "invalid",
            "0",
            "conflict: group ID 'r-d' is claimed by 'R&D' and 'R-D'",
        ],
        [
            "r-d",
            "R-D",
            "invalid",
            "0",
            "conflict: group ID 'r-d' is claimed by 'R&D' and 'R-D'",
        ],
        ["recherche-developpement", "Recherche & Développement", "added", "1", ""],
        [
            "rejected",
            "Rejected",
            "failed",
            "1",
            "refused by the server: Group rejected by the fake.",
        ],
        ["sales", "Sales", "added", "1", ""],
        ["sum-a1", "'=SUM(A1)", "added", "1", ""],
    ]
}

#[test]
fn csv_report_field_by_field_with_bom_and_neutralized_cells() {
    let w = Workdir::new();
    w.write("hr.csv", HR);
    let fake = rejecting();
    let run = import(&w, &fake, &["--allow-partial", "--report", "out.csv", "hr.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let bytes = std::fs::read(w.path("out.csv")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let mut rdr = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        vec![
            "organization_id",
            "group_id",
            "group_name",
            "status",
            "attempts",
            "error",
            "sources"
        ]
    );
    let rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let want = expected();
    assert_eq!(rows.len(), want.len());
    for (row, want) in rows.iter().zip(&want) {
        assert_eq!(row[0], "acme");
        assert_eq!(
            [&row[1], &row[2], &row[3], &row[4], &row[5]],
            want.map(String::from).each_ref(),
            "{row:?}"
        );
    }
    assert_eq!(rows[6][6], "hr.csv row 4");
    // The server got the real names, not the neutralized ones.
    assert_eq!(fake.groups()["acme"]["sum-a1"], "=SUM(A1)");
}

#[test]
fn json_report_and_summary_json() {
    let w = Workdir::new();
    w.write("hr.csv", HR);
    let fake = rejecting();
    let run = import(
        &w,
        &fake,
        &[
            "--allow-partial",
            "--report",
            "out.json",
            "--summary-json",
            "summary.json",
            "hr.csv",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&w.read("out.json")).unwrap();
    let groups = doc["groups"].as_array().unwrap();
    for (g, want) in groups.iter().zip(expected()) {
        let name = want[1].trim_start_matches('\'');
        assert_eq!(g["group_id"], want[0]);
        assert_eq!(
            g["group_name"], name,
            "JSON is not a spreadsheet: names stay as they are"
        );
        assert_eq!(g["status"], want[2]);
        assert_eq!(g["attempts"].to_string(), want[3]);
        assert_eq!(g["error"], want[4]);
    }
    assert_eq!(
        groups[0]["sources"],
        serde_json::json!([{"file": "hr.csv", "sheet": null, "row": 5}])
    );
    let summary: serde_json::Value = serde_json::from_str(&w.read("summary.json")).unwrap();
    assert_eq!(summary, doc["summary"]);
    assert_eq!(
        summary["organizations"]["acme"],
        serde_json::json!({"added": 4, "failed": 1, "invalid": 2})
    );
    assert_eq!(summary["requests"], 1);
    assert_eq!(summary["retries"], 0);
    assert_eq!(summary["report"], "out.json");
    assert!(summary["elapsed_seconds"].as_f64().unwrap() > 0.0);
}

#[test]
fn xlsx_report_read_back_with_calamine() {
    let w = Workdir::new();
    w.write("hr.csv", HR);
    let fake = rejecting();
    let run = import(&w, &fake, &["--allow-partial", "--report", "out.xlsx", "hr.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(w.path("out.xlsx")).unwrap();
    let range = book.worksheet_range("Results").unwrap();
    let grid: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    let s = |t: &str| Data::String(t.to_owned());
    assert_eq!(
        grid[0],
        [
            "organization_id",
            "group_id",
            "group_name",
            "status",
            "attempts",
            "error",
            "sources"
        ]
        .map(s)
    );
    for (row, want) in grid[1..].iter().zip(expected()) {
        let name = want[1].trim_start_matches('\'');
        assert_eq!(row[1], s(want[0]));
        // Written as a string cell: Excel shows "=SUM(A1)" and does not run it.
        assert_eq!(row[2], s(name));
        assert_eq!(row[3], s(want[2]));
        assert_eq!(row[4], Data::Float(want[3].parse().unwrap()));
        assert_eq!(row[5], if want[4].is_empty() { Data::Empty } else { s(want[4]) });
    }
    // No formulas anywhere in the workbook.
    let formulas = book.worksheet_formula("Results").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
}

#[test]
fn a_report_fed_back_resends_exactly_its_groups() {
    let w = Workdir::new();
    w.write("hr.csv", HR);
    let fake = rejecting();
    let first = import(&w, &fake, &["--allow-partial", "--report", "first.csv", "hr.csv"]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    // The whole report as input: invalid rows are skipped, the rest go again under the same IDs.
    let fresh = FakeVelt::start(FakeConfig::default());
    let again = import(&w, &fresh, &["--report", "second.csv", "first.csv"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("a results report; 2 invalid or stale rows in it were skipped"),
        "{}",
        again.stderr
    );
    let want: BTreeMap<String, String> = [
        ("ops", "@Ops"),
        ("recherche-developpement", "Recherche & Développement"),
        ("rejected", "Rejected"),
        ("sales", "Sales"),
        ("sum-a1", "=SUM(A1)"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(fresh.groups()["acme"], want);
    // A filtered copy with only the failed row sends only that group.
    let report = w.read("first.csv");
    let failed: String = report
        .lines()
        .filter(|l| l.starts_with('\u{FEFF}') || l.contains(",failed,"))
        .map(|l| format!("{l}\n"))
        .collect();
    w.write("failed.csv", failed);
    let only = FakeVelt::start(FakeConfig::default());
    let retry = import(&w, &only, &["--report", "third.csv", "failed.csv"]);
    assert_eq!(retry.code, 0, "{}", retry.stderr);
    assert_eq!(only.requests(), 1);
    assert_eq!(
        only.groups()["acme"],
        BTreeMap::from([("rejected".to_owned(), "Rejected".to_owned())])
    );
}

#[test]
fn check_and_import_reports_agree_on_csv_injection() {
    let w = Workdir::new();
    w.write("evil.csv", "Department\n\"\tTabbed\"\n+Plus\n-Minus\n");
    let fake = FakeVelt::start(FakeConfig::default());
    let run = import(&w, &fake, &["--report", "out.csv", "evil.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = w.read("out.csv");
    for cell in ["'+Plus", "'-Minus"] {
        assert!(text.contains(&format!(",{cell},")), "{cell} not neutralized in {text}");
    }
    // A leading tab is white space to the cleaner, so the name is just "Tabbed".
    assert!(text.contains(",tabbed,Tabbed,"), "{text}");
}

#[test]
fn xlsx_report_has_a_frozen_bold_header_an_autofilter_and_highlights() {
    let w = Workdir::new();
    w.write("hr.csv", HR);
    let fake = rejecting();
    let run = import(&w, &fake, &["--allow-partial", "--report", "out.xlsx", "hr.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(w.path("out.xlsx")).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let sheet = read("xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<autoFilter ref="A1:G8"/>"#), "{sheet}");
    assert!(sheet.contains(r#"state="frozen""#), "{sheet}");
    assert!(sheet.contains("<cols>"), "column widths are set");
    let styles = read("xl/styles.xml");
    assert!(styles.contains("<b/>"), "a bold font for the header");
    assert!(styles.contains(r#"rgb="FFFFC7CE""#), "the failed-row fill");
    assert!(styles.contains(r#"rgb="FFFFEB9C""#), "the invalid-row fill");
}

#[test]
fn without_report_a_timestamped_csv_is_written_here() {
    let w = Workdir::new();
    w.write("hr.csv", "Department\nSales\n");
    let run = w.run(&["import", "--dry-run", "--org", "acme", "hr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run
        .err_lines()
        .into_iter()
        .find(|l| l.starts_with("report: "))
        .unwrap()
        .to_owned();
    let name = line.trim_start_matches("report: ");
    assert!(
        name.starts_with("velt-groups-report-") && name.ends_with("Z.csv"),
        "{name}"
    );
    assert!(w.read(name).contains("acme,sales,Sales,planned,0,,hr.csv row 2"));
}
