//! search — [FHIR R4 http §3.1.0.9](https://hl7.org/fhir/R4/http.html#search)
//! and [search](https://hl7.org/fhir/R4/search.html): `GET [base]/[type]?…`,
//! `POST [base]/[type]/_search` (form body), and the system-level
//! `GET [base]?…` / `POST [base]/_search` (`_id` and `_lastUpdated` only).
//! The answer is a searchset Bundle: the matches (`search.mode = match`),
//! what `_include`/`_revinclude` (with `:iterate`, three rounds at most)
//! bring (`include`), `total` unless `_total=none`, and paging links.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::access::{self, Clearance};
use super::bundle::{new_bundle, paging_links, Shaping};
use super::request::{query_pairs, Body, Prefer};
use super::{Answer, Caller, Failure, FailureKind, PathShape, Request, Service, Target};
use crate::search::{Paging, Shape};
use crate::store::{Query, Stored, Total, Visibility};

/// The most resources `_include` and `_revinclude` may add to one page.
pub const MAX_INCLUDED: usize = 1000;

/// Rounds of `:iterate`.
const ITERATE_ROUNDS: usize = 3;

/// A search, parsed.
#[derive(Debug, Clone)]
pub struct Search {
    /// The type searched (None: all types, or those of `types`).
    pub resource_type: Option<String>,
    /// A search of all types narrowed by `_type` to these (two or more: a
    /// `_type` of one makes a search of that type).
    pub types: Vec<String>,
    /// A compartment search: the Patient whose compartment is searched.
    pub compartment: Option<String>,
    /// The parameters (query string and form body together).
    pub params: Vec<(String, String)>,
    /// `Prefer: handling=strict`.
    pub strict: bool,
}

impl Search {
    /// Parses a search request.
    ///
    /// # Errors
    /// 415 for a `_search` body that is not a form; 400 for a malformed one.
    pub fn parse(target: &Target, req: &Request) -> Result<Search, Failure> {
        let mut params = req.query.clone();
        if matches!(
            target.shape,
            PathShape::TypeSearch | PathShape::SystemSearch
        ) {
            if let Some(Body::Bytes(b)) = &req.body {
                let ctype = req.headers.content_type.as_deref().unwrap_or("");
                if !b.is_empty() && !ctype.starts_with("application/x-www-form-urlencoded") {
                    return Err(Failure::new(
                        FailureKind::UnsupportedMediaType,
                        "not-supported",
                        "_search takes application/x-www-form-urlencoded parameters",
                    ));
                }
                let text = std::str::from_utf8(b)
                    .map_err(|_| Failure::invalid("the _search form is not UTF-8"))?;
                params.extend(query_pairs(text)?);
            }
        }
        let (mut resource_type, compartment) = match target.shape {
            PathShape::Compartment => (
                target.within.clone().filter(|w| w != "*"),
                target.id.clone(),
            ),
            _ => (target.resource_type.clone(), None),
        };
        let mut types = Vec::new();
        if resource_type.is_none() {
            types = crate::search::types_of(&params);
            if let [only] = types.as_slice() {
                // One type: a search of that type, with all its parameters.
                resource_type = Some(only.clone());
                types.clear();
                params.retain(|(k, _)| k != "_type");
            }
        }
        Ok(Search {
            resource_type,
            types,
            compartment,
            params,
            strict: Prefer::parse(req.headers.prefer.as_deref()).strict,
        })
    }

    /// Runs the search.
    ///
    /// # Errors
    /// 400 for criteria that cannot be understood (or are unknown, when
    /// strict) and for includes beyond [`MAX_INCLUDED`].
    pub async fn apply(
        self,
        svc: &Service,
        caller: &Caller,
        clearance: &Clearance,
    ) -> Result<Answer, Failure> {
        for t in self.types.iter().chain(&self.resource_type) {
            svc.state.check_type(t).map_err(|_| {
                Failure::invalid(format!("_type: {t:?} is not a FHIR R4 resource type"))
            })?;
        }
        if self.types.iter().any(|t| t == "AuditEvent") {
            return Err(Failure::new(
                FailureKind::Invalid,
                "not-supported",
                "AuditEvents are kept in the audit log: search them on their own (AuditEvent?… or _type=AuditEvent)",
            ));
        }
        let (mut q, shape) = svc.state.search.params.query(
            self.resource_type.as_deref(),
            &self.params,
            self.strict,
        )?;
        if let Some(patient) = &self.compartment {
            q.conditions
                .push(crate::store::Condition::Compartment(patient.clone()));
        }
        access::check_query(caller, &q, &shape)?;
        // Parsing leaves `UpTo` only where `_total` is absent; the bound is
        // the server's (`serve --count-up-to`).
        if let Total::UpTo(_) = q.total {
            q.total = Total::UpTo(svc.state.count_up_to);
        }
        if let (Some(r), Some(t)) = (&clearance.restrictions, &self.resource_type) {
            q.conditions.push(super::read::restriction(svc, t, r)?);
        }
        q.visibility = clearance.visibility.clone();
        // The paging links lead back to the same search.
        let path = match &self.compartment {
            Some(p) => format!(
                "{}/{p}/{}",
                super::COMPARTMENT,
                self.resource_type.as_deref().unwrap_or("*")
            ),
            None => self.resource_type.clone().unwrap_or_default(),
        };
        let (bundle, patients) = searchset(svc, caller, &path, &q, &shape).await?;
        let mut answer = Answer::ok(bundle);
        answer.patients = patients;
        Ok(answer)
    }
}

