//! Search: the one search-parameter registry (from the loaded
//! SearchParameter resources: base R4 and our guide), extraction of index
//! entries with the one FHIRPath engine, and parsing of search URLs into a
//! store [`Query`].

mod values;

use std::collections::HashMap;
use std::sync::Arc;

use fhir_core::fhirpath::{Context, Expression, ModelInfo};
use fhir_core::package::Registry;
use serde_json::Value;

use crate::store::{Condition, IndexEntry, Prefix, Query, StrMode};
pub use values::{date_range, normalise};

/// The type of a search parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// number
    Number,
    /// date
    Date,
    /// string
    String,
    /// token
    Token,
    /// reference
    Reference,
    /// quantity
    Quantity,
    /// uri
    Uri,
    /// composite and special: not indexed.
    Other,
}

/// One search parameter.
#[derive(Debug)]
pub struct SearchParam {
    /// Its code in URLs.
    pub code: String,
    /// Its canonical URL.
    pub url: String,
    /// Its type.
    pub kind: Kind,
    /// The compiled expression (None when it has none or it does not parse).
    pub expression: Option<Expression>,
    /// Target resource types of a reference parameter.
    pub targets: Vec<String>,
    /// The expression's text, for the CapabilityStatement.
    pub expression_text: String,
}

/// Every search parameter, by resource type and code.
#[derive(Debug, Default)]
pub struct SearchParams {
    by_type: HashMap<String, HashMap<String, Arc<SearchParam>>>,
}

