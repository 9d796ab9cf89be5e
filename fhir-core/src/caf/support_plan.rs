//! `CarerSupportPlan` (CarePlan on UKCore-CarePlan): the carer's support
//! plan (Care Act 2014 s25): support coded by type and delivery mechanism,
//! the personal budget, the review date, and the determination it meets.

use serde_json::{json, Value};

use super::code_system;
use super::codes::{DELIVERY_MECHANISMS, SUPPORT_TYPES};
use super::json::{
    check_code, coding, ext, extension_value, first_code, invalid, meta, reference, reference_of,
    require,
};
use super::rules::Outcome;
use crate::error::Result;

/// The `CarerSupportPlan` profile (CarePlan for the carer).
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerSupportPlan;
/// let p = CarerSupportPlan::builder().carer("Patient/mary")
///     .activity("break", Some("managed-personal-budget"), "A week's respite").unwrap()
///     .build().unwrap();
/// assert_eq!(CarerSupportPlan::read(&p).activities()[0].support_type, Some("break"));
/// ```
pub struct CarerSupportPlan;

impl CarerSupportPlan {
    /// A builder. The carer is required.
    ///
    /// See [`CarerSupportPlanBuilder`] for an example.
    pub fn builder() -> CarerSupportPlanBuilder {
        CarerSupportPlanBuilder::default()
    }

    /// Typed access to a CarerSupportPlan.
    ///
    /// See [`CarerSupportPlanReader`] for an example.
    pub fn read(resource: &Value) -> CarerSupportPlanReader<'_> {
        CarerSupportPlanReader(resource)
    }

    /// An outcome the carer wished to achieve, as a Goal on `carer`: what
    /// they said (`description`), and the reg 3(2)(b) outcome it concerns
    /// when there is one (as its category).
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::{rules::Outcome, CarerSupportPlan};
    /// let mut goal = CarerSupportPlan::outcome_goal("Patient/mary",
    ///     "An afternoon a week for herself", Some(Outcome::Recreation), "2025-11-15");
    /// goal["id"] = "g1".into();
    /// let plan = CarerSupportPlan::builder().carer("Patient/mary").goal("Goal/g1")
    ///     .activity_for("sitting-service", Some("direct-payment"), "Wednesdays", &["Goal/g1"])
    ///     .unwrap()
    ///     .build().unwrap();
    /// let read = CarerSupportPlan::read(&plan);
    /// assert_eq!(read.goals(), ["Goal/g1"]);
    /// assert_eq!(read.activity_goals(0), ["Goal/g1"]);
    /// assert_eq!(goal["category"][0]["coding"][0]["code"], "recreation");
    /// ```
    pub fn outcome_goal(
        carer: &str,
        description: &str,
        outcome: Option<Outcome>,
        start: &str,
    ) -> Value {
        let mut g = json!({
            "resourceType": "Goal",
            "lifecycleStatus": "active",
            "description": {"text": description},
            "subject": reference(carer),
            "startDate": start,
        });
        if let Some(o) = outcome {
            g["category"] = json!([coding(&code_system("reg3-outcome"), o.code())]);
        }
        g
    }
}

/// One planned support of a care plan, as [`CarerSupportPlanReader::activities`]
/// and [`crate::caf::ContingencyPlanReader::standby_support`] read it.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerSupportPlan;
/// let p = CarerSupportPlan::builder().carer("Patient/mary")
///     .activity("training", Some("commissioned-support"), "Moving and handling").unwrap()
///     .build().unwrap();
/// let support = CarerSupportPlan::read(&p).activities()[0];
/// assert_eq!(support.delivery_mechanism, Some("commissioned-support"));
/// assert_eq!(support.status, Some("scheduled"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedSupport<'a> {
    /// The support type code (see [`crate::caf::codes::SUPPORT_TYPES`]).
    pub support_type: Option<&'a str>,
    /// The delivery mechanism code (see [`crate::caf::codes::DELIVERY_MECHANISMS`]).
    pub delivery_mechanism: Option<&'a str>,
    /// What it is, in words.
    pub description: Option<&'a str>,
    /// The activity's status (`scheduled`; `on-hold` until a Plan B starts).
    pub status: Option<&'a str>,
}

