//! `ContingencyPlan` (CarePlan on UKCore-CarePlan): "Plan B", what happens
//! when the carer suddenly cannot care: triggers, who to call (someone must
//! have agreed to act), how long the person can be alone, the emergency
//! card number a responder quotes, and support on hold until it starts.

use serde_json::{json, Value};

use super::codes::{CONTINGENCY_TRIGGERS, SUPPORT_TYPES};
use super::json::{
    check_code, coding, ext, extension_value, extensions, first_code, meta, missing, reference,
    reference_of, require,
};
use super::support_plan::{planned_support, PlannedSupport};
use super::{code_system, structure_definition, CANONICAL};
use crate::error::Result;

/// Someone to call when a contingency plan starts.
///
/// # Examples
/// ```
/// use fhir_core::caf::ContingencyContact;
/// let sam = ContingencyContact {
///     reference: "RelatedPerson/sam".into(),
///     agreed_to_act: true,
///     phone: Some("07700 900123".into()),
/// };
/// assert!(sam.agreed_to_act);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ContingencyContact {
    /// Who (a RelatedPerson, Practitioner, Organization or HealthcareService).
    pub reference: String,
    /// Whether they agreed to act as a replacement carer.
    pub agreed_to_act: bool,
    /// A telephone number to reach them at once.
    pub phone: Option<String>,
}

/// The `ContingencyPlan` profile ("Plan B", CarePlan for the cared-for person).
///
/// # Examples
/// ```
/// use fhir_core::caf::{ContingencyContact, ContingencyPlan};
/// let sam = ContingencyContact { reference: "RelatedPerson/sam".into(), agreed_to_act: true, phone: None };
/// let plan = ContingencyPlan::builder().cared_for("Patient/arthur").author("Patient/mary")
///     .emergency_card("EC-1").description("Call Sam.").trigger("carer-ill").unwrap()
///     .contact(sam).agreed_with_person(true).build().unwrap();
/// assert_eq!(ContingencyPlan::read(&plan).emergency_card(), Some("EC-1"));
/// ```
pub struct ContingencyPlan;

impl ContingencyPlan {
    /// A builder. The person cared for, the author, the card number, the
    /// description, whether the person agreed, a trigger and a contact who
    /// agreed to act are required.
    ///
    /// See [`ContingencyPlanBuilder`] for an example.
    pub fn builder() -> ContingencyPlanBuilder {
        ContingencyPlanBuilder::default()
    }

    /// Typed access to a ContingencyPlan: what a responder needs at once.
    ///
    /// See [`ContingencyPlanReader`] for an example.
    pub fn read(resource: &Value) -> ContingencyPlanReader<'_> {
        ContingencyPlanReader(resource)
    }
}

/// Typed access to a `ContingencyPlan`; made by [`ContingencyPlan::read`].
///
/// # Examples
/// ```
/// use fhir_core::caf::{ContingencyContact, ContingencyPlan};
/// let contact = |who: &str, agreed| ContingencyContact { reference: who.into(), agreed_to_act: agreed, phone: None };
/// let plan = ContingencyPlan::builder().cared_for("Patient/arthur").author("Patient/mary")
///     .emergency_card("EC-616-000123").description("Call Sam first.")
///     .trigger("carer-ill").unwrap().trigger("carer-unreachable").unwrap()
///     .contact(contact("RelatedPerson/sam", true)).contact(contact("Organization/crossroads", false))
///     .hours_alone(2.0).agreed_with_person(true).build().unwrap();
/// let read = ContingencyPlan::read(&plan);
/// assert_eq!(read.emergency_card(), Some("EC-616-000123"));
/// assert_eq!(read.cared_for(), Some("Patient/arthur"));
/// assert_eq!(read.description(), Some("Call Sam first."));
/// assert_eq!(read.triggers(), ["carer-ill", "carer-unreachable"]);
/// assert_eq!(read.contacts()[0].reference, "RelatedPerson/sam");
/// assert_eq!(read.hours_alone(), Some(2.0));
/// assert_eq!(read.agreed_with_person(), Some(true));
/// assert!(read.standby_support().is_empty());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ContingencyPlanReader<'a>(&'a Value);

