//! Group IDs must never drift: a changed ID renames a group on the server. This file pins the
//! ID of a few hundred names in many scripts. Run with `VELT_GOLDEN_UPDATE=1` to rewrite it,
//! and only when the change is deliberate (it is a breaking change; say so in the CHANGELOG).

use std::path::Path;

use velt_groups::normalize::slug::{clean_name, name_id};

fn id_of(name: &str) -> String {
    name_id(&clean_name(name)).unwrap_or_else(|| "(none)".to_owned())
}

#[test]
fn group_ids_match_the_golden_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden-ids.tsv");
    let text = std::fs::read_to_string(&path).expect("golden file");
    let mut lines = Vec::new();
    let mut drift = Vec::new();
    for line in text.lines().skip(1) {
        let (name, want) = line.split_once('\t').expect("name<TAB>id");
        // Names are stored JSON-quoted so that white space and control characters survive.
        let name: String = serde_json::from_str(name).expect("JSON-quoted name");
        let got = id_of(&name);
        if got != want {
            drift.push(format!("{name:?}: golden {want}, now {got}"));
        }
        lines.push(format!("{}\t{got}", serde_json::to_string(&name).unwrap()));
    }
    assert!(lines.len() >= 300, "the golden file should pin a few hundred names");
    if std::env::var_os("VELT_GOLDEN_UPDATE").is_some() {
        std::fs::write(&path, format!("name\tgroup_id\n{}\n", lines.join("\n"))).unwrap();
        return;
    }
    assert!(
        drift.is_empty(),
        "group IDs drifted (a breaking change):\n{}",
        drift.join("\n")
    );
}