impl SearchParams {
    /// The parameters of every SearchParameter resource in `registry`.
    pub fn from_registry(registry: &Registry) -> SearchParams {
        let mut out = SearchParams::default();
        for sp in registry.of_type("SearchParameter") {
            let Some(code) = sp["code"].as_str() else {
                continue;
            };
            let kind = match sp["type"].as_str() {
                Some("number") => Kind::Number,
                Some("date") => Kind::Date,
                Some("string") => Kind::String,
                Some("token") => Kind::Token,
                Some("reference") => Kind::Reference,
                Some("quantity") => Kind::Quantity,
                Some("uri") => Kind::Uri,
                _ => Kind::Other,
            };
            let text = without_resolve(sp["expression"].as_str().unwrap_or(""));
            let param = Arc::new(SearchParam {
                code: code.to_string(),
                url: sp["url"].as_str().unwrap_or("").to_string(),
                kind,
                expression: if text.is_empty() {
                    None
                } else {
                    Expression::parse(&text).ok()
                },
                targets: sp["target"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                expression_text: text,
            });
            for base in sp["base"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                out.by_type
                    .entry(base.to_string())
                    .or_default()
                    .insert(code.to_string(), param.clone());
            }
        }
        out
    }

    /// The parameter `code` of `resource_type` (or of every resource).
    pub fn get(&self, resource_type: &str, code: &str) -> Option<&Arc<SearchParam>> {
        self.by_type
            .get(resource_type)
            .and_then(|m| m.get(code))
            .or_else(|| self.by_type.get("DomainResource").and_then(|m| m.get(code)))
            .or_else(|| self.by_type.get("Resource").and_then(|m| m.get(code)))
    }

    /// The parameters of a type (its own, not the common ones), by code.
    pub fn of_type(&self, resource_type: &str) -> Vec<&Arc<SearchParam>> {
        let mut v: Vec<_> = self
            .by_type
            .get(resource_type)
            .map(|m| m.values().collect())
            .unwrap_or_default();
        v.sort_by(|a, b| a.code.cmp(&b.code));
        v
    }

    /// The index entries of a resource: every value each of its type's
    /// parameters finds.
    pub fn extract(&self, resource: &Value, model: &ModelInfo) -> Vec<IndexEntry> {
        let rt = resource["resourceType"].as_str().unwrap_or("");
        let ctx = Context {
            model: Some(model),
            ..Context::default()
        };
        let mut out = Vec::new();
        let mut params: Vec<&Arc<SearchParam>> = self.of_type(rt);
        for common in ["Resource", "DomainResource"] {
            if let Some(m) = self.by_type.get(common) {
                params.extend(m.values());
            }
        }
        for p in params {
            if matches!(p.kind, Kind::Other) || p.code == "_id" || p.code == "_lastUpdated" {
                continue;
            }
            let Some(expr) = &p.expression else { continue };
            let Ok(items) = expr.evaluate(resource, &ctx) else {
                continue;
            };
            for item in &items {
                values::entries(p, item, &mut out);
            }
        }
        out
    }
}

/// R4's expressions pick reference targets by type with
/// `where(resolve() is Patient)`; at indexing time the target is not at
/// hand, so the type is read from the reference itself.
fn without_resolve(expr: &str) -> String {
    let mut out = String::new();
    let mut rest = expr;
    const OPEN: &str = "where(resolve() is ";
    while let Some(at) = rest.find(OPEN) {
        let after = &rest[at + OPEN.len()..];
        let Some(close) = after.find(')') else { break };
        let ty = after[..close].trim();
        out.push_str(&rest[..at]);
        out.push_str(&format!(
            "where(reference.startsWith('{ty}/') or reference.contains('/{ty}/'))"
        ));
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// A search request could not be understood.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchError(pub String);

/// Result-shaping parameters of a search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    /// `_include` values (`Type:param[:target]`, with `:iterate` noted).
    pub include: Vec<(String, bool)>,
    /// `_revinclude` values.
    pub revinclude: Vec<(String, bool)>,
    /// `_summary`.
    pub summary: Option<String>,
    /// `_elements`.
    pub elements: Vec<String>,
    /// `_total`.
    pub total: Option<String>,
    /// The parameters used, for the self link.
    pub used: Vec<(String, String)>,
}

fn prefix_of(value: &str) -> (Prefix, &str) {
    if value.len() > 2 && value.as_bytes()[..2].iter().all(u8::is_ascii_lowercase) {
        let p = match &value[..2] {
            "eq" => Some(Prefix::Eq),
            "ne" => Some(Prefix::Ne),
            "gt" => Some(Prefix::Gt),
            "lt" => Some(Prefix::Lt),
            "ge" => Some(Prefix::Ge),
            "le" => Some(Prefix::Le),
            "sa" => Some(Prefix::Sa),
            "eb" => Some(Prefix::Eb),
            "ap" => Some(Prefix::Ap),
            _ => None,
        };
        if let Some(p) = p {
            return (p, &value[2..]);
        }
    }
    (Prefix::Eq, value)
}

/// Splits on commas not escaped with a backslash.
fn split_values(value: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some(',') | Some('$') | Some('|') | Some('\\')) => {
                if let Some(s) = out.last_mut() {
                    s.push(chars.next().unwrap_or('\\'));
                }
            }
            ',' => out.push(String::new()),
            c => {
                if let Some(s) = out.last_mut() {
                    s.push(c);
                }
            }
        }
    }
    out
}

/// Splits `system|code` (unescaped bar).
fn split_bar(v: &str) -> (Option<String>, String) {
    match v.find('|') {
        Some(i) => (Some(v[..i].to_string()), v[i + 1..].to_string()),
        None => (None, v.to_string()),
    }
}

