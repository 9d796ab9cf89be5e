//! `CafRecord` (a document Bundle on UKCore-Bundle) and its
//! `CafRecordComposition`: one person's CAF data set, with the resources
//! filed in sections (relationships, status, assessments, plans, consents).

use serde_json::{json, Value};

use super::json::{meta, missing, reference, reference_of, require};
use super::{code_system, OdsCode, CANONICAL};
use crate::error::Result;

/// The `CafRecord` profile (a document Bundle) and its `CafRecordComposition`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CafRecord;
/// let mary = serde_json::json!({"resourceType": "Patient", "id": "mary"});
/// let doc = CafRecord::builder(mary, "https://fhir.example.org/fhir").identifier("d1")
///     .author("616".parse().unwrap()).timestamp("2025-11-20T09:00:00Z").build().unwrap();
/// assert!(CafRecord::read(&doc).composition().is_some());
/// ```
pub struct CafRecord;

impl CafRecord {
    /// A builder: the person's Patient resource and the base URL the
    /// entries' `fullUrl`s start with, then the resources to share (each
    /// with an id).
    ///
    /// See [`CafRecordBuilder`] for an example.
    pub fn builder(subject: Value, base: &str) -> CafRecordBuilder {
        CafRecordBuilder {
            subject,
            base: base.trim_end_matches('/').to_string(),
            identifier: None,
            author: None,
            timestamp: None,
            resources: Vec::new(),
        }
    }

    /// Typed access to a CAF record: its composition, subject and sections.
    ///
    /// See [`CafRecordReader`] for an example.
    pub fn read(resource: &Value) -> CafRecordReader<'_> {
        CafRecordReader(resource)
    }
}

/// Typed access to a `CafRecord`; made by [`CafRecord::read`].
///
/// # Examples
/// ```
/// use fhir_core::caf::{CafRecord, CarerFlag};
/// let mary = serde_json::json!({"resourceType": "Patient", "id": "mary"});
/// let mut flag = CarerFlag::builder().code("is-a-carer").subject("Patient/mary")
///     .relationship("RelatedPerson/r1").start("2025-10-03").build().unwrap();
/// flag["id"] = "f1".into();
/// let doc = CafRecord::builder(mary, "https://fhir.example.org/fhir").identifier("b7d1")
///     .author("616".parse().unwrap()).timestamp("2025-11-20T09:00:00Z")
///     .resource(flag).build().unwrap();
/// let read = CafRecord::read(&doc);
/// assert_eq!(read.subject().unwrap()["id"], "mary");
/// assert_eq!(read.section_codes(), ["status"]);
/// assert_eq!(read.section("status")[0]["resourceType"], "Flag");
/// assert!(read.section("plans").is_empty());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CafRecordReader<'a>(&'a Value);

impl<'a> CafRecordReader<'a> {
    /// The `CafRecordComposition` (the first entry).
    pub fn composition(&self) -> Option<&'a Value> {
        let first = &self.0["entry"][0]["resource"];
        (first["resourceType"] == "Composition").then_some(first)
    }
    /// The person whose record it is.
    pub fn subject(&self) -> Option<&'a Value> {
        self.resolve(reference_of(&self.composition()?["subject"])?)
    }
    /// The section codes, in the composition's order.
    pub fn section_codes(&self) -> Vec<&'a str> {
        self.sections()
            .filter_map(|s| s["code"]["coding"][0]["code"].as_str())
            .collect()
    }
    /// The resources filed in the section with this code (`relationships`,
    /// `status`, `assessments`, `plans`, `consents`).
    pub fn section(&self, code: &str) -> Vec<&'a Value> {
        self.sections()
            .filter(|s| s["code"]["coding"][0]["code"] == code)
            .flat_map(|s| s["entry"].as_array().into_iter().flatten())
            .filter_map(|r| self.resolve(reference_of(r)?))
            .collect()
    }

    fn sections(&self) -> impl Iterator<Item = &'a Value> {
        self.composition()
            .and_then(|c| c["section"].as_array())
            .into_iter()
            .flatten()
    }

    /// The entry's resource for a reference, relative (`Flag/f1`) or a
    /// full URL.
    fn resolve(&self, r: &str) -> Option<&'a Value> {
        self.0["entry"].as_array()?.iter().find_map(|e| {
            let url = e["fullUrl"].as_str()?;
            let hit = url == r || url.strip_suffix(r).is_some_and(|b| b.ends_with('/'));
            hit.then_some(&e["resource"])
        })
    }
}

