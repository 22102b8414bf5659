use super::*;

#[test]
fn records_and_reads_back_per_api_base_and_org() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let a = State::open(&path, "https://api.velt.dev/", WholeCheck::WhenDue).unwrap();
    a.record("acme", &[("eng", "Engineering"), ("ops", "Ops")]).unwrap();
    a.record("acme", &[("ops", "Operations")]).unwrap();
    a.record("globex", &[("eng", "Eng")]).unwrap();
    drop(a);
    let a = State::open(&path, "https://api.velt.dev", WholeCheck::WhenDue).unwrap();
    let acme = a.confirmed("acme").unwrap();
    assert_eq!(acme.len(), 2);
    assert_eq!(acme["ops"], "Operations");
    drop(a);
    let other = State::open(&path, "http://127.0.0.1:9", WholeCheck::WhenDue).unwrap();
    assert!(other.confirmed("acme").unwrap().is_empty());
}

#[test]
fn a_file_that_is_not_a_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let text = b"this is not SQLite, it is a text file with enough bytes to look like a header";
    std::fs::write(&path, text).unwrap();
    let err = State::open(&path, "https://api.velt.dev", WholeCheck::WhenDue)
        .err()
        .unwrap();
    assert!(err.to_string().contains("not a usable velt-groups state file"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), text, "the file is left as it was");
}

#[test]
fn another_applications_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);",
    )
    .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    let err = State::open(&path, "https://api.velt.dev", WholeCheck::WhenDue)
        .err()
        .unwrap();
    assert!(matches!(err, StateError::Foreign { .. }), "{err}");
    assert!(
        err.to_string().contains("another application (tables: invoices)"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "byte for byte");
    assert!(!dir.path().join("app.db-wal").exists());
}

#[test]
fn a_second_open_of_one_state_is_refused_while_the_first_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let first = State::open(&path, "https://api.velt.dev", WholeCheck::WhenDue).unwrap();
    let err = State::open(&path, "https://api.velt.dev", WholeCheck::WhenDue)
        .err()
        .unwrap();
    assert!(matches!(err, StateError::Busy { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("another velt-groups run is using this state file"));
    drop(first);
    State::open(&path, "https://api.velt.dev", WholeCheck::WhenDue).unwrap();
}

#[test]
fn damage_in_pages_the_run_would_not_read_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path, "https://api.velt.dev", WholeCheck::WhenDue).unwrap();
    let names: Vec<(String, String)> = (0..2_000).map(|i| (format!("g{i:05}"), "x".repeat(200))).collect();
    let refs: Vec<(&str, &str)> = names.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    state.record("acme", &refs).unwrap();
    state
        .conn
        .lock()
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;")
        .unwrap();
    drop(state);
    // Garbage over a page in the middle of the groups table's leaves.
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    let mid = (bytes.len() / page / 2) * page;
    bytes[mid..mid + page].fill(0xA5);
    std::fs::write(&path, &bytes).unwrap();
    let err = State::open(&path, "https://api.velt.dev", WholeCheck::WhenDue)
        .err()
        .unwrap();
    assert!(matches!(err, StateError::Unusable { .. }), "{err}");
    assert!(
        err.to_string().contains("damaged") || err.to_string().contains("malformed"),
        "{err}"
    );

    // Damage the schedule would not look for yet (as if the file rotted in place, its record
    // still matching): found when asked, and from then on the record no longer vouches for it.
    let canonical = canonical(&path);
    let record = LeftAs {
        stamp: stamp(&canonical).unwrap(),
        checked: now_secs(),
    };
    std::fs::write(lock_path(&canonical), record.text()).unwrap();
    assert!(record.still(&canonical));
    let err = State::open(&path, "https://api.velt.dev", WholeCheck::Now)
        .err()
        .unwrap();
    assert!(matches!(err, StateError::Unusable { .. }), "{err}");
    assert_eq!(LeftAs::read(&canonical), None, "the record is wiped");
    let err = State::open(&path, "https://api.velt.dev", WholeCheck::WhenDue)
        .err()
        .unwrap();
    assert!(matches!(err, StateError::Unusable { .. }), "{err}");
}

#[test]
fn read_only_advice_keeps_the_file() {
    let err = StateError::ReadOnly {
        path: "state.db".into(),
        detail: "attempt to write a readonly database".into(),
    };
    let text = err.to_string();
    assert!(text.contains("chmod u+w") && text.contains("keep the file"), "{text}");
    assert!(!text.contains("move it away"), "{text}");
}

