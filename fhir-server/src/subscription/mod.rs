//! Topic-based subscriptions, the FHIR R4 way of the
//! [Subscriptions R5 Backport IG](https://hl7.org/fhir/uv/subscriptions-backport/)
//! (1.1.0), with durable delivery.
//!
//! - A Subscription names a topic (`criteria` = the topic's canonical
//!   URL, [`topics`]) and filters (`_criteria` extension
//!   `backport-filter-criteria`, `Type?param=value`), a `rest-hook`
//!   channel with its endpoint and headers, and a payload (`empty`,
//!   `id-only`, `full-resource`). A classic R4 query subscription
//!   (`criteria` = `Type?query`) is kept too: any change of a matching
//!   resource is its event. Writing one registers it in the outbox
//!   ([`register`]): status `requested` until the handshake, `error`
//!   (never delivered) when its endpoint is not on the allow-list
//!   (`serve --subscription-endpoint-allow PREFIX`) or its channel is not
//!   supported.
//! - **The outbox**: each change that fires a topic raises an event for
//!   each listening subscription whose filters its focus matches, numbered
//!   in order, in the same database transaction as the change
//!   ([`raise`], called by the write pipeline's commit). Nothing is lost:
//!   a crash after commit leaves the events to deliver.
//! - **Delivery** ([`notifier`]): a worker per process takes a
//!   subscription's lease (so two processes never deliver one at once),
//!   sends the handshake, waiting events in order, or a heartbeat, as a
//!   notification Bundle ([`notification`]); retries with backoff, `error`
//!   after 3 failures in a row, `off` after 10. The event number lets a
//!   receiver drop a repeat (delivery is at least once).
//! - **Consent**: an event is delivered only when the subscription's
//!   organisation may see its focus at that moment (withheld otherwise);
//!   `full-resource` carries only that.
//! - `$status` and `$events` let a subscriber catch up after an outage
//!   (`interaction::operation::subscription`).

pub mod notification;
pub mod notifier;
pub mod topics;

use serde_json::{json, Value};

use crate::store::SubscriptionRow;

/// The backport IG's extension URLs.
pub mod ext {
    /// Filter criteria on `Subscription._criteria`.
    pub const FILTER: &str =
        "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria";
    /// Payload content on `Subscription.channel._payload`.
    pub const CONTENT: &str =
        "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content";
    /// Heartbeat period on `Subscription.channel`.
    pub const HEARTBEAT: &str =
        "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period";
    /// Timeout on `Subscription.channel`.
    pub const TIMEOUT: &str =
        "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-timeout";
    /// Maximum events per notification on `Subscription.channel`.
    pub const MAX_COUNT: &str =
        "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-max-count";
    /// A topic in the CapabilityStatement.
    pub const TOPIC_CANONICAL: &str = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical";
}

/// Where notifications may go: endpoint URL prefixes
/// (`serve --subscription-endpoint-allow`). Empty: nowhere.
#[derive(Debug, Clone)]
pub struct Config {
    /// Allowed endpoint prefixes.
    pub allow: Vec<String>,
    /// The first retry's wait; each further one doubles it (at most five
    /// minutes).
    pub backoff: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            allow: Vec::new(),
            backoff: std::time::Duration::from_secs(1),
        }
    }
}

impl Config {
    /// Whether an endpoint may be delivered to.
    pub fn allows(&self, endpoint: &str) -> bool {
        self.allow.iter().any(|p| endpoint.starts_with(p.as_str()))
    }
}

fn ext_value<'a>(v: &'a Value, url: &str) -> Option<&'a Value> {
    v["extension"]
        .as_array()?
        .iter()
        .find(|e| e["url"] == url)
        .and_then(|e| {
            e.as_object()?
                .iter()
                .find(|(k, _)| k.starts_with("value"))
                .map(|(_, v)| v)
        })
}

