//! The endpoints: strict validation of each body, then one outcome per item.
//!
//! Per-item checks run in one order everywhere: an item left out (`omit_groups`), a refusal
//! with no code (`reject_groups`, `reject_users`), a transient `internal` failure
//! (`transient_items`), then what the stored data says (`not-found`, `already-exists`).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use hyper::StatusCode;
use serde_json::{json, Map, Value};

use crate::server::{bad, error, error_with_details, success, Answer, Shared};
use crate::{FakeConfig, OrgUser, State, UsersFault, MAX_FILTER};

const INTERNAL: &str = "Internal error; retry this item.";

/// The outcomes of one call, item by item.
#[derive(Default)]
struct Items {
    entries: Map<String, Value>,
    failed: usize,
}

impl Items {
    fn ok(&mut self, id: String, entry: Value) {
        self.entries.insert(id, entry);
    }

    fn fail(&mut self, id: String, code: Option<&str>, message: &str) {
        let mut entry = json!({"success": false, "message": message});
        if let Some(code) = code {
            entry["code"] = code.into();
        }
        self.entries.insert(id, entry);
        self.failed += 1;
    }

    /// A 200 with every outcome in `result.data`, or under `partial_failure_500` a 500 with them
    /// in `error.details` as soon as one item failed.
    fn answer(self, config: &FakeConfig, message: &str) -> Answer {
        if config.partial_failure_500 && self.failed > 0 {
            let text = format!("{} of {} items failed.", self.failed, self.entries.len());
            return error_with_details(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                &text,
                Value::Object(self.entries),
            );
        }
        let mut result = Map::new();
        result.insert("data".into(), Value::Object(self.entries));
        success(message, result)
    }
}

/// Whether `id` is due a transient failure now; taking one uses it up.
fn take_transient(shared: &Shared, id: &str) -> bool {
    let mut config = shared.config.lock().unwrap();
    match config.transient_items.get_mut(id) {
        Some(left) if *left > 0 => {
            *left -= 1;
            true
        }
        _ => false,
    }
}

/// A stable 32-hex document ID, so re-adding the same item answers the same ID, as a real
/// database keyed by it would.
fn doc_id(seed: u64, kind: &str, org: &str, id: &str) -> String {
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        (seed, salt, kind, org, id).hash(&mut h);
        h.finish()
    };
    format!("{:016x}{:016x}", half(0), half(1))
}

/// `body.data` as an object with only `allowed` keys and a non-empty `organizationId`; the
/// error is the message of a 400.
fn data_of<'a>(body: Option<&'a Value>, allowed: &[&str]) -> Result<(&'a Map<String, Value>, &'a str), String> {
    let Some(body) = body else {
        return Err("body is not JSON".into());
    };
    let Some(top) = body.as_object() else {
        return Err("body must be an object".into());
    };
    if top.keys().any(|k| k != "data") {
        return Err("unknown top-level field".into());
    }
    let Some(data) = top.get("data").and_then(Value::as_object) else {
        return Err("data must be an object".into());
    };
    if let Some(k) = data.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("unknown field in data: {k}"));
    }
    let Some(org) = data
        .get("organizationId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Err("organizationId must be a non-empty string".into());
    };
    if data.get("createOrganization").is_some_and(|v| !v.is_boolean()) {
        return Err("createOrganization must be a boolean".into());
    }
    Ok((data, org))
}

/// `POST /v2/organizations/usergroups/add`.
pub(crate) fn add_groups(shared: &Shared, config: &FakeConfig, body: Option<Value>) -> Answer {
    let (data, org) = match data_of(
        body.as_ref(),
        &["organizationId", "organizationUserGroups", "createOrganization"],
    ) {
        Ok(d) => d,
        Err(message) => return bad(&message),
    };
    let Some(list) = data
        .get("organizationUserGroups")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return bad("organizationUserGroups must be a non-empty array");
    };
    if let Some(max) = config.max_chunk {
        if list.len() > max {
            return bad(&format!("at most {max} groups per request"));
        }
    }
    let mut groups = Vec::new();
    let mut ids = HashSet::new();
    for g in list {
        let Some(obj) = g.as_object() else {
            return bad("each group must be an object");
        };
        if obj.keys().any(|k| k != "groupId" && k != "groupName") {
            return bad("unknown field in a group");
        }
        let Some(id) = obj.get("groupId").and_then(Value::as_str).filter(|s| !s.is_empty()) else {
            return bad("groupId must be a non-empty string");
        };
        let Some(name) = obj.get("groupName").and_then(Value::as_str) else {
            return bad("groupName must be a string");
        };
        if !ids.insert(id) {
            return bad(&format!("groupId {id} appears twice"));
        }
        if config.bad_request_groups.contains(id) {
            return bad(&format!("groupName of {id} is not accepted"));
        }
        groups.push((id.to_owned(), name.to_owned()));
    }
    let mut state = shared.state.lock().unwrap();
    let mut items = Items::default();
    for (id, name) in groups {
        if config.omit_groups.contains(&id) {
            continue;
        }
        if config.reject_groups.contains(&id) {
            items.fail(id, None, "Group rejected by the fake.");
            continue;
        }
        if take_transient(shared, &id) {
            items.fail(id, Some("internal"), INTERNAL);
            continue;
        }
        let stored = state.groups.entry(org.to_owned()).or_default();
        if !config.upsert && stored.contains_key(&id) {
            items.fail(id, Some("already-exists"), "Organization user group already exists.");
            continue;
        }
        stored.insert(id.clone(), name);
        *state.confirmations.entry((org.to_owned(), id.clone())).or_default() += 1;
        let entry = json!({
            "success": true,
            "id": doc_id(config.seed, "group", org, &id),
            "message": "Organization user group added.",
        });
        items.ok(id, entry);
    }
    items.answer(config, "Organization user groups added.")
}

