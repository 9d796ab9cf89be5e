//! Validating resources against base R4 and profiles, driven by
//! StructureDefinitions.
//!
//! A [`Validator`] borrows a [`Registry`] of conformance resources and
//! checks a resource (as FHIR JSON) against the definition of its type and
//! every profile it claims (`meta.profile`) or the caller names: elements
//! and their types, cardinality, primitive formats (the regular expressions
//! of the primitive types' own definitions), fixed and pattern values,
//! slice cardinality, extensions (resolved by URL), bindings (required →
//! error, extensible → warning) against loaded value sets, and invariants,
//! evaluated by the one FHIRPath engine. Validation collects every issue,
//! each with a FHIRPath location; it never stops at the first, and never
//! panics.
//!
//! # Examples
//! ```no_run
//! use fhir_core::package::{cache, Registry};
//! use fhir_core::validation::Validator;
//! let mut registry = Registry::new();
//! registry.load(&cache::package_dir(&cache::cache_dir(), "hl7.fhir.r4.core", "4.0.1")).unwrap();
//! let validator = Validator::new(&registry);
//! let outcome = validator.validate(&serde_json::json!({"resourceType": "Patient", "gender": "sometimes"}));
//! assert!(outcome.has_errors());
//! ```

mod bundle;
mod context;
mod issue;
mod profile;
mod questionnaire;
pub mod snapshot;
pub(crate) mod terminology;
mod values;
mod walker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use regex::Regex;
use serde_json::{json, Value};

pub use issue::{Issue, Outcome, Severity};
pub use profile::Profile;
pub use terminology::Expansion;

use crate::fhirpath::{Context, Expression, Item, ModelInfo, Node};
use crate::package::Registry;

/// What a validator checks beyond the specification's rules. The defaults
/// follow the HL7 reference validator's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Strings that look like HTML tags are errors (injection defence for
    /// systems that render text unescaped). Default off.
    pub security_checks: bool,
    /// Markdown that contains HTML tags is an error. Default off: it is
    /// legal markdown, escaped when shown.
    pub no_html_in_markdown: bool,
    /// Contained resources are validated. Default on.
    pub validate_contained: bool,
    /// URL prefixes whose extensions may be used without a definition
    /// (otherwise an unknown extension is an error).
    pub extension_domains: Vec<String>,
    /// A RESTful reference (`Group/1`, `https://server/Group/1`) is taken
    /// to name a resource of that type, which must be one the element
    /// allows. Default off, as in the reference validator (the server
    /// turns it on: its references are RESTful).
    pub assume_valid_rest_references: bool,
    /// Extensions from a namespace no loaded definition lives in (no
    /// loaded StructureDefinition shares the extension's canonical base,
    /// such as Synthea's or US Core's) are accepted with a warning rather
    /// than being errors. Unknown extensions in a namespace whose
    /// definitions are loaded (ours, UK Core's, HL7's) stay errors: they
    /// are typos or versions we do not have. Default off, as the reference
    /// validator; the server turns it on.
    pub foreign_extensions: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            security_checks: false,
            no_html_in_markdown: false,
            validate_contained: true,
            extension_domains: Vec::new(),
            assume_valid_rest_references: false,
            foreign_extensions: false,
        }
    }
}

/// A memo table that several threads may fill.
type Memo<T> = Mutex<HashMap<String, Option<Arc<T>>>>;

/// Validates resources against the conformance resources of a registry.
/// Profiles, regular expressions, value set expansions and invariant
/// expressions are prepared once and kept.
///
/// # Examples
/// ```no_run
/// use fhir_core::package::{cache, Registry};
/// use fhir_core::validation::Validator;
/// let registry = Registry::base_r4(&cache::cache_dir()).unwrap();
/// let validator = Validator::new(&registry);
/// let outcome = validator.validate(&serde_json::json!({"resourceType": "Patient", "active": "yes"}));
/// for issue in &outcome.issues {
///     println!("{:?} at {}: {}", issue.severity, issue.expression, issue.message);
/// }
/// assert!(outcome.has_errors());
/// ```
pub struct Validator<'r> {
    registry: &'r Registry,
    options: Options,
    model: Arc<ModelInfo>,
    profiles: Memo<Profile>,
    regexes: Memo<Regex>,
    expansions: Memo<Expansion>,
    expressions: Memo<Expression>,
    namespaces: std::sync::OnceLock<std::collections::HashSet<String>>,
}

