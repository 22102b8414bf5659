//! State for nightly runs and crash resume: per API base and organization, every group the
//! server confirmed and the name it was confirmed with.
//!
//! SQLite (rusqlite, bundled, so nothing to install): each chunk's confirmations are one
//! transaction in WAL mode with `synchronous=FULL`, so a `kill -9` at any instant leaves a file
//! that opens, holding every confirmation it had committed. A plain file rewritten on each
//! update would need the same care (write, fsync, rename, fsync the directory) and would
//! rewrite everything for every chunk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use thiserror::Error;

use crate::plan::{Endpoint, Known, Work};

/// The schema this build reads and writes.
const SCHEMA: &str = "1";

/// A state file that cannot be used.
#[derive(Debug, Error)]
pub enum StateError {
    /// A state to read (not to create) is not there.
    #[error("{}: no such state file; verify only reads one (check the path)", .0.display())]
    Missing(PathBuf),
    /// Not a SQLite file, damaged, or from another program or version.
    #[error("{path}: not a usable velt-groups state file ({detail}); move it away to start afresh, and keep it: it records the memberships this tool added, which a new state cannot remove when people leave (the next run then sends every group again)")]
    Unusable {
        /// The file.
        path: PathBuf,
        /// What SQLite or the schema check said.
        detail: String,
    },
    /// A state file of another version of this tool (a newer one, most likely).
    #[error("{path}: this state file was written by another version of velt-groups (schema {found}; this one reads schema {SCHEMA}); it was left untouched; run the version that wrote it, or name a new file for --state")]
    Version {
        /// The file.
        path: PathBuf,
        /// The schema it holds.
        found: String,
    },
    /// The folder of the state file cannot be written: SQLite keeps its journal there.
    #[error("{path}: the folder {folder} cannot be written ({detail}), and SQLite keeps the state's journal beside it; make the folder writable for this user (e.g. `chmod u+w` on it, or run as its owner); keep the file, it records the memberships this tool added")]
    FolderReadOnly {
        /// The file.
        path: PathBuf,
        /// Its folder.
        folder: PathBuf,
        /// What the system said.
        detail: String,
    },
    /// The folder named for the state does not exist.
    #[error("{path}: its folder does not exist; create it, or name a state file in a folder that does")]
    NoFolder {
        /// The file.
        path: PathBuf,
    },
    /// Another application's database: it has tables, and not our schema marker.
    #[error("{path}: this SQLite database belongs to another application (tables: {tables}); it was left untouched; name a new file for --state")]
    Foreign {
        /// The file.
        path: PathBuf,
        /// Some of its tables, to recognize it by.
        tables: String,
    },
    /// Another run holds the state file.
    #[error("{path}: another velt-groups run is using this state file (it holds {}); wait for it to finish, or use another --state", lock.display())]
    Busy {
        /// The file.
        path: PathBuf,
        /// The lock file beside it.
        lock: PathBuf,
    },
    /// The file, or its folder, cannot be written.
    #[error("{path}: the state file cannot be written ({detail}); make it and its folder writable for this user (e.g. `chmod u+w` on both, or run as the file's owner); keep the file, it records the memberships this tool added")]
    ReadOnly {
        /// The file.
        path: PathBuf,
        /// What the system said.
        detail: String,
    },
    /// Reading or writing failed (disk full, permissions...).
    #[error("{path}: cannot update the state ({detail})")]
    Io {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
}

/// An open state file.
pub struct State {
    path: PathBuf,
    /// Held while the state is open for writing, so two runs never share one state file;
    /// none when it is only read.
    lock: Option<Lock>,
    api_base: String,
    conn: Mutex<Connection>,
    /// The kind of each group this run may confirm that is not a department, by organization
    /// and ID ([`State::expect_kinds`]): recorded with its confirmation.
    kinds: Mutex<HashMap<(String, String), crate::normalize::Kind>>,
    /// Set when SQLite found damage while this run used the file: the lock then records no
    /// "left as", so the next run checks the whole file.
    damage_seen: std::sync::atomic::AtomicBool,
}

impl State {
    /// Opens (or creates) the state at `path` for `api_base`. The file is reached by its
    /// canonical path, so its lock holds however it is named (a symlink, a relative path);
    /// messages name it as given. Nothing is written before every check passed: a refused
    /// file is left byte for byte as it was found.
    /// The whole file is checked (`PRAGMA quick_check`) as [`WholeCheck`] says.
    pub fn open(path: &Path, api_base: &str, check: WholeCheck) -> Result<Self, StateError> {
        let shown = path;
        let path = &canonical(path);
        let read_only = |detail: String| StateError::ReadOnly {
            path: shown.to_owned(),
            detail,
        };
        if path.exists() {
            if let Err(e) = std::fs::OpenOptions::new().read(true).write(true).open(path) {
                return Err(read_only(e.to_string()));
            }
        }
        writable_folder(path, shown)?;
        let conn = Connection::open(path).map_err(|e| sqlite_error(e, shown))?;
        // Every check reads only: a foreign, damaged or other version's file is refused
        // exactly as it was found.
        refuse_foreign(&conn, shown)?;
        let left_as = LeftAs::read(path).filter(|left| check == WholeCheck::WhenDue && left.still(path));
        let mut checked = match &left_as {
            Some(left) => left.checked,
            None => whole_check(&conn, path, shown)?,
        };
        check_schema(&conn, shown)?;
        let file = lock(path, shown)?;
        // Decided before the lock (a file in use is refused without reading it whole): a run
        // that ended in between may have changed it since.
        let mut whole_checked = left_as.is_none();
        if left_as.as_ref().is_some_and(|left| !left.still(path)) {
            checked = whole_check(&conn, path, shown)?;
            whole_checked = true;
        }
        let lock = Lock {
            file,
            db: path.to_owned(),
            checked,
            whole_checked,
        };
        // The file passed every check: a failure from here on is the system's (a full disk,
        // permissions), never a reason to call the file unusable.
        let written = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen) => read_only(e.to_string()),
            _ => StateError::Io {
                path: shown.to_owned(),
                detail: e.to_string(),
            },
        };
        conn.pragma_update(None, "journal_mode", "WAL").map_err(written)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(written)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(written)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS groups (
                 api_base TEXT NOT NULL,
                 organization_id TEXT NOT NULL,
                 group_id TEXT NOT NULL,
                 group_name TEXT NOT NULL,
                 confirmed_at TEXT NOT NULL,
                 PRIMARY KEY (api_base, organization_id, group_id)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS org_users (
                 api_base TEXT NOT NULL,
                 organization_id TEXT NOT NULL,
                 user_id TEXT NOT NULL,
                 name TEXT NOT NULL,
                 email TEXT NOT NULL,
                 added_at TEXT NOT NULL,
                 PRIMARY KEY (api_base, organization_id, user_id)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS members_present (
                 api_base TEXT NOT NULL,
                 organization_id TEXT NOT NULL,
                 group_id TEXT NOT NULL,
                 user_id TEXT NOT NULL,
                 seen_at TEXT NOT NULL,
                 PRIMARY KEY (api_base, organization_id, group_id, user_id)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS pending_members (
                 api_base TEXT NOT NULL,
                 organization_id TEXT NOT NULL,
                 group_id TEXT NOT NULL,
                 user_id TEXT NOT NULL,
                 since TEXT NOT NULL,
                 PRIMARY KEY (api_base, organization_id, group_id, user_id)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS members (
                 api_base TEXT NOT NULL,
                 organization_id TEXT NOT NULL,
                 group_id TEXT NOT NULL,
                 user_id TEXT NOT NULL,
                 added_at TEXT NOT NULL,
                 PRIMARY KEY (api_base, organization_id, group_id, user_id)
             ) WITHOUT ROWID;",
        )
        .map_err(written)?;
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema', ?1) ON CONFLICT (key) DO NOTHING",
            [SCHEMA],
        )
        .map_err(written)?;
        // Issue #23: groups have a kind. A file written before has none: its groups are the
        // department kind, which the column's default says. New files take the same step, so
        // there is one shape; the schema stays 1, as an older release still reads the file.
        if !has_kind_column(&conn).map_err(written)? {
            conn.execute(
                "ALTER TABLE groups ADD COLUMN kind TEXT NOT NULL DEFAULT 'department'",
                [],
            )
            .map_err(written)?;
        }
        let api_base = base_key(api_base);
        let state = State {
            lock: Some(lock),
            path: shown.to_owned(),
            api_base,
            conn: Mutex::new(conn),
            kinds: Mutex::default(),
            damage_seen: Default::default(),
        };
        state.adopt_equivalent_bases()?;
        Ok(state)
    }

    /// Opens an existing state only to read it (`verify`): nothing is created, written or
    /// locked, so a typo in the path is an error and a nightly run may hold the file meanwhile.
    pub fn open_read_only(path: &Path, api_base: &str) -> Result<Self, StateError> {
        let unusable = |detail: String| StateError::Unusable {
            path: path.to_owned(),
            detail,
        };
        if !path.is_file() {
            return Err(StateError::Missing(path.to_owned()));
        }
        let conn = open_to_read(path).map_err(|e| sqlite_error(e, path))?;
        refuse_foreign(&conn, path)?;
        check_schema(&conn, path)?;
        let schema: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0))
            .optional()
            .map_err(|e| unusable(e.to_string()))?;
        if schema.is_none() {
            return Err(unusable(format!("no schema, this version reads schema {SCHEMA}")));
        }
        let mut state = State {
            lock: None,
            path: path.to_owned(),
            api_base: base_key(api_base),
            conn: Mutex::new(conn),
            kinds: Mutex::default(),
            damage_seen: Default::default(),
        };
        // Records made under another spelling of the same server (before keys were
        // normalized) are read as they are: a read-only open cannot adopt them.
        if let Some(spelling) = state.equivalent_bases()?.into_iter().next() {
            if !state.has_records(&state.api_base)? {
                state.api_base = spelling;
            }
        }
        Ok(state)
    }

    /// Whether this open checked the whole file ([`WholeCheck`]); a state opened to read only
    /// is never checked whole.
    pub fn whole_checked(&self) -> bool {
        self.lock.as_ref().is_some_and(|l| l.whole_checked)
    }

    fn io(&self, e: rusqlite::Error) -> StateError {
        if matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        ) {
            self.damage_seen.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        StateError::Io {
            path: self.path.clone(),
            detail: e.to_string(),
        }
    }

    /// Every confirmed group of `org` under this API base: ID -> name.
    pub fn confirmed(&self, org: &str) -> Result<HashMap<String, String>, StateError> {
        let conn = self.conn.lock().expect("state lock");
        let mut stmt = conn
            .prepare_cached("SELECT group_id, group_name FROM groups WHERE api_base = ?1 AND organization_id = ?2")
            .map_err(|e| self.io(e))?;
        let rows = stmt
            .query_map(params![self.api_base, org], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.io(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.io(e))
    }

    /// The kind of every confirmed group of `org` that is not a department: ID -> kind. A
    /// file opened read-only from before kinds has none.
    pub fn kinds(&self, org: &str) -> Result<HashMap<String, crate::normalize::Kind>, StateError> {
        let conn = self.conn.lock().expect("state lock");
        if !has_kind_column(&conn).map_err(|e| self.io(e))? {
            return Ok(HashMap::new());
        }
        let mut stmt = conn
            .prepare_cached(
                "SELECT group_id, kind FROM groups WHERE api_base = ?1 AND organization_id = ?2 AND kind <> 'department'",
            )
            .map_err(|e| self.io(e))?;
        let rows = stmt
            .query_map(params![self.api_base, org], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.io(e))?;
        rows.map(|r| r.map(|(id, kind)| (id, crate::normalize::Kind::new(&kind))))
            .collect::<Result<_, _>>()
            .map_err(|e| self.io(e))
    }

    /// Tells the state the kind of each group a run may send, so that a confirmation records
    /// it (a department needs no word: it is the column's default).
    pub fn expect_kinds(&self, groups: &[crate::plan::GroupOutcome]) {
        let mut kinds = self.kinds.lock().expect("state lock");
        for g in groups
            .iter()
            .filter(|g| g.kind.as_str() != crate::normalize::kind::DEPARTMENT)
        {
            kinds.insert((g.organization_id.clone(), g.group_id.clone()), g.kind.clone());
        }
    }

    /// Records confirmations of department groups, all or none (one transaction).
    pub fn record(&self, org: &str, groups: &[(&str, &str)]) -> Result<(), StateError> {
        let groups: Vec<(&str, &str, &str)> = groups
            .iter()
            .map(|&(id, name)| (id, name, crate::normalize::kind::DEPARTMENT))
            .collect();
        self.record_kinds(org, &groups)
    }

    /// Records confirmations as `(ID, name, kind)`, all or none (one transaction).
    pub fn record_kinds(&self, org: &str, groups: &[(&str, &str, &str)]) -> Result<(), StateError> {
        let now = jiff::Timestamp::now().to_string();
        let mut conn = self.conn.lock().expect("state lock");
        let tx = conn.transaction().map_err(|e| self.io(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO groups (api_base, organization_id, group_id, group_name, confirmed_at, kind)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (api_base, organization_id, group_id)
                     DO UPDATE SET group_name = excluded.group_name, confirmed_at = excluded.confirmed_at,
                                   kind = excluded.kind",
                )
                .map_err(|e| self.io(e))?;
            for (id, name, kind) in groups {
                stmt.execute(params![self.api_base, org, id, name, now, kind])
                    .map_err(|e| self.io(e))?;
            }
        }
        tx.commit().map_err(|e| self.io(e))
    }

    /// Everything the state knows under this API base, every organization's: read while the
    /// export is (nothing in it depends on the export), one pass over each table.
    pub fn known(&self) -> Result<Known, StateError> {
        use people::Memberships;
        let mut known = Known {
            members: self.memberships(Memberships::Added, None)?,
            present: self.memberships(Memberships::Present, None)?,
            pending: self.memberships(Memberships::Pending, None)?,
            users: self.sent_users()?,
            ..Known::default()
        };
        for org in self.organizations()? {
            known.groups.insert(org.clone(), self.confirmed(&org)?);
            known.kinds.insert(org.clone(), self.kinds(&org)?);
        }
        Ok(known)
    }

    /// The organizations with confirmed groups under this API base.
    fn organizations(&self) -> Result<Vec<String>, StateError> {
        let conn = self.conn.lock().expect("state lock");
        let mut stmt = conn
            .prepare_cached("SELECT DISTINCT organization_id FROM groups WHERE api_base = ?1")
            .map_err(|e| self.io(e))?;
        let rows = stmt
            .query_map(params![self.api_base], |r| r.get(0))
            .map_err(|e| self.io(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.io(e))
    }
}

/// Refuses a database with tables but without our schema marker (another program's), before
/// anything is written to it.
fn refuse_foreign(conn: &Connection, path: &Path) -> Result<(), StateError> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| sqlite_error(e, path))?;
    if tables.is_empty() {
        return Ok(());
    }
    // A `meta` table of another shape fails the query: that is foreign too.
    let marked = tables.iter().any(|t| t == "meta")
        && conn
            .query_row("SELECT count(*) FROM meta WHERE key = 'schema'", [], |r| {
                r.get::<_, i64>(0)
            })
            .is_ok_and(|n| n > 0);
    if marked {
        return Ok(());
    }
    let mut names: Vec<&str> = tables.iter().map(String::as_str).take(5).collect();
    if tables.len() > names.len() {
        names.push("...");
    }
    Err(StateError::Foreign {
        path: path.to_owned(),
        tables: names.join(", "),
    })
}

