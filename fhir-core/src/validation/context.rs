//! Where an extension may be used: its definition's `context` (element
//! paths and types, parent extensions, FHIRPath) and `contextInvariant`,
//! and the FHIR versions the definition and each context are for.

use serde_json::Value;

use super::Validator;
use crate::fhirpath::{Context, Item, Node};

/// The element an extension sits on.
pub(super) struct Host<'a> {
    /// Its element definition's path: `Patient.contact`, `Address`,
    /// `Extension`.
    pub def_path: &'a str,
    /// Its type: `BackboneElement`, `Address`, `boolean`, `Patient`.
    pub ty: &'a str,
    /// Its location in the instance: `Patient.address[0]`.
    pub instance_path: &'a str,
    /// Its value, when it is a complex element.
    pub value: Option<&'a Value>,
    /// The URL of the extension it is, when it is itself an extension.
    pub parent_extension: Option<&'a str>,
}

/// `Err(message)` when the extension defined by `sd` may not sit on
/// `host`; `root` is the resource that holds it (FHIRPath contexts are
/// evaluated on it), and `conforms` says whether it conforms to a profile
/// (an element context may name a profile's element, `url#Patient`).
pub(super) fn check(
    v: &Validator,
    sd: &Value,
    host: &Host,
    root: &Value,
    conforms: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    let declared: Vec<(&Value, &str, &str)> = sd
        .get("context")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some((
                c,
                c.get("type").and_then(Value::as_str)?,
                c.get("expression").and_then(Value::as_str)?,
            ))
        })
        .collect();
    let url = sd.get("url").and_then(Value::as_str).unwrap_or("");
    // The spec's own tooling extensions are placed where its publishing
    // tools put them, not always where their context says; the reference
    // validator does not hold them to it either.
    if url.starts_with("http://hl7.org/fhir/StructureDefinition/structuredefinition-") {
        return Ok(());
    }
    if let Some(Err((bound, version))) = version_range(sd).map(in_range) {
        return Err(format!(
            "The definition of the extension '{url}' specifies that the {bound} version it can be used with is {version}, but this context of use is version {R4_VERSION}"
        ));
    }
    // Contexts limited to other FHIR versions do not apply here.
    let restricted = declared.iter().any(|(c, _, _)| version_range(c).is_some());
    let contexts: Vec<(&str, &str)> = declared
        .iter()
        .filter(|(c, _, _)| version_range(c).is_none_or(|r| in_range(r).is_ok()))
        .map(|(_, t, e)| (*t, *e))
        .collect();
    if !declared.is_empty()
        && !contexts
            .iter()
            .any(|(t, e)| matches(v, t, e, host, root, conforms))
    {
        let names = names(v, host);
        let allowed: Vec<String> = contexts.iter().map(|(t, e)| format!("{e} ({t})")).collect();
        let which = if restricted {
            "this version"
        } else {
            "this extension"
        };
        return Err(format!(
            "The extension {url} is not allowed to be used at this point (this element is [{}]; allowed for {which} are {})",
            names.join(", "),
            allowed.join(", ")
        ));
    }
    for inv in sd
        .get("contextInvariant")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let Some(value) = host.value else { continue };
        let Some(expr) = v.expression(inv) else {
            continue;
        };
        let focus = vec![Item::Node(Node {
            value: Some(value),
            extension: None,
            ty: host.ty,
        })];
        let ctx = Context {
            model: Some(&v.model),
            registry: Some(v.registry),
            ..Context::default()
        };
        if let Ok(r) = expr.evaluate_on(focus, None, &ctx) {
            if r.len() == 1 && matches!(r[0].to_system(), Some(Item::Boolean(false))) {
                return Err(format!(
                    "The extension {url} is not allowed to be used at this point (based on context invariant '{inv}')"
                ));
            }
        }
    }
    Ok(())
}

/// The FHIR version this validator implements, and its major.minor.
const R4_VERSION: &str = "4.0.1";
const R4: (u32, u32) = (4, 0);