/// Builds a `CafRecord`.
///
/// # Examples
/// ```
/// use fhir_core::caf::{CafRecord, CarerFlag};
/// let mary = serde_json::json!({"resourceType": "Patient", "id": "mary"});
/// let mut flag = CarerFlag::builder().code("is-a-carer").subject("Patient/mary")
///     .relationship("RelatedPerson/r1").start("2025-10-03").build().unwrap();
/// flag["id"] = "f1".into();
/// let doc = CafRecord::builder(mary, "https://fhir.example.org/fhir")
///     .identifier("b7d1")
///     .author("616".parse().unwrap())
///     .timestamp("2025-11-20T09:00:00Z")
///     .resource(flag)
///     .build()
///     .unwrap();
/// assert_eq!(doc["type"], "document");
/// assert_eq!(doc["entry"][0]["resource"]["resourceType"], "Composition");
/// assert_eq!(doc["entry"][2]["fullUrl"], "https://fhir.example.org/fhir/Flag/f1");
/// ```
#[derive(Debug, Clone)]
pub struct CafRecordBuilder {
    subject: Value,
    base: String,
    identifier: Option<String>,
    author: Option<OdsCode>,
    timestamp: Option<String>,
    resources: Vec<Value>,
}

impl CafRecordBuilder {
    /// The document's identifier (required).
    pub fn identifier(mut self, id: &str) -> Self {
        self.identifier = Some(id.into());
        self
    }
    /// The organisation assembling it (required).
    pub fn author(mut self, ods: OdsCode) -> Self {
        self.author = Some(ods);
        self
    }
    /// When it was assembled (required).
    pub fn timestamp(mut self, when: &str) -> Self {
        self.timestamp = Some(when.into());
        self
    }
    /// A resource to include; it needs an id.
    pub fn resource(mut self, r: Value) -> Self {
        self.resources.push(r);
        self
    }

    /// The document: the Composition, the subject, then the resources,
    /// filed in sections by kind.
    ///
    /// # Errors
    /// When an element is missing or a resource has no id.
    pub fn build(self) -> Result<Value> {
        let id = require(
            self.identifier,
            "Bundle.identifier",
            "the document identifier",
        )?;
        let author = require(
            self.author,
            "Composition.author",
            "the organisation assembling it",
        )?;
        let when = require(self.timestamp, "Bundle.timestamp", "when it was assembled")?;
        let subject_id = self.subject["id"]
            .as_str()
            .ok_or_else(|| missing("Bundle.entry.resource.id", "the subject's id"))?
            .to_string();
        let full_url = |r: &Value| -> Result<String> {
            let rt = r["resourceType"].as_str().unwrap_or("Resource");
            let rid = r["id"].as_str().ok_or_else(|| {
                missing(
                    &format!("Bundle.entry.resource.ofType({rt}).id"),
                    "a resource id",
                )
            })?;
            Ok(format!("{}/{rt}/{rid}", self.base))
        };
        let section_of = |r: &Value| -> Option<(&str, &str)> {
            let profiles = r["meta"]["profile"].to_string();
            Some(match r["resourceType"].as_str()? {
                "RelatedPerson" if profiles.contains("CarerRelationship") => {
                    ("relationships", "Caring relationships")
                }
                "Flag" => ("status", "Carer status and flags"),
                "Observation" if profiles.contains("CarerStatus") => {
                    ("status", "Carer status and flags")
                }
                "Task" | "QuestionnaireResponse" | "Observation" => {
                    ("assessments", "Assessments and determinations")
                }
                "CarePlan" | "Goal" => ("plans", "Plans"),
                "Consent" => ("consents", "Consents"),
                _ => return None,
            })
        };
        let mut sections: Vec<(&str, &str, Vec<Value>)> = Vec::new();
        let mut entries = Vec::new();
        let subject_ref = format!("Patient/{subject_id}");
        for r in &self.resources {
            let url = full_url(r)?;
            if let Some((code, title)) = section_of(r) {
                let rel = format!(
                    "{}/{}",
                    r["resourceType"].as_str().unwrap_or(""),
                    r["id"].as_str().unwrap_or("")
                );
                match sections.iter_mut().find(|(c, _, _)| *c == code) {
                    Some(s) => s.2.push(reference(&rel)),
                    None => sections.push((code, title, vec![reference(&rel)])),
                }
            }
            entries.push(json!({"fullUrl": url, "resource": r}));
        }
        let composition_id = format!("caf-{subject_id}");
        let composition = json!({
            "resourceType": "Composition",
            "id": composition_id,
            "meta": meta("CafRecordComposition", "Composition"),
            "status": "final",
            "type": {"coding": [{"system": code_system("caf-document"), "code": "caf-record", "display": "CAF record"}]},
            "subject": reference(&subject_ref),
            "date": when,
            "author": [author.reference()],
            "title": "CAF record",
            "section": sections.iter().map(|(code, title, refs)| json!({
                "title": title,
                "code": {"coding": [{"system": code_system("caf-document"), "code": code}]},
                "entry": refs
            })).collect::<Vec<_>>(),
        });
        let mut all = vec![
            json!({"fullUrl": format!("{}/Composition/{composition_id}", self.base), "resource": composition}),
            json!({"fullUrl": full_url(&self.subject)?, "resource": self.subject}),
        ];
        all.extend(entries);
        Ok(json!({
            "resourceType": "Bundle",
            "meta": meta("CafRecord", "Bundle"),
            "identifier": {"system": format!("{CANONICAL}/Id/caf-record"), "value": id},
            "type": "document",
            "timestamp": when,
            "entry": all,
        }))
    }
}
