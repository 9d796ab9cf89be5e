//! `CarerAssessment` (Task on UKCore-Task): the assessment episode, from
//! offer or request to completion, owned by the local authority; its input
//! is the response, its outputs the determination and the support plan.

use serde_json::{json, Value};

use super::codes::{ASSESSMENT_STATUSES, ASSESSMENT_TYPES};
use super::json::{
    check_code, coding, ext, extensions, first_code, meta, missing, reference, reference_of,
    require,
};
use super::{code_system, OdsCode, OrganisationId, CANONICAL, ODS_SYSTEM};
use crate::error::Result;

/// The `CarerAssessment` profile (Task): the assessment episode.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerAssessment;
/// let t = CarerAssessment::builder().carer("Patient/liam").kind("young-carers-needs-assessment")
///     .owner("616".parse().unwrap()).authored_on("2025-09-01").build().unwrap();
/// assert_eq!(CarerAssessment::read(&t).kind(), Some("young-carers-needs-assessment"));
/// ```
pub struct CarerAssessment;

impl CarerAssessment {
    /// A builder. The carer, the owning local authority and the date are
    /// required; the type defaults to `carers-assessment` and the status
    /// to `requested`.
    ///
    /// See [`CarerAssessmentBuilder`] for an example.
    pub fn builder() -> CarerAssessmentBuilder {
        CarerAssessmentBuilder {
            kind: "carers-assessment".into(),
            status: "requested".into(),
            ..Default::default()
        }
    }

    /// Typed access to a CarerAssessment.
    ///
    /// See [`CarerAssessmentReader`] for an example.
    pub fn read(resource: &Value) -> CarerAssessmentReader<'_> {
        CarerAssessmentReader(resource)
    }
}

/// Typed access to a `CarerAssessment`; made by [`CarerAssessment::read`].
///
/// # Examples
/// ```
/// use fhir_core::caf::{CarerAssessment, OdsCode};
/// let t = CarerAssessment::builder().carer("Patient/mary").owner("616".parse().unwrap())
///     .authored_on("2025-10-03").response("QuestionnaireResponse/q1").build().unwrap();
/// let read = CarerAssessment::read(&t);
/// assert_eq!(read.business_status(), Some("requested"));
/// assert_eq!(read.kind(), Some("carers-assessment"));
/// assert_eq!(read.owner(), Some("616".parse::<OdsCode>().unwrap()));
/// assert_eq!(read.carer(), Some("Patient/mary"));
/// assert_eq!(read.response(), Some("QuestionnaireResponse/q1"));
/// assert_eq!(read.eligibility(), None);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerAssessmentReader<'a>(&'a Value);

impl<'a> CarerAssessmentReader<'a> {
    /// Where the assessment stands (`offered`, `requested`, `declined`,
    /// `in-progress`, `completed`).
    pub fn business_status(&self) -> Option<&'a str> {
        first_code(&self.0["businessStatus"])
    }
    /// The assessment type (see [`ASSESSMENT_TYPES`]).
    pub fn kind(&self) -> Option<&'a str> {
        first_code(&self.0["code"])
    }
    /// The carer assessed.
    pub fn carer(&self) -> Option<&'a str> {
        reference_of(&self.0["for"])
    }
    /// The CarerRelationship assessed.
    pub fn relationship(&self) -> Option<&'a str> {
        reference_of(&self.0["focus"])
    }
    /// The local authority responsible, by ODS code.
    pub fn owner(&self) -> Option<OdsCode> {
        let id = &self.0["owner"]["identifier"];
        if id["system"] != ODS_SYSTEM {
            return None;
        }
        id["value"].as_str()?.parse().ok()
    }
    /// When the assessment was requested.
    pub fn authored_on(&self) -> Option<&'a str> {
        self.0["authoredOn"].as_str()
    }
    /// The CarerAssessmentResponse the assessment rests on.
    pub fn response(&self) -> Option<&'a str> {
        self.io("input", "assessment-response")
    }
    /// The CarerEligibility determination.
    pub fn eligibility(&self) -> Option<&'a str> {
        self.io("output", "eligibility")
    }
    /// The CarerSupportPlan.
    pub fn support_plan(&self) -> Option<&'a str> {
        self.io("output", "support-plan")
    }
    /// The CarerQualityOfLife measured at this assessment or review.
    pub fn quality_of_life(&self) -> Option<&'a str> {
        self.io("output", "quality-of-life")
    }
    /// For a review: the support plan reviewed (`basedOn`).
    pub fn reviews(&self) -> Option<&'a str> {
        reference_of(&self.0["basedOn"][0])
    }
    /// Who asked for the assessment, when named by identifier (a GP
    /// practice or hospital by ODS code, a school by DfE URN).
    pub fn requester(&self) -> Option<OrganisationId> {
        OrganisationId::from_reference(&self.0["requester"])
    }
    /// Every caring relationship the assessment concerns: `focus`, then the
    /// `assessment-relationship` extensions.
    pub fn caring_relationships(&self) -> Vec<&'a str> {
        reference_of(&self.0["focus"])
            .into_iter()
            .chain(
                extensions(self.0, "assessment-relationship")
                    .filter_map(|e| reference_of(&e["valueReference"])),
            )
            .collect()
    }
    /// The family members assessed with the carer (joint or whole-family
    /// assessment).
    pub fn assessed_with(&self) -> Vec<&'a str> {
        extensions(self.0, "assessed-with")
            .filter_map(|e| reference_of(&e["valueReference"]))
            .collect()
    }

    /// The reference in the input or output of this type.
    fn io(&self, key: &str, code: &str) -> Option<&'a str> {
        self.0[key]
            .as_array()?
            .iter()
            .find(|p| first_code(&p["type"]) == Some(code))
            .and_then(|p| reference_of(&p["valueReference"]))
    }
}

