//! A streaming pass over XML text that enforces the limits before any
//! tree is built.
//!
//! roxmltree (which checks well-formedness and gives the tree the rest of
//! this module reads) parses nested elements by recursion and checks each
//! attribute against every earlier one of the same element, so deep
//! nesting overflows its stack and many attributes cost quadratic time.
//! quick-xml's reader is a flat pull parser: this pass walks its events
//! once, counting depth, elements and attributes, and refuses the
//! document before roxmltree or fhirbolt see it. Well-formedness beyond
//! what the counting needs is left to roxmltree.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::limits::{self, MAX_ATTRIBUTES, MAX_ELEMENTS, MAX_EXTENSION_DEPTH, MAX_STRING_LENGTH};
use crate::error::{Error, ErrorKind, Location, Result};

/// What the text being scanned is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// The deepest element nesting allowed.
    pub max_depth: usize,
    /// The name of that limit's constant, for the message.
    pub depth_name: &'static str,
    /// What is nested, for the message.
    pub what: &'static str,
    /// The longest the whole text may be, in bytes.
    pub max_length: usize,
}

/// A FHIR XML document.
pub(crate) const DOCUMENT: Rules = Rules {
    max_depth: limits::MAX_XML_DEPTH,
    depth_name: "MAX_XML_DEPTH",
    what: "XML elements",
    max_length: usize::MAX,
};

/// One narrative `div`.
pub(crate) const NARRATIVE: Rules = Rules {
    max_depth: limits::MAX_XHTML_DEPTH,
    depth_name: "MAX_XHTML_DEPTH",
    what: "narrative XHTML elements",
    // A narrative is one primitive value (a string in JSON).
    max_length: MAX_STRING_LENGTH,
};

