//! Walking a resource's JSON against a profile's element definitions.

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::{Arc, LazyLock};

use regex::Regex;

use serde_json::{Map, Value};

use super::context;
use super::issue::{Issue, Severity};
use super::profile::{type_codes, ElementPlan, Profile};
use super::terminology::Expansion;
use super::Validator;
use crate::fhirpath::{Context, Item, Node};
use crate::format::{child_path, indexed_path};

/// One walk over one resource.
pub(super) struct Walk<'v> {
    pub validator: &'v Validator<'v>,
    /// The resource at the root of the walk (`%resource`).
    pub root: &'v Value,
    pub issues: Vec<Issue>,
    /// The complex value whose `extension` is being walked (set just
    /// before its extensions are checked).
    pub host: Option<&'v Value>,
    /// The URLs of the extensions being walked, innermost last.
    pub extension_urls: Vec<String>,
    /// The resources being walked (a Bundle, its entries' resources),
    /// innermost last.
    pub resources: Vec<&'v Value>,
    /// What the walks of one validation share.
    pub session: std::rc::Rc<super::references::Session>,
}

/// The issues with those that repeat an earlier one (same severity,
/// place and message, whichever profile raised it) left out: a rule of
/// the base that a profile restates is one fault, reported once.
pub(super) fn distinct(issues: Vec<Issue>) -> Vec<Issue> {
    let mut out: Vec<Issue> = Vec::with_capacity(issues.len());
    let mut seen = std::collections::HashSet::new();
    for issue in issues {
        let key = (
            issue.severity,
            issue.expression.clone(),
            strip_definer(&issue.message).to_string(),
        );
        if seen.insert(key) {
            out.push(issue);
        }
    }
    out
}

/// A message without the `(defined in …)` that names the profile it came
/// from.
fn strip_definer(message: &str) -> &str {
    message.split(" (defined in ").next().unwrap_or(message)
}

/// The longest string FHIR allows in one primitive value: 1 MB.
const MAX_STRING: usize = 1024 * 1024;

fn is_primitive(ty: &str) -> bool {
    ty.starts_with(|c: char| c.is_ascii_lowercase())
}

