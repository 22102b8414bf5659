use super::*;

fn record(command: &'static str, exit: Exit) -> Record {
    Record {
        run_id: "0123456789abcdef".into(),
        command,
        version: "0.1.0",
        host: Some("batch-01".into()),
        started: "2026-12-04T02:30:00Z".parse().unwrap(),
        finished: "2026-12-04T02:31:00Z".parse().unwrap(),
        elapsed_seconds: 60.0,
        exit_code: exit as u8,
        outcome: "success",
        error: None,
        shared_error: None,
        rows_held_back: Some(0),
        people_left_out: None,
        summary: None,
        failed_groups: Vec::new(),
        more_failed: 0,
        differences: None,
    }
}

#[test]
fn problems_are_failures_stops_rows_held_back_and_drift() {
    assert!(!record("import", Exit::Success).has_problems());
    assert!(record("import", Exit::Incomplete).has_problems());
    let mut held = record("import", Exit::Success);
    held.rows_held_back = Some(3);
    assert!(held.has_problems(), "--allow-partial left rows out: worth a word");
    let mut stopped = record("import", Exit::Success);
    stopped.summary = Some(Summary {
        stopped: Some("interrupted".into()),
        ..Summary::default()
    });
    assert!(stopped.has_problems());
    let mut clean = record("verify", Exit::Success);
    clean.differences = Some([("acme".to_owned(), [("missing", 0)].into())].into());
    assert!(!clean.has_problems());
}

#[test]
fn the_paragraph_names_drift_per_organization_and_kind() {
    let mut r = record("verify", Exit::Incomplete);
    r.outcome = "drift";
    r.differences = Some(
        [
            ("acme".to_owned(), [("missing", 2), ("extra", 1), ("name", 0)].into()),
            ("globex".to_owned(), [("missing", 0)].into()),
        ]
        .into(),
    );
    let text = notify::paragraph(&r);
    assert_eq!(
        text,
        "velt-groups verify on batch-01 found drift (exit 1). 3 differences (acme: 1 extra, 2 missing). Run 0123456789abcdef."
    );
    let body = notify::body(&r);
    assert_eq!(body["text"], text);
    assert_eq!(body["velt_groups"]["started"], "2026-12-04T02:30:00.000Z");
    assert_eq!(body["velt_groups"]["differences"]["acme"]["missing"], 2);
}

#[test]
fn more_failed_groups_than_named_are_counted() {
    let mut r = record("import", Exit::Incomplete);
    r.outcome = "incomplete";
    r.failed_groups = vec!["Sales (acme)".into()];
    r.more_failed = 4;
    let text = notify::paragraph(&r);
    assert!(text.contains("Not added: Sales (acme) and 4 more."), "{text}");
}