/// When to check the whole state file for damage (`PRAGMA quick_check`, which reads every
/// page: 270 MB after a night of a million people, a third of that night's work).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WholeCheck {
    /// When the file is not as the last run of this tool left it (another program wrote it,
    /// it was copied or restored, a run was killed), or the last check is a week old.
    WhenDue,
    /// On this open, whatever the last run left.
    Now,
}

/// A week, in seconds: the longest a state file goes without a whole-file check.
const WHOLE_CHECK_EVERY: u64 = 7 * 24 * 60 * 60;

/// The lock of a state open for writing, and what its owner writes in it on closing.
#[derive(Debug)]
struct Lock {
    file: std::fs::File,
    /// The state file, by its canonical path.
    db: PathBuf,
    /// When the whole file was last found sound (seconds since 1970).
    checked: u64,
    /// Whether this open checked it.
    whole_checked: bool,
}

/// How the last run of this tool left a state file, as it wrote it in the file's lock: the
/// file's size, modification time and identity, and when the whole file was last found sound.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LeftAs {
    stamp: String,
    checked: u64,
}

impl LeftAs {
    fn read(db: &Path) -> Option<LeftAs> {
        let text = std::fs::read_to_string(lock_path(db)).ok()?;
        let mut lines = text.lines();
        let stamp = lines.next()?.strip_prefix("left as: ")?.to_owned();
        let checked = lines.next()?.strip_prefix("whole file checked at: ")?.parse().ok()?;
        Some(LeftAs { stamp, checked })
    }

