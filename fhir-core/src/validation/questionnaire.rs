//! A QuestionnaireResponse checked against the Questionnaire it answers,
//! and the rules of a Questionnaire that its invariants cannot express.
//!
//! The structure of the response is checked by the walker like any other
//! resource; this module adds what the Questionnaire says: each item's
//! `linkId` exists, answers have the item's type, `required`,
//! `repeats`, `enableWhen`, `answerOption`, `answerValueSet`, and the
//! constraint extensions (`minValue`, `maxValue`, `minLength`,
//! `maxLength`, `regex`, `minOccurs`, `maxOccurs`, `mimeType`, `maxSize`,
//! `referenceResource`, `unitOption`, `unitValueSet`, `minQuantity`,
//! `maxQuantity`).

use std::cmp::Ordering;

use regex::Regex;
use rust_decimal::Decimal;
use serde_json::Value;

use super::array;
use super::issue::{issue, Issue, Severity};
use super::values::{compare, decimal, ucum};
use super::Validator;

const EXT: &str = "http://hl7.org/fhir/StructureDefinition/";
const SDC: &str = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-";

/// Checks a QuestionnaireResponse against its Questionnaire.
pub(super) fn check_response(v: &Validator, qr: &Value, issues: &mut Vec<Issue>) {
    let Some(canonical) = qr.get("questionnaire").and_then(Value::as_str) else {
        return;
    };
    let path = "QuestionnaireResponse";
    // `#id` names a Questionnaire contained in the response.
    let found = match canonical.strip_prefix('#') {
        Some(id) => array(qr, "contained")
            .iter()
            .find(|c| string(c, "id") == Some(id)),
        None => v.registry.resolve(canonical).map(|q| &**q),
    };
    let Some(found) = found else {
        issues.push(issue(
            Severity::Warning,
            "not-found",
            &format!("{path}.questionnaire"),
            format!("The questionnaire '{canonical}' could not be resolved, so the answers cannot be checked against it"),
        ));
        return;
    };
    let rt = found
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if rt != "Questionnaire" {
        issues.push(issue(
            Severity::Error,
            "invalid",
            &format!("{path}.questionnaire"),
            format!("Canonical URL '{canonical}' refers to a resource that has the wrong type. Found {rt} expecting one of [Questionnaire]"),
        ));
        return;
    }
    let completed = matches!(
        qr.get("status").and_then(Value::as_str),
        Some("completed" | "amended")
    );
    let mut check = Check {
        v,
        completed,
        issues,
        questionnaire: found,
        response: qr,
        stack: Vec::new(),
    };
    check.items(array(found, "item"), array(qr, "item"), path);
}

/// Checks rules of a Questionnaire: each `enableWhen.question` names an
/// item of the questionnaire that is not inside the item itself.
pub(super) fn check_questionnaire(q: &Value, issues: &mut Vec<Issue>) {
    let mut all = Vec::new();
    collect_link_ids(array(q, "item"), &mut all);
    enable_when_targets(array(q, "item"), "Questionnaire", &all, issues);
}

fn collect_link_ids<'a>(items: &'a [Value], out: &mut Vec<&'a str>) {
    for it in items {
        if let Some(l) = it.get("linkId").and_then(Value::as_str) {
            out.push(l);
        }
        collect_link_ids(array(it, "item"), out);
    }
}

fn enable_when_targets(items: &[Value], path: &str, all: &[&str], issues: &mut Vec<Issue>) {
    for (i, it) in items.iter().enumerate() {
        let here = format!("{path}.item[{i}]");
        let mut inner = Vec::new();
        collect_link_ids(array(it, "item"), &mut inner);
        for ew in array(it, "enableWhen") {
            let Some(q) = ew.get("question").and_then(Value::as_str) else {
                continue;
            };
            if inner.contains(&q) {
                issues.push(issue(
                    Severity::Error,
                    "business-rule",
                    &here,
                    "Questions with an enableWhen cannot refer to an inner question for its enableWhen condition",
                ));
            } else if !all.contains(&q) {
                issues.push(issue(
                    Severity::Error,
                    "business-rule",
                    &here,
                    format!("The enableWhen question '{q}' is not an item of this questionnaire"),
                ));
            }
        }
        enable_when_targets(array(it, "item"), &here, all, issues);
    }
}

