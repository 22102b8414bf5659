//! Kinds of group (`--group-by KIND=COLUMN`): the department is one kind, an office, a
//! division or a cost center others. Each kind is normalized on its own (its own spellings,
//! conflicts and stable IDs), then the kinds' plans are merged here; two kinds that make one
//! ID are held back, naming both.

use std::sync::Arc;

use super::{Conflict, Plan, Problem, Severity};

/// The department kind's name: the one kind of a run without `--group-by`.
pub const DEPARTMENT: &str = "department";

/// Which kind a group is of: a shared string, so a million groups cost a pointer each.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind(Arc<str>);

impl Kind {
    /// A kind named `name`.
    pub fn new(name: &str) -> Self {
        Kind(Arc::from(name))
    }

    /// The department kind.
    pub fn department() -> Self {
        Kind::new(DEPARTMENT)
    }

    /// Its name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Kind {
    fn default() -> Self {
        Kind::department()
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One `--group-by` kind, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindSpec {
    /// Its name (`office`).
    pub kind: Kind,
    /// The header (or 1-based number) of the column its groups come from.
    pub column: String,
    /// The column of its codes, when it has one.
    pub code_column: Option<String>,
    /// Put before its IDs (`office-`); the first kind has none unless given.
    pub id_prefix: Option<String>,
    /// Splits a value into the levels of a path (`Engineering > Platform`).
    pub separator: Option<String>,
    /// With a separator: only the deepest level is a group the person joins.
    pub leaf_only: bool,
}

/// One level of a path value: its own name, the ID part of the levels above it, and the path
/// down to it as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelIn {
    /// The level's own name (`Platform`).
    pub name: String,
    /// The ID part of the levels above (`engineering`), `None` at the top.
    pub parent: Option<String>,
    /// The path down to this level, levels joined by the separator as given.
    pub path: String,
}

/// The levels of `value` split by `separator`: empty levels (`A >  > B`) are skipped. With
/// `leaf_only`, only the deepest level (still under its parents' ID).
pub fn levels(value: &str, separator: &str, leaf_only: bool) -> Vec<LevelIn> {
    let parts: Vec<&str> = value
        .split(separator)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let mut out = Vec::with_capacity(parts.len());
    let mut parent: Option<String> = None;
    for (i, part) in parts.iter().enumerate() {
        out.push(LevelIn {
            name: (*part).to_owned(),
            parent: parent.clone(),
            path: parts[..=i].join(separator),
        });
        // A level without letters or digits makes no ID part; its own row says so.
        let id = super::slug::name_id(&super::slug::clean_name(part)).unwrap_or_default();
        parent = Some(match parent {
            Some(p) if !id.is_empty() => format!("{p}-{id}"),
            Some(p) => p,
            None => id,
        });
    }
    if leaf_only {
        out.drain(..out.len().saturating_sub(1));
    }
    out
}

/// Merges the plan of another kind into `into`: groups side by side, and an ID made by two
/// kinds (or twice in one organization) held back as a conflict naming both.
pub fn merge(into: &mut Plan, other: Plan) {
    into.invalid.extend(other.invalid);
    into.conflicts.extend(other.conflicts);
    into.problems.extend(other.problems);
    for org in other.organizations {
        let at = match into.organizations.binary_search_by(|o| o.id.cmp(&org.id)) {
            Ok(at) => at,
            Err(at) => {
                into.organizations.insert(
                    at,
                    super::Organization {
                        id: org.id.clone(),
                        groups: Vec::new(),
                    },
                );
                at
            }
        };
        for group in org.groups {
            let groups = &mut into.organizations[at].groups;
            match groups.binary_search_by(|g| g.id.cmp(&group.id)) {
                Err(i) => groups.insert(i, group),
                Ok(i) => {
                    let first = groups.remove(i);
                    let conflict = Conflict {
                        organization_id: org.id.clone(),
                        group_id: group.id.clone(),
                        names: vec![
                            (format!("{} ({})", first.name, first.kind), first.sources.clone()),
                            (format!("{} ({})", group.name, group.kind), group.sources.clone()),
                        ],
                        kind: first.kind.clone(),
                    };
                    let source = first.sources.first().or(group.sources.first()).copied();
                    let location = match source {
                        Some(s) => into
                            .locate(s)
                            .with_column(into.tables[s.table as usize].name_column.clone()),
                        None => crate::location::Location::file(""),
                    };
                    into.problems.push(Problem {
                        severity: Severity::Error,
                        location,
                        message: format!(
                            "conflict in organization '{}': the {} '{}' and the {} '{}' both make the group ID '{}'; neither is sent; give one of the kinds another id-prefix in --group-by",
                            org.id, first.kind, first.name, group.kind, group.name, group.id
                        ),
                    });
                    into.conflicts.push(conflict);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_makes_one_level_per_part() {
        let l = levels("Engineering > Platform >  > Storage ", " > ", false);
        let names: Vec<&str> = l.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Engineering", "Platform", "Storage"]);
        assert_eq!(l[0].parent, None);
        assert_eq!(l[1].parent.as_deref(), Some("engineering"));
        assert_eq!(l[2].parent.as_deref(), Some("engineering-platform"));
        assert_eq!(l[2].path, "Engineering > Platform > Storage");
        let leaf = levels("R&D > Platform", ">", true);
        assert_eq!(leaf.len(), 1);
        assert_eq!(leaf[0].parent.as_deref(), Some("r-d"));
        assert_eq!(leaf[0].name, "Platform");
    }

    /// Levels of one parent are judged as departments are: spellings merge, names that only
    /// share an ID are a conflict; one name under two parents is two groups.
    #[test]
    fn levels_are_judged_per_parent() {
        use crate::normalize::{ListKind, Normalizer, Options, RowIn, Source, TableRef};
        let mut n = Normalizer::with_options(Options {
            kind: Kind::new("team"),
            ..Options::default()
        });
        let table = n.add_table(TableRef {
            file: "hr.csv".into(),
            sheet: None,
            name_column: "Team".into(),
            id_column: None,
            org_column: None,
            user_column: None,
        });
        let rows = [
            ("eng", "Platform"),
            ("eng", "platform"),
            ("eng", "Platform"),
            ("sales", "Platform"),
            ("eng", "C++"),
            ("eng", "C#"),
        ];
        for (i, (parent, name)) in rows.into_iter().enumerate() {
            n.add(RowIn {
                organization: "acme",
                name,
                code: None,
                source: Source {
                    table,
                    row: i as u32 + 2,
                },
                kind: ListKind::Employees,
                user: None,
                person_name: None,
                email: None,
                parent: Some(parent),
                path: Some(name),
            });
        }
        let plan = n.finish();
        let groups: Vec<(&str, &str, usize, &str)> = plan.organizations[0]
            .groups
            .iter()
            .map(|g| (g.id.as_str(), g.name.as_str(), g.sources.len(), g.kind.as_str()))
            .collect();
        assert_eq!(
            groups,
            [
                ("eng-platform", "Platform", 3, "team"),
                ("sales-platform", "Platform", 1, "team")
            ]
        );
        assert_eq!(plan.conflicts.len(), 1);
        assert_eq!(plan.conflicts[0].group_id, "eng-c");
        assert_eq!(plan.conflicts[0].kind.as_str(), "team");
    }

    /// The path shown does not depend on row order.
    #[test]
    fn a_levels_path_is_the_same_in_any_row_order() {
        use crate::normalize::{ListKind, Normalizer, RowIn, Source, TableRef};
        let path_of = |paths: [&str; 2]| {
            let mut n = Normalizer::new();
            let table = n.add_table(TableRef {
                file: "hr.csv".into(),
                sheet: None,
                name_column: "Team".into(),
                id_column: None,
                org_column: None,
                user_column: None,
            });
            for (i, path) in paths.into_iter().enumerate() {
                n.add(RowIn {
                    organization: "acme",
                    name: "Platform",
                    code: None,
                    source: Source {
                        table,
                        row: i as u32 + 2,
                    },
                    kind: ListKind::Employees,
                    user: None,
                    person_name: None,
                    email: None,
                    parent: Some("engineering"),
                    path: Some(path),
                });
            }
            n.finish().organizations[0].groups[0].path.clone()
        };
        let want = Some("Engineering > Platform".into());
        assert_eq!(path_of(["engineering > Platform", "Engineering > Platform"]), want);
        assert_eq!(path_of(["Engineering > Platform", "engineering > Platform"]), want);
    }
}