impl<'a> ContingencyPlanReader<'a> {
    /// The emergency card number a responder quotes.
    pub fn emergency_card(&self) -> Option<&'a str> {
        let system = format!("{CANONICAL}/Id/emergency-card");
        self.0["identifier"]
            .as_array()?
            .iter()
            .find(|i| i["system"] == system.as_str())?["value"]
            .as_str()
    }
    /// The person cared for.
    pub fn cared_for(&self) -> Option<&'a str> {
        reference_of(&self.0["subject"])
    }
    /// What should happen.
    pub fn description(&self) -> Option<&'a str> {
        self.0["description"].as_str()
    }
    /// The events that start the plan (see [`CONTINGENCY_TRIGGERS`]).
    pub fn triggers(&self) -> Vec<&'a str> {
        extensions(self.0, "contingency-trigger")
            .filter_map(|e| first_code(&e["valueCodeableConcept"]))
            .collect()
    }
    /// The contacts, in the order to call them.
    pub fn contacts(&self) -> Vec<ContingencyContact> {
        let mut found: Vec<(u64, ContingencyContact)> = extensions(self.0, "emergency-contact")
            .enumerate()
            .map(|(i, e)| {
                let part = |name: &str| {
                    e["extension"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|s| s["url"] == name)
                        .cloned()
                        .unwrap_or(Value::Null)
                };
                let order = part("order")["valuePositiveInt"]
                    .as_u64()
                    .unwrap_or(1000 + i as u64);
                (
                    order,
                    ContingencyContact {
                        reference: part("contact")["valueReference"]["reference"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        agreed_to_act: part("agreedToAct")["valueBoolean"]
                            .as_bool()
                            .unwrap_or(false),
                        phone: part("telephone")["valueContactPoint"]["value"]
                            .as_str()
                            .map(str::to_string),
                    },
                )
            })
            .collect();
        found.sort_by_key(|(o, _)| *o);
        found.into_iter().map(|(_, c)| c).collect()
    }
    /// How many hours the person can be left alone.
    pub fn hours_alone(&self) -> Option<f64> {
        extension_value(self.0, "time-alone", "valueDuration")?["value"].as_f64()
    }
    /// Whether the person cared for agreed the plan.
    pub fn agreed_with_person(&self) -> Option<bool> {
        extension_value(self.0, "agreed-with-person", "valueBoolean")?.as_bool()
    }
    /// When the plan is next reviewed.
    pub fn review_date(&self) -> Option<&'a str> {
        extension_value(self.0, "review-date", "valueDate")?.as_str()
    }
    /// Support that starts only when the plan is triggered.
    pub fn standby_support(&self) -> Vec<PlannedSupport<'a>> {
        planned_support(self.0)
    }
}

/// Builds a `ContingencyPlan`.
///
/// # Examples
/// ```
/// use fhir_core::caf::{ContingencyContact, ContingencyPlan};
/// let sam = ContingencyContact {
///     reference: "RelatedPerson/sam".into(),
///     agreed_to_act: true,
///     phone: Some("07700 900123".into()),
/// };
/// let plan = ContingencyPlan::builder()
///     .cared_for("Patient/arthur")
///     .author("Patient/mary")
///     .emergency_card("EC-616-000123")
///     .description("Call Sam first.")
///     .trigger("carer-ill").unwrap()
///     .contact(sam)
///     .hours_alone(2.0)
///     .agreed_with_person(true)
///     .review_date("2026-11-01")
///     .relationship("RelatedPerson/r1")
///     .standby_support("emergency-respite", "Up to 72 hours").unwrap()
///     .build()
///     .unwrap();
/// assert_eq!(plan["activity"][0]["detail"]["status"], "on-hold");
/// // A plan nobody agreed to act on is refused:
/// let nobody = ContingencyContact { reference: "RelatedPerson/x".into(), agreed_to_act: false, phone: None };
/// let err = ContingencyPlan::builder().cared_for("Patient/arthur").author("Patient/mary")
///     .emergency_card("EC-1").description("?").trigger("carer-ill").unwrap()
///     .contact(nobody).agreed_with_person(true).build().unwrap_err();
/// assert!(err.message.contains("agreed to act"));
/// ```
#[derive(Debug, Default, Clone)]
pub struct ContingencyPlanBuilder {
    cared_for: Option<String>,
    author: Option<String>,
    card: Option<String>,
    description: Option<String>,
    triggers: Vec<String>,
    contacts: Vec<ContingencyContact>,
    hours_alone: Option<f64>,
    agreed: Option<bool>,
    review: Option<String>,
    relationship: Option<String>,
    activities: Vec<(String, String)>,
}

