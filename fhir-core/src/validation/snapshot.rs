//! Generating a StructureDefinition's snapshot from its differential and
//! its base (UK Core and our guide ship differentials only).
//!
//! The base's snapshot is copied, then each differential element is laid
//! over the element with the same id. An element the base does not have is
//! either a slice (`Patient.identifier:nhsNumber`, inserted after the
//! elements of the sliced element) or lies inside a complex type the base
//! does not unfold (`Patient.identifier.system`): the type's own elements
//! are unfolded under it first.

use serde_json::{Map, Value};

use crate::package::Registry;

/// Element properties a differential replaces outright.
const REPLACED: &[&str] = &[
    "short",
    "definition",
    "comment",
    "requirements",
    "alias",
    "min",
    "max",
    "type",
    "binding",
    "mustSupport",
    "isModifier",
    "isSummary",
    "slicing",
    "sliceName",
    "meaningWhenMissing",
    "maxLength",
    "label",
    "code",
    "contentReference",
    "orderMeaning",
    "isModifierReason",
    "sliceIsConstraining",
];

/// The snapshot elements of `sd`: its own snapshot when it has one, else
/// one generated from its differential over its base's snapshot.
/// `None` when the base cannot be found.
pub fn snapshot_elements(sd: &Value, registry: &Registry) -> Option<Vec<Value>> {
    snapshot_with_depth(sd, registry, &[])
}

/// `within`: the URLs of the definitions whose snapshots are being made
/// (the bases under way, and the profiles of types being unfolded), which
/// bounds the depth and keeps a profile that names itself, directly or
/// through others, from being unfolded into itself.
fn snapshot_with_depth(sd: &Value, registry: &Registry, within: &[&str]) -> Option<Vec<Value>> {
    if let Some(s) = sd.pointer("/snapshot/element").and_then(Value::as_array) {
        if !s.is_empty() {
            return Some(s.clone());
        }
    }
    if within.len() > 16 {
        return None;
    }
    let mut chain: Vec<&str> = within.to_vec();
    chain.push(sd.get("url").and_then(Value::as_str).unwrap_or(""));
    let within = chain.as_slice();
    let base_url = sd.get("baseDefinition")?.as_str()?;
    let base = registry.structure_definition(base_url)?;
    let mut elements = snapshot_with_depth(base, registry, within)?;
    let ty = sd.get("type").and_then(Value::as_str).unwrap_or("");
    let base_ty = base.get("type").and_then(Value::as_str).unwrap_or(ty);
    if ty != base_ty {
        // A profile of a logical model or a type change: rename the root.
        for e in &mut elements {
            rebase(e, base_ty, ty, base_ty, ty);
        }
    }
    let diff = sd
        .pointer("/differential/element")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for d in type_slices(with_ids(diff), &elements) {
        let mut id = choice_renamed(&elements, &element_id(&d));
        if find(&elements, &id).is_none() {
            // The parent may need unfolding before a choice renamed by its
            // type (`extension:x.valueCode`) can be found.
            if let Some((parent, _)) = id.rsplit_once('.') {
                let parent_at = find(&elements, parent)
                    .or_else(|| insert_for(&mut elements, parent, registry, within));
                if let Some(p) = parent_at {
                    if subtree_end(&elements, p) == p + 1 {
                        let _ = unfold(&mut elements, p, registry, within);
                    }
                }
            }
            id = choice_renamed(&elements, &id);
        }
        let at = match find(&elements, &id) {
            Some(i) => i,
            None => match insert_for(&mut elements, &id, registry, within) {
                Some(i) => i,
                None => continue,
            },
        };
        overlay(&mut elements[at], &d);
    }
    Some(elements)
}

/// The choice element (`Observation.value[x]`) a segment names by its
/// type (`valueQuantity`), with that type's code, when `parent` (an
/// element id) has such a choice element in the base.
fn typed_choice(elements: &[Value], parent: &str, segment: &str) -> Option<(String, String)> {
    if segment.contains([':', '[']) {
        return None;
    }
    (1..segment.len())
        .filter(|&i| {
            segment.is_char_boundary(i)
                && segment[i..].starts_with(|c: char| c.is_ascii_uppercase())
        })
        .find_map(|i| {
            let choice = format!("{}[x]", &segment[..i]);
            let base = find_by_path(elements, &path_of_id(&format!("{parent}.{choice}")))?;
            let code = choice_type(&elements[base], &segment[i..])?;
            Some((choice, code))
        })
}