    fn text(&self) -> String {
        format!("left as: {}\nwhole file checked at: {}\n", self.stamp, self.checked)
    }

    /// Whether `db` is still as it was left (no journal waiting to be folded in either), and
    /// its last whole check is under a week old.
    fn still(&self, db: &Path) -> bool {
        let age = now_secs().checked_sub(self.checked);
        stamp(db).is_some_and(|now| now == self.stamp)
            && !journal_waits(db)
            && age.is_some_and(|age| age < WHOLE_CHECK_EVERY)
    }
}

/// The size and modification time of `db`, and on Unix its device, inode and status-change
/// time (which every write, and every copy that keeps the modification time, moves on, and no
/// tool can set back); elsewhere its creation time.
fn stamp(db: &Path) -> Option<String> {
    let meta = std::fs::metadata(db).ok()?;
    let nanos = |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_nanos());
    let stamp = format!("{} bytes, modified {}", meta.len(), nanos(meta.modified().ok()?)?);
    #[cfg(unix)]
    let stamp = {
        use std::os::unix::fs::MetadataExt;
        let (dev, ino, ctime, ctime_ns) = (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec());
        format!("{stamp}, file {dev}:{ino}, changed {ctime}.{ctime_ns:09}")
    };
    #[cfg(not(unix))]
    let stamp = format!("{stamp}, created {}", nanos(meta.created().ok()?)?);
    Some(stamp)
}