/// `POST .../usergroups/users/add` (`add`) and `.../usergroups/users/delete`.
pub(crate) fn members(shared: &Shared, config: &FakeConfig, body: Option<Value>, add: bool) -> Answer {
    let (data, org) = match data_of(
        body.as_ref(),
        &["organizationId", "organizationUserGroupId", "userIds", "deleteAll"],
    ) {
        Ok(d) => d,
        Err(message) => return bad(&message),
    };
    let Some(group) = data
        .get("organizationUserGroupId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return bad("organizationUserGroupId must be a non-empty string");
    };
    let delete_all = !add && data.get("deleteAll").and_then(Value::as_bool) == Some(true);
    let users: Vec<&str> = match data.get("userIds").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => {
            let users: Vec<&str> = list
                .iter()
                .filter_map(Value::as_str)
                .filter(|u| !u.is_empty())
                .collect();
            if users.len() != list.len() {
                return bad("userIds must be non-empty strings");
            }
            users
        }
        _ if delete_all => Vec::new(),
        _ => return bad("userIds must be a non-empty array"),
    };
    if let Some(max) = config.max_chunk {
        if users.len() > max {
            return bad(&format!("at most {max} userIds per request"));
        }
    }
    let mut guard = shared.state.lock().unwrap();
    // Borrowing fields one by one: members change while org_users is read.
    let state = &mut *guard;
    if !state.groups.get(org).is_some_and(|g| g.contains_key(group)) {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "organization user group not found");
    }
    let key = (org.to_owned(), group.to_owned());
    let users: Vec<String> = if delete_all {
        state
            .members
            .get(&key)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    } else {
        users.iter().map(|u| u.to_string()).collect()
    };
    let mut items = Items::default();
    for user in users {
        if config.reject_users.contains(&user) {
            items.fail(user, None, "User rejected by the fake.");
            continue;
        }
        if take_transient(shared, &user) {
            items.fail(user, Some("internal"), INTERNAL);
            continue;
        }
        let set = state.members.entry(key.clone()).or_default();
        let message = if add {
            if config.require_org_users && !state.org_users.get(org).is_some_and(|u| u.contains_key(&user)) {
                let message = format!("User {user} is not a user of organization {org}.");
                items.fail(user, Some("not-found"), &message);
                continue;
            }
            if !set.insert(user.clone()) && !config.upsert {
                items.fail(
                    user,
                    Some("already-exists"),
                    "User is already in the organization user group.",
                );
                continue;
            }
            "User added to organization user group."
        } else {
            set.remove(&user);
            "User removed from organization user group."
        };
        items.ok(
            user,
            json!({"success": true, "organizationUserGroupId": group, "message": message}),
        );
    }
    items.answer(config, "Memberships updated.")
}