/// The planned supports of a CarePlan's activities.
pub(super) fn planned_support(plan: &Value) -> Vec<PlannedSupport<'_>> {
    plan["activity"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let detail = &a["detail"];
            PlannedSupport {
                support_type: first_code(&detail["code"]),
                delivery_mechanism: extension_value(
                    detail,
                    "delivery-mechanism",
                    "valueCodeableConcept",
                )
                .and_then(first_code),
                description: detail["description"].as_str(),
                status: detail["status"].as_str(),
            }
        })
        .collect()
}

/// Typed access to a `CarerSupportPlan`; made by [`CarerSupportPlan::read`].
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerSupportPlan;
/// let p = CarerSupportPlan::builder().carer("Patient/mary").eligibility("Observation/e1")
///     .activity("sitting-service", Some("direct-payment"), "Wednesdays").unwrap()
///     .personal_budget(1850.0).review_date("2026-11-01").build().unwrap();
/// let read = CarerSupportPlan::read(&p);
/// assert_eq!(read.personal_budget(), Some(1850.0));
/// assert_eq!(read.review_date(), Some("2026-11-01"));
/// assert_eq!(read.carer(), Some("Patient/mary"));
/// assert_eq!(read.eligibility(), Some("Observation/e1"));
/// let support = &read.activities()[0];
/// assert_eq!(support.support_type, Some("sitting-service"));
/// assert_eq!(support.delivery_mechanism, Some("direct-payment"));
/// assert_eq!(support.description, Some("Wednesdays"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerSupportPlanReader<'a>(&'a Value);

impl<'a> CarerSupportPlanReader<'a> {
    /// The carer whose plan it is.
    pub fn carer(&self) -> Option<&'a str> {
        reference_of(&self.0["subject"])
    }
    /// The personal budget in pounds a year.
    pub fn personal_budget(&self) -> Option<f64> {
        extension_value(self.0, "personal-budget", "valueMoney")?["value"].as_f64()
    }
    /// The next review date.
    pub fn review_date(&self) -> Option<&'a str> {
        extension_value(self.0, "review-date", "valueDate")?.as_str()
    }
    /// The CarerEligibility the plan meets.
    pub fn eligibility(&self) -> Option<&'a str> {
        reference_of(&self.0["supportingInfo"][0])
    }
    /// The planned support, in the plan's order.
    pub fn activities(&self) -> Vec<PlannedSupport<'a>> {
        planned_support(self.0)
    }
    /// The outcomes the carer wished to achieve (references to Goals).
    pub fn goals(&self) -> Vec<&'a str> {
        self.0["goal"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(reference_of)
            .collect()
    }
    /// The goals the activity at `index` serves.
    pub fn activity_goals(&self, index: usize) -> Vec<&'a str> {
        self.0["activity"][index]["detail"]["goal"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(reference_of)
            .collect()
    }
}

/// Builds a `CarerSupportPlan`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerSupportPlan;
/// let p = CarerSupportPlan::builder()
///     .carer("Patient/mary")
///     .relationship("RelatedPerson/r1")
///     .eligibility("Observation/e1")
///     .start("2025-11-15")
///     .review_date("2026-11-01")
///     .personal_budget(1850.0)
///     .activity("sitting-service", Some("direct-payment"), "Wednesdays").unwrap()
///     .activity("information-advice", None, "Carers' groups").unwrap()
///     .build()
///     .unwrap();
/// assert_eq!(p["category"][0]["coding"][0]["code"], "carer-support-plan");
/// // Support types come from the guide's support-type code system:
/// assert!(CarerSupportPlan::builder().activity("holiday", None, "").is_err());
/// ```
#[derive(Debug, Default, Clone)]
pub struct CarerSupportPlanBuilder {
    carer: Option<String>,
    relationship: Option<String>,
    eligibility: Option<String>,
    start: Option<String>,
    review: Option<String>,
    budget: Option<f64>,
    goals: Vec<String>,
    activities: Vec<Value>,
}

