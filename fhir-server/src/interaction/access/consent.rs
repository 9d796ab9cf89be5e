//! What a CafConsent allows, for this server: the one consent interpreter
//! is `fhir_core::caf::sharing` (what a provision means, what cannot be
//! honoured); here its rules become the store's [`Grant`] rows, its
//! refusals 422 answers at write, and who may record consent is a write
//! hook ([`Recorder`]).

use std::collections::HashMap;

use fhir_core::caf::sharing;
use serde_json::Value;

use crate::interaction::hooks::{Write, WriteHook};
use crate::interaction::pipeline::Tx;
use crate::interaction::{Failure, FailureKind};
use crate::store::Grant;

pub use fhir_core::caf::sharing::{is_caf, organisation_references, person_of};

const ODS: &str = sharing::ODS;

/// Who may record and change consent (ARCHITECTURE.md, "who may record
/// consent"): the organisation that holds the person's record, the
/// source of the Patient a Consent names. A write hook of the pipeline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recorder;

/// Whether the writer holds the record of the person a Consent names.
async fn holds_record(tx: &mut Tx, consent: &Value) -> Result<Option<bool>, Failure> {
    let Some(patient) = person_of(consent) else {
        return Ok(None);
    };
    Ok(Some(match tx.current("Patient", &patient).await? {
        Some(p) => p.content.is_some() && tx.is_source(&p),
        None => false,
    }))
}

#[async_trait::async_trait]
impl WriteHook for Recorder {
    /// Rule W2: a Consent about a person is written only by the
    /// organisation that holds the person's record; the answer is the same
    /// whether the Patient exists, is hidden or is missing.
    async fn before_write(&self, tx: &mut Tx, write: &mut Write<'_>) -> Result<(), Failure> {
        if !tx.bound() || write.resource_type != "Consent" {
            return Ok(());
        }
        if holds_record(tx, write.resource).await? == Some(false) {
            return Err(Failure::new(
                FailureKind::Forbidden,
                "forbidden",
                "a consent is recorded by the organisation that holds the person's record (the source of the Patient it names), or by the person",
            ));
        }
        Ok(())
    }

    /// The holder of the person's record may change or revoke any consent
    /// about them (and move it only to a person whose record it holds).
    async fn permits_non_source(
        &self,
        tx: &mut Tx,
        previous: &Value,
        new: Option<&Value>,
    ) -> Result<bool, Failure> {
        if previous["resourceType"] != "Consent" {
            return Ok(false);
        }
        if holds_record(tx, previous).await? != Some(true) {
            return Ok(false);
        }
        Ok(match new {
            Some(n) => holds_record(tx, n).await? != Some(false),
            None => true,
        })
    }
}

/// Refuses, at write, a CafConsent the interpreter cannot honour in full.
///
/// # Errors
/// 422 naming the element (`Consent.provision.provision[0].data`, …).
pub fn check(resource: &Value) -> Result<(), Failure> {
    sharing::check(resource).map_err(|e| {
        Failure::new(
            FailureKind::Unprocessable,
            "not-supported",
            format!(
                "{}; this server does not record a consent it cannot honour in full",
                e.message
            ),
        )
        .at(e.location.path.as_deref())
    })
}

/// The grants of a resource, when it is a CafConsent in force; `ods`
/// maps the Organizations its provisions name by literal reference to
/// their ODS codes ([`organisations_named`]).
pub fn grants_of(resource: &Value, ods: &HashMap<String, String>) -> Vec<Grant> {
    sharing::rules(resource, ods)
}

/// The ODS codes of the Organizations a Consent's provisions name by
/// literal reference (see [`organisation_references`]), read in `tx`:
/// what [`grants_of`] needs. A record counts only when it was written by
/// the organisation whose ODS code it declares.
///
/// # Errors
/// A database failure.
pub async fn organisations_named(
    tx: &mut Tx,
    resource: &Value,
) -> Result<HashMap<String, String>, Failure> {
    let mut out = HashMap::new();
    for id in organisation_references(resource) {
        let Some(stored) = tx.current("Organization", &id).await? else {
            continue;
        };
        let code = stored.resource().and_then(|o| {
            o["identifier"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|i| i["system"] == ODS)
                .and_then(|i| i["value"].as_str().map(str::to_string))
        });
        // An Organization record says who it is only when that
        // organisation wrote it: anyone may write a record claiming any
        // ODS code. Otherwise it is unknown (a refusal of it refuses all,
        // a permission grants no one).
        if let Some(code) = code.filter(|c| stored.source.as_deref() == Some(c.as_str())) {
            out.insert(id, code);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refusals_are_422_naming_the_element_and_rules_are_grants() {
        let mut c = json!({"resourceType": "Consent", "status": "active",
            "category": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/caf-consent-category", "code": "caf-sharing"}]}],
            "patient": {"reference": "Patient/p1"},
            "provision": {"type": "permit", "actor": [{"reference": {"identifier": {"system": ODS, "value": "616"}}}]}});
        let g = grants_of(&c, &HashMap::new());
        assert_eq!(g.len(), 1);
        assert!(g[0].permit && g[0].patient == "p1" && g[0].actor.as_deref() == Some("616"));
        c["provision"]["action"] = json!([{"coding": [{"code": "collect"}]}]);
        let f = check(&c).unwrap_err();
        assert_eq!(f.kind, FailureKind::Unprocessable);
        assert!(format!("{f:?}").contains("Consent.provision.action"));
        assert!(
            grants_of(&c, &HashMap::new()).is_empty(),
            "refused: grants nothing"
        );
    }
}
