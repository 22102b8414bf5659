//! Upload benchmark: `cargo bench --bench upload` (`-- --sweep` adds the latency x concurrency
//! sweep; `-- --quick` uses fewer groups).
//!
//! Runs the release binary against the fake Velt server (the same one the tests use) on
//! 127.0.0.1 and compares the achieved request rate and wall time with the ideal:
//! - 2,000 groups, `--chunk-size 1`, `--rate 50`, server latency 100 ms;
//! - the same with the server limiting each key to half of `--rate` (25/s, 429 with Retry-After);
//! - with `--sweep`: latency 10/100/400 ms x `--concurrency` 1/4/16 at `--rate 50`;
//! - with `--members` (alone): a 20,000-employee directory sync (200 departments, strict server) at `--rate 50`, then the next night with 1% joiners and leavers.
//! - with `--auto` (alone, issue #13): `--rate auto` against a server limited to a rate it is
//!   not told, `--rate` set to exactly that limit, `--rate auto` against an unlimited server,
//!   and a limit that halves and recovers mid-run. `VELT_GROUPS_BEFORE=PATH` also runs another
//!   build (the one before the change) on the fixed-rate scenario, for comparison.

use std::process::Command;
use std::time::{Duration, Instant};

use fake_velt::{FakeConfig, FakeVelt, API_KEY, AUTH_TOKEN};

struct Result {
    wall: Duration,
    requests: usize,
    achieved: f64,
    added: usize,
    limited: usize,
    /// When each accepted (2xx) request arrived, from the fake's start.
    accepted_at: Vec<Duration>,
}

fn run(dir: &std::path::Path, groups: usize, rate: f64, concurrency: usize, config: FakeConfig) -> Result {
    let (rate, concurrency) = (rate.to_string(), concurrency.to_string());
    let args = ["--rate", &rate, "--concurrency", &concurrency];
    run_with(env!("CARGO_BIN_EXE_velt-groups"), dir, groups, &args, config, |_| {})
}

