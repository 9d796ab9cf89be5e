//! What profiles say of other resources: a resource-valued element
//! (`contained`, `Bundle.entry.resource`, `Parameters.parameter.resource`)
//! typed with profiles, and the target of a `Reference` whose type names
//! `targetProfile`s.
//!
//! Both come down to one question, "does this resource conform to this
//! profile?", asked of resources met along the way. It is answered once
//! per resource and profile in a validation ([`Session`]), and a question
//! already being answered — profiles whose references lead back to the
//! resource being checked, or profiles that name each other — is taken
//! to be answered yes: a circle adds no fault that the first pass round it
//! does not find (as the HL7 reference validator's resource tracker).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use serde_json::Value;

use super::issue::{Issue, Severity};
use super::walker::Walk;
use super::{strings, ReferencePolicy, Validator};

/// `(resource address, profile URL)` → the resource's errors against the
/// profile (`None` while the check is under way).
type Outcomes = HashMap<(usize, String), Option<Vec<Issue>>>;

/// The state one validation shares between the walks it starts: which
/// resources were checked against which profiles, and the resources
/// fetched for references.
#[derive(Default)]
pub(super) struct Session {
    /// A resource's or Bundle's address → the anchors its narrative
    /// `#fragment` links may name (gathered on the first such link).
    pub(super) anchors: RefCell<HashMap<usize, Rc<std::collections::HashSet<String>>>>,
    /// `(resource address, profile URL)` → its issues (`None` while the
    /// check is under way).
    conformance: RefCell<Outcomes>,
    /// Reference → the resource the resolver found for it.
    fetched: RefCell<HashMap<String, Option<Arc<Value>>>>,
    /// A Bundle's address → its entries indexed for resolving references
    /// (built on the first reference resolved in it).
    bundles: RefCell<HashMap<usize, Rc<super::bundle::Index>>>,
    /// `(value address, profile URL, element index)` of the profile
    /// elements (`elementdefinition-profile-element`) a value is being
    /// checked against: one that leads back to itself is not followed
    /// again.
    pub(super) profile_elements: RefCell<std::collections::HashSet<(usize, String, usize)>>,
}

/// Where a reference's target was found.
enum Target<'a> {
    /// Inside the instance: a contained resource, or a bundle entry's.
    /// Holds the target and the resources enclosing it.
    Local(&'a Value, Vec<&'a Value>),
    /// Fetched through the validator's resolver.
    External(Arc<Value>),
    /// Not found.
    Missing,
}

fn type_entries(ed: &Value) -> impl Iterator<Item = &Value> {
    ed.get("type")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The aggregation modes of an element's Reference type.
fn aggregation(ed: &Value) -> Vec<&str> {
    type_entries(ed)
        .filter(|t| t.get("code").and_then(Value::as_str) == Some("Reference"))
        .flat_map(|t| strings(t, "aggregation"))
        .collect()
}

impl Validator<'_> {
    /// The resource type a profile (or base definition) constrains.
    fn profile_type(&self, url: &str) -> Option<&str> {
        self.registry
            .structure_definition(url)
            .and_then(|sd| sd.get("type"))
            .and_then(Value::as_str)
    }

    fn is_base_definition(url: &str, ty: &str) -> bool {
        url.split('|').next() == Some(&format!("http://hl7.org/fhir/StructureDefinition/{ty}"))
    }
}

