//! The web page's server as a process: the browser it opens never sees the token on its
//! command line; every signal that can be caught ends it within seconds, half-sent requests
//! or not, and removes the uploaded HR files; a later start removes the folders a killed one
//! left; a long file name works; SIGTERM during an import ends as an interrupted import does.

#![cfg(unix)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use fake_velt::{FakeConfig, FakeVelt};
use reqwest::Method;
use serde_json::json;

use crate::ui::Ui;
use crate::workdir::{Workdir, CREDS};

/// The server's private folders under `tmp`.
fn folders(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("velt-groups-ui-"))
        .collect()
}

/// A private temporary folder for the server, so its folders can be watched.
fn tmp(w: &Workdir) -> String {
    let tmp = w.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    tmp.to_str().unwrap().to_owned()
}

fn signal(ui: &Ui, sig: libc::c_int) {
    // SAFETY: signalling our own child by its process ID.
    unsafe { libc::kill(ui.child.id() as libc::pid_t, sig) };
}

/// Waits for the server to end, at most `limit`.
fn ended(ui: &mut Ui, limit: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = ui.child.try_wait().unwrap() {
            return status;
        }
        assert!(started.elapsed() < limit, "still running after {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_browser_is_given_a_private_file_not_the_token() {
    let w = Workdir::new();
    let seen = w.path("browser-args");
    let script = w.write(
        "browser.sh",
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}.tmp'\nmv '{0}.tmp' '{0}'\n",
            seen.display()
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tmp = tmp(&w);
    let ui = Ui::start_opening(&w, &[], &[("BROWSER", script.to_str().unwrap()), ("TMPDIR", &tmp)]);
    let started = Instant::now();
    while !seen.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the browser was never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let args = std::fs::read_to_string(&seen).unwrap();
    assert!(
        !args.contains(&ui.token),
        "the token is on the browser's command line: {args}"
    );
    let file = PathBuf::from(args.trim());
    assert!(file.starts_with(&tmp), "{args}");
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let page = std::fs::read_to_string(&file).unwrap();
    assert!(page.contains(&format!("url={}", ui.url)), "{page}");
}

#[test]
fn shutdown_is_prompt_whatever_clients_do() {
    let w = Workdir::new();
    let tmp = tmp(&w);
    let mut ui = Ui::start(&w, &[], &[("TMPDIR", &tmp)]);
    let (status, _) = ui.api(
        Method::PUT,
        "/api/files?name=hr.csv",
        Some("Department\nSales\n".into()),
        None,
    );
    assert_eq!(status, 200);
    // One client sends half its headers, another half its body, and both wait.
    let mut headers = std::net::TcpStream::connect(("127.0.0.1", ui.port)).unwrap();
    headers
        .write_all(format!("GET /api/session HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n", ui.port).as_bytes())
        .unwrap();
    let mut body = std::net::TcpStream::connect(("127.0.0.1", ui.port)).unwrap();
    body.write_all(
        format!(
            "PUT /api/files?name=big.csv HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nx-velt-groups-token: {}\r\n\
             Content-Length: 100000\r\n\r\nDepartment\n",
            ui.port, ui.token
        )
        .as_bytes(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&ui, libc::SIGTERM);
    let status = ended(&mut ui, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    assert!(folders(Path::new(&tmp)).is_empty(), "the HR files outlived the server");
    drop((headers, body));
}

#[test]
fn every_catchable_signal_removes_the_uploaded_files() {
    for (name, sig) in [
        ("SIGHUP", libc::SIGHUP),
        ("SIGQUIT", libc::SIGQUIT),
        ("SIGINT", libc::SIGINT),
        ("SIGTERM", libc::SIGTERM),
        ("SIGUSR1", libc::SIGUSR1),
        ("SIGALRM", libc::SIGALRM),
    ] {
        let w = Workdir::new();
        let tmp = tmp(&w);
        let mut ui = Ui::start(&w, &[], &[("TMPDIR", &tmp)]);
        ui.api(
            Method::PUT,
            "/api/files?name=hr.csv",
            Some("Department\nSales\n".into()),
            None,
        );
        assert_eq!(folders(Path::new(&tmp)).len(), 1);
        signal(&ui, sig);
        let status = ended(&mut ui, Duration::from_secs(10));
        assert!(status.code().is_some(), "{name} ended it by the signal, not by itself");
        assert!(folders(Path::new(&tmp)).is_empty(), "{name} left the HR files behind");
    }
}

#[test]
fn a_start_removes_what_a_killed_server_left_and_nothing_else() {
    let w = Workdir::new();
    let tmp = tmp(&w);
    let mut killed = Ui::start(&w, &[], &[("TMPDIR", &tmp)]);
    killed.api(
        Method::PUT,
        "/api/files?name=hr.csv",
        Some("Department\nSales\n".into()),
        None,
    );
    let left = folders(Path::new(&tmp));
    assert_eq!(left.len(), 1);
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    assert!(left[0].exists(), "kill -9 cannot clean up");
    // Another user's folder of the same name (here: one without an owner file) is left alone.
    let foreign = Path::new(&tmp).join("velt-groups-ui-foreign");
    std::fs::create_dir(&foreign).unwrap();
    let running = Ui::start(&w, &[], &[("TMPDIR", &tmp)]);
    let now = folders(Path::new(&tmp));
    assert!(!left[0].exists(), "the killed server's folder is still there");
    assert!(foreign.exists());
    assert_eq!(now.len(), 2, "{now:?}");
    drop(running);
}

#[test]
fn a_long_file_name_is_stored_short_and_shown_whole() {
    let w = Workdir::new();
    let ui = Ui::start(&w, &[], &[]);
    // 158 characters, 280 bytes of UTF-8: legal on macOS and Windows, too long for Linux.
    let name = format!("{}{}.csv", "Ü".repeat(122), "x".repeat(32));
    assert_eq!(name.chars().count(), 158, "{name}");
    assert_eq!(name.len(), 280);
    let query: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let (status, files) = ui.api(
        Method::PUT,
        &format!("/api/files?name={query}"),
        Some("Department\nSales\n\n".into()),
        None,
    );
    assert_eq!(status, 200, "{files}");
    assert_eq!(files, json!({"files": [name]}));
    let (status, view) = ui.api(Method::POST, "/api/check", None, Some(json!({"org": "acme"})));
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["files"][0]["file"], name);
    assert_eq!(view["organizations"][0]["groups"][0]["group_id"], "sales");
}

#[test]
fn sigterm_during_an_import_ends_it_as_an_interrupted_import() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig {
        latency: Duration::from_millis(300),
        ..FakeConfig::default()
    });
    let tmp = tmp(&w);
    let mut env = CREDS.to_vec();
    env.push(("TMPDIR", &tmp));
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
    let mut ui = Ui::start(&w, &args, &env);
    let csv: String = std::iter::once("Department".to_owned())
        .chain((0..30).map(|i| format!("Dept {i:02}")))
        .collect::<Vec<_>>()
        .join("\n");
    ui.api(Method::PUT, "/api/files?name=hr.csv", Some(csv.into()), None);
    let (_, started) = ui.api(
        Method::POST,
        "/api/import",
        None,
        Some(json!({"choices": {"org": "acme"}})),
    );
    assert_eq!(started["outcome"], "started", "{started}");
    let begun = Instant::now();
    while fake.requests() < 2 {
        assert!(begun.elapsed() < Duration::from_secs(30), "the import never began");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&ui, libc::SIGTERM);
    let status = ended(&mut ui, Duration::from_secs(30));
    assert_eq!(status.code(), Some(1), "an interrupted import is incomplete");
    let stderr = w.read("ui.stderr");
    assert!(
        stderr.contains("the import was interrupted; its report is "),
        "{stderr}"
    );
    // The report is kept where `import` writes its reports: the working folder.
    let report = std::fs::read_dir(w.path("."))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "csv") && p.to_string_lossy().contains("velt-groups-report-"))
        .expect("no report in the working folder");
    let text = std::fs::read_to_string(report).unwrap();
    assert!(text.contains("not attempted: interrupted"), "{text}");
    assert!(text.contains(",added,"), "{text}");
    assert!(fake.groups_of("acme").len() < 30);
    assert!(folders(Path::new(&tmp)).is_empty());
}

#[test]
fn a_secret_too_short_to_be_real_is_warned_about() {
    let w = Workdir::new();
    let ui = Ui::start(
        &w,
        &[],
        &[("VELT_API_KEY", "t"), ("VELT_AUTH_TOKEN", fake_velt::AUTH_TOKEN)],
    );
    let (_, session) = ui.api(Method::GET, "/api/session", None, None);
    assert_eq!(session["credentials"], true);
    let stderr = w.read("ui.stderr");
    assert!(
        stderr.contains(
            "warning: VELT_API_KEY is shorter than 12 characters, too short to be a real Velt secret; check it"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("VELT_AUTH_TOKEN is shorter"), "{stderr}");
}