/// Runs `bin` on `groups` one-group requests with `args`; `during` gets the fake while the
/// run goes on (to change its behaviour mid-run).
fn run_with(
    bin: &str,
    dir: &std::path::Path,
    groups: usize,
    args: &[&str],
    config: FakeConfig,
    during: impl FnOnce(&FakeVelt),
) -> Result {
    let input = dir.join(format!("groups-{groups}.csv"));
    if !input.exists() {
        let mut text = String::from("Department\n");
        for i in 0..groups {
            text.push_str(&format!("Department {i:05}\n"));
        }
        std::fs::write(&input, text).unwrap();
    }
    let fake = FakeVelt::start(config);
    let start = Instant::now();
    let child = Command::new(bin)
        .args(["import", "--quiet", "--org", "bench", "--chunk-size", "1"])
        .args(args)
        .args([
            "--api-base",
            &fake.url(),
            "--report",
            dir.join("report.csv").to_str().unwrap(),
        ])
        .arg(&input)
        .env("VELT_API_KEY", API_KEY)
        .env("VELT_AUTH_TOKEN", AUTH_TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run velt-groups");
    during(&fake);
    let out = child.wait_with_output().expect("run velt-groups");
    let wall = start.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = fake.log();
    let span = log.last().unwrap().at - log.first().unwrap().at;
    Result {
        wall,
        requests: log.len(),
        achieved: (log.len() - 1) as f64 / span.as_secs_f64(),
        added: fake.groups().values().map(|g| g.len()).sum(),
        limited: log.iter().filter(|l| l.status == 429).count(),
        accepted_at: log.iter().filter(|l| l.status / 100 == 2).map(|l| l.at).collect(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let sweep = args.iter().any(|a| a == "--sweep");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-upload");
    std::fs::create_dir_all(&dir).unwrap();
    if args.iter().any(|a| a == "--members") {
        return members(&dir, if quick { 2_000 } else { 20_000 });
    }
    if args.iter().any(|a| a == "--auto") {
        return auto(&dir, quick);
    }
    let groups = if quick { 500 } else { 2000 };
    let rate = 50.0;
    let latency = Duration::from_millis(100);

    println!("{groups} groups, --chunk-size 1, --rate {rate}, server latency 100 ms, --concurrency 16 (default)");
    println!();
    println!(
        "| scenario | requests | 429s | achieved rate | vs --rate | wall time | ideal | wall vs ideal | groups added |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let server_rate = rate / 2.0;
    let scenarios = [
        ("server unlimited".to_owned(), rate, "", None),
        (
            format!("server limited to {server_rate}/s"),
            server_rate,
            " of server",
            Some(server_rate),
        ),
    ];
    for (label, target, of, rate_limit) in scenarios {
        let config = FakeConfig {
            latency,
            rate_limit,
            ..FakeConfig::default()
        };
        let r = run(&dir, groups, rate, 16, config);
        let ideal = groups as f64 / target;
        println!(
            "| {label} | {} | {} | {:.2}/s | {:.1}%{of} | {:.2} s | {:.2} s | {:+.1}% | {} |",
            r.requests,
            r.limited,
            r.achieved,
            100.0 * r.achieved / target,
            r.wall.as_secs_f64(),
            ideal,
            100.0 * (r.wall.as_secs_f64() / ideal - 1.0),
            r.added
        );
    }

    if sweep {
        let n = if quick { 100 } else { 250 };
        println!();
        println!("Sweep: {n} groups, --rate {rate}; achieved / target rate");
        println!();
        println!(
            "| latency | --concurrency 1 | --concurrency 4 | --concurrency 16 | smallest concurrency reaching 95% |"
        );
        println!("|---|---|---|---|---|");
        for ms in [10u64, 100, 400] {
            let mut cells = Vec::new();
            let mut smallest = None;
            for c in [1usize, 4, 16] {
                let r = run(
                    &dir,
                    n,
                    rate,
                    c,
                    FakeConfig {
                        latency: Duration::from_millis(ms),
                        ..FakeConfig::default()
                    },
                );
                let share = r.achieved / rate;
                if share >= 0.95 && smallest.is_none() {
                    smallest = Some(c);
                }
                cells.push(format!("{:.0}%", 100.0 * share));
            }
            println!(
                "| {ms} ms | {} | {} | {} | {} |",
                cells[0],
                cells[1],
                cells[2],
                smallest.map_or("none of 1/4/16".to_owned(), |c| c.to_string())
            );
        }
    }
}

/// A full directory sync against the strictest server (no upsert, 500 partial failures,
/// organization users required): groups, then every employee as an organization user, then
/// into their department's group; and the next night with 1% joiners and 1% leavers.
fn members(dir: &std::path::Path, employees: usize) {
    let departments = 200;
    let rate = 50.0;
    let fake = FakeVelt::start(FakeConfig {
        latency: Duration::from_millis(50),
        ..FakeConfig::strict()
    });
    let write = |name: &str, people: &[usize]| {
        let path = dir.join(name);
        let mut text = String::from("Employee ID,First Name,Last Name,Work Email,Department\n");
        for &i in people {
            text.push_str(&format!(
                "{i},Ada{i},Lovelace,e{i}@example.com,Department {:03}\n",
                i % departments
            ));
        }
        std::fs::write(&path, text).unwrap();
        path
    };
    let run = |input: &std::path::Path| {
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_velt-groups"))
            .args(["import", "--quiet", "--members", "--org", "bench", "--rate", "50"])
            .args(["--state", dir.join("state.db").to_str().unwrap(), "--remove-departed"])
            .args(["--api-base", &fake.url()])
            .args(["--report", dir.join("members-report.csv").to_str().unwrap()])
            .arg(input)
            .env("VELT_API_KEY", API_KEY)
            .env("VELT_AUTH_TOKEN", AUTH_TOKEN)
            .output()
            .expect("run velt-groups");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        start.elapsed()
    };
    // Ideal requests: groups by 20, users by 30, each group's adds and removals by 25.
    let ideal = |groups: usize, users: usize, per_group: &[(usize, usize)]| {
        let members: usize = per_group.iter().map(|(a, r)| a.div_ceil(25) + r.div_ceil(25)).sum();
        (groups.div_ceil(20), users.div_ceil(30), members)
    };
    println!();
    println!(
        "Directory sync against the strict fake: {employees} employees in {departments} departments, --rate {rate}, server latency 50 ms"
    );
    println!();
    println!(
        "| night | group / user / member requests | ideal | all requests | wall time | ideal time | wall vs ideal |"
    );
    println!("|---|---|---|---|---|---|---|");
    let row = |night: &str,
               wall: Duration,
               before: &std::collections::BTreeMap<String, usize>,
               ideal: (usize, usize, usize)| {
        let after = fake.requests_by_path();
        let count = |path: &str| after.get(path).copied().unwrap_or(0) - before.get(path).copied().unwrap_or(0);
        let sent = (
            count(fake_velt::ADD_GROUPS),
            count(fake_velt::ADD_USERS),
            count(fake_velt::ADD_MEMBERS) + count(fake_velt::REMOVE_MEMBERS),
        );
        let all = sent.0 + sent.1 + sent.2;
        let ideal_all = ideal.0 + ideal.1 + ideal.2;
        let ideal_time = ideal_all as f64 / rate;
        println!(
            "| {night} | {} / {} / {} | {} / {} / {} | {all} | {:.2} s | {:.2} s | {:.2}x |",
            sent.0,
            sent.1,
            sent.2,
            ideal.0,
            ideal.1,
            ideal.2,
            wall.as_secs_f64(),
            ideal_time,
            wall.as_secs_f64() / ideal_time
        );
    };
    let everyone: Vec<usize> = (0..employees).collect();
    let first = write("night1.csv", &everyone);
    let before = fake.requests_by_path();
    let wall = run(&first);
    let per_group = vec![(employees / departments, 0); departments];
    row("first import", wall, &before, ideal(departments, employees, &per_group));
    assert_eq!(fake.org_users("bench").len(), employees);

    // 1% leave (every 100th), 1% join (new IDs).
    let churn = employees / 100;
    let mut tonight: Vec<usize> = everyone.iter().copied().filter(|i| i % 100 != 7).collect();
    tonight.extend(employees..employees + churn);
    let second = write("night2.csv", &tonight);
    let mut per_group = vec![(0usize, 0usize); departments];
    for i in (0..employees).filter(|i| i % 100 == 7) {
        per_group[i % departments].1 += 1;
    }
    for i in employees..employees + churn {
        per_group[i % departments].0 += 1;
    }
    let before = fake.requests_by_path();
    let wall = run(&second);
    row(
        "next night, 1% joiners and leavers",
        wall,
        &before,
        ideal(0, churn, &per_group),
    );
}

/// Issue #13: `--rate auto`, and a fixed `--rate` at exactly the server's limit.
fn auto(dir: &std::path::Path, quick: bool) {
    let n = if quick { 500 } else { 2000 };
    let (limit, burst) = (37.0, 5.0);
    let latency = Duration::from_millis(50);
    let limited = || FakeConfig {
        latency,
        rate_limit: Some(limit),
        rate_burst: Some(burst),
        ..FakeConfig::default()
    };
    let bin = env!("CARGO_BIN_EXE_velt-groups");
    let before = std::env::var("VELT_GROUPS_BEFORE").ok();
    println!("{n} one-group requests (--chunk-size 1), server latency 50 ms, --concurrency 16 unless said");
    println!();
    println!("| scenario | requests | 429s | 429 share | server-side rate | wall time | ideal | wall / ideal |");
    println!("|---|---|---|---|---|---|---|---|");
    let row = |label: &str, r: &Result, ideal: f64| {
        println!(
            "| {label} | {} | {} | {:.1}% | {:.2}/s | {:.2} s | {:.2} s | {:.2}x |",
            r.requests,
            r.limited,
            100.0 * r.limited as f64 / r.requests as f64,
            r.achieved,
            r.wall.as_secs_f64(),
            ideal,
            r.wall.as_secs_f64() / ideal
        );
        assert_eq!(r.added, n, "every group added");
    };
    let ideal = n as f64 / limit;
    let r = run_with(bin, dir, n, &["--rate", "auto"], limited(), |_| {});
    row(
        &format!("`--rate auto`, server limited to {limit}/s, burst {burst} (not told)"),
        &r,
        ideal,
    );
    let fixed = ["--rate", "37", "--burst", "5"];
    let r = run_with(bin, dir, n, &fixed, limited(), |_| {});
    row("`--rate 37 --burst 5`, the server's exact limit", &r, ideal);
    if let Some(before) = &before {
        let r = run_with(before, dir, n, &fixed, limited(), |_| {});
        row("the same, build before #13 (`VELT_GROUPS_BEFORE`)", &r, ideal);
    }
    let unlimited = FakeConfig {
        latency,
        ..FakeConfig::default()
    };
    let r = run_with(
        bin,
        dir,
        n,
        &["--rate", "auto", "--concurrency", "16"],
        unlimited,
        |_| {},
    );
    row(
        "`--rate auto --concurrency 16`, no server limit",
        &r,
        n as f64 / (16.0 / 0.05),
    );

    // A limit that halves at 10 s and comes back at 20 s (from the start of the run).
    let m = if quick { 600 } else { 1200 };
    let (at_half, at_back) = (Duration::from_secs(10), Duration::from_secs(20));
    let started = Instant::now();
    let r = run_with(bin, dir, m, &["--rate", "auto"], limited(), |fake| {
        std::thread::sleep(at_half.saturating_sub(started.elapsed()));
        fake.configure(|c| c.rate_limit = Some(limit / 2.0));
        std::thread::sleep(at_back.saturating_sub(started.elapsed()));
        fake.configure(|c| c.rate_limit = Some(limit));
    });
    // Ideal: the time at which a client taking exactly what the server allows has had m
    // requests accepted.
    let by_back = limit * at_half.as_secs_f64() + limit / 2.0 * (at_back - at_half).as_secs_f64();
    let ideal = if (m as f64) <= by_back {
        f64::NAN
    } else {
        at_back.as_secs_f64() + (m as f64 - by_back) / limit
    };
    println!();
    println!(
        "{m} one-group requests, `--rate auto`, server limit {limit}/s, {}/s from 10 s to 20 s, then {limit}/s again",
        limit / 2.0
    );
    println!();
    println!("| requests | 429s | 429 share | wall time | ideal | wall / ideal |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {:.1}% | {:.2} s | {:.2} s | {:.2}x |",
        r.requests,
        r.limited,
        100.0 * r.limited as f64 / r.requests as f64,
        r.wall.as_secs_f64(),
        ideal,
        r.wall.as_secs_f64() / ideal
    );
    println!();
    println!("Accepted (2xx) requests per second, as the server saw them, per 2-second stretch:");
    println!();
    let end = r.accepted_at.last().map_or(0, |t| t.as_secs() as usize / 2 + 1);
    let mut bins = vec![0usize; end];
    for t in &r.accepted_at {
        bins[t.as_secs() as usize / 2] += 1;
    }
    println!("| from | limit | accepted | share of the limit |");
    println!("|---|---|---|---|");
    for (i, count) in bins.iter().enumerate() {
        let from = Duration::from_secs(2 * i as u64);
        let limit = if from >= at_half && from < at_back {
            limit / 2.0
        } else {
            limit
        };
        // The last stretch is cut short by the end of the run.
        let note = if i + 1 == end { " (run ends)" } else { "" };
        println!(
            "| {} s | {limit}/s | {:.1}/s | {:.0}%{note} |",
            2 * i,
            *count as f64 / 2.0,
            100.0 * *count as f64 / 2.0 / limit
        );
    }
    assert_eq!(r.added, m, "every group added");
}
