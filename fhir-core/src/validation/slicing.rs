//! Slicing: which slice each repetition of a sliced element belongs to,
//! and the cardinality of each slice (FHIR R4 §2.29.0.3 "Slicing",
//! `profiling.html#slicing`, and ElementDefinition.slicing,
//! `elementdefinition.html#slicing`).
//!
//! Every discriminator of the slicing must hold for a value to be in a
//! slice. A discriminator names an element inside the slice (its
//! *criteria* element) by a restricted FHIRPath; what must hold depends
//! on its type:
//! - `value` / `pattern`: the value at the path carries the criteria's
//!   fixed or pattern value (or a code of its required binding);
//! - `exists`: the path is present when the criteria has `min ≥ 1`,
//!   absent when it has `max = 0`;
//! - `type`: the value at the path is of one of the criteria's types;
//! - `profile`: the value at the path conforms to one of the criteria's
//!   profiles.
//!
//! The criteria element is found as the reference validator finds it:
//! through an element's type where the snapshot does not unfold it, and
//! through the first slice of a child that is itself sliced. A `value` or
//! `pattern` discriminator whose criteria element has no fixed value,
//! pattern or required binding asserts nothing; a slice that no
//! discriminator asserts anything of cannot be told apart, and the
//! slicing cannot be evaluated (an error at each repetition, the slice
//! cardinalities left unjudged).
//!
//! Whatever the type, a criteria element with `max = 0` means the path
//! must be empty. Each value belongs to the first slice it matches; a
//! value that also matches a later slice is an error, unless the later
//! slice re-slices the first (`a/b` refines `a`) or the element is a
//! choice (`value[x]`), where type slices of one element share a path and
//! the last match stands — as the HL7 reference validator assigns them.

use std::sync::Arc;

use serde_json::{json, Value};

use super::issue::Severity;
use super::profile::{self, name_and_slice, Profile};
use super::walker::{self, Walk};
use super::{type_urls, Validator};
use crate::fhirpath::{Context, Item, Node};

/// One repetition of an element being sliced: its JSON value, the `_name`
/// extension object of a primitive, and its type code.
pub(super) type Repetition<'v, 't> = (Option<&'v Value>, Option<&'v Value>, &'t str);

/// A repetition being matched to slices: its value, its FHIRPath type,
/// the resource it is in, how to ask whether a resource conforms to a
/// profile, whether the resource a reference names does, and that
/// resource's type.
struct Candidate<'a> {
    value: &'a Value,
    ty: &'a str,
    root: &'a Value,
    conforms: &'a dyn Fn(&Value, &str) -> bool,
    target_conforms: &'a dyn Fn(&str, &str) -> bool,
    target_type: &'a dyn Fn(&str) -> Option<String>,
}

/// One discriminator of a slicing: its type and path.
struct Discriminator {
    kind: String,
    path: String,
}

