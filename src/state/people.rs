//! The people side of the state: organization users and group members this tool added, and
//! the memberships it was about to add when a run stopped (pending), so a member in flight at
//! a `kill -9` is still removed when they leave.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

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

/// Gives the string for `(group, user)`: a user ID today's export holds is shared, not copied.
pub type Intern<'a> = &'a dyn Fn(&str, &str) -> Arc<str>;

impl State {
    /// The members this tool added to `org`'s groups (and has not removed): group -> users.
    /// `intern(group, user)` gives each user ID's string (today's export already holds most).
    pub fn members(&self, org: &str, intern: Intern<'_>) -> Result<HashMap<String, BTreeSet<Arc<str>>>, StateError> {
        self.users_by_group(
            "SELECT group_id, user_id FROM members WHERE api_base = ?1 AND organization_id = ?2
             ORDER BY group_id, user_id",
            org,
            intern,
        )
    }

    /// Rows of (group, user) for `org` as group -> users, read in order so each group's set
    /// is built whole (dense) rather than grown one insert at a time.
    fn users_by_group(
        &self,
        sql: &str,
        org: &str,
        intern: Intern<'_>,
    ) -> Result<HashMap<String, BTreeSet<Arc<str>>>, StateError> {
        let conn = self.conn.lock().expect("state lock");
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.io(e))?;
        let mut rows = stmt.query(params![self.api_base, org]).map_err(|e| self.io(e))?;
        let mut out: HashMap<String, BTreeSet<Arc<str>>> = HashMap::new();
        let mut group: Option<String> = None;
        let mut users: Vec<Arc<str>> = Vec::new();
        let mut close = |group: Option<String>, users: &mut Vec<Arc<str>>| {
            if let Some(group) = group {
                match out.entry(group) {
                    std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().extend(users.drain(..)),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(users.drain(..).collect());
                    }
                }
            }
        };
        while let Some(row) = rows.next().map_err(|e| self.io(e))? {
            let g = row
                .get_ref(0)
                .and_then(|v| v.as_str().map_err(Into::into))
                .map_err(|e| self.io(e))?;
            let u = row
                .get_ref(1)
                .and_then(|v| v.as_str().map_err(Into::into))
                .map_err(|e| self.io(e))?;
            if group.as_deref() != Some(g) {
                close(group.take(), &mut users);
                group = Some(g.to_owned());
            }
            users.push(intern(g, u));
        }
        close(group, &mut users);
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
    pub fn present(&self, org: &str, intern: Intern<'_>) -> Result<HashMap<String, BTreeSet<Arc<str>>>, StateError> {
        self.users_by_group(
            "SELECT group_id, user_id FROM members_present WHERE api_base = ?1 AND organization_id = ?2
             ORDER BY group_id, user_id",
            org,
            intern,
        )
    }

    /// The organization users this tool added to `org`, with the name and e-mail as sent (by
    /// fingerprint: all a plan asks is whether they are still the same).
    pub fn users(&self, org: &str) -> Result<crate::plan::SentUsers, StateError> {
        let conn = self.conn.lock().expect("state lock");
        let mut stmt = conn
            .prepare_cached("SELECT user_id, name, email FROM org_users WHERE api_base = ?1 AND organization_id = ?2")
            .map_err(|e| self.io(e))?;
        let mut rows = stmt.query(params![self.api_base, org]).map_err(|e| self.io(e))?;
        let mut out = crate::plan::SentUsers::default();
        while let Some(row) = rows.next().map_err(|e| self.io(e))? {
            let text = |i| row.get_ref(i).and_then(|v| v.as_str().map_err(Into::into));
            let (user, name, email) = (text(0), text(1), text(2));
            let (user, name, email) = (
                user.map_err(|e| self.io(e))?,
                name.map_err(|e| self.io(e))?,
                email.map_err(|e| self.io(e))?,
            );
            out.insert(user, name, email);
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

    /// Memberships of `org` sent but never confirmed (a run stopped with them in flight):
    /// group -> users. They may be on the server.
    pub fn pending(&self, org: &str, intern: Intern<'_>) -> Result<HashMap<String, BTreeSet<Arc<str>>>, StateError> {
        self.users_by_group(
            "SELECT group_id, user_id FROM pending_members WHERE api_base = ?1 AND organization_id = ?2
             ORDER BY group_id, user_id",
            org,
            intern,
        )
    }
}
