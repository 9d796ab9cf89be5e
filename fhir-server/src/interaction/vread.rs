//! vread — [FHIR R4 http §3.1.0.3](https://hl7.org/fhir/R4/http.html#vread):
//! `GET [base]/[type]/[id]/_history/[vid]` answers that version; 404 when
//! there is no such version, 410 when that version is a deletion.

use super::access::Clearance;
use super::{Answer, Failure, Service, Target};

/// A vread, parsed.
#[derive(Debug, Clone)]
pub struct VRead {
    /// The resource type.
    pub resource_type: String,
    /// The id.
    pub id: String,
    /// The version.
    pub version: i64,
}

impl VRead {
    /// Parses `GET [base]/[type]/[id]/_history/[vid]`.
    ///
    /// # Errors
    /// 404 when the version is not a number (no such version can exist).
    pub fn parse(target: &Target) -> Result<VRead, Failure> {
        let vid = target.version.as_deref().unwrap_or("");
        let version = vid.parse().map_err(|_| {
            Failure::not_found(format!(
                "{}/{}/_history/{vid}: {vid:?} is not a version",
                target.resource_type(),
                target.id()
            ))
        })?;
        Ok(VRead {
            resource_type: target.resource_type().to_string(),
            id: target.id().to_string(),
            version,
        })
    }

    /// Reads the version.
    ///
    /// # Errors
    /// 404 unknown, 410 a deletion.
    pub async fn apply(self, svc: &Service, clearance: &Clearance) -> Result<Answer, Failure> {
        let s = svc
            .state
            .store
            .vread(
                &self.resource_type,
                &self.id,
                self.version,
                clearance.visibility.as_ref(),
            )
            .await?;
        Ok(Answer::stored(&s))
    }
}
