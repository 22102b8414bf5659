//! Scale benchmark (issue #22): `cargo bench --bench scale` (`-- --people N`, or
//! `VELT_BENCH_PEOPLE=N`, for another size than 1,000,000; `-- --quick` is 20,000;
//! `VELT_GROUPS_BIN=PATH` measures another build of the binary; `VELT_BENCH_DIR=DIR` keeps the
//! exports, state and reports in DIR instead of a temporary folder).
//!
//! Generates a directory export of N people (5 organizations, 400 departments) in a temporary
//! directory and runs the release `velt-groups` binary on it as a child process: once each,
//! but `check`, the dry run and the unchanged night in five rounds of the three, medians kept:
//! - `check` and `check --members`,
//! - `import --members --dry-run --state new.db`,
//! - a first night against the fake server (`fake-velt`, its own process) at a high `--rate`,
//! - an unchanged night (same export, same state),
//! - a 1% churn night (1% leave, 1% join, `--remove-departed`),
//! - `verify --state` against the churned export.
//!
//! Wall time, and peak RSS from `wait4`'s rusage of that child. The fake server runs in a
//! process of its own so that its memory is not counted: Linux starts a child's peak RSS at the
//! spawning process's own (it carries over `exec`), so this process stays small too.
//!
//! Prints a Markdown table for BENCHMARKS.md.

#[path = "support/gen.rs"]
mod gen;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_velt::{API_KEY, AUTH_TOKEN};

const DEPARTMENTS: usize = 400;

/// One measured run.
struct Run {
    name: String,
    wall: Duration,
    peak_mib: f64,
    exit: i32,
}

/// Runs `velt-groups args`, output to files in `dir`, and waits for it with `wait4`.
// The child is reaped by `wait4` (its rusage is the point), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn measure(dir: &Path, name: &str, args: &[&str]) -> Run {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let stdout = std::fs::File::create(dir.join(format!("{slug}.out"))).unwrap();
    let stderr = std::fs::File::create(dir.join(format!("{slug}.err"))).unwrap();
    let start = Instant::now();
    let child = Command::new(binary())
        .args(args)
        .env("VELT_API_KEY", API_KEY)
        .env("VELT_AUTH_TOKEN", AUTH_TOKEN)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("run velt-groups");
    let (exit, rusage) = wait4(&child);
    let wall = start.elapsed();
    // ru_maxrss is in KiB on Linux.
    let peak_mib = rusage.ru_maxrss as f64 / 1024.0;
    Run {
        name: name.to_owned(),
        wall,
        peak_mib,
        exit,
    }
}

/// Rounds of the runs compared with `check`.
const ROUNDS: usize = 5;

/// The run of median time among `runs`, with the highest peak and the worst exit of them
/// all: a run of half a second on a shared 2-core machine varies by a fifth from one run to
/// the next, and a ratio of two single runs by more.
fn median(mut runs: Vec<Run>) -> Run {
    let peak = runs.iter().map(|r| r.peak_mib).fold(0.0, f64::max);
    let exit = runs.iter().map(|r| r.exit).max_by_key(|e| e.abs()).unwrap_or(0);
    runs.sort_by_key(|r| r.wall);
    let mut median = runs.swap_remove(runs.len() / 2);
    median.peak_mib = peak;
    median.exit = exit;
    median
}

/// The binary measured: this build's, or `VELT_GROUPS_BIN` (another build, say the one before
/// a change, for a before/after table from one run of this bench).
fn binary() -> String {
    std::env::var("VELT_GROUPS_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_velt-groups").to_owned())
}

/// Waits for `child` and returns its exit code and its own resource usage.
fn wait4(child: &Child) -> (i32, libc::rusage) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child, which is reaped here
    // (the Child handle is never waited on again).
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
    assert_eq!(got, pid, "wait4: {}", std::io::Error::last_os_error());
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    (exit, rusage)
}

/// The fake server's binary, built beside this bench's `velt-groups` when missing.
fn fake_binary() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_velt-groups"))
        .with_file_name(format!("fake-velt{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "--locked", "-p", "fake-velt"])
            .status()
            .expect("build fake-velt");
        assert!(status.success(), "cargo build --release -p fake-velt failed");
    }
    bin
}

/// The fake server in its own process on a free port; returns it and its URL.
fn start_fake() -> (Child, String) {
    let mut child = Command::new(fake_binary())
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fake-velt");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("fake-velt's first line").unwrap();
    let url = first.rsplit(' ').next().unwrap().to_owned();
    // It prints progress every 2 s: keep reading so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (child, url)
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn people() -> usize {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--quick") {
        return 20_000;
    }
    let from_arg = args
        .iter()
        .position(|a| a == "--people")
        .and_then(|i| args.get(i + 1).cloned());
    from_arg
        .or_else(|| std::env::var("VELT_BENCH_PEOPLE").ok())
        .map(|n| n.replace('_', "").parse().expect("--people N: a whole number"))
        .unwrap_or(1_000_000)
}

