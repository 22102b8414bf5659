//! Shared by the reader targets: write the bytes to a file and run read + map + normalize.

use std::path::PathBuf;

use velt_groups::input::{self, InputSettings};

/// Reads `data` as a file named `name` (the extension is only a hint: content decides).
pub fn read_file(name: &str, data: &[u8]) {
    let path = std::env::temp_dir().join(format!("velt-fuzz-{}-{name}", std::process::id()));
    std::fs::write(&path, data).expect("write the input");
    let mut settings = InputSettings {
        paths: vec![PathBuf::from(&path)],
        ..InputSettings::default()
    };
    settings.map.org = Some("fuzz".into());
    // Errors are fine (most inputs are garbage); panics and hangs are what is looked for.
    if let Ok(plan) = input::load(&settings) {
        for org in &plan.organizations {
            for g in &org.groups {
                assert!(velt_groups::normalize::slug::is_valid_id(&g.id), "{:?}", g.id);
            }
        }
    }
}
