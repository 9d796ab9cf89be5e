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
//!   (`serve --subscription-endpoint-allow URL_PREFIX`, matched as a
//!   parsed URL: [`Config::allows`]) or its channel is not supported.
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
//! - **Access at delivery**: an event is delivered only when the client
//!   that made the subscription, as registered at that moment, is still of
//!   the subscription's organisation, its scopes let it read the focus's
//!   type, and that organisation may see the focus ([`focus`]); otherwise
//!   it is withheld, in every payload mode, so the id of a hidden
//!   resource never leaves. Each notification sent is audited.
//! - `$status` and `$events` let a subscriber catch up after an outage
//!   (`interaction::operation::subscription`); they answer the
//!   organisation that made the subscription alone, and `$events` filters
//!   as delivery does.

pub mod notification;
pub mod notifier;
pub mod topics;

use reqwest::Url;
use serde_json::{json, Value};

use crate::interaction::cleared::Reader;
use crate::interaction::hooks::{Write, WriteHook};
use crate::interaction::pipeline::Tx;
use crate::interaction::Failure;
use crate::store::{EventRow, SubscriptionRow};

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
    /// Allowed endpoint prefixes, each a URL ([`Config::allows`]; one that
    /// does not parse allows nothing).
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
    /// Whether an endpoint may be delivered to: it parses as a URL and
    /// lies [`under`] one of the allowed prefixes. Never a comparison of
    /// text: `http://127.0.0.1:9@evil.example/` is not under
    /// `http://127.0.0.1:9`.
    pub fn allows(&self, endpoint: &str) -> bool {
        let Ok(endpoint) = Url::parse(endpoint) else {
            return false;
        };
        self.allow
            .iter()
            .filter_map(|p| Url::parse(p).ok())
            .any(|p| under(&endpoint, &p))
    }
}

/// Whether `endpoint` lies under the allowed prefix `allow`, both parsed
/// URLs: the endpoint has no user name or password at all; scheme, host
/// (case-insensitively) and port (a scheme's default port made explicit)
/// are equal; and the prefix's path is a prefix of the endpoint's on a
/// segment boundary (`/hooks` admits `/hooks` and `/hooks/a`, not
/// `/hooksevil`; `/hooks/` admits the paths under it). The prefix's query
/// and fragment are not looked at.
pub fn under(endpoint: &Url, allow: &Url) -> bool {
    if !endpoint.username().is_empty() || endpoint.password().is_some() {
        return false;
    }
    let host = |u: &Url| u.host_str().map(str::to_ascii_lowercase);
    let port = endpoint.port_or_known_default();
    if endpoint.scheme() != allow.scheme()
        || host(endpoint).is_none()
        || host(endpoint) != host(allow)
        || port.is_none()
        || port != allow.port_or_known_default()
    {
        return false;
    }
    let (path, prefix) = (endpoint.path(), allow.path());
    match path.strip_prefix(prefix) {
        None => false,
        Some(rest) => rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/'),
    }
}

/// The subscription outbox as a write hook: a Subscription a caller
/// writes is registered ([`register`]) and a deleted one forgotten; before
/// every commit the changes raise their events ([`raise`]), in the same
/// database transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outbox;

#[async_trait::async_trait]
impl WriteHook for Outbox {
    async fn before_write(&self, tx: &mut Tx, write: &mut Write<'_>) -> Result<(), Failure> {
        if write.resource_type != "Subscription" {
            return Ok(());
        }
        let owner = tx.source().map(str::to_string);
        let client = tx.client_id().map(str::to_string);
        let purposes = tx.purposes().to_vec();
        let state = tx.state().clone();
        let row = register(
            write.resource,
            write.id,
            owner.as_deref(),
            client.as_deref(),
            &purposes,
            &state.subscriptions,
        );
        tx.put_subscription(&row).await
    }

    async fn after_delete(
        &self,
        tx: &mut Tx,
        resource_type: &str,
        id: &str,
    ) -> Result<(), Failure> {
        if resource_type == "Subscription" {
            tx.remove_subscription(id).await?;
        }
        Ok(())
    }

    async fn before_commit(&self, tx: &mut Tx) -> Result<(), Failure> {
        raise(tx).await.map(|_| ())
    }
}

/// What a subscriber may be told of an event's focus, judged now.
#[derive(Debug, Clone, PartialEq)]
pub enum Focus {
    /// Nothing at all: the event is withheld.
    Hidden,
    /// The event's version is a deletion (of a resource the subscriber may
    /// see).
    Deleted,
    /// The event's version, which the subscriber may see.
    Visible(Value),
}

