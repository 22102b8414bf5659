//! `velt-groups ui` over plain HTTP: nothing without the token (or from another Host), loopback
//! only, and the page's API driving a whole import against the fake server.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use fake_velt::{FakeConfig, FakeVelt};
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};

use crate::workdir::{Workdir, CREDS};

/// A running `velt-groups ui --no-open`, killed when dropped.
pub struct Ui {
    /// The server process.
    pub child: Child,
    /// The address it printed, token included.
    pub url: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The token.
    pub token: String,
}

impl Ui {
    /// Starts `velt-groups ui --no-open ARGS` in `w` with `env`, and reads its address.
    pub fn start(w: &Workdir, args: &[&str], env: &[(&str, &str)]) -> Ui {
        let mut all = vec!["--no-open"];
        all.extend_from_slice(args);
        Ui::start_opening(w, &all, env)
    }

    /// Starts `velt-groups ui ARGS` (opening a browser unless ARGS say `--no-open`).
    pub fn start_opening(w: &Workdir, args: &[&str], env: &[(&str, &str)]) -> Ui {
        let mut all = vec!["ui"];
        all.extend_from_slice(args);
        let stderr = std::fs::File::create(w.path("ui.stderr")).unwrap();
        let mut child = w
            .command(&all, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("start velt-groups ui");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().to_owned();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "first line {url:?}; stderr: {}",
            std::fs::read_to_string(w.path("ui.stderr")).unwrap_or_default()
        );
        let rest = &url["http://127.0.0.1:".len()..];
        let port = rest[..rest.find('/').unwrap()].parse().unwrap();
        let token = url[url.find("token=").unwrap() + "token=".len()..].to_owned();
        Ui {
            child,
            url,
            port,
            token,
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn at(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// An API call with the token header; the status and the JSON answer.
    pub fn api(&self, method: Method, path: &str, body: Option<Vec<u8>>, json_body: Option<Value>) -> (u16, Value) {
        let mut request = Client::new()
            .request(method, self.at(path))
            .header("x-velt-groups-token", &self.token);
        if let Some(bytes) = body {
            request = request.body(bytes);
        }
        if let Some(value) = json_body {
            request = request
                .header("content-type", "application/json")
                .body(value.to_string());
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Polls `/api/progress` until the import is over.
    pub fn wait_done(&self) -> Value {
        let start = Instant::now();
        loop {
            let (status, p) = self.api(Method::GET, "/api/progress", None, None);
            assert_eq!(status, 200, "{p}");
            if p["running"] == false {
                return p;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "the import never ended: {p}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        // Ctrl-C first, so it removes its temporary folder; a kill if it does not stop.
        #[cfg(unix)]
        {
            // SAFETY: signalling our own child by its process ID.
            unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that never follows redirects, so a status is the route's own.
fn raw() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/app.js"),
    ("GET", "/app.css"),
    ("GET", "/api/session"),
    ("PUT", "/api/files?name=hr.csv"),
    ("DELETE", "/api/files"),
    ("POST", "/api/check"),
    ("POST", "/api/import"),
    ("GET", "/api/progress"),
    ("GET", "/report/1/velt-groups-report.csv"),
    ("GET", "/no-such-route"),
    ("POST", "/"),
];

#[test]
fn nothing_is_served_without_the_token_or_from_another_host() {
    let w = Workdir::new();
    let ui = Ui::start(&w, &[], &CREDS);
    let client = raw();
    let send = |method: &str, path: &str, query: Option<&str>, header: Option<&str>, host: Option<String>| {
        let url = match query {
            Some(t) if path.contains('?') => ui.at(&format!("{path}&token={t}")),
            Some(t) => ui.at(&format!("{path}?token={t}")),
            None => ui.at(path),
        };
        let mut request = client.request(Method::from_bytes(method.as_bytes()).unwrap(), url);
        if let Some(t) = header {
            request = request.header("x-velt-groups-token", t);
        }
        if let Some(h) = host {
            request = request.header("host", h);
        }
        let response = request.body("Department\nSales\n").send().unwrap();
        let status = response.status().as_u16();
        let body = response.text().unwrap();
        assert!(
            !body.contains(&ui.token) && !body.contains("api_base") && !body.contains("<html"),
            "{method} {path} gave away something: {body}"
        );
        status
    };
    let wrong = "0".repeat(ui.token.len());
    for &(method, path) in ROUTES {
        assert_eq!(
            send(method, path, None, None, None),
            401,
            "{method} {path} without a token"
        );
        assert_eq!(
            send(method, path, Some(&wrong), Some(&wrong), None),
            403,
            "{method} {path} with a wrong token"
        );
        for host in [
            format!("evil.example:{}", ui.port),
            format!("127.0.0.1:{}", ui.port + 1),
            "127.0.0.1".to_owned(),
        ] {
            let status = send(method, path, Some(&ui.token), Some(&ui.token), Some(host.clone()));
            assert_eq!(status, 403, "{method} {path} from Host {host}");
        }
        if path.starts_with("/api/") {
            // The API takes the token from its header only, never from a link.
            assert_eq!(send(method, path, Some(&ui.token), None, None), 401, "{method} {path}");
        }
    }
    // And with the token, the page and its API answer.
    let page = client.get(&ui.url).send().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().unwrap();
    assert!(html.contains("<input type=\"file\""));
    // The browser asks for no favicon (which would be refused without the token).
    assert!(html.contains("<link rel=\"icon\" href=\"data:,\">"), "{html}");
    let local = client
        .get(ui.at("/api/session"))
        .header("x-velt-groups-token", &ui.token)
        .header("host", format!("localhost:{}", ui.port))
        .send()
        .unwrap();
    assert_eq!(local.status().as_u16(), 200);
}

#[test]
fn it_listens_on_loopback_only() {
    let w = Workdir::new();
    let ui = Ui::start(&w, &[], &[]);
    // Whatever else this machine has, the listener is 127.0.0.1 and nothing else.
    #[cfg(target_os = "linux")]
    {
        let port = format!(":{:04X}", ui.port);
        let listening = |file: &str| -> Vec<String> {
            std::fs::read_to_string(file)
                .unwrap_or_default()
                .lines()
                .skip(1)
                .filter_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    (f.len() > 3 && f[1].ends_with(&port) && f[3] == "0A").then(|| f[1].to_owned())
                })
                .collect()
        };
        assert_eq!(listening("/proc/net/tcp"), vec![format!("0100007F{port}")]);
        assert!(listening("/proc/net/tcp6").is_empty());
    }
    // Reached through another address of this machine, nothing answers.
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    if socket.connect("192.0.2.1:9").is_ok() {
        let ip = socket.local_addr().unwrap().ip();
        if !ip.is_loopback() && !ip.is_unspecified() {
            let reached = std::net::TcpStream::connect_timeout(&(ip, ui.port).into(), Duration::from_secs(2));
            assert!(reached.is_err(), "{ip}:{} answered", ui.port);
        }
    }
}

#[test]
fn the_api_imports_a_workbook_into_the_fake_server() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let ui = Ui::start(&w, &["--api-base", &fake.url()], &CREDS);
    let (status, session) = ui.api(Method::GET, "/api/session", None, None);
    assert_eq!(status, 200);
    assert_eq!(session["api_base"], format!("{}/", fake.url()));
    assert_eq!(session["credentials"], true);
    let xlsx = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/employees.xlsx")).unwrap();
    let (status, files) = ui.api(Method::PUT, "/api/files?name=employees.xlsx", Some(xlsx), None);
    assert_eq!((status, files), (200, json!({"files": ["employees.xlsx"]})));

    // Without an organization: the CLI's error, and the header the page offers columns from.
    let (_, view) = ui.api(Method::POST, "/api/check", None, Some(json!({})));
    let error = view["errors"][0].as_str().unwrap();
    assert!(
        error.starts_with("error: employees.xlsx, sheet 'Staff', row 4: no organization column among the headers"),
        "{error}"
    );
    // In the page's words: its controls, not the command line's flags.
    assert!(
        error.ends_with("give one organization for every row with the Organization ID field, or name the column with the Organization choice under Columns"),
        "{error}"
    );
    assert!(!error.contains("--"), "{error}");
    assert_eq!(view["files"][0]["header_row"], 4);
    assert_eq!(view["files"][0]["headers"][4], "Department");

    let choices = json!({"org": "acme"});
    let (_, view) = ui.api(Method::POST, "/api/check", None, Some(choices.clone()));
    assert_eq!(view["errors"], json!([]));
    assert_eq!(view["files"][0]["columns"]["name"], "Department");
    assert_eq!(view["organizations"][0]["groups"].as_array().unwrap().len(), 9);
    assert_eq!(
        view["summary"],
        "9 groups in 1 organization: acme (9 groups); 0 conflicts, 0 invalid rows, 2 warnings"
    );
    assert!(view["problems"][0]
        .as_str()
        .unwrap()
        .starts_with("warning: employees.xlsx, sheet 'Staff', row 17, column 'Department': "));
    assert_eq!(fake.requests(), 0, "checking sends nothing");

    let (status, started) = ui.api(Method::POST, "/api/import", None, Some(json!({"choices": choices})));
    assert_eq!((status, &started["outcome"]), (200, &json!("started")), "{started}");
    let done = ui.wait_done();
    assert_eq!(
        done["finished"]["summary"]["organizations"]["acme"]["added"], 9,
        "{done}"
    );
    assert_eq!(done["phases"][0]["done"], 9);
    assert_eq!(fake.groups_of("acme").len(), 9);
    assert_eq!(fake.groups_of("acme")["sales"], "Sales");

    // Both reports, written by the report writers, behind the token.
    let reports = done["finished"]["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    let csv_name = reports[0].as_str().unwrap();
    assert!(csv_name.ends_with(".csv") && reports[1].as_str().unwrap().ends_with(".xlsx"));
    let path = format!("/report/{}/{csv_name}", done["job"]);
    assert_eq!(raw().get(ui.at(&path)).send().unwrap().status().as_u16(), 401);
    let csv = raw().get(ui.at(&format!("{path}?token={}", ui.token))).send().unwrap();
    assert_eq!(csv.status().as_u16(), 200);
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = csv.text().unwrap();
    assert!(text.starts_with("\u{feff}organization_id,group_id,group_name,status,attempts,error,sources"));
    assert!(
        text.contains("acme,sales,Sales,added,1,,employees.xlsx [Staff] rows 9-11"),
        "{text}"
    );
}

#[test]
fn held_back_rows_are_sent_only_once_the_person_agrees() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let ui = Ui::start(&w, &["--api-base", &fake.url()], &CREDS);
    let csv = "Dept ID,Department\n10,Sales\n10,Marketing\n20,Legal\n";
    ui.api(Method::PUT, "/api/files?name=hr.csv", Some(csv.into()), None);
    let choices = json!({"org": "acme"});
    let (_, view) = ui.api(Method::POST, "/api/check", None, Some(choices.clone()));
    assert_eq!(view["held_back"], 2);
    let groups = &view["organizations"][0]["groups"];
    assert_eq!(groups[0]["status"], "invalid");
    assert_eq!(
        groups[0]["note"],
        "conflict: group ID '10' is claimed by 'Sales' and 'Marketing'"
    );

    let (_, answer) = ui.api(Method::POST, "/api/import", None, Some(json!({"choices": choices})));
    assert_eq!(
        answer,
        json!({"outcome": "confirm", "held_back": 2, "removals": 0, "sentence": "Create 1 group in organization acme?"})
    );
    assert_eq!(fake.requests(), 0, "nothing is sent before the person agrees");

    let agreed = json!({"choices": choices, "allow_partial": true});
    let (_, answer) = ui.api(Method::POST, "/api/import", None, Some(agreed));
    assert_eq!(answer["outcome"], "started");
    let done = ui.wait_done();
    let counts = &done["finished"]["summary"]["organizations"]["acme"];
    assert_eq!((&counts["added"], &counts["invalid"]), (&json!(1), &json!(2)), "{done}");
    assert_eq!(fake.groups_of("acme").keys().collect::<Vec<_>>(), vec!["20"]);
}

#[test]
fn the_page_shows_where_it_writes_but_never_the_secrets() {
    let w = Workdir::new();
    w.write(
        "vg.toml",
        format!(
            "org = \"acme\"\nmembers = true\nstate = \"s.db\"\napi-key = \"{}\"\nauth-token = \"{}\"\n",
            fake_velt::API_KEY,
            fake_velt::AUTH_TOKEN
        ),
    );
    let ui = Ui::start(&w, &["--config", "vg.toml"], &[]);
    let (_, session) = ui.api(Method::GET, "/api/session", None, None);
    assert_eq!(session["choices"]["org"], "acme");
    assert_eq!(session["choices"]["members"], true);
    assert_eq!(session["credentials"], true);
    assert_eq!(session["api_base"], "https://api.velt.dev/");
    assert!(session["state"].as_str().unwrap().ends_with("s.db"));
    let text = session.to_string();
    assert!(
        !text.contains(fake_velt::API_KEY) && !text.contains(fake_velt::AUTH_TOKEN),
        "{text}"
    );
}

#[test]
fn a_port_in_use_is_a_plain_error() {
    let w = Workdir::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let run = w.run(&["ui", "--no-open", "--port", &port]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: cannot serve the web page on 127.0.0.1: "),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn members_are_counted_and_removals_need_a_confirmation() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    w.write(
        "vg.toml",
        format!(
            "api-base = \"{}\"\nstate = \"s.db\"\nremove-departed = true\n",
            fake.url()
        ),
    );
    let ui = Ui::start(&w, &["--config", "vg.toml"], &CREDS);
    let choices = json!({"org": "acme", "members": true});
    let day = |csv: &str| {
        ui.api(Method::DELETE, "/api/files", None, None);
        ui.api(Method::PUT, "/api/files?name=hr.csv", Some(csv.into()), None);
        ui.api(Method::POST, "/api/check", None, Some(choices.clone())).1
    };
    let view = day("Work Email,Department\na@x.com,Sales\nb@x.com,Sales\nc@x.com,Legal\n");
    let members: Vec<(&str, &Value)> = view["organizations"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group_id"].as_str().unwrap(), &g["members"]))
        .collect();
    assert_eq!(members, vec![("legal", &json!(1)), ("sales", &json!(2))]);
    assert_eq!(view["files"][0]["columns"]["user"], "Work Email");
    ui.api(Method::POST, "/api/import", None, Some(json!({"choices": choices})));
    ui.wait_done();
    assert_eq!(fake.members_of("acme", "sales"), vec!["a@x.com", "b@x.com"]);

    // b left: removing them is asked first, and done once agreed.
    let view = day("Work Email,Department\na@x.com,Sales\nc@x.com,Legal\n");
    assert_eq!(view["removals"], 1, "{view}");
    let (_, answer) = ui.api(Method::POST, "/api/import", None, Some(json!({"choices": choices})));
    assert_eq!(
        answer,
        json!({"outcome": "confirm", "held_back": 0, "removals": 1, "sentence": "Remove 1 member from their groups in organization acme?"})
    );
    assert_eq!(fake.members_of("acme", "sales"), vec!["a@x.com", "b@x.com"]);
    let agreed = json!({"choices": choices, "allow_removals": true});
    ui.api(Method::POST, "/api/import", None, Some(agreed));
    let done = ui.wait_done();
    assert_eq!(
        done["finished"]["summary"]["organizations"]["acme"]["unchanged"], 2,
        "{done}"
    );
    assert_eq!(fake.members_of("acme", "sales"), vec!["a@x.com"]);
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_it() {
    let w = Workdir::new();
    let mut ui = Ui::start(&w, &[], &[]);
    // SAFETY: signalling our own child by its process ID.
    unsafe { libc::kill(ui.child.id() as libc::pid_t, libc::SIGINT) };
    let started = Instant::now();
    let status = loop {
        if let Some(status) = ui.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still running after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(w.path("ui.stderr")).unwrap(),
        "velt-groups: stopped\n"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", ui.port)).is_err());
}
