//! The vital signs profile an Observation must conform to because of
//! what it records (FHIR R4 §8.6.1 "Vital Signs", `observation-vitalsigns.html`:
//! "If implementations use this Observation resource to represent vital
//! signs, they SHALL use these profiles"): an Observation whose code has
//! a vital sign's LOINC (or SNOMED CT) code is validated against that
//! sign's profile, the codes being those the HL7 reference validator
//! reads as each sign (`BasePolicyAdvisorForFullValidation`,
//! `getImpliedProfilesForResource`), tried in its order.

use serde_json::Value;

const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";

/// (code system, codes, profile id under `http://hl7.org/fhir/StructureDefinition/`).
const VITALS: &[(&str, &[&str], &str)] = &[
    (LOINC, &["85353-1"], "vitalspanel"),
    (
        LOINC,
        &[
            "9279-1", "76170-0", "76172-6", "76171-8", "19840-8", "33438-3", "76270-8", "11291-2",
        ],
        "resprate",
    ),
    (
        LOINC,
        &[
            "60978-4", "73795-7", "73799-9", "76476-1", "76477-9", "8867-4", "8889-8", "8890-6",
            "8891-4", "8892-2", "8893-0", "40443-4", "55425-3", "68999-2", "11328-2", "69000-8",
            "8886-4",
        ],
        "heartrate",
    ),
    (
        LOINC,
        &[
            "2708-6", "19224-5", "20564-1", "2709-4", "2710-2", "2713-6", "51733-4", "59408-5",
            "59417-6", "89276-0", "97549-0",
        ],
        "oxygensat",
    ),
    (
        LOINC,
        &[
            "8310-5", "60834-9", "60835-6", "60836-4", "60838-0", "60955-2", "61009-7", "75539-7",
            "75987-8", "76010-8", "76011-6", "76278-1", "8309-7", "8328-7", "8329-5", "8330-3",
            "8331-1", "8332-9", "8333-7", "8334-5", "91371-5", "98657-0", "98663-8",
        ],
        "bodytemp",
    ),
    (
        LOINC,
        &["8302-2", "3137-7", "3138-5", "8306-3", "8308-9"],
        "bodyheight",
    ),
    (LOINC, &["9843-4", "8287-5"], "headcircum"),
    (
        LOINC,
        &[
            "29463-7", "3141-9", "3142-7", "75292-3", "79348-9", "8350-1", "8351-9",
        ],
        "bodyweight",
    ),
    (LOINC, &["39156-5", "89270-3"], "bmi"),
    (
        LOINC,
        &[
            "85354-9", "35094-2", "8459-0", "76534-7", "55284-4", "8480-6",
        ],
        "bp",
    ),
    (SNOMED, &["46680005"], "vitalspanel"),
    (SNOMED, &["86290005", "271625008", "271306003"], "resprate"),
    (
        SNOMED,
        &[
            "271306003",
            "249043002",
            "444981005",
            "399017001",
            "251670001",
            "429525003",
            "429614003",
        ],
        "heartrate",
    ),
    (SNOMED, &["442476006", "431314004"], "oxygensat"),
    (
        SNOMED,
        &[
            "386725007",
            "276885007",
            "300076005",
            "1222808002",
            "364246006",
            "307047009",
            "708499008",
            "431598003",
            "698831002",
            "698832009",
            "415882003",
            "415974002",
            "415929009",
            "415945006",
        ],
        "bodytemp",
    ),
    (
        SNOMED,
        &[
            "1153637007",
            "1162419008",
            "50373000",
            "1162418000",
            "1230278008",
            "1162392001",
            "1162417005",
        ],
        "bodyheight",
    ),
    (
        SNOMED,
        &["363812007", "169876006", "1269262007", "363811000"],
        "headcircum",
    ),
    (
        SNOMED,
        &[
            "735395000",
            "425024002",
            "424927000",
            "784399000",
            "1162416001",
            "1162415002",
        ],
        "bodyweight",
    ),
    (SNOMED, &["60621009"], "bmi"),
    (
        SNOMED,
        &[
            "251076008",
            "163033001",
            "163035008",
            "386534000",
            "386536003",
            "271649006",
            "271650006",
            "407556006",
            "407554009",
            "716579001",
            "399304008",
        ],
        "bp",
    ),
];

/// The canonical URL of the vital signs profile the specification
/// requires of a resource, if it is an Observation of a vital sign.
pub(super) fn implied_profile(resource: &Value) -> Option<String> {
    if resource.get("resourceType").and_then(Value::as_str) != Some("Observation") {
        return None;
    }
    let codings = resource.pointer("/code/coding")?.as_array()?;
    VITALS
        .iter()
        .find(|(system, codes, _)| {
            codings.iter().any(|c| {
                c.get("system").and_then(Value::as_str) == Some(*system)
                    && c.get("code")
                        .and_then(Value::as_str)
                        .is_some_and(|code| codes.contains(&code))
            })
        })
        .map(|(_, _, id)| format!("http://hl7.org/fhir/StructureDefinition/{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vital_signs_codes_imply_their_profile() {
        let temp = json!({"resourceType": "Observation", "code": {"coding": [
            {"system": "http://snomed.info/sct", "code": "276885007"}
        ]}});
        assert_eq!(
            implied_profile(&temp).as_deref(),
            Some("http://hl7.org/fhir/StructureDefinition/bodytemp")
        );
        let other = json!({"resourceType": "Observation", "code": {"coding": [
            {"system": "http://loinc.org", "code": "1234-5"}
        ]}});
        assert_eq!(implied_profile(&other), None);
        let condition = json!({"resourceType": "Condition", "code": {"coding": [
            {"system": "http://loinc.org", "code": "8867-4"}
        ]}});
        assert_eq!(implied_profile(&condition), None);
    }
}
