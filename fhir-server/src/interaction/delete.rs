//! delete — [FHIR R4 http §3.1.0.7](https://hl7.org/fhir/R4/http.html#delete):
//! `DELETE [base]/[type]/[id]` answers 204 whether or not the resource
//! existed (deletion is idempotent); later reads answer 410. Conditional
//! delete ([§3.1.0.7.1](https://hl7.org/fhir/R4/http.html#cdelete)):
//! `DELETE [base]/[type]?[criteria]` deletes the one match (this server
//! supports `single`: more than one match is 412).

use http::StatusCode;

use super::pipeline::Tx;
use super::update::Which;
use super::{Answer, AppState, Failure, Request, Target, Version};

/// A delete, parsed.
#[derive(Debug, Clone)]
pub struct Delete {
    /// The resource type.
    pub resource_type: String,
    /// The resource to delete.
    pub which: Which,
}

impl Delete {
    /// Parses `DELETE [base]/[type]/[id]` or `DELETE [base]/[type]?criteria`.
    ///
    /// # Errors
    /// 400 for conditional criteria that are malformed or missing.
    pub fn parse(state: &AppState, target: &Target, req: &Request) -> Result<Delete, Failure> {
        Ok(Delete {
            resource_type: target.resource_type().to_string(),
            which: Which::from_target(state, target, req, "a conditional delete")?,
        })
    }

    /// Deletes inside `tx`.
    ///
    /// # Errors
    /// 412 for criteria matching more than one; a database failure.
    pub async fn write(self, tx: &mut Tx) -> Result<Answer, Failure> {
        let mut answer = Answer::empty(StatusCode::NO_CONTENT);
        if let Some(id) = self.which.resolve(tx, "a conditional delete").await? {
            if let Some(v) = tx.delete(&self.resource_type, &id).await? {
                answer.version = Some(Version {
                    id: v,
                    last_updated: String::new(),
                });
            }
        }
        Ok(answer)
    }
}
