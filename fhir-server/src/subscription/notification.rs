//! Notification Bundles ([backport notifications](https://hl7.org/fhir/uv/subscriptions-backport/notifications.html)):
//! a `history` Bundle whose first entry is the subscription status (a
//! Parameters resource of the `backport-subscription-status-r4` profile),
//! then, for `id-only` and `full-resource`, an entry per event's focus;
//! and the AuditEvent of each notification sent ([`audit`]).

use serde_json::{json, Value};

use crate::auth::clients::Client;
use crate::interaction::audit::{patient_entity, resource_entity};
use crate::store::{EventRow, SubscriptionRow};

/// The status profile of R4 notifications.
pub const STATUS_PROFILE: &str =
    "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4";

/// The topic a row listens to, as a canonical (a classic query
/// subscription has none).
fn topic_of(sub: &SubscriptionRow) -> Option<&str> {
    (!sub.topic.starts_with("criteria:")).then_some(sub.topic.as_str())
}

/// The subscription status Parameters: `kind` is `handshake`,
/// `heartbeat`, `event-notification`, `query-status` or `query-event`.
pub fn status(
    base: &str,
    sub: &SubscriptionRow,
    kind: &str,
    events: &[&EventRow],
    with_focus: bool,
) -> Value {
    let mut params = vec![
        json!({"name": "subscription", "valueReference": {"reference": format!("{base}/Subscription/{}", sub.id)}}),
        json!({"name": "status", "valueCode": sub.status}),
        json!({"name": "type", "valueCode": kind}),
        json!({"name": "events-since-subscription-start", "valueString": sub.events.to_string()}),
    ];
    if let Some(t) = topic_of(sub) {
        params.insert(1, json!({"name": "topic", "valueCanonical": t}));
    }
    for e in events {
        let mut part = vec![
            json!({"name": "event-number", "valueString": e.number.to_string()}),
            json!({"name": "timestamp", "valueInstant": e.at}),
        ];
        if with_focus {
            part.push(json!({"name": "focus", "valueReference": {"reference": format!("{base}/{}/{}", e.focus.0, e.focus.1)}}));
        }
        params.push(json!({"name": "notification-event", "part": part}));
    }
    if let Some(err) = &sub.error {
        params.push(json!({"name": "error", "valueCodeableConcept": {"text": err}}));
    }
    json!({"resourceType": "Parameters", "meta": {"profile": [STATUS_PROFILE]}, "parameter": params})
}

