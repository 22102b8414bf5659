//! Every mode of the fake over real HTTP on 127.0.0.1, with the exact answers a client sees.

use fake_velt::{
    AuthFailure, FakeConfig, FakeVelt, OrgUser, ADD_GROUPS, ADD_MEMBERS, ADD_USERS, API_KEY, AUTH_TOKEN, GET_USERS,
    REMOVE_MEMBERS,
};
use serde_json::{json, Value};

/// A plain HTTP client for one fake; blocking, because the fake runs its own runtime.
struct Api {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(fake: &FakeVelt) -> Self {
        Api {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            // A proxy from the environment must not see loopback traffic.
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            base: fake.url(),
        }
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_as(path, body, Some((API_KEY, AUTH_TOKEN)))
    }

    fn post_as(&self, path: &str, body: Value, creds: Option<(&str, &str)>) -> (u16, Value) {
        self.rt.block_on(async {
            let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
            if let Some((key, token)) = creds {
                req = req.header("x-velt-api-key", key).header("x-velt-auth-token", token);
            }
            let answer = req.send().await.unwrap();
            let status = answer.status().as_u16();
            (status, answer.json().await.unwrap())
        })
    }
}

fn groups(org: &str, groups: &[(&str, &str)]) -> Value {
    let list: Vec<Value> = groups
        .iter()
        .map(|(id, name)| json!({"groupId": id, "groupName": name}))
        .collect();
    json!({"data": {"organizationId": org, "organizationUserGroups": list}})
}

fn users(org: &str, users: Value) -> Value {
    json!({"data": {"organizationId": org, "users": users}})
}

fn members(org: &str, group: &str, users: &[&str]) -> Value {
    json!({"data": {"organizationId": org, "organizationUserGroupId": group, "userIds": users}})
}

/// The `id` of an entry, checked to be 32 lowercase hex digits.
fn id_of(entry: &Value) -> String {
    let id = entry["id"].as_str().expect("an id").to_owned();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{id}"
    );
    id
}

fn invalid(message: &str) -> Value {
    json!({"error": {"status": "INVALID_ARGUMENT", "message": message}})
}

#[test]
fn upsert_renames_by_default_and_refuses_existing_groups_when_off() {
    let fake = FakeVelt::start(FakeConfig::default());
    let api = Api::new(&fake);
    let (status, first) = api.post(ADD_GROUPS, groups("acme", &[("eng", "Engineering")]));
    assert_eq!(status, 200);
    let (status, again) = api.post(ADD_GROUPS, groups("acme", &[("eng", "Eng")]));
    assert_eq!(status, 200);
    assert_eq!(
        id_of(&again["result"]["data"]["eng"]),
        id_of(&first["result"]["data"]["eng"]),
        "the same group keeps its ID"
    );
    assert_eq!(fake.groups_of("acme"), [("eng".into(), "Eng".into())].into());

    fake.configure(|c| c.upsert = false);
    let (status, body) = api.post(
        ADD_GROUPS,
        groups("acme", &[("eng", "Engineering 2"), ("sales", "Sales")]),
    );
    assert_eq!(status, 200);
    let sales = id_of(&body["result"]["data"]["sales"]);
    assert_eq!(
        body,
        json!({"result": {"status": "success", "message": "Organization user groups added.", "data": {
            "eng": {"success": false, "code": "already-exists",
                    "message": "Organization user group already exists."},
            "sales": {"success": true, "id": sales, "message": "Organization user group added."},
        }}})
    );
    assert_eq!(
        fake.groups_of("acme"),
        [("eng".into(), "Eng".into()), ("sales".into(), "Sales".into())].into(),
        "the refused group keeps its stored name"
    );
}

