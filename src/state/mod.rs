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
    #[error("{path}: not a usable velt-groups state file ({detail}); move it away to start afresh (the next run then sends every group again)")]
    Unusable {
        /// The file.
        path: PathBuf,
        /// What SQLite or the schema check said.
        detail: String,
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
    /// Held (locked) while the state is open for writing, so two runs never share one state
    /// file; none when it is only read.
    _lock: Option<std::fs::File>,
    api_base: String,
    conn: Mutex<Connection>,
}

impl State {
    /// Opens (or creates) the state at `path` for `api_base`.
    pub fn open(path: &Path, api_base: &str) -> Result<Self, StateError> {
        let unusable = |e: rusqlite::Error| StateError::Unusable {
            path: path.to_owned(),
            detail: e.to_string(),
        };
        let read_only = |detail: String| StateError::ReadOnly {
            path: path.to_owned(),
            detail,
        };
        if path.exists() {
            if let Err(e) = std::fs::OpenOptions::new().read(true).write(true).open(path) {
                return Err(read_only(e.to_string()));
            }
        }
        let conn = Connection::open(path).map_err(unusable)?;
        // Both checks read only: a foreign or damaged file is refused exactly as it was found.
        refuse_foreign(&conn, path)?;
        quick_check(&conn, path)?;
        let lock = lock(path)?;
        let written = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen) => read_only(e.to_string()),
            _ => unusable(e),
        };
        conn.pragma_update(None, "journal_mode", "WAL").map_err(written)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(unusable)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(unusable)?;
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
        let schema: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0))
            .optional()
            .map_err(unusable)?;
        match schema.as_deref() {
            None => {
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema', ?1)", [SCHEMA])
                    .map_err(unusable)?;
            }
            Some(SCHEMA) => {}
            Some(other) => {
                return Err(StateError::Unusable {
                    path: path.to_owned(),
                    detail: format!("schema {other}, this version reads schema {SCHEMA}"),
                })
            }
        }
        Ok(State {
            _lock: Some(lock),
            path: path.to_owned(),
            api_base: api_base.trim_end_matches('/').to_owned(),
            conn: Mutex::new(conn),
        })
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
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| unusable(e.to_string()))?;
        refuse_foreign(&conn, path)?;
        let schema: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0))
            .optional()
            .map_err(|e| unusable(e.to_string()))?;
        if schema.as_deref() != Some(SCHEMA) {
            return Err(unusable(format!(
                "schema {}, this version reads schema {SCHEMA}",
                schema.as_deref().unwrap_or("none")
            )));
        }
        Ok(State {
            _lock: None,
            path: path.to_owned(),
            api_base: api_base.trim_end_matches('/').to_owned(),
            conn: Mutex::new(conn),
        })
    }

    fn io(&self, e: rusqlite::Error) -> StateError {
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

    /// Records confirmations, all or none (one transaction).
    pub fn record(&self, org: &str, groups: &[(&str, &str)]) -> Result<(), StateError> {
        let now = jiff::Timestamp::now().to_string();
        let mut conn = self.conn.lock().expect("state lock");
        let tx = conn.transaction().map_err(|e| self.io(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO groups (api_base, organization_id, group_id, group_name, confirmed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (api_base, organization_id, group_id)
                     DO UPDATE SET group_name = excluded.group_name, confirmed_at = excluded.confirmed_at",
                )
                .map_err(|e| self.io(e))?;
            for (id, name) in groups {
                stmt.execute(params![self.api_base, org, id, name, now])
                    .map_err(|e| self.io(e))?;
            }
        }
        tx.commit().map_err(|e| self.io(e))
    }

    /// What the state knows of `orgs`: their confirmed groups and recorded members.
    pub fn known<'a>(&self, orgs: impl IntoIterator<Item = &'a str>) -> Result<Known, StateError> {
        let mut known = Known::default();
        for org in orgs {
            known.groups.insert(org.to_owned(), self.confirmed(org)?);
            known.members.insert(org.to_owned(), self.members(org)?);
            known.users.insert(org.to_owned(), self.users(org)?);
            known.pending.insert(org.to_owned(), self.pending(org)?);
            known.present.insert(org.to_owned(), self.present(org)?);
        }
        Ok(known)
    }
}

