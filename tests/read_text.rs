//! Department names as text: Unicode normalization and invisible formatting characters
//! (issue #12, items 4 and 5).

use crate::workdir::{g, groups, rows_of, Workdir};

#[test]
fn one_name_typed_composed_and_decomposed_is_one_group_sent_in_nfc() {
    let w = Workdir::new();
    // "Réseau" with U+00E9, then with "e" + U+0301 COMBINING ACUTE ACCENT.
    w.write("hr.csv", "Department\nR\u{E9}seau\nRe\u{301}seau\nre\u{301}seau\n");
    let (run, json) = w.check_json(&["--org", "acme", "hr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json["conflicts"], serde_json::json!([]));
    assert_eq!(groups(&json), vec![g("acme", "reseau", "R\u{E9}seau")]);
    assert_eq!(rows_of(&json), vec![("reseau".into(), vec![2, 3, 4])]);
    // The decomposed spelling alone is sent composed.
    w.write("nfd.csv", "Department\nRe\u{301}seau\n");
    let (run, json) = w.check_json(&["--org", "acme", "nfd.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("acme", "reseau", "R\u{E9}seau")]);
}

#[test]
fn bidi_controls_and_other_invisible_format_characters_are_removed_with_a_warning() {
    let w = Workdir::new();
    w.write(
        "hr.csv",
        "Department\nSales\n\u{202E}selaS\nLe\u{200E}gal\n\u{2066}Ops\u{2069}\nHR\u{61C}\nIT\u{AD}\n",
    );
    let (run, json) = w.check_json(&["--org", "acme", "hr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![
            g("acme", "hr", "HR"),
            g("acme", "it", "IT"),
            g("acme", "legal", "Legal"),
            g("acme", "ops", "Ops"),
            g("acme", "sales", "Sales"),
            g("acme", "selas", "selaS"),
        ]
    );
    let warned: Vec<(u64, String)> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["severity"], "warning", "{p}");
            assert_eq!(p["column"], "Department", "{p}");
            (p["row"].as_u64().unwrap(), p["message"].as_str().unwrap().to_owned())
        })
        .collect();
    let msg = |codes: &str| {
        format!("the department name holds invisible formatting characters ({codes}) that could make it display as something else; they are removed")
    };
    assert_eq!(
        warned,
        vec![
            (3, msg("U+202E")),
            (4, msg("U+200E")),
            (5, msg("U+2066, U+2069")),
            (6, msg("U+061C")),
            (7, msg("U+00AD")),
        ]
    );
}
