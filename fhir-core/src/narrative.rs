//! A narrative generator: the human-readable `text` of a resource, made
//! from its content, for resources that have none (a resource without one
//! draws the spec's `dom-6` warning).
//!
//! The XHTML is what FHIR narratives may hold (`txt-1`: the basic HTML
//! formatting elements, no scripts, no attributes but `xmlns`): a heading,
//! then a table with one row per element, values rendered by their shape:
//! a CodeableConcept by its text or its codings' displays, a Reference by
//! its display or what it points at, an Identifier by its value, a Period
//! as a range, a Quantity with its unit, an extension by the last part of
//! its URL; anything else as nested lists. It needs no type definitions, so
//! it works on any resource, profiled or not; the status is `generated`.
//!
//! # Example
//! ```
//! use fhir_core::narrative;
//! let mut flag = serde_json::json!({"resourceType": "Flag", "id": "f1", "status": "active",
//!     "code": {"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/flag-code",
//!                          "code": "is-a-carer", "display": "Is a carer"}]},
//!     "subject": {"reference": "Patient/mary", "display": "Mary Jones"}});
//! narrative::add(&mut flag);
//! assert_eq!(flag["text"]["status"], "generated");
//! let div = flag["text"]["div"].as_str().unwrap();
//! assert!(div.starts_with(r#"<div xmlns="http://www.w3.org/1999/xhtml">"#));
//! assert!(div.contains("<td>Is a carer</td>") && div.contains("Mary Jones"));
//! ```

use serde_json::{json, Map, Value};

/// Elements that are not content, or are rendered apart.
const SKIPPED: &[&str] = &[
    "resourceType",
    "id",
    "meta",
    "text",
    "contained",
    "implicitRules",
    "language",
];

/// How deep nested elements are rendered; below that, "…".
const MAX_DEPTH: usize = 6;

/// The narrative (`{"status": "generated", "div": …}`) of `resource`, made
/// from everything in it but `text`.
///
/// # Examples
/// ```
/// let p = serde_json::json!({"resourceType": "Patient",
///     "name": [{"family": "Jones", "given": ["Mary"]}], "birthDate": "1958-03-14"});
/// let text = fhir_core::narrative::generate(&p);
/// let div = text["div"].as_str().unwrap();
/// assert!(div.contains("<b>Patient</b>"));
/// assert!(div.contains("<th>Name</th><td>Mary Jones</td>"));
/// assert!(div.contains("<th>Birth date</th><td>1958-03-14</td>"));
/// ```
pub fn generate(resource: &Value) -> Value {
    json!({"status": "generated", "div": div(resource)})
}

/// The narrative's XHTML `div` for `resource`.
pub fn div(resource: &Value) -> String {
    let ty = resource["resourceType"].as_str().unwrap_or("Resource");
    let mut out = String::from(r#"<div xmlns="http://www.w3.org/1999/xhtml">"#);
    out.push_str(&format!("<p><b>{}</b>", escape(ty)));
    if let Some(id) = resource["id"].as_str() {
        out.push_str(&format!(" {}", escape(id)));
    }
    out.push_str("</p>");
    let rows: Vec<(String, String)> = resource
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !SKIPPED.contains(&k.as_str()) && !k.starts_with('_'))
        .flat_map(|(k, v)| element_rows(k, v, 1))
        .collect();
    if !rows.is_empty() {
        out.push_str("<table>");
        for (name, value) in rows {
            out.push_str(&format!("<tr><th>{name}</th><td>{value}</td></tr>"));
        }
        out.push_str("</table>");
    }
    out.push_str("</div>");
    out
}

