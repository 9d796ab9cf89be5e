//! The hostile-but-fair requests: classes of abuse, each in several
//! variants and through several doors (create, update, `$validate`,
//! transaction entries), built here rather than stored.

use serde_json::{json, Value};

/// One request.
pub struct Case {
    /// What it tries.
    pub name: String,
    /// Method.
    pub method: &'static str,
    /// Path and query after the base.
    pub path: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body, as bytes.
    pub body: Option<Vec<u8>>,
}

fn case(
    name: impl Into<String>,
    method: &'static str,
    path: impl Into<String>,
    ctype: Option<&str>,
    body: Option<Vec<u8>>,
) -> Case {
    Case {
        name: name.into(),
        method,
        path: path.into(),
        headers: ctype
            .map(|c| vec![("content-type".to_string(), c.to_string())])
            .unwrap_or_default(),
        body,
    }
}

const JSON: &str = "application/fhir+json";
const XML: &str = "application/fhir+xml";

/// A body sent through every door that takes a resource: create, update,
/// `$validate`, and as a transaction entry.
fn doors(name: &str, rtype: &str, ctype: &str, body: &[u8], out: &mut Vec<Case>) {
    out.push(case(
        format!("{name} (create)"),
        "POST",
        rtype.to_string(),
        Some(ctype),
        Some(body.to_vec()),
    ));
    out.push(case(
        format!("{name} (update)"),
        "PUT",
        format!("{rtype}/hostile-1"),
        Some(ctype),
        Some(body.to_vec()),
    ));
    out.push(case(
        format!("{name} ($validate)"),
        "POST",
        format!("{rtype}/$validate"),
        Some(ctype),
        Some(body.to_vec()),
    ));
    if ctype == JSON {
        if let Ok(v) = serde_json::from_slice::<Value>(body) {
            let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": v, "request": {"method": "POST", "url": rtype}}]});
            out.push(case(
                format!("{name} (transaction entry)"),
                "POST",
                "",
                Some(JSON),
                Some(tx.to_string().into_bytes()),
            ));
        }
    }
}

fn nested_json(depth: usize) -> Vec<u8> {
    format!(
        "{{\"resourceType\":\"Patient\",\"extension\":[{}{}]}}",
        "{\"url\":\"http://x.org/e\",\"extension\":[".repeat(depth),
        "]}".repeat(depth)
    )
    .into_bytes()
}

fn nested_xml_extension(depth: usize) -> Vec<u8> {
    format!(
        "<Patient xmlns=\"http://hl7.org/fhir\">{}<valueString value=\"v\"/>{}</Patient>",
        "<extension url=\"http://x.org/e\">".repeat(depth),
        "</extension>".repeat(depth)
    )
    .into_bytes()
}

fn nested_xml_unknown(depth: usize) -> Vec<u8> {
    format!(
        "<Patient xmlns=\"http://hl7.org/fhir\">{}{}</Patient>",
        "<bogus>".repeat(depth),
        "</bogus>".repeat(depth)
    )
    .into_bytes()
}

fn narrative(div: &str) -> Vec<u8> {
    json!({"resourceType": "Patient", "text": {"status": "generated", "div": div}})
        .to_string()
        .into_bytes()
}

