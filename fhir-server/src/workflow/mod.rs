//! The carer workflows the server carries out itself, on the interaction
//! layer and within its access rules:
//! - [`referral`]: the GP-to-council referral (flow 2) as the FHIR Task
//!   state machine, with who may make each transition;
//! - [`end_caring`]: when caring ends (flow 5), by `RelatedPerson/{id}/$end-caring`
//!   or because the cared-for person's record gets `deceased[x]`, one
//!   transaction ends the relationship, closes both flags, records
//!   "no longer a carer", ends the contingency plan and offers the carer
//!   after-caring support;
//! - [`stale`]: the register check `$stale-carers`;
//! - [`caf`]: `Patient/{id}/$caf`, the CAF record document of what the
//!   caller may see.

pub mod caf;
pub mod end_caring;
pub mod referral;
pub mod stale;

use serde_json::Value;

/// The ODS code a reference names by identifier (`Task.owner`,
/// `Task.requester`, …).
pub fn ods_of(reference: &Value) -> Option<&str> {
    let i = &reference["identifier"];
    (i["system"] == "https://fhir.nhs.uk/Id/ods-organization-code")
        .then(|| i["value"].as_str())
        .flatten()
}

/// Today, as a FHIR date.
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}
