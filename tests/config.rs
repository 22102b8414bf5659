use fake_velt::{FakeConfig, FakeVelt, API_KEY, AUTH_TOKEN};

use crate::workdir::Workdir;

#[test]
fn every_option_from_a_file_with_flags_winning() {
    let w = Workdir::new();
    std::fs::create_dir_all(w.path("etc")).unwrap();
    w.write("etc/hr.csv", "Department\nSales\nLegal\nOps\n");
    let fake = FakeVelt::start(FakeConfig::default());
    let config = format!(
        "inputs = [\"hr.csv\"]\norg = \"acme\"\napi-base = \"{}\"\nrate = 400.0\nchunk-size = 1\n\
         report = \"out/report.json\"\nstate = \"state.db\"\nquiet = true\n\
         api-key = \"{API_KEY}\"\nauth-token = \"{AUTH_TOKEN}\"\n",
        fake.url()
    );
    std::fs::create_dir_all(w.path("etc/out")).unwrap();
    w.write("etc/vg.toml", config);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(w.path("etc/vg.toml"), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    // Run from another directory: paths in the file are relative to the file.
    let run = w.run(&["import", "--config", "etc/vg.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.requests(), 3, "chunk-size 1 from the file");
    assert!(w.path("etc/out/report.json").exists());
    assert!(w.path("etc/state.db").exists());
    #[cfg(unix)]
    assert!(
        run.stderr
            .contains("warning: etc/vg.toml holds credentials and others can read it; chmod 600 it"),
        "{}",
        run.stderr
    );

    // A flag beats the file; the state (from the file) makes unchanged groups free.
    w.write("etc/hr.csv", "Department\nSales\nLegal\nOps\nFinance\nSupport\n");
    let run = w.run(&["import", "--config", "etc/vg.toml", "--chunk-size", "5"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.requests(), 4, "one request of 2 new groups");
    assert_eq!(fake.log()[3].groups, vec!["finance", "support"]);
}

#[test]
fn the_environment_beats_file_credentials() {
    let w = Workdir::new();
    w.write("hr.csv", "Department\nSales\n");
    let fake = FakeVelt::start(FakeConfig::default());
    w.write(
        "vg.toml",
        format!(
            "org = \"acme\"\napi-base = \"{}\"\napi-key = \"wrong\"\nauth-token = \"wrong\"\n",
            fake.url()
        ),
    );
    let refused = w.run(&[
        "import", "--quiet", "--config", "vg.toml", "--report", "r.csv", "hr.csv",
    ]);
    assert_eq!(
        refused.code, 2,
        "the file's wrong credentials are used: {}",
        refused.stderr
    );
    let env = [("VELT_API_KEY", API_KEY), ("VELT_AUTH_TOKEN", AUTH_TOKEN)];
    let ok = w.run_env(
        &[
            "import", "--quiet", "--config", "vg.toml", "--report", "r.csv", "hr.csv",
        ],
        &env,
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
}

#[test]
fn a_bad_config_file_is_a_located_error() {
    let w = Workdir::new();
    w.write("vg.toml", "org = \"acme\"\nrate = \"fast\"\n");
    let run = w.run(&["check", "--config", "vg.toml", "x.csv"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.err_lines().len(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: vg.toml, line 2: invalid value: string \"fast\", expected a number of requests per second or \"auto\""),
        "{}",
        run.stderr
    );
    let missing = w.run(&["check", "--config", "nope.toml", "x.csv"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .starts_with("error: cannot read the config file nope.toml: "),
        "{}",
        missing.stderr
    );
}

#[test]
fn the_sample_config_parses() {
    let w = Workdir::new();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/velt-groups.toml");
    std::fs::copy(&sample, w.path("velt-groups.toml")).unwrap();
    std::fs::copy(sample.with_file_name("employees.xlsx"), w.path("employees.xlsx")).unwrap();
    let run = w.run(&["import", "--config", "velt-groups.toml", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("dry run: would send 9 groups in 1 request to https://api.velt.dev/"),
        "{}",
        run.stderr
    );
    assert!(w.path("velt-groups-report.xlsx").exists());
}

/// A webhook URL carries its token: a config value of the wrong shape is refused without
/// quoting it, as an API key is.
#[test]
fn a_misshapen_secret_in_the_config_is_not_quoted_back() {
    let w = Workdir::new();
    w.write("hr.csv", "Department\nSales\n");
    for (config, key) in [
        (
            "notify = \"https://hooks.slack.com/services/T0/B0/SECRETTOKEN123\"\n",
            "notify",
        ),
        ("api-key = 123456789012345\n", "api-key"),
        ("auth-token = [\"SECRETTOKEN123\"]\n", "auth-token"),
    ] {
        w.write("vg.toml", config);
        let run = w.run(&["import", "--dry-run", "--org", "acme", "--config", "vg.toml", "hr.csv"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(!run.stderr.contains("SECRETTOKEN123"), "{}", run.stderr);
        assert!(!run.stderr.contains("123456789012345"), "{}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("vg.toml, line 1: the value of {key} cannot be read")),
            "{}",
            run.stderr
        );
    }
}