fn discriminators(slicing: &Value) -> Vec<Discriminator> {
    slicing
        .get("discriminator")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|d| Discriminator {
            kind: d["type"].as_str().unwrap_or("").to_string(),
            path: d["path"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

/// Whether slice `later` re-slices slice `earlier` (`a/b` refines `a`).
fn reslices(later: &str, earlier: &str) -> bool {
    later
        .strip_prefix(earlier)
        .is_some_and(|rest| rest.starts_with('/'))
}

impl<'v> Walk<'v> {
    /// Assigns each repetition of the sliced element `k` to a slice, and
    /// checks each slice's cardinality and closed slicing. Returns the
    /// slice of each repetition.
    pub(super) fn slices(
        &mut self,
        profile: &Arc<Profile>,
        k: usize,
        items: &[Repetition<'v, '_>],
        path: &str,
    ) -> Vec<Option<usize>> {
        let id = profile.id(k).to_string();
        let slicing = &profile.elements[k]["slicing"];
        let rules = slicing
            .get("rules")
            .and_then(Value::as_str)
            .unwrap_or("open");
        let discriminators = discriminators(slicing);
        let choice = id.ends_with("[x]");
        let slices = &profile.plans[k].slices;
        let node_types: Vec<&str> = items
            .iter()
            .map(|(_, _, ty)| self.validator.fhirpath_type(profile, k, ty))
            .collect();
        let root = self.resources.last().copied().unwrap_or(self.root);
        let context = self.resources.clone();
        let mut slice_of: Vec<Option<usize>> = vec![None; items.len()];
        let mut unevaluable = false;
        if !discriminators.is_empty() {
            for &s in slices {
                if !discriminators
                    .iter()
                    .any(|d| self.validator.discriminator_asserts(profile, s, d))
                {
                    unevaluable = true;
                    let paths: Vec<&str> = discriminators.iter().map(|d| d.path.as_str()).collect();
                    let paths = paths.join("|");
                    for (i, (v, _, _)) in items.iter().enumerate() {
                        if v.is_none() {
                            continue;
                        }
                        let at = if walker::is_repeating(&profile.elements[k]) {
                            format!("{path}[{i}]")
                        } else {
                            path.to_string()
                        };
                        self.issue(
                            Severity::Error,
                            "processing",
                            &at,
                            format!("Slicing cannot be evaluated: Could not match discriminator ({paths}) for slice {} in profile {} - the discriminator {paths} does not have fixed value, binding or existence assertions", profile.id(s), profile.url),
                        );
                    }
                    continue;
                }
                for (i, (v, _, _)) in items.iter().enumerate() {
                    let Some(v) = v else { continue };
                    let conforms = |target: &Value, url: &str| self.conforms(target, &context, url);
                    let target_conforms =
                        |reference: &str, url: &str| self.target_conforms(reference, url);
                    let target_type = |reference: &str| self.target_type(reference);
                    let candidate = Candidate {
                        value: v,
                        ty: node_types[i],
                        root,
                        conforms: &conforms,
                        target_conforms: &target_conforms,
                        target_type: &target_type,
                    };
                    let matches = discriminators.iter().all(|d| {
                        self.validator
                            .discriminator_matches(profile, s, d, &candidate)
                    });
                    if !matches {
                        continue;
                    }
                    match slice_of[i] {
                        None => slice_of[i] = Some(s),
                        Some(_) if choice => slice_of[i] = Some(s),
                        Some(e) => {
                            let earlier = name_and_slice(profile.id(e)).1.unwrap_or("");
                            let later = name_and_slice(profile.id(s)).1.unwrap_or("");
                            if reslices(later, earlier) {
                                slice_of[i] = Some(s);
                            } else if !reslices(earlier, later) {
                                let at = if walker::is_repeating(&profile.elements[k]) {
                                    format!("{path}[{i}]")
                                } else {
                                    path.to_string()
                                };
                                self.issue(
                                    Severity::Error,
                                    "invalid",
                                    &at,
                                    format!("This element matches more than one slice in the profile {}: '{earlier}' and '{later}'", profile.url),
                                );
                            }
                        }
                    }
                }
            }
        }
        // Slicing that cannot be evaluated leaves the slices' cardinality
        // unjudged (the reference validator reports it only as a hint).
        if unevaluable {
            return slice_of;
        }
        for &s in slices {
            let name = name_and_slice(profile.id(s)).1.unwrap_or("");
            // A slice counts the values of its re-slices too.
            let count = slice_of
                .iter()
                .flatten()
                .filter(|&&a| {
                    let assigned = name_and_slice(profile.id(a)).1.unwrap_or("");
                    assigned == name || reslices(assigned, name)
                })
                .count();
            let se = &profile.elements[s];
            let min = se.get("min").and_then(Value::as_u64).unwrap_or(0) as usize;
            let max = se.get("max").and_then(Value::as_str).unwrap_or("*");
            if count < min {
                self.issue(Severity::Error, "required", path, format!("Slice '{}': a matching slice is required, but not found (min = {min}, found {count})", profile.id(s)));
            }
            if let Ok(m) = max.parse::<usize>() {
                if count > m {
                    self.issue(
                        Severity::Error,
                        "structure",
                        path,
                        format!("Slice '{name}': max allowed = {m}, but found {count}"),
                    );
                }
            }
        }
        if rules == "closed" && !discriminators.is_empty() {
            for (i, assigned) in slice_of.iter().enumerate() {
                if assigned.is_none() && items[i].0.is_some() {
                    self.issue(Severity::Error, "structure", &format!("{path}[{i}]"), format!("This element does not match any known slice of {id}, and slicing is closed"));
                }
            }
        }
        slice_of
    }
}

impl Validator<'_> {
    /// Whether a repetition belongs to the slice `profile.elements[slice]`
    /// by one discriminator.
    fn discriminator_matches(
        &self,
        profile: &Profile,
        slice: usize,
        discriminator: &Discriminator,
        candidate: &Candidate,
    ) -> bool {
        let (kind, path) = (discriminator.kind.as_str(), discriminator.path.as_str());
        let Candidate {
            value,
            ty,
            root,
            conforms,
            target_conforms,
            target_type,
        } = candidate;
        let (value, ty, root): (&Value, &str, &Value) = (value, ty, root);
        let (typed, target) = match self.criteria(profile, slice, discriminator) {
            Some((p, t)) => (p, Some(t)),
            None => (None, None),
        };
        let profile: &Profile = typed.as_deref().unwrap_or(profile);
        let focus_ty = value
            .get("resourceType")
            .and_then(Value::as_str)
            .and_then(|rt| self.model.type_name(rt))
            .unwrap_or(ty);
        let Some(actual) = self.discriminator_values(path, value, focus_ty, root) else {
            return false;
        };
        // A criteria element that is prohibited means the path is empty,
        // whatever the discriminator's type.
        if let Some(t) = target {
            if profile.elements[t].get("max").and_then(Value::as_str) == Some("0") {
                return actual.is_empty();
            }
        }
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
                    Some(w) => actual.iter().any(|(a, _)| walker::pattern_matches(&w, a)),
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
                            Some(exp) => actual.iter().any(|(a, _)| {
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
                if path.ends_with("resolve()") {
                    // The references are resolved where the walk resolves
                    // them (contained, the enclosing Bundle, the resolver).
                    let Some(references) =
                        self.discriminator_values(before_resolve(path), value, focus_ty, root)
                    else {
                        return false;
                    };
                    let types: Vec<String> = references
                        .iter()
                        .filter_map(|(r, _)| target_type(r.get("reference")?.as_str()?))
                        .collect();
                    return self.resolved_types_match(&profile.elements[t], &types);
                }
                let criteria = &profile.elements[t];
                let mut codes: Vec<String> = profile::type_codes(criteria)
                    .into_iter()
                    .map(|c| c.rsplit('/').next().unwrap_or(c).to_string())
                    .collect();
                if codes.is_empty() {
                    // A resource's root element names its type by its path.
                    let p = criteria.get("path").and_then(Value::as_str).unwrap_or("");
                    if p.contains('.') {
                        return false;
                    }
                    codes.push(p.to_string());
                }
                !actual.is_empty()
                    && actual
                        .iter()
                        .all(|(_, a)| codes.iter().any(|c| self.is_of_type(a, c)))
            }
            "profile" => {
                let Some(t) = target else { return false };
                // Through `resolve()` the profiles are the reference's
                // target profiles (discriminator-type `profile`).
                let through = path == "resolve()" || path.ends_with(".resolve()");
                let key = if through { "targetProfile" } else { "profile" };
                let urls: Vec<&str> = type_urls(&profile.elements[t], key).collect();
                // A criteria element that names no profile asks nothing
                // of the value.
                if urls.is_empty() {
                    return true;
                }
                if through {
                    // The reference is resolved where the walk resolves
                    // references (contained, the enclosing Bundle, the
                    // resolver), not only inside the resource at hand.
                    let Some(references) =
                        self.discriminator_values(before_resolve(path), value, focus_ty, root)
                    else {
                        return false;
                    };
                    let [(reference, _)] = references.as_slice() else {
                        return false;
                    };
                    let Some(reference) = reference.get("reference").and_then(Value::as_str) else {
                        return false;
                    };
                    return urls.iter().any(|u| target_conforms(reference, u));
                }
                // `conformsTo()` holds of exactly one value: nothing at the
                // path (a missing instance) is in no profile slice.
                let [(target_value, _)] = actual.as_slice() else {
                    return false;
                };
                urls.iter().any(|u| conforms(target_value, u))
            }
            _ => false,
        }
    }

    /// Whether a discriminator asserts anything of a slice (`asserts`; a
    /// criteria element not found is taken to assert).
    fn discriminator_asserts(&self, profile: &Profile, slice: usize, d: &Discriminator) -> bool {
        let Some((typed, t)) = self.criteria(profile, slice, d) else {
            return true;
        };
        asserts(&d.kind, &typed.as_deref().unwrap_or(profile).elements[t])
    }

    /// The criteria element of a slice for a discriminator, and the
    /// profile it is in when that is not `profile`. As the reference
    /// validator (`getCriteriaForDiscriminator`, then the first that
    /// asserts in `sliceMatches`): the slice's own
    /// (`discriminator_target`), unless it is missing or asserts nothing
    /// and a profile the slice's type names has one that does (snapshots
    /// need not unfold a slice typed by a profile: SUSHI's do not unfold
    /// `extension:x`, whose discriminating element is then the type
    /// profile's own `Extension.url` with its fixed URL).
    fn criteria(
        &self,
        profile: &Profile,
        slice: usize,
        d: &Discriminator,
    ) -> Option<(Option<Arc<Profile>>, usize)> {
        // A slice whose content another profile's element defines
        // (`elementdefinition-profile-element`) is discriminated by that
        // element's constraints.
        let external = self.profile_element(profile, slice);
        let (home, slice): (&Profile, usize) = match &external {
            Some((p, i)) => (p.as_ref(), *i),
            None => (profile, slice),
        };
        let slice_id = home.id(slice).to_string();
        let asserting = |found: &(Option<Arc<Profile>>, usize)| {
            let p: &Profile = found.0.as_deref().unwrap_or(home);
            asserts(&d.kind, &p.elements[found.1])
        };
        let found = match self.discriminator_target(home, &slice_id, &d.path) {
            Some(own) if asserting(&own) => Some(own),
            own => {
                let urls: Vec<&str> = type_urls(&home.elements[slice], "profile").collect();
                // A type profile that is not loaded leaves the criteria
                // unknown: the slice matches nothing.
                if urls.iter().any(|u| self.profile(u).is_none()) {
                    return None;
                }
                urls.iter()
                    .find_map(|url| {
                        let p = self.profile(url)?;
                        let root = p.id(0).to_string();
                        let (inner, at) = self.discriminator_target(&p, &root, &d.path)?;
                        let typed = (Some(inner.unwrap_or(p)), at);
                        asserting(&typed).then_some(typed)
                    })
                    .or(own)
            }
        };
        let (typed, at) = found?;
        Some((typed.or_else(|| external.map(|(p, _)| p)), at))
    }

    /// The element of a slice that a discriminator path points at, found
    /// as the reference validator finds it
    /// (`FHIRPathEngine.evaluateDefinition`): `code.coding` →
    /// `…:slice.code.coding`; `value` may name `value[x]`; a child that is
    /// itself sliced stands for its first slice (a choice sliced by type
    /// for its type slice, where a fixed value of that type is); where the
    /// snapshot does not unfold an element, its children are its type's
    /// (the type's one profile, else its base definition);
    /// `extension('url')` names the extension slice whose profile is
    /// `url`. Returns the element, and the profile it is in when that is
    /// not `profile`.
    fn discriminator_target(
        &self,
        profile: &Profile,
        slice_id: &str,
        path: &str,
    ) -> Option<(Option<Arc<Profile>>, usize)> {
        let mut typed: Option<Arc<Profile>> = None;
        let mut current = slice_id.to_string();
        for seg in discriminator_segments(path) {
            if seg == "$this" || seg == "resolve()" || seg.starts_with("ofType(") {
                continue;
            }
            let p: &Profile = typed.as_deref().unwrap_or(profile);
            let at = p.index_of(&current)?;
            if p.children(at).is_empty() {
                let ty = self.type_definition(&p.elements[at])?;
                current = ty.id(0).to_string();
                typed = Some(ty);
            }
            let p: &Profile = typed.as_deref().unwrap_or(profile);
            if let Some(url) = seg
                .strip_prefix("extension(")
                .and_then(|s| s.strip_suffix(')'))
            {
                let url = url.trim_matches(|c| c == '\'' || c == '"');
                let prefix = format!("{current}.extension:");
                // The last such slice: a re-slice (`actionType/Single`) is
                // more specific than the slice it refines.
                let found = p.elements.iter().rev().find_map(|e| {
                    let id = profile::id_of(e);
                    let rest = id.strip_prefix(&prefix)?;
                    if rest.contains('.') {
                        return None;
                    }
                    let has = type_urls(e, "profile").any(|u| u == url);
                    has.then(|| id.to_string())
                });
                current = found.unwrap_or_else(|| format!("{current}.extension"));
                continue;
            }
            let next = format!("{current}.{seg}");
            let next = if p.index_of(&next).is_some() {
                next
            } else {
                format!("{current}.{seg}[x]")
            };
            // A child that is sliced stands for its first slice. A choice
            // whose type slices (`value[x]:valueString`) are listed without
            // a slicing entry of its own is sliced too: profiling.html
            // §5.1.0.13, a choice is implicitly sliced by type.
            let type_slice = || {
                let prefix = format!("{next}:");
                p.elements.iter().map(profile::id_of).find(|id| {
                    id.strip_prefix(&prefix)
                        .is_some_and(|rest| !rest.contains('.'))
                })
            };
            current = match p.index_of(&next).and_then(|i| p.plans[i].slices.first()) {
                Some(&first) => p.id(first).to_string(),
                None if next.ends_with("[x]") => type_slice().map_or(next, str::to_string),
                None => next,
            };
        }
        let at = typed.as_deref().unwrap_or(profile).index_of(&current)?;
        Some((typed, at))
    }

    /// The definition that gives an element its children when its profile
    /// does not list them: its one type's profile, else that type's base
    /// definition.
    fn type_definition(&self, e: &Value) -> Option<Arc<Profile>> {
        let [t] = e.get("type")?.as_array()?.as_slice() else {
            return None;
        };
        match t
            .get("profile")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            Some([url]) => self.profile(url.as_str()?),
            Some([_, _, ..]) => None,
            _ => self.profile_for_type(t.get("code")?.as_str()?),
        }
    }

    /// The values a discriminator path reaches from a repetition, with
    /// their FHIRPath types (`None`: the path cannot be evaluated). They
    /// are the instance's own values, not copies: whether a value conforms
    /// to a profile is remembered by its address for the whole validation
    /// (`references::Session`), and a copy's address is reused by the next.
    fn discriminator_values<'a>(
        &'a self,
        path: &str,
        value: &'a Value,
        focus_ty: &'a str,
        root: &'a Value,
    ) -> Option<Vec<(&'a Value, String)>> {
        if path == "$this" {
            return Some(vec![(value, focus_ty.to_string())]);
        }
        let expr = self.expression(path)?;
        let focus = vec![Item::Node(Node {
            value: Some(value),
            extension: None,
            ty: focus_ty,
        })];
        let root = Item::Node(Node {
            value: Some(root),
            extension: None,
            ty: self.resource_type_name(root),
        });
        let ctx = Context {
            model: Some(&self.model),
            registry: Some(self.registry),
            ..Context::default()
        };
        let items = expr.evaluate_on(focus, Some(root), &ctx).ok()?;
        Some(
            items
                .iter()
                .filter_map(|i| match i {
                    Item::Node(n) => n.value.map(|v| (v, n.ty.to_string())),
                    _ => None,
                })
                .collect(),
        )
    }

    /// Whether resolved resources' types are among the targets a slice's
    /// reference allows.
    fn resolved_types_match(&self, criteria: &Value, types: &[String]) -> bool {
        let targets: Vec<&str> = type_urls(criteria, "targetProfile")
            .filter_map(|url| {
                self.registry
                    .structure_definition(url)
                    .and_then(|sd| sd.get("type").and_then(Value::as_str))
            })
            .collect();
        !types.is_empty()
            && types
                .iter()
                .all(|rt| targets.is_empty() || targets.contains(&rt.as_str()))
    }

    /// FHIRPath's `is` for a discriminator: a primitive type matches only
    /// itself; complex types and resources match their ancestors too.
    fn is_of_type(&self, actual: &str, code: &str) -> bool {
        if actual.is_empty() {
            return false;
        }
        if actual == code {
            return true;
        }
        let primitive = self.model.get(actual).is_some_and(|t| t.primitive);
        !primitive && self.model.is_a(actual, code)
    }
}