#[test]
fn upsert_off_refuses_existing_org_users_and_members() {
    let fake = FakeVelt::start(FakeConfig::default());
    let api = Api::new(&fake);
    let ada = json!({"userId": "ada", "name": "Ada Lovelace", "email": "ada@example.com", "accessRole": "viewer"});
    assert_eq!(api.post(ADD_USERS, users("acme", json!([ada]))).0, 200);
    // Upsert: fields sent replace the stored ones, fields left out are kept.
    let (status, body) = api.post(
        ADD_USERS,
        users(
            "acme",
            json!([{"userId": "ada", "name": "Ada King", "accessRole": "editor"}]),
        ),
    );
    assert_eq!(status, 200);
    let id = id_of(&body["result"]["data"]["ada"]);
    assert_eq!(
        body,
        json!({"result": {"status": "success", "message": "Users added.", "data": {
            "ada": {"success": true, "id": id, "message": "User added."}
        }}})
    );
    let stored = OrgUser {
        name: Some("Ada King".into()),
        email: Some("ada@example.com".into()),
        access_role: Some("editor".into()),
    };
    assert_eq!(fake.org_users("acme"), [("ada".into(), stored.clone())].into());

    fake.configure(|c| c.upsert = false);
    let (status, body) = api.post(
        ADD_USERS,
        users(
            "acme",
            json!([{"userId": "ada", "name": "Someone Else"}, {"userId": "bob"}]),
        ),
    );
    assert_eq!(status, 200);
    let data = &body["result"]["data"];
    assert_eq!(
        data["ada"],
        json!({"success": false, "code": "already-exists", "message": "User already exists in the organization."})
    );
    assert_eq!(data["bob"]["success"], true);
    assert_eq!(fake.org_users("acme")["ada"], stored, "a refused user is not changed");
    assert_eq!(fake.org_users("acme")["bob"], OrgUser::default());

    fake.add_group("acme", "eng", "Engineering");
    assert_eq!(api.post(ADD_MEMBERS, members("acme", "eng", &["ada"])).0, 200);
    let (status, body) = api.post(ADD_MEMBERS, members("acme", "eng", &["ada", "bob"]));
    assert_eq!(status, 200);
    assert_eq!(
        body["result"]["data"],
        json!({
            "ada": {"success": false, "code": "already-exists",
                    "message": "User is already in the organization user group."},
            "bob": {"success": true, "organizationUserGroupId": "eng",
                    "message": "User added to organization user group."},
        })
    );
    assert_eq!(fake.members_of("acme", "eng"), ["ada", "bob"]);
}

#[test]
fn partial_failure_500_details_every_item_and_stores_the_successes() {
    let fake = FakeVelt::start(FakeConfig {
        upsert: false,
        partial_failure_500: true,
        reject_groups: ["legal".to_owned()].into(),
        ..FakeConfig::default()
    });
    let api = Api::new(&fake);
    let (status, body) = api.post(ADD_GROUPS, groups("acme", &[("eng", "Engineering")]));
    assert_eq!(status, 200, "no failure, no 500: {body}");
    let (status, body) = api.post(
        ADD_GROUPS,
        groups(
            "acme",
            &[("eng", "Engineering"), ("sales", "Sales"), ("legal", "Legal")],
        ),
    );
    assert_eq!(status, 500);
    let sales = id_of(&body["error"]["details"]["sales"]);
    assert_eq!(
        body,
        json!({"error": {"status": "INTERNAL", "message": "2 of 3 items failed.", "details": {
            "eng": {"success": false, "code": "already-exists",
                    "message": "Organization user group already exists."},
            "sales": {"success": true, "id": sales, "message": "Organization user group added."},
            "legal": {"success": false, "message": "Group rejected by the fake."},
        }}})
    );
    assert_eq!(
        fake.groups_of("acme"),
        [("eng".into(), "Engineering".into()), ("sales".into(), "Sales".into())].into(),
        "the group that succeeded is stored despite the 500"
    );
    assert_eq!(fake.answered(500), 1);

    // Members the same way.
    assert_eq!(api.post(ADD_MEMBERS, members("acme", "eng", &["ada"])).0, 200);
    let (status, body) = api.post(ADD_MEMBERS, members("acme", "eng", &["ada", "bob"]));
    assert_eq!(status, 500);
    assert_eq!(body["error"]["details"]["ada"]["code"], "already-exists");
    assert_eq!(body["error"]["details"]["bob"]["success"], true);
    assert_eq!(fake.members_of("acme", "eng"), ["ada", "bob"]);
}

#[test]
fn members_must_be_org_users_when_required() {
    let fake = FakeVelt::start(FakeConfig {
        require_org_users: true,
        ..FakeConfig::default()
    });
    let api = Api::new(&fake);
    fake.add_group("acme", "eng", "Engineering");
    assert_eq!(api.post(ADD_USERS, users("acme", json!([{"userId": "ada"}]))).0, 200);
    // Being an organization user elsewhere does not count.
    assert_eq!(api.post(ADD_USERS, users("globex", json!([{"userId": "bob"}]))).0, 200);
    let (status, body) = api.post(ADD_MEMBERS, members("acme", "eng", &["ada", "bob"]));
    assert_eq!(status, 200);
    assert_eq!(
        body["result"]["data"],
        json!({
            "ada": {"success": true, "organizationUserGroupId": "eng",
                    "message": "User added to organization user group."},
            "bob": {"success": false, "code": "not-found",
                    "message": "User bob is not a user of organization acme."},
        })
    );
    assert_eq!(fake.members_of("acme", "eng"), ["ada"]);

    // The strict preset reads the same refusal as a 500 with details.
    fake.configure(|c| *c = FakeConfig::strict());
    let (status, body) = api.post(ADD_MEMBERS, members("acme", "eng", &["carol"]));
    assert_eq!(status, 500);
    assert_eq!(body["error"]["details"]["carol"]["code"], "not-found");
    assert_eq!(fake.members_of("acme", "eng"), ["ada"]);
}

