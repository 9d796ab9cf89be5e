//! Parsing search requests ([FHIR R4 search](https://hl7.org/fhir/R4/search.html))
//! into store queries: criteria (parameters, modifiers, prefixes, chains,
//! `_has`) and the result parameters that shape the answer.

use super::{date_range, normalise, takes_modifier, values, Kind, SearchParam, SearchParams};
use crate::store::{Condition, Prefix, Query, SortKey, StrMode, Total};

/// The largest page a search or history returns (`_count` above it is
/// cut down to it, as the specification allows).
pub const MAX_COUNT: i64 = 1000;

/// The page size when the client names none.
pub const DEFAULT_COUNT: i64 = 20;

/// The largest `_offset` accepted: deeper paging is refused rather than
/// left to run ever slower.
pub const MAX_OFFSET: i64 = 1_000_000;

/// The most comma-separated values one parameter may have.
pub const MAX_VALUES: usize = 100;

/// The deepest chain (`a.b.c…`) or `_has` nesting.
pub const MAX_CHAIN: usize = 4;

/// The most criteria one search may have.
pub const MAX_CRITERIA: usize = 64;

/// The parameters that shape a search's answer rather than select what it
/// finds ([search §3.1.1.2 "Search result parameters"](https://hl7.org/fhir/R4/search.html#Summary)):
/// they never count as criteria of a conditional interaction.
pub const RESULT_PARAMETERS: &[&str] = &[
    "_count",
    "_offset",
    "_sort",
    "_include",
    "_include:iterate",
    "_include:recurse",
    "_revinclude",
    "_revinclude:iterate",
    "_revinclude:recurse",
    "_summary",
    "_elements",
    "_total",
    "_contained",
    "_containedType",
    "_format",
    "_pretty",
];

/// The types `_type` names (every `_type` parameter, comma-separated
/// values), each once, in order.
///
/// ```
/// use fhir_server::search::types_of;
/// let p = |k: &str, v: &str| (k.to_string(), v.to_string());
/// assert_eq!(
///     types_of(&[p("_type", "Flag, Patient"), p("_id", "1"), p("_type", "Flag,")]),
///     ["Flag", "Patient"]
/// );
/// ```
pub fn types_of(params: &[(String, String)]) -> Vec<String> {
    let mut types: Vec<String> = Vec::new();
    for t in params
        .iter()
        .filter(|(k, _)| k == "_type")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if !types.iter().any(|s| s == t) {
            types.push(t.to_string());
        }
    }
    types
}

/// A search request could not be understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The type has no such search parameter.
    #[error("{resource_type} has no search parameter {code:?}")]
    UnknownParameter {
        /// The type searched.
        resource_type: String,
        /// The code asked for.
        code: String,
    },
    /// A value that does not fit its parameter's type.
    #[error("{param}: {value:?} is not {expected}")]
    BadValue {
        /// The parameter as written.
        param: String,
        /// The value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A modifier the parameter's type does not take.
    #[error("{param}: the modifier :{modifier} does not apply to a {kind} parameter")]
    BadModifier {
        /// The parameter.
        param: String,
        /// The modifier.
        modifier: String,
        /// The parameter's type.
        kind: &'static str,
    },
    /// Understood, but not supported by this server.
    #[error("{param}: {what} is not supported")]
    Unsupported {
        /// The parameter.
        param: String,
        /// What is not supported.
        what: &'static str,
    },
    /// Malformed syntax (`_has`, `_include`, …).
    #[error("{0}")]
    Syntax(String),
    /// More than a limit allows.
    #[error("{what}: at most {limit} allowed")]
    Limit {
        /// What was counted.
        what: String,
        /// The limit.
        limit: usize,
    },
}