/// The FHIR versions a definition or one of its contexts is for, from its
/// `version-specific-use` extension (FHIR Extensions Pack: "the element
/// carrying this extension is only a correct value for a particular range
/// of FHIR versions"; `startFhirVersion`, `endFhirVersion`, either may be
/// absent). `None` when it carries none.
fn version_range(element: &Value) -> Option<(Option<&str>, Option<&str>)> {
    const EXT: &str = "http://hl7.org/fhir/StructureDefinition/version-specific-use";
    let ext = element
        .get("extension")?
        .as_array()?
        .iter()
        .find(|x| x.get("url").and_then(Value::as_str) == Some(EXT))?;
    let part = |name: &str| {
        ext.get("extension")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|x| x.get("url").and_then(Value::as_str) == Some(name))
            .and_then(|x| x.get("valueCode"))
            .and_then(Value::as_str)
    };
    Some((part("startFhirVersion"), part("endFhirVersion")))
}

/// Whether R4 lies in a version range, compared by major.minor as the
/// reference validator compares; otherwise the bound it falls outside
/// (`("earliest", "4.3")`).
fn in_range<'a>(
    (start, end): (Option<&'a str>, Option<&'a str>),
) -> Result<(), (&'static str, &'a str)> {
    if let Some(s) = start.filter(|s| major_minor(s).is_some_and(|v| R4 < v)) {
        return Err(("earliest", s));
    }
    if let Some(e) = end.filter(|e| major_minor(e).is_some_and(|v| R4 > v)) {
        return Err(("latest", e));
    }
    Ok(())
}

/// A version's major.minor (`4.0.1` is 4.0, `5` is 5.0).
fn major_minor(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// The names the host answers to: its definition path, its path in the
/// instance without indexes, its type and the types it specialises.
fn names(v: &Validator, host: &Host) -> Vec<String> {
    let mut out = vec![host.def_path.to_string()];
    let plain: String = host
        .instance_path
        .split('.')
        .map(|s| s.split('[').next().unwrap_or(s))
        .collect::<Vec<_>>()
        .join(".");
    if !out.contains(&plain) {
        out.push(plain);
    }
    // `ContactPoint.system` names `Patient.telecom.system`.
    if let Some((parent, last)) = host.def_path.rsplit_once('.') {
        if let Some(parent_ty) = v.type_along(parent) {
            let by_type = format!("{parent_ty}.{last}");
            if !out.contains(&by_type) {
                out.push(by_type);
            }
        }
    }
    if !out.iter().any(|n| n == host.ty) {
        out.push(host.ty.to_string());
    }
    if !host.def_path.contains('.') && v.is_resource_type(host.def_path) {
        out.push("DomainResource".into());
        out.push("Resource".into());
    }
    out.push("Element".into());
    out.push("Base".into());
    out
}

/// Whether one context admits the host (StructureDefinition.context,
/// `extensibility.html#context`): an element context names the host's
/// path or type (or one it specialises; `Element` and `Any` admit every
/// element), and when it is given as a profile's element (`url#path`) the
/// resource must also conform to that profile; an extension context names
/// the extension the host is; a FHIRPath context selects the host.
fn matches(
    v: &Validator,
    ty: &str,
    expression: &str,
    host: &Host,
    root: &Value,
    conforms: &dyn Fn(&str) -> bool,
) -> bool {
    match ty {
        "element" => {
            let (profile, expression) = match expression.split_once('#') {
                Some((p, e)) => (Some(p), e),
                None => (None, expression),
            };
            if matches!(expression, "Element" | "Any") {
                return true;
            }
            if let Some(p) = profile {
                let rt = root
                    .get("resourceType")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let base = format!("http://hl7.org/fhir/StructureDefinition/{rt}");
                if p.split('|').next() != Some(base.as_str()) && !conforms(p) {
                    return false;
                }
            }
            let names = names(v, host);
            if names.iter().any(|n| n == expression) {
                return true;
            }
            // `DomainResource.text` names `Patient.text`.
            match expression.split_once('.') {
                Some(("DomainResource" | "Resource", rest)) => names.iter().any(|n| {
                    n.split_once('.')
                        .is_some_and(|(head, tail)| tail == rest && v.is_resource_type(head))
                }),
                _ => false,
            }
        }
        "extension" => host.parent_extension == Some(expression),
        "fhirpath" => {
            let Some(value) = host.value else {
                return true;
            };
            let Some(expr) = v.expression(expression) else {
                return true;
            };
            let ctx = Context {
                model: Some(&v.model),
                registry: Some(v.registry),
                ..Context::default()
            };
            match expr.evaluate(root, &ctx) {
                Ok(items) => items.iter().any(|i| match i {
                    Item::Node(n) => n.value.is_some_and(|x| std::ptr::eq(x, value)),
                    _ => false,
                }),
                Err(_) => true,
            }
        }
        _ => true,
    }
}
