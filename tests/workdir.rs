use std::path::{Path, PathBuf};
use std::process::Output;

use rust_xlsxwriter::{Formula, Workbook};

/// The credentials the fake server accepts, as the environment gives them.
pub const CREDS: [(&str, &str); 2] = [
    ("VELT_API_KEY", fake_velt::API_KEY),
    ("VELT_AUTH_TOKEN", fake_velt::AUTH_TOKEN),
];

/// A temporary directory to run the binary in, so messages name files relative to it.
pub struct Workdir {
    dir: tempfile::TempDir,
}

/// A finished run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stderr lines.
    pub fn err_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

/// A cell for [`Workdir::xlsx`].
#[derive(Clone)]
pub enum X {
    S(&'static str),
    N(f64),
    /// A formula with its cached result.
    F(&'static str, &'static str),
    Date(u16, u8, u8),
    Empty,
}

impl Workdir {
    pub fn new() -> Self {
        Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write input");
        path
    }

    /// Copies a committed fixture from `tests/data`.
    pub fn fixture(&self, name: &str) -> PathBuf {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
        let to = self.path(name);
        std::fs::copy(from, &to).expect("copy fixture");
        to
    }

    /// Writes a workbook with rust_xlsxwriter: one `(sheet name, rows)` per sheet.
    pub fn xlsx(&self, name: &str, sheets: &[(&str, Vec<Vec<X>>)]) -> PathBuf {
        let mut book = Workbook::new();
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        for (sheet_name, rows) in sheets {
            let sheet = book.add_worksheet().set_name(*sheet_name).unwrap();
            for (r, row) in rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    let (r, c) = (r as u32, c as u16);
                    match cell {
                        X::S(s) => {
                            sheet.write_string(r, c, *s).unwrap();
                        }
                        X::N(n) => {
                            sheet.write_number(r, c, *n).unwrap();
                        }
                        X::F(f, result) => {
                            sheet.write_formula(r, c, Formula::new(*f).set_result(*result)).unwrap();
                        }
                        X::Date(y, m, d) => {
                            let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                            sheet.write_datetime_with_format(r, c, dt, &date).unwrap();
                        }
                        X::Empty => {}
                    }
                }
            }
        }
        let path = self.path(name);
        book.save(&path).unwrap();
        path
    }

    /// Runs the binary with `args` in this directory.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// The binary, set to run here with `args` and `env`, without the caller's Velt secrets
    /// or proxies (a proxy in the caller's environment would carry the requests to the fake).
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("velt-groups"));
        cmd.current_dir(self.dir.path())
            .args(args)
            .env_remove("VELT_API_KEY")
            .env_remove("VELT_AUTH_TOKEN");
        for var in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"] {
            cmd.env_remove(var).env_remove(var.to_lowercase());
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the binary with `args` and environment variables `env`.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out: Output = self.command(args, env).output().unwrap();
        finished(out)
    }

    /// Reads a file of this directory.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

/// Wraps a finished process's output, failing on a panic.
pub fn finished(out: Output) -> Run {
    {
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(!run.stderr.contains("panicked"), "the binary panicked: {}", run.stderr);
        run
    }
}

impl Workdir {
    /// Runs `check --format json` and parses the output.
    pub fn check_json(&self, args: &[&str]) -> (Run, serde_json::Value) {
        let mut all = vec!["check", "--format", "json"];
        all.extend_from_slice(args);
        let run = self.run(&all);
        let json = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
        (run, json)
    }
}

/// `(organization, group id, group name)` of every group in a check JSON.
pub fn groups(json: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for org in json["organizations"].as_array().unwrap() {
        for g in org["groups"].as_array().unwrap() {
            out.push((
                org["organization_id"].as_str().unwrap().to_owned(),
                g["group_id"].as_str().unwrap().to_owned(),
                g["group_name"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

/// Group IDs with their source rows.
pub fn rows_of(json: &serde_json::Value) -> Vec<(String, Vec<u64>)> {
    let mut out = Vec::new();
    for org in json["organizations"].as_array().unwrap() {
        for g in org["groups"].as_array().unwrap() {
            let rows = g["sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["row"].as_u64().unwrap())
                .collect();
            out.push((g["group_id"].as_str().unwrap().to_owned(), rows));
        }
    }
    out
}

/// Shorthand for expected group triples.
pub fn g(org: &str, id: &str, name: &str) -> (String, String, String) {
    (org.to_owned(), id.to_owned(), name.to_owned())
}
