//! The delivery worker: one per server process. It wakes when a commit
//! raises events (and every half second), takes the lease of each
//! subscription with work due, and delivers: the handshake of a new
//! subscription, its waiting events in order (as many as its `max-count`
//! in one notification), or a heartbeat. A failed delivery is retried with
//! backoff (by default 2 s, 4 s, 8 s, … at most 5 min); after 3 failures in a row the
//! subscription is `error`, after 10 `off`. Success makes it `active`
//! again. The Subscription resource's status follows.
//!
//! Each event is judged at the moment of delivery, for the client that
//! made the subscription as it is registered then: it is withheld (never
//! sent, in any payload mode) when that client is removed, now of another
//! organisation or an emergency responder, when its scopes do not let it
//! read the focus's type, or when its organisation may not see the focus
//! ([`super::focus`]). An endpoint no longer on the allow-list is not sent
//! to at all. Each event notification sent is audited
//! ([`notification::audit`]). Channel headers are sent, never logged.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{notification, Focus};
use crate::auth::clients::{Client, Role};
use crate::interaction::access::Clearance;
use crate::interaction::pipeline::{Prepared, Tx};
use crate::interaction::{Access, AppState, Caller};
use crate::store::{EventRow, SubscriptionRow};

/// Failures in a row after which a subscription is `error`.
pub const ERROR_AFTER: i64 = 3;
/// Failures in a row after which a subscription is `off`.
pub const OFF_AFTER: i64 = 10;
/// How much longer than its delivery timeout a subscription's lease lasts.
/// A process that dies with a lease delays that subscription by at most
/// this and the timeout: then another process (or the same, restarted)
/// takes it over.
const LEASE_MARGIN: Duration = Duration::from_secs(15);

fn instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Starts the worker for `state`; it runs as long as the process.
pub fn start(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    let me = uuid::Uuid::new_v4().to_string();
    tokio::spawn(async move {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        loop {
            tokio::select! {
                _ = state.notify.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            if let Err(e) = round(&state, &http, &me).await {
                tracing::warn!(error = %e, "subscription delivery round failed");
            }
        }
    })
}

/// One round: every subscription with work due.
async fn round(state: &Arc<AppState>, http: &reqwest::Client, me: &str) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let due = state.store.due_subscriptions(&instant(now)).await?;
    for sub in due {
        // A heartbeat-only subscription is due only when its period is up.
        if sub.status == "active" && sub.heartbeat.is_some() {
            let waiting = state.store.events(&sub.id, 0, None, true, 1).await?;
            if waiting.is_empty() && !heartbeat_due(&sub, now) {
                continue;
            }
        }
        let lease = Duration::from_secs(sub.timeout.max(1) as u64) + LEASE_MARGIN;
        let until = instant(now + chrono::Duration::from_std(lease)?);
        if !state
            .store
            .lease(&sub.id, me, &instant(now), &until)
            .await?
        {
            continue;
        }
        if let Err(e) = deliver(state, http, sub.clone()).await {
            tracing::warn!(subscription = %sub.id, error = %e, "delivery failed");
        }
    }
    Ok(())
}

fn heartbeat_due(sub: &SubscriptionRow, now: chrono::DateTime<chrono::Utc>) -> bool {
    let Some(period) = sub.heartbeat else {
        return false;
    };
    match sub
        .last_sent
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    {
        Some(last) => {
            now.signed_duration_since(last.with_timezone(&chrono::Utc))
                .num_seconds()
                >= period
        }
        None => true,
    }
}

/// POSTs a notification; Ok when the endpoint answered 2xx.
async fn post(http: &reqwest::Client, sub: &SubscriptionRow, bundle: &Value) -> Result<(), String> {
    let mut req = http
        .post(&sub.endpoint)
        .timeout(Duration::from_secs(sub.timeout.max(1) as u64))
        .header("content-type", "application/fhir+json");
    for h in &sub.headers {
        if let Some((k, v)) = h.split_once(':') {
            req = req.header(k.trim(), v.trim());
        }
    }
    match req.body(bundle.to_string()).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("the endpoint answered {}", r.status().as_u16())),
        Err(e) => Err(if e.is_timeout() {
            "the endpoint did not answer in time".into()
        } else {
            "the endpoint could not be reached".into()
        }),
    }
}

