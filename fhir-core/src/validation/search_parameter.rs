//! SearchParameter definitions (R4 `searchparameter.html`) and the search
//! parameters a CapabilityStatement declares (`capabilitystatement.html`):
//! the rules that relate one to another, which the element walk cannot see.

use serde_json::{json, Value};

use super::issue::{issue, Issue, Severity};
use super::Validator;
use super::{array, strings};
use crate::fhirpath::{Context, Expr, Expression, Item, Node};

/// A SearchParameter (R4 `searchparameter.html`): its code avoids the
/// characters the search syntax gives meaning to (`.`, `$`, `|`); its
/// expression is a FHIRPath expression on its base types
/// (SearchParameter.expression); a composite parameter has components
/// (SearchParameter.component, at least two, as the reference validator
/// asks); and one derived from another (SearchParameter.derivedFrom: "the
/// details in the search parameter must be consistent with the definition
/// from which it is defined") applies to the bases that one does and is of
/// its type, and an expression that selects other elements is a warning.
pub(super) fn check(v: &Validator, sp: &Value, issues: &mut Vec<Issue>) {
    const AT: &str = "SearchParameter";
    if let Some(code) = sp.get("code").and_then(Value::as_str) {
        for c in ['.', '$', '|'] {
            if code.contains(c) {
                issues.push(issue(
                    Severity::Warning,
                    "invalid",
                    AT,
                    format!("The Search Parameter code '{code}' includes '{c}' which has special meaning in the RESTful API, and so this will be a problem"),
                ));
            }
        }
    }
    let bases = strings(sp, "base");
    let expression = sp.get("expression").and_then(Value::as_str);
    if let Some(source) = expression.filter(|_| !bases.is_empty()) {
        if let Err(message) = applies_to(v, source, &bases) {
            issues.push(issue(
                Severity::Error,
                "invalid",
                "SearchParameter.expression",
                format!("Error in search expression '{source}': {message}"),
            ));
        }
    }
    if let Some(master) = sp
        .get("derivedFrom")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
    {
        match v.registry.search_parameter(master) {
            None => issues.push(issue(
                Severity::Warning,
                "business-rule",
                AT,
                format!("Unable to find the base Search Parameter {master} so can't check that this SearchParameter is a proper derivation from it"),
            )),
            Some(parent) => {
                let parent_bases = strings(parent, "base");
                for base in &bases {
                    if !parent_bases.contains(base) && !parent_bases.contains(&"Resource") {
                        issues.push(issue(
                            Severity::Error,
                            "business-rule",
                            AT,
                            format!("The resource type {base} is not listed as a base in the SearchParameter this is derived from ({master})"),
                        ));
                    }
                }
                let parent_type = parent.get("type").and_then(Value::as_str).unwrap_or("");
                if let Some(ty) = sp.get("type").and_then(Value::as_str) {
                    if ty != parent_type {
                        issues.push(issue(
                            Severity::Error,
                            "business-rule",
                            AT,
                            format!("The type {ty} is different to the type {parent_type} in the derivedFrom SearchParameter {master}"),
                        ));
                    }
                }
                let theirs = parent.get("expression").and_then(Value::as_str);
                if let (Some(ours), Some(theirs)) = (expression, theirs) {
                    let same = ours == theirs
                        || matches!(
                            (union_terms(v, ours, &bases), union_terms(v, theirs, &bases)),
                            (Some(a), Some(b)) if a == b
                        );
                    if !same {
                        issues.push(issue(
                            Severity::Warning,
                            "business-rule",
                            AT,
                            format!("The expression '{ours}' is not compatible with the expression '{theirs}' in the derivedFrom SearchParameter {master}, and this likely indicates that the derivation relationship is not valid"),
                        ));
                    }
                }
            }
        }
    }
    if sp.get("type").and_then(Value::as_str) == Some("composite")
        && array(sp, "component").len() < 2
    {
        issues.push(issue(
            Severity::Error,
            "business-rule",
            AT,
            "When the SearchParameter has a type of 'composite', then the SearchParameter must define two or more components",
        ));
    }
}

