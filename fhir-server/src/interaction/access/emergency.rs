//! Emergency access (flow 7): a responder quoting the number on a carer's
//! emergency card finds the contingency plan ("Plan B") and the contacts it
//! names, whatever the consents say (vital interest), and nothing else.
//! Every such access is audited with purpose of use `ETREAT`.
//!
//! The card number is the only way in, and it opens only the plan that
//! carries it and what that plan names, within the request that quotes it:
//! - `GET CarePlan?identifier={EMERGENCY_CARD}|NUMBER`, optionally with
//!   `_include=CarePlan:emergency-contact` (the contacts come with the
//!   plan), `_count`, `_format`, `_pretty`: the lookup;
//! - `GET CarePlan/{id}?card=NUMBER`: that plan, when it carries the card;
//! - `GET {Type}/{id}?card=NUMBER`: a contact (RelatedPerson, Patient,
//!   Practitioner, …) that a plan carrying the card names as an emergency
//!   contact.
//!
//! `card` is the number alone, or `{EMERGENCY_CARD}|NUMBER`. A read by id
//! that quotes no card, or a card that does not open that resource, is
//! answered exactly as a read of an id that does not exist (404, the same
//! OperationOutcome), so a responder learns nothing of what else is
//! stored; likewise a vread, and an instance history without `_since`.
//! Everything else (other searches, histories, operations, writes) is
//! refused with 403, whatever it names.

use super::{forbidden, perms, Clearance};
use crate::auth::scopes::{Allowed, Perms};
use crate::interaction::read::Read;
use crate::interaction::{ClientCaller, Failure, Interaction, Service};
use crate::search::RESULT_PARAMETERS;
use crate::store::{Condition, Query, StoreError, Total};

/// The identifier system of emergency card numbers.
pub const EMERGENCY_CARD: &str = "https://fhir.carer-fhir.uk/Id/emergency-card";

/// The query parameter by which a read quotes an emergency card number.
pub const CARD_PARAMETER: &str = "card";

/// The search parameter of a plan's emergency contacts.
const CONTACT: &str = "emergency-contact";

fn refused() -> Failure {
    forbidden(format!(
        "an emergency responder may search CarePlan?identifier={EMERGENCY_CARD}|NUMBER (with _include=CarePlan:emergency-contact) and read that contingency plan and the contacts it names quoting the card (?card=NUMBER); nothing else"
    ))
}

/// The answer for an id that does not exist, given whether or not it does:
/// the store's own not-found for `Type/id` (or `Type/id/_history/n`).
fn as_missing(name: String) -> Failure {
    Failure::from(StoreError::NotFound(name))
}

/// The card number a read quotes (`?card=NUMBER` or
/// `?card={EMERGENCY_CARD}|NUMBER`); None when it quotes none, or a
/// number that cannot be one.
fn quoted_card(card: Option<&str>) -> Option<&str> {
    let v = card?.trim();
    let number = v
        .strip_prefix(EMERGENCY_CARD)
        .and_then(|rest| rest.strip_prefix('|'))
        .unwrap_or(v);
    (!number.is_empty() && !number.contains(['|', ','])).then_some(number)
}

/// Whether an include is of a plan's emergency contacts
/// (`CarePlan:emergency-contact`, optionally with a target type).
fn includes_contacts(v: &str) -> bool {
    match v.strip_prefix("CarePlan:emergency-contact") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix(':')
            .is_some_and(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric())),
        None => false,
    }
}

/// Whether a search is a card-number lookup: exactly one criterion, the
/// card's identifier with one number; includes of the plan's contacts only.
fn card_lookup(params: &[(String, String)]) -> bool {
    let mut found = false;
    for (k, v) in params {
        match k.as_str() {
            "identifier" => {
                let Some(number) = v.strip_prefix(&format!("{EMERGENCY_CARD}|")) else {
                    return false;
                };
                if number.is_empty() || number.contains(',') || found {
                    return false;
                }
                found = true;
            }
            "_include" => {
                if !includes_contacts(v) {
                    return false;
                }
            }
            "_format" | "_pretty" | "_count" => {}
            k if RESULT_PARAMETERS.contains(&k) => return false,
            _ => return false,
        }
    }
    found
}

async fn any(svc: &Service, conditions: Vec<Condition>) -> Result<bool, Failure> {
    let q = Query {
        resource_type: Some("CarePlan".into()),
        conditions,
        count: 1,
        total: Total::None,
        ..Query::default()
    };
    Ok(!svc.state.store.search(&q).await?.items.is_empty())
}

/// The plans carrying card `number`.
fn has_card(number: &str) -> Condition {
    Condition::Token {
        param: "identifier".into(),
        system: Some(EMERGENCY_CARD.into()),
        code: Some(number.into()),
        not: false,
    }
}