fn main() {
    let n = people();
    let tmp = tempfile::tempdir().unwrap();
    // `VELT_BENCH_DIR=DIR` keeps the exports, state and reports there (to profile one step).
    let kept = std::env::var_os("VELT_BENCH_DIR").map(PathBuf::from);
    if let Some(kept) = &kept {
        std::fs::create_dir_all(kept).unwrap();
        for leftover in ["state.db", "new.db"] {
            let _ = std::fs::remove_file(kept.join(leftover));
        }
    }
    let dir = kept.as_deref().unwrap_or(tmp.path());
    let first = dir.join("night1.csv");
    let bytes = gen::directory_csv(&first, 0..n, DEPARTMENTS).unwrap();
    // 1% leave (every 100th, from the 7th), 1% join (new IDs).
    let churned = dir.join("night2.csv");
    gen::directory_csv(
        &churned,
        (0..n).filter(|i| i % 100 != 7).chain(n..n + n / 100),
        DEPARTMENTS,
    )
    .unwrap();
    let (mut fake, url) = start_fake();
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let (first_s, churned_s) = (path(&first), path(&churned));
    let state = path(&dir.join("state.db"));
    let report = path(&dir.join("report.csv"));
    let server = ["--api-base", &url, "--rate", "100000", "--concurrency", "16"];
    let import = |input: &str, extra: &[&str]| -> Vec<String> {
        let mut a: Vec<&str> = vec![
            "import",
            "--quiet",
            "--log-format",
            "json",
            "--members",
            "--state",
            &state,
            "--report",
            &report,
        ];
        a.extend(server);
        a.extend(extra);
        a.push(input);
        a.into_iter().map(str::to_owned).collect()
    };
    let new_db = path(&dir.join("new.db"));
    let dry_report = path(&dir.join("dry-report.csv"));
    let fresh = || {
        for leftover in [&new_db, &format!("{new_db}.lock")] {
            let _ = std::fs::remove_file(leftover);
        }
    };
    let check: &[&str] = &["check", "--format", "csv", &first_s];
    let dry: &[&str] = &[
        "import",
        "--quiet",
        "--members",
        "--dry-run",
        "--state",
        &new_db,
        "--report",
        &dry_report,
        &first_s,
    ];
    let check_members = measure(
        dir,
        "check --members",
        &["check", "--members", "--format", "csv", &first_s],
    );
    let first_night = measure(dir, "first night (fake server)", &strs(&import(&first_s, &[])));
    let first_plan = plan_seconds(&dir.join("first-night--fake-server-.err"));
    // The runs compared with `check` go in rounds, each after the other: a shared machine's
    // slow minute then slows all three alike, and the medians' ratios hold.
    let unchanged = import(&first_s, &[]);
    let mut rounds: [Vec<Run>; 3] = Default::default();
    for _ in 0..ROUNDS {
        rounds[0].push(measure(dir, "check", check));
        fresh();
        rounds[1].push(measure(dir, "import --members --dry-run --state new.db", dry));
        rounds[2].push(measure(dir, "unchanged night", &strs(&unchanged)));
    }
    let [check, dry, unchanged] = rounds.map(median);
    let mut runs = vec![check, check_members, dry, first_night, unchanged];
    runs.push(measure(
        dir,
        "1% churn night (--remove-departed)",
        &strs(&import(&churned_s, &["--remove-departed"])),
    ));
    let mut verify = vec!["verify", "--format", "csv", "--state", &state];
    verify.extend(server);
    verify.push(&churned_s);
    runs.push(measure(dir, "verify --state", &verify));
    let _ = fake.kill();
    let _ = fake.wait();

    let base = &runs[0];
    let (base_secs, base_mib) = (base.wall.as_secs_f64(), base.peak_mib);
    println!(
        "{n} people, {} organizations, {DEPARTMENTS} departments, CSV {:.1} MB; release build; check, the dry run and the unchanged night: the median of {ROUNDS} rounds (highest peak), the others one run",
        gen::ORGANIZATIONS.len(),
        bytes as f64 / 1e6
    );
    println!();
    println!("| command | exit | time | peak RSS | time vs check | bytes/person above check |");
    println!("|---|---|---|---|---|---|");
    for r in &runs {
        let above = (r.peak_mib - base_mib) * 1024.0 * 1024.0 / n as f64;
        println!(
            "| {} | {} | {:.2} s | {:.0} MiB | {:.1}x | {:.0} |",
            r.name,
            r.exit,
            r.wall.as_secs_f64(),
            r.peak_mib,
            r.wall.as_secs_f64() / base_secs,
            above.max(0.0)
        );
    }
    if let Some(secs) = first_plan {
        println!();
        println!(
            "first night, reading and planning (from `run started` to its first request, from its JSON log): {secs:.2} s, {:.1}x check",
            secs / base_secs
        );
    }
    runs.truncate(0);
}

/// From a JSON log: the seconds from `run started` to the start of the first upload stage
/// (its `stage finished` time less its `elapsed_seconds`): reading, normalizing and planning.
fn plan_seconds(log: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(log).ok()?;
    let events: Vec<serde_json::Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let at = |e: &serde_json::Value| e["timestamp"].as_str()?.parse::<jiff::Timestamp>().ok();
    let started = events.iter().find(|e| e["event"] == "run started").and_then(at)?;
    let stage = events.iter().find(|e| e["event"] == "stage finished")?;
    let sending = at(stage)?.as_duration().as_secs_f64() - stage["elapsed_seconds"].as_f64()?;
    Some(sending - started.as_duration().as_secs_f64())
}
