//! Records of one organization under several API bases: another spelling of the same server
//! (`localhost` then `127.0.0.1`, a trailing slash) is adopted under the normalized key, so
//! nothing is sent twice and departed members are still removed; another server is only
//! named, for a warning (a staging server's records are not this one's).

use std::collections::BTreeSet;

use rusqlite::params;

use super::{base_key, State, StateError};

/// The tables whose rows carry an API base.
const TABLES: [&str; 5] = ["groups", "org_users", "members_present", "pending_members", "members"];

impl State {
    /// Every API base the state has records under, as written.
    fn bases(&self) -> Result<BTreeSet<String>, StateError> {
        let conn = self.conn.lock().expect("state lock");
        let mut out = BTreeSet::new();
        for table in TABLES {
            out.extend(self.bases_in(&conn, table)?);
        }
        Ok(out)
    }

    /// The distinct API bases of `table`, walked by index seeks (`min(api_base) > previous`):
    /// a scan of a million members for this took a tenth of a second, every run.
    fn bases_in(&self, conn: &rusqlite::Connection, table: &str) -> Result<Vec<String>, StateError> {
        let mut next = conn
            .prepare_cached(&format!("SELECT min(api_base) FROM {table} WHERE api_base > ?1"))
            .map_err(|e| self.io(e))?;
        let mut out: Vec<String> = Vec::new();
        while let Some(base) = next
            .query_row(params![out.last().map_or("", String::as_str)], |r| {
                r.get::<_, Option<String>>(0)
            })
            .map_err(|e| self.io(e))?
        {
            out.push(base);
        }
        Ok(out)
    }

    /// Other spellings of this run's API base that records are kept under.
    pub(super) fn equivalent_bases(&self) -> Result<Vec<String>, StateError> {
        Ok(self
            .bases()?
            .into_iter()
            .filter(|b| *b != self.api_base && base_key(b) == self.api_base)
            .collect())
    }

    /// Whether any record is kept under `base`.
    pub(super) fn has_records(&self, base: &str) -> Result<bool, StateError> {
        Ok(self.bases()?.contains(base))
    }

    /// Moves the records kept under other spellings of this run's API base to its key (one
    /// transaction). A record under both keeps the newer spelling's.
    pub(super) fn adopt_equivalent_bases(&self) -> Result<(), StateError> {
        let old = self.equivalent_bases()?;
        if old.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.lock().expect("state lock");
        let tx = conn.transaction().map_err(|e| self.io(e))?;
        for spelling in &old {
            for table in TABLES {
                tx.execute(
                    &format!("UPDATE OR IGNORE {table} SET api_base = ?1 WHERE api_base = ?2"),
                    params![self.api_base, spelling],
                )
                .and_then(|_| tx.execute(&format!("DELETE FROM {table} WHERE api_base = ?1"), [spelling]))
                .map_err(|e| self.io(e))?;
            }
        }
        tx.commit().map_err(|e| self.io(e))
    }

    /// Other API bases (not spellings of this one) the state has records of `org` under: the
    /// few distinct bases, each asked for `org` by an index seek.
    pub fn other_bases(&self, org: &str) -> Result<Vec<String>, StateError> {
        use rusqlite::OptionalExtension;
        let conn = self.conn.lock().expect("state lock");
        let mut out = BTreeSet::new();
        for table in TABLES {
            let mut has_org = conn
                .prepare(&format!(
                    "SELECT 1 FROM {table} WHERE api_base = ?1 AND organization_id = ?2 LIMIT 1"
                ))
                .map_err(|e| self.io(e))?;
            for base in self.bases_in(&conn, table)? {
                let other = base != self.api_base && base_key(&base) != self.api_base;
                if other
                    && has_org
                        .query_row(params![base, org], |_| Ok(()))
                        .optional()
                        .map_err(|e| self.io(e))?
                        .is_some()
                {
                    out.insert(base);
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The key this state keeps this run's records under.
    pub fn api_base(&self) -> &str {
        &self.api_base
    }
}