impl SearchParams {
    /// Parses one `key=value` search parameter of `resource_type` into a
    /// condition.
    ///
    /// # Errors
    /// When the parameter is unknown or its value malformed.
    pub fn condition(
        &self,
        resource_type: &str,
        key: &str,
        value: &str,
    ) -> Result<Condition, SearchError> {
        if key == "_id" {
            return Ok(Condition::Id(split_values(value)));
        }
        if key == "_lastUpdated" {
            let alts = split_values(value)
                .iter()
                .map(|v| {
                    let (p, rest) = prefix_of(v);
                    let (lo, hi) = date_range(rest).ok_or_else(|| {
                        SearchError(format!("_lastUpdated: {rest:?} is not a date"))
                    })?;
                    Ok(Condition::LastUpdated(p, lo, hi))
                })
                .collect::<Result<Vec<_>, SearchError>>()?;
            return Ok(any(alts));
        }
        if let Some(rest) = key.strip_prefix("_has:") {
            let mut parts = rest.splitn(3, ':');
            let (Some(src), Some(param), Some(inner_key)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(SearchError(format!(
                    "_has:{rest} is not _has:Type:parameter:search"
                )));
            };
            let p = self
                .get(src, param)
                .ok_or_else(|| SearchError(format!("{src} has no search parameter {param:?}")))?;
            if p.kind != Kind::Reference {
                return Err(SearchError(format!(
                    "{src}.{param} is not a reference parameter"
                )));
            }
            let inner = self.condition(src, inner_key, value)?;
            return Ok(Condition::Has {
                source_type: src.into(),
                param: param.into(),
                inner: Box::new(inner),
            });
        }
        // Chaining: param[:Type].rest
        if let Some(dot) = key.find('.') {
            let (head, rest) = (&key[..dot], &key[dot + 1..]);
            let (code, ty) = match head.split_once(':') {
                Some((c, t)) => (c, Some(t)),
                None => (head, None),
            };
            let p = self.get(resource_type, code).ok_or_else(|| {
                SearchError(format!("{resource_type} has no search parameter {code:?}"))
            })?;
            if p.kind != Kind::Reference {
                return Err(SearchError(format!(
                    "{code} is not a reference parameter, so it cannot be chained"
                )));
            }
            let target = match ty {
                Some(t) => t.to_string(),
                None if p.targets.len() == 1 => p.targets[0].clone(),
                None => {
                    // Any target type that knows the chained parameter.
                    let chained = rest.split(['.', ':']).next().unwrap_or(rest);
                    let known: Vec<&String> = p
                        .targets
                        .iter()
                        .filter(|t| self.get(t, chained).is_some())
                        .collect();
                    if known.len() == 1 {
                        known[0].clone()
                    } else {
                        let alts = known
                            .iter()
                            .map(|t| {
                                Ok(Condition::Chain {
                                    param: code.into(),
                                    target_type: (*t).clone(),
                                    inner: Box::new(self.condition(t, rest, value)?),
                                })
                            })
                            .collect::<Result<Vec<_>, SearchError>>()?;
                        if alts.is_empty() {
                            return Err(SearchError(format!(
                                "no target of {code} has a search parameter {chained:?}"
                            )));
                        }
                        return Ok(Condition::Any(alts));
                    }
                }
            };
            let inner = self.condition(&target, rest, value)?;
            return Ok(Condition::Chain {
                param: code.into(),
                target_type: target,
                inner: Box::new(inner),
            });
        }
        let (code, modifier) = match key.split_once(':') {
            Some((c, m)) => (c, Some(m)),
            None => (key, None),
        };
        let p = self.get(resource_type, code).ok_or_else(|| {
            SearchError(format!("{resource_type} has no search parameter {code:?}"))
        })?;
        if modifier == Some("missing") {
            return match value {
                "true" => Ok(Condition::Missing {
                    param: code.into(),
                    missing: true,
                }),
                "false" => Ok(Condition::Missing {
                    param: code.into(),
                    missing: false,
                }),
                _ => Err(SearchError(format!(
                    "{key}: :missing takes true or false, not {value:?}"
                ))),
            };
        }
        let code_s = code.to_string();
        let alts = split_values(value)
            .into_iter()
            .map(|v| self.one_value(p, &code_s, modifier, &v))
            .collect::<Result<Vec<_>, SearchError>>()?;
        Ok(any(alts))
    }