/// The outcome of a delivery attempt on the row: success resets it,
/// failure counts and backs off.
fn settle(sub: &mut SubscriptionRow, result: &Result<(), String>, backoff: Duration) {
    let now = chrono::Utc::now();
    match result {
        Ok(()) => {
            sub.failures = 0;
            sub.status = "active".into();
            sub.error = None;
            sub.last_sent = Some(instant(now));
            sub.next_attempt = instant(now);
        }
        Err(why) => {
            sub.failures += 1;
            let factor = 1u32 << sub.failures.clamp(0, 12);
            let wait = (backoff * factor).min(Duration::from_secs(300));
            sub.next_attempt = instant(now + chrono::Duration::from_std(wait).unwrap_or_default());
            sub.error = Some(why.clone());
            if sub.failures >= OFF_AFTER {
                sub.status = "off".into();
            } else if sub.failures >= ERROR_AFTER || sub.status == "requested" {
                sub.status = "error".into();
            }
        }
    }
}

/// Whom a subscription's events are for, judged at delivery.
struct Reader {
    /// Its reads: what it may see, within its scopes now.
    cleared: crate::interaction::cleared::Reader,
    /// The client that made the subscription, as registered now (None
    /// while access control is off).
    client: Option<Client>,
}

/// Whether `client`, as registered now, is still the subscriber of `sub`:
/// of the organisation that made it, and not an emergency responder
/// (who reaches contingency plans by card number alone).
fn still_subscriber(sub: &SubscriptionRow, client: &Client) -> bool {
    sub.owner.as_deref() == Some(client.organisation.as_str())
        && client.role != Role::EmergencyResponder
}

/// Whom `sub`'s events are for now; None when nobody may be sent them:
/// access control is on and the client that made it is not recorded, is
/// removed, or is no longer its subscriber ([`still_subscriber`]). With
/// access control off, what the recorded organisation (if any) may see.
async fn reader_of(state: &Arc<AppState>, sub: &SubscriptionRow) -> anyhow::Result<Option<Reader>> {
    let Access::Enforced(authority) = &state.access else {
        let visibility = sub
            .owner
            .as_ref()
            .map(|org| crate::interaction::access::visibility(org, &sub.purposes, false));
        return Ok(Some(Reader {
            cleared: crate::interaction::cleared::Reader::new(state, visibility, None),
            client: None,
        }));
    };
    let Some(id) = sub.client_id.as_deref() else {
        return Ok(None);
    };
    let Some(client) = authority.client(id).await? else {
        return Ok(None);
    };
    if !still_subscriber(sub, &client) {
        return Ok(None);
    }
    let visibility = crate::interaction::access::visibility(
        &client.organisation,
        &client.purposes,
        client.role == Role::Admin,
    );
    Ok(Some(Reader {
        cleared: crate::interaction::cleared::Reader::new(
            state,
            Some(visibility),
            Some(client.scopes.clone()),
        ),
        client: Some(client),
    }))
}

