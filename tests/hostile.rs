//! A server (or a proxy before it) that misbehaves against the client: redirects elsewhere,
//! quotes our secrets back, sends terminal escapes and forged lines, or an endless answer.

use fake_velt::{FakeConfig, FakeVelt, API_KEY, AUTH_TOKEN};

use crate::workdir::{Run, Workdir, CREDS};

fn import(w: &Workdir, fake: &FakeVelt, extra: &[&str]) -> Run {
    w.write("hr.csv", "Organization ID,Department\nacme,Sales\nacme,Ops\n");
    let url = fake.url();
    let mut args = vec![
        "import",
        "--quiet",
        "--api-base",
        &url,
        "--backoff-min-ms",
        "10",
        "--backoff-max-ms",
        "50",
        "--report",
        "report.csv",
        "--summary-json",
        "summary.json",
    ];
    args.extend_from_slice(extra);
    args.push("hr.csv");
    w.run_env(&args, &CREDS)
}

#[test]
fn a_redirect_is_not_followed_and_the_secrets_stay_home() {
    let w = Workdir::new();
    let elsewhere = FakeVelt::start(FakeConfig::default());
    let fake = FakeVelt::start(FakeConfig {
        redirect_to: Some(format!("{}/v2/organizations/usergroups/add", elsewhere.url())),
        ..FakeConfig::default()
    });
    let run = import(&w, &fake, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(elsewhere.requests(), 0, "nothing went to the other origin");
    assert!(!elsewhere.with_state(|s| s.headers_seen.contains(API_KEY)));
    assert!(elsewhere.groups().is_empty());
    assert_eq!(fake.requests(), 1, "a redirect is not retried");
    let report = w.read("report.csv");
    assert!(
        report.contains(&format!("redirects to {}", elsewhere.url())),
        "{report}"
    );
    assert!(!report.contains(",added,"), "{report}");
}

#[test]
fn secrets_quoted_by_the_server_are_scrubbed_everywhere() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig {
        always: Some(401),
        always_message: Some(format!("bad key {API_KEY} / {AUTH_TOKEN}")),
        echo_headers: true,
        ..FakeConfig::default()
    });
    let run = import(&w, &fake, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("bad key [redacted]"), "{}", run.stderr);
    for (what, text) in [
        ("stderr", run.stderr.clone()),
        ("report", w.read("report.csv")),
        ("summary", w.read("summary.json")),
    ] {
        assert!(
            !text.contains(API_KEY) && !text.contains(AUTH_TOKEN),
            "{what} leaks: {text}"
        );
        assert!(
            !text.to_ascii_lowercase().contains("x-velt-"),
            "{what} quotes a header: {text}"
        );
    }
}

#[test]
fn escapes_and_forged_lines_are_shown_escaped_and_long_messages_cut() {
    let w = Workdir::new();
    let message = format!(
        "\u{1b}[31mred\u{1b}]0;pwned\u{7}\r\nerror: forged line {}",
        "x".repeat(5_000)
    );
    let fake = FakeVelt::start(FakeConfig {
        always: Some(401),
        always_message: Some(message),
        ..FakeConfig::default()
    });
    let run = import(&w, &fake, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{7}'),
        "{:?}",
        run.stderr
    );
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("error: forged")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(r"\u{1b}[31mred"), "{}", run.stderr);
    let report = w.read("report.csv");
    assert!(!report.contains('\u{1b}'));
    assert!(report.contains("… (cut: "), "{report}");
    assert!(report.lines().all(|l| l.chars().count() < 1_500), "a message is capped");
}

#[test]
fn an_endless_answer_is_not_read_whole() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig {
        huge_body: Some(9 * 1024 * 1024),
        ..FakeConfig::default()
    });
    let run = import(&w, &fake, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(fake.requests(), 1, "too large is not retried");
    let report = w.read("report.csv");
    assert!(report.contains("the answer is larger than 8 MB"), "{report}");
}