/// The canonical base a definition URL lives under: what precedes
/// `/StructureDefinition/` (`http://hl7.org/fhir/us/core`), else everything
/// before the last `/`.
fn namespace_of(url: &str) -> Option<&str> {
    url.find("/StructureDefinition/")
        .or_else(|| url.rfind('/'))
        .map(|end| &url[..end])
        .filter(|n| n.contains("://"))
}

fn memo<T>(table: &Memo<T>, key: &str, make: impl FnOnce() -> Option<T>) -> Option<Arc<T>> {
    if let Some(v) = table.lock().unwrap_or_else(|e| e.into_inner()).get(key) {
        return v.clone();
    }
    let made = make().map(Arc::new);
    table
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key.to_string(), made.clone());
    made
}

impl<'r> Validator<'r> {
    /// A validator over a registry that holds at least base R4.
    pub fn new(registry: &'r Registry) -> Validator<'r> {
        Validator::with_model(registry, Arc::new(ModelInfo::from_registry(registry)))
    }

    /// A validator that reuses type knowledge already read from the same
    /// base definitions (reading it takes a while; validators over
    /// registries that differ only in profiles can share it).
    pub fn with_model(registry: &'r Registry, model: Arc<ModelInfo>) -> Validator<'r> {
        Validator {
            registry,
            options: Options::default(),
            model,
            profiles: Mutex::default(),
            regexes: Mutex::default(),
            expansions: Mutex::default(),
            expressions: Mutex::default(),
            namespaces: std::sync::OnceLock::new(),
        }
    }

    /// Whether some loaded StructureDefinition lives under the canonical
    /// base of `url`.
    pub(crate) fn knows_namespace(&self, url: &str) -> bool {
        let known = self.namespaces.get_or_init(|| {
            self.registry
                .of_type("StructureDefinition")
                .filter_map(|sd| sd.get("url").and_then(Value::as_str))
                .filter_map(namespace_of)
                .map(str::to_string)
                .collect()
        });
        namespace_of(url).is_some_and(|n| known.contains(n))
    }

    /// The same validator with these options.
    ///
    /// ```no_run
    /// # use fhir_core::package::Registry;
    /// # use fhir_core::validation::{Options, Validator};
    /// # let registry = Registry::new();
    /// let strict = Validator::new(&registry).with_options(Options {
    ///     security_checks: true,
    ///     ..Options::default()
    /// });
    /// ```
    pub fn with_options(mut self, options: Options) -> Validator<'r> {
        self.options = options;
        self
    }

    /// Validates a resource against its type and the profiles it claims.
    pub fn validate(&self, resource: &Value) -> Outcome {
        self.validate_against(resource, &[])
    }

    /// Validates a resource against its type, the profiles it claims, and
    /// `profiles` (canonical URLs).
    ///
    /// # Examples
    /// ```no_run
    /// use fhir_core::package::{cache, Registry};
    /// use fhir_core::validation::Validator;
    /// let mut registry = Registry::base_r4(&cache::cache_dir()).unwrap();
    /// registry.load("profiles/fsh-generated/resources".as_ref()).unwrap();
    /// let validator = Validator::new(&registry);
    /// let rel = serde_json::json!({"resourceType": "RelatedPerson", "patient": {"reference": "Patient/a"}});
    /// let profile = "https://fhir.carer-fhir.uk/StructureDefinition/CarerRelationship";
    /// assert!(validator.validate_against(&rel, &[profile]).has_errors()); // no relationship, no period
    /// ```
    pub fn validate_against(&self, resource: &Value, profiles: &[&str]) -> Outcome {
        // A value beyond the reading limits (built by code, not read by
        // this crate) is not walked: the walk recurses by depth and its
        // cost grows with size. Within them, the walk runs on a stack
        // sized for the deepest value they allow.
        if let Err(e) = crate::format::limits::check_value(resource) {
            return Outcome {
                issues: vec![Issue {
                    severity: Severity::Error,
                    code: "too-costly",
                    expression: e.location.path.unwrap_or_else(|| "$".to_string()),
                    message: e.message,
                }],
            };
        }
        crate::format::limits::with_stack(|| self.walk_all(resource, profiles))
    }

    /// [`Validator::validate_against`] on a value within the limits.
    fn walk_all(&self, resource: &Value, profiles: &[&str]) -> Outcome {
        let mut walk = walker::Walk {
            validator: self,
            root: resource,
            issues: Vec::new(),
            host: None,
            extension_urls: Vec::new(),
            resources: Vec::new(),
        };
        let rt = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let path = if rt.is_empty() { "$" } else { rt };
        match self.profile_for_type(rt) {
            Some(base) => {
                walk.resource(resource, &base, path);
                walk.meta_profiles(resource, path);
            }
            None => walk.issues.push(Issue {
                severity: Severity::Error,
                code: "structure",
                expression: path.to_string(),
                message: format!("Unknown resource type '{rt}'"),
            }),
        }
        // Profiles a loaded implementation guide makes global for the type.
        let globals: Vec<String> = self
            .registry
            .of_type("ImplementationGuide")
            .flat_map(|ig| {
                ig.get("global")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter(|g| g.get("type").and_then(Value::as_str) == Some(rt))
            .filter_map(|g| g.get("profile").and_then(Value::as_str).map(str::to_string))
            .collect();
        let mut all: Vec<&str> = profiles.to_vec();
        for g in &globals {
            if !all.contains(&g.as_str()) {
                all.push(g);
            }
        }
        for url in all {
            match self.profile(url) {
                Some(p) => walk.resource(resource, &p, path),
                None => walk.issues.push(Issue {
                    severity: Severity::Error,
                    code: "not-found",
                    expression: path.to_string(),
                    message: format!("Profile '{url}' is not loaded"),
                }),
            }
        }
        match rt {
            "QuestionnaireResponse" => {
                questionnaire::check_response(self, resource, &mut walk.issues)
            }
            "Questionnaire" => questionnaire::check_questionnaire(resource, &mut walk.issues),
            "Bundle" => bundle::check(self, resource, &mut walk.issues),
            _ => {}
        }
        Outcome {
            issues: walk.issues,
        }
    }

    /// The element of another profile that defines an element's content
    /// (`type.profile` with the `elementdefinition-profile-element`
    /// extension), if any.
    fn profile_element(&self, profile: &Profile, k: usize) -> Option<(Arc<Profile>, usize)> {
        const EXT: &str =
            "http://hl7.org/fhir/StructureDefinition/elementdefinition-profile-element";
        for t in profile.elements[k].get("type")?.as_array()? {
            let urls = t.get("profile").and_then(Value::as_array);
            let exts = t.get("_profile").and_then(Value::as_array);
            for (i, url) in urls.into_iter().flatten().enumerate() {
                let element = exts
                    .and_then(|e| e.get(i))
                    .and_then(|e| e.get("extension"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|x| x.get("url").and_then(Value::as_str) == Some(EXT))
                    .and_then(|x| x.get("valueString"))
                    .and_then(Value::as_str);
                if let (Some(url), Some(element)) = (url.as_str(), element) {
                    let p = self.profile(url)?;
                    let idx = p.index_of(element)?;
                    return Some((p, idx));
                }
            }
        }
        None
    }

    /// A profile derived by the walker, made once under `key`.
    fn prepared_profile(
        &self,
        key: &str,
        make: impl FnOnce() -> Option<Profile>,
    ) -> Option<Arc<Profile>> {
        memo(&self.profiles, key, make)
    }

    /// The profile (snapshot generated if needed) of a StructureDefinition.
    pub fn profile(&self, url: &str) -> Option<Arc<Profile>> {
        memo(&self.profiles, url, || {
            let sd = self.registry.structure_definition(url)?;
            let elements = snapshot::snapshot_elements(sd, self.registry)?;
            let ty = sd.get("type").and_then(Value::as_str).unwrap_or("");
            let canonical = sd.get("url").and_then(Value::as_str).unwrap_or(url);
            Some(Profile::new(canonical, ty, elements))
        })
    }

    /// The base definition of a type or resource.
    pub fn profile_for_type(&self, ty: &str) -> Option<Arc<Profile>> {
        if ty.is_empty() {
            return None;
        }
        self.profile(&format!("http://hl7.org/fhir/StructureDefinition/{ty}"))
    }

    fn is_resource_type(&self, ty: &str) -> bool {
        self.model.get(ty).is_some_and(|t| t.resource)
    }

    /// The anchored regular expression of a primitive type, from its
    /// definition's `value` element.
    fn primitive_regex(&self, ty: &str) -> Option<Arc<Regex>> {
        memo(&self.regexes, ty, || {
            let sd = self
                .registry
                .structure_definition(&format!("http://hl7.org/fhir/StructureDefinition/{ty}"))?;
            let value = sd
                .pointer("/snapshot/element")?
                .as_array()?
                .iter()
                .find(|e| e["path"] == format!("{ty}.value"))?;
            let ext = value.pointer("/type/0/extension")?.as_array()?;
            let pattern = ext
                .iter()
                .find(|x| x["url"] == "http://hl7.org/fhir/StructureDefinition/regex")?
                .get("valueString")?
                .as_str()?;
            Regex::new(&format!("^(?:{pattern})$")).ok()
        })
    }

    fn expansion(&self, url: &str) -> Option<Arc<Expansion>> {
        memo(&self.expansions, url, || {
            terminology::expand(self.registry, url)
        })
    }

    fn expression(&self, src: &str) -> Option<Arc<Expression>> {
        memo(&self.expressions, src, || Expression::parse(src).ok())
    }

    /// The FHIRPath type of an element: its backbone path, or its type.
    fn fhirpath_type<'s>(&'s self, profile: &Profile, k: usize, ty: &str) -> &'s str {
        let path = profile.elements[k]
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("");
        self.model
            .type_name(path)
            .or_else(|| self.type_along(path))
            .or_else(|| self.model.type_name(ty))
            .unwrap_or("")
    }

    /// The type at a path that goes through a datatype
    /// (`MedicationRequest.dosageInstruction.doseAndRate` is
    /// `Dosage.doseAndRate`), following element types from the root.
    fn type_along(&self, path: &str) -> Option<&str> {
        let mut segments = path.split('.');
        let mut current = self.model.type_name(segments.next()?)?.to_string();
        for seg in segments {
            let seg = seg.trim_end_matches("[x]");
            let backbone = format!("{current}.{seg}");
            current = match self.model.type_name(&backbone) {
                Some(t) => t.to_string(),
                None => {
                    let info = self.model.get(&current)?;
                    let element = info.element(seg)?;
                    if element.types.len() != 1 {
                        return None;
                    }
                    element.types[0].clone()
                }
            };
        }
        self.model.type_name(&current)
    }

    fn resource_type_name<'s>(&'s self, v: &Value) -> &'s str {
        v.get("resourceType")
            .and_then(Value::as_str)
            .and_then(|t| self.model.type_name(t))
            .unwrap_or("")
    }

