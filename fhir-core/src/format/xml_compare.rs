//! Structural comparison of two FHIR XML documents.
//!
//! Used to check that a lenient read lost nothing: the input and fhirbolt's
//! rewrite of it must have the same elements, attributes and XHTML text,
//! ignoring comments, blank text and namespace declarations.

use roxmltree::{Document, Node};

/// The FHIRPath-style path of the first element of `input` that `written`
/// lacks or differs on, or `None` when they are equivalent. A document that
/// cannot be parsed differs at its root.
pub fn first_difference(input: &str, written: &str) -> Option<String> {
    let (Ok(a), Ok(b)) = (Document::parse(input), Document::parse(written)) else {
        return Some("$".to_string());
    };
    let (ra, rb) = (a.root_element(), b.root_element());
    compare(ra, rb, ra.tag_name().name().to_string())
}

fn compare(a: Node, b: Node, path: String) -> Option<String> {
    if a.tag_name() != b.tag_name() {
        return Some(path);
    }
    let attrs = |n: Node| {
        let mut v: Vec<(String, String)> = n
            .attributes()
            .map(|at| (at.name().to_string(), at.value().to_string()))
            .collect();
        v.sort();
        v
    };
    if attrs(a) != attrs(b) {
        return Some(path);
    }
    let (ka, kb) = (significant_children(a), significant_children(b));
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, ca) in ka.iter().enumerate() {
        let name = ca.tag_name().name();
        let n = seen.entry(name).or_default();
        let child_path = if ca.is_text() {
            path.clone()
        } else {
            format!("{path}.{name}[{n}]")
        };
        *n += 1;
        let Some(cb) = kb.get(i) else {
            return Some(child_path);
        };
        if ca.is_text() {
            if !cb.is_text() || ca.text().map(str::trim) != cb.text().map(str::trim) {
                return Some(child_path);
            }
        } else if let Some(p) = compare(*ca, *cb, child_path) {
            return Some(p);
        }
    }
    (ka.len() != kb.len()).then_some(path)
}

/// The first element (document order) with this local name.
pub fn find_element<'a, 'i>(doc: &'a Document<'i>, name: &str) -> Option<Node<'a, 'i>> {
    doc.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

/// The first non-blank text directly inside a FHIR element (FHIR XML keeps
/// values in attributes, so such text is an error).
pub fn find_stray_text<'a, 'i>(doc: &'a Document<'i>) -> Option<Node<'a, 'i>> {
    doc.descendants().find(|n| {
        n.is_text()
            && !n.text().unwrap_or("").trim().is_empty()
            && n.parent_element().and_then(|p| p.tag_name().namespace())
                == Some("http://hl7.org/fhir")
    })
}

/// FHIRPath-style path of an element: its ancestors' names from the root,
/// with an index where an element has same-named siblings.
pub fn path_of(node: Node) -> String {
    let mut parts = Vec::new();
    for n in node.ancestors().filter(|n| n.is_element()) {
        if n.is_text() {
            continue;
        }
        let name = n.tag_name().name();
        let same: Vec<_> = n
            .parent()
            .map(|p| {
                p.children()
                    .filter(|c| c.is_element() && c.tag_name().name() == name)
                    .collect()
            })
            .unwrap_or_default();
        if same.len() > 1 && n.parent().is_some_and(|p| p.is_element()) {
            let i = same.iter().position(|c| *c == n).unwrap_or(0);
            parts.push(format!("{name}[{i}]"));
        } else {
            parts.push(name.to_string());
        }
    }
    parts.reverse();
    parts.join(".")
}

/// Child elements and non-blank text, skipping comments and indentation.
fn significant_children<'a, 'i>(n: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    n.children()
        .filter(|c| c.is_element() || (c.is_text() && !c.text().unwrap_or("").trim().is_empty()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn ignores_comments_and_whitespace() {
        let a = "<P xmlns=\"x\"><!-- c --><a value=\"1\"/>\n</P>";
        let b = "<P xmlns=\"x\"><a value=\"1\"/></P>";
        assert_eq!(first_difference(a, b), None);
    }

    #[test]
    fn finds_a_dropped_element() {
        let a = "<P xmlns=\"x\"><a value=\"1\"/><b value=\"2\"/></P>";
        let b = "<P xmlns=\"x\"><a value=\"1\"/></P>";
        assert_eq!(first_difference(a, b).as_deref(), Some("P.b[0]"));
    }
}