/// Registers a Subscription about to be written: its outbox row, and the
/// status the server gives it (`requested` to be handshaken, or `error`
/// with the reason when it cannot be served; `off` when the client turns
/// it off). The resource's `status` and `error` are set accordingly.
pub fn register(
    resource: &mut Value,
    id: &str,
    owner: Option<&str>,
    purposes: &[String],
    cfg: &Config,
) -> SubscriptionRow {
    let criteria = resource["criteria"].as_str().unwrap_or("").to_string();
    let channel = resource["channel"].clone();
    let channel = &channel;
    let endpoint = channel["endpoint"].as_str().unwrap_or("").to_string();
    let mut error = None;
    let topic = if let Some(t) = topics::topic(&criteria) {
        t.url()
    } else if criteria
        .split('?')
        .next()
        .is_some_and(|t| !t.is_empty() && !t.contains('/'))
    {
        format!("criteria:{}", criteria.split('?').next().unwrap_or(""))
    } else {
        error = Some(format!(
            "{criteria:?} is neither a topic of this server nor a search"
        ));
        String::new()
    };
    let mut filters: Vec<String> = resource["_criteria"]["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["url"] == ext::FILTER)
        .filter_map(|e| e["valueString"].as_str().map(str::to_string))
        .collect();
    if topic.starts_with("criteria:") {
        filters.push(criteria.clone());
    }
    if channel["type"] != "rest-hook" {
        error.get_or_insert_with(|| "only rest-hook channels are supported".into());
    }
    if !cfg.allows(&endpoint) {
        error.get_or_insert_with(|| format!("the endpoint {endpoint:?} is not on this server's allow-list (--subscription-endpoint-allow)"));
    }
    let content = ext_value(&channel["_payload"], ext::CONTENT)
        .and_then(Value::as_str)
        .unwrap_or(if channel["payload"].is_string() {
            "id-only"
        } else {
            "empty"
        })
        .to_string();
    if !matches!(content.as_str(), "empty" | "id-only" | "full-resource") {
        error.get_or_insert_with(|| {
            format!("payload content {content:?} is not empty, id-only or full-resource")
        });
    }
    let asked = resource["status"].as_str().unwrap_or("requested");
    let status = match (&error, asked) {
        (Some(_), _) => "error",
        (None, "off") => "off",
        _ => "requested",
    };
    resource["status"] = json!(status);
    match &error {
        Some(e) => resource["error"] = json!(e),
        None => {
            if let Some(o) = resource.as_object_mut() {
                o.remove("error");
            }
        }
    }
    let now = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let int = |url: &str| ext_value(channel, url).and_then(Value::as_i64);
    SubscriptionRow {
        id: id.to_string(),
        topic,
        filters,
        status: status.to_string(),
        owner: owner.map(str::to_string),
        purposes: purposes.to_vec(),
        endpoint,
        headers: channel["header"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        content,
        heartbeat: int(ext::HEARTBEAT).filter(|h| *h > 0),
        timeout: int(ext::TIMEOUT).unwrap_or(10).clamp(1, 60),
        max_count: int(ext::MAX_COUNT).unwrap_or(20).clamp(1, 100),
        events: 0,
        failures: 0,
        next_attempt: now,
        last_sent: None,
        error,
    }
}

/// Raises the events `changes` cause, inside their transaction: for each
/// change, the topics it fires (and the classic query subscriptions on its
/// type), then each listening subscription whose filters its focus
/// matches. Returns how many events were raised.
///
/// A deleted focus can match only subscriptions without filters: its
/// index rows are gone.
///
/// # Errors
/// A database failure (the change then fails with it: an event that could
/// not be recorded is never silently lost).
pub async fn raise(
    state: &crate::interaction::AppState,
    writer: &mut dyn crate::store::Writer,
    changes: &[crate::interaction::pipeline::Change],
) -> Result<usize, crate::interaction::Failure> {
    use crate::store::{Condition, Query, Total};
    let now = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let mut raised = 0;
    for c in changes {
        if matches!(c.resource_type.as_str(), "AuditEvent" | "Subscription") {
            continue;
        }
        let current: Option<Value> = c
            .content
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok());
        let previous: Option<Value> = c
            .previous
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok());
        let trigger = topics::Trigger {
            kind: c.kind,
            resource_type: &c.resource_type,
            current: current.as_ref(),
            previous: previous.as_ref(),
        };
        let mut keys: Vec<String> = topics::TOPICS
            .iter()
            .filter(|t| t.resources.contains(&c.resource_type.as_str()) && (t.fires)(&trigger))
            .map(topics::Topic::url)
            .collect();
        keys.push(format!("criteria:{}", c.resource_type));
        for sub in writer.subscriptions_for(&keys).await? {
            let mut matches = true;
            for f in &sub.filters {
                let (ftype, query) = f.split_once('?').unwrap_or((f.as_str(), ""));
                if ftype != c.resource_type {
                    matches = false;
                    break;
                }
                let Ok(mut conditions) = crate::interaction::conditional::Criteria::parse_query(
                    state,
                    ftype,
                    query,
                    "a subscription filter",
                )
                .map(|c| c.conditions) else {
                    matches = false;
                    break;
                };
                conditions.push(Condition::Id(vec![c.id.clone()]));
                let q = Query {
                    resource_type: Some(ftype.to_string()),
                    conditions,
                    count: 1,
                    total: Total::None,
                    ..Query::default()
                };
                if writer.matching(&q).await?.is_empty() {
                    matches = false;
                    break;
                }
            }
            if matches {
                writer
                    .add_event(
                        &sub.id,
                        &sub.topic,
                        (&c.resource_type, &c.id, c.version),
                        &now,
                    )
                    .await?;
                raised += 1;
            }
        }
    }
    Ok(raised)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_to_an_endpoint_not_allowed_is_kept_in_error() {
        let mut s = json!({"resourceType": "Subscription", "status": "active", "criteria": format!("{}caring-ended", topics::TOPIC_BASE),
            "channel": {"type": "rest-hook", "endpoint": "https://elsewhere.example/hook", "payload": "application/fhir+json"}});
        let row = register(
            &mut s,
            "s1",
            Some("616"),
            &[],
            &Config {
                allow: vec!["http://127.0.0.1:".into()],
                ..Config::default()
            },
        );
        assert_eq!(
            (row.status.as_str(), s["status"].as_str()),
            ("error", Some("error"))
        );
        assert!(s["error"].as_str().unwrap().contains("allow-list"));
        let mut s = json!({"resourceType": "Subscription", "status": "active", "criteria": format!("{}caring-ended", topics::TOPIC_BASE),
            "channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9000/hook", "payload": "application/fhir+json",
                "_payload": {"extension": [{"url": ext::CONTENT, "valueCode": "full-resource"}]}}});
        let row = register(
            &mut s,
            "s2",
            None,
            &[],
            &Config {
                allow: vec!["http://127.0.0.1:".into()],
                ..Config::default()
            },
        );
        assert_eq!(
            row.status, "requested",
            "a new subscription waits for its handshake"
        );
        assert_eq!(row.content, "full-resource");
        assert!(row.topic.ends_with("/caring-ended"));
    }
}
