//! Working around fhirbolt 0.4.0's XML reader and writer.
//!
//! Patching fhirbolt would mean vendoring its 22 MB of generated code, so its
//! XML defects are handled around it, here and only here:
//! - narrative XHTML (below);
//! - it rejects attributes on the root element other than `xmlns`, such as
//!   `xsi:schemaLocation` or an unused `xmlns:f` prefix, which FHIR XML
//!   tools write and the HL7 validator accepts: [`protect`] drops them;
//! - its writer writes an empty `<type/>` for a required element the
//!   resource lacks, which its reader then rejects: [`drop_empty_elements`].
//!
//! Narrative XHTML:
//! fhirbolt reads XML with text trimming on, so inside a narrative
//! `div` it drops the whitespace between words and tags (`<b>A</b> <i>B</i>`
//! loses its space), and it rewrites the `div` start tag without its other
//! attributes. So each narrative `div` is swapped for a placeholder before
//! fhirbolt reads the text, and its exact original XHTML is put back into
//! the JSON form afterwards. Its XML writer has the mirror defect (it
//! indents inside the narrative), so writing swaps each div for a
//! placeholder in the JSON form and puts the exact XHTML into the output.

use roxmltree::Document;
use serde_json::Value;

use crate::error::{Location, Result};

const FHIR_NS: &str = "http://hl7.org/fhir";
const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";
const MARK: &str = "carer-fhir-narrative-";

/// Prepares XML text for fhirbolt's reader: replaces every narrative `div`
/// (an XHTML `div` whose parent is a FHIR element) with a placeholder div,
/// and drops root attributes fhirbolt cannot read. Returns the new text and
/// the original divs in placeholder order.
///
/// # Errors
/// [`crate::ErrorKind::Limit`] for a narrative nested deeper than
/// [`super::limits::MAX_XHTML_DEPTH`], as a JSON narrative would be.
pub fn protect(text: &str, doc: &Document) -> Result<(String, Vec<String>)> {
    let mut divs = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    if let Some((end, name, closing)) = root_tag_to_rewrite(text, doc) {
        let start = doc.root_element().range().start;
        out.push_str(&text[..start]);
        out.push_str(&format!("<{name} xmlns=\"{FHIR_NS}\"{closing}"));
        copied = end;
    }
    for node in doc.descendants() {
        let is_narrative = node.is_element()
            && node.tag_name().name() == "div"
            && node.tag_name().namespace() == Some(XHTML_NS)
            && node.parent_element().and_then(|p| p.tag_name().namespace()) == Some(FHIR_NS);
        if !is_narrative || node.range().start < copied {
            continue;
        }
        let range = node.range();
        if let Err(mut e) = super::xml_scan::scan(&text[range.clone()], super::xml_scan::NARRATIVE)
        {
            let pos = doc.text_pos_at(range.start);
            e.location = Location {
                path: Some(super::xml_compare::path_of(node)),
                line: Some(pos.row as usize),
                column: Some(pos.col as usize),
                file: None,
            };
            return Err(e);
        }
        out.push_str(&text[copied..range.start]);
        out.push_str(&placeholder(divs.len()));
        // XML 1.0 §2.11: a parser passes every line end on as a single
        // LF; the narrative, kept as raw text, must too.
        divs.push(
            own_namespace(&text[range.clone()])
                .replace("\r\n", "\n")
                .replace('\r', "\n"),
        );
        copied = range.end;
    }
    out.push_str(&text[copied..]);
    Ok((out, divs))
}

/// When the root element of a FHIR document carries attributes other than
/// the default namespace (and no element uses a prefix it declares), the
/// end of its start tag, its name and how the tag closes (`>` or `/>`).
fn root_tag_to_rewrite<'t>(
    text: &'t str,
    doc: &Document,
) -> Option<(usize, &'t str, &'static str)> {
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(FHIR_NS) {
        return None;
    }
    let extra_ns: Vec<&str> = root.namespaces().filter_map(|ns| ns.name()).collect();
    if root.attributes().len() == 0 && extra_ns.is_empty() {
        return None;
    }
    if extra_ns.iter().any(|p| text.contains(&format!("<{p}:"))) {
        return None;
    }
    let start = root.range().start;
    let mut quote = None;
    for (i, c) in text[start..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => {
                let end = start + i + 1;
                let closing = if text[..end].ends_with("/>") {
                    "/>"
                } else {
                    ">"
                };
                let name = text[start + 1..]
                    .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
                    .next()?;
                return Some((end, name, closing));
            }
            _ => {}
        }
    }
    None
}

