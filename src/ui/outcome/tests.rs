use super::*;
use crate::plan::{Action, GroupOutcome, MemberOutcome, UserOutcome};

fn group(org: &str, id: &str, status: Status, error: &str, attempts: u32) -> GroupOutcome {
    GroupOutcome {
        organization_id: org.into(),
        group_id: id.into(),
        group_name: id.into(),
        status,
        attempts,
        error: error.into(),
        sources: Vec::new(),
        renamed_from: None,
        kind: Default::default(),
        path: None,
    }
}

fn plan(groups: Vec<GroupOutcome>) -> Plan {
    Plan {
        groups,
        users: None,
        members: None,
        removal_guard: None,
    }
}

#[test]
fn counts_add_up_and_name_the_outcome() {
    let p = plan(vec![
        group("acme", "a", Status::Added, "", 1),
        group("acme", "b", Status::Failed, "HTTP 500: boom", 5),
        group("acme", "c", Status::Failed, "not attempted: server unavailable", 0),
        group("acme", "d", Status::Invalid, "conflict", 0),
        group("acme", "e", Status::Unchanged, "", 0),
    ]);
    let t = Tallies::of(&p);
    let g = t.groups;
    assert_eq!(
        (g.added, g.failed, g.not_attempted, g.held_back, g.already_there),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(
        g.total,
        g.added + g.removed + g.already_there + g.failed + g.held_back + g.not_attempted + g.planned + g.stale
    );
    assert_eq!(Kind::of(&t, false, false), Kind::ImportedWithFailures);
    assert_eq!(Kind::of(&t, false, true), Kind::Stopped);
    assert_eq!(Kind::of(&t, true, false), Kind::DryRun);

    let all_failed = plan(vec![
        group("acme", "a", Status::Failed, "HTTP 500", 5),
        group("acme", "b", Status::Failed, "HTTP 500", 5),
    ]);
    assert_eq!(Kind::of(&Tallies::of(&all_failed), false, false), Kind::Failed);
    let nothing = plan(vec![group("acme", "a", Status::Unchanged, "", 0)]);
    assert_eq!(Kind::of(&Tallies::of(&nothing), false, false), Kind::NothingToDo);
    let fine = plan(vec![
        group("acme", "a", Status::Added, "", 1),
        group("acme", "b", Status::Invalid, "x", 0),
    ]);
    assert_eq!(Kind::of(&Tallies::of(&fine), false, false), Kind::Imported);
    assert_eq!(
        Kind::of(&Tallies::of(&fine), false, true),
        Kind::Imported,
        "stopped after the end"
    );
}

#[test]
fn a_retry_leaves_out_what_got_done() {
    let first = plan(vec![
        group("acme", "a", Status::Added, "", 1),
        group("acme", "b", Status::Failed, "HTTP 500", 5),
        group("acme", "c", Status::Exists, "", 1),
    ]);
    let done = Finished::of(&first);
    let mut again = plan(vec![
        group("acme", "a", Status::Planned, "", 0),
        group("acme", "b", Status::Planned, "", 0),
        group("acme", "c", Status::Planned, "", 0),
    ]);
    assert_eq!(done.leave_out(&mut again), 2);
    let planned: Vec<&str> = again
        .groups
        .iter()
        .filter(|g| g.status == Status::Planned)
        .map(|g| g.group_id.as_str())
        .collect();
    assert_eq!(planned, vec!["b"]);
}

#[test]
fn the_sentence_says_what_will_happen_where() {
    let mut p = plan(
        (0..400)
            .map(|i| group("acme", &format!("g{i}"), Status::Planned, "", 0))
            .collect(),
    );
    p.users = Some(
        (0..13)
            .map(|i| UserOutcome {
                organization_id: "acme".into(),
                user_id: format!("u{i}").into(),
                name: "".into(),
                email: "".into(),
                status: Status::Planned,
                attempts: 0,
                error: Box::default(),
                source: crate::normalize::Source { table: 0, row: 2 },
            })
            .collect(),
    );
    p.members = Some(
        (0..13)
            .map(|i| MemberOutcome {
                organization_id: "acme".into(),
                group_id: "g1".into(),
                user_id: format!("u{i}").into(),
                action: Action::Add,
                status: Status::Planned,
                attempts: 0,
                error: Box::default(),
                source: None,
            })
            .collect(),
    );
    assert_eq!(
        sentence(&p).unwrap(),
        "Create 400 groups in organization acme, add 13 people as organization users (they will see the organization's documents) and add 13 memberships?"
    );
    let one = plan(vec![group("acme", "a", Status::Planned, "", 0)]);
    assert_eq!(sentence(&one).unwrap(), "Create 1 group in organization acme?");
    let none = plan(vec![group("acme", "a", Status::Unchanged, "", 0)]);
    assert_eq!(sentence(&none), None);
}