/// Refuses a database with tables but without our schema marker (another program's), before
/// anything is written to it.
fn refuse_foreign(conn: &Connection, path: &Path) -> Result<(), StateError> {
    let unusable = |e: rusqlite::Error| StateError::Unusable {
        path: path.to_owned(),
        detail: e.to_string(),
    };
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(unusable)?;
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

/// `PRAGMA quick_check`: finds damage in pages this run would not otherwise read.
fn quick_check(conn: &Connection, path: &Path) -> Result<(), StateError> {
    let rows: Result<Vec<String>, _> = conn
        .prepare("PRAGMA quick_check")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect());
    let detail = match rows {
        Ok(rows) if rows.len() == 1 && rows[0] == "ok" => return Ok(()),
        Ok(rows) => format!("damaged: {}", rows.first().map_or("no answer", String::as_str)),
        Err(e) => e.to_string(),
    };
    Err(StateError::Unusable {
        path: path.to_owned(),
        detail,
    })
}

/// Takes the run's exclusive lock: an advisory lock on `<state>.lock` beside the file (not on
/// the database itself, whose bytes SQLite locks its own way). The lock file stays after the
/// run; removing it could let a third run lock a file the second one is waiting on.
fn lock(path: &Path) -> Result<std::fs::File, StateError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| StateError::ReadOnly {
            path: path.to_owned(),
            detail: format!("{}: {e}", lock_path.display()),
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StateError::Busy {
            path: path.to_owned(),
            lock: lock_path,
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(StateError::Io {
            path: path.to_owned(),
            detail: format!("cannot lock {}: {e}", lock_path.display()),
        }),
    }
}

impl crate::upload::Confirmations for State {
    fn intend(&self, items: &[&Work]) -> Result<(), crate::upload::RecordError> {
        let Some(first) = items.first().map(|w| &w.key) else {
            return Ok(());
        };
        if first.endpoint != Endpoint::AddMembers {
            return Ok(());
        }
        let users: Vec<&str> = items.iter().map(|w| w.key.item.as_str()).collect();
        self.record_pending(&first.org, &first.group, &users)
            .map_err(Into::into)
    }

    fn confirmed(&self, items: &[(&Work, bool)]) -> Result<(), crate::upload::RecordError> {
        let Some(first) = items.first().map(|(w, _)| &w.key) else {
            return Ok(());
        };
        let (org, group) = (first.org.as_str(), first.group.as_str());
        let ids = |existed: bool| -> Vec<&str> {
            items
                .iter()
                .filter(|(_, e)| *e == existed)
                .map(|(w, _)| w.key.item.as_str())
                .collect()
        };
        match first.endpoint {
            Endpoint::AddGroups => {
                let groups: Vec<(&str, &str)> = items
                    .iter()
                    .map(|(w, _)| (w.key.item.as_str(), w.name.as_str()))
                    .collect();
                self.record(org, &groups)
            }
            Endpoint::AddUsers => {
                let users: Vec<(&str, &str, &str)> = items
                    .iter()
                    .map(|(w, _)| (w.key.item.as_str(), w.name.as_str(), w.email.as_str()))
                    .collect();
                self.record_users(org, &users)
            }
            Endpoint::AddMembers => self
                .record_members(org, group, &ids(false), Membership::Added)
                .and_then(|()| self.record_members(org, group, &ids(true), Membership::AlreadyThere)),
            Endpoint::RemoveMembers => {
                let all: Vec<&str> = items.iter().map(|(w, _)| w.key.item.as_str()).collect();
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
        let users: Vec<&str> = items.iter().map(|w| w.key.item.as_str()).collect();
        self.record_members(&first.org, &first.group, &users, Membership::Refused)
            .map_err(Into::into)
    }
}

mod people;
pub use people::Membership;

#[cfg(test)]
mod tests;