/// `POST /v2/users/add`: makes users organization users, or updates them.
pub(crate) fn add_users(shared: &Shared, config: &FakeConfig, body: Option<Value>) -> Answer {
    let (data, org) = match data_of(body.as_ref(), &["organizationId", "users", "createOrganization"]) {
        Ok(d) => d,
        Err(message) => return bad(&message),
    };
    let Some(list) = data.get("users").and_then(Value::as_array).filter(|a| !a.is_empty()) else {
        return bad("users must be a non-empty array");
    };
    if let Some(max) = config.max_chunk {
        if list.len() > max {
            return bad(&format!("at most {max} users per request"));
        }
    }
    let mut users = Vec::new();
    let mut ids = HashSet::new();
    for u in list {
        let Some(obj) = u.as_object() else {
            return bad("each user must be an object");
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "userId" | "name" | "email" | "accessRole"))
        {
            return bad(&format!("unknown field in a user: {k}"));
        }
        let Some(id) = obj.get("userId").and_then(Value::as_str).filter(|s| !s.is_empty()) else {
            return bad("userId must be a non-empty string");
        };
        let text = |key: &str| -> Result<Option<String>, String> {
            match obj.get(key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("{key} must be a string")),
            }
        };
        let (name, email, role) = match (text("name"), text("email"), text("accessRole")) {
            (Ok(n), Ok(e), Ok(r)) => (n, e, r),
            (Err(m), _, _) | (_, Err(m), _) | (_, _, Err(m)) => return bad(&m),
        };
        if role.as_deref().is_some_and(|r| r != "viewer" && r != "editor") {
            return bad("accessRole must be viewer or editor");
        }
        if !ids.insert(id) {
            return bad(&format!("userId {id} appears twice"));
        }
        users.push((id.to_owned(), name, email, role));
    }
    let mut state = shared.state.lock().unwrap();
    let mut items = Items::default();
    for (id, name, email, access_role) in users {
        if config.reject_users.contains(&id) {
            items.fail(id, None, "User rejected by the fake.");
            continue;
        }
        if take_transient(shared, &id) {
            items.fail(id, Some("internal"), INTERNAL);
            continue;
        }
        let org_users = state.org_users.entry(org.to_owned()).or_default();
        if !config.upsert && org_users.contains_key(&id) {
            items.fail(id, Some("already-exists"), "User already exists in the organization.");
            continue;
        }
        // An update names only what changes: fields left out keep their stored value.
        let user = org_users.entry(id.clone()).or_default();
        user.name = name.or(user.name.take());
        user.email = email.or(user.email.take());
        user.access_role = access_role.or(user.access_role.take());
        let entry = json!({
            "success": true,
            "id": doc_id(config.seed, "user", org, &id),
            "message": "User added.",
        });
        items.ok(id, entry);
    }
    items.answer(config, "Users added.")
}

/// An optional filter of at most [`MAX_FILTER`] non-empty strings; the error is the message of
/// a 400.
fn filter(data: &Map<String, Value>, key: &str) -> Result<Option<BTreeSet<String>>, String> {
    let Some(value) = data.get(key) else {
        return Ok(None);
    };
    let Some(list) = value.as_array().filter(|a| !a.is_empty()) else {
        return Err(format!("{key} must be a non-empty array"));
    };
    if list.len() > MAX_FILTER {
        return Err(format!("{key} accepts at most {MAX_FILTER} entries"));
    }
    list.iter()
        .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
        .collect::<Option<BTreeSet<_>>>()
        .map(Some)
        .ok_or_else(|| format!("{key} must hold non-empty strings"))
}