impl CarerSupportPlanBuilder {
    /// The carer (required).
    pub fn carer(mut self, patient: &str) -> Self {
        self.carer = Some(patient.into());
        self
    }
    /// The CarerRelationship.
    pub fn relationship(mut self, r: &str) -> Self {
        self.relationship = Some(r.into());
        self
    }
    /// The CarerEligibility the plan meets.
    pub fn eligibility(mut self, r: &str) -> Self {
        self.eligibility = Some(r.into());
        self
    }
    /// When the plan starts.
    pub fn start(mut self, date: &str) -> Self {
        self.start = Some(date.into());
        self
    }
    /// When it is next reviewed.
    pub fn review_date(mut self, date: &str) -> Self {
        self.review = Some(date.into());
        self
    }
    /// The personal budget, pounds a year.
    pub fn personal_budget(mut self, pounds: f64) -> Self {
        self.budget = Some(pounds);
        self
    }
    /// An outcome the carer wished to achieve (a reference to a Goal, such
    /// as [`CarerSupportPlan::outcome_goal`] builds).
    pub fn goal(mut self, goal: &str) -> Self {
        self.goals.push(goal.into());
        self
    }

    /// A support activity that serves the `goals` named (each also given
    /// to [`CarerSupportPlanBuilder::goal`]).
    ///
    /// # Errors
    /// When a code is unknown, or a goal is not one of the plan's.
    pub fn activity_for(
        self,
        support: &str,
        delivery: Option<&str>,
        description: &str,
        goals: &[&str],
    ) -> Result<Self> {
        let at = format!("CarePlan.activity[{}].detail.goal", self.activities.len());
        if let Some(g) = goals.iter().find(|g| !self.goals.iter().any(|p| p == *g)) {
            return Err(invalid(
                &at,
                format!("{g} is not one of the plan's goals (CarePlan.goal)"),
            ));
        }
        let mut this = self.activity(support, delivery, description)?;
        if !goals.is_empty() {
            if let Some(last) = this.activities.last_mut() {
                last["detail"]["goal"] = goals.iter().map(|g| reference(g)).collect();
            }
        }
        Ok(this)
    }

    /// A support activity: support type, delivery mechanism, description.
    ///
    /// # Errors
    /// When a code is unknown.
    pub fn activity(
        mut self,
        support: &str,
        delivery: Option<&str>,
        description: &str,
    ) -> Result<Self> {
        let at = format!("CarePlan.activity[{}].detail", self.activities.len());
        check_code(
            &format!("{at}.code"),
            "support type",
            support,
            SUPPORT_TYPES,
        )?;
        let mut detail = json!({"code": coding(&code_system("support-type"), support), "status": "scheduled", "description": description});
        if let Some(d) = delivery {
            check_code(
                &format!("{at}.extension('delivery-mechanism')"),
                "delivery mechanism",
                d,
                DELIVERY_MECHANISMS,
            )?;
            detail["extension"] = json!([ext(
                "delivery-mechanism",
                "valueCodeableConcept",
                coding(&code_system("delivery-mechanism"), d)
            )]);
        }
        self.activities.push(json!({ "detail": detail }));
        Ok(self)
    }

    /// The resource.
    ///
    /// # Errors
    /// When the carer is missing or the budget is negative.
    pub fn build(self) -> Result<Value> {
        let carer = require(self.carer, "CarePlan.subject", "the carer")?;
        let mut extension = Vec::new();
        if let Some(b) = self.budget {
            if b < 0.0 || !b.is_finite() {
                return Err(invalid(
                    "CarePlan.extension('personal-budget')",
                    format!("{b} is not a budget"),
                ));
            }
            extension.push(ext(
                "personal-budget",
                "valueMoney",
                json!({"value": b, "currency": "GBP"}),
            ));
        }
        if let Some(d) = &self.review {
            extension.push(ext("review-date", "valueDate", json!(d)));
        }
        if let Some(r) = &self.relationship {
            extension.push(ext("carer-relationship", "valueReference", reference(r)));
        }
        let mut p = json!({
            "resourceType": "CarePlan",
            "meta": meta("CarerSupportPlan", "CarePlan"),
            "status": "active",
            "intent": "plan",
            "category": [coding(&code_system("plan-category"), "carer-support-plan")],
            "subject": reference(&carer),
        });
        if !extension.is_empty() {
            p["extension"] = Value::Array(extension);
        }
        if let Some(s) = &self.start {
            p["period"] = json!({ "start": s });
        }
        if let Some(e) = &self.eligibility {
            p["supportingInfo"] = json!([reference(e)]);
        }
        if !self.goals.is_empty() {
            p["goal"] = self.goals.iter().map(|g| reference(g)).collect();
        }
        if !self.activities.is_empty() {
            p["activity"] = Value::Array(self.activities);
        }
        Ok(p)
    }
}
