//! Inputs that are not plain files (FIFOs, standard input), the workbook reader child's
//! lifetime, and sparse sheets (issue #12, items 17-19).

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rust_xlsxwriter::Workbook;

use crate::workdir::{finished, g, groups, rows_of, Run, Workdir};

/// Waits for `child` with a watchdog, so a regression that hangs fails instead of blocking CI.
fn wait_bounded(mut child: Child, what: &str) -> Run {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish within a minute: the input was not read to its end once");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    finished(child.wait_with_output().unwrap())
}

#[test]
fn a_fifo_is_read_once() {
    let w = Workdir::new();
    let fifo = w.path("hr.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let child = w
        .command(&["check", "--format", "json", "--org", "acme", "hr.csv"], &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Opening a FIFO for writing waits for the reader, as a shell's `> fifo` does.
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        f.write_all(b"Department\nSales\nLegal\n").unwrap();
    });
    let run = wait_bounded(child, "check on a FIFO");
    writer.join().unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        groups(&json),
        vec![g("acme", "legal", "Legal"), g("acme", "sales", "Sales")]
    );
}

/// Runs `check --format json --org acme -` with `input` on standard input.
fn check_stdin(w: &Workdir, input: Vec<u8>) -> Run {
    let mut child = w
        .command(&["check", "--format", "json", "--org", "acme", "-"], &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        // A child that refuses the input may close its end early; that shows in its output.
        let _ = stdin.write_all(&input);
    });
    let run = wait_bounded(child, "check on standard input");
    feeder.join().unwrap();
    run
}

#[test]
fn a_dash_reads_csv_and_workbooks_from_standard_input() {
    let w = Workdir::new();
    let run = check_stdin(&w, b"Name;Department\nAda;Sales\nBob;Legal\n".to_vec());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        groups(&json),
        vec![g("acme", "legal", "Legal"), g("acme", "sales", "Sales")]
    );
    assert_eq!(
        json["organizations"][0]["groups"][0]["sources"][0]["file"],
        "standard input"
    );

    let xlsx = w.xlsx(
        "hr.xlsx",
        &[(
            "Staff",
            vec![
                vec![crate::workdir::X::S("Department")],
                vec![crate::workdir::X::S("Ops")],
            ],
        )],
    );
    let run = check_stdin(&w, std::fs::read(xlsx).unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(groups(&json), vec![g("acme", "ops", "Ops")]);
    assert_eq!(json["organizations"][0]["groups"][0]["sources"][0]["sheet"], "Staff");

    let run = check_stdin(&w, Vec::new());
    assert_eq!(run.code, 2);
    assert_eq!(run.err_lines(), vec!["error: standard input: the file is empty"]);
}

/// `(pid, parent pid, state)` of every process, from /proc.
fn processes() -> Vec<(u32, u32, char)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        out.push((pid, ppid, state));
    }
    out
}

fn state_of(pid: u32) -> Option<char> {
    processes().into_iter().find(|p| p.0 == pid).map(|p| p.2)
}

#[test]
#[cfg(target_os = "linux")]
fn the_workbook_reader_dies_with_its_parent() {
    let w = Workdir::new();
    // Big enough that the child is still reading when it is found.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "Department").unwrap();
    sheet.write_string(0, 1, "Note").unwrap();
    for r in 1..100_000u32 {
        sheet.write_number(r, 0, f64::from(r % 97)).unwrap();
        sheet.write_number(r, 1, f64::from(r)).unwrap();
    }
    book.save(w.path("big.xlsx")).unwrap();

    let mut parent = w
        .command(&["check", "--org", "acme", "big.xlsx"], &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let parent_pid = parent.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    let reader = loop {
        // Between fork and exec the child still carries the parent's command line: wait for
        // the reader's own.
        let is_reader = |pid: u32| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("__read-workbook"))
        };
        let found = processes()
            .into_iter()
            .find(|p| p.1 == parent_pid && is_reader(p.0))
            .map(|p| p.0);
        if let Some(pid) = found {
            break pid;
        }
        assert!(
            parent.try_wait().unwrap().is_none(),
            "the parent ended before its reader child was seen"
        );
        assert!(Instant::now() < deadline, "no reader child appeared");
        std::thread::sleep(Duration::from_millis(5));
    };
    let cmdline = std::fs::read(format!("/proc/{reader}/cmdline")).unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&cmdline).contains("__read-workbook"),
        "{cmdline:?}"
    );
    // Started as /proc/self/exe, it is still called velt-groups in ps and top.
    assert!(cmdline.starts_with(b"velt-groups\0"), "{cmdline:?}");
    // Frozen mid-read, the child cannot finish on its own and end the test vacuously: only
    // its parent's death can end it.
    // SAFETY: kill(2) on a child of the process this test started; no memory is involved.
    unsafe { libc::kill(reader as i32, libc::SIGSTOP) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while state_of(reader) != Some('T') {
        assert!(
            state_of(reader).is_some_and(|s| s != 'Z') && Instant::now() < deadline,
            "the reader child ended or did not stop: {:?}",
            state_of(reader)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    parent.kill().unwrap();
    parent.wait().unwrap();
    // A killed child is gone, or a zombie where nobody reaps orphans (PID 1 in a container).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut state = state_of(reader);
    while state.is_some_and(|s| s != 'Z') && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        state = state_of(reader);
    }
    if state.is_some_and(|s| s != 'Z') {
        // SAFETY: kill(2) on the orphan this test made; it has no memory-safety conditions.
        unsafe { libc::kill(reader as i32, libc::SIGKILL) };
        panic!("the reader child {reader} outlived its killed parent (state {state:?})");
    }
}

#[test]
fn a_sparse_sheet_with_a_cell_at_xfd1048576_is_read_by_its_cells() {
    let w = Workdir::new();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Staff").unwrap();
    sheet.write_string(0, 0, "Department").unwrap();
    sheet.write_string(1, 0, "Sales").unwrap();
    sheet.write_string(1_048_575, 16_383, "stray note").unwrap();
    book.save(w.path("sparse.xlsx")).unwrap();
    let (run, json) = w.check_json(&["--org", "acme", "sparse.xlsx"]);
    // The far row is a row like any other: it has no department name.
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("acme", "sales", "Sales")]);
    assert_eq!(rows_of(&json), vec![("sales".into(), vec![2])]);
    let problem = &json["problems"][0];
    assert_eq!(
        (problem["row"].as_u64(), problem["message"].as_str()),
        (Some(1_048_576), Some("no department name on this row"))
    );
}
