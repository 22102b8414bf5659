//! Deciding: the spellings collected under each ID become one group, rows held back as
//! probably mis-coded ([`super::diagnose`]), or a conflict; then the warnings about groups.

use std::collections::{BTreeMap, HashMap};

use super::collect::{IdEntry, Spelling};
use super::diagnose::{self, Coded, Reading};
use super::{
    people, same, slug, Conflict, Group, InvalidRow, Member, Normalizer, Organization, Plan, Problem, Severity, Source,
};

/// A message lists at most this many rows of one spelling, then counts the rest.
const ROWS_SHOWN: usize = 12;

impl Normalizer {
    /// Decides every group, conflict and row held back.
    pub fn finish(mut self) -> Plan {
        let strict = self.options.strict_names;
        let mut plan = Plan {
            tables: std::mem::take(&mut self.tables),
            invalid: self.invalid,
            ..Plan::default()
        };
        let mut problems = self.problems;
        let orgs: BTreeMap<String, HashMap<String, usize>> = self.orgs.into_iter().collect();
        for (org_id, ids) in orgs {
            let mut entries: Vec<(String, IdEntry)> = ids
                .into_iter()
                .map(|(id, i)| (id, std::mem::take(&mut self.entries[i])))
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            // The people checks read every member row of the organization; the groups are
            // decided beside them, each on a core of its own.
            let (people, decided, in_several) = std::thread::scope(|scope| {
                let people = scope.spawn(|| {
                    let mut found = Vec::new();
                    let rows = people::member_rows(&entries);
                    let clashing = people::case_clashes(&plan, &org_id, &rows, &mut found);
                    people::name_warnings(&plan, &rows, &mut found);
                    (clashing, found)
                });
                let decided = decide_groups(&plan, &org_id, &entries, strict, &self.options.kind);
                // Meanwhile too: who is in several departments (anyone held back below is in
                // none, and their warnings go).
                let in_several = member_warnings(&plan, &decided.groups);
                let people = people.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                (people, decided, in_several)
            });
            drop(entries);
            let ((clashing, found), in_several) = (people, in_several);
            problems.extend(found);
            problems.extend(decided.problems);
            plan.invalid.extend(decided.invalid);
            plan.conflicts.extend(decided.conflicts);
            let mut groups = decided.groups;
            people::hold_back(&mut plan, &org_id, &mut groups, &clashing);
            same_name_warnings(&plan, &groups, &mut problems);
            problems.extend(
                in_several
                    .into_iter()
                    .filter(|(user, _)| !clashing.contains(user))
                    .map(|(_, p)| p),
            );
            plan.organizations.push(Organization { id: org_id, groups });
        }
        plan.problems = problems;
        // Every row and name this normalizer held back was for its one kind.
        for r in &mut plan.invalid {
            r.kind = self.options.kind.clone();
        }
        for c in &mut plan.conflicts {
            c.kind = self.options.kind.clone();
        }
        // The people checks' lists (tens of bytes a person) were freed on threads of their
        // own, whose free memory the plan made next would not reuse: given back now.
        super::give_back_freed_memory();
        plan
    }
}

/// One organization's groups as decided, with what was found on the way; kept apart from the
/// plan so the people checks can read it meanwhile.
#[derive(Default)]
struct Decided {
    groups: Vec<Group>,
    problems: Vec<Problem>,
    invalid: Vec<InvalidRow>,
    conflicts: Vec<Conflict>,
}

