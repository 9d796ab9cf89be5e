//! Turning FHIRPath results into index entries, and search values into
//! ranges: dates by precision, numbers by significant figures.

use fhir_core::fhirpath::Item;
use serde_json::Value;

use super::{Kind, SearchParam};
use crate::store::{IndexEntry, IndexValue, Prefix};

/// Lower case without accents: how strings are indexed and searched.
///
/// # Examples
/// ```
/// assert_eq!(fhir_server::search::normalise("Zoë  Brontë"), "zoe  bronte");
/// ```
pub fn normalise(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
            'ñ' | 'ń' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
            'ý' | 'ÿ' => 'y',
            'ś' | 'š' => 's',
            'ź' | 'ž' | 'ż' => 'z',
            'ł' => 'l',
            c => c,
        })
        .collect()
}

/// The range of instants a FHIR date, dateTime or instant covers
/// ([`fhir_core::instant::range`]).
///
/// ```
/// let (lo, hi) = fhir_server::search::date_range("2025-02").unwrap();
/// assert_eq!((lo.as_str(), hi.as_str()), ("2025-02-01T00:00:00.000Z", "2025-02-28T23:59:59.999Z"));
/// ```
pub use fhir_core::instant::range as date_range;

/// The range a search number stands for: `100` is [99.5, 100.5) by its
/// significant figures (eq), exact for other comparisons; `ap` is ±10%.
pub fn number_range(s: &str, prefix: Prefix) -> Option<(f64, f64)> {
    let v: f64 = s.parse().ok()?;
    if !v.is_finite() {
        return None;
    }
    match prefix {
        Prefix::Ap => {
            let d = (v * 0.1).abs();
            Some((v - d, v + d))
        }
        Prefix::Eq | Prefix::Ne => {
            let decimals = s.split_once('.').map(|(_, f)| f.len() as i32).unwrap_or(0);
            let half = 0.5 * 10f64.powi(-decimals);
            Some((v - half, v + half))
        }
        _ => Some((v, v)),
    }
}

fn primitive_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn entry(p: &SearchParam, value: IndexValue) -> IndexEntry {
    IndexEntry {
        param: p.code.clone(),
        value,
    }
}

fn token(
    p: &SearchParam,
    system: Option<&str>,
    code: Option<&str>,
    text: Option<&str>,
    out: &mut Vec<IndexEntry>,
) {
    if code.is_none() && text.is_none() {
        return;
    }
    out.push(entry(
        p,
        IndexValue::Token {
            system: system.map(str::to_string),
            code: code.map(str::to_string),
            text: text.map(normalise),
        },
    ));
}

fn string(p: &SearchParam, s: &str, out: &mut Vec<IndexEntry>) {
    out.push(entry(
        p,
        IndexValue::Str {
            normalised: normalise(s),
            exact: s.to_string(),
        },
    ));
}

fn date_entry(p: &SearchParam, (lo, hi): (String, String)) -> IndexEntry {
    entry(p, IndexValue::Date { lo, hi })
}

fn number_entry(p: &SearchParam, n: f64, system: Option<&str>, code: Option<&str>) -> IndexEntry {
    entry(
        p,
        IndexValue::Number {
            lo: n,
            hi: n,
            system: system.map(str::to_string),
            code: code.map(str::to_string),
        },
    )
}

