//! Spreadsheet parsing in a child process of our own binary.
//!
//! calamine is a large parser of old binary formats, and fuzzing found malformed XLS files
//! that make it panic or request a terabyte-sized buffer, which aborts the process (calamine
//! 0.38, `xls.rs` trusts the sheet dimensions a file claims). Bad input must end in a located
//! error, so the binary reads workbooks in a child (`velt-groups __read-workbook ...`) that
//! sends back the cells as text; a child that dies is reported as an unreadable file. Library
//! users (benchmarks, fuzzing) read in-process unless they call [`enable`].

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::OnceLock;

use calamine::Data;
use serde::{Deserialize, Serialize};

use super::sheet::{self, Merge, SheetSource};
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
    /// 1-based row numbers with their non-empty cells by 0-based column, as text.
    rows: Vec<(u64, Vec<(u32, String)>)>,
    merged: Vec<Merge>,
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

/// Opens a workbook: in a child when enabled, else in this process. The child reads the
/// workbook from its standard input, which is `file` itself, so a spooled pipe works too.
pub(super) fn open(
    file: &File,
    guess: Format,
    loc: &Location,
    opts: &ReadOptions,
) -> Result<Vec<(Location, SheetSource)>, ReadError> {
    let Some(exe) = EXE.get() else {
        return sheet::open(file, guess, loc, opts);
    };
    let mut cmd = Command::new(exe);
    cmd.arg(ARG).arg(std::process::id().to_string()).arg(guess.name());
    if let Some(s) = &opts.sheet {
        cmd.arg(s);
    }
    // The child needs nothing from the environment, and must not hold the credentials.
    cmd.env_clear();
    confine(&mut cmd);
    let crashed = |why: String| ReadError::Corrupt(loc.clone(), guess.name(), why);
    let stdin = file.try_clone().map_err(|e| ReadError::Io(loc.clone(), e))?;
    let (status, stdout) = run_bounded(cmd, stdin).map_err(|e| ReadError::Io(loc.clone(), e))?;
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
                    .map(|(n, r)| (n, r.into_iter().map(|(c, t)| (c, Data::String(t))).collect()))
                    .collect();
                (loc.clone().with_sheet(Some(&s.name)), SheetSource::new(rows, s.merged))
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
/// of eating the machine's memory (fuzzing found XLS files that take 16 GB and a minute), and
/// on Linux has the kernel kill the child when the parent dies, so a killed run leaves no
/// reader behind (other Unix systems: the child watches its parent itself, see
/// [`child_main`]; Windows: a job object does both, see [`contain`]).
#[cfg(unix)]
fn confine(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // The binary may be started as /proc/self/exe (see main.rs): ps shows the name instead.
    cmd.arg0("velt-groups");
    #[cfg(target_os = "linux")]
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: setrlimit, prctl and getppid are async-signal-safe and affect only the child
    // about to exec; the closure allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT as libc::rlim_t,
                rlim_max: MEMORY_LIMIT as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            #[cfg(target_os = "linux")]
            {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before the signal was armed.
                if libc::getppid() != parent {
                    return Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
                }
            }
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn confine(_: &mut Command) {}

/// Holds what confines a running child beyond [`confine`]; dropped once the child has ended.
#[cfg(not(windows))]
struct Contained;

#[cfg(not(windows))]
fn contain(_: &std::process::Child) -> Contained {
    Contained
}

/// Windows has no `setrlimit` and no parent-death signal; a job object gives both. The child
/// is put in a job that caps each process's committed memory at [`MEMORY_LIMIT`] and kills
/// every process in it when the job's last handle closes: this one, held by the parent until
/// the child has ended, and closed by Windows when the parent dies in any way, so a killed
/// run leaves no reader behind. The child runs a moment before it is assigned (the standard
/// library cannot start it suspended); it is then still loading and has read no workbook.
/// Where no job can be made (a parent already in a job that forbids nesting, before
/// Windows 8) the child runs without them, under the time limit alone.
#[cfg(windows)]
struct Contained(Option<windows_sys::Win32::Foundation::HANDLE>);

#[cfg(windows)]
impl Drop for Contained {
    fn drop(&mut self) {
        if let Some(job) = self.0.take() {
            // SAFETY: `job` is a handle this process opened and closes once.
            unsafe { windows_sys::Win32::Foundation::CloseHandle(job) };
        }
    }
}

#[cfg(windows)]
fn contain(child: &std::process::Child) -> Contained {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation, SetInformationJobObject,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION,
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, JOB_OBJECT_LIMIT_PROCESS_MEMORY,
    };
    // SAFETY: plain Win32 calls on a job handle this function owns and on the child's process
    // handle, which `child` keeps open for the duration; the limits struct outlives the call.
    unsafe {
        let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
        if job.is_null() {
            return Contained(None);
        }
        let contained = Contained(Some(job));
        let mut limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
        // DIE_ON_UNHANDLED_EXCEPTION: a crash ends the reader instead of waiting on an error
        // dialog until the time limit.
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_PROCESS_MEMORY
            | JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
            | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
        limits.ProcessMemoryLimit = usize::try_from(MEMORY_LIMIT).unwrap_or(usize::MAX);
        let set = SetInformationJobObject(
            job,
            JobObjectExtendedLimitInformation,
            (&raw const limits).cast(),
            std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        );
        if set == 0 || AssignProcessToJobObject(job, child.as_raw_handle()) == 0 {
            return Contained(None);
        }
        contained
    }
}

/// Runs the child, collecting its stdout; `None` for the status when it ran out of time.
fn run_bounded(mut cmd: Command, stdin: File) -> std::io::Result<(Option<std::process::ExitStatus>, Vec<u8>)> {
    use std::io::Read;
    let mut child = cmd
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    // Held until the child has ended, which it has by the time this function returns.
    let _contained = contain(&child);
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

/// The child's side: `velt-groups __read-workbook PARENT_PID FORMAT [SHEET]`, the workbook on
/// standard input; the answer is JSON on stdout, errors included, so that only a crash exits
/// non-zero.
pub fn child_main(args: &[String]) -> ExitCode {
    let (Some(parent), Some(format)) = (args.first(), args.get(1)) else {
        return ExitCode::from(2);
    };
    watch_parent(parent.parse().unwrap_or(0));
    name_reader();
    let opts = ReadOptions {
        sheet: args.get(2).cloned(),
        ..ReadOptions::default()
    };
    let loc = Location::file(super::STDIN_NAME);
    let opened = super::stdin_file().map_err(|e| ReadError::Io(loc.clone(), e));
    let answer = match opened.and_then(|file| sheet::open(&file, format_from(format), &loc, &opts)) {
        Ok(sheets) => Answer::Sheets(
            sheets
                .into_iter()
                .map(|(l, s)| SheetData {
                    name: l.sheet.unwrap_or_default(),
                    rows: s.text_rows(),
                    merged: s.merged().to_vec(),
                })
                .collect(),
        ),
        Err(ReadError::NoSuchSheet(_, wanted, names)) => Answer::NoSuchSheet { wanted, names },
        Err(ReadError::Corrupt(l, format, detail)) => Answer::Corrupt {
            sheet: l.sheet,
            format: format.to_owned(),
            detail,
        },
        // The parent names the file; the child's own location would name it twice.
        Err(ReadError::Io(_, e)) => Answer::Io(e.to_string()),
        Err(other) => Answer::Io(other.to_string()),
    };
    let stdout = std::io::stdout();
    match serde_json::to_writer(std::io::BufWriter::new(stdout.lock()), &answer) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}

/// Ends this reader when its parent is gone. Linux does it in the kernel (see [`confine`]);
/// other Unix systems have no such signal, so a thread notices the child being re-parented.
#[cfg(all(unix, not(target_os = "linux")))]
fn watch_parent(parent: u32) {
    std::thread::spawn(move || loop {
        // SAFETY: getppid has no preconditions.
        if unsafe { libc::getppid() } as u32 != parent {
            std::process::exit(3);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    });
}

#[cfg(not(all(unix, not(target_os = "linux"))))]
fn watch_parent(_: u32) {}

/// Names the reader `velt-groups` in ps and top, where exec'ing /proc/self/exe named it `exe`.
#[cfg(target_os = "linux")]
fn name_reader() {
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes, which this is.
    unsafe { libc::prctl(libc::PR_SET_NAME, c"velt-groups".as_ptr() as libc::c_ulong) };
}

#[cfg(not(target_os = "linux"))]
fn name_reader() {}