/// The FHIR type of an element typed with a FHIRPath system type, as its
/// `structuredefinition-fhir-type` extension names it (`Extension.url` is
/// a `uri`); any other type as it is.
fn fhir_type<'a>(ed: &'a Value, ty: &'a str) -> &'a str {
    const FHIR_TYPE: &str = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";
    if !ty.starts_with("http://hl7.org/fhirpath/") {
        return ty;
    }
    ed.get("type")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("code").and_then(Value::as_str) == Some(ty))
        .flat_map(|t| {
            t.get("extension")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .find(|x| x.get("url").and_then(Value::as_str) == Some(FHIR_TYPE))
        .and_then(|x| x.get("valueUrl").or_else(|| x.get("valueUri")))
        .and_then(Value::as_str)
        .unwrap_or(ty)
}

/// A URL at a domain reserved for examples (RFC 2606 `example.com`,
/// `example.net`, `example.org`; `acme.com`, `acme.org`) or under an OID
/// arc reserved for examples (`2.999`, IANA's example enterprise
/// `1.3.6.1.4.1.32473`): the reference validator's list.
fn is_example_url(url: &str) -> bool {
    const DOMAINS: [&str; 5] = [
        "example.org",
        "acme.com",
        "acme.org",
        "example.com",
        "example.net",
    ];
    DOMAINS
        .iter()
        .any(|d| url.ends_with(*d) || url.contains(&format!("{d}/")))
        || url.starts_with("urn:oid:1.3.6.1.4.1.32473.")
        || url.starts_with("urn:oid:2.999.")
}

pub(super) fn is_repeating(e: &Value) -> bool {
    e.get("max")
        .and_then(Value::as_str)
        .is_some_and(|m| m != "1" && m != "0")
}

impl<'v> Walk<'v> {
    pub(super) fn issue(
        &mut self,
        severity: Severity,
        code: &'static str,
        path: &str,
        message: impl Into<String>,
    ) {
        self.issues.push(Issue {
            severity,
            code,
            expression: path.to_string(),
            message: message.into(),
        });
    }

    /// Validates a resource object against a profile, from its root.
    pub fn resource(&mut self, value: &'v Value, profile: &Arc<Profile>, path: &str) {
        let Some(obj) = value.as_object() else {
            self.issue(
                Severity::Error,
                "structure",
                path,
                "a resource must be a JSON object",
            );
            return;
        };
        if let Some(id) = obj.get("id").and_then(Value::as_str) {
            self.resource_id(id, &format!("{path}.id"));
        }
        let ty = profile.ty.clone();
        self.resources.push(value);
        self.complex(obj, value, profile, 0, &ty, path);
        self.constraints(Some(value), None, profile, 0, &ty, path);
        self.resources.pop();
        self.contained_orphans(value, path);
    }

    /// A resource id: 1 to 64 of `A-Z a-z 0-9 - .` (the R4 `id` type,
    /// which the snapshot types only as a FHIRPath string).
    fn resource_id(&mut self, id: &str, path: &str) {
        if id.len() > 64 {
            self.issue(
                Severity::Error,
                "invalid",
                path,
                format!("Invalid Resource id: Too long ({} chars)", id.len()),
            );
        } else if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            self.issue(
                Severity::Error,
                "invalid",
                path,
                format!("Invalid Resource id: Invalid Characters ('{id}')"),
            );
        }
    }

    /// Validates the children of a complex value against the children of
    /// `profile.elements[index]`, or against its type when the profile does
    /// not constrain inside it.
    pub(super) fn complex(
        &mut self,
        obj: &'v Map<String, Value>,
        value: &'v Value,
        profile: &Arc<Profile>,
        index: usize,
        ty: &str,
        path: &str,
    ) {
        if profile.children(index).is_empty() {
            if let Some(base) = self.validator.profile_for_type(ty) {
                if (!Arc::ptr_eq(&base, profile) || index != 0) && !base.children(0).is_empty() {
                    self.complex(obj, value, &base, 0, ty, path);
                }
            }
            return;
        }
        let kids = &profile.plans[index].unsliced_children;
        // Which children the value has a property for, from one pass over
        // its properties; and the properties no element defines.
        let mut present = vec![false; kids.len()];
        for key in obj.keys() {
            if key == "resourceType" {
                continue;
            }
            let name = key.strip_prefix('_').unwrap_or(key);
            let mut known = false;
            for (at, k) in kids.iter().enumerate() {
                if json_name_matches(&profile.plans[*k], name) {
                    present[at] = true;
                    known = true;
                }
            }
            if !known {
                self.issue(
                    Severity::Error,
                    "structure",
                    &child_path(path, name),
                    format!("Unrecognized property '{key}'"),
                );
            }
        }
        for (at, &k) in kids.iter().enumerate() {
            // A child with no property is walked only when it requires a
            // value (what `element` would find).
            if present[at] || profile.requires_value(k) {
                self.element(obj, value, profile, k, path);
            }
        }
    }

    /// Validates one child element (all its repetitions) of a complex value.
    fn element(
        &mut self,
        obj: &'v Map<String, Value>,
        parent: &'v Value,
        profile: &Arc<Profile>,
        k: usize,
        path: &str,
    ) {
        let ed = &profile.elements[k];
        let plan = &profile.plans[k];
        let (stem, choice) = (&plan.stem, plan.choice);
        let allowed = &plan.types;
        // Which JSON property holds it, and with which type.
        let mut found: Vec<(&'v str, &str)> = Vec::new();
        if choice {
            for key in obj.keys() {
                let k2 = key.strip_prefix('_').unwrap_or(key);
                if let Some(suffix) = k2
                    .strip_prefix(stem.as_str())
                    .filter(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
                {
                    if found.iter().any(|(f, _)| *f == k2) {
                        continue;
                    }
                    match plan.suffixes.iter().position(|t| t == suffix) {
                        Some(t) => found.push((k2, &allowed[t])),
                        None => {
                            self.issue(
                                Severity::Error,
                                "structure",
                                &format!("{path}.{k2}"),
                                format!(
                                    "The type '{suffix}' is not allowed for {}: allowed are {}",
                                    profile.id(k),
                                    allowed.join(", ")
                                ),
                            );
                            return;
                        }
                    }
                }
            }
            if found.len() > 1 {
                self.issue(
                    Severity::Error,
                    "structure",
                    &format!("{path}.{stem}"),
                    format!("{} has more than one value", profile.id(k)),
                );
            }
        } else if let Some((key, _)) = obj
            .get_key_value(&plan.name)
            .or_else(|| obj.get_key_value(&plan.underscore))
        {
            let key = key.strip_prefix('_').unwrap_or(key);
            found.push((key, allowed.first().map_or("", String::as_str)));
        }
        let repeating = plan.repeating;
        let mut items: Vec<super::slicing::Repetition<'v, '_>> = Vec::new();
        for &(key, ty) in &found {
            let v = obj.get(key);
            let e = if key == plan.name {
                obj.get(&plan.underscore)
            } else {
                obj.get(&format!("_{key}"))
            };
            let vals = v.and_then(Value::as_array);
            let exts = e.and_then(Value::as_array);
            for (array, extensions) in [(vals, false), (exts, true)] {
                if array.is_some_and(Vec::is_empty) {
                    let name = if extensions {
                        format!("_{key}")
                    } else {
                        key.to_string()
                    };
                    self.issue(
                        Severity::Error,
                        "structure",
                        &format!("{path}.{key}"),
                        format!("Array '{name}' is empty: FHIR JSON has no empty arrays (leave the property out)"),
                    );
                }
            }
            if vals.is_some() || (v.is_none() && exts.is_some()) {
                // A repeating element: values and `_name` extensions align
                // by index, either side padded with null.
                let len = vals.map_or(0, Vec::len).max(exts.map_or(0, Vec::len));
                for i in 0..len {
                    let vi = vals.and_then(|a| a.get(i)).filter(|x| !x.is_null());
                    let ei = exts.and_then(|a| a.get(i)).filter(|x| !x.is_null());
                    items.push((vi, ei, ty));
                }
            } else {
                items.push((v.filter(|x| !x.is_null()), e.filter(|x| !x.is_null()), ty));
            }
        }
        if items.is_empty() && !profile.requires_value(k) {
            // Absent and allowed to be (no slice requires a value either):
            // nothing more to check.
            return;
        }
        let json_name = found.first().map_or(stem.as_str(), |(k, _)| k);
        let el_path = child_path(path, json_name);
        // Cardinality.
        let min = plan.min;
        if items.len() < min {
            self.issue(
                Severity::Error,
                "required",
                &el_path,
                format!(
                    "{}: minimum required = {min}, but only found {}",
                    profile.id(k),
                    items.len()
                ),
            );
        }
        if let Some(m) = plan.max {
            if items.len() > m {
                let msg = if m == 0 {
                    format!("{} is not allowed here (max = 0)", profile.id(k))
                } else {
                    format!(
                        "{}: max allowed = {m}, but found {}",
                        profile.id(k),
                        items.len()
                    )
                };
                self.issue(Severity::Error, "structure", &el_path, msg);
            }
        }
        // Slices: each slice's own cardinality, by matching items to it.
        let in_slice = if plan.sliced {
            self.slices(profile, k, &items, &el_path)
        } else {
            Vec::new()
        };
        // An element defined by reference to another (`Questionnaire.item.item`
        // is `#Questionnaire.item`) is validated by that element's definition.
        // When the profile constrains inside such an element its own
        // children apply; otherwise the base type's definition does (a
        // profile's slices on `Parameters.parameter` are not slices of
        // `parameter.part`).
        let target = ed
            .get("contentReference")
            .and_then(Value::as_str)
            .filter(|_| profile.children(k).is_empty())
            .and_then(|r| r.split_once('#'))
            .and_then(|(_, id)| {
                let base = self
                    .validator
                    .profile_for_type(id.split('.').next().unwrap_or(id))?;
                let t = base.index_of(id)?;
                Some((base, t))
            });
        if stem == "extension" || stem == "modifierExtension" {
            self.host = Some(parent);
        }
        for (i, (v, e, ty)) in items.iter().enumerate() {
            let p = if repeating {
                indexed_path(&el_path, i)
            } else {
                el_path.clone()
            };
            match &target {
                Some((base, t)) => {
                    let ty = type_codes(&base.elements[*t])
                        .first()
                        .map_or("BackboneElement", |t| t)
                        .to_string();
                    self.item(*v, *e, base, *t, &ty, &p);
                }
                None => self.item(*v, *e, profile, k, ty, &p),
            }
            // An item in a slice also meets the slice's own constraints;
            // what the sliced element already reported is not repeated.
            if let Some(Some(s)) = in_slice.get(i) {
                let before = self.issues.len();
                self.item(*v, *e, profile, *s, ty, &p);
                self.keep_new_issues(before);
            }
        }
    }

    /// Validates one value of an element.
    fn item(
        &mut self,
        v: Option<&'v Value>,
        ext: Option<&'v Value>,
        profile: &Arc<Profile>,
        k: usize,
        ty: &str,
        path: &str,
    ) {
        let ed = &profile.elements[k];
        if let Some(e) = ext {
            let def_path = ed.get("path").and_then(Value::as_str).unwrap_or("");
            self.primitive_extension(e, v, def_path, ty, path);
        }
        if is_primitive(ty) || ty.starts_with("http://hl7.org/fhirpath/") {
            if let Some(v) = v {
                self.primitive(v, ty, path);
                self.example_url(v, ed, ty, path);
            } else if let Some(e) = ext {
                self.value_alternatives(e, profile, k, path);
            } else if ext.is_none() {
                self.issue(
                    Severity::Error,
                    "structure",
                    path,
                    "a primitive value must have a value or extensions",
                );
            }
        } else {
            let Some(v) = v else { return };
            let Some(obj) = v.as_object() else {
                self.issue(
                    Severity::Error,
                    "structure",
                    path,
                    format!("expected an object for type {ty}"),
                );
                return;
            };
            if ty == "Resource" || self.validator.is_resource_type(ty) {
                let contained = ed
                    .get("path")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.ends_with(".contained"));
                if contained && !self.validator.options.validate_contained {
                    return;
                }
                self.resource_value(v, ed, path);
                return;
            }
            if ty == "Extension" && profile.children(k).is_empty() {
                let ed_path = ed.get("path").and_then(Value::as_str).unwrap_or("");
                let def_path = ed_path.rsplit_once('.').map_or(ed_path, |(h, _)| h);
                let host_ty = if def_path.contains('.') {
                    profile
                        .elements
                        .iter()
                        .find(|e| e.get("path").and_then(Value::as_str) == Some(def_path))
                        .and_then(|e| type_codes(e).first().map(|t| t.to_string()))
                        .unwrap_or_else(|| "Element".to_string())
                } else {
                    def_path.to_string()
                };
                let host_path = path.rsplit_once('.').map_or(path, |(h, _)| h);
                let host = context::Host {
                    def_path,
                    ty: &host_ty,
                    instance_path: host_path,
                    value: self.host,
                    parent_extension: None,
                };
                self.extension(v, &host, path);
            } else {
                self.complex(obj, v, profile, k, ty, path);
                self.type_constraints(v, ed, profile, k, ty, path);
                // A type profile that names one of its elements
                // (`elementdefinition-profile-element`, as a section
                // library's `Composition.section:codeA`) constrains the
                // value as that element, not as the profile's root.
                match self.validator.profile_element(profile, k) {
                    Some((external, at)) => {
                        // A profile element that leads back to itself
                        // (directly or through others) for this value is
                        // followed once, not until the stack overflows.
                        let key = (v as *const Value as usize, external.url.clone(), at);
                        if self
                            .session
                            .profile_elements
                            .borrow_mut()
                            .insert(key.clone())
                        {
                            self.item(Some(v), None, &external, at, ty, path);
                            self.session.profile_elements.borrow_mut().remove(&key);
                        }
                    }
                    None => self.type_profiles(v, ed, ty, path),
                }
            }
        }
        if profile.plans[k].may_fix {
            self.fixed_and_pattern(v, ed, path);
        }
        if let Some(v) = v {
            if profile.plans[k].may_limit {
                self.limits(v, ed, ty, path);
            }
            if ty == "Reference" {
                self.reference(v, ed, path);
                if self.validator.options.assume_valid_rest_references {
                    self.reference_target(v, ed, path);
                }
            }
        }
        if profile.plans[k].bound {
            self.binding(v, ed, &profile.url, ty, path);
        }
        self.constraints(v, ext, profile, k, ty, path);
    }

    /// The invariants a complex type declares on itself (`eld-13` on
    /// ElementDefinition), which the element using the type does not
    /// repeat.
    fn type_constraints(
        &mut self,
        v: &'v Value,
        ed: &Value,
        profile: &Arc<Profile>,
        k: usize,
        ty: &str,
        path: &str,
    ) {
        let Some(base) = self.validator.profile_for_type(ty) else {
            return;
        };
        if Arc::ptr_eq(&base, profile) && k == 0 {
            return;
        }
        let plan = &profile.plans[k];
        let slot = plan
            .types
            .iter()
            .position(|t| t == ty)
            .and_then(|i| plan.type_constraints.get(i));
        let only = match slot {
            // Prepared once per element and type.
            Some(slot) => slot
                .get_or_init(|| Self::type_only_constraints(self.validator, &base, ed, ty))
                .clone(),
            None => Self::type_only_constraints(self.validator, &base, ed, ty),
        };
        if let Some(only) = only {
            self.constraints(Some(v), None, &only, 0, ty, path);
        }
    }

    /// The invariants of a type's own root element that the element
    /// definition `ed` does not restate, as a profile of that one root
    /// element (None: there are none).
    fn type_only_constraints(
        validator: &Validator,
        base: &Arc<Profile>,
        ed: &Value,
        ty: &str,
    ) -> Option<Arc<Profile>> {
        let own: Vec<&str> = ed
            .get("constraint")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("key").and_then(Value::as_str))
            .collect();
        // Shared by every element of the same type and set of keys.
        let key = format!("type-constraints {ty} {}", own.join(","));
        validator.prepared_profile(&key, || {
            let extra: Vec<Value> = base.elements[0]
                .get("constraint")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|c| {
                    c.get("key")
                        .and_then(Value::as_str)
                        .is_some_and(|key| !own.contains(&key))
                })
                .cloned()
                .collect();
            if extra.is_empty() {
                return None;
            }
            let mut root = base.elements[0].clone();
            root["constraint"] = Value::Array(extra);
            Some(Profile::new(&base.url, &base.ty, vec![root]))
        })
    }

    /// Each relative-URL sub-extension of a complex extension must be one
    /// its definition names.
    fn sub_extensions(&mut self, v: &Value, p: &Profile, url: &str, path: &str) {
        let defined: Vec<&str> = p
            .elements
            .iter()
            .filter(|e| e.get("path").and_then(Value::as_str) == Some("Extension.extension.url"))
            .filter_map(|e| e.get("fixedUri").and_then(Value::as_str))
            .collect();
        if defined.is_empty() {
            return;
        }
        for (i, x) in v
            .get("extension")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let sub = x.get("url").and_then(Value::as_str).unwrap_or("");
            if !sub.contains(':') && !defined.contains(&sub) {
                self.issue(
                    Severity::Error,
                    "structure",
                    &format!("{path}.extension[{i}]"),
                    format!("Sub-extension url '{sub}' is not defined by the Extension {url}"),
                );
            }
        }
    }

    /// The resource type a literal reference names must be one the
    /// element's `targetProfile`s allow.
    fn reference_target(&mut self, v: &Value, ed: &Value, path: &str) {
        let Some(reference) = v.get("reference").and_then(Value::as_str) else {
            return;
        };
        if reference.starts_with('#') || reference.starts_with("urn:") {
            return;
        }
        let plain = reference.split("/_history/").next().unwrap_or(reference);
        let mut parts = plain.rsplit('/');
        let (Some(_), Some(ty)) = (parts.next(), parts.next()) else {
            return;
        };
        if !self.validator.is_resource_type(ty) {
            return;
        }
        let Some(allowed) = self.allowed_target_types(ed) else {
            return;
        };
        if !allowed.iter().any(|a| a == ty) {
            self.issue(
                Severity::Error,
                "structure",
                path,
                format!(
                    "The type '{ty}' implied by the reference URL {reference} is not a valid Target for this element (must be one of [{}])",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// The resource types an element's Reference type lets it refer to,
    /// from its `targetProfile`s; `None` when any type will do (no target
    /// profiles, `Resource` or `DomainResource`, or a profile that is not
    /// loaded and whose type cannot be told).
    pub(super) fn allowed_target_types(&self, ed: &Value) -> Option<Vec<String>> {
        let mut allowed: Vec<String> = Vec::new();
        for t in ed
            .get("type")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if t.get("code").and_then(Value::as_str) != Some("Reference") {
                continue;
            }
            let targets = t.get("targetProfile").and_then(Value::as_array)?;
            for target in targets.iter().filter_map(Value::as_str) {
                let target_ty = self
                    .validator
                    .registry
                    .structure_definition(target)
                    .and_then(|sd| sd.get("type").and_then(Value::as_str))
                    .map(str::to_string)
                    .or_else(|| target.rsplit('/').next().map(str::to_string));
                match target_ty.as_deref() {
                    Some("Resource" | "DomainResource") => return None,
                    Some(t) if self.validator.is_resource_type(t) => allowed.push(t.to_string()),
                    // A profile not loaded: anything goes.
                    _ => return None,
                }
            }
        }
        (!allowed.is_empty()).then_some(allowed)
    }

    /// A primitive with extensions but no value: the profile may demand a
    /// value (`mustHaveValue`) or name the extensions that may stand in for
    /// it (`valueAlternatives`), R5 features used in R4 through their
    /// cross-version extensions.
    fn value_alternatives(&mut self, e: &Value, profile: &Profile, k: usize, path: &str) {
        const XV: &str = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.";
        let ed = &profile.elements[k];
        let marks: Vec<(&str, &Value)> = ed
            .get("extension")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| {
                let url = x.get("url")?.as_str()?.strip_prefix(XV)?;
                let value = x
                    .as_object()?
                    .iter()
                    .find(|(k, _)| k.starts_with("value"))?
                    .1;
                Some((url, value))
            })
            .collect();
        let id = profile.id(k);
        if marks
            .iter()
            .any(|(u, v)| *u == "mustHaveValue" && v.as_bool() == Some(true))
        {
            self.issue(
                Severity::Error,
                "required",
                path,
                format!("The element definition {id} in the profile '{}' requires that a value be present in this element", profile.url),
            );
            return;
        }
        let alternatives: Vec<&str> = marks
            .iter()
            .filter(|(u, _)| *u == "valueAlternatives")
            .filter_map(|(_, v)| v.as_str())
            .collect();
        if alternatives.is_empty() {
            return;
        }
        let present = e
            .get("extension")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| x.get("url").and_then(Value::as_str))
            .any(|u| alternatives.contains(&u));
        if !present {
            self.issue(
                Severity::Error,
                "required",
                path,
                format!(
                    "The element definition {id} in the profile '{}' requires that if a value is not present, one of the extensions {} must be present",
                    profile.url,
                    alternatives.join(", ")
                ),
            );
        }
    }

    fn primitive_extension(
        &mut self,
        e: &'v Value,
        value: Option<&'v Value>,
        def_path: &str,
        ty: &str,
        path: &str,
    ) {
        // A primitive's `_name` object holds only its id and extensions
        // (R4 JSON, "Representing primitive elements").
        for key in e.as_object().into_iter().flat_map(|o| o.keys()) {
            if key != "id" && key != "extension" {
                self.issue(
                    Severity::Error,
                    "structure",
                    &format!("{path}.{key}"),
                    format!("Unrecognized property '{key}'"),
                );
            }
        }
        if let Some(exts) = e.get("extension").and_then(Value::as_array) {
            let ty = ty.rsplit('.').next().unwrap_or(ty);
            let host = context::Host {
                def_path,
                ty,
                instance_path: path,
                value,
                parent_extension: None,
            };
            for (i, x) in exts.iter().enumerate() {
                self.extension(x, &host, &format!("{path}.extension[{i}]"));
            }
        }
    }

    /// Validates an extension against its definition when the URL
    /// resolves, else against the base Extension.
    fn extension(&mut self, v: &'v Value, host: &context::Host, path: &str) {
        let mut url = v.get("url").and_then(Value::as_str).unwrap_or("");
        // Extension.url is the definition's canonical URL, which each
        // definition fixes (R4 Extension.url: "SHALL be a URI for the
        // Structure Definition defining the extension"), so it carries no
        // version: a versioned URL is an error, and the extension is
        // checked against the definition the URL names without it.
        if let Some((plain, _)) = url.split_once('|') {
            if let Some(sd) = self.validator.registry.structure_definition(plain) {
                let version = sd.get("version").and_then(Value::as_str).unwrap_or("");
                let message = if url == format!("{plain}|{version}") {
                    "The extension URL must not contain a version".to_string()
                } else {
                    format!("The extension URL must not contain a version. The extension was validated against version {version} of the extension")
                };
                self.issue(Severity::Error, "invalid", path, message);
                url = plain;
            }
        }
        // Inside an extension (its definition's `Extension.extension`, or
        // an extension a profile unfolds), a sub-extension's URL may be
        // relative to its parent's.
        let nested = host.def_path == "Extension" || host.ty == "Extension";
        let profile = self.validator.profile(url);
        match profile {
            Some(p) => {
                if let Some(sd) = self.validator.registry.structure_definition(url) {
                    let parent = self.extension_urls.last().map(String::as_str);
                    let host = context::Host {
                        parent_extension: parent.filter(|_| host.def_path.starts_with("Extension")),
                        ..*host
                    };
                    let resource = self.resources.last().copied().unwrap_or(self.root);
                    let outer = &self.resources[..self.resources.len().saturating_sub(1)];
                    let conforms = |url: &str| self.conforms(resource, outer, url);
                    if let Err(message) =
                        context::check(self.validator, sd, &host, resource, &conforms)
                    {
                        self.issue(Severity::Error, "structure", path, message);
                    }
                }
                if let Some(obj) = v.as_object() {
                    self.extension_urls.push(url.to_string());
                    self.complex(obj, v, &p, 0, "Extension", path);
                    self.constraints(Some(v), None, &p, 0, "Extension", path);
                    self.sub_extensions(v, &p, url, path);
                    self.extension_urls.pop();
                }
            }
            // A sub-extension of a complex extension is named relative to
            // its parent (`url: "name"`), whose definition checks it.
            None if !url.contains(':') && !url.is_empty() && nested => {
                if let (Some(obj), Some(base)) =
                    (v.as_object(), self.validator.profile_for_type("Extension"))
                {
                    self.complex(obj, v, &base, 0, "Extension", path);
                }
            }
            // Without a URL the extension cannot be identified; what it
            // holds is still checked against the base Extension (whose
            // `url` is 1..1).
            None if url.is_empty() => {
                self.issue(
                    Severity::Error,
                    "invalid",
                    path,
                    "Extension.url is required in order to identify, use and validate the extension",
                );
                if let (Some(obj), Some(base)) =
                    (v.as_object(), self.validator.profile_for_type("Extension"))
                {
                    self.complex(obj, v, &base, 0, "Extension", path);
                }
            }
            None if !url.contains(':') => self.issue(
                Severity::Error,
                "structure",
                path,
                format!("Extension.url must be an absolute URL (found '{url}')"),
            ),
            None if self
                .validator
                .options
                .extension_domains
                .iter()
                .any(|d| url.starts_with(d.as_str())) => {}
            // Extensions at example.org and acme.com, when examples are
            // allowed, need no definition: the reference validator's
            // narrower list for extensions (its `isKnownExtension`), not
            // every RFC 2606 domain.
            None if self.validator.options.allow_examples
                && (url.contains("example.org") || url.contains("acme.com")) => {}
            None if self.validator.options.foreign_extensions
                && !self.validator.knows_namespace(url) =>
            {
                self.issue(
                    Severity::Warning,
                    "structure",
                    path,
                    format!("The extension {url} is not known; it is kept without being checked"),
                );
            }
            None => {
                // As the HL7 reference validator: an extension nobody can
                // look up cannot be checked, so it is not allowed.
                self.issue(
                    Severity::Error,
                    "structure",
                    path,
                    format!("The extension {url} could not be found so is not allowed here"),
                );
                if let (Some(obj), Some(base)) =
                    (v.as_object(), self.validator.profile_for_type("Extension"))
                {
                    self.complex(obj, v, &base, 0, "Extension", path);
                }
            }
        }
    }

    /// Checks a primitive's JSON form and its type's regular expression.
    fn primitive(&mut self, v: &Value, ty: &str, path: &str) {
        let ty = ty.rsplit('.').next().unwrap_or(ty);
        let ty = match ty {
            "String" => "string",
            "Boolean" => "boolean",
            "Integer" => "integer",
            "Decimal" => "decimal",
            other => other,
        };
        if v.as_str().is_some_and(|t| t.len() > MAX_STRING) {
            self.issue(
                Severity::Error,
                "too-long",
                path,
                format!(
                    "value is longer than permitted maximum length of 1 MB ({MAX_STRING} bytes)"
                ),
            );
            return;
        }
        if let Some((_, c)) = v.as_str().and_then(crate::format::limits::forbidden_char) {
            self.issue(
                Severity::Error,
                "invalid",
                path,
                format!("The value contains the character U+{:04X}: FHIR strings may not hold control characters other than tab, line feed and carriage return", c as u32),
            );
            return;
        }
        let text = match (ty, v) {
            ("boolean", Value::Bool(_)) => return,
            ("boolean", _) => {
                self.issue(
                    Severity::Error,
                    "structure",
                    path,
                    format!("Error parsing JSON: the primitive value must be a boolean, not {v}"),
                );
                return;
            }
            ("integer" | "positiveInt" | "unsignedInt" | "integer64", Value::Number(n)) => {
                let Some(i) = n
                    .as_i64()
                    .filter(|_| !n.to_string().contains(['.', 'e', 'E']))
                else {
                    self.issue(
                        Severity::Error,
                        "structure",
                        path,
                        format!("The value '{n}' is not a valid integer"),
                    );
                    return;
                };
                let bad = match ty {
                    "positiveInt" => i < 1,
                    "unsignedInt" => i < 0,
                    "integer" => i < i32::MIN as i64 || i > i32::MAX as i64,
                    _ => false,
                };
                if bad {
                    self.issue(
                        Severity::Error,
                        "value",
                        path,
                        format!("The value '{i}' is not a valid {ty}"),
                    );
                }
                return;
            }
            ("decimal", Value::Number(_)) => return,
            ("integer" | "positiveInt" | "unsignedInt" | "integer64" | "decimal", _) => {
                self.issue(
                    Severity::Error,
                    "structure",
                    path,
                    format!("Error parsing JSON: the primitive value must be a number, not {v}"),
                );
                return;
            }
            (_, Value::String(s)) => s.as_str(),
            _ => {
                self.issue(
                    Severity::Error,
                    "structure",
                    path,
                    format!("Error parsing JSON: the primitive value must be a string, not {v}"),
                );
                return;
            }
        };
        if text.trim().is_empty() && ty != "xhtml" {
            self.issue(Severity::Error, "invalid", path, "@value cannot be empty");
            return;
        }
        if ty == "xhtml" {
            self.xhtml(text, path);
            return;
        }
        let options = &self.validator.options;
        if (ty == "markdown" && options.no_html_in_markdown)
            || (options.security_checks && matches!(ty, "string" | "markdown"))
        {
            static TAG: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(r"<\s*/?\s*[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?\s*>")
                    .expect("tag pattern compiles")
            });
            if let Some(m) = TAG.find(text) {
                let what = if ty == "markdown" {
                    "markdown"
                } else {
                    "string value"
                };
                self.issue(
                    Severity::Error,
                    "security",
                    path,
                    format!("The {what} contains text that looks like an embedded HTML tag ('{}'), which is not allowed in this context", m.as_str()),
                );
            }
        }
        if let Some(re) = self.validator.primitive_regex(ty) {
            if !re.is_match(text) {
                self.issue(
                    Severity::Error,
                    "invalid",
                    path,
                    format!("The value '{text}' is not a valid {ty}"),
                );
                return;
            }
        }
        if matches!(ty, "uri" | "url" | "canonical" | "uuid" | "oid") {
            self.urn(text, path);
        }
    }

    /// A uri, url or canonical at an example address (`is_example_url`) is
    /// an error unless the options allow examples: an example stands for
    /// an address it is not, so real data cannot use it (the reference
    /// validator's `validateReference`, TYPE_SPECIFIC_CHECKS_DT_URL_EXAMPLE,
    /// for a URL that does not resolve). A URL a loaded resource has
    /// resolves. Not checked: a local `#` reference, a canonical
    /// resource's own `url`, `Bundle.entry.fullUrl`, the value of an
    /// extension unless it is a canonical, and a canonical when the
    /// reference policy looks references up (their resolution decides).
    /// Like the reference validator (which asks only when it has a fetcher
    /// to resolve URLs with), only a validator with a resolver asks: a
    /// standalone one (`Validator::new`, the CLI) has no way to tell an
    /// example address from a real one that it cannot reach.
    fn example_url(&mut self, v: &Value, ed: &Value, ty: &str, path: &str) {
        let options = &self.validator.options;
        let Some(url) = v.as_str() else { return };
        let ty = fhir_type(ed, ty);
        if options.allow_examples
            || self.validator.resolver.is_none()
            || !matches!(ty, "uri" | "url" | "canonical")
            || url.starts_with('#')
            || !is_example_url(url)
        {
            return;
        }
        let base = ed
            .pointer("/base/path")
            .or_else(|| ed.get("path"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let defining = base
            .split_once('.')
            .is_some_and(|(rt, rest)| rest == "url" && self.validator.is_resource_type(rt));
        let exempt = defining
            || base == "Bundle.entry.fullUrl"
            || (ty == "canonical" && options.reference_policy != super::ReferencePolicy::Ignore)
            || (ty != "canonical" && base == "Extension.value[x]");
        if exempt || self.validator.registry.resolve(url).is_some() {
            return;
        }
        self.issue(
            Severity::Error,
            "invalid",
            path,
            format!("Example URLs are not allowed in this context ({url})"),
        );
    }

    /// `urn:uuid:` and `urn:oid:` URIs must hold a valid UUID (lowercase)
    /// or OID (RFC 4122, ITU-T X.660).
    fn urn(&mut self, text: &str, path: &str) {
        static UUID: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
                .expect("UUID pattern compiles")
        });
        static OID: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^[0-2](\.(0|[1-9][0-9]*))+$").expect("OID pattern compiles")
        });
        if let Some(uuid) = text.strip_prefix("urn:uuid:") {
            if !UUID.is_match(uuid) {
                self.issue(
                    Severity::Error,
                    "invalid",
                    path,
                    format!("UUIDs must be valid and lowercase ({uuid})"),
                );
            }
        } else if let Some(oid) = text.strip_prefix("urn:oid:") {
            if !OID.is_match(oid) {
                self.issue(
                    Severity::Error,
                    "invalid",
                    path,
                    format!("OIDs must be valid ({oid})"),
                );
            }
        }
    }

    /// Narrative XHTML: the rules of `format::xhtml` (well-formed within
    /// the limits, an XHTML div, only the elements, attributes and URLs
    /// txt-1 allows, some content for txt-2), one issue per breach.
    fn xhtml(&mut self, text: &str, path: &str) {
        use crate::format::xhtml::{self, Rule};
        let problems = xhtml::check(text);
        let well_formed = !problems.iter().any(|p| p.rule == Rule::WellFormed);
        for problem in problems {
            let (code, message) = match problem.rule {
                Rule::WellFormed => (
                    "invalid",
                    format!(
                        "The narrative is not well-formed XHTML: {}",
                        problem.message
                    ),
                ),
                Rule::Txt2 => (
                    "invariant",
                    format!("Constraint failed: txt-2: '{}'", problem.message),
                ),
                _ => ("invalid", problem.message),
            };
            self.issue(Severity::Error, code, path, message);
        }
        if well_formed {
            if let Ok(doc) = roxmltree::Document::parse(text) {
                self.hyperlinks(&doc.root_element(), path);
            }
        }
    }

    /// Narrative hyperlinks (R4 `narrative.html#xhtml`: the narrative is
    /// for display, and links in it must be usable from it): an `a` with an
    /// `href` links somewhere, and not to a URN (`urn:`, `cid:`), which no
    /// browser can follow; a link to a fragment (`#x`) names something in
    /// the resource or, failing that, in the Bundle (the document) that
    /// holds it (the reference validator's `checkReferences`).
    fn hyperlinks(&mut self, root: &roxmltree::Node, path: &str) {
        for a in root
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == "a")
        {
            let Some(href) = a.attribute("href") else {
                continue;
            };
            let text: String = a
                .descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect::<String>()
                .trim()
                .to_string();
            if href.trim().is_empty() {
                self.issue(
                    Severity::Error,
                    "invalid",
                    path,
                    format!("Hyperlink for '{text}' is empty"),
                );
                continue;
            }
            if let Some(fragment) = href.strip_prefix('#').filter(|f| !f.is_empty()) {
                if !self.anchor_exists(fragment) {
                    self.issue(
                        Severity::Error,
                        "invalid",
                        path,
                        format!("Hyperlink '{href}' for '{text}' does not resolve"),
                    );
                }
                continue;
            }
            let scheme = href.split_once(':').map(|(s, _)| s).filter(|s| {
                s.starts_with(|c: char| c.is_ascii_alphabetic())
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            });
            if let Some(scheme @ ("urn" | "cid")) = scheme {
                self.issue(
                    Severity::Error,
                    "invalid",
                    path,
                    format!("Hyperlink scheme '{scheme}' in '{href}' for '{text}' is not a valid hyperlinkable scheme"),
                );
            }
        }
    }

    /// Whether a narrative's fragment names an element or resource id, or
    /// an XHTML `id` (or `a` `name`), in the resource being walked, else
    /// anywhere in the Bundle that holds it.
    fn anchor_exists(&self, fragment: &str) -> bool {
        let (resource, _) = self.resource_scope();
        self.anchors(resource).contains(fragment)
            || self
                .resources
                .iter()
                .rev()
                .find(|r| r.get("resourceType").and_then(Value::as_str) == Some("Bundle"))
                .is_some_and(|bundle| self.anchors(bundle).contains(fragment))
    }

    /// The anchors `v` holds (`collect_anchors`), gathered once per
    /// validation: every narrative is parsed once, however many fragment
    /// links there are.
    fn anchors(&self, v: &Value) -> Rc<HashSet<String>> {
        let key = v as *const Value as usize;
        if let Some(found) = self.session.anchors.borrow().get(&key) {
            return found.clone();
        }
        let mut found = HashSet::new();
        collect_anchors(v, &mut found);
        let found = Rc::new(found);
        self.session.anchors.borrow_mut().insert(key, found.clone());
        found
    }

    fn fixed_and_pattern(&mut self, v: Option<&Value>, ed: &Value, path: &str) {
        let Some(obj) = ed.as_object() else { return };
        for (k, want) in obj {
            if let Some(_t) = k.strip_prefix("fixed") {
                match v {
                    Some(got) if got == want => {}
                    Some(got) => self.issue(
                        Severity::Error,
                        "value",
                        path,
                        format!("Value is '{}' but must be '{}'", short(got), short(want)),
                    ),
                    None => {}
                }
            } else if k.starts_with("pattern") {
                if let Some(got) = v {
                    if !pattern_matches(want, got) {
                        self.issue(
                            Severity::Error,
                            "value",
                            path,
                            format!(
                                "The value does not match the required pattern {}",
                                short(want)
                            ),
                        );
                    }
                }
            }
        }
    }

    fn binding(&mut self, v: Option<&Value>, ed: &Value, profile_url: &str, ty: &str, path: &str) {
        let Some(b) = ed.get("binding") else { return };
        let strength = b.get("strength").and_then(Value::as_str).unwrap_or("");
        let strength = super::errata::binding_strength(profile_url, ed, strength);
        if strength != "required" && strength != "extensible" {
            return;
        }
        let Some(vs_url) = b.get("valueSet").and_then(Value::as_str) else {
            return;
        };
        let Some(v) = v else { return };
        let codings: Vec<(String, String)> = match ty {
            "code" | "string" | "uri" => v
                .as_str()
                .map(|c| vec![(String::new(), c.to_string())])
                .unwrap_or_default(),
            "Coding" => coding(v).into_iter().collect(),
            "CodeableConcept" => v
                .get("coding")
                .and_then(Value::as_array)
                .map(|cs| cs.iter().filter_map(coding).collect())
                .unwrap_or_default(),
            "Quantity" => coding(v).into_iter().collect(),
            _ => return,
        };
        if codings.is_empty() {
            return;
        }
        let expansion = self.validator.expansion(vs_url);
        let vs_name = vs_url.split('|').next().unwrap_or(vs_url);
        match expansion.as_deref() {
            None => self.issue(
                Severity::Warning,
                "not-found",
                path,
                format!("The value set {vs_name} is not loaded, so the code cannot be checked"),
            ),
            Some(Expansion::Unknown(system)) => self.issue(
                Severity::Information,
                "informational",
                path,
                format!("Codes from {system} cannot be checked offline (value set {vs_name})"),
            ),
            Some(exp) => {
                let any = codings
                    .iter()
                    .any(|(s, c)| exp.contains(s, c) == Some(true));
                if !any {
                    let shown = codings
                        .iter()
                        .map(|(s, c)| {
                            if s.is_empty() {
                                c.clone()
                            } else {
                                format!("{s}#{c}")
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let (sev, msg) = if strength == "required" {
                        (Severity::Error, format!("The value provided ('{shown}') is not in the value set '{vs_name}', and a code from this value set is required"))
                    } else {
                        (Severity::Warning, format!("None of the codes provided ('{shown}') are in the value set '{vs_name}', and a code should come from this value set unless it has no suitable code"))
                    };
                    self.issue(sev, "code-invalid", path, msg);
                    // A bare code names no system: the reference validator
                    // infers one from the value set's code systems, and a
                    // required code that none of them holds is a second
                    // fault (`ValueSetValidator.systemForCodeInValueSet`).
                    if strength == "required" && codings.iter().all(|(s, _)| s.is_empty()) {
                        self.issue(
                            Severity::Error,
                            "code-invalid",
                            path,
                            format!("The System URI could not be determined for the code '{shown}' in the ValueSet '{vs_name}'"),
                        );
                    }
                }
            }
        }
    }

    /// Evaluates the element's invariants.
    pub(super) fn constraints(
        &mut self,
        v: Option<&'v Value>,
        ext: Option<&'v Value>,
        profile: &Arc<Profile>,
        k: usize,
        ty: &str,
        path: &str,
    ) {
        let cs = &profile.plans[k].constraints;
        // dom-3 is enforced by `contained_orphans`: its expression cannot
        // see references from the narrative.
        let mut engine = cs
            .iter()
            .filter(|c| c.key != "dom-3" && !c.plain.is_some_and(|p| p.satisfied(v, ext)))
            .peekable();
        if engine.peek().is_none() {
            return;
        }
        let node_ty = self.validator.fhirpath_type(profile, k, ty);
        // What every invariant of the element is evaluated in, made once.
        let (resource, root_resource) = self.resource_scope();
        let item = |r: &'v Value| {
            Item::Node(Node {
                value: Some(r),
                extension: None,
                ty: self.validator.resource_type_name(r),
            })
        };
        let resource = item(resource);
        let mut ctx = Context {
            model: Some(&self.validator.model),
            registry: Some(self.validator.registry),
            ..Context::default()
        };
        ctx.variables
            .insert("rootResource".into(), vec![item(root_resource)]);
        let focus = Item::Node(Node {
            value: v,
            extension: ext,
            ty: node_ty,
        });
        let mut failed = Vec::new();
        for c in engine {
            let compiled = c
                .compiled
                .get_or_init(|| self.validator.expression(&c.expression));
            let Some(compiled) = compiled else {
                continue;
            };
            let result = compiled.evaluate_on(vec![focus.clone()], Some(resource.clone()), &ctx);
            // An invariant holds when it evaluates to true or to anything
            // that is not a lone false; an empty result does not hold
            // (FHIRPath's boolean conversion of nothing, as the reference
            // validator applies it: per-1 on a Period whose ends differ in
            // precision, which FHIRPath cannot order, fails). A failure to
            // evaluate is not the instance's fault and is not reported.
            let passed = match result {
                Ok(r) if r.is_empty() => false,
                Ok(r) => !(r.len() == 1 && matches!(r[0].to_system(), Some(Item::Boolean(false)))),
                Err(_) => true,
            };
            if !passed {
                failed.push(c);
            }
        }
        for c in failed {
            let severity = if c.warning {
                Severity::Warning
            } else {
                Severity::Error
            };
            self.issue(
                severity,
                "invariant",
                path,
                format!(
                    "Constraint failed: {}: '{}' (defined in {})",
                    c.key, c.human, profile.url
                ),
            );
        }
    }

    /// FHIRPath's `%resource` and `%rootResource` for the element being
    /// walked (`fhirpath.html#vars`, R4 `fhirpath.html#variables`): the
    /// resource that holds it, and for a contained resource its
    /// container (otherwise the resource itself; a Bundle entry's
    /// resource is its own root).
    fn resource_scope(&self) -> (&'v Value, &'v Value) {
        let n = self.resources.len();
        let Some(&inner) = self.resources.last() else {
            return (self.root, self.root);
        };
        let root = match n.checked_sub(2).map(|i| self.resources[i]) {
            Some(outer)
                if outer
                    .get("contained")
                    .and_then(Value::as_array)
                    .is_some_and(|c| c.iter().any(|x| std::ptr::eq(x, inner))) =>
            {
                outer
            }
            _ => inner,
        };
        (inner, root)
    }

    /// Drops the issues found since `before` that repeat one found earlier
    /// at the same place.
    pub(super) fn keep_new_issues(&mut self, before: usize) {
        let new = self.issues.split_off(before);
        for issue in new {
            let seen = self.issues.iter().any(|o| {
                o.expression == issue.expression
                    && o.severity == issue.severity
                    && strip_definer(&o.message) == strip_definer(&issue.message)
            });
            if !seen {
                self.issues.push(issue);
            }
        }
    }

    /// Validates the profiles a resource claims in `meta.profile`, and the
    /// vital signs profile the specification requires of it
    /// (`validation::vitals`).
    pub fn meta_profiles(&mut self, v: &'v Value, path: &str) {
        let implied = super::vitals::implied_profile(v).and_then(|u| self.validator.profile(&u));
        if let Some(p) = implied {
            self.resource(v, &p, path);
        }
        for url in v
            .pointer("/meta/profile")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            match self.validator.profile(url) {
                Some(p) => self.resource(v, &p, path),
                None => self.issue(
                    Severity::Warning,
                    "not-found",
                    &format!("{path}.meta.profile"),
                    format!("Profile reference '{url}' has not been checked because it is unknown"),
                ),
            }
        }
    }
}