    fn one_value(
        &self,
        p: &SearchParam,
        code: &str,
        modifier: Option<&str>,
        v: &str,
    ) -> Result<Condition, SearchError> {
        let bad_modifier = |m: &str| {
            SearchError(format!(
                "{code}: the modifier :{m} does not apply to a {:?} parameter",
                p.kind
            ))
        };
        Ok(match p.kind {
            Kind::Token => match modifier {
                None | Some("not") => {
                    let (system, code_v) = split_bar(v);
                    Condition::Token {
                        param: code.into(),
                        system,
                        code: if code_v.is_empty() {
                            None
                        } else {
                            Some(code_v)
                        },
                        not: modifier == Some("not"),
                    }
                }
                Some("text") => Condition::TokenText {
                    param: code.into(),
                    text: normalise(v),
                },
                Some(m) => return Err(bad_modifier(m)),
            },
            Kind::String => match modifier {
                None => Condition::Str {
                    param: code.into(),
                    value: normalise(v),
                    mode: StrMode::Prefix,
                },
                Some("exact") => Condition::Str {
                    param: code.into(),
                    value: v.into(),
                    mode: StrMode::Exact,
                },
                Some("contains") => Condition::Str {
                    param: code.into(),
                    value: normalise(v),
                    mode: StrMode::Contains,
                },
                Some(m) => return Err(bad_modifier(m)),
            },
            Kind::Uri => match modifier {
                None => Condition::Uri {
                    param: code.into(),
                    value: v.into(),
                    below: false,
                },
                Some("below") => Condition::Uri {
                    param: code.into(),
                    value: v.into(),
                    below: true,
                },
                Some(m) => return Err(bad_modifier(m)),
            },
            Kind::Date => {
                if let Some(m) = modifier {
                    return Err(bad_modifier(m));
                }
                let (prefix, rest) = prefix_of(v);
                let (lo, hi) = date_range(rest)
                    .ok_or_else(|| SearchError(format!("{code}: {rest:?} is not a FHIR date")))?;
                Condition::Date {
                    param: code.into(),
                    prefix,
                    lo,
                    hi,
                }
            }
            Kind::Number | Kind::Quantity => {
                if let Some(m) = modifier {
                    return Err(bad_modifier(m));
                }
                let (prefix, rest) = prefix_of(v);
                let mut parts = rest.splitn(3, '|');
                let number = parts.next().unwrap_or("");
                let system = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
                let unit = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
                let (lo, hi) = values::number_range(number, prefix)
                    .ok_or_else(|| SearchError(format!("{code}: {number:?} is not a number")))?;
                Condition::Num {
                    param: code.into(),
                    prefix,
                    lo,
                    hi,
                    system,
                    code: unit,
                }
            }
            Kind::Reference => {
                let (target_type, id) = match modifier {
                    Some("identifier") => {
                        let (system, value) = split_bar(v);
                        // References by identifier are indexed as tokens of the same code.
                        return Ok(Condition::Token {
                            param: format!("{code}:identifier"),
                            system,
                            code: Some(value),
                            not: false,
                        });
                    }
                    Some(t) if t.chars().next().is_some_and(|c| c.is_ascii_uppercase()) => {
                        (Some(t.to_string()), v.to_string())
                    }
                    Some(m) => return Err(bad_modifier(m)),
                    None => match v.rsplit_once('/') {
                        Some((before, id)) => {
                            let ty = before.rsplit('/').next().unwrap_or(before);
                            (Some(ty.to_string()), id.to_string())
                        }
                        None => (
                            if p.targets.len() == 1 {
                                Some(p.targets[0].clone())
                            } else {
                                None
                            },
                            v.to_string(),
                        ),
                    },
                };
                let reference = Condition::Reference {
                    param: code.into(),
                    target_type,
                    id,
                };
                if modifier.is_none() && (v.contains("://") || v.starts_with("urn:")) {
                    // An absolute URL: a RESTful reference, or a canonical
                    // (`url` or `url|version`).
                    Condition::Any(vec![
                        reference,
                        Condition::Uri {
                            param: code.into(),
                            value: v.to_string(),
                            below: false,
                        },
                    ])
                } else {
                    reference
                }
            }
            Kind::Other => {
                return Err(SearchError(format!(
                    "{code}: composite and special parameters are not supported"
                )))
            }
        })
    }

