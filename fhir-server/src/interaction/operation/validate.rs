//! `$validate` — [Resource-validate](https://hl7.org/fhir/R4/resource-operation-validate.html):
//! `POST [base]/[type]/$validate` with the resource (or a Parameters with
//! `resource`, `profile`, `mode`), and `[base]/[type]/[id]/$validate`,
//! which without a body validates the stored resource. The answer is an
//! OperationOutcome (200 even when it reports errors: the operation
//! succeeded). Profiles the server does not hold are 400.

use super::{Handler, Invocation, Operation, Reply};
use crate::interaction::access::Clearance;
use crate::interaction::{blocking, Answer, Failure, Level, Service};

/// The `$validate` row of the operations table.
pub const OPERATION: Operation = Operation {
    name: "validate",
    definition: "http://hl7.org/fhir/OperationDefinition/Resource-validate",
    levels: &[Level::Type, Level::Instance],
    resource_types: &[],
    affects_state: false,
    also_writes: &[],
    handler: run as Handler,
};

fn run<'a>(svc: &'a Service, ctx: &'a super::Context<'a>, inv: Invocation) -> Reply<'a> {
    Box::pin(validate(svc, ctx.clearance, inv))
}

async fn validate(
    svc: &Service,
    clearance: &Clearance,
    inv: Invocation,
) -> Result<Answer, Failure> {
    let rtype = inv.resource_type.clone().unwrap_or_default();
    let profiles = inv.values("profile");
    let resource = match (&inv.body, inv.resource_parameter("resource")) {
        (_, Some(r)) => r,
        (Some(b), None) if inv.parameters().is_none() => b.clone(),
        (Some(_), None) => {
            return Err(Failure::invalid(
                "the Parameters have no 'resource' parameter",
            ))
        }
        (None, None) => match (&inv.level, &inv.id) {
            (Level::Instance, Some(id)) => svc
                .state
                .store
                .read(&rtype, id, clearance.visibility.as_ref())
                .await?
                .resource()
                .ok_or_else(|| Failure::internal("stored resource unreadable"))?,
            _ => return Err(Failure::invalid("$validate needs a resource to validate")),
        },
    };
    if resource["resourceType"].as_str() != Some(rtype.as_str()) {
        return Err(Failure::invalid(format!("the resource is not a {rtype}")));
    }
    for p in &profiles {
        if svc.state.registry.structure_definition(p).is_none() {
            return Err(Failure::invalid(format!(
                "the profile {p:?} is not known to this server"
            )));
        }
    }
    let state = svc.state.clone();
    let outcome = blocking(move || {
        let refs: Vec<&str> = profiles.iter().map(String::as_str).collect();
        Ok(state.validator.validate_against(&resource, &refs))
    })
    .await?;
    Ok(Answer::ok(outcome.to_operation_outcome()))
}
