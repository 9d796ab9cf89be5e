//! create — [FHIR R4 http §3.1.0.7](https://hl7.org/fhir/R4/http.html#create),
//! and conditional create ([§3.1.0.8.1](https://hl7.org/fhir/R4/http.html#ccreate)):
//! `POST [base]/[type]` with the resource; the server assigns the id (an id
//! in the body is ignored). With `If-None-Exist: [search parameters]`, an
//! existing match is answered (200) instead of creating another; more than
//! one match is 412.

use http::StatusCode;
use serde_json::Value;

use super::conditional::Criteria;
use super::pipeline::{prepare_blocking, Prepared, Tx};
use super::request::{read_resource, Prefer};
use super::{Answer, AppState, Failure, Request, Service, Target};
use crate::store::Stored;

/// A create, parsed.
#[derive(Debug, Clone)]
pub struct Create {
    /// The resource type.
    pub resource_type: String,
    /// The id it will have if it is created (chosen now, so that a
    /// transaction can point other entries' references at it).
    pub id: String,
    /// The resource.
    pub resource: Value,
    /// `If-None-Exist`.
    pub if_none_exist: Option<Criteria>,
    /// `Prefer`.
    pub prefer: Prefer,
}

impl Create {
    /// Parses `POST [base]/[type]`.
    ///
    /// # Errors
    /// 400/415 for a missing or unreadable body or bad `If-None-Exist`.
    pub fn parse(state: &AppState, target: &Target, req: &Request) -> Result<Create, Failure> {
        let rtype = target.resource_type();
        let body = req
            .body
            .as_ref()
            .ok_or_else(|| Failure::invalid("a create needs the resource in the body"))?;
        let resource = read_resource(req.headers.content_type.as_deref(), body)?;
        let if_none_exist = req
            .headers
            .if_none_exist
            .as_deref()
            .map(|q| Criteria::parse_query(state, rtype, q, "If-None-Exist"))
            .transpose()?;
        // Search criteria in the URL of a create (`POST Patient?identifier=…`,
        // as some clients send a conditional create) are taken as
        // `If-None-Exist`: ignored, they would make the duplicate the
        // client meant to avoid.
        let in_url: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| !crate::search::RESULT_PARAMETERS.contains(&k.as_str()))
            .cloned()
            .collect();
        let if_none_exist = match (if_none_exist, in_url.is_empty()) {
            (criteria, true) => criteria,
            (None, false) => Some(Criteria::parse(state, rtype, &in_url, "the create's URL")?),
            (Some(_), false) => {
                return Err(Failure::invalid(
                    "a create has search criteria both in If-None-Exist and in its URL: give them once, in If-None-Exist",
                ))
            }
        };
        Ok(Create {
            resource_type: rtype.to_string(),
            id: new_id(),
            resource,
            if_none_exist,
            prefer: Prefer::parse(req.headers.prefer.as_deref()),
        })
    }

    /// Validates and indexes the resource (no database needed).
    ///
    /// # Errors
    /// 400 when the body's type is not the URL's, 422 when it is invalid.
    pub async fn prepare(self, svc: &Service) -> Result<PreparedCreate, Failure> {
        let prepared =
            prepare_blocking(svc, self.resource_type.clone(), self.resource.clone()).await?;
        Ok(PreparedCreate {
            create: self,
            prepared,
            existing: None,
        })
    }
}

/// A create whose resource is valid and indexed.
#[derive(Debug, Clone)]
pub struct PreparedCreate {
    /// The create.
    pub create: Create,
    /// Its resource, prepared.
    pub prepared: Prepared,
    /// The resource `If-None-Exist` found, once resolved.
    pub existing: Option<Stored>,
}

impl PreparedCreate {
    /// Looks for the `If-None-Exist` match inside the transaction.
    ///
    /// # Errors
    /// 412 for more than one match.
    pub async fn resolve(&mut self, tx: &mut Tx) -> Result<(), Failure> {
        if let Some(c) = &self.create.if_none_exist {
            self.existing = c.at_most_one(tx, "If-None-Exist").await?;
        }
        Ok(())
    }

    /// `Type/id` the created (or found) resource has, once resolved.
    pub fn reference(&self) -> String {
        match &self.existing {
            Some(s) => s.key(),
            None => format!("{}/{}", self.create.resource_type, self.create.id),
        }
    }

    /// Writes the resource (after [`PreparedCreate::resolve`]).
    ///
    /// # Errors
    /// A database failure.
    pub async fn finish(self, tx: &mut Tx) -> Result<Answer, Failure> {
        if let Some(s) = &self.existing {
            return Ok(Answer::written(
                s,
                StatusCode::OK,
                self.create.prefer.return_,
            ));
        }
        let s = tx.create(&self.create.id, self.prepared).await?;
        Ok(Answer::written(
            &s,
            StatusCode::CREATED,
            self.create.prefer.return_,
        ))
    }

    /// Resolves and writes.
    ///
    /// # Errors
    /// As [`PreparedCreate::resolve`] and [`PreparedCreate::finish`].
    pub async fn write(mut self, tx: &mut Tx) -> Result<Answer, Failure> {
        self.resolve(tx).await?;
        self.finish(tx).await
    }
}

/// A new logical id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