impl ContingencyPlanBuilder {
    /// The person cared for (required).
    pub fn cared_for(mut self, patient: &str) -> Self {
        self.cared_for = Some(patient.into());
        self
    }
    /// Who wrote it, usually the carer (required).
    pub fn author(mut self, who: &str) -> Self {
        self.author = Some(who.into());
        self
    }
    /// The emergency card number (required).
    pub fn emergency_card(mut self, number: &str) -> Self {
        self.card = Some(number.into());
        self
    }
    /// What should happen (required).
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.into());
        self
    }
    /// An event that starts the plan (at least one).
    ///
    /// # Errors
    /// When the code is unknown.
    pub fn trigger(mut self, code: &str) -> Result<Self> {
        check_code(
            "CarePlan.extension('contingency-trigger')",
            "contingency trigger",
            code,
            CONTINGENCY_TRIGGERS,
        )?;
        self.triggers.push(code.into());
        Ok(self)
    }
    /// Someone to call, in order (at least one who agreed to act).
    pub fn contact(mut self, contact: ContingencyContact) -> Self {
        self.contacts.push(contact);
        self
    }
    /// How many hours the person can be left alone.
    pub fn hours_alone(mut self, hours: f64) -> Self {
        self.hours_alone = Some(hours);
        self
    }
    /// Whether the person cared for agreed the plan (required).
    pub fn agreed_with_person(mut self, yes: bool) -> Self {
        self.agreed = Some(yes);
        self
    }
    /// When it is next reviewed.
    pub fn review_date(mut self, date: &str) -> Self {
        self.review = Some(date.into());
        self
    }
    /// The CarerRelationship.
    pub fn relationship(mut self, r: &str) -> Self {
        self.relationship = Some(r.into());
        self
    }
    /// Support that starts only when the plan is triggered (on hold until then).
    ///
    /// # Errors
    /// When the support type is unknown.
    pub fn standby_support(mut self, support: &str, description: &str) -> Result<Self> {
        check_code(
            "CarePlan.activity.detail.code",
            "support type",
            support,
            SUPPORT_TYPES,
        )?;
        self.activities.push((support.into(), description.into()));
        Ok(self)
    }

    /// The resource.
    ///
    /// # Errors
    /// When an element is missing, or nobody agreed to act.
    pub fn build(self) -> Result<Value> {
        let cared_for = require(self.cared_for, "CarePlan.subject", "the person cared for")?;
        let author = require(self.author, "CarePlan.author", "who wrote the plan")?;
        let card = require(
            self.card,
            "CarePlan.identifier",
            "the emergency card number",
        )?;
        let description = require(
            self.description,
            "CarePlan.description",
            "what should happen",
        )?;
        let agreed = require(
            self.agreed,
            "CarePlan.extension('agreed-with-person')",
            "whether the person agreed",
        )?;
        if self.triggers.is_empty() {
            return Err(missing(
                "CarePlan.extension('contingency-trigger')",
                "a trigger",
            ));
        }
        if !self.contacts.iter().any(|c| c.agreed_to_act) {
            return Err(missing(
                "CarePlan.extension('emergency-contact')",
                "a contact who agreed to act",
            ));
        }
        let mut extension: Vec<Value> = self
            .triggers
            .iter()
            .map(|t| {
                ext(
                    "contingency-trigger",
                    "valueCodeableConcept",
                    coding(&code_system("contingency-trigger"), t),
                )
            })
            .collect();
        for (i, c) in self.contacts.iter().enumerate() {
            let mut parts = vec![
                json!({"url": "contact", "valueReference": reference(&c.reference)}),
                json!({"url": "agreedToAct", "valueBoolean": c.agreed_to_act}),
            ];
            if let Some(p) = &c.phone {
                parts.push(json!({"url": "telephone", "valueContactPoint": {"system": "phone", "value": p}}));
            }
            parts.push(json!({"url": "order", "valuePositiveInt": i + 1}));
            extension.push(
                json!({"url": structure_definition("emergency-contact"), "extension": parts}),
            );
        }
        if let Some(h) = self.hours_alone {
            extension.push(ext("time-alone", "valueDuration", json!({"value": h, "unit": "hours", "system": "http://unitsofmeasure.org", "code": "h"})));
        }
        extension.push(ext("agreed-with-person", "valueBoolean", json!(agreed)));
        if let Some(d) = &self.review {
            extension.push(ext("review-date", "valueDate", json!(d)));
        }
        if let Some(r) = &self.relationship {
            extension.push(ext("carer-relationship", "valueReference", reference(r)));
        }
        let mut p = json!({
            "resourceType": "CarePlan",
            "meta": meta("ContingencyPlan", "CarePlan"),
            "extension": extension,
            "identifier": [{"system": format!("{CANONICAL}/Id/emergency-card"), "value": card}],
            "status": "active",
            "intent": "plan",
            "category": [coding(&code_system("plan-category"), "contingency-plan")],
            "description": description,
            "subject": reference(&cared_for),
            "author": reference(&author),
        });
        if !self.activities.is_empty() {
            p["activity"] = self
                .activities
                .iter()
                .map(|(s, d)| json!({"detail": {"code": coding(&code_system("support-type"), s), "status": "on-hold", "description": d}}))
                .collect();
        }
        Ok(p)
    }
}