/// Builds a `CarerAssessment`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerAssessment;
/// let t = CarerAssessment::builder()
///     .carer("Patient/mary")
///     .relationship("RelatedPerson/r1")
///     .kind("carers-assessment")
///     .status("completed")
///     .owner("616".parse().unwrap())
///     .authored_on("2025-10-03")
///     .identifier("LA616-1")
///     .response("QuestionnaireResponse/q1")
///     .eligibility("Observation/e1")
///     .support_plan("CarePlan/p1")
///     .build()
///     .unwrap();
/// assert_eq!(t["status"], "completed");
/// // A review of a support plan, with the quality of life measured again:
/// let review = CarerAssessment::builder().carer("Patient/mary").owner("616".parse().unwrap())
///     .authored_on("2026-10-15").reviews("CarePlan/p1").quality_of_life("Observation/q2")
///     .build().unwrap();
/// assert_eq!(CarerAssessment::read(&review).kind(), Some("review"));
/// // A joint assessment with the person cared for, covering two caring relationships:
/// let joint = CarerAssessment::builder().carer("Patient/mary").owner("616".parse().unwrap())
///     .authored_on("2025-10-03").kind("joint-assessment").relationship("RelatedPerson/r1")
///     .caring_relationship("RelatedPerson/r2").assessed_with("Patient/arthur").build().unwrap();
/// let read = CarerAssessment::read(&joint);
/// assert_eq!(read.caring_relationships(), ["RelatedPerson/r1", "RelatedPerson/r2"]);
/// assert_eq!(read.assessed_with(), ["Patient/arthur"]);
/// // ... which must say who else is assessed:
/// assert!(CarerAssessment::builder().carer("Patient/mary").owner("616".parse().unwrap())
///     .authored_on("2025-10-03").kind("joint-assessment").build().is_err());
/// // A declined assessment is a rejected Task:
/// let declined = CarerAssessment::builder().carer("Patient/mary").owner("616".parse().unwrap())
///     .authored_on("2025-10-03").status("declined").build().unwrap();
/// assert_eq!(declined["status"], "rejected");
/// ```
#[derive(Debug, Default, Clone)]
pub struct CarerAssessmentBuilder {
    carer: Option<String>,
    relationship: Option<String>,
    kind: String,
    status: String,
    owner: Option<OdsCode>,
    authored_on: Option<String>,
    identifier: Option<String>,
    response: Option<String>,
    eligibility: Option<String>,
    support_plan: Option<String>,
    quality_of_life: Option<String>,
    reviews: Option<String>,
    requester: Option<OrganisationId>,
    relationships: Vec<String>,
    assessed_with: Vec<String>,
}