#[test]
fn strict_is_the_strictest_reading() {
    let c = FakeConfig::strict();
    assert!(!c.upsert && c.partial_failure_500 && c.require_org_users);
    let d = FakeConfig::default();
    assert!(d.upsert && !d.partial_failure_500 && !d.require_org_users && d.advanced_queries);
    assert_eq!((d.auth_failure, d.max_page_size), (AuthFailure::Unauthenticated, 100));
    assert_eq!(d.page_token_field, "nextPageToken");
}

/// Pages through users/get until no token comes back; the token is read from `field` only.
fn all_pages(api: &Api, request: Value, field: &str) -> (Vec<usize>, Vec<Value>) {
    let (mut sizes, mut all) = (Vec::new(), Vec::new());
    let mut request = request;
    loop {
        let (status, body) = api.post(GET_USERS, request.clone());
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["result"]["status"], "success");
        let page = body["result"]["data"].as_array().unwrap().clone();
        sizes.push(page.len());
        all.extend(page);
        let other = if field == "pageToken" {
            "nextPageToken"
        } else {
            "pageToken"
        };
        assert!(body["result"].get(other).is_none(), "{other} is not spelled: {body}");
        match body["result"].get(field) {
            Some(token) => request["data"]["pageToken"] = token.clone(),
            None => return (sizes, all),
        }
        assert!(sizes.len() < 100, "paging never ends");
    }
}

#[test]
fn users_get_pages_until_no_token_in_either_spelling() {
    let fake = FakeVelt::start(FakeConfig {
        max_page_size: 10,
        ..FakeConfig::default()
    });
    let api = Api::new(&fake);
    let list: Vec<Value> = (0..25)
        .map(|i| json!({"userId": format!("u{i:02}"), "name": format!("User {i:02}"), "email": format!("u{i:02}@example.com")}))
        .collect();
    assert_eq!(api.post(ADD_USERS, users("acme", json!(list))).0, 200);
    fake.add_group("acme", "eng", "Engineering");
    assert_eq!(api.post(ADD_MEMBERS, members("acme", "eng", &["u03", "u01"])).0, 200);
    // A member who is not an organization user is still a user of the organization.
    assert!(fake.add_member("acme", "eng", "ghost"));

    let everyone = json!({"data": {"organizationId": "acme", "pageSize": 1000}});
    let (sizes, all) = all_pages(&api, everyone.clone(), "nextPageToken");
    assert_eq!(sizes, [10, 10, 6], "pageSize is clamped to the server's cap");
    let ids: Vec<&str> = all.iter().map(|u| u["userId"].as_str().unwrap()).collect();
    let mut want: Vec<String> = (0..25).map(|i| format!("u{i:02}")).collect();
    want.push("ghost".into());
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(
        all[2],
        json!({"userId": "u01", "name": "User 01", "email": "u01@example.com", "organizationUserGroupIds": ["eng"]})
    );

    fake.configure(|c| c.page_token_field = "pageToken".into());
    let (sizes, again) = all_pages(&api, everyone, "pageToken");
    assert_eq!((sizes, again), (vec![10, 10, 6], all));

    let small = json!({"data": {"organizationId": "acme", "pageSize": 4, "organizationUserGroupIds": ["eng"]}});
    let (sizes, engineers) = all_pages(&api, small, "pageToken");
    assert_eq!(sizes, [3]);
    assert_eq!(
        engineers,
        json!([
            {"userId": "ghost", "organizationUserGroupIds": ["eng"]},
            {"userId": "u01", "name": "User 01", "email": "u01@example.com", "organizationUserGroupIds": ["eng"]},
            {"userId": "u03", "name": "User 03", "email": "u03@example.com", "organizationUserGroupIds": ["eng"]},
        ])
        .as_array()
        .unwrap()
        .clone()
    );

    let both =
        json!({"data": {"organizationId": "acme", "userIds": ["u01", "u02"], "organizationUserGroupIds": ["eng"]}});
    let (_, found) = all_pages(&api, both, "pageToken");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["userId"], "u01");
    assert_eq!(fake.requests_to(GET_USERS), 3 + 3 + 1 + 1);
}

