//! `$status` and `$events` of a Subscription
//! ([backport operations](https://hl7.org/fhir/uv/subscriptions-backport/operations.html)):
//! how a subscription stands (`GET Subscription/{id}/$status`), and the
//! events it has raised, to catch up after an outage
//! (`GET Subscription/{id}/$events?eventsSinceNumber=&eventsUntilNumber=&content=`).
//! Both answer the organisation that made the Subscription alone (anyone
//! else gets the answer for a Subscription that does not exist), and
//! `$events` lists only the events delivery would send the caller now:
//! those whose focus type its scopes let it read and whose focus it may
//! see (as [`crate::subscription::focus`] judges).

use serde_json::json;

use super::{Context, Handler, Invocation, Operation, Reply};
use crate::interaction::{Answer, Failure, Level, Service};
use crate::store::{StoreError, SubscriptionRow};
use crate::subscription::{notification, Focus};

/// The `$status` row of the operations table.
pub const STATUS: Operation = Operation {
    name: "status",
    definition: "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status",
    levels: &[Level::Instance],
    resource_types: &["Subscription"],
    affects_state: false,
    also_writes: &[],
    handler: status as Handler,
};

/// The `$events` row of the operations table.
pub const EVENTS: Operation = Operation {
    name: "events",
    definition: "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events",
    levels: &[Level::Instance],
    resource_types: &["Subscription"],
    affects_state: false,
    also_writes: &[],
    handler: events as Handler,
};

/// The Subscription's outbox state, for the organisation that made it
/// (and, with access control off, anyone). Anyone else is answered
/// exactly as for an id with no Subscription: the 404 a read gives.
async fn row_of(
    svc: &Service,
    ctx: &Context<'_>,
    inv: &Invocation,
) -> Result<SubscriptionRow, Failure> {
    let id = inv.id.clone().unwrap_or_default();
    let row = svc.state.store.subscription(&id).await?;
    if let Some(c) = ctx.caller.client() {
        if row.as_ref().and_then(|r| r.owner.as_deref()) != Some(c.organisation.as_str()) {
            return Err(StoreError::NotFound(format!("Subscription/{id}")).into());
        }
    }
    svc.state
        .store
        .read("Subscription", &id, ctx.clearance.visibility.as_ref())
        .await?;
    row.ok_or_else(|| Failure::not_found(format!("Subscription/{id} has no delivery state")))
}

fn status<'a>(svc: &'a Service, ctx: &'a Context<'a>, inv: Invocation) -> Reply<'a> {
    Box::pin(async move {
        let row = row_of(svc, ctx, &inv).await?;
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

fn events<'a>(svc: &'a Service, ctx: &'a Context<'a>, inv: Invocation) -> Reply<'a> {
    Box::pin(async move {
        let mut row = row_of(svc, ctx, &inv).await?;
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
            // Only what delivery would send the caller now: a type its
            // scopes let it read, a focus it may see.
            match crate::subscription::focus(&ctx.reader, &e).await? {
                Focus::Hidden => {}
                Focus::Deleted => kept.push((e, None)),
                Focus::Visible(resource) => kept.push((e, Some(resource))),
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
