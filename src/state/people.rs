//! The people side of the state: organization users and group members this tool added, and
//! the memberships it was about to add when a run stopped (pending), so a member in flight at
//! a `kill -9` is still removed when they leave.

use std::collections::{BTreeSet, HashMap};

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

impl State {
    /// The members this tool added to `org`'s groups (and has not removed): group -> users.
    pub fn members(&self, org: &str) -> Result<HashMap<String, BTreeSet<String>>, StateError> {
        self.users_by_group(
            "SELECT group_id, user_id FROM members WHERE api_base = ?1 AND organization_id = ?2",
            org,
        )
    }

    /// The members this tool added to one group of `org`: a read by the table's key, so a
    /// caller going group by group never holds the organization's whole record.
    pub fn group_members(&self, org: &str, group: &str) -> Result<BTreeSet<String>, StateError> {
        let conn = self.conn.lock().expect("state lock");
        let mut stmt = conn
            .prepare_cached(
                "SELECT user_id FROM members WHERE api_base = ?1 AND organization_id = ?2 AND group_id = ?3",
            )
            .map_err(|e| self.io(e))?;
        let rows = stmt
            .query_map(params![self.api_base, org, group], |r| r.get::<_, String>(0))
            .map_err(|e| self.io(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.io(e))
    }

    /// Rows of (group, user) for `org` as group -> users.
    fn users_by_group(&self, sql: &str, org: &str) -> Result<HashMap<String, BTreeSet<String>>, StateError> {
        let conn = self.conn.lock().expect("state lock");
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.io(e))?;
        let rows = stmt
            .query_map(params![self.api_base, org], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.io(e))?;
        let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
        for row in rows {
            let (group, user) = row.map_err(|e| self.io(e))?;
            out.entry(group).or_default().insert(user);
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

    /// Members of `org`'s groups that were there already when this tool added them (someone
    /// else's doing): group -> users. They count as there, but are never removed.
    pub fn present(&self, org: &str) -> Result<HashMap<String, BTreeSet<String>>, StateError> {
        self.users_by_group(
            "SELECT group_id, user_id FROM members_present WHERE api_base = ?1 AND organization_id = ?2",
            org,
        )
    }

    /// The organization users this tool added to `org`: user -> (name, e-mail) as sent.
    pub fn users(&self, org: &str) -> Result<HashMap<String, (String, String)>, StateError> {
        let conn = self.conn.lock().expect("state lock");
        let mut stmt = conn
            .prepare_cached("SELECT user_id, name, email FROM org_users WHERE api_base = ?1 AND organization_id = ?2")
            .map_err(|e| self.io(e))?;
        let rows = stmt
            .query_map(params![self.api_base, org], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .map_err(|e| self.io(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.io(e))
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

    /// Memberships of `org` sent but never confirmed (a run stopped with them in flight):
    /// group -> users. They may be on the server.
    pub fn pending(&self, org: &str) -> Result<HashMap<String, BTreeSet<String>>, StateError> {
        self.users_by_group(
            "SELECT group_id, user_id FROM pending_members WHERE api_base = ?1 AND organization_id = ?2",
            org,
        )
    }
}