/// Drops the empty elements (`<type/>`, alone on a line) that fhirbolt's
/// pretty writer emits for absent required elements. FHIR XML gives an
/// element with neither attributes nor children no meaning, and narrative
/// XHTML (where `<br/>` is meaningful) is behind placeholders when this runs.
pub fn drop_empty_elements(xml: &str) -> String {
    let is_empty_element = |line: &str| {
        let t = line.trim();
        t.strip_prefix('<')
            .and_then(|r| r.strip_suffix("/>"))
            .is_some_and(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()))
    };
    if !xml.lines().any(is_empty_element) {
        return xml.to_string();
    }
    let mut out = String::with_capacity(xml.len());
    for line in xml.split_inclusive('\n').filter(|l| !is_empty_element(l)) {
        out.push_str(line);
    }
    out
}

/// A narrative div in JSON must declare the XHTML namespace itself; one that
/// inherited it from an enclosing element gets the declaration added.
fn own_namespace(div: &str) -> String {
    let head_end = div.find('>').unwrap_or(div.len());
    if div[..head_end].contains("xmlns=") {
        div.to_string()
    } else {
        format!("<div xmlns=\"{XHTML_NS}\"{}", &div[4..])
    }
}

/// Puts the original divs back in place of their placeholders.
pub fn restore(value: &mut Value, divs: &[String]) {
    match value {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if k == "div" {
                    if let Some(i) = v.as_str().and_then(placeholder_index) {
                        if let Some(original) = divs.get(i) {
                            *v = Value::String(original.clone());
                            continue;
                        }
                    }
                }
                restore(v, divs);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| restore(v, divs)),
        _ => {}
    }
}

/// Swaps each narrative div string of a JSON-form resource for a
/// placeholder, returning the originals in placeholder order.
pub fn protect_json(value: &mut Value) -> Vec<String> {
    let mut divs = Vec::new();
    protect_json_into(value, &mut divs);
    divs
}

fn protect_json_into(value: &mut Value, divs: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if k == "div" {
                    if let Value::String(s) = v {
                        let original = std::mem::replace(s, placeholder(divs.len()));
                        divs.push(original);
                        continue;
                    }
                }
                protect_json_into(v, divs);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| protect_json_into(v, divs)),
        _ => {}
    }
}

/// Replaces each placeholder div in written XML by its original XHTML.
pub fn restore_xml(xml: &str, divs: &[String]) -> String {
    let mut out = String::with_capacity(xml.len() + divs.iter().map(String::len).sum::<usize>());
    let mut rest = xml;
    for (i, div) in divs.iter().enumerate() {
        let mark = format!("{MARK}{i}<");
        let Some(at) = rest.find(&mark) else { continue };
        let Some(start) = rest[..at].rfind("<div") else {
            continue;
        };
        let Some(end) = rest[at..].find("</div>").map(|e| at + e + "</div>".len()) else {
            continue;
        };
        out.push_str(&rest[..start]);
        out.push_str(div);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn placeholder(i: usize) -> String {
    format!("<div xmlns=\"{XHTML_NS}\">{MARK}{i}</div>")
}

fn placeholder_index(div: &str) -> Option<usize> {
    let inner = div.strip_prefix(&format!("<div xmlns=\"{XHTML_NS}\">{MARK}"))?;
    inner.strip_suffix("</div>")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_schema_location_is_dropped() {
        let xml = "<Parameters xmlns=\"http://hl7.org/fhir\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"a b\">\n<id value=\"x\"/></Parameters>";
        let doc = Document::parse(xml).unwrap();
        let (out, _) = protect(xml, &doc).unwrap();
        assert_eq!(
            out,
            "<Parameters xmlns=\"http://hl7.org/fhir\">\n<id value=\"x\"/></Parameters>"
        );
    }

    #[test]
    fn empty_elements_are_dropped() {
        assert_eq!(
            drop_empty_elements("<B>\n  <type/>\n  <id value=\"1\"/>\n</B>"),
            "<B>\n  <id value=\"1\"/>\n</B>"
        );
    }

    #[test]
    fn protects_and_restores_whitespace() {
        let xml = "<Basic xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><b>A</b> <i>B</i>\n</div></text></Basic>";
        let doc = Document::parse(xml).unwrap();
        let (protected, divs) = protect(xml, &doc).unwrap();
        assert!(protected.contains(MARK));
        assert_eq!(divs.len(), 1);
        let mut v = serde_json::json!({"text": {"div": format!("<div xmlns=\"{XHTML_NS}\">{MARK}0</div>")}});
        restore(&mut v, &divs);
        assert_eq!(
            v["text"]["div"],
            "<div xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><b>A</b> <i>B</i>\n</div>"
        );
    }
}
