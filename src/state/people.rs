//! The people side of the state: organization users and group members this tool added, and
//! the memberships it was about to add when a run stopped (pending), so a member in flight at
//! a `kill -9` is still removed when they leave.

use std::collections::HashMap;

use rusqlite::params;

use super::{State, StateError};

/// What became of a membership the server answered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// This tool added it: it is this tool's to remove later.
    Added,
    /// The server had it already (`already-exists`): someone else's, never removed by us.
    AlreadyThere,
    /// This tool removed it.
    Removed,
    /// The server refused it for good.
    Refused,
}

use crate::plan::{GroupMembers, GroupUsers, SentUser};

/// The tables of (organization, group, user) rows.
#[derive(Debug, Clone, Copy)]
pub enum Memberships {
    /// Added by this tool (`members`).
    Added,
    /// There already when this tool added them (`members_present`).
    Present,
    /// Being added when a run stopped (`pending_members`).
    Pending,
}

impl Memberships {
    fn table(self) -> &'static str {
        match self {
            Memberships::Added => "members",
            Memberships::Present => "members_present",
            Memberships::Pending => "pending_members",
        }
    }
}

impl State {
    /// Column `i` of `row` as text.
    fn text<'r>(&self, row: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r str, StateError> {
        row.get_ref(i)
            .and_then(|v| v.as_str().map_err(Into::into))
            .map_err(|e| self.io(e))
    }

    /// Column `i` of `row` as bytes (text as stored, not checked as UTF-8).
    fn bytes<'r>(&self, row: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r [u8], StateError> {
        row.get_ref(i)
            .and_then(|v| v.as_bytes().map_err(Into::into))
            .map_err(|e| self.io(e))
    }

    /// The members this tool added to `org`'s groups (and has not removed): group -> users.
    pub fn members(&self, org: &str) -> Result<GroupUsers, StateError> {
        Ok(self
            .memberships(Memberships::Added, Some(org))?
            .remove(org)
            .unwrap_or_default())
    }

    /// The rows of `which` (of `org`, or of every organization) as organization -> group ->
    /// users, read in key order so each group's set is built whole.
    pub fn memberships(
        &self,
        which: Memberships,
        org: Option<&str>,
    ) -> Result<HashMap<String, GroupUsers>, StateError> {
        let table = which.table();
        let sql = match org {
            Some(_) => format!(
                "SELECT organization_id, group_id, user_id FROM {table} WHERE api_base = ?1 AND organization_id = ?2
                 ORDER BY organization_id, group_id"
            ),
            None => format!(
                "SELECT organization_id, group_id, user_id FROM {table} WHERE api_base = ?1
                 ORDER BY organization_id, group_id"
            ),
        };
        let conn = self.conn.lock().expect("state lock");
        let mut stmt = conn.prepare_cached(&sql).map_err(|e| self.io(e))?;
        let mut rows = match org {
            Some(org) => stmt.query(params![self.api_base, org]),
            None => stmt.query(params![self.api_base]),
        }
        .map_err(|e| self.io(e))?;
        let mut out: HashMap<String, GroupUsers> = HashMap::new();
        let mut at: Option<(String, String)> = None;
        let mut users: Vec<u64> = Vec::new();
        let mut close = |at: Option<(String, String)>, users: &mut Vec<u64>| {
            if let Some((org, group)) = at {
                out.entry(org)
                    .or_default()
                    .insert(group, GroupMembers::from_hashes(std::mem::take(users)));
            }
        };
        while let Some(row) = rows.next().map_err(|e| self.io(e))? {
            let (o, g, u) = (self.text(row, 0)?, self.text(row, 1)?, self.bytes(row, 2)?);
            if at.as_ref().is_none_or(|(ao, ag)| ao != o || ag != g) {
                close(at.take(), &mut users);
                at = Some((o.to_owned(), g.to_owned()));
            }
            users.push(crate::normalize::user_hash(u));
        }
        close(at, &mut users);
        Ok(out)
    }

    /// The IDs of `org`'s `group` members on record (added or pending) whose fingerprints
    /// are among `hashes`.
    pub fn named(&self, org: &str, group: &str, hashes: &[u64]) -> Result<Vec<String>, StateError> {
        let wanted: std::collections::HashSet<u64> = hashes.iter().copied().collect();
        let conn = self.conn.lock().expect("state lock");
        let mut out = Vec::new();
        for which in [Memberships::Added, Memberships::Pending] {
            let sql = format!(
                "SELECT user_id FROM {} WHERE api_base = ?1 AND organization_id = ?2 AND group_id = ?3",
                which.table()
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(|e| self.io(e))?;
            let mut rows = stmt.query(params![self.api_base, org, group]).map_err(|e| self.io(e))?;
            while let Some(row) = rows.next().map_err(|e| self.io(e))? {
                let user = self.text(row, 0)?;
                if wanted.contains(&crate::normalize::user_hash(user)) {
                    out.push(user.to_owned());
                }
            }
        }
        Ok(out)
    }

    /// Records what became of memberships of one group, all or none (one transaction).
    /// Whatever the outcome, the membership is no longer pending.
    pub fn record_members(&self, org: &str, group: &str, users: &[&str], how: Membership) -> Result<(), StateError> {
        // Each statement names the table it writes; `?6` is ignored where unused.
        let write: &[&str] = match how {
            Membership::Added => &[
                "INSERT OR REPLACE INTO members (api_base, organization_id, group_id, user_id, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            ],
            Membership::AlreadyThere => &[
                "INSERT OR REPLACE INTO members_present (api_base, organization_id, group_id, user_id, seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            ],
            Membership::Removed => &[
                "DELETE FROM members WHERE api_base = ?1 AND organization_id = ?2 AND group_id = ?3 AND user_id = ?4 AND ?5 IS NOT NULL",
                "DELETE FROM members_present WHERE api_base = ?1 AND organization_id = ?2 AND group_id = ?3 AND user_id = ?4 AND ?5 IS NOT NULL",
            ],
            Membership::Refused => &[],
        };
        let clear = "DELETE FROM pending_members
                     WHERE api_base = ?1 AND organization_id = ?2 AND group_id = ?3 AND user_id = ?4 AND ?5 IS NOT NULL";
        let now = jiff::Timestamp::now().to_string();
        let mut conn = self.conn.lock().expect("state lock");
        let tx = conn.transaction().map_err(|e| self.io(e))?;
        for user in users {
            for sql in write.iter().chain([&clear]) {
                tx.prepare_cached(sql)
                    .and_then(|mut stmt| stmt.execute(params![self.api_base, org, group, user, now]))
                    .map_err(|e| self.io(e))?;
            }
        }
        tx.commit().map_err(|e| self.io(e))
    }

    /// The organization users this tool added, per organization, with the name and e-mail as
    /// sent (by fingerprint: all a plan asks is whether they are still the same).
    pub fn sent_users(&self) -> Result<HashMap<String, crate::plan::SentUsers>, StateError> {
        let conn = self.conn.lock().expect("state lock");
        let mut stmt = conn
            .prepare_cached(
                "SELECT organization_id, user_id, name, email FROM org_users WHERE api_base = ?1
                 ORDER BY organization_id",
            )
            .map_err(|e| self.io(e))?;
        let mut rows = stmt.query(params![self.api_base]).map_err(|e| self.io(e))?;
        let mut out: HashMap<String, crate::plan::SentUsers> = HashMap::new();
        // One organization's users at a time, hashed as they are read (a UTF-8 check of three
        // million strings costs more than the hash).
        let mut org = String::new();
        let mut users: Vec<SentUser> = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.io(e))? {
            let this = self.text(row, 0)?;
            if this != org {
                if !users.is_empty() {
                    out.entry(std::mem::take(&mut org)).or_default().extend(users.drain(..));
                }
                this.clone_into(&mut org);
            }
            users.push(SentUser::new(
                self.bytes(row, 1)?,
                self.bytes(row, 2)?,
                self.bytes(row, 3)?,
            ));
        }
        if !users.is_empty() {
            out.entry(org).or_default().extend(users);
        }
        Ok(out)
    }

    /// Records organization users as sent: (userId, name, e-mail), all or none.
    pub fn record_users(&self, org: &str, users: &[(&str, &str, &str)]) -> Result<(), StateError> {
        let now = jiff::Timestamp::now().to_string();
        let mut conn = self.conn.lock().expect("state lock");
        let tx = conn.transaction().map_err(|e| self.io(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO org_users (api_base, organization_id, user_id, name, email, added_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(|e| self.io(e))?;
            for (user, name, email) in users {
                stmt.execute(params![self.api_base, org, user, name, email, now])
                    .map_err(|e| self.io(e))?;
            }
        }
        tx.commit().map_err(|e| self.io(e))
    }

    /// Records memberships about to be sent (before the request goes), all or none; a
    /// confirmation clears them.
    pub fn record_pending(&self, org: &str, group: &str, users: &[&str]) -> Result<(), StateError> {
        let now = jiff::Timestamp::now().to_string();
        let mut conn = self.conn.lock().expect("state lock");
        let tx = conn.transaction().map_err(|e| self.io(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO pending_members (api_base, organization_id, group_id, user_id, since)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(|e| self.io(e))?;
            for user in users {
                stmt.execute(params![self.api_base, org, group, user, now])
                    .map_err(|e| self.io(e))?;
            }
        }
        tx.commit().map_err(|e| self.io(e))
    }
}
