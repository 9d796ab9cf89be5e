//! Invariants that R4 published with an expression that cannot be
//! evaluated as written, or that contradicts its own human text (FHIR
//! technical errata). Each correction here is one the HL7 reference
//! validator also applies before evaluating, so that instances are judged
//! by the rule the specification means. One binding is corrected the same
//! way (`binding_strength`).

use serde_json::Value;

/// (key, published expression, corrected expression). An empty key
/// matches any key with that expression.
const ERRATA: &[(&str, &str, &str)] = &[
    // que-12's text: "If there are more than one enableWhen, enableBehavior
    // must be specified".
    (
        "que-12",
        "enableWhen.count() > 2 implies enableBehavior.exists()",
        "enableWhen.count() > 1 implies enableBehavior.exists()",
    ),
    // ref-1: `#` alone names the container, and a Reference without a
    // reference has nothing to resolve.
    (
        "ref-1",
        "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))",
        "reference.exists() implies (reference = '#' or (reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))))",
    ),
    // bdl-8 holds only when there is a fullUrl.
    (
        "",
        "fullUrl.contains('/_history/').not()",
        "fullUrl.exists() implies fullUrl.contains('/_history/').not()",
    ),
    // ras-2: a probability that is absent satisfies it.
    (
        "ras-2",
        "probability is decimal implies (probability as decimal) <= 100",
        "(probability.exists() and (probability is decimal)) implies ((probability as decimal) <= 100)",
    ),
    (
        "ras-2",
        "probability is decimal implies probability.as(decimal) <= 100",
        "probability.empty() or (probability is decimal implies probability.as(decimal) <= 100)",
    ),
    // con-3 as its text says: an unconfirmed problem-list condition needs a
    // clinical status.
    (
        "",
        "clinicalStatus.exists() or verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code = 'entered-in-error').exists() or category.select($this='problem-list-item').empty()",
        "(verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code = 'entered-in-error').exists() and category.coding.exists(system='http://terminology.hl7.org/CodeSystem/condition-category' and code ='problem-list-item').empty()) implies (clinicalStatus.exists())",
    ),
    // tim-9: `when` repeats, so it is tested item by item.
    (
        "",
        "offset.empty() or (when.exists() and ((when in ('C' | 'CM' | 'CD' | 'CV')).not()))",
        "offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())",
    ),
    // obs-6 and eld-18 test elements for existence, not as booleans.
    (
        "",
        "(component.empty() and hasMember.empty()) implies (dataAbsentReason or value)",
        "(component.empty() and hasMember.empty()) implies (dataAbsentReason.exists() or value.exists())",
    ),
    (
        "",
        "isModifier implies isModifierReason.exists()",
        "(isModifier.exists() and isModifier) implies isModifierReason.exists()",
    ),
];

/// The expression to evaluate for an invariant: its correction when R4's
/// is a known erratum, else itself.
pub(super) fn corrected<'e>(key: &str, expr: &'e str) -> &'e str {
    ERRATA
        .iter()
        .find(|(k, published, _)| (k.is_empty() || *k == key) && *published == expr)
        .map_or(expr, |(_, _, fixed)| fixed)
}

/// The strength to check a binding at: its own, unless R4 published it
/// stronger than it means. The core vital signs profiles bind
/// `Observation.component.value[x]` to their units (`ucum-vitals-common`)
/// as required, which applies the binding to every type a component's
/// value may have; the reference validator reads it as extensible
/// (`PackageHackerR5.fixLoadedResource`).
pub(super) fn binding_strength<'s>(profile_url: &str, ed: &Value, strength: &'s str) -> &'s str {
    let vitals_units = profile_url.starts_with("http://hl7.org/fhir/StructureDefinition/")
        && ed.get("path").and_then(Value::as_str) == Some("Observation.component.value[x]")
        && ed.pointer("/binding/valueSet").and_then(Value::as_str)
            == Some("http://hl7.org/fhir/ValueSet/ucum-vitals-common|4.0.1");
    if vitals_units && strength == "required" {
        "extensible"
    } else {
        strength
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_errata_are_corrected_and_others_kept() {
        assert_eq!(
            corrected(
                "que-12",
                "enableWhen.count() > 2 implies enableBehavior.exists()"
            ),
            "enableWhen.count() > 1 implies enableBehavior.exists()"
        );
        assert_eq!(corrected("x-1", "a.exists()"), "a.exists()");
        assert!(corrected("ref-1", ERRATA[1].1).starts_with("reference.exists() implies"));
    }
}
