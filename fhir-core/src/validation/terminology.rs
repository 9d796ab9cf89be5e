//! Value set membership for bindings, from loaded ValueSets and
//! CodeSystems only (no terminology server).

use std::collections::HashSet;

use serde_json::Value;

use crate::package::Registry;

/// What a value set is known to contain.
#[derive(Debug, Clone)]
pub enum Expansion {
    /// Every (system, code) of the value set.
    Codes(HashSet<(String, String)>),
    /// Some part needs a code system or filter we cannot evaluate offline
    /// (SNOMED CT, LOINC, ...): membership cannot be decided. Holds the
    /// system that stopped us.
    Unknown(String),
}

impl Expansion {
    /// Whether (system, code) is in; `None` when unknown. An empty system
    /// matches any system (a bare `code` element).
    pub fn contains(&self, system: &str, code: &str) -> Option<bool> {
        match self {
            Expansion::Codes(c) => Some(if system.is_empty() {
                c.iter().any(|(_, k)| k == code)
            } else {
                c.contains(&(system.to_string(), code.to_string()))
            }),
            Expansion::Unknown(_) => None,
        }
    }
}

/// Expands a value set by canonical URL; `None` when it is not loaded.
pub fn expand(registry: &Registry, url: &str) -> Option<Expansion> {
    expand_depth(registry, url, 0)
}

fn expand_depth(registry: &Registry, url: &str, depth: usize) -> Option<Expansion> {
    let vs = registry.value_set(url)?;
    if depth > 8 {
        return Some(Expansion::Unknown(url.to_string()));
    }
    let mut codes = HashSet::new();
    if let Some(contains) = vs.pointer("/expansion/contains").and_then(Value::as_array) {
        collect_expansion(contains, &mut codes);
        return Some(Expansion::Codes(codes));
    }
    let Some(compose) = vs.get("compose") else {
        return Some(Expansion::Unknown(url.to_string()));
    };
    for inc in compose
        .get("include")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match include(registry, inc, depth) {
            Ok(set) => codes.extend(set),
            Err(system) => return Some(Expansion::Unknown(system)),
        }
    }
    for exc in compose
        .get("exclude")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Ok(set) = include(registry, exc, depth) {
            for c in set {
                codes.remove(&c);
            }
        }
    }
    Some(Expansion::Codes(codes))
}

fn collect_expansion(contains: &[Value], out: &mut HashSet<(String, String)>) {
    for c in contains {
        if let (Some(s), Some(k)) = (
            c.get("system").and_then(Value::as_str),
            c.get("code").and_then(Value::as_str),
        ) {
            out.insert((s.to_string(), k.to_string()));
        }
        if let Some(nested) = c.get("contains").and_then(Value::as_array) {
            collect_expansion(nested, out);
        }
    }
}

/// The codes of one include (or exclude); `Err(system)` when it cannot be
/// computed here.
fn include(
    registry: &Registry,
    inc: &Value,
    depth: usize,
) -> Result<HashSet<(String, String)>, String> {
    let system = inc.get("system").and_then(Value::as_str).unwrap_or("");
    let mut from_system: Option<HashSet<(String, String)>> = None;
    if !system.is_empty() {
        let mut set = HashSet::new();
        if let Some(concepts) = inc.get("concept").and_then(Value::as_array) {
            for c in concepts {
                if let Some(code) = c.get("code").and_then(Value::as_str) {
                    set.insert((system.to_string(), code.to_string()));
                }
            }
        } else {
            let cs = registry
                .code_system(system)
                .ok_or_else(|| system.to_string())?;
            if cs
                .get("content")
                .and_then(Value::as_str)
                .is_some_and(|c| c != "complete")
            {
                return Err(system.to_string());
            }
            let filters = inc
                .get("filter")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut all = Vec::new();
            flatten(cs.get("concept"), None, &mut all);
            for (code, ancestors) in &all {
                let mut ok = true;
                for f in &filters {
                    let op = f.get("op").and_then(Value::as_str).unwrap_or("");
                    let value = f.get("value").and_then(Value::as_str).unwrap_or("");
                    let prop = f.get("property").and_then(Value::as_str).unwrap_or("");
                    if prop != "concept" && prop != "code" {
                        return Err(system.to_string());
                    }
                    ok &= match op {
                        "is-a" => code == value || ancestors.iter().any(|a| a == value),
                        "descendent-of" => ancestors.iter().any(|a| a == value),
                        "is-not-a" => !(code == value || ancestors.iter().any(|a| a == value)),
                        "=" => code == value,
                        _ => return Err(system.to_string()),
                    };
                }
                if ok {
                    set.insert((system.to_string(), code.clone()));
                }
            }
        }
        from_system = Some(set);
    }
    let mut result = from_system;
    for vs in inc
        .get("valueSet")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let url = vs.as_str().unwrap_or("");
        let codes = match expand_depth(registry, url, depth + 1) {
            Some(Expansion::Codes(c)) => c,
            Some(Expansion::Unknown(s)) => return Err(s),
            None => return Err(url.to_string()),
        };
        result = Some(match result {
            None => codes,
            Some(r) => r.intersection(&codes).cloned().collect(),
        });
    }
    Ok(result.unwrap_or_default())
}