/// A notification: the status, then each event's focus (id-only: a
/// reference in `fullUrl`; full-resource: the resource too).
pub fn bundle(
    base: &str,
    sub: &SubscriptionRow,
    kind: &str,
    events: &[(EventRow, Option<Value>)],
) -> Value {
    let content = sub.content.as_str();
    let refs: Vec<&EventRow> = events.iter().map(|(e, _)| e).collect();
    let mut entries = vec![json!({
        "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "resource": status(base, sub, kind, &refs, content != "empty"),
        "request": {"method": "GET", "url": format!("{base}/Subscription/{}/$status", sub.id)},
        "response": {"status": "200"}
    })];
    if content != "empty" {
        for (e, resource) in events {
            let url = format!("{}/{}", e.focus.0, e.focus.1);
            let mut entry = json!({
                "fullUrl": format!("{base}/{url}"),
                "request": {"method": if e.focus.2 == 1 { "POST" } else { "PUT" }, "url": if e.focus.2 == 1 { e.focus.0.clone() } else { url.clone() }},
                "response": {"status": if e.focus.2 == 1 { "201" } else { "200" }}
            });
            if content == "full-resource" {
                if let Some(r) = resource {
                    entry["resource"] = r.clone();
                }
            }
            entries.push(entry);
        }
    }
    json!({"resourceType": "Bundle", "id": uuid::Uuid::new_v4().to_string(), "type": "history",
        "timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(), "entry": entries})
}

/// The AuditEvent of an event notification sent to `client`'s
/// subscription: a DICOM *Export* (data sent out of this server), with
/// the client and its organisation as the information recipients, the
/// Subscription, each focus version sent and the Patients whose data they
/// are (`patients`) as entities, and the outcome (`Err`: why the endpoint
/// did not take it). Like every AuditEvent here it holds no body, and
/// neither the endpoint nor the channel's headers.
///
/// No subtype: the guide's `audit-subtype` CodeSystem has no code for a
/// notification yet (adding one means regenerating the guide).
pub fn audit(
    sub: &SubscriptionRow,
    client: &Client,
    events: &[(EventRow, Option<Value>)],
    patients: &[String],
    outcome: &Result<(), String>,
) -> Value {
    let recipient = json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP", "display": "information recipient"}]});
    let agents = json!([
        {
            "type": recipient,
            "who": {"identifier": {"system": "https://fhir.carer-fhir.uk/Id/client", "value": client.id}, "display": client.name},
            "altId": client.id,
            "name": client.name,
            "requestor": false,
            "role": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/client-role", "code": client.role.name()}]}]
        },
        {
            "type": recipient,
            "who": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": client.organisation}},
            "requestor": false
        }
    ]);
    let mut entities: Vec<Value> = patients.iter().map(|p| patient_entity(p)).collect();
    entities.push(resource_entity(&format!("Subscription/{}", sub.id)));
    entities.extend(events.iter().map(|(e, _)| {
        resource_entity(&format!(
            "{}/{}/_history/{}",
            e.focus.0, e.focus.1, e.focus.2
        ))
    }));
    let purpose = client
        .purposes
        .first()
        .map_or_else(|| client.role.default_purpose(), String::as_str);
    let code = if outcome.is_ok() { "0" } else { "4" };
    let mut e = json!({
        "resourceType": "AuditEvent",
        "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110106", "display": "Export"},
        "action": "R",
        "recorded": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "outcome": code,
        "agent": agents,
        "source": {"observer": {"display": "carer-fhir"},
            "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server"}]},
        "purposeOfEvent": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": purpose}]}],
        "entity": entities
    });
    if let Err(why) = outcome {
        e["outcomeDesc"] = json!(format!("notification not taken: {why}"));
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::clients::Role;
    use crate::auth::scopes::Scopes;

    #[test]
    fn a_notification_is_audited_with_its_recipient_and_what_it_carried() {
        let sub = SubscriptionRow {
            id: "s1".into(),
            owner: Some("616".into()),
            client_id: Some("council".into()),
            ..SubscriptionRow::default()
        };
        let client = Client {
            id: "council".into(),
            name: "the council".into(),
            organisation: "616".into(),
            role: Role::LocalAuthority,
            scopes: Scopes::parse("system/*.rs"),
            purposes: vec!["CAREMGT".into()],
            jwks: json!({"keys": []}),
        };
        let event = EventRow {
            subscription: "s1".into(),
            number: 1,
            topic: "t".into(),
            focus: ("CarePlan".into(), "p1".into(), 2),
            at: "2026-01-01T00:00:00Z".into(),
            state: 0,
        };
        let e = audit(
            &sub,
            &client,
            &[(
                event,
                Some(json!({"resourceType": "CarePlan", "title": "secret"})),
            )],
            &["mary".into()],
            &Ok(()),
        );
        let text = e.to_string();
        assert_eq!(e["outcome"], "0");
        assert_eq!(e["agent"][1]["who"]["identifier"]["value"], "616");
        assert_eq!(e["purposeOfEvent"][0]["coding"][0]["code"], "CAREMGT");
        for r in ["Patient/mary", "Subscription/s1", "CarePlan/p1/_history/2"] {
            assert!(text.contains(r), "{r} in {text}");
        }
        assert!(!text.contains("secret"), "no body in the audit");
        let failed = audit(
            &sub,
            &client,
            &[],
            &[],
            &Err("the endpoint answered 503".into()),
        );
        assert_eq!(failed["outcome"], "4");
        assert!(failed["outcomeDesc"].as_str().unwrap().contains("503"));
    }
}