/// Decides `org_id`'s groups from its entries (sorted by ID).
fn decide_groups(
    plan: &Plan,
    org_id: &str,
    entries: &[(String, IdEntry)],
    strict: bool,
    kind: &super::Kind,
) -> Decided {
    let mut out = Decided::default();
    let readings: Vec<Vec<Vec<usize>>> = entries.iter().map(|(_, e)| readings(&e.spellings)).collect();
    let mut held: Vec<Vec<Option<String>>> = readings.iter().map(|r| vec![None; r.len()]).collect();
    let coded: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].1.code.is_some()).collect();
    let views: Vec<Coded<'_>> = coded
        .iter()
        .map(|&i| {
            let e = &entries[i].1;
            Coded {
                code: e.code.as_deref().unwrap_or_default(),
                readings: readings[i]
                    .iter()
                    .map(|r| Reading {
                        class: &e.spellings[r[0]].class,
                        name: &e.spellings[best_spelling(&e.spellings, r).0].text,
                        rows: r.iter().map(|&s| e.spellings[s].sources.len()).sum(),
                    })
                    .collect(),
            }
        })
        .collect();
    for (ci, ri, why) in diagnose::misfiled(&views) {
        held[coded[ci]][ri] = Some(why);
    }
    drop(views);
    for (((id, entry), readings), held) in entries.iter().zip(readings).zip(held) {
        let mut kept: Vec<usize> = Vec::new();
        for (reading, why) in readings.iter().zip(held) {
            match why {
                Some(why) => hold_back(plan, &mut out, org_id, entry, reading, &why),
                None => kept.extend_from_slice(reading),
            }
        }
        if kept.is_empty() {
            continue;
        }
        kept.sort_unstable();
        let variants: Vec<Vec<usize>> = if strict {
            // The old rule, for those who want every other spelling looked at by a person.
            let mut by_fold: Vec<Vec<usize>> = Vec::new();
            for &s in &kept {
                match by_fold
                    .iter_mut()
                    .find(|v| entry.spellings[v[0]].fold == entry.spellings[s].fold)
                {
                    Some(v) => v.push(s),
                    None => by_fold.push(vec![s]),
                }
            }
            by_fold
        } else {
            readings
                .iter()
                .map(|r| r.iter().copied().filter(|s| kept.contains(s)).collect::<Vec<_>>())
                .filter(|r| !r.is_empty())
                .collect()
        };
        if variants.len() > 1 {
            let names: Vec<(String, Vec<Source>)> = variants
                .iter()
                .map(|v| {
                    let name = entry.spellings[best_spelling(&entry.spellings, v).0].text.to_string();
                    (name, merged_sources(&entry.spellings, v))
                })
                .collect();
            let conflict = Conflict {
                organization_id: org_id.to_owned(),
                group_id: id.clone(),
                names,
                kind: Default::default(),
            };
            out.problems.push(conflict_problem(plan, &conflict));
            out.conflicts.push(conflict);
            continue;
        }
        let mut group = make_group(id.clone(), &entry.spellings, &variants[0]);
        group.kind = kind.clone();
        group.path = entry.path.clone();
        if variants[0].len() > 1 {
            let message = variant_message(plan, &group.name, &entry.spellings, &variants[0]);
            out.problems.push(group_warning(plan, &group, message));
        }
        if slug::looks_like_formula(&group.name) {
            out.problems.push(group_warning(
                plan,
                &group,
                format!(
                    "'{}' starts like a spreadsheet formula; it is kept as a name, and reports write it so that Excel does not run it",
                    group.name
                ),
            ));
        }
        out.groups.push(group);
    }
    out
}

/// Spelling indices grouped by class (one name, several spellings), in order of first
/// appearance.
fn readings(spellings: &[Spelling]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, s) in spellings.iter().enumerate() {
        match out.iter_mut().find(|r| spellings[r[0]].class == s.class) {
            Some(r) => r.push(i),
            None => out.push(vec![i]),
        }
    }
    out
}

/// The most used of `chosen` spellings, and whether another one has as many rows. A tie is
/// settled by [`tie_order`], never by which row came first: an export's row order changes
/// from night to night, and the name must not.
fn best_spelling(spellings: &[Spelling], chosen: &[usize]) -> (usize, bool) {
    let order = |a: &&usize, b: &&usize| {
        let (a, b) = (&spellings[**a], &spellings[**b]);
        b.sources
            .len()
            .cmp(&a.sources.len())
            .then_with(|| tie_order(&a.text, &b.text))
    };
    let best = *chosen.iter().min_by(order).expect("a reading has a spelling");
    let top = spellings[best].sources.len();
    let tie = chosen.iter().any(|&s| s != best && spellings[s].sources.len() == top);
    (best, tie)
}

