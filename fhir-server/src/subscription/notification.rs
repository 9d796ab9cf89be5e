//! Notification Bundles ([backport notifications](https://hl7.org/fhir/uv/subscriptions-backport/notifications.html)):
//! a `history` Bundle whose first entry is the subscription status (a
//! Parameters resource of the `backport-subscription-status-r4` profile),
//! then, for `id-only` and `full-resource`, an entry per event's focus.

use serde_json::{json, Value};

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
