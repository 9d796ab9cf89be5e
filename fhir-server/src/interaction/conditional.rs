//! Criteria of conditional interactions
//! ([http §3.1.0.4.3, §3.1.0.7.1, §3.1.0.8](https://hl7.org/fhir/R4/http.html#cond-update)):
//! conditional create (`If-None-Exist`), update, patch and delete, and
//! conditional references in transactions. One set of rules for all of
//! them: the criteria are search criteria only (result parameters such as
//! `_count` or `_format` are not criteria), an unknown parameter is an
//! error, a request with no criterion is 400, and more than one match is
//! 412 `multiple-matches`. The search runs inside the write's transaction.

use super::pipeline::Tx;
use super::request::query_pairs;
use super::{AppState, Failure};
use crate::store::{Condition, Query, Stored, Total};

/// The criteria of one conditional interaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Criteria {
    /// The type searched.
    pub resource_type: String,
    /// What must hold.
    pub conditions: Vec<Condition>,
    /// The criteria as written, for messages.
    pub text: String,
}

impl Criteria {
    /// Criteria from parameters; `what` names the interaction in messages.
    ///
    /// # Errors
    /// 400 for an unknown parameter, a malformed value, or no criterion.
    pub fn parse(
        state: &AppState,
        resource_type: &str,
        params: &[(String, String)],
        what: &str,
    ) -> Result<Criteria, Failure> {
        let conditions = state.search.params.criteria(resource_type, params)?;
        if conditions.is_empty() {
            return Err(Failure::invalid(format!(
                "{what} needs at least one search criterion (result parameters such as _count or _format are not criteria)"
            )));
        }
        Ok(Criteria {
            resource_type: resource_type.to_string(),
            conditions,
            text: serde_urlencoded::to_string(params).unwrap_or_default(),
        })
    }

    /// Criteria from a query string (`identifier=…`, with or without `?`).
    ///
    /// # Errors
    /// As [`Criteria::parse`], and 400 for a malformed query string.
    pub fn parse_query(
        state: &AppState,
        resource_type: &str,
        query: &str,
        what: &str,
    ) -> Result<Criteria, Failure> {
        Criteria::parse(state, resource_type, &query_pairs(query)?, what)
    }

    /// The matches, at most two (enough to tell one from many), of what
    /// the caller may see.
    ///
    /// # Errors
    /// 403 when the criteria search a type the caller's scopes do not let
    /// it search; a database failure.
    pub async fn find(&self, tx: &mut Tx) -> Result<Vec<Stored>, Failure> {
        super::access::check_criteria(tx.scopes(), &self.resource_type, &self.conditions)?;
        let q = Query {
            resource_type: Some(self.resource_type.clone()),
            conditions: self.conditions.clone(),
            count: 2,
            offset: 0,
            total: Total::None,
            ..Query::default()
        };
        tx.matching(&q).await
    }

    /// The one match, or None.
    ///
    /// # Errors
    /// 412 `multiple-matches` when more than one resource matches.
    pub async fn at_most_one(&self, tx: &mut Tx, what: &str) -> Result<Option<Stored>, Failure> {
        let mut found = self.find(tx).await?;
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop()),
            _ => Err(Failure::multiple_matches(&format!(
                "{what} ({}?{})",
                self.resource_type, self.text
            ))),
        }
    }
}