    /// Whether `value` belongs to the slice `profile.elements[slice]` by one
    /// discriminator.
    fn discriminator_matches(
        &self,
        profile: &Profile,
        slice: usize,
        kind: &str,
        path: &str,
        value: &Value,
        root: &Value,
    ) -> bool {
        // A slice whose content another profile's element defines
        // (`elementdefinition-profile-element`) is discriminated by that
        // element's constraints.
        let external = self.profile_element(profile, slice);
        let (profile, slice): (&Profile, usize) = match &external {
            Some((p, i)) => (p.as_ref(), *i),
            None => (profile, slice),
        };
        let slice_id = profile.id(slice).to_string();
        let mut target = discriminator_target(profile, &slice_id, path);
        // Snapshots need not unfold a slice typed by a profile (SUSHI's do
        // not unfold `extension:x`): then the discriminating element is
        // the type profile's own (`Extension.url` with its fixed URL).
        let typed: Option<Arc<Profile>> = match target {
            Some(_) => None,
            None => profile.elements[slice]
                .get("type")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|t| {
                    t.get("profile")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                })
                .filter_map(Value::as_str)
                .find_map(|url| {
                    let p = self.profile(url)?;
                    let root = p.id(0).to_string();
                    target = Some(discriminator_target(&p, &root, path)?);
                    Some(p)
                }),
        };
        let profile: &Profile = typed.as_deref().unwrap_or(profile);
        let actual: Vec<Value> = if path == "$this" {
            vec![value.clone()]
        } else {
            let Some(expr) = self.expression(path) else {
                return false;
            };
            let focus = vec![Item::Node(Node {
                value: Some(value),
                extension: None,
                ty: "",
            })];
            let root = Item::Node(Node {
                value: Some(root),
                extension: None,
                ty: self.resource_type_name(root),
            });
            match expr.evaluate_on(focus, Some(root), &Context::default()) {
                Ok(items) => items.iter().filter_map(|i| i.json().cloned()).collect(),
                Err(_) => return false,
            }
        };
        match kind {
            "value" | "pattern" => {
                let Some(t) = target else { return false };
                let ed = &profile.elements[t];
                let want = ed.as_object().and_then(|o| {
                    o.iter()
                        .find(|(k, _)| k.starts_with("fixed") || k.starts_with("pattern"))
                        .map(|(_, v)| v.clone())
                });
                match want {
                    Some(w) => actual.iter().any(|a| walker::pattern_matches(&w, a)),
                    None => {
                        // A required binding also discriminates.
                        // A slice that does not constrain the
                        // discriminating element does not restrict on it.
                        let vs = ed
                            .pointer("/binding/valueSet")
                            .and_then(Value::as_str)
                            .filter(|_| {
                                ed.pointer("/binding/strength") == Some(&json!("required"))
                            });
                        match vs.and_then(|u| self.expansion(u)) {
                            Some(exp) => actual.iter().any(|a| {
                                let system = a.get("system").and_then(Value::as_str).unwrap_or("");
                                let code = a
                                    .get("code")
                                    .and_then(Value::as_str)
                                    .or_else(|| a.as_str())
                                    .unwrap_or("");
                                exp.contains(system, code) == Some(true)
                            }),
                            None => vs.is_none(),
                        }
                    }
                }
            }
            "exists" => {
                let Some(t) = target else { return false };
                let must = profile.elements[t]
                    .get("min")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    > 0;
                must != actual.is_empty()
            }
            "type" => {
                let Some(t) = target else { return true };
                let codes = profile::type_codes(&profile.elements[t]);
                if path.ends_with("resolve()") {
                    // The resolved resources' types, against the targets
                    // the slice's reference allows.
                    let targets: Vec<&str> = profile.elements[t]
                        .get("type")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .flat_map(|ty| {
                            ty.get("targetProfile")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                        })
                        .filter_map(Value::as_str)
                        .filter_map(|url| {
                            self.registry
                                .structure_definition(url)
                                .and_then(|sd| sd.get("type").and_then(Value::as_str))
                        })
                        .collect();
                    return !actual.is_empty()
                        && actual.iter().all(|r| {
                            r.get("resourceType")
                                .and_then(Value::as_str)
                                .is_some_and(|rt| targets.is_empty() || targets.contains(&rt))
                        });
                }
                match value.get("resourceType").and_then(Value::as_str) {
                    Some(rt) => codes.contains(&rt),
                    None => true,
                }
            }
            "profile" => {
                let Some(t) = target else { return false };
                let urls: Vec<&str> = profile.elements[t]
                    .get("type")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .flat_map(|ty| {
                        ty.get("profile")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                    })
                    .collect();
                let target_value = actual.first().unwrap_or(value);
                urls.iter()
                    .any(|u| !self.validate_against(target_value, &[u]).has_errors())
            }
            _ => false,
        }
    }
}

