//! The page's runs in headless Chromium, as an ops person meets them: a run that fails
//! entirely says so; the Stop button stops as Ctrl-C does and the next run resumes; a reload
//! mid-run finds the run; "Retry the failed ones" sends only those; a new file clears the last
//! result; a 375 px phone never scrolls sideways.

use std::path::Path;
use std::time::Duration;

use fake_velt::{FakeConfig, FakeVelt};

use crate::ui::Ui;
use crate::ui_browser::{downloaded, Browser};
use crate::workdir::{Workdir, CREDS};

/// A department list of `n` departments.
fn departments(n: usize) -> String {
    std::iter::once("Department".to_owned())
        .chain((0..n).map(|i| format!("Dept {i:02}")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Opens the page, picks `file`, types `org`.
fn pick(browser: &Browser, ui: &Ui, file: &Path, org: &str) {
    browser.run(browser.client().goto(&ui.url)).unwrap();
    browser.text_until("#target", |t| t.starts_with("Writes to"));
    browser.send_keys("#files", file.to_str().unwrap());
    browser.text_until("#summary", |t| t.contains("group"));
    browser.send_keys("input[name=org]", org);
    // The check of the organization re-lays the page out: a click must not land mid-move.
    browser.text_until("#summary", |t| t.contains("to send"));
}

/// Presses Import and agrees to the sentence; the sentence.
fn import(browser: &Browser, button: &str) -> String {
    browser.click(button);
    let sentence = browser.text_until("#confirm-sentence", |t| !t.is_empty());
    browser.click("#confirm-ok");
    sentence
}

/// The number before `word` in `text` ("260 added" -> 260).
fn number_before(text: &str, word: &str) -> usize {
    let at = text.find(word).unwrap_or_else(|| panic!("no '{word}' in {text:?}"));
    text[..at].trim_end().rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn a_run_that_fails_entirely_says_so() {
    let w = Workdir::new();
    let Some(browser) = Browser::start(&w.path(".")) else {
        return;
    };
    let fake = FakeVelt::start(FakeConfig {
        always: Some(500),
        ..FakeConfig::default()
    });
    let args = [
        "--api-base",
        &fake.url(),
        "--max-retries",
        "1",
        "--backoff-min-ms",
        "1",
        "--backoff-max-ms",
        "2",
    ];
    let ui = Ui::start(&w, &args, &CREDS);
    let hr = w.write("hr.csv", departments(5));
    pick(&browser, &ui, &hr, "acme");
    assert_eq!(import(&browser, "#import"), "Create 5 groups in organization acme?");
    let heading = browser.text_until("#progress-heading", |t| t == "Failed");
    assert_eq!(heading, "Failed");
    let counts = browser.text_until("#counts", |t| !t.is_empty());
    assert_eq!(counts, "Groups: 5 failed (5 groups in all)");
    assert_eq!(
        browser.execute("return document.getElementById('progress').className;"),
        "outcome-failed"
    );
    // Each failed row says why, in the server's words, and not "not attempted".
    let table = browser.text_until("#group-tables", |t| t.contains("failed"));
    assert!(
        table.contains(
            "The server failed on every try (it may be down or overloaded); retry later. It said: INTERNAL (HTTP 500)"
        ),
        "{table}"
    );
    assert!(!table.contains("not attempted"), "{table}");
    assert!(!table.contains("added"), "{table}");
    browser.text_until("#retry", |t| t == "Retry the failed ones");
    browser.screenshot("failed");
}

#[test]
fn the_stop_button_stops_like_ctrl_c_and_the_next_run_resumes() {
    let w = Workdir::new();
    std::fs::create_dir(w.path("downloads")).unwrap();
    let Some(browser) = Browser::start(&w.path("downloads")) else {
        return;
    };
    let fake = FakeVelt::start(FakeConfig {
        latency: Duration::from_millis(300),
        ..FakeConfig::default()
    });
    let args = [
        "--api-base",
        &fake.url(),
        "--state",
        "s.db",
        "--chunk-size",
        "1",
        "--concurrency",
        "1",
        "--rate",
        "1000",
    ];
    let ui = Ui::start(&w, &args, &CREDS);
    let hr = w.write("hr.csv", departments(20));
    pick(&browser, &ui, &hr, "acme");
    import(&browser, "#import");
    browser.until("two answers", "return document.getElementById('bar').value >= 2;");
    browser.click("#stop");
    let heading = browser.text_until("#progress-heading", |t| t == "Stopped");
    assert_eq!(heading, "Stopped");
    let counts = browser.text_until("#counts", |t| !t.is_empty());
    let added = number_before(&counts, "added");
    assert!((2..20).contains(&added), "{counts}");
    assert!(counts.contains("not attempted"), "{counts}");
    assert!(counts.ends_with("(20 groups in all)"), "{counts}");
    browser.screenshot("stopped");

    // The report is written and downloads.
    browser.click("#report-csv");
    let report = std::fs::read_to_string(downloaded(&w.path("downloads"), "csv")).unwrap();
    assert!(report.contains("not attempted: interrupted"), "{report}");

    // The next run sends only the rest.
    let sentence = import(&browser, "#import");
    assert_eq!(sentence, format!("Create {} groups in organization acme?", 20 - added));
    browser.text_until("#progress-heading", |t| t == "Imported");
    assert_eq!(fake.groups_of("acme").len(), 20);
    // With the state, a third press would send nothing: Import says so and stays off.
    browser.text_until("#send-note", |t| t == "Nothing to send: everything is already there.");
    browser.until("Import off", "return document.getElementById('import').disabled;");
}

#[test]
fn a_reload_mid_run_shows_the_run_then_its_outcome() {
    let w = Workdir::new();
    let Some(browser) = Browser::start(&w.path(".")) else {
        return;
    };
    let fake = FakeVelt::start(FakeConfig {
        latency: Duration::from_millis(250),
        ..FakeConfig::default()
    });
    let args = [
        "--api-base",
        &fake.url(),
        "--chunk-size",
        "1",
        "--concurrency",
        "1",
        "--rate",
        "1000",
    ];
    let ui = Ui::start(&w, &args, &CREDS);
    let hr = w.write("hr.csv", departments(16));
    pick(&browser, &ui, &hr, "acme");
    import(&browser, "#import");
    browser.until("an answer", "return document.getElementById('bar').value >= 1;");
    browser.run(browser.client().refresh()).unwrap();
    // The reloaded page finds the run under way: its progress, and the Stop button.
    let stats = browser.text_until("#stats", |t| t.starts_with("groups: "));
    assert!(stats.contains(" of 16 answered"), "{stats}");
    assert_eq!(browser.text_until("#progress-heading", |t| !t.is_empty()), "Sending");
    browser.until("the Stop button", "return !document.getElementById('stop').hidden;");
    // Then its outcome, with the report and the choices it ran with.
    browser.text_until("#progress-heading", |t| t == "Imported");
    assert_eq!(
        browser.text_until("#counts", |t| !t.is_empty()),
        "Groups: 16 added (16 groups in all)"
    );
    browser.text_until("#downloads", |t| t.contains("Download the report (CSV)"));
    assert_eq!(browser.execute("return document.getElementById('org').value;"), "acme");
    assert_eq!(fake.groups_of("acme").len(), 16);
}

#[test]
fn retry_sends_the_failed_ones_a_new_file_clears_the_result_and_a_phone_never_scrolls_sideways() {
    let w = Workdir::new();
    let Some(browser) = Browser::start(&w.path(".")) else {
        return;
    };
    browser.viewport(375, 800);
    let fake = FakeVelt::start(FakeConfig {
        reject_groups: ["legal".to_owned()].into(),
        ..FakeConfig::default()
    });
    let ui = Ui::start(&w, &["--api-base", &fake.url()], &CREDS);
    let no_sideways = "return document.documentElement.scrollWidth <= window.innerWidth;";
    let hr = w.write("hr.csv", "Department\nSales\nLegal\nFinance\n");
    pick(&browser, &ui, &hr, "acme");
    let wide = browser.execute(
        "return [window.innerWidth, document.documentElement.scrollWidth, Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth).map(e => e.tagName + '#' + e.id + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right)).slice(0, 12)];",
    );
    assert_eq!(
        browser.execute(no_sideways),
        true,
        "the page scrolls sideways at 375 px: {wide}"
    );
    assert_eq!(import(&browser, "#import"), "Create 3 groups in organization acme?");
    browser.text_until("#progress-heading", |t| t == "Imported with failures");
    assert_eq!(
        browser.text_until("#counts", |t| !t.is_empty()),
        "Groups: 2 added · 1 failed (3 groups in all)"
    );
    // Failures first; the filter shows only them.
    assert_eq!(
        browser.execute("return document.querySelector('#group-tables tbody tr').className;"),
        "status-failed"
    );
    browser.execute("const f = document.getElementById('filter'); f.value = 'failed'; f.dispatchEvent(new Event('change')); return null;");
    assert_eq!(
        browser.execute("return document.querySelectorAll('#group-tables tbody tr').length;"),
        1
    );
    assert_eq!(
        browser.execute(no_sideways),
        true,
        "the outcome scrolls sideways at 375 px"
    );
    browser.screenshot("phone");

    // The server accepts it now: Retry sends that one group and nothing else.
    fake.configure(|c| c.reject_groups.clear());
    let before = fake.log().len();
    assert_eq!(import(&browser, "#retry"), "Create 1 group in organization acme?");
    browser.text_until("#progress-heading", |t| t == "Imported");
    let sent: Vec<Vec<String>> = fake.log()[before..].iter().map(|l| l.groups.clone()).collect();
    assert_eq!(sent, vec![vec!["legal".to_owned()]]);
    assert_eq!(
        browser.text_until("#counts", |t| !t.is_empty()),
        "Groups: 1 added · 2 already there (3 groups in all)"
    );

    // Another file: the last result goes, every badge with it.
    let other = w.write("other.csv", "Department\nSupport\n");
    browser.send_keys("#files", other.to_str().unwrap());
    browser.until(
        "the result to clear",
        "return document.getElementById('progress').hidden \
         && document.getElementById('group-tables').textContent.includes('Support') \
         && !document.querySelector('#group-tables .status-added, #group-tables .status-failed');",
    );
    assert_eq!(browser.text_until("#counts", |_| true), "");
}
