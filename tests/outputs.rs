//! Output paths: never over an input, checked before anything is sent, and a report that
//! cannot be written after sending still leaves a record of what was sent.

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Run, Workdir, CREDS};

const HR: &str = "Organization ID,Department\nacme,Sales\nacme,Ops\n";

fn import(w: &Workdir, fake: &FakeVelt, extra: &[&str]) -> Run {
    let url = fake.url();
    let mut args = vec!["import", "--quiet", "--api-base", &url, "--backoff-min-ms", "10"];
    args.extend_from_slice(extra);
    w.run_env(&args, &CREDS)
}

#[test]
fn an_output_naming_an_input_is_refused_before_anything_is_read() {
    let w = Workdir::new();
    w.write("hr.csv", HR);
    std::fs::hard_link(w.path("hr.csv"), w.path("hard.csv")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(w.path("hr.csv"), w.path("link.json")).unwrap();
    let fake = FakeVelt::start(FakeConfig::default());
    let mut cases = vec![
        vec!["--dry-run", "--report", "hr.csv", "hr.csv"],
        vec!["--report", "hard.csv", "hr.csv"],
        vec!["--report", "r.csv", "--summary-json", "hr.csv", "hr.csv"],
        vec!["--report", "r.csv", "--state", "hard.csv", "hr.csv"],
    ];
    #[cfg(unix)]
    cases.push(vec!["--dry-run", "--report", "link.json", "hr.csv"]);
    for args in cases {
        let run = import(&w, &fake, &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("is the input"), "{args:?}: {}", run.stderr);
        assert_eq!(w.read("hr.csv"), HR, "{args:?} left the input as it was");
    }
    assert_eq!(fake.requests(), 0);
}

#[test]
fn an_unwritable_summary_is_found_before_sending() {
    let w = Workdir::new();
    w.write("hr.csv", HR);
    let fake = FakeVelt::start(FakeConfig::default());
    let run = import(
        &w,
        &fake,
        &[
            "--report",
            "r.csv",
            "--summary-json",
            "missing/dir/summary.json",
            "hr.csv",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot write the summary"), "{}", run.stderr);
    assert_eq!(fake.requests(), 0, "nothing was sent");
}

#[test]
fn a_cell_longer_than_excel_holds_is_cut_not_fatal() {
    let w = Workdir::new();
    // One department on every other row: its sources list no range can shorten.
    let mut text = String::from("Organization ID,Department\n");
    for i in 0..12_000 {
        text.push_str(if i % 2 == 0 { "acme,Sales\n" } else { "acme,Ops\n" });
    }
    w.write("hr.csv", text);
    let fake = FakeVelt::start(FakeConfig::default());
    let run = import(&w, &fake, &["--report", "r.xlsx", "hr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto(w.path("r.xlsx")).unwrap();
    let sheet = book.worksheet_range("Results").unwrap();
    let sources: Vec<String> = sheet
        .rows()
        .skip(1)
        .map(|r| match &r[6] {
            Data::String(s) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sources.len(), 2);
    for s in sources {
        assert!(
            s.ends_with(" characters)") && s.contains("… (cut: "),
            "{}",
            &s[s.len() - 60..]
        );
        assert!(s.chars().count() <= 32_767);
    }
}

#[test]
fn a_report_that_fails_after_sending_falls_back_to_csv_beside_it() {
    let w = Workdir::new();
    w.write(
        "hr.csv",
        "Organization ID,Department,User ID\nacme,Sales,u1\nacme,Ops,u2\n",
    );
    // The members part of a CSV report goes to r-members.csv: a folder there fails the
    // report only once everything was sent.
    std::fs::create_dir(w.path("r-members.csv")).unwrap();
    let fake = FakeVelt::start(FakeConfig::default());
    let run = import(
        &w,
        &fake,
        &["--members", "--report", "r.csv", "--summary-json", "s.json", "hr.csv"],
    );
    assert_eq!(run.code, 0, "the groups went: {}", run.stderr);
    assert!(
        run.stderr.contains("error: cannot write the report to r-members.csv"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("written as CSV to r.fallback.csv instead"),
        "{}",
        run.stderr
    );
    let fallback = w.read("r.fallback.csv");
    assert!(fallback.contains("acme,sales,Sales,added"), "{fallback}");
    assert!(w.read("r.fallback-members.csv").contains("u1"));
    assert!(w.read("s.json").contains("r.fallback.csv"));
    assert_eq!(fake.members_of("acme", "sales"), ["u1"]);
}