#[test]
fn users_get_takes_at_most_30_of_each_filter_and_checks_its_token() {
    let fake = FakeVelt::start(FakeConfig::default());
    let api = Api::new(&fake);
    let ids = |n: usize| (0..n).map(|i| format!("id{i}")).collect::<Vec<_>>();
    for key in ["organizationUserGroupIds", "userIds"] {
        let (status, body) = api.post(GET_USERS, json!({"data": {"organizationId": "acme", key: ids(31)}}));
        assert_eq!(
            (status, body),
            (400, invalid(&format!("{key} accepts at most 30 entries")))
        );
        let (status, body) = api.post(GET_USERS, json!({"data": {"organizationId": "acme", key: ids(30)}}));
        assert_eq!((status, &body["result"]["data"]), (200, &json!([])));
    }
    let (status, body) = api.post(
        GET_USERS,
        json!({"data": {"organizationId": "acme", "pageToken": "not a token"}}),
    );
    assert_eq!((status, body), (400, invalid("pageToken is not valid")));
    let (status, body) = api.post(GET_USERS, json!({"data": {"organizationId": "acme", "pageSize": 0}}));
    assert_eq!((status, body), (400, invalid("pageSize must be a positive integer")));
}

#[test]
fn users_get_without_advanced_queries_is_a_failed_precondition() {
    let fake = FakeVelt::start(FakeConfig {
        advanced_queries: false,
        ..FakeConfig::default()
    });
    let api = Api::new(&fake);
    let request = json!({"data": {"organizationId": "acme"}});
    let (status, body) = api.post(GET_USERS, request.clone());
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": {"status": "FAILED_PRECONDITION",
            "message": "Advanced queries must be enabled in the Velt console to use this API."}})
    );
    fake.configure(|c| c.advanced_queries = true);
    let (status, body) = api.post(GET_USERS, request);
    assert_eq!((status, &body["result"]["data"]), (200, &json!([])));
}

#[test]
fn bad_credentials_are_401_or_403_as_configured() {
    let fake = FakeVelt::start(FakeConfig::default());
    let api = Api::new(&fake);
    let body = groups("acme", &[("eng", "Engineering")]);
    let (status, answer) = api.post_as(ADD_GROUPS, body.clone(), Some(("wrong", AUTH_TOKEN)));
    assert_eq!(
        (status, answer),
        (
            401,
            json!({"error": {"status": "UNAUTHENTICATED", "message": "invalid API key or auth token"}})
        )
    );
    fake.configure(|c| c.auth_failure = AuthFailure::PermissionDenied);
    let denied = json!({"error": {"status": "PERMISSION_DENIED",
        "message": "the API key or auth token does not grant access to this project"}});
    assert_eq!(
        api.post_as(ADD_GROUPS, body.clone(), Some((API_KEY, "wrong"))),
        (403, denied.clone())
    );
    assert_eq!(
        api.post_as(ADD_USERS, users("acme", json!([{"userId": "ada"}])), None),
        (403, denied)
    );
    assert!(fake.groups().is_empty() && fake.org_users("acme").is_empty());
    assert_eq!(fake.answered(403), 2);
}