/// Whether `db` has a write-ahead log with something in it (its last writer did not close it).
fn journal_waits(db: &Path) -> bool {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).is_ok_and(|m| m.len() > 0)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Drop for State {
    /// Closes the file, then writes in its lock how it was left, so the next run knows
    /// whether another program (or a killed run) touched it since. Nothing is recorded when
    /// the close fails: the next run then checks the whole file.
    fn drop(&mut self) {
        use std::io::{Seek, Write};
        let Some(lock) = &mut self.lock else { return };
        let Ok(placeholder) = Connection::open_in_memory() else {
            return;
        };
        let conn = std::mem::replace(
            self.conn.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner),
            placeholder,
        );
        let damaged = self.damage_seen.load(std::sync::atomic::Ordering::Relaxed);
        if conn.close().is_err() || journal_waits(&lock.db) || damaged {
            // No record: the next run checks the whole file.
            let _ = lock.file.set_len(0);
            return;
        }
        let Some(stamp) = stamp(&lock.db) else { return };
        let record = LeftAs {
            stamp,
            checked: lock.checked,
        };
        let file = &mut lock.file;
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(record.text().as_bytes()));
    }
}

/// [`quick_check`], returning when it passed. A damaged file's record of how it was left is
/// wiped, so no later run skips the check on the word of a run before the damage was seen.
fn whole_check(conn: &Connection, db: &Path, shown: &Path) -> Result<u64, StateError> {
    let checked = quick_check(conn, shown);
    if let Err(StateError::Unusable { .. }) = &checked {
        if LeftAs::read(db).is_some() {
            let _ = std::fs::write(lock_path(db), "");
        }
    }
    checked.map(|()| now_secs())
}

