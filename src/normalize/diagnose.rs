//! Majority diagnosis for department codes.
//!
//! In a real export a code that carries two names is rarely two departments: it is one
//! department and a row or two typed with the wrong code. Holding the whole code back (as a
//! conflict) punishes every correct row for one wrong one, so where the rows clearly agree the
//! majority wins and the rows against it are held back on their own, named as probably
//! mis-coded.
//!
//! The rule, per organization, counting rows ([`clear_majority`]): a reading is *clear* when it
//! has at least [`MAJORITY_MIN_ROWS`] rows and at least [`MAJORITY_RATIO`] times the rows of
//! every other reading. Names are compared by slug, so spellings of one name are one reading.
//! Rows with code `c` and name `n` are held back when
//! - code `c` is clearly another name (code side), or
//! - name `n` is clearly another code, and code `c` is not clearly `n` (name side; a code whose
//!   own rows clearly say `n` is a department of its own that shares the name).
//!
//! Whatever is left under a code goes as its group when it is one name, and stays a conflict
//! (held back whole) when it is several.

use std::collections::HashMap;

/// A clear majority has at least this many rows...
pub const MAJORITY_MIN_ROWS: usize = 3;

/// ...and at least this many times the rows of every other reading.
pub const MAJORITY_RATIO: usize = 3;

/// The index of the clear majority among row counts, if there is one: at least
/// [`MAJORITY_MIN_ROWS`] rows and at least [`MAJORITY_RATIO`] times every other count.
pub fn clear_majority(counts: &[usize]) -> Option<usize> {
    let (best, &top) = counts
        .iter()
        .enumerate()
        .max_by_key(|&(i, n)| (n, std::cmp::Reverse(i)))?;
    let beaten = counts
        .iter()
        .enumerate()
        .all(|(i, &n)| i == best || top >= n.saturating_mul(MAJORITY_RATIO));
    (top >= MAJORITY_MIN_ROWS && beaten).then_some(best)
}

/// One name (all its spellings) under one code.
pub(super) struct Reading<'a> {
    /// The name's class (its slug): equal classes are one name.
    pub(super) class: &'a str,
    /// The name as displayed.
    pub(super) name: &'a str,
    /// Its rows under this code.
    pub(super) rows: usize,
}

/// One code of one organization with the names its rows give it.
pub(super) struct Coded<'a> {
    /// The code as written.
    pub(super) code: &'a str,
    /// Its names, in order of first appearance.
    pub(super) readings: Vec<Reading<'a>>,
}

/// The readings to hold back as probably mis-coded: `(code, reading, why)` by index, in code
/// then reading order.
pub(super) fn misfiled(codes: &[Coded<'_>]) -> Vec<(usize, usize, String)> {
    let by_code: Vec<Option<usize>> = codes
        .iter()
        .map(|c| clear_majority(&c.readings.iter().map(|r| r.rows).collect::<Vec<_>>()))
        .collect();
    let mut places: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
    for (ci, c) in codes.iter().enumerate() {
        for (ri, r) in c.readings.iter().enumerate() {
            places.entry(r.class).or_default().push((ci, ri));
        }
    }
    let by_name: HashMap<&str, (usize, usize)> = places
        .iter()
        .filter_map(|(&class, at)| {
            let counts: Vec<usize> = at.iter().map(|&(c, r)| codes[c].readings[r].rows).collect();
            clear_majority(&counts).map(|i| (class, at[i]))
        })
        .collect();
    let mut out = Vec::new();
    for (ci, c) in codes.iter().enumerate() {
        for (ri, r) in c.readings.iter().enumerate() {
            if by_code[ci] == Some(ri) {
                continue;
            }
            let code_says = by_code[ci].map(|m| &c.readings[m]);
            let name_says = by_name.get(r.class).filter(|&&(c2, _)| c2 != ci);
            let mut why = Vec::new();
            if let Some(m) = code_says {
                why.push(format!(
                    "code {} is '{}' on {} other {}",
                    c.code,
                    m.name,
                    m.rows,
                    rows_word(m.rows)
                ));
            }
            if let Some(&(c2, r2)) = name_says {
                let n = codes[c2].readings[r2].rows;
                why.push(format!(
                    "'{}' is code {} on {n} {}",
                    r.name,
                    codes[c2].code,
                    rows_word(n)
                ));
            }
            if !why.is_empty() {
                let message = format!(
                    "'{}' with code {}, but {}; this row is probably mis-coded",
                    r.name,
                    c.code,
                    why.join(" and ")
                );
                out.push((ci, ri, message));
            }
        }
    }
    out
}

fn rows_word(n: usize) -> &'static str {
    if n == 1 {
        "row"
    } else {
        "rows"
    }
}

#[cfg(test)]
mod tests;