fn string<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The `value[x]` of an extension of `item` with this URL.
fn extension<'a>(item: &'a Value, url: &str) -> Option<&'a Value> {
    array(item, "extension")
        .iter()
        .find(|e| string(e, "url") == Some(url))
        .and_then(|e| value_x(e).map(|(_, v)| v))
}

fn extensions<'a>(item: &'a Value, url: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    array(item, "extension")
        .iter()
        .filter(move |e| string(e, "url") == Some(url))
        .filter_map(|e| value_x(e).map(|(_, v)| v))
}

/// The `value[x]` of an element: its type suffix (`String`, `Coding`) and
/// value.
fn value_x(v: &Value) -> Option<(&str, &Value)> {
    v.as_object()?
        .iter()
        .find_map(|(k, x)| k.strip_prefix("value").map(|t| (t, x)))
        .filter(|(t, _)| t.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// The answer type an item type expects, as FHIR names it.
fn answer_type(item_type: &str) -> Option<&'static [&'static str]> {
    Some(match item_type {
        "boolean" => &["boolean"],
        "decimal" => &["decimal"],
        "integer" => &["integer"],
        "date" => &["date"],
        "dateTime" => &["dateTime"],
        "time" => &["time"],
        "string" | "text" => &["string"],
        "url" => &["uri"],
        // The reference validator accepts a string for a choice too.
        "choice" => &["Coding", "string"],
        "open-choice" => &["Coding", "string"],
        "attachment" => &["Attachment"],
        "reference" => &["Reference"],
        "quantity" => &["Quantity"],
        _ => return None,
    })
}

/// FHIR's name for a `value[x]` suffix: `String` → `string`.
fn type_name(suffix: &str) -> String {
    match suffix {
        "Coding" | "Attachment" | "Reference" | "Quantity" => suffix.to_string(),
        "DateTime" => "dateTime".to_string(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Check<'a, 'v> {
    v: &'a Validator<'v>,
    completed: bool,
    issues: &'a mut Vec<Issue>,
    /// The Questionnaire and the response being checked.
    questionnaire: &'a Value,
    response: &'a Value,
    /// The questionnaire item and response item of each enclosing level,
    /// innermost last: where `enableWhen` questions are looked up.
    stack: Vec<(&'a Value, &'a Value)>,
}

impl<'a> Check<'a, '_> {
    fn error(&mut self, path: &str, code: &'static str, message: impl Into<String>) {
        self.issues
            .push(issue(Severity::Error, code, path, message));
    }

    /// Matches response items to questionnaire items at one level. They
    /// come in the questionnaire's order ("The questions are ordered and
    /// grouped ... corresponding to the structure of the grouping of the
    /// questionnaire"), and an item's text, when given, is the
    /// questionnaire's.
    fn items(&mut self, q_items: &'a [Value], r_items: &'a [Value], path: &str) {
        let mut last = 0;
        for (i, ri) in r_items.iter().enumerate() {
            let here = format!("{path}.item[{i}]");
            let link = string(ri, "linkId").unwrap_or("");
            match q_items
                .iter()
                .position(|q| string(q, "linkId") == Some(link))
            {
                Some(index) => {
                    if index < last {
                        self.error(
                            path,
                            "structure",
                            "Structural Error: items are out of order",
                        );
                    }
                    last = index;
                    let qi = &q_items[index];
                    if string(ri, "text")
                        .is_some_and(|t| !t.is_empty() && string(qi, "text") != Some(t))
                    {
                        self.error(
                            &here,
                            "invalid",
                            format!("If text exists, it must match the questionnaire definition for linkId {link}"),
                        );
                    }
                    self.item(qi, ri, &here)
                }
                None => self.error(
                    &here,
                    "structure",
                    format!("LinkId '{link}' not found in questionnaire"),
                ),
            }
        }
        for qi in q_items {
            let link = string(qi, "linkId").unwrap_or("");
            let present = r_items
                .iter()
                .filter(|r| string(r, "linkId") == Some(link))
                .count();
            if present > 1 && qi.get("repeats") != Some(&Value::Bool(true)) {
                self.error(
                    path,
                    "structure",
                    format!("Only one response item with the linkId '{link}' is allowed, found {present}"),
                );
            }
            if present == 0
                && self.completed
                && qi.get("required") == Some(&Value::Bool(true))
                && self.enabled(qi)
            {
                self.error(
                    path,
                    "required",
                    format!("No response answer found for required item '{link}'"),
                );
            }
        }
    }

    /// Checks one response item against its questionnaire item.
    fn item(&mut self, qi: &'a Value, ri: &'a Value, path: &str) {
        self.stack.push((qi, ri));
        self.item_in_scope(qi, ri, path);
        self.stack.pop();
    }

    fn item_in_scope(&mut self, qi: &'a Value, ri: &'a Value, path: &str) {
        let link = string(qi, "linkId").unwrap_or("");
        let ty = string(qi, "type").unwrap_or("");
        let answers = array(ri, "answer");
        // A disabled item takes no answers and no nested items; what it has
        // is still checked as for an enabled one (as the reference
        // validator does), but it is not required (enableWhen makes
        // `required` apply only while the item is enabled).
        let enabled = self.enabled(qi);
        if !enabled && (!answers.is_empty() || !array(ri, "item").is_empty()) {
            self.error(
                path,
                "business-rule",
                format!("Item has answer, even though it is not enabled (item id = '{link}')"),
            );
        }
        let required = enabled && qi.get("required") == Some(&Value::Bool(true));
        match ty {
            "display" => {
                if !answers.is_empty() {
                    self.error(
                        path,
                        "structure",
                        "Items of type 'display' cannot have answers",
                    );
                }
                if !array(ri, "item").is_empty() {
                    self.error(
                        path,
                        "structure",
                        format!("Items of type 'display' cannot have items (linkId {link})"),
                    );
                }
                return;
            }
            "group" => {
                if !answers.is_empty() {
                    self.error(
                        path,
                        "structure",
                        "Items of type 'group' cannot have answers",
                    );
                }
                if required && self.completed && array(ri, "item").is_empty() {
                    self.error(path, "required", "No sub-items found for required group");
                }
                self.items(array(qi, "item"), array(ri, "item"), path);
                return;
            }
            _ => {}
        }
        let Some(expected) = answer_type(ty) else {
            if !answers.is_empty() {
                self.error(
                    path,
                    "structure",
                    format!("Items of type '{ty}' should not have answers"),
                );
            }
            return;
        };
        if answers.is_empty() && required && self.completed {
            self.error(
                path,
                "required",
                format!("No response answer found for required item '{link}'"),
            );
        }
        if answers.len() > 1 && qi.get("repeats") != Some(&Value::Bool(true)) {
            self.error(
                path,
                "structure",
                format!(
                    "Only one answer is allowed for the item '{link}', found {}",
                    answers.len()
                ),
            );
        }
        let count = answers.len() as i64;
        if let Some(min) =
            extension(qi, &format!("{EXT}questionnaire-minOccurs")).and_then(Value::as_i64)
        {
            if count < min {
                self.error(
                    path,
                    "structure",
                    format!("The minimum number of answers is {min} but this has {count} answers"),
                );
            }
        }
        if let Some(max) =
            extension(qi, &format!("{EXT}questionnaire-maxOccurs")).and_then(Value::as_i64)
        {
            if count > max {
                self.error(
                    path,
                    "structure",
                    format!("The maximum number of answers is {max} but this has {count} answers"),
                );
            }
        }
        for (j, answer) in answers.iter().enumerate() {
            let here = format!("{path}.answer[{j}]");
            if let Some((suffix, value)) = value_x(answer) {
                let found = type_name(suffix);
                let at = format!("{here}.value.ofType({found})");
                if !expected.contains(&found.as_str()) {
                    self.error(
                        &at,
                        "structure",
                        format!(
                            "Answer value must be of the type {} not {found}",
                            expected[0]
                        ),
                    );
                } else {
                    self.value(qi, &found, value, &at, answers.len());
                }
            }
            // Questions may carry nested items under each answer.
            self.items(array(qi, "item"), array(answer, "item"), &here);
        }
        // Only groups nest items directly (QuestionnaireResponse.item:
        // "nesting must occur within each answer").
        if !array(ri, "item").is_empty() {
            self.error(
                path,
                "structure",
                "Items not of type group should not have items outside answers (use answer.item not .item)",
            );
        }
    }

    /// Checks one answer value against the item's options and limits.
    fn value(&mut self, qi: &Value, ty: &str, value: &Value, path: &str, count: usize) {
        let options = array(qi, "answerOption");
        if !options.is_empty() {
            let chosen = options
                .iter()
                .find(|o| value_x(o).is_some_and(|(_, v)| same_answer(v, value)));
            // An open choice takes free text besides its options; its
            // codings still come from the options.
            let free_text = string(qi, "type") == Some("open-choice") && ty == "string";
            if let Some(option) = chosen.filter(|_| count > 1) {
                // An exclusive option (questionnaire-optionExclusive) is the
                // only answer when chosen.
                let exclusive = extension(option, &format!("{EXT}questionnaire-optionExclusive"))
                    == Some(&Value::Bool(true));
                if exclusive {
                    self.error(
                        path,
                        "business-rule",
                        format!("Selected answer {} is an exclusive option - it cannot be chosen with other answers", show(value)),
                    );
                }
            }
            if chosen.is_none() && !free_text {
                let shown = match ty {
                    "Coding" => format!(
                        "code {}::{}",
                        string(value, "system").unwrap_or(""),
                        string(value, "code").unwrap_or("")
                    ),
                    other => format!("{other} {}", show(value)),
                };
                self.error(
                    path,
                    "code-invalid",
                    format!("The {shown} is not in the set of permitted values"),
                );
            }
        }
        // A string answer to a choice or open-choice item is free text, not
        // a code: the item's value set governs its codings only.
        let free_text =
            ty == "string" && matches!(string(qi, "type"), Some("choice" | "open-choice"));
        if let Some(vs) = string(qi, "answerValueSet").filter(|_| !free_text) {
            self.value_set(vs, ty, value, path);
        }
        if ty == "decimal" {
            self.decimal_places(qi, value, path);
        }
        if ty == "Quantity" {
            if let Some(v) = value.get("value") {
                self.decimal_places(qi, v, path);
            }
        }
        match ty {
            "integer" | "decimal" | "date" | "dateTime" | "time" => {
                self.min_max(qi, ty, value, path)
            }
            "string" => self.text(qi, value, path),
            "Quantity" => self.quantity(qi, value, path),
            "Attachment" => self.attachment(qi, value, path),
            "Reference" => self.reference(qi, value, path),
            _ => {}
        }
    }

    fn value_set(&mut self, url: &str, ty: &str, value: &Value, path: &str) {
        let Some(expansion) = self.v.expansion(url) else {
            self.issues.push(issue(
                Severity::Warning,
                "not-found",
                path,
                format!("The value set '{url}' is not loaded, so the answer cannot be checked against it"),
            ));
            return;
        };
        match ty {
            "Coding" => {
                let system = string(value, "system").unwrap_or("");
                let code = string(value, "code").unwrap_or("");
                let mut bad_display = false;
                if let (Some(display), Some(expected)) = (
                    string(value, "display"),
                    super::terminology::display(self.v.registry, system, code),
                ) {
                    if !expected.iter().any(|d| d.eq_ignore_ascii_case(display)) {
                        bad_display = true;
                        self.error(
                            &format!("{path}.display"),
                            "invalid",
                            format!(
                                "Wrong Display Name '{display}' for {system}#{code}. Valid display is '{}'",
                                expected.first().map(String::as_str).unwrap_or("")
                            ),
                        );
                    }
                }
                let member = self.membership(url, system, code);
                if member == Some(false) || bad_display {
                    self.error(
                        path,
                        "code-invalid",
                        format!("The code '{code}' in the system '{system}' is not in the options value set ({url}) specified by the questionnaire"),
                    );
                }
            }
            "string" => {
                // The string is taken as a code of the value set (of any of
                // its systems), as the reference validator takes it; a
                // display is not a code.
                let text = value.as_str().unwrap_or("");
                if let super::terminology::Expansion::Codes(codes) = &*expansion {
                    if !codes.iter().any(|(_, c)| c == text) {
                        self.error(
                            path,
                            "code-invalid",
                            format!("The value '{text}' is not in the list of allowed values (value set '{url}')"),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether (system, code) is in the value set: from its expansion, or,
    /// when it cannot be expanded here, `false` for a system it does not
    /// draw on; `None` when unknown.
    fn membership(&self, url: &str, system: &str, code: &str) -> Option<bool> {
        self.v
            .expansion(url)
            .and_then(|e| e.contains(system, code))
            .or_else(|| {
                let systems = super::terminology::included_systems(self.v.registry, url)?;
                (!systems.iter().any(|s| s == system)).then_some(false)
            })
    }

    fn min_max(&mut self, qi: &Value, ty: &str, value: &Value, path: &str) {
        for (url, is_min) in [
            (format!("{EXT}minValue"), true),
            (format!("{EXT}maxValue"), false),
        ] {
            let Some(limit) = extension(qi, &url) else {
                continue;
            };
            let Some(order) = compare(ty, value, limit) else {
                continue;
            };
            let (bad, word) = if is_min {
                (order == Ordering::Less, "less than the allowed minimum")
            } else {
                (
                    order == Ordering::Greater,
                    "greater than the allowed maximum",
                )
            };
            if bad {
                self.error(
                    path,
                    "value",
                    format!("The value {} is {word} of {}", show(value), show(limit)),
                );
            }
        }
    }

    fn text(&mut self, qi: &Value, value: &Value, path: &str) {
        let text = value.as_str().unwrap_or("");
        let length = text.chars().count() as i64;
        if let Some(min) = extension(qi, &format!("{EXT}minLength")).and_then(Value::as_i64) {
            if length < min {
                self.error(
                    path,
                    "value",
                    format!(
                        "The answer '{text}' is shorter than the required minimum length of {min}"
                    ),
                );
            }
        }
        if let Some(max) = qi.get("maxLength").and_then(Value::as_i64) {
            if length > max {
                self.error(
                    path,
                    "value",
                    format!(
                        "The answer '{text}' is longer than the allowed maximum length of {max}"
                    ),
                );
            }
        }
        if let Some(pattern) = extension(qi, &format!("{EXT}regex")).and_then(Value::as_str) {
            match Regex::new(&format!("^(?:{pattern})$")) {
                Ok(re) if !re.is_match(text) => {
                    let format = extension(qi, &format!("{EXT}entryFormat"))
                        .and_then(Value::as_str)
                        .unwrap_or(pattern);
                    self.error(
                        path,
                        "value",
                        format!("The answer '{text}' does not conform to the expected format '{format}' (regex '{pattern}')"),
                    );
                }
                Ok(_) => {}
                Err(_) => self.issues.push(issue(
                    Severity::Warning,
                    "invalid",
                    path,
                    format!(
                        "The questionnaire's regex '{pattern}' is not a valid regular expression"
                    ),
                )),
            }
        }
    }

    fn quantity(&mut self, qi: &Value, value: &Value, path: &str) {
        let shown = quantity_text(value);
        for (key, is_min) in [("minQuantity", true), ("maxQuantity", false)] {
            let Some(limit) = extension(qi, &format!("{SDC}{key}"))
                .or_else(|| extension(qi, &format!("{EXT}questionnaire-{key}")))
            else {
                continue;
            };
            let bound = if is_min { "minimum" } else { "maximum" };
            let (Some(a), Some(b)) = (ucum(value), ucum(limit)) else {
                self.error(
                    path,
                    "value",
                    format!("The quantity {shown} cannot be compared to the allowed {bound} of {} because no formal units are specified", quantity_text(limit)),
                );
                continue;
            };
            match a.compare(&b) {
                None => self.error(
                    path,
                    "value",
                    format!(
                        "The quantity {shown} cannot be compared to the allowed {bound} of {}",
                        quantity_text(limit)
                    ),
                ),
                Some(Ordering::Less) if is_min => self.error(
                    path,
                    "value",
                    format!(
                        "The quantity {shown} is less than the allowed minimum of {}",
                        quantity_text(limit)
                    ),
                ),
                Some(Ordering::Greater) if !is_min => self.error(
                    path,
                    "value",
                    format!(
                        "The quantity {shown} is greater than the allowed maximum of {}",
                        quantity_text(limit)
                    ),
                ),
                _ => {}
            }
        }
        let system = string(value, "system").unwrap_or("");
        let code = string(value, "code").unwrap_or("");
        let options: Vec<&Value> = extensions(
            qi,
            "http://hl7.org/fhir/StructureDefinition/questionnaire-unitOption",
        )
        .collect();
        if !options.is_empty()
            && !options
                .iter()
                .any(|o| string(o, "system") == Some(system) && string(o, "code") == Some(code))
        {
            self.error(
                path,
                "code-invalid",
                format!("The unit of {shown} is not one of the unit options of the questionnaire"),
            );
        }
        if let Some(url) =
            extension(qi, &format!("{EXT}questionnaire-unitValueSet")).and_then(Value::as_str)
        {
            let member = if code.is_empty() {
                Some(false)
            } else {
                self.membership(url, system, code)
            };
            if member == Some(false) {
                self.error(
                    path,
                    "code-invalid",
                    format!(
                        "The value {shown} has a unit that is not in the unit value set '{url}'"
                    ),
                );
            }
        }
    }

    fn attachment(&mut self, qi: &Value, value: &Value, path: &str) {
        let content_type = string(value, "contentType").unwrap_or("");
        let allowed: Vec<&str> = extensions(qi, "http://hl7.org/fhir/StructureDefinition/mimeType")
            .filter_map(Value::as_str)
            .collect();
        if !allowed.is_empty() && !allowed.contains(&content_type) {
            self.error(
                path,
                "value",
                format!(
                    "The mime type {content_type} is not valid for this answer (allowed = {})",
                    allowed.join(", ")
                ),
            );
        }
        let actual = string(value, "data").map(base64_length);
        if let (Some(actual), Some(max)) = (
            actual,
            extension(qi, &format!("{EXT}maxSize")).and_then(decimal),
        ) {
            if Decimal::from(actual) > max {
                self.error(
                    path,
                    "value",
                    format!("The attachment is too large (allowed = {max}, found = {actual})"),
                );
            }
        }
    }

    fn reference(&mut self, qi: &Value, value: &Value, path: &str) {
        let Some(reference) = string(value, "reference") else {
            return;
        };
        if reference.starts_with('#') || reference.starts_with("urn:") {
            return;
        }
        if reference.contains(char::is_whitespace) {
            self.error(
                path,
                "value",
                format!("The reference '{reference}' is not a valid reference"),
            );
        }
        let parts: Vec<&str> = reference.trim_end_matches('/').split('/').collect();
        let ty = match parts.iter().rposition(|p| *p == "_history") {
            Some(h) if h >= 2 => parts[h - 2],
            _ if parts.len() >= 2 => parts[parts.len() - 2],
            _ => return,
        };
        if !self.v.is_resource_type(ty) {
            self.error(
                path,
                "value",
                format!("The resource type {ty} in the reference {reference} is not valid"),
            );
            return;
        }
        let allowed: Vec<&str> = extensions(
            qi,
            "http://hl7.org/fhir/StructureDefinition/questionnaire-referenceResource",
        )
        .filter_map(Value::as_str)
        .collect();
        if !allowed.is_empty() && !allowed.contains(&ty) {
            self.error(
                path,
                "value",
                format!("The resource type '{ty}' in the reference {reference} is not allowed (allowed = {})", allowed.join(",")),
            );
        }
    }

    /// `maxDecimalPlaces` on the item: a decimal answer has at most that
    /// many digits after its point, as written.
    fn decimal_places(&mut self, qi: &Value, value: &Value, path: &str) {
        let Some(max) = extension(qi, &format!("{EXT}maxDecimalPlaces")).and_then(Value::as_u64)
        else {
            return;
        };
        let Value::Number(n) = value else { return };
        let text = n.to_string();
        let places = text.rfind('.').map_or(0, |i| text.len() - i - 1) as u64;
        if places > max {
            self.error(
                path,
                "value",
                format!("The value {text} has more than {max} decimal places"),
            );
        }
    }

    /// Whether an item is enabled (R4 `questionnaire.html`,
    /// Questionnaire.item.enableWhen and enableBehavior; the SDC
    /// `enableWhenExpression`): with one condition, by it; with several,
    /// by any or all as `enableBehavior` says (without it, several
    /// conditions leave the item enabled, as the reference validator
    /// takes them).
    fn enabled(&mut self, qi: &Value) -> bool {
        if let Some(expr) = extension(
            qi,
            "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression",
        ) {
            if string(expr, "language") == Some("text/fhirpath") {
                if let Some(src) = string(expr, "expression") {
                    return self.expression_enables(src);
                }
            }
        }
        let conditions = array(qi, "enableWhen");
        if conditions.is_empty() {
            return true;
        }
        let results: Vec<bool> = conditions.iter().map(|c| self.condition(qi, c)).collect();
        match string(qi, "enableBehavior") {
            _ if results.len() == 1 => results[0],
            Some("any") => results.iter().any(|r| *r),
            Some("all") => results.iter().all(|r| *r),
            _ => true,
        }
    }

    /// An `enableWhenExpression` evaluated on the response: true unless
    /// it yields nothing or `false`.
    fn expression_enables(&self, src: &str) -> bool {
        let Some(expr) = self.v.expression(src) else {
            return true;
        };
        let ctx = crate::fhirpath::Context {
            model: Some(&self.v.model),
            registry: Some(self.v.registry),
            ..Default::default()
        };
        match expr.evaluate(self.response, &ctx) {
            Ok(items) => match items.as_slice() {
                [] => false,
                [one] => !matches!(one.to_system(), Some(crate::fhirpath::Item::Boolean(false))),
                _ => true,
            },
            Err(_) => true,
        }
    }

    /// One enableWhen condition. `exists` asks whether the question has
    /// answers; the other operators hold when some answer compares so
    /// with `answer[x]`, which must be of the answer's type.
    fn condition(&mut self, qi: &Value, condition: &Value) -> bool {
        let question = string(condition, "question").unwrap_or("");
        let answers = self.answers_of(qi, question);
        let Some((suffix, expected)) = condition
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.starts_with("answer")))
            .map(|(k, v)| (&k["answer".len()..], v))
        else {
            return false;
        };
        let operator = string(condition, "operator").unwrap_or("=");
        if operator == "exists" {
            return expected.as_bool() == Some(!answers.is_empty());
        }
        let mut result = false;
        for answer in answers {
            let AnswerPart::Value(found, actual) = answer else {
                continue;
            };
            if found != suffix {
                let link = string(qi, "linkId").unwrap_or("");
                self.error(
                    "QuestionnaireResponse",
                    "business-rule",
                    format!("The enableWhen of item '{link}' compares an answer of type {} with an answer of type {}", type_name(suffix), type_name(found)),
                );
                return false;
            }
            result |= compare_answer(&type_name(suffix), actual, expected, operator);
        }
        result
    }

    /// The answers given to `question` that `qi`'s condition sees: within
    /// the innermost response item of the group that holds both questions
    /// (the whole response when only the Questionnaire does).
    fn answers_of(&self, qi: &Value, question: &str) -> Vec<AnswerPart<'a>> {
        let items = array(self.questionnaire, "item");
        let source = chain(items, &|x: &Value| std::ptr::eq(x, qi));
        let target = chain(items, &|x: &Value| string(x, "linkId") == Some(question));
        let (Some(source), Some(target)) = (source, target) else {
            return Vec::new();
        };
        let common = source
            .iter()
            .rev()
            .find(|s| target.iter().any(|t| std::ptr::eq(**s, *t)));
        let focus = match common {
            None => Some(self.response),
            Some(group) => self
                .stack
                .iter()
                .rev()
                .find(|(q, _)| std::ptr::eq(*q, *group))
                .map(|(_, r)| *r),
        };
        let mut out = Vec::new();
        if let Some(focus) = focus {
            find_on_item(focus, question, &mut out);
        }
        out
    }
}

/// One child of an answer: a value (its `value[x]` type suffix and value)
/// or something else (nested items, extensions).
enum AnswerPart<'a> {
    Value(&'a str, &'a Value),
    Other,
}

/// The items from the root to the item `is` selects, if any.
fn chain<'a>(items: &'a [Value], is: &dyn Fn(&Value) -> bool) -> Option<Vec<&'a Value>> {
    for it in items {
        if is(it) {
            return Some(vec![it]);
        }
        if let Some(mut below) = chain(array(it, "item"), is) {
            below.insert(0, it);
            return Some(below);
        }
    }
    None
}

/// The answers to `question` at or below `focus` (a response item, an
/// answer, or the response).
fn find_on_item<'a>(focus: &'a Value, question: &str, out: &mut Vec<AnswerPart<'a>>) {
    for item in array(focus, "item") {
        if string(item, "linkId") == Some(question) {
            answer_parts(item, out);
        }
        find_on_item(item, question, out);
    }
    for answer in array(focus, "answer") {
        find_on_item(answer, question, out);
    }
    if string(focus, "linkId") == Some(question) && focus.get("answer").is_some() {
        answer_parts(focus, out);
    }
}

fn answer_parts<'a>(item: &'a Value, out: &mut Vec<AnswerPart<'a>>) {
    for answer in array(item, "answer") {
        let Some(obj) = answer.as_object() else {
            continue;
        };
        for (k, v) in obj {
            match k.strip_prefix("value") {
                Some(suffix) if suffix.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    out.push(AnswerPart::Value(suffix, v))
                }
                _ if matches!(k.as_str(), "item" | "extension" | "modifierExtension") => {
                    let n = v.as_array().map_or(1, Vec::len);
                    out.extend((0..n).map(|_| AnswerPart::Other));
                }
                _ => {}
            }
        }
    }
}

