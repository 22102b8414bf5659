//! Issue 21 §5: the network. A path prefix in --api-base is kept; `--rate auto` reads server
//! slowness (timeouts), not only 429s, and advises sensibly when every request got a 429.
//! (Loopback is never proxied: `ship.rs`, beside the proxy tests.)

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Workdir, CREDS};

const STAFF: &str = "Employee ID,Name,Work Email,Department\n\
1,Ada Lovelace,ada@example.com,Engineering\n\
2,Grace Hopper,grace@example.com,Sales\n";

/// Regression: `--api-base http://host/prefix/` sent to `/v2/...` (the prefix dropped), while
/// the dry run named the prefix as the target.
#[test]
fn a_path_prefix_in_the_api_base_is_kept() {
    let fake = FakeVelt::start(FakeConfig {
        path_prefix: "/gateway/velt".into(),
        ..FakeConfig::default()
    });
    for (i, base) in [
        format!("{}/gateway/velt/", fake.url()),
        format!("{}/gateway/velt", fake.url()),
    ]
    .iter()
    .enumerate()
    {
        let w = Workdir::new();
        w.write("staff.csv", STAFF);
        let common = ["--org", "acme", "--api-base", base.as_str(), "--rate", "500"];
        let mut args = vec!["import", "--quiet", "--members", "--report", "r.json"];
        args.extend_from_slice(&common);
        args.push("staff.csv");
        let run = w.run_env(&args, &CREDS);
        assert_eq!(run.code, 0, "{base}: {}", run.stderr);
        assert_eq!(fake.groups_of("acme").len(), 2, "{base}");
        assert_eq!(fake.members_of("acme", "sales"), ["grace@example.com"], "{base}");
        assert_eq!(fake.answered(404), 0, "{base}: {:?}", fake.log());
        let mut args = vec!["verify"];
        args.extend_from_slice(&common);
        args.push("staff.csv");
        let verified = w.run_env(&args, &CREDS);
        assert_eq!(verified.code, 0, "{base}: {}", verified.stderr);
        assert_eq!(fake.requests_to(fake_velt::GET_USERS), 2 * (i + 1), "{base}");
    }
}
