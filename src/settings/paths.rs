//! Output paths checked against the inputs before anything is read: a report, summary or
//! state written over an input would destroy the export it was made from.

use std::path::{Path, PathBuf};

use super::SettingsError;

/// Refuses any output (`(flag, path)`) that is the same file as one of `inputs`, by name,
/// symlink or hard link.
pub(super) fn refuse_outputs_over_inputs(
    outputs: &[(&'static str, &Path)],
    inputs: &[PathBuf],
) -> Result<(), SettingsError> {
    for (flag, output) in outputs {
        if let Some(input) = inputs.iter().find(|input| same_file(output, input)) {
            return Err(SettingsError::OutputIsInput {
                flag,
                output: output.to_path_buf(),
                input: input.clone(),
            });
        }
    }
    Ok(())
}

/// Refuses any output that names a file the run reads or holds besides the inputs (the config
/// file, the CA file, the state's lock and journal files): by name, since they may not exist
/// yet, or as one existing file.
pub(super) fn refuse_outputs_over_held(
    outputs: &[(&'static str, &Path)],
    held: &[(&'static str, PathBuf)],
) -> Result<(), SettingsError> {
    for (flag, output) in outputs {
        if let Some((what, path)) = held.iter().find(|(_, h)| same_name(output, h) || same_file(output, h)) {
            return Err(SettingsError::OutputIsHeld {
                flag,
                output: output.to_path_buf(),
                what,
                path: path.clone(),
            });
        }
    }
    Ok(())
}

/// The files a run reads or holds besides its inputs, which no output may name: the config
/// file, the CA file and the state's lock and journal files.
pub(super) fn held(
    config: Option<&Path>,
    ca_file: Option<&Path>,
    state: Option<&Path>,
) -> Vec<(&'static str, PathBuf)> {
    let mut held: Vec<(&'static str, PathBuf)> = Vec::new();
    held.extend(config.map(|c| ("the --config file", c.to_owned())));
    held.extend(ca_file.map(|c| ("the --ca-file", c.to_owned())));
    held.extend(state.map(state_companions).unwrap_or_default());
    held
}

/// The files a state file comes with: its lock and SQLite's journal files, beside the path
/// as given and beside the file a symlink leads to (where the state opens them).
pub(super) fn state_companions(state: &Path) -> Vec<(&'static str, PathBuf)> {
    let real = crate::state::canonical(state);
    let mut all = Vec::new();
    for state in [state, real.as_path()] {
        let beside = |suffix: &str| {
            let mut name = state.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        all.extend([
            ("the --state file's lock", beside(".lock")),
            ("the --state file's journal", beside("-wal")),
            ("the --state file's journal", beside("-shm")),
            ("the --state file's journal", beside("-journal")),
        ]);
    }
    all
}

/// Whether two paths name one file by name (absolute, `.` and `..` resolved as far as the
/// folders exist, so `./s.db`, `dir/../s.db` and a symlinked folder count).
fn same_name(a: &Path, b: &Path) -> bool {
    let name = |p: &Path| {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
        match (abs.parent().and_then(|d| d.canonicalize().ok()), abs.file_name()) {
            (Some(dir), Some(file)) => dir.join(file),
            _ => abs,
        }
    };
    name(a) == name(b)
}

/// Refuses two outputs that name one file (the summary written over the state database, say):
/// by name, since they may not exist yet, or as one existing file.
pub(super) fn refuse_clashing_outputs(outputs: &[(&'static str, &Path)]) -> Result<(), SettingsError> {
    for (i, (flag, a)) in outputs.iter().enumerate() {
        for (other, b) in &outputs[i + 1..] {
            if flag != other && (same_name(a, b) || same_file(a, b)) {
                return Err(SettingsError::OutputsClash {
                    first: flag,
                    second: other,
                    path: a.to_path_buf(),
                });
            }
        }
    }
    Ok(())
}

/// Whether two paths name one existing file: the same (device, inode) on Unix, so symlinks
/// and hard links count; the same canonical path elsewhere.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_links_and_hard_links_are_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("hr.csv");
        std::fs::write(&input, "x").unwrap();
        let other = dir.path().join("other.csv");
        std::fs::write(&other, "x").unwrap();
        assert!(same_file(&input, &dir.path().join("./hr.csv")));
        assert!(!same_file(&input, &other));
        assert!(!same_file(&input, &dir.path().join("missing.csv")));
        #[cfg(unix)]
        {
            let link = dir.path().join("link.csv");
            std::os::unix::fs::symlink(&input, &link).unwrap();
            let hard = dir.path().join("hard.csv");
            std::fs::hard_link(&input, &hard).unwrap();
            assert!(same_file(&link, &input));
            assert!(same_file(&hard, &input));
        }
    }
}