/// Whether the card a read quotes opens the resource it reads: the plan
/// carrying the card, or a contact such a plan names.
async fn card_opens(svc: &Service, r: &Read) -> Result<bool, Failure> {
    let Some(number) = quoted_card(r.card.as_deref()) else {
        return Ok(false);
    };
    let opens = if r.resource_type == "CarePlan" {
        // The plan itself (a plan is nobody's emergency contact).
        Condition::Id(vec![r.id.clone()])
    } else {
        Condition::Reference {
            param: CONTACT.into(),
            target_type: Some(r.resource_type.clone()),
            id: r.id.clone(),
        }
    };
    any(svc, vec![has_card(number), opens]).await
}

/// The restrictions of the responder's scopes on `need` of
/// `resource_type`, for the interaction to apply (vital interest sets
/// consent aside, never the token's scopes).
fn restrictions_of(
    c: &ClientCaller,
    resource_type: &str,
    need: Perms,
) -> Option<Vec<Vec<(String, String)>>> {
    match c.scopes.allows(resource_type, need) {
        Allowed::Restricted(r) => Some(r),
        Allowed::Yes | Allowed::No => None,
    }
}

/// The emergency rule for a responder (after its scopes were checked).
pub(super) async fn clear(
    svc: &Service,
    c: &ClientCaller,
    i: &Interaction,
) -> Result<Clearance, Failure> {
    let vital = |restrictions: Option<Vec<Vec<(String, String)>>>| Clearance {
        visibility: None,
        purpose: Some("ETREAT".into()),
        restrictions,
        emergency: true,
    };
    match i {
        Interaction::Capabilities => Ok(vital(None)),
        Interaction::Search(s)
            if s.resource_type.as_deref() == Some("CarePlan") && card_lookup(&s.params) =>
        {
            Ok(vital(restrictions_of(c, "CarePlan", perms("s"))))
        }
        Interaction::Read(r) => {
            if card_opens(svc, r).await? {
                Ok(vital(restrictions_of(c, &r.resource_type, perms("r"))))
            } else {
                Err(as_missing(format!("{}/{}", r.resource_type, r.id)))
            }
        }
        Interaction::VRead(v) => Err(as_missing(format!(
            "{}/{}/_history/{}",
            v.resource_type, v.id, v.version
        ))),
        Interaction::History(h) => match (&h.resource_type, &h.id, &h.since) {
            (Some(t), Some(id), None) => Err(as_missing(format!("{t}/{id}"))),
            _ => Err(refused()),
        },
        _ => Err(refused()),
    }
}

#[cfg(test)]
mod tests {
    use super::{card_lookup, includes_contacts, quoted_card};

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_a_card_number_lookup_is_an_emergency_search() {
        let card = "https://fhir.carer-fhir.uk/Id/emergency-card|EC-1";
        assert!(card_lookup(&p(&[("identifier", card)])));
        assert!(card_lookup(&p(&[
            ("identifier", card),
            ("_include", "CarePlan:emergency-contact")
        ])));
        assert!(!card_lookup(&p(&[])));
        assert!(!card_lookup(&p(&[(
            "identifier",
            "https://fhir.carer-fhir.uk/Id/emergency-card|"
        )])));
        assert!(!card_lookup(&p(&[(
            "identifier",
            "https://fhir.carer-fhir.uk/Id/emergency-card|EC-1,EC-2"
        )])));
        assert!(!card_lookup(&p(&[
            ("identifier", card),
            ("subject", "Patient/x")
        ])));
        assert!(!card_lookup(&p(&[
            ("identifier", card),
            ("_revinclude", "Provenance:target")
        ])));
    }

    #[test]
    fn an_emergency_search_includes_the_plans_contacts_only() {
        let card = "https://fhir.carer-fhir.uk/Id/emergency-card|EC-1";
        assert!(card_lookup(&p(&[
            ("identifier", card),
            ("_include", "CarePlan:emergency-contact:RelatedPerson")
        ])));
        for include in [
            "CarePlan:emergency-contactx",
            "CarePlan:emergency-contact:",
            "CarePlan:subject",
            "CarePlan:*",
        ] {
            assert!(!includes_contacts(include), "{include}");
            assert!(
                !card_lookup(&p(&[("identifier", card), ("_include", include)])),
                "{include}"
            );
        }
    }

    #[test]
    fn a_read_quotes_a_card_by_number_or_by_token() {
        assert_eq!(quoted_card(Some("EC-1")), Some("EC-1"));
        assert_eq!(
            quoted_card(Some("https://fhir.carer-fhir.uk/Id/emergency-card|EC-1")),
            Some("EC-1")
        );
        assert_eq!(quoted_card(None), None);
        assert_eq!(quoted_card(Some("")), None);
        assert_eq!(
            quoted_card(Some("https://fhir.carer-fhir.uk/Id/emergency-card|")),
            None
        );
        assert_eq!(quoted_card(Some("EC-1,EC-2")), None);
        assert_eq!(quoted_card(Some("http://other.example/cards|EC-1")), None);
    }
}