/// Judges an event's focus for a subscriber, through its cleared
/// [`Reader`]: hidden when its scopes do not let it read the type in full
/// or the version the event names is hidden from it (each version judged
/// by its own owners, and consent as it is now).
///
/// # Errors
/// A database failure.
pub async fn focus(reader: &Reader, event: &EventRow) -> Result<Focus, Failure> {
    let (rtype, id, version) = (&event.focus.0, &event.focus.1, event.focus.2);
    if !reader.reads_all(rtype) {
        return Ok(Focus::Hidden);
    }
    Ok(match reader.vread(rtype, id, version).await? {
        None => Focus::Hidden,
        Some(s) => s.resource().map_or(Focus::Deleted, Focus::Visible),
    })
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
/// `owner` is the writer's organisation and `client_id` its registered
/// client (both None while access control is off).
pub fn register(
    resource: &mut Value,
    id: &str,
    owner: Option<&str>,
    client_id: Option<&str>,
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
        client_id: client_id.map(str::to_string),
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
pub async fn raise(tx: &mut Tx) -> Result<usize, Failure> {
    use crate::store::{Condition, Query, Total};
    let state = tx.state().clone();
    let changes = tx.changes().to_vec();
    let now = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let mut raised = 0;
    for c in &changes {
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
        for sub in tx.subscriptions_for(&keys).await? {
            // Judged for the subscriber, as it would be at delivery: an
            // event about what it may not see is not raised at all, so no
            // count or gap in its numbers tells of it.
            let vis = sub
                .owner
                .as_deref()
                .map(|org| crate::interaction::access::visibility(org, &sub.purposes, false));
            if !sees_focus(tx, &state, c, vis.as_ref()).await? {
                continue;
            }
            let mut matches = true;
            for f in &sub.filters {
                let (ftype, query) = f.split_once('?').unwrap_or((f.as_str(), ""));
                if ftype != c.resource_type {
                    matches = false;
                    break;
                }
                let Ok(mut conditions) = crate::interaction::conditional::Criteria::parse_query(
                    &state,
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
                    visibility: vis.clone(),
                    ..Query::default()
                };
                if tx.matching(&q).await?.is_empty() {
                    matches = false;
                    break;
                }
            }
            if matches {
                tx.add_event(
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

/// Whether a subscriber who sees what `vis` lets it see (None: all) may
/// see the change's focus: the version written (inside the transaction),
/// or for a deletion the version deleted.
async fn sees_focus(
    tx: &mut Tx,
    state: &std::sync::Arc<crate::interaction::AppState>,
    c: &crate::interaction::pipeline::Change,
    vis: Option<&crate::store::Visibility>,
) -> Result<bool, Failure> {
    use crate::store::{Condition, Query, Total};
    let Some(vis) = vis else {
        return Ok(true);
    };
    if c.content.is_none() {
        let reader = Reader::new(state, Some(vis.clone()), None);
        return Ok(reader
            .vread(&c.resource_type, &c.id, c.version - 1)
            .await?
            .is_some());
    }
    let q = Query {
        resource_type: Some(c.resource_type.clone()),
        conditions: vec![Condition::Id(vec![c.id.clone()])],
        count: 1,
        total: Total::None,
        visibility: Some(vis.clone()),
        ..Query::default()
    };
    Ok(!tx.matching(&q).await?.is_empty())
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
            Some("council"),
            &[],
            &Config {
                allow: vec!["http://127.0.0.1:9000/".into()],
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
            None,
            &[],
            &Config {
                allow: vec!["http://127.0.0.1:9000/".into()],
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

    fn allowed(allow: &str, endpoint: &str) -> bool {
        Config {
            allow: vec![allow.into()],
            ..Config::default()
        }
        .allows(endpoint)
    }

    #[test]
    fn the_allow_list_is_matched_as_a_parsed_url() {
        let base = "http://127.0.0.1:9";
        assert!(allowed(base, "http://127.0.0.1:9/"));
        assert!(allowed(base, "http://127.0.0.1:9/hook?x=1"));
        // A user name and password: the host is evil.example.
        assert!(!allowed(base, "http://127.0.0.1:9@evil.example/"));
        assert!(!allowed(base, "http://127.0.0.1:9@127.0.0.1:9/"));
        assert!(!allowed(base, "http://user:secret@127.0.0.1:9/hook"));
        // Another port, another host, another scheme.
        assert!(!allowed(base, "http://127.0.0.1:90/hook"));
        assert!(!allowed(base, "http://127.0.0.1:9.evil.example/"));
        assert!(!allowed(base, "http://127.0.0.10:9/"));
        assert!(!allowed(base, "https://127.0.0.1:9/"));
        assert!(!allowed(base, "not a url"));
        assert!(!allowed("not a url", "http://127.0.0.1:9/"));
        // Hosts compare case-insensitively, default ports explicitly.
        assert!(allowed(
            "https://hooks.example.org:443/",
            "https://Hooks.EXAMPLE.org/a"
        ));
        assert!(allowed(
            "http://hooks.example.org",
            "http://hooks.example.org:80/a"
        ));
        assert!(!allowed(
            "https://hooks.example.org/",
            "https://hooks.example.org:8443/a"
        ));
        assert!(!allowed(
            "https://hooks.example.org/",
            "http://hooks.example.org/a"
        ));
    }

    #[test]
    fn an_allowed_path_is_a_prefix_on_a_segment_boundary() {
        let hooks = "https://hooks.example.org/hooks";
        assert!(allowed(hooks, "https://hooks.example.org/hooks"));
        assert!(allowed(hooks, "https://hooks.example.org/hooks/x"));
        assert!(allowed(hooks, "https://hooks.example.org/hooks?x=1"));
        assert!(!allowed(hooks, "https://hooks.example.org/hooksevil"));
        assert!(!allowed(hooks, "https://hooks.example.org/hooks%2Fevil"));
        assert!(!allowed(hooks, "https://hooks.example.org/hooks/../admin"));
        assert!(!allowed(hooks, "https://hooks.example.org/"));
        let under = "https://hooks.example.org/hooks/";
        assert!(allowed(under, "https://hooks.example.org/hooks/x"));
        assert!(allowed(under, "https://hooks.example.org/hooks/"));
        assert!(!allowed(under, "https://hooks.example.org/hooks"));
        assert!(!allowed(under, "https://hooks.example.org/hooksevil/x"));
    }
}