/// Scans `text` under `rules`.
///
/// # Errors
/// [`ErrorKind::Limit`] for a limit, [`ErrorKind::Structure`] for a
/// character XML 1.0 forbids, [`ErrorKind::Syntax`] where the text is too
/// broken to count; each with line and column, and the path of enclosing
/// elements where known.
pub(crate) fn scan(text: &str, rules: Rules) -> Result<()> {
    if text.len() > rules.max_length {
        return Err(limits::error(
            limits::too_long(text.len()),
            Location::default(),
        ));
    }
    if let Some((offset, c)) = limits::forbidden_char(text) {
        return Err(located(
            ErrorKind::Structure,
            limits::forbidden_char_message(c),
            text,
            offset,
            None,
        ));
    }
    let mut reader = Reader::from_str(text);
    // Names are matched by the tree later; here they only need to balance
    // so that depth is counted right.
    reader.config_mut().check_end_names = true;
    // Element local names from the root, and whether each is an extension.
    let mut open: Vec<(String, bool)> = Vec::new();
    let mut extensions = 0usize;
    let mut values = 0usize;
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let path = |open: &[(String, bool)], extra: Option<&str>| {
            let mut names: Vec<&str> = open.iter().map(|(n, _)| n.as_str()).collect();
            names.extend(extra);
            (!names.is_empty()).then(|| names.join("."))
        };
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(at);
                return Err(located(
                    ErrorKind::Syntax,
                    format!("not well-formed XML: {e}"),
                    text,
                    at,
                    path(&open, None),
                ));
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let fail =
                    |kind, message| Err(located(kind, message, text, at, path(&open, Some(&name))));
                if open.len() + 1 > rules.max_depth {
                    return fail(
                        ErrorKind::Limit,
                        limits::too_deep(rules.what, rules.max_depth, rules.depth_name),
                    );
                }
                let is_extension = limits::is_extension_key(&name);
                if extensions + usize::from(is_extension) > MAX_EXTENSION_DEPTH {
                    return fail(
                        ErrorKind::Limit,
                        limits::too_deep("extensions", MAX_EXTENSION_DEPTH, "MAX_EXTENSION_DEPTH"),
                    );
                }
                values += 1;
                let mut attributes = 0usize;
                for attribute in e.attributes().with_checks(false) {
                    let attribute = match attribute {
                        Ok(a) => a,
                        Err(err) => {
                            return fail(ErrorKind::Syntax, format!("not well-formed XML: {err}"))
                        }
                    };
                    attributes += 1;
                    values += 1;
                    if attributes > MAX_ATTRIBUTES {
                        return fail(ErrorKind::Limit, limits::too_many_attributes());
                    }
                    if attribute.value.len() > MAX_STRING_LENGTH {
                        return fail(ErrorKind::Limit, limits::too_long(attribute.value.len()));
                    }
                }
                if values > MAX_ELEMENTS {
                    return fail(ErrorKind::Limit, limits::too_many_elements());
                }
                if matches!(event, Event::Start(_)) {
                    extensions += usize::from(is_extension);
                    open.push((name, is_extension));
                }
            }
            Event::End(_) => {
                if let Some((_, was_extension)) = open.pop() {
                    extensions -= usize::from(was_extension);
                }
            }
            Event::Text(ref t) if t.len() > MAX_STRING_LENGTH => {
                return Err(located(
                    ErrorKind::Limit,
                    limits::too_long(t.len()),
                    text,
                    at,
                    path(&open, None),
                ));
            }
            Event::CData(ref t) if t.len() > MAX_STRING_LENGTH => {
                return Err(located(
                    ErrorKind::Limit,
                    limits::too_long(t.len()),
                    text,
                    at,
                    path(&open, None),
                ));
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// An error at a byte offset of `text`.
fn located(
    kind: ErrorKind,
    message: String,
    text: &str,
    offset: usize,
    path: Option<String>,
) -> Error {
    let (line, column) = line_column(text, offset);
    Error {
        kind,
        message,
        location: Location {
            path,
            line: Some(line),
            column: Some(column),
            file: None,
        },
    }
}

/// The 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(name: &str, n: usize) -> String {
        format!(
            "<Basic xmlns=\"http://hl7.org/fhir\">{}{}</Basic>",
            format!("<{name}>").repeat(n),
            format!("</{name}>").repeat(n)
        )
    }

    #[test]
    fn depth_is_limited_and_located() {
        assert!(scan(&nested("a", limits::MAX_XML_DEPTH - 1), DOCUMENT).is_ok());
        let e = scan(&nested("a", limits::MAX_XML_DEPTH), DOCUMENT).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Limit);
        assert!(e.message.contains("MAX_XML_DEPTH"), "{}", e.message);
        assert_eq!(e.location.line, Some(1));
        assert!(e.location.path.unwrap().starts_with("Basic.a.a"));
    }

    #[test]
    fn deep_documents_cost_no_stack() {
        // A million levels: the scan stops at the limit without recursion.
        let e = scan(&nested("a", 1_000_000), DOCUMENT).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Limit);
    }

    #[test]
    fn extensions_have_their_own_depth() {
        let xml = nested("extension", MAX_EXTENSION_DEPTH + 1);
        let e = scan(&xml, DOCUMENT).unwrap_err();
        assert!(e.message.contains("MAX_EXTENSION_DEPTH"), "{}", e.message);
        // Siblings do not add up.
        let siblings = format!(
            "<Basic xmlns=\"http://hl7.org/fhir\">{}</Basic>",
            "<extension url=\"u\"><valueString value=\"v\"/></extension>".repeat(100)
        );
        assert!(scan(&siblings, DOCUMENT).is_ok());
    }

    #[test]
    fn attributes_are_counted_per_element() {
        let many: String = (0..=MAX_ATTRIBUTES)
            .map(|i| format!(" a{i}=\"1\""))
            .collect();
        let e = scan(&format!("<Basic{many}/>"), DOCUMENT).unwrap_err();
        assert!(e.message.contains("MAX_ATTRIBUTES"), "{}", e.message);
    }

    #[test]
    fn forbidden_characters_are_located() {
        let e = scan("<a>\n  x\u{1}</a>", DOCUMENT).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Structure);
        assert_eq!((e.location.line, e.location.column), (Some(2), Some(4)));
    }
}