/// Regression (issue 21): records kept under another spelling of the same server (written
/// before keys were normalized) are adopted, not ignored.
#[test]
fn records_under_another_spelling_of_the_base_are_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let s = State::open(&path, "http://127.0.0.1:9", WholeCheck::WhenDue).unwrap();
    s.record("acme", &[("eng", "Engineering")]).unwrap();
    s.record_members("acme", "eng", &["ada"], Membership::Added).unwrap();
    drop(s);
    // As an older version wrote them: the base as given.
    let conn = Connection::open(&path).unwrap();
    conn.execute("UPDATE groups SET api_base = 'http://localhost:9/'", [])
        .unwrap();
    conn.execute("UPDATE members SET api_base = 'http://localhost:9/'", [])
        .unwrap();
    let read = State::open_read_only(&path, "http://127.0.0.1:9/").unwrap();
    assert_eq!(read.confirmed("acme").unwrap().len(), 1, "read as it stands");
    assert_eq!(read.members("acme").unwrap()["eng"].len(), 1);
    drop(read);
    conn.execute("UPDATE members SET api_base = 'http://LOCALHOST:9'", [])
        .unwrap();
    drop(conn);
    let s = State::open(&path, "http://[::1]:9", WholeCheck::WhenDue).unwrap();
    assert_eq!(s.confirmed("acme").unwrap()["eng"], "Engineering");
    assert_eq!(s.members("acme").unwrap()["eng"].len(), 1);
    assert!(s.other_bases("acme").unwrap().is_empty());
    drop(s);
    let other = State::open(&path, "https://api.velt.dev", WholeCheck::WhenDue).unwrap();
    assert_eq!(
        other.other_bases("acme").unwrap(),
        vec!["http://127.0.0.1:9".to_owned()]
    );
    assert_eq!(base_key("HTTPS://API.Velt.dev:443/"), "https://api.velt.dev");
    assert_eq!(base_key("https://gw.example/velt/"), "https://gw.example/velt");
}

/// The whole-file check runs when the file is not as this tool left it, or a week after the
/// last one, or when asked: not on every night of a file nobody else touched.
#[test]
fn the_whole_file_is_checked_when_it_changed_or_a_week_passed_or_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let open = |check| State::open(&path, "https://api.velt.dev", check).unwrap();
    let first = open(WholeCheck::WhenDue);
    assert!(first.whole_checked(), "a new file is checked");
    first.record("acme", &[("eng", "Engineering")]).unwrap();
    drop(first);
    let canonical = canonical(&path);
    let left = LeftAs::read(&canonical).expect("the lock records how the file was left");
    assert!(left.still(&canonical));

    let again = open(WholeCheck::WhenDue);
    assert!(
        !again.whole_checked(),
        "left as it was and checked today: not checked again"
    );
    drop(again);
    assert!(!open(WholeCheck::WhenDue).whole_checked());
    assert!(open(WholeCheck::Now).whole_checked(), "asked for");

    // A week since the last check.
    let lock = lock_path(&canonical);
    let mut old = LeftAs::read(&canonical).unwrap();
    old.checked -= WHOLE_CHECK_EVERY;
    std::fs::write(&lock, old.text()).unwrap();
    let due = open(WholeCheck::WhenDue);
    assert!(due.whole_checked(), "a week old");
    drop(due);
    assert!(
        LeftAs::read(&canonical).unwrap().checked > old.checked,
        "the new check is recorded"
    );
    assert!(!open(WholeCheck::WhenDue).whole_checked());

    // Another program wrote the file (it was left with the same record).
    let conn = Connection::open(&path).unwrap();
    conn.execute("INSERT INTO meta (key, value) VALUES ('other', 'program')", [])
        .unwrap();
    drop(conn);
    assert!(!LeftAs::read(&canonical).unwrap().still(&canonical));
    assert!(open(WholeCheck::WhenDue).whole_checked(), "written by another program");

    // A lock without a record (an older release's, or removed), or a record that is not one.
    std::fs::write(&lock, "").unwrap();
    assert!(open(WholeCheck::WhenDue).whole_checked());
    std::fs::write(&lock, "left as: something\nwhole file checked at: soon\n").unwrap();
    assert!(open(WholeCheck::WhenDue).whole_checked());
    assert!(!open(WholeCheck::WhenDue).whole_checked(), "and recorded again");
}

#[test]
fn a_state_opened_to_read_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path, "https://api.velt.dev", WholeCheck::WhenDue).unwrap();
    state.record("acme", &[("eng", "Engineering")]).unwrap();
    drop(state);
    let lock = lock_path(&canonical(&path));
    let before = std::fs::read(&lock).unwrap();
    let read = State::open_read_only(&path, "https://api.velt.dev").unwrap();
    assert!(!read.whole_checked());
    drop(read);
    assert_eq!(std::fs::read(&lock).unwrap(), before);
}