/// The spellings of `chosen` used as often as the most used one, the chosen first: the
/// names a state file's name may keep the group at.
fn tied(spellings: &[Spelling], chosen: &[usize]) -> Vec<String> {
    let (best, _) = best_spelling(spellings, chosen);
    let top = spellings[best].sources.len();
    let mut out = vec![spellings[best].text.to_string()];
    let mut rest: Vec<&str> = chosen
        .iter()
        .filter(|&&s| s != best && spellings[s].sources.len() == top)
        .map(|&s| &*spellings[s].text)
        .collect();
    rest.sort_by(|a, b| tie_order(a, b));
    out.extend(rest.into_iter().map(str::to_owned));
    out
}

/// Which of two equally used spellings names the group (`Less` for `a`): the one with
/// accents over the one without (`Café` over `Cafe`: someone took the trouble), mixed case over
/// all capitals or all lower case (`Sales` over `SALES`), then code point order.
pub fn tie_order(a: &str, b: &str) -> std::cmp::Ordering {
    use unicode_normalization::UnicodeNormalization;
    let accents = |t: &str| {
        t.nfd()
            .filter(|&c| unicode_normalization::char::is_combining_mark(c))
            .count()
    };
    let mixed = |t: &str| t.chars().any(char::is_uppercase) && t.chars().any(char::is_lowercase);
    accents(b)
        .cmp(&accents(a))
        .then_with(|| mixed(b).cmp(&mixed(a)))
        .then_with(|| a.cmp(b))
}

/// The rows of several spellings, in input order.
fn merged_sources(spellings: &[Spelling], chosen: &[usize]) -> Vec<Source> {
    if let [one] = chosen {
        return spellings[*one].sources.clone();
    }
    let mut sources: Vec<Source> = chosen
        .iter()
        .flat_map(|&s| spellings[s].sources.iter().copied())
        .collect();
    sources.sort_unstable();
    sources
}

fn make_group(id: String, spellings: &[Spelling], chosen: &[usize]) -> Group {
    // The strings are shared, not copied: the plan and the upload share them too.
    // By user, then row: the first row naming a user is the one kept. Sorted with each user's
    // prefix beside it, so most comparisons read no string.
    let mut keyed: Vec<(u64, Member)> = chosen
        .iter()
        .flat_map(|&s| spellings[s].members.iter())
        .map(|m| (m.order_prefix(), m.clone()))
        .collect();
    keyed.sort_unstable_by(|(pa, a), (pb, b)| pa.cmp(pb).then_with(|| (&*a.user, a.source).cmp(&(&*b.user, b.source))));
    keyed.dedup_by(|(pb, b), (pa, a)| pa == pb && a.user == b.user);
    let members: Vec<Member> = keyed.into_iter().map(|(_, m)| m).collect();
    let tied = tied(spellings, chosen);
    Group {
        id,
        name: tied[0].clone(),
        sources: merged_sources(spellings, chosen),
        members,
        tied,
        kind: super::Kind::default(),
        path: None,
    }
}

/// Holds every row of one reading back with the diagnosis's words, located on the code.
fn hold_back(plan: &Plan, out: &mut Decided, org_id: &str, entry: &IdEntry, reading: &[usize], why: &str) {
    let name = &entry.spellings[best_spelling(&entry.spellings, reading).0].text;
    for source in merged_sources(&entry.spellings, reading) {
        let table = &plan.tables[source.table as usize];
        let column = table.id_column.clone().unwrap_or_else(|| table.name_column.clone());
        out.problems.push(Problem {
            severity: Severity::Error,
            location: plan.locate(source).with_column(column),
            message: why.to_owned(),
        });
        out.invalid.push(InvalidRow {
            organization_id: org_id.to_owned(),
            name: name.to_string(),
            source,
            message: why.to_owned(),
            kind: Default::default(),
        });
    }
}