/// Index entries for one FHIRPath result of parameter `p`.
pub(super) fn entries(p: &SearchParam, item: &Item, out: &mut Vec<IndexEntry>) {
    let node = match item {
        Item::Node(n) => n,
        Item::String(s) => {
            match p.kind {
                Kind::Token => token(p, None, Some(s), None, out),
                Kind::String => string(p, s, out),
                Kind::Uri => out.push(entry(p, IndexValue::Uri(s.clone()))),
                Kind::Date => {
                    if let Some(r) = date_range(s) {
                        out.push(date_entry(p, r));
                    }
                }
                _ => {}
            }
            return;
        }
        Item::Boolean(b) => {
            if p.kind == Kind::Token {
                token(p, None, Some(&b.to_string()), None, out);
            }
            return;
        }
        _ => return,
    };
    let Some(v) = node.value else { return };
    let ty = node.ty;
    match p.kind {
        Kind::Token => match ty {
            "Coding" => token(
                p,
                v["system"].as_str(),
                v["code"].as_str(),
                v["display"].as_str(),
                out,
            ),
            "CodeableConcept" => {
                for c in v["coding"].as_array().into_iter().flatten() {
                    token(
                        p,
                        c["system"].as_str(),
                        c["code"].as_str(),
                        c["display"].as_str().or(v["text"].as_str()),
                        out,
                    );
                }
                if let Some(t) = v["text"].as_str() {
                    token(p, None, None, Some(t), out);
                }
            }
            "Identifier" => token(
                p,
                v["system"].as_str(),
                v["value"].as_str(),
                v.pointer("/type/text").and_then(Value::as_str),
                out,
            ),
            "ContactPoint" => token(p, v["system"].as_str(), v["value"].as_str(), None, out),
            _ => {
                if let Some(t) = primitive_text(v) {
                    token(p, None, Some(&t), None, out);
                }
            }
        },
        Kind::String => match ty {
            "HumanName" => {
                for key in ["family", "text"] {
                    if let Some(s) = v[key].as_str() {
                        string(p, s, out);
                    }
                }
                for key in ["given", "prefix", "suffix"] {
                    for s in v[key]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        string(p, s, out);
                    }
                }
            }
            "Address" => {
                for key in ["text", "city", "district", "state", "postalCode", "country"] {
                    if let Some(s) = v[key].as_str() {
                        string(p, s, out);
                    }
                }
                for s in v["line"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    string(p, s, out);
                }
            }
            _ => {
                if let Some(s) = v.as_str() {
                    string(p, s, out);
                }
            }
        },
        Kind::Uri => {
            if let Some(s) = v.as_str() {
                out.push(entry(p, IndexValue::Uri(s.to_string())));
            }
        }
        Kind::Date => match ty {
            "Period" => {
                let lo = v["start"]
                    .as_str()
                    .and_then(date_range)
                    .map(|r| r.0)
                    .unwrap_or_else(|| "0001-01-01T00:00:00.000Z".into());
                let hi = v["end"]
                    .as_str()
                    .and_then(date_range)
                    .map(|r| r.1)
                    .unwrap_or_else(|| "9999-12-31T23:59:59.999Z".into());
                out.push(entry(p, IndexValue::Date { lo, hi }));
            }
            "Timing" => {
                for e in v["event"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if let Some(r) = date_range(e) {
                        out.push(date_entry(p, r));
                    }
                }
            }
            _ => {
                if let Some(r) = v.as_str().and_then(date_range) {
                    out.push(date_entry(p, r));
                }
            }
        },
        Kind::Number => {
            if let Some(n) = v.as_f64() {
                out.push(number_entry(p, n, None, None));
            }
        }
        Kind::Quantity => {
            if let Some(n) = v["value"].as_f64() {
                out.push(number_entry(
                    p,
                    n,
                    v["system"].as_str(),
                    v["code"].as_str().or(v["unit"].as_str()),
                ));
            } else if let Some(n) = v.as_f64() {
                out.push(number_entry(p, n, None, None));
            }
        }
        Kind::Reference => {
            if let Some(r) = v["reference"].as_str() {
                let r = r.split("/_history/").next().unwrap_or(r);
                let mut parts = r.rsplit('/');
                if let (Some(id), Some(t)) = (parts.next(), parts.next()) {
                    if !id.is_empty() && t.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                        out.push(entry(
                            p,
                            IndexValue::Reference {
                                target_type: t.to_string(),
                                id: id.to_string(),
                            },
                        ));
                    }
                }
            } else if let Some(s) = v.as_str() {
                // Canonical references: found by their URL, and by
                // URL|version when they name a version.
                let url = s.split('|').next().unwrap_or(s);
                out.push(entry(p, IndexValue::Uri(url.to_string())));
                if url.len() < s.len() {
                    out.push(entry(p, IndexValue::Uri(s.to_string())));
                }
            }
            if let Some(i) = v.get("identifier") {
                out.push(IndexEntry {
                    param: format!("{}:identifier", p.code),
                    value: IndexValue::Token {
                        system: i["system"].as_str().map(str::to_string),
                        code: i["value"].as_str().map(str::to_string),
                        text: None,
                    },
                });
            }
        }
        Kind::Other => {}
    }
}
