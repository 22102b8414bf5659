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
