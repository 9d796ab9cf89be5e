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
use super::Validator;
use crate::fhirpath::{Context, Item, Node};

/// One repetition of an element being sliced: its JSON value, the `_name`
/// extension object of a primitive, and its type code.
pub(super) type Repetition<'v, 't> = (Option<&'v Value>, Option<&'v Value>, &'t str);

/// A repetition being matched to slices: its value, its FHIRPath type,
/// the resource it is in, and how to ask whether a resource conforms to a
/// profile.
struct Candidate<'a> {
    value: &'a Value,
    ty: &'a str,
    root: &'a Value,
    conforms: &'a dyn Fn(&Value, &str) -> bool,
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
        if !discriminators.is_empty() {
            for &s in slices {
                for (i, (v, _, _)) in items.iter().enumerate() {
                    let Some(v) = v else { continue };
                    let conforms = |target: &Value, url: &str| self.conforms(target, &context, url);
                    let candidate = Candidate {
                        value: v,
                        ty: node_types[i],
                        root,
                        conforms: &conforms,
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
        } = candidate;
        let (value, ty, root): (&Value, &str, &Value) = (value, ty, root);
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
        let focus_ty = value
            .get("resourceType")
            .and_then(Value::as_str)
            .and_then(|rt| self.model.type_name(rt))
            .unwrap_or(ty);
        let actual: Vec<(Value, String)> = if path == "$this" {
            vec![(value.clone(), focus_ty.to_string())]
        } else {
            let Some(expr) = self.expression(path) else {
                return false;
            };
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
            match expr.evaluate_on(focus, Some(root), &ctx) {
                Ok(items) => items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Node(n) => n.value.map(|v| (v.clone(), n.ty.to_string())),
                        other => other.json().map(|v| (v.clone(), String::new())),
                    })
                    .collect(),
                Err(_) => return false,
            }
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
                    return self.resolved_types_match(&profile.elements[t], &actual);
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
                // Nothing at the path conforms to nothing: a missing
                // instance is in no profile slice.
                let Some((target_value, _)) = actual.first() else {
                    return false;
                };
                urls.iter().any(|u| conforms(target_value, u))
            }
            _ => false,
        }
    }

    /// Whether resolved resources' types are among the targets a slice's
    /// reference allows.
    fn resolved_types_match(&self, criteria: &Value, actual: &[(Value, String)]) -> bool {
        let targets: Vec<&str> = criteria
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
        !actual.is_empty()
            && actual.iter().all(|(r, _)| {
                r.get("resourceType")
                    .and_then(Value::as_str)
                    .is_some_and(|rt| targets.is_empty() || targets.contains(&rt))
            })
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
