//! `$status` and `$events` of a Subscription
//! ([backport operations](https://hl7.org/fhir/uv/subscriptions-backport/operations.html)):
//! how a subscription stands (`GET Subscription/{id}/$status`), and the
//! events it has raised, to catch up after an outage
//! (`GET Subscription/{id}/$events?eventsSinceNumber=&eventsUntilNumber=&content=`).
//! Both answer only for a Subscription the caller may read, and `$events`
//! only events whose focus the caller may see.

use serde_json::json;

use super::{Handler, Invocation, Operation, Reply};
use crate::interaction::access::Clearance;
use crate::interaction::{Answer, Failure, Level, Service};
use crate::subscription::notification;

/// The `$status` row of the operations table.
pub const STATUS: Operation = Operation {
    name: "status",
    definition: "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status",
    levels: &[Level::Instance],
    resource_types: &["Subscription"],
    affects_state: false,
    handler: status as Handler,
};

/// The `$events` row of the operations table.
pub const EVENTS: Operation = Operation {
    name: "events",
    definition: "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events",
    levels: &[Level::Instance],
    resource_types: &["Subscription"],
    affects_state: false,
    handler: events as Handler,
};

/// The Subscription's outbox state, when the caller may read it.
async fn row_of(
    svc: &Service,
    clearance: &Clearance,
    inv: &Invocation,
) -> Result<crate::store::SubscriptionRow, Failure> {
    let id = inv.id.clone().unwrap_or_default();
    svc.state
        .store
        .read("Subscription", &id, clearance.visibility.as_ref())
        .await?;
    svc.state
        .store
        .subscription(&id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("Subscription/{id} has no delivery state")))
}

fn status<'a>(svc: &'a Service, ctx: &'a super::Context<'a>, inv: Invocation) -> Reply<'a> {
    let clearance = ctx.clearance;
    Box::pin(async move {
        let row = row_of(svc, clearance, &inv).await?;
        let params = notification::status(&svc.state.base, &row, "query-status", &[], false);
        Ok(Answer::ok(
            json!({"resourceType": "Bundle", "type": "searchset", "total": 1,
            "entry": [{"fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()), "resource": params, "search": {"mode": "match"}}]}),
        ))
    })
}

fn number(inv: &Invocation, name: &str) -> Result<Option<i64>, Failure> {
    match inv.values(name).first() {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| Failure::invalid(format!("{name}: {v:?} is not a whole number"))),
    }
}

/// The most events one `$events` answers.
const MAX_EVENTS: i64 = 1000;

fn events<'a>(svc: &'a Service, ctx: &'a super::Context<'a>, inv: Invocation) -> Reply<'a> {
    let clearance = ctx.clearance;
    Box::pin(async move {
        let mut row = row_of(svc, clearance, &inv).await?;
        let since = number(&inv, "eventsSinceNumber")?.unwrap_or(1);
        let until = number(&inv, "eventsUntilNumber")?;
        if let Some(content) = inv.values("content").first() {
            if !matches!(content.as_str(), "empty" | "id-only" | "full-resource") {
                return Err(Failure::invalid(format!(
                    "content: {content:?} is not empty, id-only or full-resource"
                )));
            }
            row.content = content.clone();
        }
        let list = svc
            .state
            .store
            .events(&row.id, since, until, false, MAX_EVENTS)
            .await?;
        let mut kept = Vec::new();
        for e in list {
            // Only what the caller may see, as a read would show it.
            match svc
                .state
                .store
                .vread(
                    &e.focus.0,
                    &e.focus.1,
                    e.focus.2,
                    clearance.visibility.as_ref(),
                )
                .await
            {
                Ok(s) => kept.push((e, s.resource())),
                Err(crate::store::StoreError::Gone { .. }) => kept.push((e, None)),
                Err(crate::store::StoreError::NotFound(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Ok(Answer::ok(notification::bundle(
            &svc.state.base,
            &row,
            "query-event",
            &kept,
        )))
    })
}
