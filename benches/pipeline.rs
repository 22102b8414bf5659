//! Reading benchmark: `cargo bench --bench pipeline` (add `-- --quick` for one run each).
//!
//! Generates a 1,000,000-row employee CSV (5,000 departments) and a 100,000-row XLSX, then
//! times, in one run, medians of five:
//! - the `csv` crate iterating the file's records (the limit for this design),
//! - read + map (velt-groups' reader into a row counter),
//! - read + map + normalize (what `check` does before printing),
//! - `velt-groups check` end to end as a process, with its peak RSS.
//!
//! Prints a Markdown table for BENCHMARKS.md.

#[path = "support/gen.rs"]
mod gen;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use velt_groups::input::{self, Counter, InputSettings};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time<T>(n: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..n)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

fn settings(path: &Path) -> InputSettings {
    let mut s = InputSettings {
        paths: vec![path.to_owned()],
        ..InputSettings::default()
    };
    s.map.org = Some("acme".into());
    s
}

/// Runs the binary under GNU time (`/usr/bin/time`, in the machine's base image) and returns
/// (wall time, peak RSS in MiB). GNU time reads the child's own rusage; measuring from here
/// would not work, since Linux carries the spawning process's peak RSS across `exec`.
fn run_binary(args: &[&str]) -> (Duration, f64) {
    let start = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_velt-groups"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .output()
        .expect("run /usr/bin/time velt-groups");
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kib: f64 = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(f64::NAN);
    (wall, kib / 1024.0)
}

fn row(name: &str, d: Duration, rows: usize, bytes: u64, base: Option<Duration>) {
    let secs = d.as_secs_f64();
    let ratio = base.map_or("".to_owned(), |b| format!("{:.2}x", secs / b.as_secs_f64()));
    println!(
        "| {name} | {:.3} s | {:.2} M rows/s | {:.0} MB/s | {ratio} |",
        secs,
        rows as f64 / secs / 1e6,
        bytes as f64 / secs / 1e6
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 1 } else { 5 };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let (rows, departments) = (1_000_000, 5_000);
    let csv_path = dir.join("employees-1m.csv");
    let csv_bytes = gen::employees_csv(&csv_path, rows, departments).unwrap();
    let xlsx_rows = 100_000;
    let xlsx_path = dir.join("employees-100k.xlsx");
    let xlsx_bytes = gen::employees_xlsx(&xlsx_path, xlsx_rows, departments).unwrap();

    println!(
        "CSV: {rows} rows, {departments} departments, {:.1} MB; medians of {n}",
        csv_bytes as f64 / 1e6
    );
    println!();
    println!("| stage | time | rows/s | MB/s | vs csv crate |");
    println!("|---|---|---|---|---|");
    let raw = time(n, || {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(&csv_path)
            .unwrap();
        let mut rec = csv::ByteRecord::new();
        let mut count = 0u64;
        while rdr.read_byte_record(&mut rec).unwrap() {
            count += rec.len() as u64;
        }
        count
    });
    row(
        "csv crate, ByteRecord iteration (baseline)",
        raw,
        rows,
        csv_bytes,
        Some(raw),
    );
    let s = settings(&csv_path);
    let read = time(n, || {
        let mut c = Counter::default();
        input::scan(&s, &mut c).unwrap();
        assert_eq!(c.rows, rows as u64);
        c.rows
    });
    row("read + map", read, rows, csv_bytes, Some(raw));
    let full = time(n, || {
        let plan = input::load(&s).unwrap();
        assert_eq!(plan.group_count(), departments);
        plan.group_count()
    });
    row("read + map + normalize", full, rows, csv_bytes, Some(raw));
    let csv_arg = csv_path.to_str().unwrap();
    let mut rss = Vec::new();
    let e2e = median(
        (0..n)
            .map(|_| {
                let (t, r) = run_binary(&["check", "--org", "acme", "--format", "csv", csv_arg]);
                rss.push(r);
                t
            })
            .collect(),
    );
    row(
        "`check --format csv` end to end (process)",
        e2e,
        rows,
        csv_bytes,
        Some(raw),
    );
    println!();
    println!(
        "Peak RSS of `check` on the CSV: {:.1} MiB (max of {n} runs)",
        rss.iter().cloned().fold(0.0, f64::max)
    );
    println!();
    println!("XLSX: {xlsx_rows} rows, {:.1} MB", xlsx_bytes as f64 / 1e6);
    println!();
    println!("| stage | time | rows/s | MB/s | |");
    println!("|---|---|---|---|---|");
    let xs = settings(&xlsx_path);
    let xread = time(n, || {
        let mut c = Counter::default();
        input::scan(&xs, &mut c).unwrap();
        c.rows
    });
    row("read + map", xread, xlsx_rows, xlsx_bytes, None);
    let xfull = time(n, || input::load(&xs).unwrap().group_count());
    row("read + map + normalize", xfull, xlsx_rows, xlsx_bytes, None);
    let mut xrss = Vec::new();
    let xe2e = median(
        (0..n)
            .map(|_| {
                let (t, r) = run_binary(&["check", "--org", "acme", "--format", "csv", xlsx_path.to_str().unwrap()]);
                xrss.push(r);
                t
            })
            .collect(),
    );
    row(
        "`check --format csv` end to end (process)",
        xe2e,
        xlsx_rows,
        xlsx_bytes,
        None,
    );
    println!();
    println!(
        "Peak RSS of `check` on the XLSX: {:.1} MiB",
        xrss.iter().cloned().fold(0.0, f64::max)
    );
}