/// An answer compared with an enableWhen's `answer[x]` by `operator`:
/// codings by system and code (equality only), quantities by value,
/// others by their value's order.
fn compare_answer(ty: &str, actual: &Value, expected: &Value, operator: &str) -> bool {
    let order = match ty {
        "Coding" => {
            let same = string(actual, "code") == string(expected, "code")
                && (string(actual, "system").is_none()
                    || string(expected, "system").is_none()
                    || string(actual, "system") == string(expected, "system"));
            return match operator {
                "=" => same,
                "!=" => !same,
                _ => false,
            };
        }
        "Quantity" => match (actual.get("value"), expected.get("value")) {
            (Some(a), Some(b)) => compare("decimal", a, b),
            _ => None,
        },
        "boolean" => actual
            .as_bool()
            .zip(expected.as_bool())
            .map(|(a, b)| a.cmp(&b)),
        "date" | "dateTime" => instant_order(actual, expected),
        _ => compare(ty, actual, expected)
            .or_else(|| (actual == expected).then_some(Ordering::Equal)),
    };
    let Some(o) = order else {
        return operator == "!=" && actual != expected;
    };
    match operator {
        "=" => o == Ordering::Equal,
        "!=" => o != Ordering::Equal,
        ">" => o == Ordering::Greater,
        "<" => o == Ordering::Less,
        ">=" => o != Ordering::Less,
        "<=" => o != Ordering::Greater,
        _ => false,
    }
}

