//! The subscription topics this server supports
//! ([Subscriptions R5 Backport](https://hl7.org/fhir/uv/subscriptions-backport/)):
//! each a canonical URL under `https://fhir.carer-fhir.uk/SubscriptionTopic/`,
//! the resource types it watches, the rule that decides whether a change
//! fires it, and the search parameters its filters may use.

use serde_json::Value;

use crate::interaction::pipeline::ChangeKind;

/// The canonical base of our topics.
pub const TOPIC_BASE: &str = "https://fhir.carer-fhir.uk/SubscriptionTopic/";

/// What a topic is shown, for one change: the kind, the type, and the
/// resource after and before it.
#[derive(Debug, Clone, Copy)]
pub struct Trigger<'a> {
    /// What happened.
    pub kind: ChangeKind,
    /// The resource type.
    pub resource_type: &'a str,
    /// The resource now (None for a deletion).
    pub current: Option<&'a Value>,
    /// The resource before (None when it is new).
    pub previous: Option<&'a Value>,
}

/// One topic.
#[derive(Debug)]
pub struct Topic {
    /// Its code (the last segment of its URL).
    pub code: &'static str,
    /// Its title.
    pub title: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// The types it watches.
    pub resources: &'static [&'static str],
    /// Whether a change fires it.
    pub fires: fn(&Trigger) -> bool,
    /// The search parameters its filters may use (the patient, the
    /// organisation), as `Type?param`.
    pub filters: &'static [&'static str],
}

impl Topic {
    /// Its canonical URL.
    pub fn url(&self) -> String {
        format!("{TOPIC_BASE}{}", self.code)
    }
}

fn profile(r: Option<&Value>, name: &str) -> bool {
    r.is_some_and(|r| {
        r["meta"]["profile"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|p| p.ends_with(&format!("/StructureDefinition/{name}")))
    })
}

fn codes<'a>(cc: &'a Value) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    cc["coding"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["system"].as_str().unwrap_or(""), c["code"].as_str()?)))
}

/// A RelatedPerson that is a carer (UK Core's relationship code `Carer`).
fn is_carer(r: Option<&Value>) -> bool {
    r.is_some_and(|r| {
        r["relationship"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|cc| {
                codes(cc).any(|(s, c)| {
                    c == "Carer" && s.ends_with("UKCore-AdditionalPersonRelationshipRole")
                })
            })
    }) || profile(r, "CarerRelationship")
}

fn is_assessment(r: Option<&Value>) -> bool {
    profile(r, "CarerAssessment")
        || r.is_some_and(|r| {
            codes(&r["code"])
                .any(|(s, _)| s == "https://fhir.carer-fhir.uk/CodeSystem/assessment-type")
        })
}

fn status(r: Option<&Value>) -> Option<&str> {
    r.and_then(|r| r["status"].as_str())
}

fn caf_consent(r: Option<&Value>) -> bool {
    profile(r, "CafConsent")
        || r.is_some_and(|r| {
            r["category"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|cc| codes(cc).any(|(_, c)| c == "caf-sharing"))
        })
}

fn carer_plan(r: Option<&Value>) -> bool {
    profile(r, "CarerSupportPlan")
        || profile(r, "ContingencyPlan")
        || r.is_some_and(|r| {
            r["identifier"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|i| i["system"] == "https://fhir.carer-fhir.uk/Id/emergency-card")
                || r["category"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|cc| codes(cc).any(|(_, c)| c == "carer-support-plan"))
        })
}

/// Whether a caring relationship has ended: inactive, or its period has an end.
fn ended(r: Option<&Value>) -> bool {
    r.is_some_and(|r| r["active"] == false || r["period"]["end"].is_string())
}

fn carer_identified(t: &Trigger) -> bool {
    t.kind == ChangeKind::Created
        && match t.resource_type {
            "RelatedPerson" => is_carer(t.current),
            "Observation" => profile(t.current, "CarerStatus"),
            _ => false,
        }
}

fn assessment_requested(t: &Trigger) -> bool {
    t.resource_type == "Task"
        && is_assessment(t.current)
        && status(t.current) == Some("requested")
        && status(t.previous) != Some("requested")
}

fn assessment_status_changed(t: &Trigger) -> bool {
    t.resource_type == "Task"
        && is_assessment(t.current)
        && t.previous.is_some()
        && status(t.current) != status(t.previous)
}

fn plan_changed(t: &Trigger) -> bool {
    t.resource_type == "CarePlan" && t.kind != ChangeKind::Deleted && carer_plan(t.current)
}

fn consent_changed(t: &Trigger) -> bool {
    t.resource_type == "Consent" && (caf_consent(t.current) || caf_consent(t.previous))
}