/// Adds a generated narrative to `resource` when it has none, and to each
/// resource of a Bundle's entries and each contained resource that has
/// none. The `text` element goes where FHIR JSON puts it: after `id`,
/// `meta`, `implicitRules` and `language`.
///
/// # Examples
/// ```
/// let mut b = serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": [
///     {"resource": {"resourceType": "Basic", "id": "b1",
///                   "code": {"text": "A note"}}}]});
/// fhir_core::narrative::add(&mut b);
/// assert!(b.get("text").is_none()); // a Bundle has no narrative
/// assert!(b["entry"][0]["resource"]["text"]["div"].as_str().unwrap().contains("A note"));
/// ```
pub fn add(resource: &mut Value) {
    let ty = resource["resourceType"].as_str().unwrap_or("").to_string();
    if let Some(entries) = resource.get_mut("entry").and_then(Value::as_array_mut) {
        for e in entries {
            if let Some(r) = e.get_mut("resource") {
                add(r);
            }
        }
    }
    if let Some(contained) = resource.get_mut("contained").and_then(Value::as_array_mut) {
        for c in contained {
            add(c);
        }
    }
    // Bundle, Binary and Parameters are not DomainResources: no narrative.
    if matches!(ty.as_str(), "" | "Bundle" | "Binary" | "Parameters")
        || resource.get("text").is_some()
    {
        return;
    }
    let text = generate(resource);
    let Some(obj) = resource.as_object_mut() else {
        return;
    };
    let mut out = Map::new();
    let before = ["resourceType", "id", "meta", "implicitRules", "language"];
    for k in before {
        if let Some(v) = obj.remove(k) {
            out.insert(k.to_string(), v);
        }
    }
    out.insert("text".into(), text);
    for (k, v) in std::mem::take(obj) {
        out.insert(k, v);
    }
    *obj = out;
}

/// The rows an element makes: one per element, its label and its value's
/// rendering; extensions make one row each, labelled by their URL.
fn element_rows(name: &str, value: &Value, depth: usize) -> Vec<(String, String)> {
    if name == "extension" || name == "modifierExtension" {
        return value
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    escape(&extension_label(e)),
                    render(&extension_value(e), depth),
                )
            })
            .collect();
    }
    vec![(escape(&label(name)), render(value, depth))]
}

/// `hoursCaringPerWeek` → "Hours caring per week"; `birthDate` → "Birth date".
fn label(name: &str) -> String {
    let name = name
        .strip_prefix("value")
        .filter(|r| r.starts_with(char::is_uppercase))
        .map_or(name, |_| "value");
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out.replace(['-', '_'], " ")
}

/// An extension's label: the last segment of its URL, as words.
fn extension_label(e: &Value) -> String {
    let url = e["url"].as_str().unwrap_or("extension");
    let last = url.rsplit(['/', '#']).next().unwrap_or(url);
    let last = last.strip_prefix("Extension-UKCore-").unwrap_or(last);
    label(last)
}

/// An extension's value, or its sub-extensions as an object by name.
fn extension_value(e: &Value) -> Value {
    if let Some((_, v)) = e
        .as_object()
        .into_iter()
        .flatten()
        .find(|(k, _)| k.starts_with("value"))
    {
        return v.clone();
    }
    let mut parts = Map::new();
    for sub in e["extension"].as_array().into_iter().flatten() {
        let key = sub["url"].as_str().unwrap_or("extension");
        let key = key.rsplit(['/', '#']).next().unwrap_or(key).to_string();
        parts.insert(key, extension_value(sub));
    }
    Value::Object(parts)
}

/// A value's XHTML (escaped), by its shape.
fn render(v: &Value, depth: usize) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Value::Number(n) => escape(&n.to_string()),
        Value::String(s) => escape(s),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| render(i, depth))
                .filter(|s| !s.is_empty())
                .collect();
            match parts.len() {
                0 => String::new(),
                1 => parts.into_iter().next().unwrap_or_default(),
                _ => format!(
                    "<ul>{}</ul>",
                    parts
                        .iter()
                        .map(|p| format!("<li>{p}</li>"))
                        .collect::<String>()
                ),
            }
        }
        Value::Object(m) => summary(m).map(|s| escape(&s)).unwrap_or_else(|| {
            if depth >= MAX_DEPTH {
                return "…".to_string();
            }
            let parts: Vec<String> = m
                .iter()
                .filter(|(k, _)| !k.starts_with('_') && k.as_str() != "id")
                .flat_map(|(k, v)| element_rows(k, v, depth + 1))
                .map(|(l, value)| format!("<li><b>{l}</b>: {value}</li>"))
                .collect();
            if parts.is_empty() {
                String::new()
            } else {
                format!("<ul>{}</ul>", parts.concat())
            }
        }),
    }
}