async fn deliver(
    state: &Arc<AppState>,
    http: &reqwest::Client,
    mut sub: SubscriptionRow,
) -> anyhow::Result<()> {
    let before = sub.status.clone();
    let base = &state.base;
    // The allow-list is the server's, and may have changed since the
    // subscription was registered (or it was registered in error): an
    // endpoint not on it now is never sent anything.
    if !state.subscriptions.allows(&sub.endpoint) {
        let refused = Err(
            "the endpoint is not on this server's allow-list (--subscription-endpoint-allow)"
                .to_string(),
        );
        settle(&mut sub, &refused, state.subscriptions.backoff);
        state.store.finish_delivery(&sub, &[], &[]).await?;
        return follow(state, &sub, &before).await;
    }
    if sub.status == "requested" {
        let result = post(
            http,
            &sub,
            &notification::bundle(base, &sub, "handshake", &[]),
        )
        .await;
        settle(&mut sub, &result, state.subscriptions.backoff);
        state.store.finish_delivery(&sub, &[], &[]).await?;
        return follow(state, &sub, &before).await;
    }
    let waiting = state
        .store
        .events(&sub.id, 0, None, true, sub.max_count)
        .await?;
    if waiting.is_empty() {
        if heartbeat_due(&sub, chrono::Utc::now()) {
            let result = post(
                http,
                &sub,
                &notification::bundle(base, &sub, "heartbeat", &[]),
            )
            .await;
            settle(&mut sub, &result, state.subscriptions.backoff);
        }
        state.store.finish_delivery(&sub, &[], &[]).await?;
        return follow(state, &sub, &before).await;
    }
    // Access at this moment: the subscriber's registration, scopes and
    // consent now.
    let reader = reader_of(state, &sub).await?;
    let mut kept: Vec<(EventRow, Option<Value>)> = Vec::new();
    let mut withheld = Vec::new();
    let mut patients: Vec<String> = Vec::new();
    for e in waiting {
        let focus = match &reader {
            Some(r) => super::focus(&r.cleared, &e)
                .await
                .map_err(|f| anyhow::anyhow!("{}", f.message()))?,
            None => Focus::Hidden,
        };
        match focus {
            Focus::Hidden => withheld.push(e.number),
            Focus::Deleted => kept.push((e, None)),
            Focus::Visible(resource) => {
                let index = state.search.index(&resource);
                for p in state
                    .compartments
                    .patients_of(&e.focus.0, &e.focus.1, &index)
                {
                    if !patients.contains(&p) {
                        patients.push(p);
                    }
                }
                kept.push((e, Some(resource)));
            }
        }
    }
    if kept.is_empty() {
        state.store.finish_delivery(&sub, &[], &withheld).await?;
        return Ok(());
    }
    let result = post(
        http,
        &sub,
        &notification::bundle(base, &sub, "event-notification", &kept),
    )
    .await;
    // Audited before the events count as delivered: when the AuditEvent
    // cannot be stored they stay waiting, and are sent (and audited) again.
    if let Some(client) = reader.as_ref().and_then(|r| r.client.as_ref()) {
        state
            .auditor()
            .record(notification::audit(&sub, client, &kept, &patients, &result))
            .await
            .map_err(|f| anyhow::anyhow!("{}", f.message()))?;
    }
    settle(&mut sub, &result, state.subscriptions.backoff);
    let delivered: Vec<i64> = if result.is_ok() {
        kept.iter().map(|(e, _)| e.number).collect()
    } else {
        Vec::new()
    };
    state
        .store
        .finish_delivery(&sub, &delivered, &withheld)
        .await?;
    follow(state, &sub, &before).await
}

/// The Subscription resource's `status` (and `error`) follow the outbox's.
async fn follow(state: &Arc<AppState>, sub: &SubscriptionRow, before: &str) -> anyhow::Result<()> {
    if sub.status == before {
        return Ok(());
    }
    let Some(current) = crate::interaction::cleared::Reader::server(state)
        .read("Subscription", &sub.id)
        .await
        .map_err(|f| anyhow::anyhow!("{}", f.message()))?
    else {
        return Ok(());
    };
    let Some(mut resource) = current.resource() else {
        return Ok(());
    };
    resource["status"] = json!(sub.status);
    match &sub.error {
        Some(e) if sub.status != "active" => resource["error"] = json!(e),
        _ => {
            if let Some(o) = resource.as_object_mut() {
                o.remove("error");
            }
        }
    }
    let index = state.search.index(&resource);
    let mut tx = Tx::begin(state, &Caller::Open, &Clearance::open())
        .await
        .map_err(|f| anyhow::anyhow!("{}", f.message()))?;
    tx.server_update(
        &sub.id,
        Prepared {
            resource_type: "Subscription".into(),
            resource,
            index,
        },
    )
    .await
    .map_err(|f| anyhow::anyhow!("{}", f.message()))?;
    tx.commit()
        .await
        .map_err(|f| anyhow::anyhow!("{}", f.message()))?;
    tracing::info!(subscription = %sub.id, status = %sub.status, "subscription status changed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::scopes::Scopes;

    fn client(organisation: &str, role: Role, scopes: &str) -> Client {
        Client {
            id: "c".into(),
            name: "c".into(),
            organisation: organisation.into(),
            role,
            scopes: Scopes::parse(scopes),
            purposes: vec!["CAREMGT".into()],
            jwks: json!({"keys": []}),
        }
    }

    #[test]
    fn a_subscription_follows_its_client_as_registered_now() {
        let sub = SubscriptionRow {
            owner: Some("616".into()),
            client_id: Some("c".into()),
            ..SubscriptionRow::default()
        };
        assert!(still_subscriber(
            &sub,
            &client("616", Role::LocalAuthority, "system/*.rs")
        ));
        assert!(
            !still_subscriber(&sub, &client("A81001", Role::LocalAuthority, "system/*.rs")),
            "moved to another organisation"
        );
        assert!(
            !still_subscriber(
                &sub,
                &client("616", Role::EmergencyResponder, "system/*.rs")
            ),
            "now an emergency responder"
        );
        let ownerless = SubscriptionRow::default();
        assert!(!still_subscriber(
            &ownerless,
            &client("616", Role::LocalAuthority, "system/*.rs")
        ));
    }
}
