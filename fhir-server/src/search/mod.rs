//! Search: the one search-parameter registry (from the loaded
//! SearchParameter resources: base R4 and our guide), extraction of index
//! entries with the one FHIRPath engine, and parsing of search URLs into a
//! store [`Query`](crate::store::Query).
//!
//! Search parameters are data: every parameter the server knows comes
//! from a SearchParameter resource, and each parameter *type* is
//! implemented once (`values` for indexing, `parse` for searching). The
//! modifiers each type takes are the table [`MODIFIERS`], which the parser
//! checks against and the CapabilityStatement lists.

mod parse;
mod values;

use std::collections::HashMap;
use std::sync::Arc;

use fhir_core::fhirpath::{Context, Expression, ModelInfo};
use fhir_core::package::Registry;
use serde_json::Value;

use crate::store::{IndexEntry, Table};
pub use parse::types_of;
pub use parse::{
    Include, Paging, SearchError, Shape, DEFAULT_COUNT, MAX_CHAIN, MAX_COUNT, MAX_CRITERIA,
    MAX_OFFSET, MAX_VALUES, RESULT_PARAMETERS,
};
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

impl Kind {
    /// The code of this type in SearchParameter and CapabilityStatement.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Number => "number",
            Kind::Date => "date",
            Kind::String => "string",
            Kind::Token => "token",
            Kind::Reference => "reference",
            Kind::Quantity => "quantity",
            Kind::Uri => "uri",
            Kind::Other => "special",
        }
    }

    /// The index tables a parameter of this type writes to (references
    /// also index canonical URLs as URIs).
    pub fn tables(self) -> &'static [Table] {
        match self {
            Kind::Number | Kind::Quantity => &[Table::Number],
            Kind::Date => &[Table::Date],
            Kind::String => &[Table::Str],
            Kind::Token => &[Table::Token],
            Kind::Reference => &[Table::Reference, Table::Uri],
            Kind::Uri => &[Table::Uri],
            Kind::Other => &[],
        }
    }
}

/// The modifiers each parameter type supports here (`:missing` applies to
/// every type; a reference also takes a resource type as its modifier).
pub const MODIFIERS: &[(Kind, &[&str])] = &[
    (Kind::String, &["missing", "exact", "contains"]),
    (Kind::Token, &["missing", "not", "text"]),
    (Kind::Uri, &["missing", "below"]),
    (Kind::Reference, &["missing", "identifier", "[type]"]),
    (Kind::Date, &["missing"]),
    (Kind::Number, &["missing"]),
    (Kind::Quantity, &["missing"]),
];

/// Whether parameters of `kind` take `modifier`.
fn takes_modifier(kind: Kind, modifier: &str) -> bool {
    MODIFIERS
        .iter()
        .find(|(k, _)| *k == kind)
        .is_some_and(|(_, ms)| ms.contains(&modifier))
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
        // AuditEvents are written for every access, so each of their index
        // entries is paid for on every request: they are indexed for the
        // searches of an audit (who, whose data, what, when, how it ended,
        // which interaction) and no others. The CapabilityStatement, read
        // from this registry, lists just these.
        const AUDIT_EVENT: &[&str] = &[
            "patient", "agent", "date", "entity", "outcome", "type", "subtype", "action",
        ];
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
                if base == "AuditEvent" && !AUDIT_EVENT.contains(&code) {
                    continue;
                }
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

    /// The parameter `code` of `resource_type`, or the error that names
    /// what is unknown.
    ///
    /// # Errors
    /// [`SearchError::UnknownParameter`] when the type has no such
    /// parameter.
    pub fn param(&self, resource_type: &str, code: &str) -> Result<&Arc<SearchParam>, SearchError> {
        self.get(resource_type, code)
            .ok_or_else(|| SearchError::UnknownParameter {
                resource_type: resource_type.into(),
                code: code.into(),
            })
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

    /// The parameters every resource type has (`_tag`, `_profile`, …).
    pub fn common(&self) -> Vec<&Arc<SearchParam>> {
        let mut v: Vec<_> = ["Resource", "DomainResource"]
            .iter()
            .filter_map(|t| self.by_type.get(*t))
            .flat_map(|m| m.values())
            .collect();
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
        params.extend(self.common());
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

    /// The `Type/id` targets a resource's reference parameter `param` (or
    /// every reference parameter of its type, for `*`) points at,
    /// restricted to `target` when given: for `_include`.
    pub fn reference_targets(
        &self,
        resource: &Value,
        param: &str,
        target: Option<&str>,
        model: &ModelInfo,
    ) -> Vec<(String, String)> {
        let rt = resource["resourceType"].as_str().unwrap_or("");
        let params: Vec<&Arc<SearchParam>> = if param == "*" {
            self.of_type(rt)
                .into_iter()
                .filter(|p| p.kind == Kind::Reference)
                .collect()
        } else {
            self.get(rt, param).into_iter().collect()
        };
        let mut out = Vec::new();
        for p in params {
            let mut entries = Vec::new();
            let ctx = Context {
                model: Some(model),
                ..Context::default()
            };
            if let Some(Ok(items)) = p.expression.as_ref().map(|e| e.evaluate(resource, &ctx)) {
                for item in &items {
                    values::entries(p, item, &mut entries);
                }
            }
            for e in entries {
                if let crate::store::IndexValue::Reference { target_type, id } = e.value {
                    if target.is_none_or(|want| want == target_type) {
                        out.push((target_type, id));
                    }
                }
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