#[test]
fn transient_items_fail_internal_then_succeed() {
    let fake = FakeVelt::start(FakeConfig {
        transient_items: [("sales".to_owned(), 2), ("bob".to_owned(), 1)].into(),
        ..FakeConfig::default()
    });
    let api = Api::new(&fake);
    let internal = json!({"success": false, "code": "internal", "message": "Internal error; retry this item."});
    let (status, body) = api.post(
        ADD_GROUPS,
        groups("acme", &[("eng", "Engineering"), ("sales", "Sales")]),
    );
    assert_eq!(status, 200);
    assert_eq!(body["result"]["data"]["sales"], internal);
    assert_eq!(body["result"]["data"]["eng"]["success"], true);
    assert_eq!(fake.groups_of("acme").keys().collect::<Vec<_>>(), ["eng"]);

    let (_, body) = api.post(ADD_GROUPS, groups("acme", &[("sales", "Sales")]));
    assert_eq!(body["result"]["data"]["sales"], internal);
    assert_eq!(fake.config().transient_items["sales"], 0, "both failures used up");
    let (_, body) = api.post(ADD_GROUPS, groups("acme", &[("sales", "Sales")]));
    assert_eq!(body["result"]["data"]["sales"]["success"], true);
    assert_eq!(fake.groups_of("acme").len(), 2);

    // Users take the same road, on every endpoint that writes them.
    let (_, body) = api.post(ADD_USERS, users("acme", json!([{"userId": "ada"}, {"userId": "bob"}])));
    assert_eq!(body["result"]["data"]["bob"], internal);
    assert_eq!(fake.org_users("acme").keys().collect::<Vec<_>>(), ["ada"]);
    let (_, body) = api.post(ADD_USERS, users("acme", json!([{"userId": "bob"}])));
    assert_eq!(body["result"]["data"]["bob"]["success"], true);

    fake.configure(|c| {
        c.transient_items.insert("ada".into(), 1);
    });
    assert_eq!(api.post(ADD_MEMBERS, members("acme", "eng", &["ada", "bob"])).0, 200);
    assert_eq!(fake.members_of("acme", "eng"), ["bob"]);
    assert_eq!(api.post(ADD_MEMBERS, members("acme", "eng", &["ada"])).0, 200);
    assert_eq!(fake.members_of("acme", "eng"), ["ada", "bob"]);
}

#[test]
fn users_add_validates_strictly() {
    let fake = FakeVelt::start(FakeConfig {
        max_chunk: Some(2),
        ..FakeConfig::default()
    });
    let api = Api::new(&fake);
    let cases = [
        (json!([]), "users must be a non-empty array"),
        (json!([{"name": "Ada"}]), "userId must be a non-empty string"),
        (json!([{"userId": ""}]), "userId must be a non-empty string"),
        (json!([{"userId": 7}]), "userId must be a non-empty string"),
        (json!([{"userId": "ada", "name": 5}]), "name must be a string"),
        (json!([{"userId": "ada", "email": null}]), "email must be a string"),
        (
            json!([{"userId": "ada", "accessRole": "owner"}]),
            "accessRole must be viewer or editor",
        ),
        (
            json!([{"userId": "ada", "role": "viewer"}]),
            "unknown field in a user: role",
        ),
        (json!(["ada"]), "each user must be an object"),
        (
            json!([{"userId": "ada"}, {"userId": "ada"}]),
            "userId ada appears twice",
        ),
        (
            json!([{"userId": "a"}, {"userId": "b"}, {"userId": "c"}]),
            "at most 2 users per request",
        ),
    ];
    for (list, message) in &cases {
        assert_eq!(
            api.post(ADD_USERS, users("acme", list.clone())),
            (400, invalid(message)),
            "{list}"
        );
    }
    let top = json!({"data": {"organizationId": "acme", "users": [{"userId": "ada"}], "createOrganization": "yes"}});
    assert_eq!(
        api.post(ADD_USERS, top),
        (400, invalid("createOrganization must be a boolean"))
    );
    assert!(fake.org_users("acme").is_empty());

    let ok = json!({"data": {"organizationId": "acme", "createOrganization": true,
        "users": [{"userId": "ada", "name": "Ada", "email": "ada@example.com", "accessRole": "viewer"}]}});
    assert_eq!(api.post(ADD_USERS, ok).0, 200);
    assert_eq!(fake.org_users("acme")["ada"].access_role.as_deref(), Some("viewer"));
    assert_eq!(fake.requests_to(ADD_USERS), cases.len() + 2);
    assert_eq!(
        fake.log().last().unwrap().groups,
        ["ada"],
        "the log names users/add's users"
    );
}

#[test]
fn console_edits_show_in_users_get_and_requests_are_counted_per_path() {
    let fake = FakeVelt::start(FakeConfig::default());
    let api = Api::new(&fake);
    assert_eq!(api.post(ADD_GROUPS, groups("acme", &[("eng", "Engineering")])).0, 200);
    assert_eq!(api.post(ADD_MEMBERS, members("acme", "eng", &["ada", "bob"])).0, 200);
    // Someone removes Ada in the Velt console, and adds Carol.
    assert!(fake.remove_member("acme", "eng", "ada"));
    assert!(!fake.remove_member("acme", "eng", "ada"), "already gone");
    assert!(fake.add_member("acme", "eng", "carol"));
    let (status, body) = api.post(
        GET_USERS,
        json!({"data": {"organizationId": "acme", "organizationUserGroupIds": ["eng"]}}),
    );
    assert_eq!(status, 200);
    let ids: Vec<&str> = body["result"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["bob", "carol"]);
    assert!(body["result"].get("nextPageToken").is_none());

    assert_eq!(api.post(REMOVE_MEMBERS, members("acme", "eng", &["bob"])).0, 200);
    assert_eq!(fake.members_of("acme", "eng"), ["carol"]);
    assert_eq!(
        fake.requests_by_path(),
        [
            (ADD_GROUPS.to_owned(), 1),
            (ADD_MEMBERS.to_owned(), 1),
            (REMOVE_MEMBERS.to_owned(), 1),
            (GET_USERS.to_owned(), 1),
        ]
        .into()
    );
    assert_eq!((fake.requests_to(ADD_MEMBERS), fake.requests_to(ADD_USERS)), (1, 0));
}

