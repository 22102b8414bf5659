//! The module graph of `src/`, read from the source: every `crate::<module>` a top-level module
//! names is an edge, and every edge must point down the pipeline's layers. That makes the graph
//! acyclic and keeps lower stages from knowing higher ones (the reader knows nothing of
//! settings or upload; the normalizer nothing of reports).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Lowest first. A module may name only modules listed before it.
const LAYERS: &[&str] = &[
    "location",
    "wording",
    "secret",
    "read",
    "map",
    "normalize",
    "current",
    "input",
    "plan",
    "upload",
    "state",
    "report",
    "cli",
    "settings",
    "error",
    "console",
    "observe",
    "cmd",
    "ui",
];

/// Top-level module -> the top-level modules its files name.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = vec![src.clone()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let names = graph.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let before = text[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // `velt_groups::crate::`-like text, not a path of ours
            }
            let rest = &text[i + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let names_list: Vec<String> = if name.is_empty() && rest.starts_with('{') {
                // `use crate::{a, b::c}`
                let inner = &rest[1..rest.find('}').unwrap_or(rest.len())];
                inner
                    .split(',')
                    .map(|p| p.trim().split("::").next().unwrap_or("").to_owned())
                    .collect()
            } else {
                vec![name]
            };
            for n in names_list {
                if !n.is_empty() && n != module {
                    names.insert(n);
                }
            }
        }
    }
    graph
}

#[test]
fn every_module_is_in_a_layer() {
    for module in edges().keys() {
        assert!(
            LAYERS.contains(&module.as_str()),
            "src/{module} is in no layer: add it to LAYERS in tests/architecture.rs, where it belongs in the pipeline"
        );
    }
}

#[test]
fn the_module_graph_points_down_the_pipeline_and_has_no_cycle() {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut upward = Vec::new();
    for (from, names) in edges() {
        for to in names {
            match (rank(&from), rank(&to)) {
                (Some(a), Some(b)) if a > b => {}
                (_, None) => {} // an item re-exported at the crate root, or not a module
                _ => upward.push(format!("{from} -> {to}")),
            }
        }
    }
    assert!(upward.is_empty(), "modules that name a module above them: {upward:?}");
}

#[test]
fn the_reader_and_normalizer_know_nothing_of_later_stages() {
    let graph = edges();
    let allowed = |m: &str| -> BTreeSet<&str> {
        match m {
            "read" => ["location"].into(),
            "map" => ["location", "read"].into(),
            "normalize" => ["location", "map"].into(),
            _ => unreachable!(),
        }
    };
    for m in ["read", "map", "normalize"] {
        let names: BTreeSet<&str> = graph[m].iter().map(String::as_str).collect();
        assert!(names.is_subset(&allowed(m)), "{m} names {names:?}");
    }
}