/// Result-shaping parameters of a search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    /// `_include` values (`Type:param[:target]`, with `:iterate` noted).
    pub include: Vec<(Include, bool)>,
    /// `_revinclude` values.
    pub revinclude: Vec<(Include, bool)>,
    /// `_summary`.
    pub summary: Option<String>,
    /// `_elements`.
    pub elements: Vec<String>,
    /// The parameters used, for the self link.
    pub used: Vec<(String, String)>,
}

/// One `_include` or `_revinclude`: `Source:param[:Target]` (param `*`:
/// every reference parameter).
#[derive(Debug, Clone, PartialEq)]
pub struct Include {
    /// The type holding the reference.
    pub source: String,
    /// Its reference parameter, or `*`.
    pub param: String,
    /// The target type, when named.
    pub target: Option<String>,
}

impl Include {
    fn parse(params: &SearchParams, key: &str, value: &str) -> Result<Include, SearchError> {
        let mut parts = value.split(':');
        let (Some(source), Some(param)) = (parts.next(), parts.next()) else {
            return Err(SearchError::Syntax(format!(
                "{key}={value} is not Type:parameter[:TargetType]"
            )));
        };
        let target = parts.next().map(str::to_string);
        if parts.next().is_some() || source.is_empty() || param.is_empty() {
            return Err(SearchError::Syntax(format!(
                "{key}={value} is not Type:parameter[:TargetType]"
            )));
        }
        if param != "*" {
            let p = params.param(source, param)?;
            if p.kind != Kind::Reference {
                return Err(SearchError::Syntax(format!(
                    "{key}={value}: {source}.{param} is not a reference parameter"
                )));
            }
        }
        Ok(Include {
            source: source.to_string(),
            param: param.to_string(),
            target,
        })
    }
}

/// `_count` and `_offset`, parsed the same way for search and history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Page size (at most [`MAX_COUNT`]).
    pub count: i64,
    /// Rows skipped (at most [`MAX_OFFSET`]).
    pub offset: i64,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            count: DEFAULT_COUNT,
            offset: 0,
        }
    }
}

impl Paging {
    /// Reads `_count` and `_offset` from a request's parameters.
    ///
    /// # Errors
    /// A value that is not a whole number, or an offset above [`MAX_OFFSET`].
    ///
    /// # Examples
    /// ```
    /// use fhir_server::search::Paging;
    /// let p = Paging::parse(&[("_count".into(), "5000".into())]).unwrap();
    /// assert_eq!(p.count, 1000);
    /// assert!(Paging::parse(&[("_offset".into(), "-1".into())]).is_err());
    /// ```
    pub fn parse(params: &[(String, String)]) -> Result<Paging, SearchError> {
        let mut p = Paging::default();
        for (k, v) in params {
            match k.as_str() {
                "_count" => p.count = whole(k, v)?.min(MAX_COUNT),
                "_offset" => {
                    p.offset = whole(k, v)?;
                    if p.offset > MAX_OFFSET {
                        return Err(SearchError::Limit {
                            what: format!("_offset={}", p.offset),
                            limit: MAX_OFFSET as usize,
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(p)
    }

    /// The offset of the next page, when there is one before `total`.
    pub fn next(&self, total: Option<i64>, page_len: usize) -> Option<i64> {
        if self.count <= 0 {
            // `_count=0` / `_summary=count`: no page, so no next one.
            return None;
        }
        let next = self.offset.checked_add(self.count)?;
        let more = match total {
            Some(t) => next < t,
            None => page_len as i64 >= self.count,
        };
        (more && next <= MAX_OFFSET).then_some(next)
    }

    /// The offset of the previous page, when this is not the first.
    pub fn previous(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - self.count).max(0))
    }
}

fn whole(key: &str, v: &str) -> Result<i64, SearchError> {
    v.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| SearchError::BadValue {
            param: key.to_string(),
            value: v.to_string(),
            expected: "a whole number",
        })
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

/// Splits on commas not escaped with a backslash ([search §3.1.1.4.3
/// "Escaping"](https://hl7.org/fhir/R4/search.html#escaping)).
fn split_values(key: &str, value: &str) -> Result<Vec<String>, SearchError> {
    let mut out = vec![String::new()];
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some(',') | Some('$') | Some('|') | Some('\\')) => {
                if let Some(s) = out.last_mut() {
                    s.push(chars.next().unwrap_or('\\'));
                }
            }
            ',' => {
                out.push(String::new());
                if out.len() > MAX_VALUES {
                    return Err(SearchError::Limit {
                        what: format!("values of {key}"),
                        limit: MAX_VALUES,
                    });
                }
            }
            c => {
                if let Some(s) = out.last_mut() {
                    s.push(c);
                }
            }
        }
    }
    Ok(out)
}

/// Splits `system|code` (unescaped bar).
fn split_bar(v: &str) -> (Option<String>, String) {
    match v.find('|') {
        Some(i) => (Some(v[..i].to_string()), v[i + 1..].to_string()),
        None => (None, v.to_string()),
    }
}

fn any(mut alts: Vec<Condition>) -> Condition {
    if alts.len() == 1 {
        alts.remove(0)
    } else {
        Condition::Any(alts)
    }
}

impl SearchParams {
    /// Parses one `key=value` search criterion of `resource_type` into a
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
        self.condition_at(resource_type, key, value, 0)
    }