/// The type code of a choice element whose capitalised name is `suffix`
/// (`Quantity`, `String` → `string`).
fn choice_type(choice: &Value, suffix: &str) -> Option<String> {
    choice
        .get("type")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|t| t.get("code").and_then(Value::as_str))
        .find(|c| crate::fhirpath::capitalise_type(c) == suffix)
        .map(str::to_string)
}

fn find_by_path(elements: &[Value], path: &str) -> Option<usize> {
    elements
        .iter()
        .position(|e| e.get("path").and_then(Value::as_str) == Some(path))
}

/// Type slicing of choice elements (R4 `profiling.html#slicing`, "Slicing
/// by type", and ElementDefinition's rule that a choice element may be
/// constrained by type through its type-named path, `elementdefinition.html#choice`):
/// a differential that names `Observation.valueQuantity` (or the slice
/// `Observation.value[x]:valueQuantity`) constrains the Quantity slice of
/// `value[x]`, not `value[x]` as a whole. As the HL7 reference
/// validator's snapshot generator does, each such element becomes the
/// type slice `value[x]:valueQuantity` with that one type, under a
/// `value[x]` sliced by type (`$this`). The other types stay allowed
/// unless a type slice is required (`min ≥ 1`, then `value[x]` is that
/// type) or the element is an extension's value (naming its value's type
/// restricts the extension to the types named).
fn type_slices(diff: Vec<Value>, elements: &[Value]) -> Vec<Value> {
    // Slicer id → (types of its type slices, whether any is required,
    // whether the differential names the slicer itself).
    let mut slicers: Vec<(String, Vec<String>, bool)> = Vec::new();
    let mut out: Vec<Value> = Vec::with_capacity(diff.len());
    for mut d in diff {
        let id = element_id(&d);
        let segments: Vec<&str> = id.split('.').collect();
        let mut rewritten: Vec<String> = Vec::with_capacity(segments.len());
        for (i, seg) in segments.iter().enumerate() {
            let parent = rewritten.join(".");
            let last = i + 1 == segments.len();
            let typed = (i > 0)
                .then(|| typed_choice(elements, &parent, seg))
                .flatten();
            if let Some((choice, code)) = typed {
                let slicer = format!("{parent}.{choice}");
                rewritten.push(format!("{choice}:{seg}"));
                if last {
                    if d.get("type").is_none() {
                        d["type"] = serde_json::json!([{ "code": code }]);
                    }
                    d["sliceName"] = Value::String(seg.to_string());
                }
                note_type_slice(&mut slicers, &slicer, &code, last && min_of(&d) > 0);
                if !last {
                    let slice = format!("{slicer}:{seg}");
                    if !out.iter().any(|o| element_id(o) == slice) {
                        // Constraints inside a type slice that the
                        // differential does not name itself.
                        out.push(serde_json::json!({
                            "id": slice,
                            "path": path_of_id(&slicer),
                            "sliceName": seg,
                            "type": [{ "code": code }]
                        }));
                    }
                }
                continue;
            }
            // An explicit type slice (`value[x]:valueQuantity`) may leave
            // its type to be read from its name.
            if let Some((choice, slice)) = seg.split_once(':') {
                if let Some(stem) = choice.strip_suffix("[x]") {
                    let slicer = format!("{parent}.{choice}");
                    let base = find_by_path(elements, &path_of_id(&slicer));
                    let code = slice
                        .strip_prefix(stem)
                        .and_then(|suffix| choice_type(&elements[base?], suffix));
                    if let Some(code) = code {
                        if last && d.get("type").is_none() {
                            d["type"] = serde_json::json!([{ "code": code }]);
                        }
                        note_type_slice(&mut slicers, &slicer, &code, last && min_of(&d) > 0);
                    }
                }
            }
            rewritten.push(seg.to_string());
        }
        let new_id = rewritten.join(".");
        if new_id != id {
            d["id"] = Value::String(new_id);
        }
        out.push(d);
    }
    for (slicer, types, required) in slicers {
        let at = out.iter().position(|d| element_id(d) == slicer);
        let named = at.is_some();
        let index = match at {
            Some(i) => i,
            None => {
                // The slicer goes before its first slice.
                let first = out
                    .iter()
                    .position(|d| element_id(d).starts_with(&format!("{slicer}:")))
                    .unwrap_or(out.len());
                out.insert(
                    first,
                    serde_json::json!({ "id": slicer, "path": path_of_id(&slicer) }),
                );
                first
            }
        };
        let element = &mut out[index];
        if element.get("slicing").is_none() {
            element["slicing"] = serde_json::json!({
                "discriminator": [{ "type": "type", "path": "$this" }],
                "ordered": false,
                "rules": "open"
            });
        }
        let restrict_to: Option<Vec<String>> = if required {
            element["min"] = Value::from(1);
            types.last().map(|t| vec![t.clone()])
        } else if !named && slicer.ends_with("xtension.value[x]") {
            Some(types.clone())
        } else {
            None
        };
        if let Some(keep) = restrict_to {
            let base_types = element
                .get("type")
                .and_then(Value::as_array)
                .cloned()
                .or_else(|| {
                    let b = find_by_path(elements, &path_of_id(&slicer))?;
                    elements[b].get("type").and_then(Value::as_array).cloned()
                })
                .unwrap_or_default();
            let kept: Vec<Value> = base_types
                .into_iter()
                .filter(|t| {
                    t.get("code")
                        .and_then(Value::as_str)
                        .is_some_and(|c| keep.iter().any(|k| k == c))
                })
                .collect();
            if !kept.is_empty() {
                element["type"] = Value::Array(kept);
            }
        }
    }
    out
}