    /// Parses a whole search request into a query and its result shape.
    /// Unknown parameters are errors when `strict` (`Prefer:
    /// handling=strict`), else ignored (and left out of the self link).
    ///
    /// # Errors
    /// A malformed value, or (when strict) an unknown parameter.
    pub fn query(
        &self,
        resource_type: Option<&str>,
        params: &[(String, String)],
        strict: bool,
    ) -> Result<(Query, Shape), SearchError> {
        let mut q = Query {
            resource_type: resource_type.map(str::to_string),
            count: 20,
            ..Query::default()
        };
        let mut shape = Shape::default();
        for (k, v) in params {
            let keep = (k.clone(), v.clone());
            match k.as_str() {
                "_count" => {
                    q.count = v
                        .parse::<i64>()
                        .ok()
                        .filter(|n| *n >= 0)
                        .ok_or_else(|| SearchError(format!("_count: {v:?} is not a whole number")))?
                        .min(1000);
                }
                "_offset" => {
                    q.offset = v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                        SearchError(format!("_offset: {v:?} is not a whole number"))
                    })?;
                }
                "_sort" => {
                    for key in v.split(',').filter(|s| !s.is_empty()) {
                        let (name, desc) = match key.strip_prefix('-') {
                            Some(n) => (n, true),
                            None => (key, false),
                        };
                        if name != "_id" && name != "_lastUpdated" {
                            let known = resource_type.and_then(|t| self.get(t, name)).is_some();
                            if !known {
                                return Err(SearchError(format!(
                                    "_sort: {name:?} is not a search parameter of {}",
                                    resource_type.unwrap_or("every type")
                                )));
                            }
                        }
                        q.sort.push((name.to_string(), desc));
                    }
                }
                "_include" | "_include:iterate" => {
                    shape.include.push((v.clone(), k.ends_with("iterate")))
                }
                "_revinclude" | "_revinclude:iterate" => {
                    shape.revinclude.push((v.clone(), k.ends_with("iterate")))
                }
                "_summary" => {
                    if !matches!(v.as_str(), "true" | "false" | "text" | "data" | "count") {
                        return Err(SearchError(format!(
                            "_summary: {v:?} is not true, false, text, data or count"
                        )));
                    }
                    shape.summary = Some(v.clone());
                }
                "_elements" => shape.elements = v.split(',').map(str::to_string).collect(),
                "_total" => shape.total = Some(v.clone()),
                "_format" | "_pretty" => continue,
                _ => {
                    let Some(rt) = resource_type else {
                        if k == "_id" || k == "_lastUpdated" {
                            q.conditions.push(self.condition("Resource", k, v)?);
                            shape.used.push(keep);
                            continue;
                        }
                        if strict {
                            return Err(SearchError(format!(
                                "{k}: a search of all types supports _id and _lastUpdated only"
                            )));
                        }
                        continue;
                    };
                    match self.condition(rt, k, v) {
                        Ok(c) => q.conditions.push(c),
                        Err(e) if !strict && e.0.contains("has no search parameter") => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
            shape.used.push(keep);
        }
        Ok((q, shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_type_tests_become_reference_prefix_tests() {
        assert_eq!(
            without_resolve("Task.for.where(resolve() is Patient) | X.y"),
            "Task.for.where(reference.startsWith('Patient/') or reference.contains('/Patient/')) | X.y"
        );
        assert_eq!(without_resolve("Patient.name"), "Patient.name");
    }
}

fn any(mut alts: Vec<Condition>) -> Condition {
    if alts.len() == 1 {
        alts.remove(0)
    } else {
        Condition::Any(alts)
    }
}

/// The search-parameter registry together with the model the expressions need.
#[derive(Debug)]
pub struct Searcher {
    /// The parameters.
    pub params: SearchParams,
    /// Type knowledge for FHIRPath.
    pub model: Arc<ModelInfo>,
}

impl Searcher {
    /// Index entries for a resource.
    pub fn index(&self, resource: &Value) -> Vec<IndexEntry> {
        self.params.extract(resource, &self.model)
    }
}