/// Every case.
pub fn all() -> Vec<Case> {
    let mut out = Vec::new();
    // 1. Depth: JSON, XML elements and extensions, XHTML.
    for d in [200, 1_000, 10_000, 100_000] {
        doors(
            &format!("JSON nested {d} deep"),
            "Patient",
            JSON,
            &nested_json(d),
            &mut out,
        );
    }
    for d in [700, 5_000] {
        doors(
            &format!("XML extension nested {d} deep"),
            "Patient",
            XML,
            &nested_xml_extension(d),
            &mut out,
        );
        doors(
            &format!("unknown XML element nested {d} deep"),
            "Patient",
            XML,
            &nested_xml_unknown(d),
            &mut out,
        );
    }
    for d in [1_000, 5_000] {
        let div = format!(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\">{}x{}</div>",
            "<div>".repeat(d),
            "</div>".repeat(d)
        );
        doors(
            &format!("XHTML nested {d} deep"),
            "Patient",
            JSON,
            &narrative(&div),
            &mut out,
        );
    }
    // 2. fhirbolt's lax-mode loop: a missing required element, then a repeated unknown one.
    for reps in [2, 5, 50] {
        let bogus = (0..reps)
            .map(|n| format!("<bogus value=\"{n}\"/>"))
            .collect::<String>();
        let xml = format!("<Patient xmlns=\"http://hl7.org/fhir\"><link><type value=\"seealso\"/></link><link><other><reference value=\"Patient/1\"/>{bogus}</other><type value=\"seealso\"/></link></Patient>");
        doors(
            &format!("lax-mode loop, {reps} unknown"),
            "Patient",
            XML,
            xml.as_bytes(),
            &mut out,
        );
    }
    // 3. Size and count.
    for n in [20_000, 40_000] {
        let names: Vec<Value> = (0..n).map(|i| json!({"family": format!("F{i}")})).collect();
        doors(
            &format!("{n} names"),
            "Patient",
            JSON,
            json!({"resourceType": "Patient", "name": names})
                .to_string()
                .as_bytes(),
            &mut out,
        );
    }
    let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"x\"")).collect();
    doors(
        "XML with 100k root attributes",
        "Patient",
        XML,
        format!("<Patient xmlns=\"http://hl7.org/fhir\"{attrs}/>").as_bytes(),
        &mut out,
    );
    doors(
        "a 10 MB string",
        "Patient",
        JSON,
        json!({"resourceType": "Patient", "name": [{"family": "x".repeat(10 << 20)}]})
            .to_string()
            .as_bytes(),
        &mut out,
    );
    out.push(case(
        "a 40 MB body",
        "POST",
        "Patient",
        Some(JSON),
        Some(vec![b' '; 40 << 20]),
    ));
    // 4. Content FHIR forbids.
    doors(
        "duplicate JSON keys",
        "Patient",
        JSON,
        br#"{"resourceType":"Patient","gender":"male","gender":"female"}"#,
        &mut out,
    );
    doors(
        "U+0000 in a string",
        "Patient",
        JSON,
        br#"{"resourceType":"Patient","name":[{"family":"a\u0000b"}]}"#,
        &mut out,
    );
    doors(
        "a control character in a string",
        "Patient",
        JSON,
        br#"{"resourceType":"Patient","name":[{"family":"a\u0007b"}]}"#,
        &mut out,
    );
    doors(
        "fhir_comments",
        "Patient",
        JSON,
        br#"{"resourceType":"Patient","fhir_comments":["hello"],"active":true}"#,
        &mut out,
    );
    for div in [
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><img\tonerror=\"alert(1)\" src=\"x\"/></div>",
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"&#106;avascript:alert(1)\">x</a></div>",
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div>",
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><iframe src=\"http://x\"></iframe></div>",
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p style=\"x\" onclick=\"y\">z</p></div>",
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><form><input/></form></div>",
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"data:text/html,x\">x</a></div>",
        "<div>no namespace</div>",
    ] {
        doors(&format!("narrative {div:.40}"), "Patient", JSON, &narrative(div), &mut out);
    }
    for (name, bytes) in [
        ("malformed JSON", b"{\"resourceType\": \"Patient\",".to_vec()),
        ("not UTF-8", vec![0xff, 0xfe, b'{', b'}']),
        ("an empty body", Vec::new()),
        ("a JSON array", b"[1,2,3]".to_vec()),
        ("a JSON string", b"\"Patient\"".to_vec()),
        ("no resourceType", b"{\"active\":true}".to_vec()),
        ("a number where a boolean goes", b"{\"resourceType\":\"Patient\",\"active\":1}".to_vec()),
        ("an unknown element", b"{\"resourceType\":\"Patient\",\"colour\":\"red\"}".to_vec()),
        ("an empty array", b"{\"resourceType\":\"Patient\",\"name\":[]}".to_vec()),
        ("a huge number", b"{\"resourceType\":\"RiskAssessment\",\"status\":\"final\",\"subject\":{\"reference\":\"Patient/x\"},\"prediction\":[{\"probabilityDecimal\":1e999999}]}".to_vec()),
    ] {
        out.push(case(format!("{name} (create)"), "POST", "Patient", Some(JSON), Some(bytes.clone())));
        out.push(case(format!("{name} (transaction)"), "POST", "", Some(JSON), Some(bytes)));
    }
    for (name, xml) in [
        ("billion laughs", "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]><Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"&lol3;\"/></name></Patient>"),
        ("an external entity", "<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"&x;\"/></name></Patient>"),
        ("XML not well-formed", "<Patient xmlns=\"http://hl7.org/fhir\"><name>"),
        ("XML in another namespace", "<Patient xmlns=\"http://example.org\"/>"),
        ("a NUL character reference", "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"a&#0;b\"/></name></Patient>"),
        ("a processing instruction", "<?php echo 1; ?><Patient xmlns=\"http://hl7.org/fhir\"/>"),
    ] {
        doors(name, "Patient", XML, xml.as_bytes(), &mut out);
    }
    // 5. Search.
    let many = |n: usize, f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>().join(",");
    for path in [
        format!("Patient?family={}", many(1_500, &|i| format!("f{i}"))),
        format!("Patient?_id={}", many(40_000, &|i| format!("id{i}"))),
        format!(
            "Observation?{}=x",
            std::iter::repeat_n("subject:Patient.link", 60)
                .collect::<Vec<_>>()
                .join(".")
                + ".family"
        ),
        "Patient?_count=1000&_revinclude=Observation:subject".into(),
        "Patient?_count=99999999999999999999".into(),
        "Patient?_offset=9223372036854775807".into(),
        "Patient?_offset=-5".into(),
        "Patient?_count=-1".into(),
        "Patient?birthdate=gt2020-13-45".into(),
        "Patient?birthdate=zz2020".into(),
        "Patient?_sort=nonsense".into(),
        "Patient?_include=nonsense".into(),
        "Patient?_include=Patient:nonsense".into(),
        "Patient?_has:Observation:nonsense:code=x".into(),
        "Patient?_has:Observation".into(),
        "Patient?name:nonsense=x".into(),
        "Patient?family='; DROP TABLE resources; --".into(),
        "Patient?family=%00".into(),
        "Patient?family=%ZZ".into(),
        "Patient?_summary=everything".into(),
        "Patient?_total=perhaps".into(),
        "Observation?value-quantity=heavy".into(),
        "Observation?code-value-quantity=x$y".into(),
        "Patient?_lastUpdated=yesterday".into(),
        format!(
            "Patient?{}",
            (0..200)
                .map(|i| format!("family=f{i}"))
                .collect::<Vec<_>>()
                .join("&")
        ),
        "?_id=x".into(),
        "?family=x".into(),
        "Patient/_search".into(),
    ] {
        out.push(case(
            format!("search {path:.60}"),
            "GET",
            path.clone(),
            None,
            None,
        ));
    }
    out.push(case(
        "POST _search with a JSON body",
        "POST",
        "Patient/_search",
        Some(JSON),
        Some(b"{}".to_vec()),
    ));
    out.push(case(
        "POST _search with a huge form",
        "POST",
        "Patient/_search",
        Some("application/x-www-form-urlencoded"),
        Some(format!("_id={}", many(40_000, &|i| format!("i{i}"))).into_bytes()),
    ));
    // 6. Paths and methods.
    for (method, path) in [
        ("GET", "Patient/%FF"),
        ("GET", "Patient/../Observation/x"),
        ("GET", "Patient/a%2Fb"),
        ("GET", "Unicorn/1"),
        ("GET", "Patient/1/_history/abc"),
        ("GET", "Patient/1/2/3/4/5/6"),
        ("GET", "Patient/$nonsense"),
        ("OPTIONS", "Patient"),
        ("TRACE", "Patient"),
        ("PROPFIND", "Patient"),
        ("DELETE", "metadata"),
        ("PUT", "Patient"),
        ("DELETE", "Patient?_count=1"),
        ("DELETE", "Patient"),
        ("PATCH", "Patient/x"),
        ("GET", "Patient/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ] {
        out.push(case(format!("{method} {path}"), method, path.to_string(), None, None));
    }
    out.push(case(
        "a 10 KB URL",
        "GET",
        format!("Patient?family={}", "x".repeat(10_000)),
        None,
        None,
    ));
    out.push(case(
        "a 60 KB URL",
        "GET",
        format!("Patient?family={}", "x".repeat(60_000)),
        None,
        None,
    ));
    for (name, ctype, body) in [
        ("PATCH with text", "text/plain", b"hello".to_vec()),
        (
            "PATCH with a bad JSON Patch",
            "application/json-patch+json",
            b"[{\"op\":\"explode\"}]".to_vec(),
        ),
        (
            "PATCH changing the id",
            "application/json-patch+json",
            b"[{\"op\":\"replace\",\"path\":\"/id\",\"value\":\"x\"}]".to_vec(),
        ),
        (
            "PATCH with a bad FHIRPath Patch",
            JSON,
            b"{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"operation\"}]}".to_vec(),
        ),
    ] {
        out.push(case(
            name,
            "PATCH",
            "Patient/hostile-1",
            Some(ctype),
            Some(body),
        ));
    }
    // 7. Transactions and batches.
    let u = "urn:uuid:0a0b0c0d-0000-4000-8000-000000000001";
    let p = json!({"resourceType": "Patient"});
    for (name, entries) in [
        (
            "duplicate fullUrls",
            json!([{"fullUrl": u, "resource": p, "request": {"method": "POST", "url": "Patient"}}, {"fullUrl": u, "resource": p, "request": {"method": "POST", "url": "Patient"}}]),
        ),
        (
            "a dangling urn:uuid",
            json!([{"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": "urn:uuid:0a0b0c0d-0000-4000-8000-0000000000ff"}}, "request": {"method": "POST", "url": "Observation"}}]),
        ),
        (
            "a PUT to Patient/../Observation/x",
            json!([{"resource": {"resourceType": "Observation", "id": "x", "status": "final", "code": {"text": "x"}}, "request": {"method": "PUT", "url": "Patient/../Observation/x"}}]),
        ),
        (
            "a DELETE of a type",
            json!([{"request": {"method": "DELETE", "url": "Patient"}}]),
        ),
        ("an entry without request", json!([{"resource": p}])),
        (
            "a bad method",
            json!([{"resource": p, "request": {"method": "FETCH", "url": "Patient"}}]),
        ),
        (
            "an absolute URL",
            json!([{"resource": p, "request": {"method": "POST", "url": "http://elsewhere.example/Patient"}}]),
        ),
        (
            "a nested transaction",
            json!([{"resource": {"resourceType": "Bundle", "type": "transaction"}, "request": {"method": "POST", "url": ""}}]),
        ),
        (
            "a conditional reference matching nothing",
            json!([{"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": "Patient?identifier=nobody|nothing"}}, "request": {"method": "POST", "url": "Observation"}}]),
        ),
        ("an entry that is not an object", json!([1, "two", null])),
    ] {
        for kind in ["transaction", "batch"] {
            let b = json!({"resourceType": "Bundle", "type": kind, "entry": entries});
            out.push(case(
                format!("{kind} with {name}"),
                "POST",
                "",
                Some(JSON),
                Some(b.to_string().into_bytes()),
            ));
        }
    }
    let too_many: Vec<Value> = (0..10_001)
        .map(|_| json!({"request": {"method": "GET", "url": "metadata"}}))
        .collect();
    out.push(case(
        "a batch of 10,001 entries",
        "POST",
        "",
        Some(JSON),
        Some(
            json!({"resourceType": "Bundle", "type": "batch", "entry": too_many})
                .to_string()
                .into_bytes(),
        ),
    ));
    out.push(case(
        "a Bundle of type document",
        "POST",
        "",
        Some(JSON),
        Some(br#"{"resourceType":"Bundle","type":"document"}"#.to_vec()),
    ));
    // 8. Headers.
    for (name, k, v) in [
        ("a bad If-Match", "if-match", "banana"),
        ("a bad If-None-Exist", "if-none-exist", "%%%"),
        (
            "If-None-Exist with no criterion",
            "if-none-exist",
            "_format=json",
        ),
        ("an Accept nobody writes", "accept", "image/png"),
        ("a bad _format-like Accept", "accept", ";;;"),
        ("a bogus Authorization", "authorization", "Bearer nonsense"),
        ("a huge header", "x-hostile", &"h".repeat(60_000)),
    ] {
        let mut c = case(
            name.to_string(),
            "POST",
            "Patient",
            Some(JSON),
            Some(br#"{"resourceType":"Patient"}"#.to_vec()),
        );
        c.headers.push((k.to_string(), v.to_string()));
        out.push(c);
    }
    out.push(case(
        "_format=png",
        "GET",
        "Patient?_format=png",
        None,
        None,
    ));
    out
}
