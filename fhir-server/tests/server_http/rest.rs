//! Named tests of the REST API over real HTTP on 127.0.0.1, each on both
//! stores ([`crate::on_both_stores`]).

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::{guide, ids, on_both_stores, patient, start, Db};

const FHIR_JSON: &str = "application/fhir+json";

struct Api {
    http: Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(
            method,
            format!("{}/{}", self.base, path.trim_start_matches('/')),
        );
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", FHIR_JSON).body(b.to_string());
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, headers, value)
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, v) = self.send(reqwest::Method::GET, path, None, &[]).await;
        (s, v)
    }
    async fn post(
        &self,
        path: &str,
        body: &Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        self.send(reqwest::Method::POST, path, Some(body), &[])
            .await
    }
}

on_both_stores!(
    the_capability_statement_advertises_the_guide,
    crud_with_etags_versions_and_history,
    search_by_string_token_date_and_id_with_paging,
    search_by_quantity_number_and_uri,
    fhir_xml_in_and_out,
    errors_are_operation_outcomes_with_their_status,
    delete_answers_204_then_410_and_history_keeps_it,
    conditional_create_is_idempotent,
    json_patch_and_fhirpath_patch,
    a_failing_transaction_stores_nothing,
    the_five_carer_flows_as_transactions,
    concurrent_updates_with_if_match_one_wins,
);