fn min_of(d: &Value) -> u64 {
    d.get("min").and_then(Value::as_u64).unwrap_or(0)
}

fn note_type_slice(
    slicers: &mut Vec<(String, Vec<String>, bool)>,
    slicer: &str,
    code: &str,
    required: bool,
) {
    match slicers.iter_mut().find(|(s, _, _)| s == slicer) {
        Some((_, types, req)) => {
            if !types.iter().any(|t| t == code) {
                types.push(code.to_string());
            }
            *req |= required;
        }
        None => slicers.push((slicer.to_string(), vec![code.to_string()], required)),
    }
}

/// A differential id that names a choice element by its type
/// (`Observation.valueQuantity`) rewritten to the choice element
/// (`Observation.value[x]`), segment by segment.
fn choice_renamed(elements: &[Value], id: &str) -> String {
    if find(elements, id).is_some() {
        return id.to_string();
    }
    let mut out = String::new();
    for seg in id.split('.') {
        let candidate = if out.is_empty() {
            seg.to_string()
        } else {
            format!("{out}.{seg}")
        };
        out = if find(elements, &candidate).is_some() || seg.contains(':') {
            candidate
        } else {
            (1..seg.len())
                .filter(|&i| {
                    seg.is_char_boundary(i)
                        && seg[i..].starts_with(|c: char| c.is_ascii_uppercase())
                })
                .map(|i| format!("{out}.{}[x]", &seg[..i]))
                .find(|choice| find(elements, choice).is_some())
                .unwrap_or(candidate)
        };
    }
    out
}

/// Differential elements with ids: older differentials give only a path
/// and a `sliceName`, and the elements after a slice belong to it until
/// the next slice of the same path.
fn with_ids(diff: Vec<Value>) -> Vec<Value> {
    // Path of a sliced element → the id of its current slice.
    let mut current: Vec<(String, String)> = Vec::new();
    diff.into_iter()
        .map(|mut d| {
            let path = d
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let id = match d.get("id").and_then(Value::as_str) {
                Some(id) => id.to_string(),
                None => {
                    // The longest prefix of the path that is in a slice.
                    let mut id = path.clone();
                    let is_slice = d.get("sliceName").is_some();
                    for (p, slice_id) in current.iter().rev() {
                        if (path == *p && !is_slice) || path.starts_with(&format!("{p}.")) {
                            id = format!("{slice_id}{}", &path[p.len()..]);
                            break;
                        }
                    }
                    if let Some(name) = d.get("sliceName").and_then(Value::as_str) {
                        id = format!("{id}:{name}");
                    }
                    d["id"] = Value::String(id.clone());
                    id
                }
            };
            if d.get("sliceName").is_some() {
                current.retain(|(p, _)| *p != path);
                current.push((path, id));
            }
            d
        })
        .collect()
}

fn element_id(e: &Value) -> String {
    e.get("id")
        .and_then(Value::as_str)
        .or_else(|| e.get("path").and_then(Value::as_str))
        .unwrap_or("")
        .to_string()
}

fn find(elements: &[Value], id: &str) -> Option<usize> {
    elements.iter().position(|e| element_id(e) == id)
}

