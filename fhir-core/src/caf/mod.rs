//! The carer data set (CAF for adults): typed builders and readers for the
//! profiles of the carer implementation guide (`profiles/`), the NHS number
//! and ODS code types, and the rules (reg 3 eligibility, carer
//! quality-of-life score).
//!
//! Resources are `serde_json::Value` in their FHIR JSON form, as everywhere
//! in this crate. Each builder checks what its profile requires before it
//! returns, so a built resource validates against the profile and UK Core
//! (the tests validate them with [`crate::validation::Validator`]). Each
//! reader gives typed access to a resource's extensions.
//!
//! # Example
//! ```
//! use fhir_core::caf::{CarerRelationship, NhsNumber};
//! let rel = CarerRelationship::builder()
//!     .cared_for("Patient/arthur-jones")
//!     .carer_patient("Patient/mary-jones")
//!     .carer_nhs_number("9991234004".parse::<NhsNumber>().unwrap())
//!     .started("2022-09-01")
//!     .hours_per_week(50.0)
//!     .main_carer(true)
//!     .build()
//!     .unwrap();
//! let read = CarerRelationship::read(&rel);
//! assert_eq!(read.hours_per_week(), Some(50.0));
//! assert!(read.is_current());
//! ```

mod assessment;
mod care_passport;
mod carer;
pub mod codes;
mod consent;
mod contingency_plan;
mod eligibility;
mod equality;
mod flag;
mod identification;
mod identifiers;
mod json;
pub mod passport;
mod quality_of_life;
mod questionnaire;
mod record;
mod relationship;
mod response;
pub mod rules;
pub mod sharing;
mod status;
mod support_plan;

pub use assessment::{CarerAssessment, CarerAssessmentBuilder, CarerAssessmentReader};
pub use care_passport::{CarePassport, CarePassportBuilder, CarePassportReader};
pub use carer::{Carer, CarerBuilder, CarerReader};
pub use consent::{CafConsent, CafConsentBuilder, CafConsentReader};
pub use contingency_plan::{
    ContingencyContact, ContingencyPlan, ContingencyPlanBuilder, ContingencyPlanReader,
};
pub use eligibility::{CarerEligibility, CarerEligibilityReader};
pub use equality::{
    CarerDisability, CarerDisabilityBuilder, CarerDisabilityReader, CarerSexualOrientation,
    CarerSexualOrientationBuilder, CarerSexualOrientationReader,
};
pub use flag::{CarerFlag, CarerFlagBuilder, CarerFlagReader};
pub use identification::Identification;
pub use identifiers::{
    NhsNumber, OdsCode, OrganisationId, SchoolUrn, DFE_URN_SYSTEM, NHS_NUMBER_SYSTEM, ODS_SYSTEM,
};
pub use passport::{
    WorkingCarerFlag, WorkingCarerFlagBuilder, WorkingCarerFlagReader, WorkingCarersPassport,
    WorkingCarersPassportBuilder, WorkingCarersPassportReader,
};
pub use quality_of_life::{CarerQualityOfLife, CarerQualityOfLifeReader};
pub use questionnaire::{
    CarerAssessmentQuestionnaire, CarerAssessmentQuestionnaireReader, QuestionnaireVariant,
};
pub use record::{CafRecord, CafRecordBuilder, CafRecordReader};
pub use relationship::{CarerRelationship, CarerRelationshipBuilder, CarerRelationshipReader};
pub use response::{
    CarerAssessmentResponse, CarerAssessmentResponseBuilder, CarerAssessmentResponseReader,
};
pub use status::{CarerStatus, CarerStatusBuilder, CarerStatusReader};
pub use support_plan::{
    CarerSupportPlan, CarerSupportPlanBuilder, CarerSupportPlanReader, PlannedSupport,
};

/// The canonical base of every artefact of the carer guide. It is set once,
/// in `profiles/sushi-config.yaml`; a test checks that this copy agrees.
pub const CANONICAL: &str = "https://fhir.carer-fhir.uk";

/// The canonical URL of one of the guide's code systems, by id.
///
/// # Examples
/// ```
/// assert_eq!(fhir_core::caf::code_system("flag-code"),
///            "https://fhir.carer-fhir.uk/CodeSystem/flag-code");
/// ```
pub fn code_system(id: &str) -> String {
    format!("{CANONICAL}/CodeSystem/{id}")
}

/// The canonical URL of one of the guide's profiles or extensions, by id.
///
/// # Examples
/// ```
/// assert_eq!(fhir_core::caf::structure_definition("CarerFlag"),
///            "https://fhir.carer-fhir.uk/StructureDefinition/CarerFlag");
/// ```
pub fn structure_definition(id: &str) -> String {
    format!("{CANONICAL}/StructureDefinition/{id}")
}
