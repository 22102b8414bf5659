//! `velt-groups ui` in a real browser: headless Chromium driven over WebDriver (Debian's
//! `chromium` and `chromium-driver`). A person's three actions (pick the file, type the
//! organization, press Import) take samples/employees.xlsx into the fake server; a file with
//! conflicts shows them named. With `UPDATE_SCREENSHOTS=1` the tests write docs/ui-*.png.
//!
//! Without Chromium these tests skip with a message, except under `CI=true`, where they fail:
//! `.ci/run` installs Chromium there.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_velt::{FakeConfig, FakeVelt};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use crate::ui::Ui;
use crate::workdir::{Workdir, CREDS};

/// How long any one thing may take on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(90);

/// A headless Chromium behind its driver, both stopped when dropped.
pub struct Browser {
    driver: Child,
    client: Option<Client>,
    runtime: tokio::runtime::Runtime,
}

/// The first of `names` found on the PATH (or the path in `env`, when set).
fn program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

impl Browser {
    /// Starts the driver and a browser downloading into `downloads`; `None` (with a message)
    /// when Chromium is not installed, a failure under CI.
    pub fn start(downloads: &Path) -> Option<Browser> {
        let chromium = program("CHROME", &["chromium", "chromium-browser", "google-chrome"]);
        let driver = program("CHROMEDRIVER", &["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            let how = "the browser tests need Chromium and its WebDriver: apt-get install chromium chromium-driver";
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("CI=true but Chromium is missing ({how}); .ci/run installs them");
            }
            eprintln!("skipping: {how}");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut browser = Browser {
            driver,
            client: None,
            runtime,
        };
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1280,800", "--force-device-scale-factor=1", "--hide-scrollbars"],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false
                }
            }
        });
        let caps = caps.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = browser.runtime.block_on(async {
            loop {
                // The driver takes a moment to listen.
                match ClientBuilder::new(HttpConnector::new())
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await
                {
                    Ok(client) => return client,
                    Err(e) if started.elapsed() > PATIENCE => panic!("cannot start Chromium: {e}"),
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
        // Screenshots and layout are of a 1280x800 viewport, whatever the window's frame takes.
        browser.run(async {
            let inner = client
                .execute("return [window.innerWidth, window.innerHeight];", vec![])
                .await
                .unwrap();
            let (w, h) = (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32);
            client
                .set_window_size(1280 + (1280 - w), 800 + (800 - h))
                .await
                .unwrap();
        });
        browser.client = Some(client);
        Some(browser)
    }

    pub fn run<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(f)
    }

    pub fn client(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// The element's text once `ready` accepts it.
    pub fn text_until(&self, css: &str, ready: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < PATIENCE {
            if let Ok(e) = self.run(self.client().find(Locator::Css(css))) {
                last = self.run(e.text()).unwrap_or_default();
                if ready(&last) {
                    return last;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{css} never got there; it says: {last:?}");
    }

    pub fn send_keys(&self, css: &str, text: &str) {
        let e = self
            .run(self.client().wait().at_most(PATIENCE).for_element(Locator::Css(css)))
            .unwrap();
        self.run(e.send_keys(text)).unwrap();
    }

    pub fn click(&self, css: &str) {
        let e = self
            .run(self.client().wait().at_most(PATIENCE).for_element(Locator::Css(css)))
            .unwrap();
        self.run(e.click()).unwrap();
    }

    /// Runs `script` in the page; its return value.
    pub fn execute(&self, script: &str) -> serde_json::Value {
        self.run(self.client().execute(script, vec![])).unwrap()
    }

    /// Waits until `script` returns `true`.
    pub fn until(&self, what: &str, script: &str) {
        let started = Instant::now();
        while started.elapsed() < PATIENCE {
            if self.run(self.client().execute(script, vec![])).ok() == Some(serde_json::Value::Bool(true)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{what} never happened");
    }

    /// Sets the viewport (not the window) to `width` x `height`.
    pub fn viewport(&self, width: u32, height: u32) {
        self.run(async {
            for _ in 0..3 {
                let inner = self
                    .client()
                    .execute("return [window.innerWidth, window.innerHeight];", vec![])
                    .await
                    .unwrap();
                let (w, h) = (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32);
                if (w, h) == (width, height) {
                    return;
                }
                let (ow, oh) = self.client().get_window_size().await.unwrap();
                let ow = (ow as i64 + width as i64 - w as i64).max(1) as u32;
                let oh = (oh as i64 + height as i64 - h as i64).max(1) as u32;
                self.client().set_window_size(ow, oh).await.unwrap();
            }
        });
    }

    /// With `UPDATE_SCREENSHOTS=1`, writes the viewport to docs/ui-NAME.png.
    pub fn screenshot(&self, name: &str) {
        if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            let png = self.run(self.client().screenshot()).unwrap();
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("docs/ui-{name}.png"));
            std::fs::write(&path, png).unwrap();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A file that is fully downloaded into `dir` (Chromium writes `.crdownload` first).
pub fn downloaded(dir: &Path, extension: &str) -> PathBuf {
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        let found = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == extension));
        if let Some(path) = found {
            return path;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no .{extension} was downloaded into {}", dir.display());
}

#[test]
fn three_actions_import_the_sample_workbook() {
    let w = Workdir::new();
    std::fs::create_dir(w.path("downloads")).unwrap();
    let Some(browser) = Browser::start(&w.path("downloads")) else {
        return;
    };
    let fake = FakeVelt::start(FakeConfig::default());
    let ui = Ui::start(&w, &["--api-base", &fake.url()], &CREDS);
    browser.run(browser.client().goto(&ui.url)).unwrap();
    let target = browser.text_until("#target", |t| t.starts_with("Writes to"));
    assert!(target.contains(&fake.url()), "{target}");
    assert!(!target.contains(fake_velt::API_KEY), "{target}");

    // 1. Pick the file: it is checked at once, and the missing organization is asked for.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/employees.xlsx");
    browser.send_keys("#files", sample.to_str().unwrap());
    let problems = browser.text_until("#problems", |t| t.contains("no organization column"));
    assert!(
        problems.contains("error: employees.xlsx, sheet 'Staff', row 4: no organization column"),
        "{problems}"
    );
    let files = browser.text_until("#file-list", |t| t.contains("header in row 4"));
    assert!(
        files.contains("employees.xlsx — sheet 'Staff', header in row 4"),
        "{files}"
    );
    browser.screenshot("picked");

    // 2. Type the organization; 3. press Import at once: the page checks first, says what
    // will happen, and sends once the person agrees.
    browser.send_keys("input[name=org]", "acme");
    browser.click("#import");
    let sentence = browser.text_until("#confirm-sentence", |t| !t.is_empty());
    assert_eq!(sentence, "Create 9 groups in organization acme?");
    assert_eq!(fake.requests(), 0, "nothing goes before the confirmation");
    browser.click("#confirm-ok");
    let heading = browser.text_until("#progress-heading", |t| t == "Imported");
    assert_eq!(heading, "Imported");
    let counts = browser.text_until("#counts", |t| !t.is_empty());
    assert_eq!(counts, "Groups: 9 added (9 groups in all)");
    let table = browser.text_until("#group-tables", |t| t.contains("added"));
    assert!(table.contains("acme: 9 groups"), "{table}");
    assert!(table.contains("Ærø Logistik"), "{table}");
    assert_eq!(fake.groups_of("acme").len(), 9);
    assert_eq!(
        fake.groups_of("acme")["research-developpement"],
        "Research & Développement"
    );
    browser.screenshot("done");

    // The report, downloaded by the browser through its link.
    browser.click("#report-csv");
    let report = std::fs::read_to_string(downloaded(&w.path("downloads"), "csv")).unwrap();
    assert!(
        report.contains("acme,sales,Sales,added,1,,employees.xlsx [Staff] rows 9-11"),
        "{report}"
    );
}

#[test]
fn conflicts_are_named_and_held_back_after_a_confirmation() {
    let w = Workdir::new();
    std::fs::create_dir(w.path("downloads")).unwrap();
    let Some(browser) = Browser::start(&w.path("downloads")) else {
        return;
    };
    let fake = FakeVelt::start(FakeConfig::default());
    let ui = Ui::start(&w, &["--api-base", &fake.url()], &CREDS);
    let hr = w.write(
        "hr.csv",
        "Dept ID,Department,Organization\n10,Sales,acme\n10,Sales,acme\n10,Marketing,acme\n20,Legal,acme\n\
         30,Finance,acme\n40,Support,acme\n41,Support,acme\n50,,acme\n",
    );
    browser.run(browser.client().goto(&ui.url)).unwrap();
    browser.text_until("#target", |t| t.starts_with("Writes to"));
    browser.send_keys("#files", hr.to_str().unwrap());
    let table = browser.text_until("#group-tables", |t| t.contains("held back"));
    assert!(
        table.contains("conflict: group ID '10' is claimed by 'Sales' and 'Marketing'"),
        "{table}"
    );
    let problems = browser.text_until("#problems", |t| t.contains("conflict"));
    assert!(
        problems.contains("error: hr.csv, row 2, column 'Department': conflict in organization 'acme': 'Sales' (hr.csv rows 2-3) and 'Marketing' (hr.csv row 4) all make group ID '10'"),
        "{problems}"
    );
    browser.screenshot("conflicts");
    // Every problem is shown (no box cutting the list) and reachable from the keyboard.
    assert_eq!(
        browser.execute(
            "const p = document.getElementById('problems'); return [p.scrollHeight <= p.clientHeight + 1, p.tabIndex];"
        ),
        serde_json::json!([true, 0])
    );
    // A column picked by hand is not called automatic.
    browser.execute(
        "const s = document.getElementById('col-name'); s.value = 'Department'; s.dispatchEvent(new Event('change')); return null;",
    );
    browser.until(
        "the hand-picked column",
        "const s = document.getElementById('col-name'); return !!s && s.value === 'Department' && s.options[0].text === 'automatic';",
    );

    browser.click("#import");
    let reasons = browser.text_until("#confirm-reasons", |t| !t.is_empty());
    assert!(reasons.starts_with("3 rows held back"), "{reasons}");
    assert_eq!(
        browser.text_until("#confirm-sentence", |t| !t.is_empty()),
        "Create 4 groups in organization acme?"
    );
    assert_eq!(fake.requests(), 0, "nothing goes before the confirmation");
    browser.click("#confirm-ok");
    let counts = browser.text_until("#counts", |t| !t.is_empty());
    assert_eq!(counts, "Groups: 4 added · 3 held back (7 groups in all)");
    assert_eq!(browser.text_until("#progress-heading", |t| !t.is_empty()), "Imported");
    let sent: Vec<String> = fake.groups_of("acme").into_keys().collect();
    assert_eq!(sent, vec!["20", "30", "40", "41"]);
}
