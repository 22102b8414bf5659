//! Issue 21 §6: every option that means something to several commands is accepted by all of
//! them (`verify` refused `--quiet`, which `import` and `check` take). The table below names,
//! for every flag of every command, the commands it means something to; the test holds the
//! commands to it both ways, so a new flag is a decision, not an accident.

use std::collections::{BTreeMap, BTreeSet};

use clap::CommandFactory;

use crate::workdir::{Workdir, CREDS};

const CHECK: &str = "check";
const IMPORT: &str = "import";
const VERIFY: &str = "verify";
const UI: &str = "ui";

/// Reading the inputs: every command that reads an export (`ui` reads its files from the
/// page, and takes the rest as the page's starting choices).
const READS: &[&str] = &[CHECK, IMPORT, VERIFY, UI];
/// Talking to the server.
const SENDS: &[&str] = &[IMPORT, VERIFY, UI];

/// Flag (long name, or the positional's ID) -> the commands it means something to.
fn table() -> BTreeMap<&'static str, &'static [&'static str]> {
    let mut t: BTreeMap<&str, &[&str]> = BTreeMap::new();
    for flag in [
        "org",
        "name-column",
        "id-column",
        "org-column",
        "sheet",
        "header-row",
        "delimiter",
        "encoding",
        "members",
        "user-column",
        "keep-email-case",
        "full-name-column",
        "first-name-column",
        "last-name-column",
        "email-column",
        "strict-names",
        "id-prefix",
        // Who counts as current (issue 19).
        "status-column",
        "end-date-column",
        "start-date-column",
        "include-inactive",
        "as-of",
        "active-values",
        "inactive-values",
        "date-format",
        "where",
        // Kinds of group (issue 23).
        "group-by",
        "hierarchy-separator",
        "leaf-only",
    ] {
        t.insert(flag, READS);
    }
    // Issue 25: every command logs; a run that ends (not the page's server) is measured and
    // notified.
    t.insert("log-format", &[CHECK, IMPORT, VERIFY, UI]);
    for flag in ["metrics-file", "notify", "notify-on"] {
        t.insert(flag, &[CHECK, IMPORT, VERIFY]);
    }
    // The files: on the command line, but on the page for `ui`.
    t.insert("inputs", &[CHECK, IMPORT, VERIFY]);
    for flag in [
        "api-base",
        "api-key",
        "auth-token",
        "ca-file",
        "create-organization",
        "chunk-size",
        "member-chunk-size",
        "user-chunk-size",
        "access-role",
        "rate",
        "max-rate",
        "burst",
        "concurrency",
        "max-retries",
        "timeout",
        "backoff-min-ms",
        "backoff-max-ms",
    ] {
        t.insert(flag, SENDS);
    }
    // The state: what import writes, verify compares with, the page's imports write.
    t.insert("state", SENDS);
    // What an import does, from the terminal or from the page.
    t.insert("full", &[IMPORT, UI]);
    t.insert("remove-departed", &[IMPORT, UI]);
    t.insert("max-removals", &[IMPORT, UI]);
    // Printed findings on stdout: check's groups, verify's differences. (Import's outputs
    // are the report and the summary, in formats of their own.)
    t.insert("format", &[CHECK, VERIFY]);
    // Less on stderr for scheduled runs. (The page's terminal shows only its address.)
    t.insert("quiet", &[CHECK, IMPORT, VERIFY]);
    // Import's alone.
    for flag in [
        "dry-run",
        "allow-partial",
        "report",
        "summary-json",
        "repair",
        "check-state",
    ] {
        t.insert(flag, &[IMPORT]);
    }
    // The page's alone.
    for flag in ["port", "no-open"] {
        t.insert(flag, &[UI]);
    }
    t
}

#[test]
fn every_option_is_accepted_by_every_command_it_means_something_to() {
    let table = table();
    let cli = velt_groups::cli::Cli::command();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for command in [CHECK, IMPORT, VERIFY, UI] {
        let sub = cli.find_subcommand(command).unwrap();
        let flags: BTreeSet<String> = sub
            .get_arguments()
            .filter_map(|a| match a.get_long() {
                Some("help" | "version" | "config") => None,
                Some(long) => Some(long.to_owned()),
                None => a.is_positional().then(|| a.get_id().to_string()),
            })
            .collect();
        for flag in &flags {
            assert!(
                table.contains_key(flag.as_str()),
                "{command} --{flag} is in no row of the table: say which commands it means something to"
            );
        }
        let want: BTreeSet<String> = table
            .iter()
            .filter(|(_, commands)| commands.contains(&command))
            .map(|(flag, _)| (*flag).to_owned())
            .collect();
        let missing: Vec<&String> = want.difference(&flags).collect();
        // `ui` shares the input options' struct, positional files included; the files are
        // refused when given (the test below), not by the parser.
        let extra: Vec<&String> = flags
            .difference(&want)
            .filter(|f| !(command == UI && f.as_str() == "inputs"))
            .collect();
        assert!(missing.is_empty(), "{command} refuses {missing:?}");
        assert!(extra.is_empty(), "{command} takes {extra:?}, which mean nothing to it");
        seen.extend(flags);
    }
    let unused: Vec<&&str> = table.keys().filter(|f| !seen.contains(**f)).collect();
    assert!(unused.is_empty(), "rows for flags no command has: {unused:?}");
}

#[test]
fn ui_says_its_files_are_chosen_on_the_page() {
    let w = Workdir::new();
    w.write("departments.csv", "Department\nEngineering\n");
    let run = w.run(&["ui", "--no-open", "--org", "acme", "departments.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "error: ui takes its files on the page, not on the command line; drop departments.csv"
    );
}

/// The regression itself, end to end: `verify --quiet` (and `-q`) runs, and leaves out the
/// closing count line; so does `check --quiet`.
#[test]
fn verify_and_check_take_quiet() {
    let w = Workdir::new();
    w.write("departments.csv", "Department\nEngineering\n");
    let fake = fake_velt::FakeVelt::start(fake_velt::FakeConfig::default());
    let url = fake.url();
    for quiet in [None, Some("--quiet"), Some("-q")] {
        let mut args = vec!["verify", "--org", "acme", "--api-base", &url, "--members"];
        args.extend(quiet);
        args.extend(["--user-column", "Department", "departments.csv"]);
        let run = w.run_env(&args, &CREDS);
        assert_eq!(run.code, 1, "{quiet:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.contains("verify: 1 group read back"),
            quiet.is_none(),
            "{}",
            run.stderr
        );
        let mut args = vec!["check", "--org", "acme"];
        args.extend(quiet);
        args.push("departments.csv");
        let run = w.run(&args);
        assert_eq!(run.code, 0, "{quiet:?}: {}", run.stderr);
        assert_eq!(run.stderr.is_empty(), quiet.is_some(), "{quiet:?}: {}", run.stderr);
    }
}
