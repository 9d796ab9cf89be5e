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
mod errata;
mod issue;
mod limits;
mod plain;
mod profile;
mod questionnaire;
mod references;
mod search_parameter;
mod slicing;
pub mod snapshot;
pub(crate) mod terminology;
mod values;
mod vitals;
mod walker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use regex::Regex;
use serde_json::Value;

pub use issue::{Issue, Outcome, Severity};
pub use profile::Profile;
pub use terminology::Expansion;

use crate::fhirpath::{Expression, ModelInfo};
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
    /// How far references to resources outside the instance are followed
    /// (through the resolver given by [`Validator::with_resolver`]).
    /// References inside the instance (contained resources, other entries
    /// of a Bundle) are always checked. Default [`ReferencePolicy::Ignore`],
    /// as the reference validator's.
    pub reference_policy: ReferencePolicy,
    /// References to example servers (`example.org`, `acme.com`) need not
    /// resolve, and extensions from them need no definition. Default off;
    /// the reference validator's test harness turns it on.
    pub allow_examples: bool,
}

/// How far the validator follows a reference to a resource outside the
/// instance (the reference validator's policy of the same name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReferencePolicy {
    /// Not followed.
    #[default]
    Ignore,
    /// The target must exist.
    CheckExists,
    /// The target must exist and be of a type the element allows.
    CheckType,
    /// The target must exist, be of an allowed type and conform to one of
    /// the element's target profiles.
    CheckValid,
}

/// Finds the resource a reference names, for references that lead out of
/// the instance being validated.
pub type Resolver = Arc<dyn Fn(&str) -> Option<Value> + Send + Sync>;

impl Default for Options {
    fn default() -> Options {
        Options {
            security_checks: false,
            no_html_in_markdown: false,
            validate_contained: true,
            extension_domains: Vec::new(),
            assume_valid_rest_references: false,
            foreign_extensions: false,
            reference_policy: ReferencePolicy::Ignore,
            allow_examples: false,
        }
    }
}

/// A memo table that several threads may fill. Its keys are hashed with
/// foldhash (hashbrown's own default): several times faster than SipHash
/// on short keys, seeded per table, and the tables only ever hold keys
/// taken from loaded definitions (see [`Validator::profile`]).
type Memo<T> = Mutex<HashMap<String, Option<Arc<T>>, foldhash::fast::RandomState>>;

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
    /// The base profile of each type, by type name (`Patient`).
    base_types: Memo<Profile>,
    namespaces: std::sync::OnceLock<std::collections::HashSet<String>>,
    resolver: Option<Resolver>,
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

/// What a memo table holds for `key`, if it has been made.
fn lookup<T>(table: &Memo<T>, key: &str) -> Option<Option<Arc<T>>> {
    table
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(key)
        .cloned()
}

/// Puts what was made for `key` in a memo table.
fn remember<T>(table: &Memo<T>, key: &str, made: Option<Arc<T>>) {
    table
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key.to_string(), made);
}

fn memo<T>(table: &Memo<T>, key: &str, make: impl FnOnce() -> Option<T>) -> Option<Arc<T>> {
    if let Some(v) = lookup(table, key) {
        return v;
    }
    let made = make().map(Arc::new);
    remember(table, key, made.clone());
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
            base_types: Mutex::default(),
            namespaces: std::sync::OnceLock::new(),
            resolver: None,
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

    /// The same validator, finding the targets of references that lead out
    /// of the instance with `resolver` (as far as
    /// [`Options::reference_policy`] says).
    ///
    /// ```no_run
    /// # use fhir_core::package::Registry;
    /// # use fhir_core::validation::{Options, ReferencePolicy, Validator};
    /// # let registry = Registry::new();
    /// let validator = Validator::new(&registry)
    ///     .with_options(Options { reference_policy: ReferencePolicy::CheckValid, ..Options::default() })
    ///     .with_resolver(std::sync::Arc::new(|reference: &str| {
    ///         (reference == "Patient/1").then(|| serde_json::json!({"resourceType": "Patient", "id": "1"}))
    ///     }));
    /// ```
    pub fn with_resolver(mut self, resolver: Resolver) -> Validator<'r> {
        self.resolver = Some(resolver);
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
            session: std::rc::Rc::default(),
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
        let globals = self
            .registry
            .of_type("ImplementationGuide")
            .flat_map(|ig| {
                ig.get("global")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .filter(|g| g.get("type").and_then(Value::as_str) == Some(rt))
            .filter_map(|g| g.get("profile").and_then(Value::as_str));
        let mut all: Vec<&str> = profiles.to_vec();
        for g in globals {
            if !all.contains(&g) {
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
            "SearchParameter" => search_parameter::check(self, resource, &mut walk.issues),
            "CapabilityStatement" => {
                search_parameter::check_capability_statement(self, resource, &mut walk.issues)
            }
            _ => {}
        }
        Outcome {
            issues: walker::distinct(walk.issues),
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
        if let Some(hit) = lookup(&self.profiles, url) {
            return hit;
        }
        // A URL no loaded definition has (a client's `meta.profile` can
        // name any) is not remembered: the table stays bounded by the
        // registry.
        let sd = self.registry.structure_definition(url)?;
        memo(&self.profiles, url, || {
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
        if let Some(hit) = lookup(&self.base_types, ty) {
            return hit;
        }
        let found = self.profile(&format!("http://hl7.org/fhir/StructureDefinition/{ty}"))?;
        // Remembered only when found, as in `profile`.
        remember(&self.base_types, ty, Some(found.clone()));
        Some(found)
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
    fn fhirpath_type<'s>(&'s self, profile: &'s Profile, k: usize, ty: &str) -> &'s str {
        let plan = &profile.plans[k];
        let along = plan.path_type.get_or_init(|| {
            self.model
                .type_name(&plan.path)
                .or_else(|| self.type_along(&plan.path))
                .map(str::to_string)
        });
        match along {
            Some(t) => t,
            None => self.model.type_name(ty).unwrap_or(""),
        }
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
}

/// The array at `key` of a JSON object, or none.
pub(super) fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The strings in the array at `key` of a JSON object.
pub(super) fn strings<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    array(v, key).iter().filter_map(Value::as_str).collect()
}

/// The canonical URLs an element definition's types name under `key`
/// (`profile`, or `targetProfile` for references).
pub(super) fn type_urls<'a>(ed: &'a Value, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    array(ed, "type")
        .iter()
        .flat_map(move |t| array(t, key))
        .filter_map(Value::as_str)
}
