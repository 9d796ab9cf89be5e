//! Emergency access (flow 7): a responder quoting the number on a carer's
//! emergency card finds the contingency plan ("Plan B") and the contacts it
//! names, whatever the consents say (vital interest), and nothing else.
//! Every such access is audited with purpose of use `ETREAT`.

use super::{forbidden, Clearance};
use crate::interaction::{ClientCaller, Failure, Interaction, Service};
use crate::search::RESULT_PARAMETERS;
use crate::store::{Condition, Query, Total};

/// The identifier system of emergency card numbers.
pub const EMERGENCY_CARD: &str = "https://fhir.carer-fhir.uk/Id/emergency-card";

fn refused() -> Failure {
    forbidden(format!(
        "an emergency responder may search CarePlan?identifier={EMERGENCY_CARD}|NUMBER (with _include=CarePlan:emergency-contact) and read that contingency plan and the contacts it names; nothing else"
    ))
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
                if !v.starts_with("CarePlan:emergency-contact") {
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

fn has_card() -> Condition {
    Condition::Token {
        param: "identifier".into(),
        system: Some(EMERGENCY_CARD.into()),
        code: None,
        not: false,
    }
}

/// The emergency rule for a responder.
pub(super) async fn clear(
    svc: &Service,
    _c: &ClientCaller,
    i: &Interaction,
) -> Result<Clearance, Failure> {
    let vital = Clearance {
        visibility: None,
        purpose: Some("ETREAT".into()),
        restrictions: None,
        emergency: true,
    };
    let allowed = match i {
        Interaction::Capabilities => true,
        Interaction::Search(s) => {
            s.resource_type.as_deref() == Some("CarePlan") && card_lookup(&s.params)
        }
        Interaction::Read(r) if r.resource_type == "CarePlan" => {
            any(svc, vec![Condition::Id(vec![r.id.clone()]), has_card()]).await?
        }
        Interaction::Read(r) => {
            any(
                svc,
                vec![
                    has_card(),
                    Condition::Reference {
                        param: "emergency-contact".into(),
                        target_type: Some(r.resource_type.clone()),
                        id: r.id.clone(),
                    },
                ],
            )
            .await?
        }
        _ => false,
    };
    if allowed {
        Ok(vital)
    } else {
        Err(refused())
    }
}

#[cfg(test)]
mod tests {
    use super::card_lookup;

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
}