impl<'v> Walk<'v> {
    /// The errors of `target` against the profile `url`, each time the
    /// same for the same resource and profile; `None` when the profile is
    /// not loaded. `context` holds the resources enclosing the target (a
    /// Bundle, a container), outermost first.
    pub(super) fn conformance<'x>(
        &self,
        target: &'x Value,
        context: &[&'x Value],
        url: &str,
    ) -> Option<Vec<Issue>>
    where
        'v: 'x,
    {
        let profile = self.validator.profile(url)?;
        let rt = target
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("Resource");
        if self.validator.is_resource_type(&profile.ty) && !self.resource_is_a(rt, &profile.ty) {
            return Some(vec![Issue {
                severity: Severity::Error,
                code: "structure",
                expression: rt.to_string(),
                message: format!(
                    "Specified profile type was '{}' in profile '{url}', but found type '{rt}'",
                    profile.ty
                ),
            }]);
        }
        let key = (target as *const Value as usize, url.to_string());
        if let Some(known) = self.session.conformance.borrow().get(&key) {
            // Under way: a circle, which adds nothing.
            return Some(known.clone().unwrap_or_default());
        }
        self.session
            .conformance
            .borrow_mut()
            .insert(key.clone(), None);
        let mut sub: Walk<'x> = Walk {
            validator: self.validator,
            root: target,
            issues: Vec::new(),
            host: None,
            extension_urls: Vec::new(),
            resources: context.to_vec(),
            session: self.session.clone(),
        };
        sub.resource(target, &profile, rt);
        let errors: Vec<Issue> = sub
            .issues
            .into_iter()
            .filter(|i| i.severity == Severity::Error)
            .collect();
        self.session
            .conformance
            .borrow_mut()
            .insert(key, Some(errors.clone()));
        Some(errors)
    }

    /// Whether `target` conforms to `url` (an unknown profile: no).
    pub(super) fn conforms<'x>(&self, target: &'x Value, context: &[&'x Value], url: &str) -> bool
    where
        'v: 'x,
    {
        self.conformance(target, context, url)
            .is_some_and(|e| e.is_empty())
    }

    /// A resource as the value of an element (R4 §2.20 `references.html`
    /// "Contained resources", §2.36 `bundle.html#entry`, and
    /// ElementDefinition.type.profile, `elementdefinition-definitions.html#ElementDefinition.type.profile`):
    /// its type must be one the element allows. When the element's type
    /// names profiles, the resource must conform to them: to the one, or
    /// to at least one of several ("the resource must conform to at least
    /// one of the profiles"). A resource that conforms to none is one
    /// error at the resource.
    pub(super) fn resource_value(&mut self, v: &'v Value, ed: &Value, path: &str) {
        let rt = v.get("resourceType").and_then(Value::as_str).unwrap_or("");
        let Some(base) = self.validator.profile_for_type(rt) else {
            self.issue(
                Severity::Error,
                "structure",
                path,
                format!("unknown resource type '{rt}'"),
            );
            return;
        };
        let entry = type_entries(ed).find(|t| {
            matches!(
                t.get("code").and_then(Value::as_str),
                Some(c) if c == "Resource" || c == rt
            )
        });
        let profiles: Vec<&str> = entry.map(|t| strings(t, "profile")).unwrap_or_default();
        let allowed: Vec<&str> = type_entries(ed)
            .filter_map(|t| t.get("code").and_then(Value::as_str))
            .collect();
        let fits = match entry {
            None => allowed.is_empty() || allowed.iter().any(|c| self.resource_is_a(rt, c)),
            Some(t) if t.get("code").and_then(Value::as_str) == Some(rt) => true,
            Some(_) if profiles.is_empty() => true,
            Some(_) => profiles.iter().any(|u| {
                self.validator
                    .profile_type(u)
                    .is_some_and(|ty| self.resource_is_a(rt, ty))
            }),
        };
        if !fits {
            let mut types: Vec<&str> = profiles
                .iter()
                .filter_map(|u| self.validator.profile_type(u))
                .collect();
            if types.is_empty() {
                types = allowed;
            }
            types.dedup();
            self.issue(
                Severity::Error,
                "structure",
                path,
                format!(
                    "The resource type '{rt}' is not valid here (must be {})",
                    types.join(" or ")
                ),
            );
            return;
        }
        self.resource(v, &base, path);
        self.meta_profiles(v, path);
        match profiles.as_slice() {
            [] => {}
            [one] => match self.validator.profile(one) {
                Some(p) => self.resource(v, &p, path),
                // The reference validator reports both the element's
                // unknown type profile and the resource it cannot check.
                None => {
                    self.issue(
                        Severity::Error,
                        "structure",
                        path,
                        format!("Unknown profile {one}"),
                    );
                    self.issue(
                        Severity::Error,
                        "not-found",
                        path,
                        format!("Profile '{one}' for this {rt} is not loaded"),
                    );
                }
            },
            several => {
                let context: Vec<&Value> = self.resources.clone();
                let matched = several
                    .iter()
                    .filter(|u| self.conforms(v, &context, u))
                    .count();
                if matched == 0 {
                    self.issue(
                        Severity::Error,
                        "invalid",
                        path,
                        format!(
                            "The {rt} resource did not match any of the allowed profiles ({})",
                            several.join(", ")
                        ),
                    );
                }
            }
        }
    }

    /// Whether resource type `rt` is `ty` or specialises it.
    fn resource_is_a(&self, rt: &str, ty: &str) -> bool {
        rt == ty || self.validator.model.is_a(rt, ty)
    }

    /// The target of a reference, where it can be found: inside the
    /// instance (contained, `#id`, or in the enclosing Bundle), else
    /// through the resolver when the reference policy follows references
    /// out of the instance.
    fn target(&self, reference: &str) -> Target<'v> {
        if let Some(id) = reference.strip_prefix('#') {
            return self.contained_target(id);
        }
        if let Some(found) = self.bundle_target(reference) {
            return found;
        }
        if let Some(found) = self.parameters_target(reference) {
            return found;
        }
        if self.validator.options.reference_policy == ReferencePolicy::Ignore {
            return Target::Missing;
        }
        self.fetched_target(reference)
    }

    /// Whether the resource a reference names conforms to `url`, the
    /// reference resolved as a discriminator's `resolve()` resolves it
    /// (`resolved`: the reference validator's `resolveReference` asks its
    /// fetcher whatever the reference policy). A reference that resolves
    /// to nothing conforms to nothing.
    pub(super) fn target_conforms(&self, reference: &str, url: &str) -> bool {
        match self.resolved(reference) {
            Target::Local(r, enclosing) => self.conforms(r, &enclosing, url),
            Target::External(r) => self.conforms(&r, &[], url),
            Target::Missing => false,
        }
    }

    /// The resource type of the resource a reference names, resolved as
    /// for `target_conforms`.
    pub(super) fn target_type(&self, reference: &str) -> Option<String> {
        fn ty(r: &Value) -> Option<String> {
            r.get("resourceType")
                .and_then(Value::as_str)
                .map(str::to_string)
        }
        match self.resolved(reference) {
            Target::Local(r, _) => ty(r),
            Target::External(r) => ty(&r),
            Target::Missing => None,
        }
    }

    /// The target of a reference as a discriminator's `resolve()` finds
    /// it: inside the instance, else through the resolver whatever the
    /// reference policy.
    fn resolved(&self, reference: &str) -> Target<'v> {
        match self.target(reference) {
            Target::Missing if !reference.starts_with('#') => self.fetched_target(reference),
            found => found,
        }
    }

    /// The target of a reference that leads out of the instance, fetched
    /// through the resolver (once per validation).
    fn fetched_target(&self, reference: &str) -> Target<'v> {
        let Some(resolver) = &self.validator.resolver else {
            return Target::Missing;
        };
        let plain = reference.split('#').next().unwrap_or(reference);
        let fetched = self
            .session
            .fetched
            .borrow_mut()
            .entry(plain.to_string())
            .or_insert_with(|| resolver(plain).map(Arc::new))
            .clone();
        match fetched {
            Some(r) => Target::External(r),
            None => Target::Missing,
        }
    }

    /// `#id` names a resource contained by the resource that holds the
    /// reference (or by its container, from inside a contained resource);
    /// `#` alone names the container. Contained references do not cross
    /// a Bundle entry.
    fn contained_target(&self, id: &str) -> Target<'v> {
        let stack = &self.resources;
        for (depth, r) in stack.iter().enumerate().rev() {
            let contained = r.get("contained").and_then(Value::as_array);
            if id.is_empty() {
                // The container of the contained resource being walked.
                if depth + 1 < stack.len()
                    && contained
                        .is_some_and(|c| c.iter().any(|x| std::ptr::eq(x, stack[depth + 1])))
                {
                    return Target::Local(r, stack[..depth].to_vec());
                }
            } else if let Some(found) = contained
                .into_iter()
                .flatten()
                .find(|c| c.get("id").and_then(Value::as_str) == Some(id))
            {
                return Target::Local(found, stack[..=depth].to_vec());
            }
            if r.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
                break;
            }
        }
        Target::Missing
    }

    /// A reference from a bundle entry's resource to another entry, by the
    /// bundle's resolution rules (`bundle.html#references`).
    fn bundle_target(&self, reference: &str) -> Option<Target<'v>> {
        let stack = &self.resources;
        let at = stack
            .iter()
            .rposition(|r| r.get("resourceType").and_then(Value::as_str) == Some("Bundle"))?;
        let bundle = stack[at];
        let entries = bundle.get("entry").and_then(Value::as_array)?;
        let source = stack.get(at + 1)?;
        let index = self
            .session
            .bundles
            .borrow_mut()
            .entry(bundle as *const Value as usize)
            .or_insert_with(|| Rc::new(super::bundle::Index::new(entries)))
            .clone();
        let from = index
            .entry_of(source)
            .and_then(|i| entries[i].get("fullUrl"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let matches = index.resolve(entries, from, reference);
        match matches.as_slice() {
            [one] => entries[*one]
                .get("resource")
                .map(|r| Target::Local(r, stack[..=at].to_vec())),
            _ => None,
        }
    }

    /// A reference from a resource in a Parameters to a resource of
    /// another parameter (or part), by its type and id.
    fn parameters_target(&self, reference: &str) -> Option<Target<'v>> {
        let stack = &self.resources;
        let at = stack
            .iter()
            .rposition(|r| r.get("resourceType").and_then(Value::as_str) == Some("Parameters"))?;
        fn find<'a>(parameters: &'a [Value], reference: &str) -> Option<&'a Value> {
            parameters.iter().find_map(|p| {
                let own = p.get("resource").filter(|r| {
                    let ty = r.get("resourceType").and_then(Value::as_str).unwrap_or("");
                    let id = r.get("id").and_then(Value::as_str).unwrap_or("");
                    !id.is_empty() && format!("{ty}/{id}") == reference
                });
                own.or_else(|| {
                    find(
                        p.get("part")
                            .and_then(Value::as_array)
                            .map_or(&[], Vec::as_slice),
                        reference,
                    )
                })
            })
        }
        let parameters = stack[at].get("parameter").and_then(Value::as_array)?;
        find(parameters, reference).map(|r| Target::Local(r, stack[..=at].to_vec()))
    }

    /// The profiles an element's type names for a datatype value
    /// (ElementDefinition.type.profile, `elementdefinition-definitions.html#ElementDefinition.type.profile`:
    /// "the data type … SHALL conform to at least one of the profiles"):
    /// one profile applies as the element's own constraints do; of several,
    /// the value must conform to at least one, else the value is in error
    /// with each profile's faults.
    pub(super) fn type_profiles(&mut self, v: &'v Value, ed: &Value, ty: &str, path: &str) {
        let Some(entry) =
            type_entries(ed).find(|t| t.get("code").and_then(Value::as_str) == Some(ty))
        else {
            return;
        };
        let urls = strings(entry, "profile");
        let Some(obj) = v.as_object() else { return };
        match urls.as_slice() {
            [] => {}
            [one] => {
                let Some(p) = self.validator.profile(one) else {
                    self.issue(
                        Severity::Error,
                        "structure",
                        path,
                        format!("Profile {one} is not loaded, so the value cannot be checked against it"),
                    );
                    return;
                };
                let before = self.issues.len();
                self.complex(obj, v, &p, 0, ty, path);
                self.constraints(Some(v), None, &p, 0, ty, path);
                self.keep_new_issues(before);
            }
            several => {
                let mut good = 0;
                let mut bad: Vec<(&str, Vec<Issue>)> = Vec::new();
                for url in several {
                    let Some(p) = self.validator.profile(url) else {
                        continue;
                    };
                    let mut sub = self.fork();
                    sub.complex(obj, v, &p, 0, ty, path);
                    sub.constraints(Some(v), None, &p, 0, ty, path);
                    let errors: Vec<Issue> = sub
                        .issues
                        .into_iter()
                        .filter(|i| i.severity == Severity::Error)
                        .collect();
                    if errors.is_empty() {
                        good += 1;
                    } else {
                        bad.push((url, errors));
                    }
                }
                if good == 0 {
                    let mut sorted: Vec<&str> = several.to_vec();
                    sorted.sort_unstable();
                    self.issue(
                        Severity::Error,
                        "structure",
                        path,
                        format!(
                            "Unable to find a match for the specified profile among choices: {}",
                            sorted.join(", ")
                        ),
                    );
                    for (url, errors) in bad {
                        for mut e in errors {
                            e.message = format!("{} (validating against {url})", e.message);
                            self.issues.push(e);
                        }
                    }
                } else if good > 1 {
                    self.issue(
                        Severity::Warning,
                        "structure",
                        path,
                        format!(
                            "The value matches {good} of the profiles {}",
                            several.join(", ")
                        ),
                    );
                }
            }
        }
    }

    /// A walk of the same resource that collects its own issues.
    fn fork(&self) -> Walk<'v> {
        Walk {
            validator: self.validator,
            root: self.root,
            issues: Vec::new(),
            host: self.host,
            extension_urls: self.extension_urls.clone(),
            resources: self.resources.clone(),
            session: self.session.clone(),
        }
    }

    /// The target of a reference and the profiles the element asks of it
    /// (R4 §2.20 `references.html`, ElementDefinition.type.targetProfile:
    /// "the reference must point to a resource that conforms to one of
    /// the profiles"): a target found must be of a type the target
    /// profiles name, and must conform to one of the profiles of its
    /// type, unless those are only the base definitions. A contained
    /// reference must resolve; other references must when the reference
    /// policy checks them. Targets inside the instance are always checked;
    /// fetched ones as far as the policy says.
    pub(super) fn reference(&mut self, v: &'v Value, ed: &Value, path: &str) {
        let Some(reference) = v.get("reference").and_then(Value::as_str) else {
            return;
        };
        if reference.starts_with("urn:") && self.resources.len() < 2 {
            return;
        }
        // A conditional reference (`Patient?identifier=…`) names its target
        // by a search, which must be a valid query (`http.html#trules`).
        if let Some((ty, _)) = reference.split_once('?') {
            if self.validator.is_resource_type(ty) {
                if !super::bundle::is_search_url(self.validator, reference) {
                    self.issue(
                        Severity::Error,
                        "invalid",
                        path,
                        format!("The query part of the conditional reference is not a valid query string ({reference})"),
                    );
                }
                return;
            }
        }
        let policy = self.validator.options.reference_policy;
        let target = self.target(reference);
        self.declared_type(v, ed, reference, &target, path);
        let (resource, context, local): (&Value, Vec<&Value>, bool);
        let held;
        match &target {
            Target::Local(r, c) => {
                resource = r;
                context = c.clone();
                local = true;
            }
            Target::External(r) => {
                held = r.clone();
                resource = held.as_ref();
                context = Vec::new();
                local = false;
            }
            Target::Missing => {
                // Aggregation that does not allow a plain reference
                // (`elementdefinition-definitions.html#ElementDefinition.type.aggregation`)
                // needs the target in the instance.
                let modes = aggregation(ed);
                if !modes.is_empty() && !modes.contains(&"referenced") {
                    self.issue(
                        Severity::Error,
                        "required",
                        path,
                        format!("Bundled or contained reference not found within the bundle/resource {reference}"),
                    );
                }
                let contained = reference.starts_with('#');
                let example = self.validator.options.allow_examples
                    && (reference.contains("example.org") || reference.contains("acme.com"));
                let checked =
                    policy != ReferencePolicy::Ignore && !reference.contains('?') && !example;
                if contained || checked {
                    self.issue(
                        Severity::Error,
                        "structure",
                        path,
                        format!("Unable to resolve resource with reference '{reference}'"),
                    );
                }
                return;
            }
        }
        if !local
            && !matches!(
                policy,
                ReferencePolicy::CheckType | ReferencePolicy::CheckValid
            )
        {
            return;
        }
        // The way the target is held must be one the aggregation allows:
        // contained (`#id`), bundled (another entry) or referenced.
        let modes = aggregation(ed);
        if !modes.is_empty() {
            let contained = reference.starts_with('#');
            let allowed = modes.iter().any(|m| match *m {
                "contained" => contained,
                "bundled" => local && !contained,
                "referenced" => !contained,
                _ => false,
            });
            if !allowed {
                let kind = if contained {
                    "contained"
                } else if local {
                    "bundled"
                } else {
                    "referenced"
                };
                self.issue(
                    Severity::Error,
                    "structure",
                    path,
                    format!("Reference is {kind} which isn't supported by the specified aggregation mode(s) for the reference ({})", modes.join(", ")),
                );
            }
        }
        let Some(reference_type) =
            type_entries(ed).find(|t| t.get("code").and_then(Value::as_str) == Some("Reference"))
        else {
            return;
        };
        let targets = strings(reference_type, "targetProfile");
        if targets.is_empty()
            || targets
                .iter()
                .any(|t| Validator::is_base_definition(t, "Resource"))
        {
            return;
        }
        let ft = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut types: Vec<&str> = Vec::new();
        let mut of_type: Vec<&str> = Vec::new();
        for t in &targets {
            let Some(ty) = self.validator.profile_type(t) else {
                self.issue(
                    Severity::Error,
                    "not-found",
                    path,
                    format!("Unable to resolve the profile reference '{t}'"),
                );
                continue;
            };
            if !types.contains(&ty) {
                types.push(ty);
            }
            if ty == ft {
                of_type.push(t);
            }
        }
        if of_type.is_empty() {
            if !types.is_empty() {
                self.issue(
                    Severity::Error,
                    "structure",
                    path,
                    format!(
                        "Invalid Resource target type. Found {ft}, but expected one of ({})",
                        types.join(", ")
                    ),
                );
            }
            return;
        }
        if !local && policy != ReferencePolicy::CheckValid {
            return;
        }
        if of_type.iter().all(|t| Validator::is_base_definition(t, ft)) {
            return;
        }
        let good = of_type
            .iter()
            .filter(|t| self.conforms(resource, &context, t))
            .count();
        match good {
            0 => self.issue(
                Severity::Error,
                "structure",
                path,
                format!(
                    "Unable to find a profile match for {reference} among choices: {}",
                    targets.join(", ")
                ),
            ),
            1 => {}
            _ => self.issue(
                Severity::Warning,
                "structure",
                path,
                format!(
                    "Found multiple matching profiles for {reference} among choices: {}",
                    of_type.join(", ")
                ),
            ),
        }
    }

    /// Reference.type (R4 Reference.type: "if both the type and a
    /// reference is provided, the reference SHALL resolve to a resource of
    /// the same type as that specified"): the type is one the element's
    /// target profiles allow, and the target is of that type, as found or,
    /// when it is not found, as its URL says (`Patient/1`).
    fn declared_type(
        &mut self,
        v: &Value,
        ed: &Value,
        reference: &str,
        target: &Target,
        path: &str,
    ) {
        let Some(declared) = v.get("type").and_then(Value::as_str) else {
            return;
        };
        let targets: Vec<&str> = type_entries(ed)
            .filter(|t| t.get("code").and_then(Value::as_str) == Some("Reference"))
            .flat_map(|t| strings(t, "targetProfile"))
            .collect();
        // The same types a reference's URL may name (`reference_target`):
        // a target profile that is not loaded, or `DomainResource`, limits
        // nothing.
        let allowed = self
            .allowed_target_types(ed)
            .is_none_or(|types| types.iter().any(|t| t == declared));
        if !allowed {
            self.issue(
                Severity::Error,
                "structure",
                path,
                format!(
                    "The type '{declared}' is not a valid Target for this element (must be one of [{}])",
                    targets.join(", ")
                ),
            );
        }
        let found = match target {
            Target::Local(r, _) => r.get("resourceType").and_then(Value::as_str),
            Target::External(r) => r.get("resourceType").and_then(Value::as_str),
            Target::Missing => {
                let plain = reference.split("/_history/").next().unwrap_or(reference);
                let mut parts = plain.rsplit('/');
                parts.next();
                parts
                    .next()
                    .filter(|ty| self.validator.is_resource_type(ty))
            }
        };
        if let Some(found) = found.filter(|f| *f != declared) {
            self.issue(
                Severity::Error,
                "structure",
                path,
                format!("The reference's type is {declared}, but it refers to a {found}"),
            );
        }
    }

    /// dom-3 (R4 `domainresource.html#invs`, `references.html#contained`):
    /// each contained resource is referred to from elsewhere in its
    /// container (a reference, a canonical or URI, or a narrative link or
    /// image source `#id`), or from another contained resource that is,
    /// or refers to the container itself (`#`). Judged once per resource,
    /// for the base definition only, as the reference validator does in
    /// code rather than by dom-3's expression.
    pub(super) fn contained_orphans(&mut self, resource: &Value, path: &str) {
        let Some(contained) = resource.get("contained").and_then(Value::as_array) else {
            return;
        };
        // Contained resources left unvalidated are not judged either.
        if !self.validator.options.validate_contained {
            return;
        }
        let key = (resource as *const Value as usize, "dom-3".to_string());
        if self.session.conformance.borrow().contains_key(&key) {
            return;
        }
        self.session
            .conformance
            .borrow_mut()
            .insert(key, Some(Vec::new()));
        let mut base = std::collections::HashSet::new();
        if let Some(obj) = resource.as_object() {
            for (k, v) in obj {
                if k != "contained" {
                    internal_references(v, &mut base);
                }
            }
        }
        let own: Vec<std::collections::HashSet<String>> = contained
            .iter()
            .map(|c| {
                let mut s = std::collections::HashSet::new();
                internal_references(c, &mut s);
                s
            })
            .collect();
        let ids: Vec<&str> = contained
            .iter()
            .map(|c| c.get("id").and_then(Value::as_str).unwrap_or(""))
            .collect();
        // Reached from the container, then through contained resources.
        let mut reached: Vec<bool> = (0..contained.len())
            .map(|i| base.contains(ids[i]) || own[i].contains(""))
            .collect();
        loop {
            let more: Vec<usize> = (0..contained.len())
                .filter(|&i| !reached[i])
                .filter(|&i| (0..contained.len()).any(|j| reached[j] && own[j].contains(ids[i])))
                .collect();
            if more.is_empty() {
                break;
            }
            for i in more {
                reached[i] = true;
            }
        }
        for (i, ok) in reached.iter().enumerate() {
            if !ok {
                self.issue(
                    Severity::Error,
                    "invalid",
                    &format!("{path}.contained[{i}]"),
                    format!("The contained resource '{}' is not referenced to from elsewhere in the containing resource nor does it refer to the containing resource (dom-3)", ids[i]),
                );
            }
        }
    }
}

/// The ids that `#id` references inside a value name (`#` alone gives the
/// empty id): from string values and from narrative `href`/`src`.
fn internal_references(v: &Value, out: &mut std::collections::HashSet<String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix('#') {
                out.insert(id.to_string());
            }
            if s.starts_with('<') {
                for attr in ["href=\"#", "src=\"#", "href='#", "src='#"] {
                    for (at, _) in s.match_indices(attr) {
                        let rest = &s[at + attr.len()..];
                        let end = rest.find(['"', '\'']).unwrap_or(rest.len());
                        out.insert(rest[..end].to_string());
                    }
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| internal_references(x, out)),
        Value::Object(o) => o.values().for_each(|x| internal_references(x, out)),
        _ => {}
    }
}