/// Whether a criteria element asserts anything for a discriminator of
/// this kind: a `value` or `pattern` discriminator whose criteria element
/// is not prohibited and has no fixed value, pattern or required binding
/// does not (`InstanceValidator.sliceMatches` leaves it out of the
/// slice's expression, and a slice none of whose discriminators assert
/// cannot be evaluated).
fn asserts(kind: &str, ed: &Value) -> bool {
    if kind != "value" && kind != "pattern" {
        return true;
    }
    ed.get("max").and_then(Value::as_str) == Some("0")
        || ed.as_object().is_some_and(|o| {
            o.keys()
                .any(|k| k.starts_with("fixed") || k.starts_with("pattern"))
        })
        || (ed.pointer("/binding/strength") == Some(&json!("required"))
            && ed.pointer("/binding/valueSet").is_some())
}

/// The path to the references a discriminator path resolves
/// (`item.resolve()` → `item`, `resolve()` → `$this`).
fn before_resolve(path: &str) -> &str {
    let before = path.trim_end_matches("resolve()").trim_end_matches('.');
    if before.is_empty() {
        "$this"
    } else {
        before
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reslices_are_named_below_their_slice() {
        assert!(reslices("a/b", "a"));
        assert!(!reslices("ab", "a"));
        assert!(!reslices("a", "a/b"));
    }

    #[test]
    fn discriminator_paths_split_outside_arguments() {
        assert_eq!(
            discriminator_segments("extension('http://x.org/a').value"),
            vec![
                "extension('http://x.org/a')".to_string(),
                "value".to_string()
            ]
        );
    }
}
