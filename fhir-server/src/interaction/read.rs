//! read — [FHIR R4 http §3.1.0.2](https://hl7.org/fhir/R4/http.html#read):
//! `GET [base]/[type]/[id]` answers the current version with its `ETag`
//! and `Last-Modified`; 404 when unknown, 410 when deleted. `_summary` and
//! `_elements` cut it down ([search §3.1.1.5.8](https://hl7.org/fhir/R4/search.html#summary));
//! `If-None-Match` with the current version answers 304
//! ([§3.1.0.5.3](https://hl7.org/fhir/R4/http.html#cread)).

use http::StatusCode;

use super::access::Clearance;
use super::bundle::Shaping;
use super::{Answer, Caller, Content, Failure, Request, Service, Target};
use crate::store::{Condition, Query, Total};

/// The condition a scope's restrictions make: any of them, each all of its
/// criteria.
///
/// # Errors
/// 400 when a restriction names a parameter the type does not have.
pub fn restriction(
    svc: &Service,
    resource_type: &str,
    restrictions: &[Vec<(String, String)>],
) -> Result<Condition, Failure> {
    let alts = restrictions
        .iter()
        .map(|r| {
            Ok(Condition::All(
                svc.state.search.params.criteria(resource_type, r)?,
            ))
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    Ok(Condition::Any(alts))
}

/// A read, parsed.
#[derive(Debug, Clone)]
pub struct Read {
    /// The resource type.
    pub resource_type: String,
    /// The id.
    pub id: String,
    /// `_summary`/`_elements`.
    pub shaping: Shaping,
    /// The version `If-None-Match` names.
    pub if_none_match: Option<String>,
    /// `If-Modified-Since`, when it is a valid HTTP date (RFC 9110
    /// §13.1.3: ignored otherwise, and when `If-None-Match` is given).
    pub if_modified_since: Option<chrono::DateTime<chrono::Utc>>,
    /// The emergency card number the read quotes (`?card=NUMBER`): what
    /// lets an emergency responder read a contingency plan and the
    /// contacts it names (`access::emergency`); ignored for anyone else.
    pub card: Option<String>,
}

impl Read {
    /// Parses `GET [base]/[type]/[id]`.
    ///
    /// # Errors
    /// 400 for a malformed `_summary`.
    pub fn parse(target: &Target, req: &Request) -> Result<Read, Failure> {
        Ok(Read {
            resource_type: target.resource_type().to_string(),
            id: target.id().to_string(),
            shaping: Shaping::from_query(&req.query)?,
            if_none_match: req.headers.if_none_match.as_deref().map(|v| {
                v.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .to_string()
            }),
            if_modified_since: req
                .headers
                .if_modified_since
                .as_deref()
                .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
                .map(|d| d.with_timezone(&chrono::Utc)),
            card: req
                .query
                .iter()
                .find(|(k, _)| k == super::access::emergency::CARD_PARAMETER)
                .map(|(_, v)| v.clone()),
        })
    }

    /// Reads.
    ///
    /// # Errors
    /// 404 unknown, 410 deleted.
    pub async fn apply(
        self,
        svc: &Service,
        _caller: &Caller,
        clearance: &Clearance,
    ) -> Result<Answer, Failure> {
        let vis = clearance.visibility.as_ref();
        let s = svc
            .state
            .store
            .read(&self.resource_type, &self.id, vis)
            .await?;
        if let Some(r) = &clearance.restrictions {
            // A scope restricted by `?param=value`: the resource must match.
            let q = Query {
                resource_type: Some(self.resource_type.clone()),
                conditions: vec![
                    Condition::Id(vec![self.id.clone()]),
                    restriction(svc, &self.resource_type, r)?,
                ],
                count: 1,
                total: Total::None,
                visibility: clearance.visibility.clone(),
                ..Query::default()
            };
            if svc.state.store.search(&q).await?.items.is_empty() {
                return Err(Failure::not_found(format!(
                    "{}/{} is not known",
                    self.resource_type, self.id
                )));
            }
        }
        let mut answer = Answer::stored(&s);
        let unchanged = match (&self.if_none_match, self.if_modified_since) {
            (Some(v), _) => *v == s.version.to_string(),
            // HTTP dates are to the second: changed within the second
            // named is not "modified since".
            (None, Some(since)) => chrono::DateTime::parse_from_rfc3339(&s.last_updated)
                .is_ok_and(|t| t.timestamp() <= since.timestamp()),
            (None, None) => false,
        };
        if unchanged {
            answer.status = StatusCode::NOT_MODIFIED;
            answer.body = Content::Empty;
            return Ok(answer);
        }
        if !self.shaping.is_whole() {
            if let Some(r) = s.resource() {
                answer.body = Content::Resource(self.shaping.apply(&svc.state, r));
            }
        }
        Ok(answer)
    }
}