impl CarerAssessmentBuilder {
    /// The carer assessed (required).
    pub fn carer(mut self, patient: &str) -> Self {
        self.carer = Some(patient.into());
        self
    }
    /// The CarerRelationship assessed.
    pub fn relationship(mut self, r: &str) -> Self {
        self.relationship = Some(r.into());
        self
    }
    /// The assessment type (default `carers-assessment`).
    pub fn kind(mut self, code: &str) -> Self {
        self.kind = code.into();
        self
    }
    /// `offered`, `requested` (default), `declined`, `in-progress` or `completed`.
    pub fn status(mut self, code: &str) -> Self {
        self.status = code.into();
        self
    }
    /// The local authority responsible (required).
    pub fn owner(mut self, ods: OdsCode) -> Self {
        self.owner = Some(ods);
        self
    }
    /// When requested (required).
    pub fn authored_on(mut self, when: &str) -> Self {
        self.authored_on = Some(when.into());
        self
    }
    /// The LA's reference number for the assessment.
    pub fn identifier(mut self, id: &str) -> Self {
        self.identifier = Some(id.into());
        self
    }
    /// The CarerAssessmentResponse the assessment rests on.
    pub fn response(mut self, r: &str) -> Self {
        self.response = Some(r.into());
        self
    }
    /// The CarerEligibility determination.
    pub fn eligibility(mut self, r: &str) -> Self {
        self.eligibility = Some(r.into());
        self
    }
    /// The CarerSupportPlan.
    pub fn support_plan(mut self, r: &str) -> Self {
        self.support_plan = Some(r.into());
        self
    }
    /// The CarerQualityOfLife measured at this assessment or review.
    pub fn quality_of_life(mut self, r: &str) -> Self {
        self.quality_of_life = Some(r.into());
        self
    }
    /// Makes this a review (Care Act 2014 s27) of the CarerSupportPlan `plan`.
    pub fn reviews(mut self, plan: &str) -> Self {
        self.reviews = Some(plan.into());
        self.kind = "review".into();
        self
    }
    /// Who asked: a GP practice or hospital (ODS code), a school (DfE URN).
    pub fn requester(mut self, who: impl Into<OrganisationId>) -> Self {
        self.requester = Some(who.into());
        self
    }
    /// A further caring relationship the assessment concerns (a carer who
    /// cares for several people); repeatable.
    pub fn caring_relationship(mut self, r: &str) -> Self {
        self.relationships.push(r.into());
        self
    }
    /// A family member assessed with the carer (the person cared for in a
    /// joint assessment, another family member in a whole-family one);
    /// repeatable.
    pub fn assessed_with(mut self, who: &str) -> Self {
        self.assessed_with.push(who.into());
        self
    }

    /// The resource.
    ///
    /// # Errors
    /// When an element is missing, a code is unknown, or a joint
    /// assessment names nobody assessed with the carer.
    pub fn build(self) -> Result<Value> {
        let carer = require(self.carer, "Task.for", "the carer")?;
        let owner = require(self.owner, "Task.owner", "the local authority")?;
        if self.kind == "joint-assessment" && self.assessed_with.is_empty() {
            return Err(missing(
                "Task.extension('assessed-with')",
                "who else a joint assessment assesses",
            ));
        }
        let authored = require(self.authored_on, "Task.authoredOn", "when")?;
        check_code("Task.code", "assessment type", &self.kind, ASSESSMENT_TYPES)?;
        check_code(
            "Task.businessStatus",
            "assessment status",
            &self.status,
            ASSESSMENT_STATUSES,
        )?;
        // The Task status each assessment status implies.
        let task_status = match self.status.as_str() {
            "offered" => "draft",
            "declined" => "rejected",
            other => other, // requested, in-progress, completed
        };
        let io = |code: &str, r: &str| json!({"type": coding(&code_system("task-io"), code), "valueReference": reference(r)});
        let mut t = json!({
            "resourceType": "Task",
            "meta": meta("CarerAssessment", "Task"),
            "status": task_status,
            "businessStatus": coding(&code_system("assessment-status"), &self.status),
            "intent": "order",
            "code": coding(&code_system("assessment-type"), &self.kind),
            "for": reference(&carer),
            "authoredOn": authored,
            "owner": owner.reference(),
        });
        if let Some(id) = &self.identifier {
            t["identifier"] =
                json!([{"system": format!("{CANONICAL}/Id/assessment"), "value": id}]);
        }
        if let Some(r) = &self.relationship {
            t["focus"] = reference(r);
        }
        if let Some(r) = &self.response {
            t["input"] = json!([io("assessment-response", r)]);
        }
        let mut output = Vec::new();
        if let Some(r) = &self.eligibility {
            output.push(io("eligibility", r));
        }
        if let Some(r) = &self.support_plan {
            output.push(io("support-plan", r));
        }
        if let Some(r) = &self.quality_of_life {
            output.push(io("quality-of-life", r));
        }
        if !output.is_empty() {
            t["output"] = Value::Array(output);
        }
        if let Some(plan) = &self.reviews {
            t["basedOn"] = json!([reference(plan)]);
        }
        if let Some(who) = &self.requester {
            t["requester"] = who.reference();
        }
        let extension: Vec<Value> = self
            .relationships
            .iter()
            .map(|r| ext("assessment-relationship", "valueReference", reference(r)))
            .chain(
                self.assessed_with
                    .iter()
                    .map(|w| ext("assessed-with", "valueReference", reference(w))),
            )
            .collect();
        if !extension.is_empty() {
            t["extension"] = Value::Array(extension);
        }
        Ok(t)
    }
}
