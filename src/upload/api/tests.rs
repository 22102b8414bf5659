use super::*;

fn at(status: u16, body: &str) -> Answer {
    classify(status, None, body.as_bytes(), SystemTime::UNIX_EPOCH)
}

#[test]
fn body_is_the_documented_envelope() {
    let body = add_groups_body(
        "acme",
        true,
        [("eng", "Engineering"), ("r-d", "R&D \"Labs\"")].into_iter(),
    );
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"data": {"organizationId": "acme", "createOrganization": true,
            "organizationUserGroups": [{"groupId": "eng", "groupName": "Engineering"},
                                       {"groupId": "r-d", "groupName": "R&D \"Labs\""}]}})
    );
    let plain = add_groups_body("acme", false, [("eng", "E")].into_iter());
    assert!(!String::from_utf8_lossy(&plain).contains("createOrganization"));
    let members = members_body("acme", "eng", ["u1", "ada@x.io"].into_iter());
    let v: serde_json::Value = serde_json::from_slice(&members).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"data": {"organizationId": "acme", "organizationUserGroupId": "eng", "userIds": ["u1", "ada@x.io"]}})
    );
}

#[test]
fn classification_table() {
    let err = |word: &str| format!(r#"{{"error": {{"message": "m", "status": "{word}"}}}}"#);
    let ok = r#"{"result": {"status": "success", "message": "x", "data": {
        "a": {"success": true, "id": "77ab", "message": "Organization user group added."},
        "b": {"success": false, "message": "nope"}}}}"#;
    match at(200, ok) {
        Answer::Entries(map) => {
            assert!(map["a"].success);
            assert_eq!(
                map["b"],
                Entry {
                    success: false,
                    code: None,
                    message: Some("nope".into())
                }
            );
            assert!(!map.contains_key("c"));
        }
        other => panic!("{other:?}"),
    }
    let table: Vec<(u16, String, Answer)> = vec![
        (
            429,
            err("RESOURCE_EXHAUSTED"),
            Answer::RateLimited {
                retry_after: None,
                error: "RESOURCE_EXHAUSTED (HTTP 429): m".into(),
            },
        ),
        (500, err("INTERNAL"), Answer::Transient("INTERNAL (HTTP 500): m".into())),
        (
            502,
            "<html><body>Bad   Gateway</body></html>".into(),
            Answer::Transient("HTTP 502: <html><body>Bad Gateway</body></html>".into()),
        ),
        (
            503,
            err("UNAVAILABLE"),
            Answer::Transient("UNAVAILABLE (HTTP 503): m".into()),
        ),
        (504, "".into(), Answer::Overloaded("HTTP 504".into())),
        (408, "".into(), Answer::Overloaded("HTTP 408".into())),
        (
            400,
            err("INVALID_ARGUMENT"),
            Answer::Refused("INVALID_ARGUMENT (HTTP 400): m".into()),
        ),
        (
            401,
            err("UNAUTHENTICATED"),
            Answer::Credentials("UNAUTHENTICATED (HTTP 401): m".into()),
        ),
        (
            403,
            err("PERMISSION_DENIED"),
            Answer::Credentials("PERMISSION_DENIED (HTTP 403): m".into()),
        ),
        (404, err("NOT_FOUND"), Answer::Fatal("NOT_FOUND (HTTP 404): m".into())),
        (
            409,
            err("ALREADY_EXISTS"),
            Answer::Fatal("ALREADY_EXISTS (HTTP 409): m".into()),
        ),
    ];
    for (status, body, want) in table {
        assert_eq!(at(status, &body), want, "HTTP {status}");
    }
    assert!(matches!(at(200, "not json"), Answer::Fatal(e) if e.starts_with("HTTP 200: the answer could not be read")));
}

#[test]
fn partial_failures_are_read_per_item() {
    let body = r#"{"error": {"status": "INTERNAL", "message": "some failed", "details": {
        "a": {"success": true, "id": "1"},
        "b": {"success": false, "code": "already-exists", "message": "dup"},
        "c": {"success": false, "code": "not-found", "message": "no org user"},
        "d": {"success": false, "code": "internal", "message": "try later"},
        "e": {"success": false, "message": "bad"}}}}"#;
    let Answer::Entries(map) = at(500, body) else { panic!() };
    let outcome = |id: &str| item_outcome(map.get(id), false);
    assert_eq!(outcome("a"), ItemOutcome::Confirmed);
    assert_eq!(outcome("b"), ItemOutcome::Exists);
    assert_eq!(
        outcome("c"),
        ItemOutcome::Failed("refused by the server (not-found): no org user".into())
    );
    assert_eq!(
        outcome("d"),
        ItemOutcome::Retry("internal error on the server: try later".into())
    );
    assert_eq!(outcome("e"), ItemOutcome::Failed("refused by the server: bad".into()));
    assert!(matches!(outcome("zz"), ItemOutcome::Failed(e) if e.starts_with("not confirmed")));
    // Removing someone who is not there is done.
    assert_eq!(item_outcome(map.get("c"), true), ItemOutcome::Confirmed);
    // The same details on a 400 are per item too; not on an auth failure or a 429.
    assert!(matches!(at(400, body), Answer::Entries(_)));
    assert!(matches!(at(403, body), Answer::Credentials(_)));
    assert!(matches!(at(429, body), Answer::RateLimited { .. }));
    // A 500 without details stays a whole-chunk retry.
    assert!(matches!(
        at(500, r#"{"error": {"status": "INTERNAL", "message": "x"}}"#),
        Answer::Transient(_)
    ));
}

#[test]
fn retry_after_forms() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
    assert_eq!(parse_retry_after(" 0.5 ", now), Some(Duration::from_millis(500)));
    let date = httpdate::fmt_http_date(now + Duration::from_secs(10));
    assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(10)));
    let past = httpdate::fmt_http_date(now - Duration::from_secs(10));
    assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("soon", now), None);
    assert_eq!(parse_retry_after("-1", now), None);
    // Regression (fuzzing): a huge float made Duration::from_secs_f64 panic.
    assert_eq!(parse_retry_after("4444444E445", now), None);
    assert_eq!(parse_retry_after("1e300", now), None);
    assert_eq!(parse_retry_after("NaN", now), None);
    match classify(429, Some("2"), b"", now) {
        Answer::RateLimited { retry_after, .. } => assert_eq!(retry_after, Some(Duration::from_secs(2))),
        other => panic!("{other:?}"),
    }
}