/// The one-line text of a value of a common data type, told by its shape;
/// `None` for anything else.
fn summary(m: &Map<String, Value>) -> Option<String> {
    let s = |k: &str| m.get(k).and_then(Value::as_str);
    // CodeableConcept: its text, else its codings.
    if let Some(codings) = m.get("coding").and_then(Value::as_array) {
        if let Some(t) = s("text") {
            return Some(t.to_string());
        }
        let parts: Vec<String> = codings
            .iter()
            .filter_map(Value::as_object)
            .filter_map(summary)
            .collect();
        return Some(parts.join("; "));
    }
    // Quantity (and Money, Duration).
    if let Some(n) = m.get("value").filter(|v| v.is_number()) {
        // A Quantity's unit is for people; its UCUM code is the fallback.
        let unit = s("unit").or(s("code")).or(s("currency")).unwrap_or("");
        return Some(format!("{n} {unit}").trim().to_string());
    }
    // Coding.
    if m.contains_key("code")
        && (m.contains_key("system") || m.contains_key("display"))
        && m.len() <= 5
        && m.get("code").is_some_and(Value::is_string)
    {
        return Some(match (s("display"), s("code")) {
            (Some(d), _) => d.to_string(),
            (None, Some(c)) => c.to_string(),
            _ => String::new(),
        });
    }
    // Reference.
    if m.contains_key("reference")
        || (m.contains_key("identifier") && m.get("identifier").is_some_and(Value::is_object))
    {
        if let Some(d) = s("display") {
            return Some(d.to_string());
        }
        if let Some(r) = s("reference") {
            return Some(r.to_string());
        }
        let id = m.get("identifier")?.as_object()?;
        return summary(id);
    }
    // Identifier.
    if m.contains_key("value")
        && m.contains_key("system")
        && m.get("value").is_some_and(Value::is_string)
    {
        return Some(s("value")?.to_string());
    }
    // Period.
    if (m.contains_key("start") || m.contains_key("end")) && m.len() <= 3 {
        return Some(format!(
            "{} to {}",
            s("start").unwrap_or("…"),
            s("end").unwrap_or("…")
        ));
    }
    // HumanName.
    if m.contains_key("family") || m.contains_key("given") {
        let mut parts: Vec<&str> = Vec::new();
        for key in ["prefix", "given"] {
            parts.extend(
                m.get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str),
            );
        }
        parts.extend(s("family"));
        return Some(parts.join(" "));
    }
    // ContactPoint.
    if m.contains_key("value") && m.contains_key("system") {
        return s("value").map(str::to_string);
    }
    // Narrative-bearing Composition sections keep their own text; a div in
    // a value is shown as text, tags dropped.
    if let Some(d) = s("div") {
        return Some(strip_tags(d));
    }
    None
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Text for XHTML: the characters XML reserves, escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_markup_stays_out() {
        let r =
            json!({"resourceType": "Basic", "code": {"text": "<script>alert(1)</script> & co"}});
        let d = div(&r);
        assert!(
            d.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
            "{d}"
        );
        assert!(!d.contains("<script"));
    }

    #[test]
    fn shapes_are_rendered_by_type() {
        let r = json!({"resourceType": "RelatedPerson",
            "extension": [{"url": "https://fhir.carer-fhir.uk/StructureDefinition/hours-caring-per-week",
                           "valueQuantity": {"value": 50, "unit": "hours per week",
                                             "system": "http://unitsofmeasure.org", "code": "h/wk"}}],
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9991234004"}],
            "period": {"start": "2022-09-01"},
            "patient": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9991234012"}},
            "active": true});
        let d = div(&r);
        assert!(
            d.contains("<th>Hours caring per week</th><td>50 hours per week</td>"),
            "{d}"
        );
        assert!(d.contains("<th>Identifier</th><td>9991234004</td>"), "{d}");
        assert!(d.contains("<th>Period</th><td>2022-09-01 to …</td>"), "{d}");
        assert!(d.contains("<th>Patient</th><td>9991234012</td>"), "{d}");
        assert!(d.contains("<th>Active</th><td>yes</td>"), "{d}");
    }

    #[test]
    fn an_existing_narrative_is_kept_and_text_goes_after_meta() {
        let mut kept = json!({"resourceType": "Basic", "text": {"status": "additional", "div": "<div>x</div>"}});
        add(&mut kept);
        assert_eq!(kept["text"]["status"], "additional");
        let mut r = json!({"resourceType": "Basic", "id": "b", "meta": {"versionId": "1"}, "code": {"text": "c"}});
        add(&mut r);
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["resourceType", "id", "meta", "text", "code"]);
    }

    #[test]
    fn deep_nesting_stops() {
        let mut v = json!({"leaf": "x"});
        for _ in 0..20 {
            v = json!({"inner": v, "other": 1});
        }
        let d = div(&json!({"resourceType": "Basic", "deep": v}));
        assert!(d.contains('…'));
    }
}