/// Dates ordered as the instants they start at (a partial date is its
/// first moment; no zone is UTC), so `2020` equals `2020-01-01`.
fn instant_order(a: &Value, b: &Value) -> Option<Ordering> {
    fn start(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        let (date, time) = s.split_once('T').unwrap_or((s, ""));
        let mut parts = date.split('-');
        let y = parts.next()?;
        let m = parts.next().unwrap_or("01");
        let d = parts.next().unwrap_or("01");
        let time = if time.is_empty() { "00:00:00Z" } else { time };
        let zoned = if time.ends_with('Z') || time.contains('+') || time.rfind('-').is_some() {
            time.to_string()
        } else {
            format!("{time}Z")
        };
        chrono::DateTime::parse_from_rfc3339(&format!("{y}-{m}-{d}T{zoned}")).ok()
    }
    Some(start(a.as_str()?)?.cmp(&start(b.as_str()?)?))
}

/// Equality of two answer values: codings by system and code, others by
/// value.
fn same_answer(a: &Value, b: &Value) -> bool {
    if a.is_object() && b.is_object() && (a.get("code").is_some() || b.get("code").is_some()) {
        return string(a, "code") == string(b, "code")
            && (string(a, "system").is_none()
                || string(b, "system").is_none()
                || string(a, "system") == string(b, "system"));
    }
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => decimal(a) == decimal(b),
        _ => a == b,
    }
}

fn quantity_text(q: &Value) -> String {
    let value = q.get("value").map(show).unwrap_or_default();
    let unit = string(q, "unit")
        .or_else(|| string(q, "code"))
        .unwrap_or("");
    match (string(q, "system"), string(q, "code")) {
        (Some(super::values::UCUM), code) => {
            format!("{value} {unit} (UCUM#{})", code.unwrap_or("null"))
        }
        _ => format!("{value} {unit}"),
    }
}

/// The number of bytes base64 text decodes to.
fn base64_length(text: &str) -> usize {
    let chars = text.bytes().filter(|b| !b.is_ascii_whitespace()).count();
    let padding = text.bytes().rev().take_while(|b| *b == b'=').count();
    (chars / 4 * 3).saturating_sub(padding)
}