/// The path of an element id: slice names dropped
/// (`Patient.identifier:nhs.system` → `Patient.identifier.system`).
pub fn path_of_id(id: &str) -> String {
    id.split('.')
        .map(|seg| seg.split(':').next().unwrap_or(seg))
        .collect::<Vec<_>>()
        .join(".")
}

/// Makes room for a differential element the snapshot lacks; returns its
/// index.
fn insert_for(
    elements: &mut Vec<Value>,
    id: &str,
    registry: &Registry,
    within: &[&str],
) -> Option<usize> {
    let (parent, last) = id.rsplit_once('.')?;
    if let Some((name, slice)) = last.split_once(':') {
        // A new slice: a copy of the sliced element (and its children),
        // placed after everything that element already has.
        let sliced_id = format!("{parent}.{name}");
        let sliced_at = find(elements, &sliced_id)
            .or_else(|| insert_for(elements, &sliced_id, registry, within))?;
        // Unfolding a profiled type may have brought the slice with it.
        if let Some(at) = find(elements, id) {
            return Some(at);
        }
        // Extensions are always sliced by (at least) url
        // (extensibility.html, "Extensions are always sliced by url"): a
        // slice of an extension element whose slicing the differential
        // does not declare gets that slicing, as the reference
        // validator's snapshot generator gives it (`makeExtensionSlicing`).
        let sliced = &mut elements[sliced_at];
        let extension = sliced
            .get("path")
            .and_then(Value::as_str)
            .is_some_and(|p| p.ends_with(".extension") || p.ends_with(".modifierExtension"));
        if extension && sliced.get("slicing").is_none() {
            sliced["slicing"] = serde_json::json!({
                "discriminator": [{ "type": "value", "path": "url" }],
                "ordered": false,
                "rules": "open"
            });
        }
        let end = subtree_end(elements, sliced_at);
        // Only the element and its own children: not its other slices.
        let own_children = format!("{sliced_id}.");
        let mut copy: Vec<Value> = elements[sliced_at..end]
            .iter()
            .enumerate()
            .filter(|(k, e)| *k == 0 || element_id(e).starts_with(&own_children))
            .map(|(_, e)| e.clone())
            .collect();
        for e in &mut copy {
            let eid = element_id(e);
            let new_id = format!("{id}{}", &eid[sliced_id.len()..]);
            e["id"] = Value::String(new_id);
            if let Some(o) = e.as_object_mut() {
                o.remove("slicing");
            }
        }
        copy[0]["sliceName"] = Value::String(slice.to_string());
        // The sliced element's minimum counts all its slices together; a
        // slice by itself starts from none.
        copy[0]["min"] = Value::from(0);
        let at = end;
        for (k, e) in copy.into_iter().enumerate() {
            elements.insert(at + k, e);
        }
        return Some(at);
    }
    // A child inside a type the snapshot has not unfolded.
    let parent_at =
        find(elements, parent).or_else(|| insert_for(elements, parent, registry, within))?;
    if subtree_end(elements, parent_at) == parent_at + 1 {
        unfold(elements, parent_at, registry, within)?;
    }
    find(elements, id)
}

/// The index after the last descendant of `elements[at]` (by id prefix).
fn subtree_end(elements: &[Value], at: usize) -> usize {
    let id = element_id(&elements[at]);
    let mut end = at + 1;
    while end < elements.len() {
        let e = element_id(&elements[end]);
        let inside = e.len() > id.len()
            && e.starts_with(&id)
            && (e.as_bytes()[id.len()] == b'.' || e.as_bytes()[id.len()] == b':');
        if !inside {
            break;
        }
        end += 1;
    }
    end
}