/// `PRAGMA quick_check`: finds damage in pages this run would not otherwise read.
fn quick_check(conn: &Connection, path: &Path) -> Result<(), StateError> {
    let rows: Result<Vec<String>, _> = conn
        .prepare("PRAGMA quick_check")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect());
    let detail = match rows {
        Ok(rows) if rows.len() == 1 && rows[0] == "ok" => return Ok(()),
        Ok(rows) => format!("damaged: {}", rows.first().map_or("no answer", String::as_str)),
        Err(e) => return Err(sqlite_error(e, path)),
    };
    Err(StateError::Unusable {
        path: path.to_owned(),
        detail,
    })
}

/// What a failure to read a state file means. Only a file that is not a database, or a
/// damaged one, is "unusable" (whose advice is to move it away); a file another program holds
/// locked, or this user may not read, is said to be so, and kept.
fn sqlite_error(e: rusqlite::Error, path: &Path) -> StateError {
    use rusqlite::ErrorCode;
    let detail = e.to_string();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StateError::Unusable {
            path: path.to_owned(),
            detail,
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StateError::Io {
            path: path.to_owned(),
            detail: format!("{detail}: another program holds it; try again when it is done"),
        },
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => StateError::ReadOnly {
            path: path.to_owned(),
            detail,
        },
        _ => StateError::Io {
            path: path.to_owned(),
            detail,
        },
    }
}

