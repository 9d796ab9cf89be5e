//! Each FHIR interaction through the router without a socket
//! (`tower::ServiceExt::oneshot`), on SQLite and PostgreSQL: one test (or
//! a few) per file of `fhir_server::interaction`, each naming the section
//! of the FHIR R4 HTTP specification it checks.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::{ids, on_both_stores, patient, state, store, Db};

/// A router over a fresh store; None when the store is not configured.
async fn app(db: Db, name: &str) -> Option<(Router, Option<tempfile::TempDir>)> {
    let (store, dir) = store(db, name).await?;
    Some((
        fhir_server::server::router(state(store, "http://test")),
        dir,
    ))
}

/// One request: method, path (with query), headers, JSON body.
async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    let has_ctype = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if body.is_some() && !has_ctype {
        req = req.header("content-type", "application/fhir+json");
    }
    let body = body
        .map(|b| Body::from(b.to_string()))
        .unwrap_or_else(Body::empty);
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, value)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (s, _, v) = call(app, "GET", uri, &[], None).await;
    (s, v)
}

async fn create(app: &Router, resource: Value) -> String {
    let (s, _, v) = call(
        app,
        "POST",
        &format!("/{}", resource["resourceType"].as_str().unwrap()),
        &[],
        Some(resource),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

fn issue_code(oo: &Value) -> &str {
    oo["issue"][0]["code"].as_str().unwrap_or("")
}

fn flag(code: &str) -> Value {
    json!({"resourceType": "Flag", "status": "active",
        "identifier": [{"system": "https://example.org/flags", "value": code}],
        "code": {"text": code}, "subject": {"reference": "Patient/p1"}})
}

on_both_stores!(
    capabilities_come_from_the_routing_and_operation_tables,
    read_answers_the_current_version_or_404_410_304,
    vread_answers_each_version,
    create_assigns_the_id_and_if_none_exist_finds_a_match,
    conditional_criteria_are_search_criteria_only,
    update_requires_the_urls_id_and_creates_when_new,
    conditional_update_updates_the_match_or_creates,
    patch_applies_json_patch_and_fhirpath_patch,
    delete_is_idempotent_and_conditional_delete_refuses_many,
    delete_with_only_result_parameters_is_refused_and_deletes_nothing,
    search_by_type_by_system_and_by_post,
    an_unasked_total_is_counted_up_to_the_bound,
    history_at_each_level,
    batch_entries_go_through_the_same_interactions,
    a_put_whose_id_differs_is_refused_in_a_transaction_as_outside_one,
    patch_works_in_a_transaction,
    transaction_refuses_duplicate_full_urls_dangling_references_and_bad_urls,
    validate_operation_at_type_and_instance_level,
    unknown_paths_and_methods_are_404_and_405,
    the_carer_guide_is_compiled_in,
);

/// http §3.1.0.10 capabilities.
async fn capabilities_come_from_the_routing_and_operation_tables(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let (s, cs) = get(&app, "/metadata").await;
    assert_eq!(s, StatusCode::OK);
    let rest = &cs["rest"][0];
    let codes = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_string())
            .collect()
    };
    let system = codes(&rest["interaction"]);
    for c in ["transaction", "batch", "search-system", "history-system"] {
        assert!(system.contains(&c.to_string()), "{system:?}");
    }
    let patient = rest["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Patient")
        .unwrap();
    let per_type = codes(&patient["interaction"]);
    for c in [
        "read",
        "vread",
        "update",
        "patch",
        "delete",
        "history-instance",
        "history-type",
        "create",
        "search-type",
    ] {
        assert!(per_type.contains(&c.to_string()), "{per_type:?}");
    }
    assert_eq!(patient["conditionalDelete"], "single");
    assert!(patient["operation"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["name"] == "validate"));
    assert!(
        patient["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "_tag"),
        "common parameters are listed"
    );
}

/// http §3.1.0.2 read.
async fn read_answers_the_current_version_or_404_410_304(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let id = create(&app, patient("9000000009", "Read", "Rita", "1970-01-01")).await;
    let (s, h, p) = call(&app, "GET", &format!("/Patient/{id}"), &[], None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["etag"], "W/\"1\"");
    assert!(h.contains_key("last-modified"));
    assert_eq!(p["id"], id.as_str());
    let (s, _, _) = call(
        &app,
        "GET",
        &format!("/Patient/{id}"),
        &[("if-none-match", "W/\"1\"")],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_MODIFIED);
    let (s, e) = get(&app, &format!("/Patient/{id}?_elements=birthDate")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        e.get("name").is_none() && e["birthDate"] == "1970-01-01",
        "{e}"
    );
    assert!(e["meta"]["tag"].to_string().contains("SUBSETTED"));
    let (s, oo) = get(&app, "/Patient/nobody").await;
    assert_eq!((s, issue_code(&oo)), (StatusCode::NOT_FOUND, "not-found"));
    let (s, _, _) = call(&app, "DELETE", &format!("/Patient/{id}"), &[], None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, oo) = get(&app, &format!("/Patient/{id}")).await;
    assert_eq!((s, issue_code(&oo)), (StatusCode::GONE, "deleted"));
    let (s, oo) = get(&app, "/Patient/%FF").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an undecodable id is 400: {oo}");
    assert_eq!(oo["resourceType"], "OperationOutcome");
}

/// http §3.1.0.3 vread.
async fn vread_answers_each_version(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let id = create(
        &app,
        patient("9000000009", "Versions", "Vera", "1970-01-01"),
    )
    .await;
    let mut p = get(&app, &format!("/Patient/{id}")).await.1;
    p["gender"] = json!("other");
    let (s, _, _) = call(&app, "PUT", &format!("/Patient/{id}"), &[], Some(p)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v1) = get(&app, &format!("/Patient/{id}/_history/1")).await;
    assert_eq!((s, v1["gender"].as_str()), (StatusCode::OK, Some("female")));
    let (_, v2) = get(&app, &format!("/Patient/{id}/_history/2")).await;
    assert_eq!(v2["gender"], "other");
    let (s, _) = get(&app, &format!("/Patient/{id}/_history/3")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = get(&app, &format!("/Patient/{id}/_history/x")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// http §3.1.0.7 create, §3.1.0.8.1 conditional create.
async fn create_assigns_the_id_and_if_none_exist_finds_a_match(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let mut body = patient("9000000009", "Create", "Cara", "1970-01-01");
    body["id"] = json!("chosen-by-client");
    let (s, h, p) = call(&app, "POST", "/Patient", &[], Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED);
    let id = p["id"].as_str().unwrap();
    assert_ne!(id, "chosen-by-client", "the server assigns the id");
    assert!(h["location"]
        .to_str()
        .unwrap()
        .ends_with(&format!("/Patient/{id}/_history/1")));
    let cond = [(
        "if-none-exist",
        "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009",
    )];
    let (s, _, found) = call(&app, "POST", "/Patient", &cond, Some(body.clone())).await;
    assert_eq!((s, found["id"].as_str()), (StatusCode::OK, Some(id)));
    create(&app, patient("9000000009", "Twin", "Tia", "1970-01-01")).await;
    let (s, _, oo) = call(&app, "POST", "/Patient", &cond, Some(body)).await;
    assert_eq!(
        (s, issue_code(&oo)),
        (StatusCode::PRECONDITION_FAILED, "multiple-matches")
    );
    let (s, _, _) = call(
        &app,
        "POST",
        "/Patient",
        &[("prefer", "return=minimal")],
        Some(patient("9000000017", "M", "Min", "1970-01-01")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
}

/// http §3.1.0.8: criteria of conditional interactions are search criteria.
async fn conditional_criteria_are_search_criteria_only(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let existing = create(&app, patient("9000000009", "Format", "Fay", "1970-01-01")).await;
    // `_format` is not a criterion: this If-None-Exist has none, so it is
    // refused, and does not "find" the stored Patient.
    let (s, _, oo) = call(
        &app,
        "POST",
        "/Patient",
        &[("if-none-exist", "_format=json")],
        Some(patient("9000000017", "New", "Ned", "1980-01-01")),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{oo}");
    assert!(oo["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("criterion"));
    let (s, _, oo) = call(
        &app,
        "POST",
        "/Patient",
        &[("if-none-exist", "nonsense=1")],
        Some(patient("9000000017", "New", "Ned", "1980-01-01")),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "an unknown criterion is refused, not ignored: {oo}"
    );
    let (_, b) = get(&app, "/Patient").await;
    assert_eq!(ids(&b), vec![existing]);
    let (s, _, _) = call(
        &app,
        "PUT",
        "/Patient?_count=1",
        &[],
        Some(patient("9000000017", "New", "Ned", "1980-01-01")),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

/// http §3.1.0.4 update.
async fn update_requires_the_urls_id_and_creates_when_new(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let mut p = patient("9000000009", "Update", "Una", "1970-01-01");
    p["id"] = json!("una");
    let (s, _, _) = call(&app, "PUT", "/Patient/una", &[], Some(p.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "update as create");
    let (s, h, _) = call(
        &app,
        "PUT",
        "/Patient/una",
        &[("if-match", "W/\"1\"")],
        Some(p.clone()),
    )
    .await;
    assert_eq!(
        (s, h["etag"].to_str().unwrap()),
        (StatusCode::OK, "W/\"2\"")
    );
    let (s, _, oo) = call(
        &app,
        "PUT",
        "/Patient/una",
        &[("if-match", "W/\"1\"")],
        Some(p.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{oo}");
    let (s, _, _) = call(&app, "PUT", "/Patient/other", &[], Some(p.clone())).await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "the body's id must be the URL's"
    );
    p.as_object_mut().unwrap().remove("id");
    let (s, _, _) = call(&app, "PUT", "/Patient/una", &[], Some(p)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "the body must carry the id");
}

/// http §3.1.0.4.3 conditional update.
async fn conditional_update_updates_the_match_or_creates(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let url = "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009";
    let (s, _, first) = call(
        &app,
        "PUT",
        url,
        &[],
        Some(patient("9000000009", "Cond", "Cleo", "1970-01-01")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, second) = call(
        &app,
        "PUT",
        url,
        &[],
        Some(patient("9000000009", "Cond", "Clio", "1970-01-01")),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(first["id"], second["id"]);
    assert_eq!(second["meta"]["versionId"], "2");
    create(&app, patient("9000000009", "Dup", "Dot", "1970-01-01")).await;
    let (s, _, oo) = call(
        &app,
        "PUT",
        url,
        &[],
        Some(patient("9000000009", "Cond", "Cleo", "1970-01-01")),
    )
    .await;
    assert_eq!(
        (s, issue_code(&oo)),
        (StatusCode::PRECONDITION_FAILED, "multiple-matches")
    );
}

/// http §3.1.0.6 patch.
async fn patch_applies_json_patch_and_fhirpath_patch(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let id = create(&app, patient("9000000009", "Patch", "Pam", "1970-01-01")).await;
    let ops = json!([{"op": "replace", "path": "/gender", "value": "other"}]);
    let (s, _, p) = call(
        &app,
        "PATCH",
        &format!("/Patient/{id}"),
        &[("content-type", "application/json-patch+json")],
        Some(ops),
    )
    .await;
    assert_eq!((s, p["gender"].as_str()), (StatusCode::OK, Some("other")));
    let fp = json!({"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.gender"}, {"name": "value", "valueCode": "male"}]}]});
    let (s, _, p) = call(
        &app,
        "PATCH",
        &format!("/Patient/{id}"),
        &[],
        Some(fp.clone()),
    )
    .await;
    assert_eq!((s, p["gender"].as_str()), (StatusCode::OK, Some("male")));
    let (s, _, p) = call(
        &app,
        "PATCH",
        "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009",
        &[],
        Some(fp),
    )
    .await;
    assert_eq!(
        (s, p["meta"]["versionId"].as_str()),
        (StatusCode::OK, Some("4")),
        "conditional patch"
    );
    let bad = json!([{"op": "replace", "path": "/id", "value": "other"}]);
    let (s, _, _) = call(
        &app,
        "PATCH",
        &format!("/Patient/{id}"),
        &[("content-type", "application/json-patch+json")],
        Some(bad),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a patch may not change the id"
    );
}

/// http §3.1.0.7 delete, §3.1.0.7.1 conditional delete.
async fn delete_is_idempotent_and_conditional_delete_refuses_many(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let id = create(&app, flag("a")).await;
    for _ in 0..2 {
        let (s, _, _) = call(&app, "DELETE", &format!("/Flag/{id}"), &[], None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
    }
    create(&app, flag("b")).await;
    create(&app, flag("b")).await;
    let (s, _, oo) = call(
        &app,
        "DELETE",
        "/Flag?identifier=https://example.org/flags|b",
        &[],
        None,
    )
    .await;
    assert_eq!(
        (s, issue_code(&oo)),
        (StatusCode::PRECONDITION_FAILED, "multiple-matches")
    );
    let c = create(&app, flag("c")).await;
    let (s, _, _) = call(
        &app,
        "DELETE",
        "/Flag?identifier=https://example.org/flags|c",
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = get(&app, &format!("/Flag/{c}")).await;
    assert_eq!(s, StatusCode::GONE);
}

/// The issue's case: `DELETE /Flag?_count=1` has no criterion, so it is
/// refused and deletes nothing (it used to delete every Flag).
async fn delete_with_only_result_parameters_is_refused_and_deletes_nothing(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    create(&app, flag("x")).await;
    create(&app, flag("y")).await;
    for uri in ["/Flag?_count=1", "/Flag", "/Flag?_sort=_id&_format=json"] {
        let (s, _, oo) = call(&app, "DELETE", uri, &[], None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {oo}");
    }
    let (_, b) = get(&app, "/Flag").await;
    assert_eq!(b["total"], 2, "nothing was deleted");
}

/// http §3.1.0.9 search.
async fn search_by_type_by_system_and_by_post(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let a = create(&app, patient("9000000009", "Search", "Sam", "1970-01-01")).await;
    create(&app, patient("9000000017", "Other", "Olly", "1980-01-01")).await;
    let (s, b) = get(&app, "/Patient?family=sea").await;
    assert_eq!((s, ids(&b)), (StatusCode::OK, vec![a.clone()]));
    let (_, b) = get(&app, &format!("/?_id={a}")).await;
    assert_eq!(ids(&b), vec![a.clone()]);
    let (s, _, b) = call(
        &app,
        "POST",
        "/Patient/_search",
        &[("content-type", "application/x-www-form-urlencoded")],
        None,
    )
    .await;
    assert_eq!((s, b["total"].as_i64()), (StatusCode::OK, Some(2)));
    let req = Request::builder()
        .method("POST")
        .uri("/Patient/_search")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("family=oth"))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let b: Value = serde_json::from_slice(
        &axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(b["total"], 1);
    let (s, oo) = get(&app, "/Patient?birthdate=notadate").await;
    assert_eq!(
        (s, oo["resourceType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("OperationOutcome"))
    );
    let (_, b) = get(&app, "/Patient?_total=none").await;
    assert!(b.get("total").is_none(), "_total=none: no total");
    let (s, _, _) = call(
        &app,
        "GET",
        "/Patient?nonsense=1",
        &[("prefer", "handling=strict")],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

/// search §3.1.1.5.6 `_total`: unasked, the server counts up to its bound
/// and gives no total beyond it; `_total=accurate` and `_summary=count`
/// always count. Both ways of counting (from one index, and over the
/// resource rows) are bounded.
async fn an_unasked_total_is_counted_up_to_the_bound(db: Db, name: &str) {
    let Some((store, _d)) = store(db, name).await else {
        return;
    };
    let mut state = fhir_server::server::AppState::new(
        std::sync::Arc::new(store),
        crate::registry(),
        "http://test",
        fhir_server::interaction::Access::Open,
    );
    state.count_up_to = 2;
    let app = fhir_server::server::router(std::sync::Arc::new(state));
    let mut ids = Vec::new();
    for (code, system) in [
        ("a", "https://example.org/flags"),
        ("b", "https://example.org/flags"),
        ("c", "https://example.org/other"),
        ("d", "https://example.org/other"),
    ] {
        let mut f = flag(code);
        f["identifier"][0]["system"] = json!(system);
        ids.push(create(&app, f).await);
    }
    let has_next = |b: &Value| {
        b["link"]
            .as_array()
            .is_some_and(|l| l.iter().any(|l| l["relation"] == "next"))
    };
    for (query, total) in [
        // One index (Reference, Token): four matches are over the bound.
        ("/Flag?subject=Patient/p1&_count=2".to_string(), None),
        (
            "/Flag?identifier=https://example.org/flags|&_count=1".to_string(),
            Some(2),
        ),
        // Over the resource rows (`_id` is not an index).
        (format!("/Flag?_id={},{}&_count=1", ids[0], ids[1]), Some(2)),
        (format!("/Flag?_id={}&_count=1", ids.join(",")), None),
        // Asked for: exact whatever the bound.
        (
            "/Flag?subject=Patient/p1&_count=2&_total=accurate".to_string(),
            Some(4),
        ),
        (
            format!("/Flag?_id={}&_count=1&_total=estimate", ids.join(",")),
            Some(4),
        ),
        (
            "/Flag?subject=Patient/p1&_summary=count".to_string(),
            Some(4),
        ),
        // A page that is not full shows its total without a count.
        ("/Flag?subject=Patient/p1&_count=10".to_string(), Some(4)),
    ] {
        let (s, b) = get(&app, &query).await;
        assert_eq!(s, StatusCode::OK, "{query}: {b}");
        assert_eq!(b["total"].as_i64(), total, "{query}: {b}");
        if query.contains("_summary=count") {
            assert!(!has_next(&b), "{query}: a count has no next page: {b}");
        }
        if total.is_none() {
            assert!(
                has_next(&b),
                "{query}: a full page without a total links the next: {b}"
            );
        }
    }
}

/// http §3.1.0.11 history.
async fn history_at_each_level(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let id = create(&app, patient("9000000009", "History", "Hal", "1970-01-01")).await;
    create(&app, flag("h")).await;
    let (s, _, _) = call(&app, "DELETE", &format!("/Patient/{id}"), &[], None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, h) = get(&app, &format!("/Patient/{id}/_history")).await;
    assert_eq!(
        (h["type"].as_str(), h["total"].as_i64()),
        (Some("history"), Some(2))
    );
    assert_eq!(h["entry"][0]["request"]["method"], "DELETE");
    let (_, h) = get(&app, "/Patient/_history").await;
    assert_eq!(h["total"], 2);
    let (_, h) = get(&app, "/_history?_count=1").await;
    assert_eq!(h["total"], 3);
    assert_eq!(h["entry"].as_array().unwrap().len(), 1);
    assert!(h["link"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["relation"] == "next"));
    let (s, _) = get(&app, "/Patient/never/_history").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = get(&app, "/_history?_count=-1").await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "_count is parsed as search parses it"
    );
}

/// http §3.1.0.11: batch entries are requests of their own.
async fn batch_entries_go_through_the_same_interactions(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": patient("9000000009", "Batch", "Bea", "1970-01-01"), "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "GET", "url": "Patient/missing"}},
        {"resource": {"resourceType": "Patient", "id": "x"}, "request": {"method": "PUT", "url": "Patient/y"}},
        {"request": {"method": "DELETE", "url": "Flag?_count=1"}},
        {"request": {"method": "GET", "url": "Patient?family=batch"}}
    ]});
    let (s, _, r) = call(&app, "POST", "/", &[], Some(bundle)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["type"], "batch-response");
    let status = |i: usize| {
        r["entry"][i]["response"]["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(status(0).starts_with("201"));
    assert!(status(1).starts_with("404"));
    assert!(
        status(2).starts_with("400"),
        "the same id rule as a PUT outside a batch"
    );
    assert!(status(3).starts_with("400"), "the same criteria rule");
    assert!(status(4).starts_with("200"));
    assert_eq!(r["entry"][4]["resource"]["total"], 1);
}

/// The issue's case: a transaction PUT whose body id differs from its URL
/// is refused exactly as a PUT outside a transaction.
async fn a_put_whose_id_differs_is_refused_in_a_transaction_as_outside_one(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let mut p = patient("9000000009", "Mismatch", "Mia", "1970-01-01");
    p["id"] = json!("in-body");
    let (outside, _, oo_outside) = call(&app, "PUT", "/Patient/in-url", &[], Some(p.clone())).await;
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": p, "request": {"method": "PUT", "url": "Patient/in-url"}}]});
    let (inside, _, oo_inside) = call(&app, "POST", "/", &[], Some(tx)).await;
    assert_eq!(outside, StatusCode::BAD_REQUEST);
    assert_eq!(inside, outside);
    assert_eq!(issue_code(&oo_inside), issue_code(&oo_outside));
    assert_eq!(
        oo_inside["issue"][0]["expression"][0],
        "Bundle.entry[0].resource.id"
    );
    let (s, _) = get(&app, "/Patient/in-url").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "nothing stored");
    let (s, _) = get(&app, "/Patient/in-body").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "nothing stored");
}

/// http §3.1.0.6: PATCH in a transaction, JSON Patch as a Binary and
/// FHIRPath Patch as a Parameters.
async fn patch_works_in_a_transaction(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let id = create(&app, patient("9000000009", "TxPatch", "Tom", "1970-01-01")).await;
    use base64::Engine as _;
    let ops = json!([{"op": "replace", "path": "/birthDate", "value": "1971-02-03"}]).to_string();
    let binary = json!({"resourceType": "Binary", "contentType": "application/json-patch+json",
        "data": base64::engine::general_purpose::STANDARD.encode(ops)});
    let fp = json!({"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.gender"}, {"name": "value", "valueCode": "male"}]}]});
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": binary, "request": {"method": "PATCH", "url": format!("Patient/{id}")}},
        {"resource": fp, "request": {"method": "PATCH", "url": format!("Patient/{id}")}}]});
    let (s, _, r) = call(&app, "POST", "/", &[], Some(tx)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert!(r["entry"][0]["response"]["status"]
        .as_str()
        .unwrap()
        .starts_with("200"));
    let (_, p) = get(&app, &format!("/Patient/{id}")).await;
    assert_eq!(
        (p["birthDate"].as_str(), p["gender"].as_str()),
        (Some("1971-02-03"), Some("male"))
    );
    assert_eq!(p["meta"]["versionId"], "3", "two patches, two versions");
    // A patch whose result is invalid fails the whole transaction.
    let bad = json!({"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.gender"}, {"name": "value", "valueCode": "sometimes"}]}]});
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient("9000000017", "Kept", "Not", "1990-01-01"), "request": {"method": "POST", "url": "Patient"}},
        {"resource": bad, "request": {"method": "PATCH", "url": format!("Patient/{id}")}}]});
    let (s, _, oo) = call(&app, "POST", "/", &[], Some(tx)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{oo}");
    let (_, b) = get(&app, "/Patient?family=kept").await;
    assert_eq!(b["total"], 0, "rolled back");
}