fn entry(svc: &Service, s: &Stored, mode: &str, shaping: &Shaping) -> Value {
    let resource = shaping.apply(&svc.state, s.resource().unwrap_or(Value::Null));
    json!({
        "fullUrl": format!("{}/{}/{}", svc.state.base, s.resource_type, s.id),
        "resource": resource,
        "search": {"mode": mode}
    })
}

/// A searchset Bundle for `q`, shaped by `shape`; `path` is the search's
/// path for the links (the type, or empty for all types).
///
/// # Errors
/// A database failure, or includes beyond [`MAX_INCLUDED`].
pub async fn searchset(
    svc: &Service,
    caller: &Caller,
    path: &str,
    q: &Query,
    shape: &Shape,
) -> Result<(Value, Vec<String>), Failure> {
    let state = &svc.state;
    let page = state.store.search(q).await?;
    let mut patients: Vec<String> = Vec::new();
    for s in &page.items {
        for p in &s.compartments {
            if !patients.contains(p) {
                patients.push(p.clone());
            }
        }
    }
    let paging = Paging {
        count: q.count,
        offset: q.offset,
    };
    if shape.summary.as_deref() == Some("count") {
        return Ok((
            json!({"resourceType": "Bundle", "type": "searchset", "total": page.total.unwrap_or(0),
            "link": paging_links(state, path, &shape.used, paging, page.total, 0)}),
            Vec::new(),
        ));
    }
    let shaping = Shaping {
        summary: shape.summary.clone(),
        elements: shape.elements.clone(),
    };
    let mut entries: Vec<Value> = Vec::with_capacity(page.items.len());
    for s in &page.items {
        super::budget::charge(s.content.as_ref().map_or(0, |c| c.len()))?;
        entries.push(entry(svc, s, "match", &shaping));
    }
    let included = includes(svc, caller, q.visibility.as_ref(), shape, &page.items).await?;
    for s in &included {
        super::budget::charge(s.content.as_ref().map_or(0, |c| c.len()))?;
        entries.push(entry(svc, s, "include", &Shaping::default()));
    }
    let mut bundle = new_bundle("searchset", entries);
    bundle["link"] = paging_links(
        state,
        path,
        &shape.used,
        paging,
        page.total,
        page.items.len(),
    );
    if let Some(total) = page.total {
        bundle["total"] = json!(total);
    }
    for s in &included {
        for p in &s.compartments {
            if !patients.contains(p) {
                patients.push(p.clone());
            }
        }
    }
    Ok((bundle, patients))
}

/// What `_include` and `_revinclude` add to a page of matches.
async fn includes(
    svc: &Service,
    caller: &Caller,
    vis: Option<&Visibility>,
    shape: &Shape,
    matches: &[Stored],
) -> Result<Vec<Stored>, Failure> {
    let state = &svc.state;
    let mut seen: HashSet<String> = matches.iter().map(Stored::key).collect();
    let mut out: Vec<Stored> = Vec::new();
    let mut frontier: Vec<Stored> = matches.to_vec();
    for round in 0..ITERATE_ROUNDS {
        let mut next: Vec<Stored> = Vec::new();
        let mut wanted: Vec<(String, String)> = Vec::new();
        for (inc, iterate) in &shape.include {
            if round > 0 && !iterate {
                continue;
            }
            for s in frontier.iter().filter(|s| s.resource_type == inc.source) {
                let Some(resource) = s.resource() else {
                    continue;
                };
                for t in state.search.params.reference_targets(
                    &resource,
                    &inc.param,
                    inc.target.as_deref(),
                    &state.search.model,
                ) {
                    // What the scopes do not let the caller read is left out.
                    if !access::may_read(caller, &t.0) {
                        continue;
                    }
                    if seen.insert(format!("{}/{}", t.0, t.1)) {
                        wanted.push(t);
                    }
                }
            }
        }
        check_included(out.len() + wanted.len())?;
        next.extend(state.store.read_many(&wanted, vis).await?);
        for (rev, iterate) in &shape.revinclude {
            if round > 0 && !iterate {
                continue;
            }
            let targets: Vec<(String, String)> = frontier
                .iter()
                .map(|s| (s.resource_type.clone(), s.id.clone()))
                .collect();
            let param = Some(rev.param.as_str()).filter(|p| *p != "*");
            let room = (MAX_INCLUDED + 1).saturating_sub(out.len() + next.len());
            for r in state
                .store
                .referring(&rev.source, param, &targets, room as i64, vis)
                .await?
            {
                if seen.insert(r.key()) {
                    next.push(r);
                }
            }
            check_included(out.len() + next.len())?;
        }
        if next.is_empty() {
            break;
        }
        out.extend(next.iter().cloned());
        frontier = next;
    }
    Ok(out)
}

fn check_included(n: usize) -> Result<(), Failure> {
    if n > MAX_INCLUDED {
        Err(Failure::new(
            FailureKind::Invalid,
            "too-costly",
            format!(
                "_include/_revinclude would add more than {MAX_INCLUDED} resources to this page: lower _count or narrow the search"
            ),
        ))
    } else {
        Ok(())
    }
}