/// Takes the run's exclusive lock: an advisory lock on `<state>.lock` beside the file (not on
/// the database itself, whose bytes SQLite locks its own way). The lock file stays after the
/// run; removing it could let a third run lock a file the second one is waiting on.
fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn lock(path: &Path, shown: &Path) -> Result<std::fs::File, StateError> {
    let lock_path = lock_path(path);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| StateError::ReadOnly {
            path: shown.to_owned(),
            detail: format!("{}: {e}", lock_path.display()),
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StateError::Busy {
            path: shown.to_owned(),
            lock: lock_path,
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(StateError::Io {
            path: shown.to_owned(),
            detail: format!("cannot lock {}: {e}", lock_path.display()),
        }),
    }
}

/// The path a state file is known by: canonical (symlinks and `..` resolved), so two runs
/// naming one file two ways take one lock. A file not there yet: its canonical folder and
/// its name.
pub(crate) fn canonical(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    match (abs.parent().and_then(|d| d.canonicalize().ok()), abs.file_name()) {
        (Some(folder), Some(name)) => folder.join(name),
        _ => abs,
    }
}

/// Refuses a folder this user cannot create files in: SQLite keeps the journal (and the lock
/// file goes) beside the state, so a valid file there would otherwise fail as "unusable".
/// A probe file, not `access(2)`: ACLs, read-only mounts and root are the system's to answer.
fn writable_folder(path: &Path, shown: &Path) -> Result<(), StateError> {
    let folder = path.parent().unwrap_or(Path::new("."));
    match tempfile::Builder::new()
        .prefix(".velt-groups-probe-")
        .tempfile_in(folder)
    {
        Ok(_) => Ok(()),
        Err(_) if !folder.is_dir() => Err(StateError::NoFolder { path: shown.to_owned() }),
        Err(e) => Err(StateError::FolderReadOnly {
            path: shown.to_owned(),
            folder: shown
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_owned(),
            detail: e.to_string(),
        }),
    }
}

/// Whether the groups table has its `kind` column (a file from before issue #23 has not).
fn has_kind_column(conn: &Connection) -> rusqlite::Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('groups') WHERE name = 'kind'",
        [],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// Refuses a state of another schema before anything is written (read only).
fn check_schema(conn: &Connection, path: &Path) -> Result<(), StateError> {
    let has_meta: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(|e| StateError::Unusable {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    if !has_meta {
        return Ok(());
    }
    let schema: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0))
        .optional()
        .map_err(|e| StateError::Unusable {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    match schema {
        Some(found) if found != SCHEMA => Err(StateError::Version {
            path: path.to_owned(),
            found,
        }),
        _ => Ok(()),
    }
}

/// Opens a state to read only. A WAL database needs its `-shm` file beside it; in a folder
/// this user cannot write, with no journal left to read (the last writer checkpointed it),
/// the file alone is the whole state and is read as it stands (`immutable`).
fn open_to_read(path: &Path) -> rusqlite::Result<Connection> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    let readable = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0));
    match readable {
        Ok(_) => Ok(conn),
        Err(e)
            if matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
            ) =>
        {
            let mut wal = path.as_os_str().to_owned();
            wal.push("-wal");
            if Path::new(&wal).exists() {
                return Err(e);
            }
            let url = url::Url::from_file_path(canonical(path)).map_err(|()| e)?;
            Connection::open_with_flags(format!("{url}?immutable=1"), flags | OpenFlags::SQLITE_OPEN_URI)
        }
        Err(e) => Err(e),
    }
}

