//! history — [FHIR R4 http §3.1.0.11](https://hl7.org/fhir/R4/http.html#history):
//! `GET [base]/[type]/[id]/_history`, `[base]/[type]/_history` and
//! `[base]/_history`, newest first, with `_since` and `_count`/`_offset`
//! (parsed as search parses them). Each entry has the version (none for a
//! deletion) and the request and response that made it. The history of a
//! resource never stored is 404.

use serde_json::{json, Value};

use super::access::Clearance;
use super::bundle::{new_bundle, paging_links};
use super::{Answer, Failure, Request, Service, Target};
use crate::search::{date_range, Paging};
use crate::store::HistoryQuery;

/// A history request, parsed.
#[derive(Debug, Clone)]
pub struct History {
    /// One type (None: all).
    pub resource_type: Option<String>,
    /// One resource.
    pub id: Option<String>,
    /// `_count` and `_offset`.
    pub paging: Paging,
    /// `_since`, as an instant.
    pub since: Option<String>,
    /// The parameters, for the links.
    pub params: Vec<(String, String)>,
}

impl History {
    /// Parses a history request.
    ///
    /// # Errors
    /// 400 for a malformed `_count`, `_offset` or `_since`.
    pub fn parse(target: &Target, req: &Request) -> Result<History, Failure> {
        let paging = Paging::parse(&req.query)?;
        let mut since = None;
        for (k, v) in &req.query {
            if k == "_since" {
                since = Some(
                    date_range(v)
                        .ok_or_else(|| {
                            Failure::invalid(format!("_since: {v:?} is not an instant"))
                        })?
                        .0,
                );
            }
        }
        Ok(History {
            resource_type: target.resource_type.clone(),
            id: target.id.clone(),
            paging,
            since,
            params: req
                .query
                .iter()
                .filter(|(k, _)| k == "_since")
                .cloned()
                .collect(),
        })
    }

    /// Lists the versions.
    ///
    /// # Errors
    /// 404 for the history of a resource never stored; a database failure.
    pub async fn apply(self, svc: &Service, clearance: &Clearance) -> Result<Answer, Failure> {
        let state = &svc.state;
        let query = HistoryQuery {
            resource_type: self.resource_type.clone(),
            id: self.id.clone(),
            since: self.since.clone(),
            count: self.paging.count,
            offset: self.paging.offset,
            visibility: clearance.visibility.clone(),
        };
        let (list, total) = state.store.history(&query).await?;
        if let (Some(t), Some(i)) = (&self.resource_type, &self.id) {
            if total == 0 && self.since.is_none() {
                return Err(Failure::not_found(format!("{t}/{i} is not known")));
            }
        }
        let path = match (&self.resource_type, &self.id) {
            (Some(t), Some(i)) => format!("{t}/{i}/_history"),
            (Some(t), None) => format!("{t}/_history"),
            _ => "_history".to_string(),
        };
        let held: usize = list
            .iter()
            .map(|s| s.content.as_ref().map_or(0, |c| c.len()))
            .sum();
        super::budget::charge(held)?;
        let entries: Vec<Value> = list
            .iter()
            .map(|s| {
                let url = s.key();
                let status = match s.method.as_str() {
                    "POST" => "201 Created",
                    "DELETE" => "204 No Content",
                    _ if s.version == 1 => "201 Created",
                    _ => "200 OK",
                };
                let mut e = json!({
                    "fullUrl": format!("{}/{url}", state.base),
                    "request": {"method": s.method, "url": if s.method == "POST" { s.resource_type.clone() } else { url.clone() }},
                    "response": {"status": status, "etag": format!("W/\"{}\"", s.version), "lastModified": s.last_updated}
                });
                if let Some(r) = s.resource() {
                    e["resource"] = r;
                }
                e
            })
            .collect();
        let n = entries.len();
        let mut bundle = new_bundle("history", entries);
        bundle["total"] = json!(total);
        bundle["link"] = paging_links(state, &path, &self.params, self.paging, Some(total), n);
        Ok(Answer::ok(bundle))
    }
}