#[test]
fn users_get_misbehaves_one_mode_at_a_time() {
    let fake = FakeVelt::start(FakeConfig {
        max_page_size: 1,
        ..FakeConfig::default()
    });
    let api = Api::new(&fake);
    for user in ["a1", "b2", "c3"] {
        fake.add_member("acme", "eng", user);
    }
    let page = |token: Option<&str>| {
        let mut data = json!({"organizationId": "acme", "organizationUserGroupIds": ["eng"]});
        if let Some(t) = token {
            data["pageToken"] = t.into();
        }
        let (status, body) = api.post(GET_USERS, json!({ "data": data }));
        assert_eq!(status, 200, "{body}");
        body["result"].clone()
    };

    fake.configure(|c| c.users_fault = Some(fake_velt::UsersFault::NoData));
    assert!(page(None).get("data").is_none());

    fake.configure(|c| c.users_fault = Some(fake_velt::UsersFault::TokenCycle));
    let first = page(None)["nextPageToken"].as_str().unwrap().to_owned();
    let second = page(Some(&first))["nextPageToken"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(
        page(Some(&second))["nextPageToken"],
        first.as_str(),
        "back to the first"
    );

    fake.configure(|c| c.users_fault = Some(fake_velt::UsersFault::EmptyPages));
    let mut token = page(None)["nextPageToken"].as_str().unwrap().to_owned();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..5 {
        let next = page(Some(&token));
        assert_eq!(next["data"], json!([]));
        token = next["nextPageToken"].as_str().unwrap().to_owned();
        assert!(seen.insert(token.clone()), "a fresh token each time");
    }

    fake.configure(|c| c.users_fault = Some(fake_velt::UsersFault::Padding(1000)));
    let padded = page(None);
    assert_eq!(padded["padding"].as_str().unwrap().len(), 1000);
    assert_eq!(padded["data"].as_array().unwrap().len(), 1);
    assert_eq!("padding=12".parse(), Ok(fake_velt::UsersFault::Padding(12)));
    assert!("padding".parse::<fake_velt::UsersFault>().is_err());
}

#[test]
fn a_path_prefix_serves_under_it_only() {
    let fake = FakeVelt::start(FakeConfig {
        path_prefix: "/velt".into(),
        ..FakeConfig::default()
    });
    let api = Api::new(&fake);
    let body = groups("acme", &[("eng", "Engineering")]);
    assert_eq!(api.post(ADD_GROUPS, body.clone()).0, 404);
    assert_eq!(api.post(&format!("/velt{ADD_GROUPS}"), body).0, 200);
    assert_eq!(fake.groups_of("acme").len(), 1);
    assert_eq!(fake.requests_to(ADD_GROUPS), 1, "logged without the prefix");
}

#[test]
fn a_server_of_limited_capacity_answers_later_and_later() {
    let fake = FakeVelt::start(FakeConfig {
        capacity: Some(20.0),
        ..FakeConfig::default()
    });
    let api = Api::new(&fake);
    // Ten requests at once take ten service times (50 ms each): the last answer comes after
    // about half a second, none with a 429.
    let started = std::time::Instant::now();
    let statuses: Vec<u16> = api.rt.block_on(async {
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..10 {
            let req = api
                .http
                .post(format!("{}{ADD_GROUPS}", api.base))
                .header("x-velt-api-key", API_KEY)
                .header("x-velt-auth-token", AUTH_TOKEN)
                .json(&groups("acme", &[(&format!("g{i}"), "G")]));
            calls.spawn(async move { req.send().await.unwrap().status().as_u16() });
        }
        calls.join_all().await
    });
    assert_eq!(statuses, vec![200; 10]);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
}