/// "'R&D' (2x: hr.csv rows 2, 6) is also written 'R-D' (1x: hr.csv row 4); these are one group
/// named 'R&D' (the most used spelling)": every spelling with its count and rows.
fn variant_message(plan: &Plan, name: &str, spellings: &[Spelling], chosen: &[usize]) -> String {
    let (best, tie) = best_spelling(spellings, chosen);
    let describe = |s: &Spelling| {
        let rows = if s.sources.len() <= ROWS_SHOWN {
            plan.describe_sources(&s.sources)
        } else {
            format!(
                "{} and {} more",
                plan.describe_sources(&s.sources[..ROWS_SHOWN]),
                s.sources.len() - ROWS_SHOWN
            )
        };
        format!("'{}' ({}x: {rows})", s.text, s.sources.len())
    };
    let others: Vec<String> = chosen
        .iter()
        .filter(|&&s| s != best)
        .map(|&s| describe(&spellings[s]))
        .collect();
    let why = if tie {
        "a tie in rows, settled by a fixed rule: accents, then mixed case, then alphabetical order"
    } else {
        "the most used spelling"
    };
    format!(
        "{} is also written {}; these are one group named '{name}' ({why})",
        describe(&spellings[best]),
        and_list(&others)
    )
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn group_warning(plan: &Plan, group: &Group, message: String) -> Problem {
    let column = plan.tables[group.sources[0].table as usize].name_column.clone();
    Problem {
        severity: Severity::Warning,
        location: plan.locate(group.sources[0]).with_column(column),
        message,
    }
}

fn conflict_problem(plan: &Plan, c: &Conflict) -> Problem {
    let first = c.names[0].1[0];
    let table = &plan.tables[first.table as usize];
    let listed: Vec<String> = c
        .names
        .iter()
        .map(|(name, sources)| format!("'{name}' ({})", plan.describe_sources(sources)))
        .collect();
    let advice = if table.id_column.is_some() {
        "give each department its own code, or one name per code"
    } else {
        "if they are one department, write its name one way in the source; if not, rename one of them or map a department code column with --id-column"
    };
    let differences: Vec<String> = c.names[1..]
        .iter()
        .map(|(name, _)| same::difference(&c.names[0].0, name))
        .collect();
    Problem {
        severity: Severity::Error,
        location: plan.locate(first).with_column(table.name_column.clone()),
        message: format!(
            "conflict in organization '{}': {} all make group ID '{}' but are different names ({}); none of them is sent; {advice}",
            c.organization_id,
            listed.join(" and "),
            c.group_id,
            differences.join("; ")
        ),
    }
}

/// An employee listed in two departments is added to both; worth a look all the same.
fn member_warnings(plan: &Plan, groups: &[Group]) -> Vec<(String, Problem)> {
    let mut problems = Vec::new();
    // (user, group, row), by user then group: a sort, not a map of a million lists.
    let mut places: Vec<(u64, &str, usize, Source)> = groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| g.members.iter().map(move |m| (m.order_prefix(), &*m.user, i, m.source)))
        .collect();
    places.sort_unstable_by_key(|&(prefix, user, group, _)| (prefix, user, group));
    // The prefixes first: most neighbours differ there, and their strings stay unread.
    for places in places.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1).filter(|p| p.len() > 1) {
        let user = places[0].1;
        let column = plan.tables[places[0].3.table as usize].name_column.clone();
        let ids: Vec<&str> = places.iter().map(|&(_, _, g, _)| groups[g].id.as_str()).collect();
        let problem = Problem {
            severity: Severity::Warning,
            location: plan.locate(places[1].3).with_column(column),
            message: format!(
                "user '{user}' is in {} departments ({}); they are added to each",
                places.len(),
                ids.join(", ")
            ),
        };
        problems.push((user.to_owned(), problem));
    }
    problems
}

/// With codes, two codes may carry one name: legal, but two groups look alike in Velt.
fn same_name_warnings(plan: &Plan, groups: &[Group], problems: &mut Vec<Problem>) {
    let mut by_name: BTreeMap<String, Vec<&Group>> = BTreeMap::new();
    for g in groups {
        by_name.entry(g.name.to_lowercase()).or_default().push(g);
    }
    for same in by_name.values().filter(|v| v.len() > 1) {
        let ids: Vec<&str> = same.iter().map(|g| g.id.as_str()).collect();
        problems.push(group_warning(
            plan,
            same[0],
            format!(
                "'{}' is the name of {} groups ({}); they are separate groups with the same name",
                same[0].name,
                same.len(),
                ids.join(", ")
            ),
        ));
    }
}

#[cfg(test)]
mod tests;