/// Inserts the elements of the parent's type under it: those of the
/// type's profile when the parent names one (a complex extension's
/// sub-extensions with their fixed URLs), as the reference validator's
/// snapshot generator walks into a profiled type; else the base type's.
fn unfold(
    elements: &mut Vec<Value>,
    parent_at: usize,
    registry: &Registry,
    within: &[&str],
) -> Option<()> {
    let parent = &elements[parent_at];
    let parent_id = element_id(parent);
    let parent_path = parent
        .get("path")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| path_of_id(&parent_id));
    // An element defined by reference to another (`#Parameters.parameter`)
    // unfolds into copies of that element's children, taken from the
    // base type's snapshot.
    if let Some(target) = parent
        .get("contentReference")
        .and_then(Value::as_str)
        .and_then(|r| r.split_once('#'))
        .map(|(_, id)| id.to_string())
    {
        let root = target.split('.').next().unwrap_or(&target);
        let base = registry
            .structure_definition(&format!("http://hl7.org/fhir/StructureDefinition/{root}"))?;
        let base_elements = base.pointer("/snapshot/element")?.as_array()?;
        let prefix = format!("{target}.");
        let mut children: Vec<Value> = base_elements
            .iter()
            .filter(|e| element_id(e).starts_with(&prefix))
            .cloned()
            .collect();
        for c in &mut children {
            rebase(c, &target, &parent_id, &target, &parent_path);
        }
        for (k, c) in children.into_iter().enumerate() {
            elements.insert(parent_at + 1 + k, c);
        }
        return Some(());
    }
    let types = parent.get("type").and_then(Value::as_array)?;
    let first = types.first()?;
    let code = first.get("code")?.as_str()?;
    let profiled = first
        .get("profile")
        .and_then(Value::as_array)
        .and_then(|p| p.first())
        .and_then(Value::as_str)
        .filter(|_| types.len() == 1)
        // A profile already being made is not unfolded into itself: its
        // base type's elements stand in for it.
        .filter(|u| {
            let u = u.split('|').next().unwrap_or(u);
            !within.contains(&u)
        })
        .and_then(|u| registry.structure_definition(u))
        .and_then(|sd| {
            let root = sd.get("type")?.as_str()?;
            Some((root, snapshot_with_depth(sd, registry, within)?))
        });
    let (root, mut children): (&str, Vec<Value>) = match profiled {
        Some((root, snapshot)) => (root, snapshot.into_iter().skip(1).collect()),
        None => {
            let type_sd = registry
                .structure_definition(&format!("http://hl7.org/fhir/StructureDefinition/{code}"))?;
            let type_elements = type_sd.pointer("/snapshot/element")?.as_array()?;
            (code, type_elements.iter().skip(1).cloned().collect())
        }
    };
    for c in &mut children {
        rebase(c, root, &parent_id, root, &parent_path);
    }
    for (k, c) in children.into_iter().enumerate() {
        elements.insert(parent_at + 1 + k, c);
    }
    Some(())
}

/// Moves an element from under one root to another: ids start with
/// `from_id`, paths with `from_path`.
fn rebase(e: &mut Value, from_id: &str, to_id: &str, from_path: &str, to_path: &str) {
    let id = element_id(e);
    if let Some(rest) = id.strip_prefix(from_id) {
        e["id"] = Value::String(format!("{to_id}{rest}"));
    }
    if let Some(p) = e.get("path").and_then(Value::as_str).map(str::to_string) {
        if let Some(rest) = p.strip_prefix(from_path) {
            e["path"] = Value::String(format!("{to_path}{rest}"));
        }
    }
}

/// Lays a differential element over a snapshot element.
fn overlay(target: &mut Value, diff: &Value) {
    let (Some(t), Some(d)) = (target.as_object_mut(), diff.as_object()) else {
        return;
    };
    for (k, v) in d {
        if k == "id" || k == "path" {
            continue;
        }
        if k == "constraint" {
            let existing = t
                .entry("constraint")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let (Some(list), Some(new)) = (existing.as_array_mut(), v.as_array()) {
                for c in new {
                    let key = c.get("key");
                    if !list.iter().any(|x| x.get("key") == key) {
                        list.push(c.clone());
                    }
                }
            }
            continue;
        }
        if k.starts_with("fixed")
            || k.starts_with("pattern")
            || k.starts_with("defaultValue")
            || k.starts_with("minValue")
            || k.starts_with("maxValue")
        {
            remove_prefixed(
                t,
                &k[..k.find(|c: char| c.is_ascii_uppercase()).unwrap_or(k.len())],
            );
            t.insert(k.clone(), v.clone());
            continue;
        }
        if REPLACED.contains(&k.as_str()) || !t.contains_key(k) {
            t.insert(k.clone(), v.clone());
        }
    }
}

fn remove_prefixed(t: &mut Map<String, Value>, prefix: &str) {
    let keys: Vec<String> = t
        .keys()
        .filter(|k| k.starts_with(prefix))
        .cloned()
        .collect();
    for k in keys {
        t.remove(&k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_ids_map_to_paths() {
        assert_eq!(
            path_of_id("Patient.identifier:nhs.system"),
            "Patient.identifier.system"
        );
        assert_eq!(
            path_of_id("Extension.extension:a.value[x]"),
            "Extension.extension.value[x]"
        );
    }
}