/// The element of a slice that a discriminator path points at:
/// `code.coding` → `…:slice.code.coding`; `value` may name `value[x]`;
/// `extension('url')` names the extension slice whose profile is `url`.
fn discriminator_target(profile: &Profile, slice_id: &str, path: &str) -> Option<usize> {
    if path == "$this" {
        return profile.index_of(slice_id);
    }
    let mut current = slice_id.to_string();
    for seg in discriminator_segments(path) {
        if seg == "$this" || seg == "resolve()" || seg.starts_with("ofType(") {
            continue;
        }
        if let Some(url) = seg
            .strip_prefix("extension(")
            .and_then(|s| s.strip_suffix(')'))
        {
            let url = url.trim_matches(|c| c == '\'' || c == '"');
            let prefix = format!("{current}.extension:");
            // The last such slice: a re-slice (`actionType/Single`) is
            // more specific than the slice it refines.
            let found = profile.elements.iter().rev().find_map(|e| {
                let id = profile::id_of(e);
                let rest = id.strip_prefix(&prefix)?;
                if rest.contains('.') {
                    return None;
                }
                let has = e
                    .get("type")
                    .and_then(Value::as_array)?
                    .iter()
                    .flat_map(|t| {
                        t.get("profile")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                    })
                    .any(|p| p.as_str() == Some(url));
                has.then(|| id.to_string())
            });
            current = found.unwrap_or_else(|| format!("{current}.extension"));
            continue;
        }
        let next = format!("{current}.{seg}");
        current = if profile.index_of(&next).is_some() {
            next
        } else {
            format!("{current}.{seg}[x]")
        };
    }
    profile.index_of(&current)
}

/// A discriminator path split at its dots, but not inside a function's
/// argument (`extension('http://x.org/a').value`).
fn discriminator_segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut seg = String::new();
    for c in path.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            '.' if !quoted && depth == 0 => {
                out.push(std::mem::take(&mut seg));
                continue;
            }
            _ => {}
        }
        seg.push(c);
    }
    out.push(seg);
    out
}