async fn the_capability_statement_advertises_the_guide(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    // metadata
    let (s, cs) = api.get("metadata").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    let rp = cs["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "RelatedPerson")
        .unwrap()
        .clone();
    assert!(
        rp["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "carer-patient"),
        "our guide's search parameter is advertised"
    );
    assert!(rp["supportedProfile"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "https://fhir.carer-fhir.uk/StructureDefinition/CarerRelationship"));
}

async fn crud_with_etags_versions_and_history(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    // create, read, ETag, Location
    let (s, h, mary) = api
        .post(
            "Patient",
            &patient("9991234004", "Jones", "Mary", "1958-03-14"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mary}");
    let id = mary["id"].as_str().unwrap().to_string();
    assert_eq!(h["etag"], "W/\"1\"");
    assert!(h["location"]
        .to_str()
        .unwrap()
        .ends_with(&format!("/Patient/{id}/_history/1")));
    assert!(h["content-type"].to_str().unwrap().starts_with(FHIR_JSON));
    let (s, read) = api.get(&format!("Patient/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(read["meta"]["versionId"], "1");

    // update with If-Match: right version wins, stale version 412
    let mut changed = read.clone();
    changed["name"][0]["given"][0] = json!("Maria");
    let (s, h, _) = api
        .send(
            reqwest::Method::PUT,
            &format!("Patient/{id}"),
            Some(&changed),
            &[("if-match", "W/\"1\"")],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["etag"], "W/\"2\"");
    let (s, _, oo) = api
        .send(
            reqwest::Method::PUT,
            &format!("Patient/{id}"),
            Some(&changed),
            &[("if-match", "W/\"1\"")],
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);
    assert_eq!(oo["resourceType"], "OperationOutcome");

    // vread and history
    let (s, v1) = api.get(&format!("Patient/{id}/_history/1")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v1["name"][0]["given"][0], "Mary");
    let (s, hist) = api.get(&format!("Patient/{id}/_history")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(hist["type"], "history");
    assert_eq!(hist["total"], 2);
}

async fn search_by_string_token_date_and_id_with_paging(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    let (s, _, mary) = api
        .post(
            "Patient",
            &patient("9991234004", "Jones", "Mary", "1958-03-14"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mary}");
    let id = mary["id"].as_str().unwrap().to_string();
    // search: string, token, date, _id, paging
    for (nhs, fam, given, birth) in [
        ("9991234012", "Jones", "Arthur", "1950-11-02"),
        ("9991234020", "Patel", "Liam", "2011-06-20"),
        ("9991234039", "Patel", "Priya", "1979-01-30"),
    ] {
        let (s, _, _) = api.post("Patient", &patient(nhs, fam, given, birth)).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (_, b) = api.get("Patient?family=jon").await;
    assert_eq!(b["total"], 2, "{b}");
    let (_, b) = api.get("Patient?name:exact=Patel").await;
    assert_eq!(b["total"], 2);
    let (_, b) = api
        .get("Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234020")
        .await;
    assert_eq!(b["total"], 1);
    let (_, b) = api.get("Patient?birthdate=lt1960").await;
    assert_eq!(b["total"], 2);
    let (_, b) = api.get("Patient?birthdate=1979").await;
    assert_eq!(b["total"], 1);
    let (_, b) = api.get(&format!("Patient?_id={id}")).await;
    assert_eq!(ids(&b), std::slice::from_ref(&id));
    let (_, b) = api.get("Patient?_count=2&_sort=birthdate").await;
    assert_eq!(b["total"], 4);
    assert_eq!(b["entry"].as_array().unwrap().len(), 2);
    assert_eq!(b["entry"][0]["resource"]["birthDate"], "1950-11-02");
    let next = b["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .expect("a next link")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, b2) = api.get(next.strip_prefix(&api.base).unwrap()).await;
    assert_eq!(b2["entry"].as_array().unwrap().len(), 2);
    assert!(b2["link"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["relation"] == "previous"));
    let (_, b) = api.get("Patient?gender:missing=true").await;
    assert_eq!(b["total"], 0);
    assert!(
        b.get("entry").is_none(),
        "no empty arrays in FHIR JSON: {b}"
    );
    let (_, b) = api.get("Patient?_summary=count").await;
    assert_eq!(b["total"], 4);
    assert!(b.get("entry").is_none());
}

async fn search_by_quantity_number_and_uri(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    let (s, _, mary) = api
        .post(
            "Patient",
            &patient("9991234004", "Jones", "Mary", "1958-03-14"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mary}");
    let id = mary["id"].as_str().unwrap().to_string();
    // quantity, number and uri searches
    // A body weight: a vital sign, so R4's vital-signs profile applies
    // (category and effective[x] required).
    let obs = json!({"resourceType": "Observation", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": format!("Patient/{id}")}, "effectiveDateTime": "2024-02-03T10:00:00Z", "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}});
    let (s, _, o) = api.post("Observation", &obs).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let (_, b) = api
        .get("Observation?value-quantity=gt70|http://unitsofmeasure.org|kg")
        .await;
    assert_eq!(b["total"], 1);
    let (_, b) = api
        .get("Observation?value-quantity=lt70|http://unitsofmeasure.org|kg")
        .await;
    assert_eq!(b["total"], 0);
    let (_, b) = api.get("Observation?value-quantity=72.5").await;
    assert_eq!(b["total"], 1);
    let risk = json!({"resourceType": "RiskAssessment", "status": "final", "subject": {"reference": format!("Patient/{id}")},
        "prediction": [{"probabilityDecimal": 0.25}]});
    let (s, _, _) = api.post("RiskAssessment", &risk).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, b) = api.get("RiskAssessment?probability=ge0.2").await;
    assert_eq!(b["total"], 1);
    let (_, b) = api.get("RiskAssessment?probability=gt0.3").await;
    assert_eq!(b["total"], 0);
    let q = json!({"resourceType": "Questionnaire", "url": "https://example.org/Questionnaire/q1", "status": "active"});
    let (s, _, _) = api.post("Questionnaire", &q).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, b) = api
        .get("Questionnaire?url=https://example.org/Questionnaire/q1")
        .await;
    assert_eq!(b["total"], 1);
    let (_, b) = api
        .get("Questionnaire?url=https://example.org/Questionnaire/q")
        .await;
    assert_eq!(b["total"], 0, "uri search is exact");
    let (s, _) = api.get("Observation?value-quantity=heavy").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn fhir_xml_in_and_out(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    let (s, _, mary) = api
        .post(
            "Patient",
            &patient("9991234004", "Jones", "Mary", "1958-03-14"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mary}");
    let id = mary["id"].as_str().unwrap().to_string();
    // XML in: a Patient posted as FHIR XML
    let xml =
        "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"Xml\"/></name></Patient>";
    let resp = api
        .http
        .post(format!("{}/Patient", api.base))
        .header("content-type", "application/fhir+xml")
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["name"][0]["family"],
        "Xml"
    );
    let (_, b) = api.get("Patient?family=xml").await;
    assert_eq!(b["total"], 1);
    let (s, _, _) = api
        .send(
            reqwest::Method::DELETE,
            &format!(
                "Patient/{}",
                b["entry"][0]["resource"]["id"].as_str().unwrap()
            ),
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // XML by _format and by Accept
    let resp = api
        .http
        .get(format!("{}/Patient/{id}?_format=xml", api.base))
        .send()
        .await
        .unwrap();
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/fhir+xml"));
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("<Patient xmlns=\"http://hl7.org/fhir\">"));
    let resp = api
        .http
        .get(format!("{}/Patient/{id}", api.base))
        .header("accept", "application/fhir+xml")
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().starts_with("<"));
}

async fn errors_are_operation_outcomes_with_their_status(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    let (s, _, mary) = api
        .post(
            "Patient",
            &patient("9991234004", "Jones", "Mary", "1958-03-14"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mary}");
    let id = mary["id"].as_str().unwrap().to_string();
    // errors are OperationOutcomes with the right status
    let resp = api
        .http
        .post(format!("{}/Patient", api.base))
        .header("content-type", FHIR_JSON)
        .body("{\"resourceType\": \"Patient\",")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["resourceType"],
        "OperationOutcome"
    );
    let resp = api
        .http
        .post(format!("{}/Patient", api.base))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, oo) = api.get("Unicorn/1").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(oo["resourceType"], "OperationOutcome");
    let (s, _) = api.get("Patient/does-not-exist").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, oo) = api
        .post(
            "Patient",
            &json!({"resourceType": "Patient", "gender": "sometimes"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{oo}");
    let bad_rel = json!({"resourceType": "RelatedPerson", "meta": {"profile": ["https://fhir.carer-fhir.uk/StructureDefinition/CarerRelationship"]},
        "active": true, "patient": {"reference": format!("Patient/{id}")}, "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9991234005"}],
        "relationship": [{"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdditionalPersonRelationshipRole", "code": "Carer"}]}],
        "period": {"start": "2022-09-01"}});
    let (s, _, oo) = api.post("RelatedPerson", &bad_rel).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(oo.to_string().contains("carer-nhs-1"), "{oo}");
    let (_, b) = api.get("RelatedPerson").await;
    assert_eq!(b["total"], 0, "an invalid resource stores nothing");
}

async fn delete_answers_204_then_410_and_history_keeps_it(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    // delete: 204, then 410, history keeps it
    let (s, _, tmp) = api
        .post(
            "Patient",
            &patient("9000000009", "Temp", "Tom", "2000-01-01"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let tid = tmp["id"].as_str().unwrap();
    let (s, _, _) = api
        .send(
            reqwest::Method::DELETE,
            &format!("Patient/{tid}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api.get(&format!("Patient/{tid}")).await;
    assert_eq!(s, StatusCode::GONE);
    let (_, hist) = api.get(&format!("Patient/{tid}/_history")).await;
    assert_eq!(hist["total"], 2);
    // A full page makes the server count: the deleted Patient, and one
    // whose name an update changed, are not counted under their old name.
    let mut kept = Vec::new();
    for nhs in ["9000000017", "9000000025"] {
        let (s, _, p) = api
            .post("Patient", &patient(nhs, "Temp", "Tess", "2001-01-01"))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        kept.push(p);
    }
    let mut renamed = kept.pop().unwrap();
    renamed["name"][0]["family"] = json!("Other");
    let rid = renamed["id"].as_str().unwrap().to_string();
    let (s, _, b) = api
        .send(
            reqwest::Method::PUT,
            &format!("Patient/{rid}"),
            Some(&renamed),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    for (query, total) in [
        ("Patient?family=Temp&_count=1", 1),
        ("Patient?family=Other&_count=1", 1),
        ("Patient?birthdate=2001-01-01&_count=1", 2),
        ("Patient?birthdate=2000-01-01&_count=1", 0),
    ] {
        let (s, b) = api.get(query).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["total"], total, "{query}: {b}");
    }
}

async fn conditional_create_is_idempotent(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    let (s, _, mary) = api
        .post(
            "Patient",
            &patient("9991234004", "Jones", "Mary", "1958-03-14"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mary}");
    let id = mary["id"].as_str().unwrap().to_string();
    // conditional create is idempotent
    let headers = [(
        "if-none-exist",
        "identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004",
    )];
    let (s, _, again) = api
        .send(
            reqwest::Method::POST,
            "Patient",
            Some(&patient("9991234004", "Jones", "Mary", "1958-03-14")),
            &headers,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["id"], id.as_str());
}

async fn json_patch_and_fhirpath_patch(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    let (s, _, mary) = api
        .post(
            "Patient",
            &patient("9991234004", "Jones", "Mary", "1958-03-14"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mary}");
    let id = mary["id"].as_str().unwrap().to_string();
    // JSON Patch
    let resp = api
        .http
        .patch(format!("{}/Patient/{id}", api.base))
        .header("content-type", "application/json-patch+json")
        .body(json!([{"op": "replace", "path": "/gender", "value": "other"}]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap()["gender"], "other");

    // FHIRPath Patch
    let fp = json!({"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.gender"}, {"name": "value", "valueCode": "female"}]}]});
    let patch = reqwest::Method::PATCH;
    let (s, _, patched) = api
        .send(patch.clone(), &format!("Patient/{id}"), Some(&fp), &[])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(patched["gender"], "female");
    let bad = json!({"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.deceased"}, {"name": "value", "valueBoolean": true}]}]});
    let (s, _, _) = api
        .send(patch, &format!("Patient/{id}"), Some(&bad), &[])
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "replacing an absent element fails"
    );
}

async fn a_failing_transaction_stores_nothing(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    // a transaction with a failing entry stores nothing
    let (_, before) = api.get("Patient?_summary=count").await;
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001", "resource": patient("9434765919", "New", "Nina", "1990-01-01"), "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Patient", "birthDate": "not a date"}, "request": {"method": "POST", "url": "Patient"}}
    ]});
    let (s, _, oo) = api.post("", &tx).await;
    assert!(s.is_client_error(), "{s} {oo}");
    let (_, after) = api.get("Patient?_summary=count").await;
    assert_eq!(
        before["total"], after["total"],
        "the transaction rolled back"
    );
}