/// Whether `source` is an expression on the base types: it is evaluated,
/// with names the types lack as errors, on an empty instance of each base
/// together (a name valid for any of them is valid). `Ok` when a base is
/// not a known type (its binding reports that).
fn applies_to(v: &Validator, source: &str, bases: &[&str]) -> Result<(), String> {
    let expr = Expression::parse(source).map_err(|e| e.message)?;
    let Some(types) = bases
        .iter()
        .map(|b| v.model.type_name(b))
        .collect::<Option<Vec<&str>>>()
    else {
        return Ok(());
    };
    let instances: Vec<Value> = types.iter().map(|t| json!({ "resourceType": t })).collect();
    let focus: Vec<Item> = instances
        .iter()
        .zip(&types)
        .map(|(value, ty)| {
            Item::Node(Node {
                value: Some(value),
                extension: None,
                ty,
            })
        })
        .collect();
    let ctx = Context {
        model: Some(&v.model),
        registry: Some(v.registry),
        strict: true,
        ..Context::default()
    };
    let resource = focus.first().cloned();
    expr.evaluate_on(focus, resource, &ctx)
        .map(|_| ())
        .map_err(|e| e.message)
}

/// The paths of a union of paths (`Organization.name | Organization.alias`),
/// sorted, less those rooted in a resource type that is not one of
/// `bases`: two such expressions are the same search on those bases when
/// their terms are. `None` when the expression is not a union of paths.
fn union_terms(v: &Validator, source: &str, bases: &[&str]) -> Option<Vec<String>> {
    fn path(e: &Expr) -> Option<(String, String)> {
        match e {
            Expr::Identifier(name) => Some((name.clone(), name.clone())),
            Expr::Member(target, name) => {
                let (root, text) = path(target)?;
                Some((root, format!("{text}.{name}")))
            }
            _ => None,
        }
    }
    fn terms(e: &Expr, out: &mut Vec<(String, String)>) -> Option<()> {
        match e {
            Expr::Binary("|", left, right) => {
                terms(left, out)?;
                terms(right, out)
            }
            _ => {
                out.push(path(e)?);
                Some(())
            }
        }
    }
    let expr = Expression::parse(source).ok()?;
    let mut all = Vec::new();
    terms(expr.ast(), &mut all)?;
    let mut kept: Vec<String> = all
        .into_iter()
        .filter(|(root, _)| !v.is_resource_type(root) || bases.contains(&root.as_str()))
        .map(|(_, text)| text)
        .collect();
    kept.sort();
    Some(kept)
}

/// A CapabilityStatement's search parameters (R4
/// CapabilityStatement.rest.resource.searchParam.type: "It SHALL be the
/// same as the type in the search parameter definition"): each one whose
/// definition is loaded has that definition's type.
pub(super) fn check_capability_statement(v: &Validator, cs: &Value, issues: &mut Vec<Issue>) {
    for (r, rest) in array(cs, "rest").iter().enumerate() {
        for (i, resource) in array(rest, "resource").iter().enumerate() {
            for (k, param) in array(resource, "searchParam").iter().enumerate() {
                let Some(sp) = param
                    .get("definition")
                    .and_then(Value::as_str)
                    .and_then(|d| v.registry.search_parameter(d))
                else {
                    continue;
                };
                let theirs = sp.get("type").and_then(Value::as_str).unwrap_or("");
                let ours = param.get("type").and_then(Value::as_str).unwrap_or("");
                if theirs != ours {
                    let url = sp.get("url").and_then(Value::as_str).unwrap_or("");
                    let versioned = match sp.get("version").and_then(Value::as_str) {
                        Some(version) => format!("{url}|{version}"),
                        None => url.to_string(),
                    };
                    issues.push(issue(
                        Severity::Error,
                        "invalid",
                        &format!("CapabilityStatement.rest[{r}].resource[{i}].searchParam[{k}]"),
                        format!("Type mismatch - SearchParameter '{versioned}' type is {theirs}, but type here is {ours}"),
                    ));
                }
            }
        }
    }
}
