//! update — [FHIR R4 http §3.1.0.4](https://hl7.org/fhir/R4/http.html#update):
//! `PUT [base]/[type]/[id]`; the body SHALL carry an id equal to the URL's
//! (400 otherwise); a new id is created (update as create). Conditional
//! update ([§3.1.0.4.3](https://hl7.org/fhir/R4/http.html#cond-update)):
//! `PUT [base]/[type]?[criteria]` updates the one match, creates when
//! there is none (with a server-assigned id), and is 412 for more than
//! one; the body's id does not choose the resource. `If-Match` makes
//! either conditional on the current version
//! ([§3.1.0.5.2](https://hl7.org/fhir/R4/http.html#concurrency)).

use http::StatusCode;
use serde_json::Value;

use super::conditional::Criteria;
use super::create::new_id;
use super::pipeline::{prepare_blocking, Prepared, Tx};
use super::request::{parse_if_match, read_resource, Prefer};
use super::{Answer, AppState, Failure, PathShape, Request, Service, Target};

/// Which resource an update, patch or delete is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Which {
    /// The one with this id.
    Id(String),
    /// The one these criteria match (conditional).
    Matching(Criteria),
}

impl Which {
    /// From a request's target: its id, or (type level) its query as
    /// criteria of `what`.
    ///
    /// # Errors
    /// As [`Criteria::parse`].
    pub fn from_target(
        state: &AppState,
        target: &Target,
        req: &Request,
        what: &str,
    ) -> Result<Which, Failure> {
        match (target.shape, &target.id) {
            (PathShape::Instance, Some(id)) => Ok(Which::Id(id.clone())),
            _ => Ok(Which::Matching(Criteria::parse(
                state,
                target.resource_type(),
                &req.query,
                what,
            )?)),
        }
    }

    /// The id, once resolved inside `tx`: the given one, or the match's;
    /// None when criteria match nothing.
    ///
    /// # Errors
    /// 412 when criteria match more than one.
    pub async fn resolve(&self, tx: &mut Tx, what: &str) -> Result<Option<String>, Failure> {
        match self {
            Which::Id(id) => Ok(Some(id.clone())),
            Which::Matching(c) => Ok(c.at_most_one(tx, what).await?.map(|s| s.id)),
        }
    }
}

/// An update, parsed.
#[derive(Debug, Clone)]
pub struct Update {
    /// The resource type.
    pub resource_type: String,
    /// The resource to replace.
    pub which: Which,
    /// The new content.
    pub resource: Value,
    /// `If-Match`.
    pub if_match: Option<i64>,
    /// `Prefer`.
    pub prefer: Prefer,
}

impl Update {
    /// Parses `PUT [base]/[type]/[id]` or `PUT [base]/[type]?criteria`.
    ///
    /// # Errors
    /// 400 when the body's id is missing or differs from the URL's, or the
    /// criteria or `If-Match` are malformed.
    pub fn parse(state: &AppState, target: &Target, req: &Request) -> Result<Update, Failure> {
        let body = req
            .body
            .as_ref()
            .ok_or_else(|| Failure::invalid("an update needs the resource in the body"))?;
        let resource = read_resource(req.headers.content_type.as_deref(), body)?;
        let which = Which::from_target(state, target, req, "a conditional update")?;
        if let Which::Id(id) = &which {
            match resource["id"].as_str() {
                Some(body_id) if body_id == id => {}
                Some(body_id) => {
                    return Err(Failure::invalid(format!(
                        "the body's id {body_id:?} differs from the URL's {id:?}"
                    ))
                    .at(Some(&format!("{}.id", target.resource_type()))))
                }
                None => {
                    return Err(Failure::invalid(
                        "an update's body must carry the resource id the URL names",
                    ))
                }
            }
        }
        Ok(Update {
            resource_type: target.resource_type().to_string(),
            which,
            resource,
            if_match: parse_if_match(req.headers.if_match.as_deref())?,
            prefer: Prefer::parse(req.headers.prefer.as_deref()),
        })
    }

    /// Validates and indexes the new content.
    ///
    /// # Errors
    /// 400 when the body's type is not the URL's, 422 when it is invalid.
    pub async fn prepare(self, svc: &Service) -> Result<PreparedUpdate, Failure> {
        let prepared =
            prepare_blocking(svc, self.resource_type.clone(), self.resource.clone()).await?;
        Ok(PreparedUpdate {
            update: self,
            prepared,
            id: None,
            fresh: false,
        })
    }
}

/// An update whose content is valid and indexed.
#[derive(Debug, Clone)]
pub struct PreparedUpdate {
    /// The update.
    pub update: Update,
    /// The new content, prepared.
    pub prepared: Prepared,
    /// The id it writes, once resolved.
    pub id: Option<String>,
    /// Whether that id is a new one the server chose (conditional
    /// criteria matched nothing): the update is then a create.
    pub fresh: bool,
}

impl PreparedUpdate {
    /// Finds the resource to update inside the transaction (a new id when
    /// conditional criteria match nothing).
    ///
    /// # Errors
    /// 412 for more than one match.
    pub async fn resolve(&mut self, tx: &mut Tx) -> Result<(), Failure> {
        let id = self
            .update
            .which
            .resolve(tx, "a conditional update")
            .await?;
        self.fresh = id.is_none();
        self.id = Some(id.unwrap_or_else(new_id));
        Ok(())
    }

    /// `Type/id` the update writes, once resolved.
    pub fn reference(&self) -> Option<String> {
        self.id
            .as_ref()
            .map(|id| format!("{}/{id}", self.update.resource_type))
    }

    /// Writes the new version (after [`PreparedUpdate::resolve`]).
    ///
    /// # Errors
    /// 412 when `If-Match` is not the current version; a database failure.
    pub async fn finish(mut self, tx: &mut Tx) -> Result<Answer, Failure> {
        let id = self.id.clone().unwrap_or_else(new_id);
        self.prepared.resource["id"] = Value::String(id.clone());
        let (s, created) = if self.fresh {
            (tx.create(&id, self.prepared).await?, true)
        } else {
            tx.update(&id, self.prepared, self.update.if_match).await?
        };
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(Answer::written(&s, status, self.update.prefer.return_))
    }

    /// Resolves and writes.
    ///
    /// # Errors
    /// As [`PreparedUpdate::resolve`] and [`PreparedUpdate::finish`].
    pub async fn write(mut self, tx: &mut Tx) -> Result<Answer, Failure> {
        self.resolve(tx).await?;
        self.finish(tx).await
    }
}