async fn the_five_carer_flows_as_transactions(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    let (s, _, mary) = api
        .post(
            "Patient",
            &patient("9991234004", "Jones", "Mary", "1958-03-14"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mary}");
    let id = mary["id"].as_str().unwrap().to_string();
    // the five carer flows of the guide, as transactions
    for flow in [
        "flow-1-identify",
        "flow-2-refer-and-assess",
        "flow-3-plan",
        "flow-4-share-back",
        "flow-5-caring-ends",
    ] {
        let bundle: Value = serde_json::from_str(
            &std::fs::read_to_string(guide().join(format!("Bundle-{flow}.json"))).unwrap(),
        )
        .unwrap();
        let (s, _, resp) = api.post("", &bundle).await;
        assert_eq!(s, StatusCode::OK, "{flow}: {resp}");
        assert_eq!(resp["type"], "transaction-response");
    }
    // Flow 1 found Mary (created above) by NHS number rather than making a second Mary.
    let (_, b) = api
        .get("Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004")
        .await;
    assert_eq!(b["total"], 1);
    // The GP's view: whom Mary cares for (the guide's carer-patient parameter), with the cared-for patient.
    let (_, b) = api
        .get(&format!(
            "RelatedPerson?carer-patient=Patient/{id}&_include=RelatedPerson:patient"
        ))
        .await;
    assert_eq!(b["total"], 1, "{b}");
    assert!(b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["search"]["mode"] == "include"
            && e["resource"]["name"][0]["given"][0] == "Arthur"));
    let (_, mary_rel) = api.get("RelatedPerson?identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01&_include=RelatedPerson:patient&_revinclude=Flag:carer-relationship").await;
    assert_eq!(mary_rel["total"], 1, "{mary_rel}");
    let rel = &mary_rel["entry"][0]["resource"];
    assert_eq!(rel["active"], false, "flow 5 ended the relationship");
    assert_eq!(rel["meta"]["versionId"], "2");
    let included: Vec<&str> = mary_rel["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert!(
        included.contains(&"Patient") && included.iter().filter(|t| **t == "Flag").count() == 2,
        "{included:?}"
    );
    // Both flags are closed.
    // (R4 has no Flag status search parameter: unknown parameters are
    // ignored unless the client asks for strict handling.)
    let (s, _, oo) = api
        .send(
            reqwest::Method::GET,
            "Flag?status=active",
            None,
            &[("prefer", "handling=strict")],
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{oo}");
    let (_, flags) = api.get("Flag").await;
    assert_eq!(flags["total"], 2);
    for f in flags["entry"].as_array().unwrap() {
        assert_eq!(f["resource"]["status"], "inactive");
        assert_eq!(f["resource"]["period"]["end"], "2026-10-20");
    }
    // The LA's view: assessments of carers by chained NHS number, and the plan by emergency card.
    let (_, tasks) = api
        .get("Task?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004")
        .await;
    assert_eq!(tasks["total"], 1, "{tasks}");
    assert_eq!(
        tasks["entry"][0]["resource"]["output"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "flow 3 added the support plan"
    );
    let (_, plan) = api
        .get("CarePlan?identifier=https://fhir.carer-fhir.uk/Id/emergency-card|EC-616-000123")
        .await;
    assert_eq!(plan["total"], 1);
    // reverse chaining: the patient whose "has a carer" flag this is
    let (_, has) = api.get("Patient?_has:Flag:patient:identifier=https://fhir.carer-fhir.uk/Id/carer-flag|arthur-has-a-carer").await;
    assert_eq!(has["total"], 1, "{has}");
    let (_, status) = api
        .get("Observation?code=http://snomed.info/sct|199361000000101")
        .await;
    assert_eq!(status["total"], 1, "flow 5 recorded 'no longer a carer'");
    // Canonical references: by URL, and by URL|version.
    let q = "QuestionnaireResponse?questionnaire=https://fhir.carer-fhir.uk/Questionnaire/carer-assessment";
    for (query, want) in [
        (q.to_string(), 1),
        (format!("{q}|0.2.0"), 1),
        (format!("{q}|9.9.9"), 0),
    ] {
        let (_, b) = api.get(&query).await;
        assert_eq!(b["total"], want, "{query}: {b}");
    }
}

async fn concurrent_updates_with_if_match_one_wins(db: Db, name: &str) {
    let Some((base, _dir)) = start(db, name).await else {
        return;
    };
    let api = Api {
        http: Client::new(),
        base,
    };
    let (s, _, mary) = api
        .post(
            "Patient",
            &patient("9991234004", "Jones", "Mary", "1958-03-14"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mary}");
    let id = mary["id"].as_str().unwrap().to_string();
    // concurrent updates with If-Match: exactly one wins
    let (_, cur) = api.get(&format!("Patient/{id}")).await;
    let version = cur["meta"]["versionId"].as_str().unwrap().to_string();
    let etag = format!("W/\"{version}\"");
    let mut tasks = Vec::new();
    for n in 0..8 {
        let http = api.http.clone();
        let url = format!("{}/Patient/{id}", api.base);
        let mut body = cur.clone();
        body["name"][0]["given"][0] = json!(format!("Racer{n}"));
        let etag = etag.clone();
        tasks.push(tokio::spawn(async move {
            http.put(url)
                .header("content-type", FHIR_JSON)
                .header("if-match", etag)
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let s = t.await.unwrap();
        if s == StatusCode::OK {
            ok += 1;
        } else {
            assert!(
                s == StatusCode::PRECONDITION_FAILED || s == StatusCode::CONFLICT,
                "{s}"
            );
        }
    }
    assert_eq!(ok, 1, "exactly one concurrent update wins");
}
