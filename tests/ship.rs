//! What ships with the binary and what it needs around it: shell completions, the man page,
//! `--version`, and reaching the server the way a company network makes it: through an HTTPS
//! proxy (`HTTPS_PROXY`, `NO_PROXY`) and with a private CA (`--ca-file`).

use fake_velt::{ConnectProxy, FakeConfig, FakeVelt};

use crate::workdir::{Run, Workdir, CREDS};

#[test]
fn completions_for_every_shell_name_the_commands() {
    let w = Workdir::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = w.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.len() > 500, "{shell}: {} bytes", run.stdout.len());
        // Fish spells flags `-l api-base`.
        for word in ["import", "check", "api-base", "ca-file"] {
            assert!(run.stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    let run = w.run(&["completions", "tcsh"]);
    assert_eq!(run.code, 2, "an unknown shell is a usage error");
}

#[test]
fn the_man_page_documents_every_command_and_flag() {
    let w = Workdir::new();
    let run = w.run(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = &run.stdout;
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "roff: {}",
        &page[..40]
    );
    assert!(page.contains(".TH velt-groups 1"), "title line");
    // roff escapes dashes: `\-\-api\-base`.
    let plain = page.replace("\\-", "-");
    for text in [
        "--api-base",
        "--ca-file",
        "--name-column",
        "VELT-GROUPS IMPORT",
        "VELT-GROUPS CHECK",
    ] {
        assert!(plain.contains(text), "the man page lacks {text}");
    }
    assert!(!plain.contains("VELT-GROUPS HELP") && !plain.contains("VELT-GROUPS MAN"));
    // Hidden from help and completions: it is for packaging.
    let help = w.run(&["--help"]);
    assert!(!help.stdout.contains("man "), "{}", help.stdout);
}

#[test]
fn completions_and_man_are_not_config_keys() {
    let w = Workdir::new();
    w.write("c.toml", "shell = \"bash\"\n");
    let run = w.run(&["check", "--config", "c.toml", "x.csv"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown field `shell`"), "{}", run.stderr);
}

#[test]
fn version_names_the_commit_and_build_date_from_git() {
    let w = Workdir::new();
    let run = w.run(&["--version"]);
    assert_eq!(run.code, 0);
    let line = run.stdout.trim();
    let version = concat!("velt-groups ", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(version), "{line}");
    // Built from a git checkout (as CI and this suite are): the commit and the date follow.
    let in_git = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success());
    if let Some(out) = in_git {
        let head = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let rest = &line[version.len()..];
        assert!(
            rest.starts_with(&format!(" (commit {head}, built 20")),
            "{line} vs HEAD {head}"
        );
        assert!(rest.ends_with(')') && rest.len() == " (commit , built 2026-01-01)".len() + head.len());
    }
}

/// `import` of the sample department list (7 groups) against `fake`, with `env` on top of the
/// credentials, and quick retries ([`Workdir::command`] removes the caller's proxy variables).
/// With a proxy in `env`, the fake is addressed by its remote name, which only the proxy
/// resolves: a loopback address is never proxied.
fn import_via(w: &Workdir, fake: &FakeVelt, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let proxied = fake.ca_pem().is_some()
        && env.iter().any(|(k, _)| k.eq_ignore_ascii_case("https_proxy"))
        && !env.iter().any(|(k, _)| k.eq_ignore_ascii_case("no_proxy"));
    let url = if proxied { fake.remote_url() } else { fake.url() };
    let mut args = vec![
        "import",
        "--quiet",
        "--org",
        "acme",
        "--api-base",
        &url,
        "--max-retries",
        "1",
        "--backoff-min-ms",
        "10",
        "--backoff-max-ms",
        "50",
        "--report",
        "report.csv",
    ];
    args.extend_from_slice(extra);
    args.push("departments.csv");
    let env: Vec<(&str, &str)> = CREDS.iter().copied().chain(env.iter().copied()).collect();
    w.run_env(&args, &env)
}

fn setup() -> (Workdir, FakeVelt, ConnectProxy) {
    let w = Workdir::new();
    let sample = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/departments.csv")).unwrap();
    w.write("departments.csv", sample);
    let fake = FakeVelt::start_tls(FakeConfig::default());
    w.write("ca.pem", fake.ca_pem().unwrap());
    (w, fake, ConnectProxy::start())
}

/// The corporate path end to end: HTTPS to a server whose certificate only a private CA
/// vouches for, through a CONNECT proxy named by HTTPS_PROXY.
#[test]
fn https_through_a_connect_proxy_with_a_private_ca() {
    let (w, fake, proxy) = setup();
    let port = fake.url().rsplit(':').next().unwrap().to_owned();
    let run = import_via(&w, &fake, &["--ca-file", "ca.pem"], &[("HTTPS_PROXY", &proxy.url())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.groups_of("acme").len(), 7, "{:?}", fake.groups());
    // Every request went through the proxy's tunnel (pooled connections share a tunnel), and
    // the proxy saw nothing but CONNECTs to the server.
    let seen = proxy.requests();
    assert!(!seen.is_empty(), "the proxy saw no request");
    for line in &seen {
        assert_eq!(line, &format!("CONNECT velt.test:{port} HTTP/1.1"));
    }
    assert!(fake.requests() >= 1);
}

/// Without --ca-file the same server is refused: the private CA is in neither the bundled
/// roots nor the system's store, so the file is what made the run above work. The proxy is
/// still used (the tunnel opens; the handshake inside it fails).
#[test]
fn a_private_ca_is_refused_without_ca_file() {
    let (w, fake, proxy) = setup();
    let run = import_via(&w, &fake, &[], &[("https_proxy", &proxy.url())]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("invalid peer certificate: UnknownIssuer"),
        "{}",
        run.stderr
    );
    assert!(run
        .stderr
        .contains("note: the server's certificate is signed by a CA this machine does not trust"));
    assert!(run.stderr.contains("--ca-file"), "{}", run.stderr);
    assert_eq!(fake.requests(), 0, "no request got through the handshake");
    assert!(fake.groups_of("acme").is_empty());
    assert!(!proxy.requests().is_empty(), "lower-case https_proxy is honoured too");
}

/// NO_PROXY sends the server's host around the proxy; the CA comes from the config file,
/// relative to it.
#[test]
fn no_proxy_bypasses_the_proxy_and_ca_file_is_a_config_key() {
    let (w, fake, proxy) = setup();
    std::fs::create_dir(w.path("etc")).unwrap();
    std::fs::rename(w.path("ca.pem"), w.path("etc/ca.pem")).unwrap();
    w.write("etc/velt-groups.toml", "ca-file = \"ca.pem\"\n");
    let run = import_via(
        &w,
        &fake,
        &["--config", "etc/velt-groups.toml"],
        &[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", "example.com, localhost")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.groups_of("acme").len(), 7);
    assert_eq!(proxy.requests(), Vec::<String>::new(), "NO_PROXY was ignored");
}

/// Regression (issue 21): HTTP_PROXY / ALL_PROXY / HTTPS_PROXY applied to a loopback
/// --api-base, so both credentials went in clear text to the proxy. Loopback is never proxied,
/// whatever the variables say, in any case.
#[test]
fn a_loopback_api_base_is_never_proxied() {
    let w = Workdir::new();
    let sample = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/departments.csv")).unwrap();
    w.write("departments.csv", sample);
    let fake = FakeVelt::start(FakeConfig::default());
    let proxy = ConnectProxy::start();
    let url = proxy.url();
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY"] {
        let run = import_via(&w, &fake, &[], &[(var, &url)]);
        assert_eq!(run.code, 0, "{var}: {}", run.stderr);
        assert_eq!(proxy.requests(), Vec::<String>::new(), "{var} carried the request");
    }
    assert_eq!(fake.groups_of("acme").len(), 7);
}

#[test]
fn a_ca_file_that_is_not_pem_stops_the_run_before_reading() {
    let w = Workdir::new();
    w.write("ca.pem", "not a certificate\n");
    let run = w.run_env(
        &["import", "--ca-file", "ca.pem", "--org", "acme", "missing.csv"],
        &CREDS,
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.trim(),
        "error: --ca-file ca.pem: holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    );
}
