use super::*;

#[test]
fn delimiters() {
    assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
    assert_eq!(parse_delimiter(";").unwrap(), b';');
    assert!(parse_delimiter("ab").is_err());
    assert!(parse_delimiter("a").is_err());
    assert!(parse_delimiter("\"").is_err());
}

#[test]
fn limits() {
    assert_eq!(parse_limit("25").unwrap(), Limit::Count(25));
    assert_eq!(parse_limit(" 10% ").unwrap(), Limit::Share(0.10));
    assert!(parse_limit("lots").is_err());
    assert!(parse_limit("150%").is_err());
}

fn args(line: &str) -> Vec<OsString> {
    line.split_whitespace().map(OsString::from).collect()
}

#[test]
fn flags_that_need_another_are_refused() {
    for (line, want) in [
        ("vg import --dry-run --full x.csv", "--full needs --state"),
        (
            "vg import --dry-run --remove-departed --state s.db x.csv",
            "--remove-departed needs --members",
        ),
        (
            "vg import --dry-run --remove-departed --members x.csv",
            "--remove-departed needs --state",
        ),
    ] {
        let err = parse(args(line)).unwrap_err().to_string();
        assert!(err.starts_with(want), "{line}: {err}");
    }
}

/// Regression (review): extreme numbers made the pace or a Duration panic.
#[test]
fn numbers_no_clock_can_hold_are_refused() {
    for (line, want) in [
        (
            "vg import --dry-run --rate 1e10 x.csv",
            "--rate must be between 0.001 and 1000000",
        ),
        (
            "vg import --dry-run --rate 1e-20 x.csv",
            "--rate must be between 0.001 and 1000000",
        ),
        (
            "vg import --dry-run --rate auto --max-rate 1e-20 x.csv",
            "--max-rate must be between",
        ),
        (
            "vg import --dry-run --timeout 1e20 x.csv",
            "--timeout must be at most 86400 seconds",
        ),
    ] {
        let err = parse(args(line)).unwrap_err().to_string();
        assert!(err.starts_with(want), "{line}: {err}");
    }
}

#[test]
fn a_negative_rate_gets_our_message() {
    let err = parse(args("vg import --dry-run --rate -1 x.csv"))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "--rate must be a positive number of requests per second, not -1");
    let err = parse(args("vg import --dry-run --rate auto --max-rate 0 x.csv"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "--max-rate must be a positive number of requests per second, not 0"
    );
}

fn rate_of(line: &str) -> crate::upload::Rate {
    match parse(args(line)).unwrap().command {
        CommandSettings::Import(s) => s.upload.rate,
        _ => unreachable!("an import line"),
    }
}

#[test]
fn rate_is_a_number_or_auto() {
    use crate::upload::Rate;
    assert_eq!(rate_of("vg import --dry-run x.csv"), Rate::Fixed(5.0));
    assert_eq!(rate_of("vg import --dry-run --rate 0.5 x.csv"), Rate::Fixed(0.5));
    assert_eq!(
        rate_of("vg import --dry-run --rate auto x.csv"),
        Rate::Auto { max: 500.0 }
    );
    assert_eq!(
        rate_of("vg import --dry-run --rate AUTO --max-rate 40 x.csv"),
        Rate::Auto { max: 40.0 }
    );
    let err = parse(args("vg import --dry-run --rate fast x.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expected a number of requests per second or \"auto\""),
        "{err}"
    );
}