/// The key records are kept under: the API base normalized, so one server written two ways
/// is one key. Trailing slashes and default ports go (the URL parser drops those), the
/// scheme and host are lower case, and every loopback name (`localhost`, 127.x, `::1`) is
/// `127.0.0.1`: a rehearsal server is the same whichever way it was named.
pub fn base_key(api_base: &str) -> String {
    let Ok(mut url) = url::Url::parse(api_base.trim()) else {
        return api_base.trim().trim_end_matches('/').to_owned();
    };
    if crate::upload::is_loopback(&url) {
        // Cannot fail: the URL has a host.
        let _ = url.set_host(Some("127.0.0.1"));
    }
    url.set_query(None);
    url.set_fragment(None);
    url.as_str().trim_end_matches('/').to_owned()
}

impl crate::upload::Confirmations for State {
    fn intend(&self, items: &[&Work]) -> Result<(), crate::upload::RecordError> {
        let Some(first) = items.first().map(|w| &w.key) else {
            return Ok(());
        };
        if first.endpoint != Endpoint::AddMembers {
            return Ok(());
        }
        let users: Vec<&str> = items.iter().map(|w| &*w.key.item).collect();
        self.record_pending(first.org(), first.group(), &users)
            .map_err(Into::into)
    }

    fn confirmed(&self, items: &[(&Work, bool)]) -> Result<(), crate::upload::RecordError> {
        let Some(first) = items.first().map(|(w, _)| &w.key) else {
            return Ok(());
        };
        let (org, group) = (first.org(), first.group());
        let ids = |existed: bool| -> Vec<&str> {
            items
                .iter()
                .filter(|(_, e)| *e == existed)
                .map(|(w, _)| &*w.key.item)
                .collect()
        };
        match first.endpoint {
            Endpoint::AddGroups => {
                let kinds = self.kinds.lock().expect("state lock").clone();
                let groups: Vec<(&str, &str, &str)> = items
                    .iter()
                    .map(|(w, _)| {
                        let kind = kinds
                            .get(&(org.to_owned(), w.key.item.to_string()))
                            .map_or(crate::normalize::kind::DEPARTMENT, |k| k.as_str());
                        (&*w.key.item, w.name(), kind)
                    })
                    .collect();
                self.record_kinds(org, &groups)
            }
            Endpoint::AddUsers => {
                let users: Vec<(&str, &str, &str)> =
                    items.iter().map(|(w, _)| (&*w.key.item, w.name(), w.email())).collect();
                self.record_users(org, &users)
            }
            Endpoint::AddMembers => self
                .record_members(org, group, &ids(false), Membership::Added)
                .and_then(|()| self.record_members(org, group, &ids(true), Membership::AlreadyThere)),
            Endpoint::RemoveMembers => {
                let all: Vec<&str> = items.iter().map(|(w, _)| &*w.key.item).collect();
                self.record_members(org, group, &all, Membership::Removed)
            }
        }
        .map_err(Into::into)
    }

    fn refused(&self, items: &[&Work]) -> Result<(), crate::upload::RecordError> {
        let Some(first) = items.first().map(|w| &w.key) else {
            return Ok(());
        };
        if first.endpoint != Endpoint::AddMembers {
            return Ok(());
        }
        let users: Vec<&str> = items.iter().map(|w| &*w.key.item).collect();
        self.record_members(first.org(), first.group(), &users, Membership::Refused)
            .map_err(Into::into)
    }
}

mod bases;
mod people;
pub use people::Membership;

#[cfg(test)]
mod tests;
