//! The codes of the guide's code systems and value sets that the builders
//! accept, for pickers and checks in systems that build carer resources.
//!
//! The guide (`profiles/input/fsh/codesystems.fsh`, `valuesets.fsh`) is
//! where they are defined; `fhir-core/tests/caf_codes.rs` checks these
//! lists equal the published CodeSystems and ValueSets, code for code.
//!
//! # Examples
//! ```
//! use fhir_core::caf::codes;
//! assert!(codes::CARER_TYPES.contains(&"young-carer"));
//! assert!(codes::SUPPORT_TYPES.contains(&"sitting-service"));
//! ```

/// The codes of the guide's `care-activity` code system.
pub const CARE_ACTIVITIES: &[&str] = &[
    "personal-care",
    "physical-help",
    "practical-help",
    "medication",
    "emotional-support",
    "supervision",
    "finances",
    "transport",
    "communication",
];
/// The codes of the guide's `carer-type` code system.
pub const CARER_TYPES: &[&str] = &[
    "young-carer",
    "young-adult-carer",
    "adult-carer",
    "parent-carer",
    "older-carer",
    "working-carer",
    "sibling-carer",
];
/// The HL7 v3 RoleCode codes of the guide's `family-role` value set.
pub const FAMILY_ROLES: &[&str] = &[
    "SPS",
    "DOMPART",
    "PRN",
    "CHILD",
    "SIB",
    "GRPRN",
    "GRNDCHILD",
    "EXT",
    "FRND",
    "NBOR",
];
/// The codes of the guide's `support-type` code system.
pub const SUPPORT_TYPES: &[&str] = &[
    "break",
    "sitting-service",
    "information-advice",
    "emotional-support",
    "training",
    "equipment",
    "health-check",
    "bereavement-support",
    "emergency-respite",
];
/// The codes of the guide's `delivery-mechanism` code system.
pub const DELIVERY_MECHANISMS: &[&str] = &[
    "direct-payment",
    "part-direct-payment",
    "managed-personal-budget",
    "commissioned-support",
    "information-advice",
];
/// The codes of the guide's `contingency-trigger` code system.
pub const CONTINGENCY_TRIGGERS: &[&str] = &[
    "carer-ill",
    "carer-injured",
    "carer-died",
    "carer-unreachable",
    "family-emergency",
];
/// The codes of the guide's `assessment-type` code system.
pub const ASSESSMENT_TYPES: &[&str] = &[
    "carers-assessment",
    "joint-assessment",
    "young-carers-needs-assessment",
    "parent-carers-needs-assessment",
    "transition-assessment",
];
/// The SNOMED CT codes of the guide's `carer-status` value set, with terms.
pub const CARER_STATUS_CODES: &[(&str, &str)] = &[
    ("224484003", "Patient themselves providing care"),
    ("199361000000101", "Is no longer a carer"),
    ("302767002", "Cares for a relative"),
    ("224485002", "Cares for a friend"),
    ("224486001", "Cares for a neighbour"),
    ("276047008", "Looks after elderly dependent"),
    ("824401000000105", "Carer of person with dementia"),
    (
        "248611000000108",
        "Carer of a person with a terminal illness",
    ),
    ("413760003", "Caregiver of a person with chronic disease"),
    (
        "413761004",
        "Caregiver of a person with learning disability",
    ),
    (
        "413762006",
        "Caregiver of a person with mental health problem",
    ),
    (
        "413763001",
        "Caregiver of a person with physical disability",
    ),
    ("413764007", "Caregiver of a person with sensory impairment"),
    ("413765008", "Caregiver of a person with substance misuse"),
];
/// The HL7 v3 ActReason codes of the guide's `caf-purpose` value set.
pub const CAF_PURPOSES: &[&str] = &["CAREMGT", "TREAT", "ETREAT", "COC", "PUBHLTH"];
/// The codes of the guide's `flag-code` code system.
pub const FLAG_CODES: &[&str] = &["is-a-carer", "has-a-carer", "young-carer"];
/// The codes of the guide's `assessment-status` code system, in the order an
/// assessment moves through them.
pub const ASSESSMENT_STATUSES: &[&str] = &[
    "offered",
    "requested",
    "declined",
    "in-progress",
    "completed",
];
