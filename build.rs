//! Sets `VELT_GROUPS_VERSION` for `--version`: the package version, then the commit and the
//! build date when built from a git checkout (`0.1.0 (commit 1a2b3c4d5e6f, built 2026-11-28)`),
//! so a binary found on a server says which source it came from. Outside git (a source
//! archive, `cargo install` from a copy) it is the package version alone.
//! `SOURCE_DATE_EPOCH` (reproducible builds) sets the date when given.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let full = match commit() {
        Some(commit) => format!("{version} (commit {commit}, built {})", build_date()),
        None => version.to_owned(),
    };
    println!("cargo:rustc-env=VELT_GROUPS_VERSION={full}");
}

/// The commit checked out, and the files that change when another one is: a new commit or
/// branch moves `HEAD` or the ref it names, so the version is rebuilt then and only then.
fn commit() -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    let branch = git(&["symbolic-ref", "-q", "HEAD"]);
    for name in ["HEAD", "packed-refs"].into_iter().chain(branch.as_deref()) {
        // `--git-path` finds the file in a worktree too. A file that does not exist is not
        // watched (cargo would rerun this script on every build), but a branch packed into
        // `packed-refs` gets its loose file on the next commit: its folder is watched then.
        let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", name]) else {
            continue;
        };
        let path = std::path::PathBuf::from(path);
        let watch = if path.exists() || Some(name) != branch.as_deref() {
            path
        } else {
            path.parent().map(ToOwned::to_owned).unwrap_or(path)
        };
        if watch.exists() {
            println!("cargo:rerun-if-changed={}", watch.display());
        }
    }
    Some(commit)
}

/// Today (UTC) as `YYYY-MM-DD`, or the day of `SOURCE_DATE_EPOCH`.
fn build_date() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    let (y, m, d) = civil_from_days(seconds.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm), so the
/// build needs no date crate.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