/// Every concept of a code system with its ancestors' codes.
fn flatten(
    concepts: Option<&Value>,
    parent: Option<&[String]>,
    out: &mut Vec<(String, Vec<String>)>,
) {
    for c in concepts.and_then(Value::as_array).into_iter().flatten() {
        let Some(code) = c.get("code").and_then(Value::as_str) else {
            continue;
        };
        let ancestors: Vec<String> = parent.map(<[String]>::to_vec).unwrap_or_default();
        out.push((code.to_string(), ancestors.clone()));
        let mut mine = ancestors;
        mine.push(code.to_string());
        flatten(c.get("concept"), Some(&mine), out);
    }
}

/// The displays a loaded code system gives a code (the concept's display
/// first, then its designations), or, for an external code system the
/// specification lists in a value set ([`LISTED_IN`]), the display listed
/// there; `None` when the code system or the code is not known here.
pub fn display(registry: &Registry, system: &str, code: &str) -> Option<Vec<String>> {
    let Some(cs) = registry.code_system(system) else {
        return listed_display(registry, system, code);
    };
    let concept = find_concept(cs.get("concept")?, code)?;
    let mut out: Vec<String> = concept
        .get("display")
        .and_then(Value::as_str)
        .map(str::to_string)
        .into_iter()
        .collect();
    for d in concept
        .get("designation")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(v) = d.get("value").and_then(Value::as_str) {
            out.push(v.to_string());
        }
    }
    (!out.is_empty()).then_some(out)
}

/// External code systems that have no CodeSystem resource in the
/// specification but whose codes the specification lists, with their
/// displays, in one of its value sets: ISO 3166 part 1 ("Iso 3166 Part 1:
/// 2 Letter Codes", with ISO's English short names). Its 3-letter and
/// numeric codes are not listed, so this gives displays, never membership.
const LISTED_IN: &[(&str, &str)] = &[(
    "urn:iso:std:iso:3166",
    "http://hl7.org/fhir/ValueSet/iso3166-1-2",
)];

/// The display the value set of [`LISTED_IN`] gives `code` of `system`.
fn listed_display(registry: &Registry, system: &str, code: &str) -> Option<Vec<String>> {
    let (_, url) = LISTED_IN.iter().find(|(s, _)| *s == system)?;
    let includes = registry
        .value_set(url)?
        .pointer("/compose/include")?
        .as_array()?;
    includes
        .iter()
        .filter(|inc| inc.get("system").and_then(Value::as_str) == Some(system))
        .flat_map(|inc| {
            inc.get("concept")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .find(|c| c.get("code").and_then(Value::as_str) == Some(code))
        .and_then(|c| c.get("display").and_then(Value::as_str))
        .map(|d| vec![d.to_string()])
}

fn find_concept<'a>(concepts: &'a Value, code: &str) -> Option<&'a Value> {
    concepts.as_array()?.iter().find_map(|c| {
        if c.get("code").and_then(Value::as_str) == Some(code) {
            Some(c)
        } else {
            c.get("concept").and_then(|n| find_concept(n, code))
        }
    })
}

/// Every code system a loaded value set draws on (through included value
/// sets too). A code from any other system is not a member, even when
/// the value set cannot be expanded here. `None` when the value set, or
/// one it includes, is not loaded or has no `compose`.
pub fn included_systems(registry: &Registry, url: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    systems_depth(registry, url, 0, &mut out)?;
    Some(out)
}

fn systems_depth(
    registry: &Registry,
    url: &str,
    depth: usize,
    out: &mut Vec<String>,
) -> Option<()> {
    if depth > 8 {
        return None;
    }
    let vs = registry.value_set(url)?;
    for inc in vs.pointer("/compose/include")?.as_array()? {
        if let Some(system) = inc.get("system").and_then(Value::as_str) {
            out.push(system.to_string());
        }
        for nested in inc
            .get("valueSet")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            systems_depth(registry, nested.as_str()?, depth + 1, out)?;
        }
    }
    Some(())
}