/// http §3.1.0.11.2 transaction processing rules.
async fn transaction_refuses_duplicate_full_urls_dangling_references_and_bad_urls(
    db: Db,
    name: &str,
) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let u = "urn:uuid:0a0b0c0d-0000-4000-8000-000000000001";
    let obs = |subject: &str| json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": subject}});
    let cases = [
        json!([{"fullUrl": u, "resource": patient("9000000009", "A", "A", "1970-01-01"), "request": {"method": "POST", "url": "Patient"}},
               {"fullUrl": u, "resource": patient("9000000017", "B", "B", "1970-01-01"), "request": {"method": "POST", "url": "Patient"}}]),
        json!([{"resource": obs("urn:uuid:0a0b0c0d-0000-4000-8000-00000000dead"), "request": {"method": "POST", "url": "Observation"}}]),
        json!([{"resource": {"resourceType": "Observation", "id": "x", "status": "final", "code": {"text": "x"}}, "request": {"method": "PUT", "url": "Patient/../Observation/x"}}]),
        json!([{"request": {"method": "DELETE", "url": "Patient"}}]),
    ];
    for entries in cases {
        let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        let (s, _, oo) = call(&app, "POST", "/", &[], Some(tx)).await;
        assert!(s.is_client_error(), "{s} {oo}");
        assert_eq!(oo["resourceType"], "OperationOutcome");
    }
    let (_, all) = get(&app, "/?_count=100").await;
    assert_eq!(all["total"], 0, "nothing was stored");
    // A reference to another entry is pointed at the id it gets.
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": obs(u), "request": {"method": "POST", "url": "Observation"}},
        {"fullUrl": u, "resource": patient("9000000009", "A", "A", "1970-01-01"), "request": {"method": "POST", "url": "Patient"}}]});
    let (s, _, r) = call(&app, "POST", "/", &[], Some(tx)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let obs_at = r["entry"][0]["response"]["location"]
        .as_str()
        .unwrap()
        .to_string();
    let pat_at = r["entry"][1]["response"]["location"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, o) = get(
        &app,
        &format!("/{}", obs_at.split("/_history").next().unwrap()),
    )
    .await;
    assert_eq!(
        o["subject"]["reference"].as_str(),
        pat_at.split("/_history").next()
    );
}

