//! Spreadsheet parsing in a child process of our own binary.
//!
//! calamine is a large parser of old binary formats, and fuzzing found malformed XLS files
//! that make it panic or request a terabyte-sized buffer, which aborts the process (calamine
//! 0.38, `xls.rs` trusts the sheet dimensions a file claims). Bad input must end in a located
//! error, so the binary reads workbooks in a child (`velt-groups __read-workbook ...`) that
//! sends back the cells as text; a child that dies is reported as an unreadable file. Library
//! users (benchmarks, fuzzing) read in-process unless they call [`enable`].

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::OnceLock;

use calamine::Data;
use serde::{Deserialize, Serialize};

use super::sheet::{self, SheetSource};
use super::{Format, ReadError, ReadOptions};
use crate::location::Location;

/// The hidden first argument that makes the binary a workbook reader.
pub const ARG: &str = "__read-workbook";

/// Address space a reader child may use: far more than any real workbook needs (a full
/// 1,048,576-row sheet fits), far less than a bogus "this sheet has 4 billion rows" asks for.
const MEMORY_LIMIT: u64 = 4 << 30;

/// How long a reader child may take before it is stopped.
const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

static EXE: OnceLock<PathBuf> = OnceLock::new();

/// Reads workbooks in children of `exe` (the velt-groups binary) from now on.
pub fn enable(exe: PathBuf) {
    let _ = EXE.set(exe);
}

#[derive(Serialize, Deserialize)]
struct SheetData {
    name: String,
    first_row: u64,
    rows: Vec<Vec<Option<String>>>,
}

#[derive(Serialize, Deserialize)]
enum Answer {
    Sheets(Vec<SheetData>),
    NoSuchSheet {
        wanted: String,
        names: String,
    },
    Corrupt {
        sheet: Option<String>,
        format: String,
        detail: String,
    },
    Io(String),
}

fn format_from(name: &str) -> Format {
    match name {
        "XLS" => Format::Xls,
        "XLSB" => Format::Xlsb,
        "ODS" => Format::Ods,
        _ => Format::Xlsx,
    }
}

/// Opens a workbook: in a child when enabled, else in this process.
pub(super) fn open(
    path: &Path,
    guess: Format,
    loc: &Location,
    opts: &ReadOptions,
) -> Result<Vec<(Location, SheetSource)>, ReadError> {
    let Some(exe) = EXE.get() else {
        return sheet::open(path, guess, loc, opts);
    };
    let mut cmd = Command::new(exe);
    cmd.arg(ARG).arg(path).arg(guess.name());
    if let Some(s) = &opts.sheet {
        cmd.arg(s);
    }
    // The child needs nothing from the environment, and must not hold the credentials.
    cmd.env_clear();
    limit_memory(&mut cmd);
    let crashed = |why: String| ReadError::Corrupt(loc.clone(), guess.name(), why);
    let (status, stdout) = run_bounded(cmd).map_err(|e| ReadError::Io(loc.clone(), e))?;
    let Some(status) = status else {
        return Err(crashed(format!("reading it took more than {} s", TIME_LIMIT.as_secs())));
    };
    if !status.success() {
        return Err(crashed(format!("the spreadsheet reader stopped on it: {status}")));
    }
    let answer: Answer =
        serde_json::from_slice(&stdout).map_err(|e| crashed(format!("unreadable answer from the reader: {e}")))?;
    match answer {
        Answer::Sheets(sheets) => Ok(sheets
            .into_iter()
            .map(|s| {
                let rows = s
                    .rows
                    .into_iter()
                    .map(|r| r.into_iter().map(|c| c.map_or(Data::Empty, Data::String)).collect())
                    .collect();
                (
                    loc.clone().with_sheet(Some(&s.name)),
                    SheetSource::new(s.first_row, rows),
                )
            })
            .collect()),
        Answer::NoSuchSheet { wanted, names } => Err(ReadError::NoSuchSheet(loc.clone(), wanted, names)),
        Answer::Corrupt { sheet, format, detail } => Err(ReadError::Corrupt(
            loc.clone().with_sheet(sheet.as_deref()),
            format_from(&format).name(),
            detail,
        )),
        Answer::Io(e) => Err(ReadError::Io(loc.clone(), std::io::Error::other(e))),
    }
}

/// Caps the child's address space, so a file that claims a gigantic sheet fails fast instead
/// of eating the machine's memory (fuzzing found XLS files that take 16 GB and a minute).
#[cfg(unix)]
fn limit_memory(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe and affects only the child about to exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT as libc::rlim_t,
                rlim_max: MEMORY_LIMIT as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn limit_memory(_: &mut Command) {}

/// Runs the child, collecting its stdout; `None` for the status when it ran out of time.
fn run_bounded(mut cmd: Command) -> std::io::Result<(Option<std::process::ExitStatus>, Vec<u8>)> {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    // Drained on a thread, so a large answer cannot fill the pipe while we wait.
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let deadline = std::time::Instant::now() + TIME_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let out = reader.join().unwrap_or_else(|_| Ok(Vec::new()))?;
    Ok((status, out))
}

/// The child's side: `velt-groups __read-workbook PATH FORMAT [SHEET]`; the answer is JSON on
/// stdout, errors included, so that only a crash exits non-zero.
pub fn child_main(args: &[String]) -> ExitCode {
    let (Some(path), Some(format)) = (args.first(), args.get(1)) else {
        return ExitCode::from(2);
    };
    let opts = ReadOptions {
        sheet: args.get(2).cloned(),
        ..ReadOptions::default()
    };
    let loc = Location::file(path.clone());
    let answer = match sheet::open(Path::new(path), format_from(format), &loc, &opts) {
        Ok(sheets) => Answer::Sheets(
            sheets
                .into_iter()
                .map(|(l, s)| SheetData {
                    name: l.sheet.unwrap_or_default(),
                    first_row: s.first_row(),
                    rows: s.text_rows(),
                })
                .collect(),
        ),
        Err(ReadError::NoSuchSheet(_, wanted, names)) => Answer::NoSuchSheet { wanted, names },
        Err(ReadError::Corrupt(l, format, detail)) => Answer::Corrupt {
            sheet: l.sheet,
            format: format.to_owned(),
            detail,
        },
        Err(other) => Answer::Io(other.to_string()),
    };
    let stdout = std::io::stdout();
    match serde_json::to_writer(std::io::BufWriter::new(stdout.lock()), &answer) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}