    fn condition_at(
        &self,
        resource_type: &str,
        key: &str,
        value: &str,
        depth: usize,
    ) -> Result<Condition, SearchError> {
        if depth > MAX_CHAIN {
            return Err(SearchError::Limit {
                what: "chained and _has parameters in one criterion".into(),
                limit: MAX_CHAIN,
            });
        }
        if key == "_id" {
            return Ok(Condition::Id(split_values(key, value)?));
        }
        if key == "_lastUpdated" {
            let alts = split_values(key, value)?
                .iter()
                .map(|v| {
                    let (p, rest) = prefix_of(v);
                    let (lo, hi) = date_range(rest).ok_or_else(|| SearchError::BadValue {
                        param: key.into(),
                        value: rest.into(),
                        expected: "a date",
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
                return Err(SearchError::Syntax(format!(
                    "_has:{rest} is not _has:Type:parameter:search"
                )));
            };
            let p = self.param(src, param)?;
            if p.kind != Kind::Reference {
                return Err(SearchError::Syntax(format!(
                    "_has:{src}:{param}: {src}.{param} is not a reference parameter"
                )));
            }
            let inner = self.condition_at(src, inner_key, value, depth + 1)?;
            return Ok(Condition::Has {
                source_type: src.into(),
                param: param.into(),
                inner: Box::new(inner),
            });
        }
        // Chaining: param[:Type].rest
        if let Some(dot) = key.find('.') {
            return self.chain(
                resource_type,
                key,
                &key[..dot],
                &key[dot + 1..],
                value,
                depth,
            );
        }
        let (code, modifier) = match key.split_once(':') {
            Some((c, m)) => (c, Some(m)),
            None => (key, None),
        };
        let p = self.param(resource_type, code)?;
        if modifier == Some("missing") {
            let missing = match value {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(SearchError::BadValue {
                        param: key.into(),
                        value: value.into(),
                        expected: "true or false",
                    })
                }
            };
            return Ok(Condition::Missing {
                param: code.into(),
                tables: p.kind.tables().to_vec(),
                missing,
            });
        }
        if let Some(m) = modifier {
            let is_type = p.kind == Kind::Reference
                && m.chars().next().is_some_and(|c| c.is_ascii_uppercase());
            if !is_type && !takes_modifier(p.kind, m) {
                return Err(SearchError::BadModifier {
                    param: code.into(),
                    modifier: m.into(),
                    kind: p.kind.code(),
                });
            }
        }
        let alts = split_values(key, value)?
            .into_iter()
            .map(|v| self.one_value(p, code, modifier, &v))
            .collect::<Result<Vec<_>, SearchError>>()?;
        Ok(any(alts))
    }

    fn chain(
        &self,
        resource_type: &str,
        key: &str,
        head: &str,
        rest: &str,
        value: &str,
        depth: usize,
    ) -> Result<Condition, SearchError> {
        let (code, ty) = match head.split_once(':') {
            Some((c, t)) => (c, Some(t)),
            None => (head, None),
        };
        let p = self.param(resource_type, code)?;
        if p.kind != Kind::Reference {
            return Err(SearchError::Syntax(format!(
                "{key}: {code} is not a reference parameter, so it cannot be chained"
            )));
        }
        let chained = rest.split(['.', ':']).next().unwrap_or(rest);
        let targets: Vec<String> = match ty {
            Some(t) => vec![t.to_string()],
            None if p.targets.len() == 1 => p.targets.clone(),
            // Any target type that knows the chained parameter.
            None => p
                .targets
                .iter()
                .filter(|t| self.get(t, chained).is_some())
                .cloned()
                .collect(),
        };
        if targets.is_empty() {
            return Err(SearchError::Syntax(format!(
                "{key}: no target of {code} has a search parameter {chained:?}"
            )));
        }
        let alts = targets
            .iter()
            .map(|t| {
                Ok(Condition::Chain {
                    param: code.into(),
                    target_type: t.clone(),
                    inner: Box::new(self.condition_at(t, rest, value, depth + 1)?),
                })
            })
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
        let bad = |expected: &'static str| SearchError::BadValue {
            param: code.into(),
            value: v.into(),
            expected,
        };
        Ok(match p.kind {
            Kind::Token => match modifier {
                Some("text") => Condition::TokenText {
                    param: code.into(),
                    text: normalise(v),
                },
                _ => {
                    let (system, code_v) = split_bar(v);
                    Condition::Token {
                        param: code.into(),
                        system,
                        code: (!code_v.is_empty()).then_some(code_v),
                        not: modifier == Some("not"),
                    }
                }
            },
            Kind::String => Condition::Str {
                param: code.into(),
                value: if modifier == Some("exact") {
                    v.into()
                } else {
                    normalise(v)
                },
                mode: match modifier {
                    Some("exact") => StrMode::Exact,
                    Some("contains") => StrMode::Contains,
                    _ => StrMode::Prefix,
                },
            },
            Kind::Uri => Condition::Uri {
                param: code.into(),
                value: v.into(),
                below: modifier == Some("below"),
            },
            Kind::Date => {
                let (prefix, rest) = prefix_of(v);
                let (lo, hi) = date_range(rest).ok_or_else(|| bad("a FHIR date"))?;
                Condition::Date {
                    param: code.into(),
                    prefix,
                    lo,
                    hi,
                }
            }
            Kind::Number | Kind::Quantity => {
                let (prefix, rest) = prefix_of(v);
                let mut parts = rest.splitn(3, '|');
                let number = parts.next().unwrap_or("");
                let system = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
                let unit = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
                let (lo, hi) =
                    values::number_range(number, prefix).ok_or_else(|| bad("a number"))?;
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
                if modifier == Some("identifier") {
                    let (system, value) = split_bar(v);
                    // References by identifier are indexed as tokens of
                    // `code:identifier`.
                    return Ok(Condition::Token {
                        param: format!("{code}:identifier"),
                        system,
                        code: Some(value),
                        not: false,
                    });
                }
                let (target_type, id) = match modifier {
                    Some(t) => (Some(t.to_string()), v.to_string()),
                    None => match v.rsplit_once('/') {
                        Some((before, id)) => {
                            let ty = before.rsplit('/').next().unwrap_or(before);
                            (Some(ty.to_string()), id.to_string())
                        }
                        None => (
                            (p.targets.len() == 1).then(|| p.targets[0].clone()),
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
                return Err(SearchError::Unsupported {
                    param: code.into(),
                    what: "a composite or special parameter",
                })
            }
        })
    }

    /// Parses a whole search request into a query and its result shape.
    /// Unknown parameters are errors when `strict` (`Prefer:
    /// handling=strict`), else ignored (and left out of the self link).
    ///
    /// # Errors
    /// A malformed value, a limit passed, or (when strict) an unknown
    /// parameter.
    pub fn query(
        &self,
        resource_type: Option<&str>,
        params: &[(String, String)],
        strict: bool,
    ) -> Result<(Query, Shape), SearchError> {
        let paging = Paging::parse(params)?;
        // `_type` narrows a search of all types to some; their parameters
        // may then be used where all of them have it, meaning the same.
        let types: Vec<String> = match resource_type {
            Some(_) => Vec::new(),
            None => types_of(params),
        };
        let mut q = Query {
            resource_type: resource_type.map(str::to_string),
            types: types.clone(),
            count: paging.count,
            offset: paging.offset,
            ..Query::default()
        };
        let sort_type = resource_type.or(types.first().map(String::as_str));
        let mut shape = Shape::default();
        for (k, v) in params {
            let keep = (k.clone(), v.clone());
            match k.as_str() {
                "_count" | "_offset" => {}
                "_sort" => {
                    for key in v.split(',').filter(|s| !s.is_empty()) {
                        let (name, desc) = match key.strip_prefix('-') {
                            Some(n) => (n, true),
                            None => (key, false),
                        };
                        let sort_key = match name {
                            "_id" => SortKey::Id,
                            "_lastUpdated" => SortKey::LastUpdated,
                            _ if types.len() > 1 => {
                                return Err(SearchError::Unsupported {
                                    param: "_sort".into(),
                                    what: "sorting a search of several types by a search parameter (sort by _id or _lastUpdated)",
                                })
                            }
                            _ => {
                                let p =
                                    sort_type.and_then(|t| self.get(t, name)).ok_or_else(|| {
                                        SearchError::UnknownParameter {
                                            resource_type: sort_type.unwrap_or("every type").into(),
                                            code: name.into(),
                                        }
                                    })?;
                                let Some(table) = p.kind.tables().first() else {
                                    return Err(SearchError::Unsupported {
                                        param: "_sort".into(),
                                        what: "sorting by a composite or special parameter",
                                    });
                                };
                                SortKey::Param {
                                    param: name.into(),
                                    table: *table,
                                }
                            }
                        };
                        q.sort.push((sort_key, desc));
                    }
                }
                "_include" | "_include:iterate" | "_revinclude" | "_revinclude:iterate" => {
                    let inc = Include::parse(self, k, v)?;
                    let iterate = k.ends_with("iterate");
                    if k.starts_with("_include") {
                        shape.include.push((inc, iterate));
                    } else {
                        shape.revinclude.push((inc, iterate));
                    }
                }
                "_summary" => {
                    if !matches!(v.as_str(), "true" | "false" | "text" | "data" | "count") {
                        return Err(SearchError::BadValue {
                            param: k.clone(),
                            value: v.clone(),
                            expected: "true, false, text, data or count",
                        });
                    }
                    shape.summary = Some(v.clone());
                }
                "_elements" => shape.elements = v.split(',').map(str::to_string).collect(),
                "_total" => {
                    q.total = match v.as_str() {
                        "none" => Total::None,
                        "estimate" | "accurate" => Total::Accurate,
                        _ => {
                            return Err(SearchError::BadValue {
                                param: k.clone(),
                                value: v.clone(),
                                expected: "none, estimate or accurate",
                            })
                        }
                    }
                }
                "_format" | "_pretty" => continue,
                "_type" if resource_type.is_none() => {}
                _ => {
                    match self.criterion(resource_type, &types, k, v) {
                        Ok(c) => q.conditions.push(c),
                        Err(SearchError::UnknownParameter { .. }) if !strict => continue,
                        Err(e) => return Err(e),
                    }
                    if q.conditions.len() > MAX_CRITERIA {
                        return Err(SearchError::Limit {
                            what: "search criteria".into(),
                            limit: MAX_CRITERIA,
                        });
                    }
                }
            }
            shape.used.push(keep);
        }
        if shape.summary.as_deref() == Some("count") {
            // The count is the whole answer: it is never bounded or left out.
            q.count = 0;
            q.total = Total::Accurate;
        }
        Ok((q, shape))
    }

    /// One criterion of a search of `resource_type` (None: all types, or
    /// the `types` of `_type`, which take the parameters they all have,
    /// meaning the same on each; all types take `_id` and `_lastUpdated`
    /// only).
    fn criterion(
        &self,
        resource_type: Option<&str>,
        types: &[String],
        key: &str,
        value: &str,
    ) -> Result<Condition, SearchError> {
        match resource_type {
            Some(rt) => self.condition(rt, key, value),
            None if !types.is_empty() => {
                let first = self.condition(&types[0], key, value)?;
                for t in &types[1..] {
                    if self.condition(t, key, value)? != first {
                        return Err(SearchError::Unsupported {
                            param: key.into(),
                            what: "a parameter that means different things on the types of _type",
                        });
                    }
                }
                Ok(first)
            }
            None if key == "_id" || key == "_lastUpdated" => self.condition("Resource", key, value),
            None => Err(SearchError::UnknownParameter {
                resource_type: "a search of all types (which takes _id and _lastUpdated)".into(),
                code: key.into(),
            }),
        }
    }

    /// The criteria of a conditional interaction (`If-None-Exist`, a
    /// conditional update, delete or patch, a conditional reference):
    /// result parameters are not criteria and are left out, and an
    /// unknown parameter is an error, because ignoring it would widen the
    /// match ([http §3.1.0.8](https://hl7.org/fhir/R4/http.html#cond-update)).
    ///
    /// # Errors
    /// An unknown parameter or a malformed value.
    pub fn criteria(
        &self,
        resource_type: &str,
        params: &[(String, String)],
    ) -> Result<Vec<Condition>, SearchError> {
        let mut out = Vec::new();
        for (k, v) in params {
            if RESULT_PARAMETERS.contains(&k.as_str()) {
                continue;
            }
            out.push(self.condition(resource_type, k, v)?);
            if out.len() > MAX_CRITERIA {
                return Err(SearchError::Limit {
                    what: "search criteria".into(),
                    limit: MAX_CRITERIA,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_is_parsed_once_with_limits() {
        let p = Paging::parse(&[
            ("_count".into(), "7".into()),
            ("_offset".into(), "14".into()),
        ])
        .unwrap();
        assert_eq!((p.count, p.offset), (7, 14));
        assert_eq!(p.next(Some(30), 7), Some(21));
        assert_eq!(p.next(Some(21), 7), None);
        assert_eq!(p.previous(), Some(7));
        assert!(matches!(
            Paging::parse(&[("_count".into(), "x".into())]),
            Err(SearchError::BadValue { .. })
        ));
        assert!(matches!(
            Paging::parse(&[("_offset".into(), "99999999999999999".into())]),
            Err(SearchError::BadValue { .. } | SearchError::Limit { .. })
        ));
    }

    #[test]
    fn a_huge_offset_never_gives_a_negative_link() {
        let p = Paging {
            count: MAX_COUNT,
            offset: MAX_OFFSET,
        };
        assert_eq!(p.next(Some(i64::MAX), 1000), None);
        assert!(p.previous().unwrap() >= 0);
    }

    #[test]
    fn too_many_values_is_a_limit_error() {
        let many = vec!["a"; MAX_VALUES + 1].join(",");
        assert!(matches!(
            split_values("code", &many),
            Err(SearchError::Limit { .. })
        ));
        assert_eq!(split_values("code", "a\\,b,c").unwrap(), vec!["a,b", "c"]);
    }
}
