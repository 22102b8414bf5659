//! The private temporary folder the picked HR files are copied into. Every way the server can
//! end that can be caught removes it; a server killed outright (`kill -9`, a crash, a power cut)
//! cannot, so each start also removes the folders such servers left: only folders of this
//! program's name, owned by this user, whose owner process (named in the folder) is gone.

use std::path::Path;

/// The folders' name prefix, in the system's temporary folder.
const PREFIX: &str = "velt-groups-ui-";

/// The file in each folder naming the process that owns it.
const OWNER: &str = "owner.pid";

/// A fresh private folder (mode 0700), with this process named as its owner; folders left by
/// killed servers are removed first.
pub fn create() -> std::io::Result<tempfile::TempDir> {
    remove_abandoned(&std::env::temp_dir());
    let dir = tempfile::Builder::new().prefix(PREFIX).tempdir()?;
    // Only this user may read the HR data copied here.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    std::fs::write(dir.path().join(OWNER), std::process::id().to_string())?;
    Ok(dir)
}

/// Removes the folders under `tmp` that servers of this user left when they were killed.
/// Anything else is left alone: another user's folder, a symlink, a folder without an owner
/// file (one being made this instant), one whose owner still runs.
pub fn remove_abandoned(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let path = entry.path();
        // `symlink_metadata`: a link named like ours is never followed.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() || !mine(&meta) {
            continue;
        }
        let owner = std::fs::read_to_string(path.join(OWNER))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        if owner.is_some_and(|pid| !alive(pid)) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

#[cfg(unix)]
fn mine(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    meta.uid() == unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
fn mine(_: &std::fs::Metadata) -> bool {
    // The temporary folder is per user on Windows.
    true
}

/// Whether a process `pid` runs (or may: when in doubt, it does).
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    if pid <= 0 {
        return true;
    }
    // SAFETY: signal 0 only asks whether the process exists; nothing is sent.
    let gone =
        unsafe { libc::kill(pid, 0) } == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    !gone
}

#[cfg(not(unix))]
fn alive(_: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_abandoned_folders_of_ours_go() {
        let tmp = tempfile::tempdir().unwrap();
        let make = |name: &str, owner: Option<String>| {
            let p = tmp.path().join(name);
            std::fs::create_dir(&p).unwrap();
            std::fs::write(p.join("hr.csv"), "x").unwrap();
            if let Some(o) = owner {
                std::fs::write(p.join(OWNER), o).unwrap();
            }
            p
        };
        // A process that has surely ended: a child we waited for.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id().to_string();
        child.wait().unwrap();
        let abandoned = make("velt-groups-ui-dead", Some(dead.clone()));
        let running = make("velt-groups-ui-live", Some(std::process::id().to_string()));
        let unowned = make("velt-groups-ui-new", None);
        let other = make("something-else", Some(dead));
        #[cfg(unix)]
        std::os::unix::fs::symlink(&other, tmp.path().join("velt-groups-ui-link")).unwrap();
        remove_abandoned(tmp.path());
        assert!(!abandoned.exists());
        assert!(running.exists() && unowned.exists() && other.join("hr.csv").exists());
    }
}
