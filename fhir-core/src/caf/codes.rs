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
    "CHLDINLAW",
    "DAUINLAW",
    "SONINLAW",
    "PRNINLAW",
    "MTHINLAW",
    "FTHINLAW",
    "SIBINLAW",
    "SISINLAW",
    "BROINLAW",
    "STPCHLD",
    "STPPRN",
    "NIENEPH",
    "AUNT",
    "UNCLE",
    "COUSN",
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
    "employment-support",
    "advocacy",
    "grant-payment",
    "hospital-discharge-support",
    "peer-support-group",
    "digital-resources",
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
    "review",
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
/// The codes of the guide's `identification-source` code system: where a
/// carer was identified.
pub const IDENTIFICATION_SOURCES: &[&str] = &[
    "gp-practice",
    "hospital-admission",
    "hospital-discharge",
    "hospital",
    "school-college",
    "carers-organisation",
    "employer",
    "social-care",
    "self-identified",
];
/// The Census 2021 bands of the guide's `hours-caring-band` value set, in
/// order (the code system also keeps the deprecated 0.1.0 band `0-19`).
pub const HOURS_CARING_BANDS: &[&str] = &["9-or-less", "10-19", "20-34", "35-49", "50-plus"];
/// The SNOMED CT codes of the guide's `sexual-orientation` value set (the
/// NHS Sexual Orientation Monitoring standard), with terms and the NHS Data
/// Dictionary national code each stands for.
pub const SEXUAL_ORIENTATION_CODES: &[(&str, &str, &str)] = &[
    ("20430005", "Heterosexual", "1"),
    ("89217008", "Homosexual", "2"),
    ("42035005", "Bisexual", "3"),
    (
        "765288000",
        "Sexually attracted to neither male nor female sex",
        "4",
    ),
    (
        "1064711000000108",
        "Person asked and does not know or is not sure",
        "U",
    ),
    ("699042003", "Declined to state sexual orientation", "Z"),
    ("440583007", "Sexual orientation unknown", "9"),
];
/// The codes of the guide's `activity-limitation` code system.
pub const ACTIVITY_LIMITATIONS: &[&str] = &[
    "limited-a-lot",
    "limited-a-little",
    "not-limited",
    "no-condition",
    "not-stated",
];
/// The codes of the guide's `nhs-disability-code` code system (the NHS Data
/// Dictionary's DISABILITY CODE).
pub const NHS_DISABILITY_CODES: &[&str] = &[
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "XX", "NN", "ZZ",
];
/// The codes of the guide's `general-health` code system.
pub const GENERAL_HEALTH: &[&str] = &["very-good", "good", "fair", "bad", "very-bad", "not-stated"];
/// The codes of the guide's `representative-authority` code system.
pub const REPRESENTATIVE_AUTHORITIES: &[&str] = &[
    "lpa-health-welfare",
    "lpa-property-affairs",
    "epa",
    "deputy-personal-welfare",
    "deputy-property-affairs",
    "parental-responsibility",
];
/// The codes of the guide's `carer-qol-item` code system, in the order of
/// [`crate::caf::rules::QOL_ITEMS`].
pub const CARER_QOL_ITEMS: &[&str] = &[
    "occupation",
    "control",
    "self-care",
    "safety",
    "social",
    "support",
];
/// UK Core's ethnic categories for England
/// (`https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland`): the
/// NHS Data Dictionary's ETHNIC CATEGORY, `Z` for not stated and `99` for
/// not known. UK Core defines them; they are listed here for pickers.
pub const ETHNIC_CATEGORIES: &[(&str, &str)] = &[
    ("A", "White - British"),
    ("B", "White - Irish"),
    ("C", "White - Any other White background"),
    ("D", "Mixed - White and Black Caribbean"),
    ("E", "Mixed - White and Black African"),
    ("F", "Mixed - White and Asian"),
    ("G", "Mixed - Any other mixed background"),
    ("H", "Asian or Asian British - Indian"),
    ("J", "Asian or Asian British - Pakistani"),
    ("K", "Asian or Asian British - Bangladeshi"),
    ("L", "Asian or Asian British - Any other Asian background"),
    ("M", "Black or Black British - Caribbean"),
    ("N", "Black or Black British - African"),
    ("P", "Black or Black British - Any other Black background"),
    ("R", "Other Ethnic Groups - Chinese"),
    ("S", "Other Ethnic Groups - Any other ethnic group"),
    ("Z", "Not stated"),
    ("99", "Not known"),
];
/// The codes of the guide's `workplace-adjustment` code system: what an
/// employer agrees with a working carer.
pub const WORKPLACE_ADJUSTMENTS: &[&str] = &[
    "flexible-hours",
    "compressed-hours",
    "reduced-hours",
    "home-working",
    "phone-access",
    "carers-leave",
    "emergency-time-off",
    "planned-appointments",
    "shift-notice",
    "parking",
    "carers-network",
    "other",
];
/// The section codes of the guide's `care-passport-section` value set.
pub const CARE_PASSPORT_SECTIONS: &[&str] = &[
    "must-know",
    "communication",
    "daily-needs",
    "likes-dislikes",
    "adjustments",
    "carer",
];