fn caring_ended(t: &Trigger) -> bool {
    t.resource_type == "RelatedPerson"
        && is_carer(t.current)
        && ended(t.current)
        && !ended(t.previous)
}

/// Every topic of this server.
pub static TOPICS: &[Topic] = &[
    Topic {
        code: "carer-identified",
        title: "Carer identified",
        description: "A carer is recorded: a new caring relationship (CarerRelationship) or a new carer status (CarerStatus).",
        resources: &["RelatedPerson", "Observation"],
        fires: carer_identified,
        filters: &["RelatedPerson?patient", "RelatedPerson?carer-patient", "Observation?subject", "Observation?performer"],
    },
    Topic {
        code: "assessment-requested",
        title: "Carer's assessment requested",
        description: "A carer's assessment Task is created as, or moves to, requested: the referral to the council.",
        resources: &["Task"],
        fires: assessment_requested,
        filters: &["Task?patient", "Task?owner", "Task?requester"],
    },
    Topic {
        code: "assessment-status-changed",
        title: "Carer's assessment status changed",
        description: "A carer's assessment Task changes status (accepted, rejected, in progress, completed, …).",
        resources: &["Task"],
        fires: assessment_status_changed,
        filters: &["Task?patient", "Task?owner", "Task?requester"],
    },
    Topic {
        code: "plan-changed",
        title: "Support plan or contingency plan created or changed",
        description: "A carer's support plan or a contingency plan (Plan B) is created or updated.",
        resources: &["CarePlan"],
        fires: plan_changed,
        filters: &["CarePlan?subject", "CarePlan?patient"],
    },
    Topic {
        code: "consent-changed",
        title: "Consent given, changed or withdrawn",
        description: "A CafConsent is created, updated (including revoked) or deleted.",
        resources: &["Consent"],
        fires: consent_changed,
        filters: &["Consent?patient"],
    },
    Topic {
        code: "caring-ended",
        title: "Caring ended",
        description: "A caring relationship ends: it becomes inactive or its period gets an end.",
        resources: &["RelatedPerson"],
        fires: caring_ended,
        filters: &["RelatedPerson?patient", "RelatedPerson?carer-patient"],
    },
];

/// The topic with this canonical URL.
pub fn topic(url: &str) -> Option<&'static Topic> {
    let url = url.split('|').next().unwrap_or(url);
    TOPICS.iter().find(|t| t.url() == url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t<'a>(
        kind: ChangeKind,
        rt: &'a str,
        current: Option<&'a Value>,
        previous: Option<&'a Value>,
    ) -> Trigger<'a> {
        Trigger {
            kind,
            resource_type: rt,
            current,
            previous,
        }
    }

    #[test]
    fn assessment_topics_follow_the_task_status() {
        let task = |s: &str| json!({"resourceType": "Task", "status": s, "meta": {"profile": ["https://fhir.carer-fhir.uk/StructureDefinition/CarerAssessment"]}});
        let (req, acc) = (task("requested"), task("accepted"));
        assert!(assessment_requested(&t(
            ChangeKind::Created,
            "Task",
            Some(&req),
            None
        )));
        assert!(!assessment_requested(&t(
            ChangeKind::Updated,
            "Task",
            Some(&req),
            Some(&req)
        )));
        assert!(assessment_status_changed(&t(
            ChangeKind::Updated,
            "Task",
            Some(&acc),
            Some(&req)
        )));
        assert!(!assessment_status_changed(&t(
            ChangeKind::Updated,
            "Task",
            Some(&acc),
            Some(&acc)
        )));
        assert!(!assessment_status_changed(&t(
            ChangeKind::Created,
            "Task",
            Some(&acc),
            None
        )));
    }

    #[test]
    fn caring_ends_once() {
        let rel = |end: Option<&str>| {
            let mut r = json!({"resourceType": "RelatedPerson", "active": true, "relationship": [{"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdditionalPersonRelationshipRole", "code": "Carer"}]}], "period": {"start": "2020-01-01"}});
            if let Some(e) = end {
                r["period"]["end"] = json!(e);
            }
            r
        };
        let (open, closed) = (rel(None), rel(Some("2026-10-20")));
        assert!(caring_ended(&t(
            ChangeKind::Updated,
            "RelatedPerson",
            Some(&closed),
            Some(&open)
        )));
        assert!(!caring_ended(&t(
            ChangeKind::Updated,
            "RelatedPerson",
            Some(&closed),
            Some(&closed)
        )));
        assert!(carer_identified(&t(
            ChangeKind::Created,
            "RelatedPerson",
            Some(&open),
            None
        )));
        assert!(topic(&format!("{TOPIC_BASE}caring-ended")).is_some());
    }
}