/// Resource-validate.
async fn validate_operation_at_type_and_instance_level(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    let (s, _, oo) = call(
        &app,
        "POST",
        "/Patient/$validate",
        &[],
        Some(json!({"resourceType": "Patient", "gender": "sometimes"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(oo["issue"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["severity"] == "error"));
    let id = create(&app, patient("9000000009", "Valid", "Val", "1970-01-01")).await;
    let (s, _, oo) = call(&app, "POST", &format!("/Patient/{id}/$validate"), &[], None).await;
    assert_eq!(s, StatusCode::OK, "{oo}");
    assert!(
        !oo["issue"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["severity"] == "error"),
        "{oo}"
    );
    let (s, _, _) = call(
        &app,
        "POST",
        "/Patient/$validate?profile=https://example.org/nope",
        &[],
        Some(json!({"resourceType": "Patient"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = call(
        &app,
        "POST",
        "/Patient/$nonsense",
        &[],
        Some(json!({"resourceType": "Patient"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// Paths and methods outside the routing table.
async fn unknown_paths_and_methods_are_404_and_405(db: Db, name: &str) {
    let Some((app, _d)) = app(db, name).await else {
        return;
    };
    for (method, uri, want) in [
        ("GET", "/Unicorn/1", StatusCode::NOT_FOUND),
        ("GET", "/Patient/1/2/3/4/5", StatusCode::NOT_FOUND),
        ("PUT", "/metadata", StatusCode::METHOD_NOT_ALLOWED),
        (
            "DELETE",
            "/Patient/_history",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        ("OPTIONS", "/Patient", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let (s, _, oo) = call(&app, method, uri, &[], None).await;
        assert_eq!(s, want, "{method} {uri}");
        assert_eq!(oo["resourceType"], "OperationOutcome", "{method} {uri}");
    }
    let (s, h, oo) = call(
        &app,
        "GET",
        "/Unicorn",
        &[("accept", "application/fhir+xml")],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+xml"),
        "errors in the negotiated format"
    );
    let _ = oo;
}

/// A server with no package but base R4 knows the carer profiles and
/// search parameters (the guide is compiled in).
async fn the_carer_guide_is_compiled_in(db: Db, name: &str) {
    let Some((store, _d)) = store(db, name).await else {
        return;
    };
    let r4 = fhir_core::package::cache::package_dir(
        &fhir_core::package::cache::cache_dir(),
        "hl7.fhir.r4.core",
        "4.0.1",
    );
    let registry: &'static fhir_core::package::Registry = Box::leak(Box::new(
        fhir_server::server::load_registry(&r4, &[]).unwrap(),
    ));
    let state = std::sync::Arc::new(fhir_server::server::AppState::new(
        std::sync::Arc::new(store),
        registry,
        "http://test",
        fhir_server::interaction::Access::Open,
    ));
    let app = fhir_server::server::router(state);
    let rel = json!({"resourceType": "RelatedPerson", "meta": {"profile": ["https://fhir.carer-fhir.uk/StructureDefinition/CarerRelationship"]},
        "active": true, "patient": {"reference": "Patient/p1"},
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9991234005"}],
        "relationship": [{"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdditionalPersonRelationshipRole", "code": "Carer"}]}]});
    let (s, _, oo) = call(&app, "POST", "/RelatedPerson", &[], Some(rel)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{oo}");
    assert!(oo.to_string().contains("carer-nhs-1"), "{oo}");
    let (s, _, oo) = call(
        &app,
        "GET",
        "/RelatedPerson?carer-patient=Patient/p1",
        &[("prefer", "handling=strict")],
        None,
    )
    .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the guide's search parameter is known: {oo}"
    );
}