/// Page tokens are the last user ID of the page, hex-encoded, so paging stays stable while
/// users are added or removed between pages.
fn encode_token(user: &str) -> String {
    user.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(token: &str) -> Option<String> {
    if token.is_empty() || !token.len().is_multiple_of(2) || !token.is_ascii() {
        return None;
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// `POST /v2/users/get`: the organization's users (those added by users/add and every group
/// member), filtered, by user ID, a page at a time.
pub(crate) fn get_users(shared: &Shared, config: &FakeConfig, body: Option<Value>) -> Answer {
    if !config.advanced_queries {
        return error(
            StatusCode::BAD_REQUEST,
            "FAILED_PRECONDITION",
            "Advanced queries must be enabled in the Velt console to use this API.",
        );
    }
    let (data, org) = match data_of(
        body.as_ref(),
        &[
            "organizationId",
            "organizationUserGroupIds",
            "userIds",
            "pageSize",
            "pageToken",
        ],
    ) {
        Ok(d) => d,
        Err(message) => return bad(&message),
    };
    let (groups, user_ids) = match (filter(data, "organizationUserGroupIds"), filter(data, "userIds")) {
        (Ok(g), Ok(u)) => (g, u),
        (Err(m), _) | (_, Err(m)) => return bad(&m),
    };
    let max = config.max_page_size.max(1);
    let page_size = match data.get("pageSize") {
        None => max,
        Some(v) => match v.as_u64().filter(|&n| n > 0) {
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX).min(max),
            None => return bad("pageSize must be a positive integer"),
        },
    };
    let after = match data.get("pageToken") {
        None => None,
        Some(v) => match v.as_str().and_then(decode_token) {
            Some(user) => Some(user),
            None => return bad("pageToken is not valid"),
        },
    };

    let state = shared.state.lock().unwrap();
    let (page, more) = match (&groups, &user_ids) {
        // By group alone (what verify and --repair ask): only the page's users are looked at,
        // so reading back a million members is not a million users per page.
        (Some(gs), None) => group_page(&state, org, gs, after.as_deref(), page_size),
        _ => {
            let mut users: BTreeMap<&str, (Option<&OrgUser>, BTreeSet<&str>)> = BTreeMap::new();
            for (id, user) in state.org_users.get(org).into_iter().flatten() {
                users.entry(id).or_default().0 = Some(user);
            }
            for ((o, group), members) in &state.members {
                if o == org {
                    for m in members {
                        users.entry(m).or_default().1.insert(group);
                    }
                }
            }
            let mut matching = users.into_iter().filter(|(id, (_, member_of))| {
                user_ids.as_ref().is_none_or(|ids| ids.contains(*id))
                    && groups
                        .as_ref()
                        .is_none_or(|gs| member_of.iter().any(|g| gs.contains(*g)))
                    && after.as_deref().is_none_or(|last| *id > last)
            });
            let page: Vec<_> = matching.by_ref().take(page_size).collect();
            let more = matching.next().is_some();
            (page, more)
        }
    };
    let mut result = Map::new();
    if more {
        let last = page.last().map(|(id, _)| *id).unwrap_or_default();
        result.insert(config.page_token_field.clone(), encode_token(last).into());
    }
    let data: Vec<Value> = page
        .into_iter()
        .map(|(id, (user, member_of))| {
            let mut entry = json!({"userId": id, "organizationUserGroupIds": member_of});
            if let Some(name) = user.and_then(|u| u.name.as_ref()) {
                entry["name"] = name.as_str().into();
            }
            if let Some(email) = user.and_then(|u| u.email.as_ref()) {
                entry["email"] = email.as_str().into();
            }
            entry
        })
        .collect();
    result.insert("data".into(), data.into());
    misbehave(config.users_fault.as_ref(), after.as_deref(), &mut result);
    success("Users retrieved.", result)
}

/// Bends a users/get page as [`FakeConfig::users_fault`] says.
fn misbehave(fault: Option<&UsersFault>, after: Option<&str>, result: &mut Map<String, Value>) {
    let field = |r: &Map<String, Value>| {
        ["nextPageToken", "pageToken"]
            .into_iter()
            .find(|f| r.contains_key(*f))
            .unwrap_or("nextPageToken")
            .to_owned()
    };
    match fault {
        None => {}
        Some(UsersFault::NoData) => {
            result.remove("data");
        }
        Some(UsersFault::TokenCycle) => {
            // Page "a" leads to "b", every other page back to "a".
            let next = if after == Some("a") { "b" } else { "a" };
            let f = field(result);
            result.insert(f, encode_token(next).into());
        }
        Some(UsersFault::EmptyPages) => {
            // A fresh token each time, so only a bound on pages (or time) stops a reader.
            let n = after
                .and_then(|a| a.strip_prefix('~'))
                .and_then(|n| n.parse::<u64>().ok());
            let f = field(result);
            result.insert("data".into(), Value::Array(Vec::new()));
            result.insert(f, encode_token(&format!("~{}", n.map_or(0, |n| n + 1))).into());
        }
        Some(UsersFault::Padding(n)) => {
            result.insert("padding".into(), "x".repeat(*n).into());
        }
    }
}

/// A page of the users of `org` in any of `groups` after `after`, as [`get_users`] answers it:
/// each with their organization user and every group of `org` they are in.
#[allow(clippy::type_complexity)]
fn group_page<'a>(
    state: &'a State,
    org: &str,
    groups: &BTreeSet<String>,
    after: Option<&str>,
    page_size: usize,
) -> (Vec<(&'a str, (Option<&'a OrgUser>, BTreeSet<&'a str>))>, bool) {
    use std::ops::Bound;
    let org_groups: Vec<(&'a str, &'a BTreeSet<String>)> = state
        .members
        .iter()
        .filter(|((o, _), _)| o == org)
        .map(|((_, g), m)| (g.as_str(), m))
        .collect();
    // The smallest page_size + 1 IDs of the union are among each group's smallest.
    let mut ids: BTreeSet<&'a str> = BTreeSet::new();
    for (_, members) in org_groups.iter().filter(|(g, _)| groups.contains(*g)) {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        ids.extend(
            members
                .range::<str, _>((from, Bound::Unbounded))
                .take(page_size + 1)
                .map(String::as_str),
        );
    }
    let more = ids.len() > page_size;
    let page = ids
        .into_iter()
        .take(page_size)
        .map(|id| {
            let user = state.org_users.get(org).and_then(|u| u.get(id));
            let member_of = org_groups
                .iter()
                .filter(|(_, m)| m.contains(id))
                .map(|(g, _)| *g)
                .collect();
            (id, (user, member_of))
        })
        .collect();
    (page, more)
}