/// The `id`s `v` holds, and in its narratives the XHTML `id`s and `a`
/// `name`s: what a narrative's `#fragment` link may name.
fn collect_anchors(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match x {
                    Value::String(s) if k == "id" => {
                        out.insert(s.clone());
                    }
                    // Through the narrative limits (depth, attributes)
                    // first: roxmltree recurses by depth, and this reads
                    // narratives the walk has not checked yet.
                    Value::String(s) if k == "div" => {
                        if let Ok(d) = crate::format::xhtml::parse(s) {
                            for n in d.descendants() {
                                if let Some(id) = n.attribute("id") {
                                    out.insert(id.to_string());
                                }
                                if n.tag_name().name() == "a" {
                                    if let Some(name) = n.attribute("name") {
                                        out.insert(name.to_string());
                                    }
                                }
                            }
                        }
                    }
                    _ => collect_anchors(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_anchors(x, out)),
        _ => {}
    }
}

fn coding(v: &Value) -> Option<(String, String)> {
    let code = v.get("code")?.as_str()?;
    Some((
        v.get("system")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        code.to_string(),
    ))
}

pub(super) fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.len() > 120 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(117).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// Whether `value` carries everything `pattern` says (FHIR pattern[x]):
/// objects by key, arrays by each pattern item matching some value item.
pub(super) fn pattern_matches(pattern: &Value, value: &Value) -> bool {
    match (pattern, value) {
        (Value::Object(p), Value::Object(v)) => p
            .iter()
            .all(|(k, pv)| v.get(k).is_some_and(|vv| pattern_matches(pv, vv))),
        (Value::Array(p), Value::Array(v)) => p
            .iter()
            .all(|pi| v.iter().any(|vi| pattern_matches(pi, vi))),
        (p, v) => p == v,
    }
}

/// Whether a JSON property name is this element's (`valueQuantity` for
/// `value[x]`).
fn json_name_matches(plan: &ElementPlan, key: &str) -> bool {
    if plan.choice {
        key.strip_prefix(plan.stem.as_str())
            .is_some_and(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
            || plan.types.is_empty() && key == plan.stem
    } else {
        key == plan.name
    }
}
