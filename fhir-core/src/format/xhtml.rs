//! The rules for narrative XHTML (R4 `narrative.html`, invariants `txt-1`
//! and `txt-2`), decided by allow-lists.
//!
//! A narrative is shown to people by systems that render it as HTML, so
//! what it may contain is what the specification lists, and nothing else:
//! "only the basic html formatting elements and attributes described in
//! chapters 7-11 (except section 4 of chapter 9) and 15 of the HTML 4.0
//! standard, `<a>` elements (either name or href), images and internally
//! contained style attributes" (`txt-1`), with "some non-whitespace
//! content" (`txt-2`). An element or attribute not on these lists is
//! refused whatever it is called, so new spellings of active content
//! (event handlers in any case or after any whitespace, `<svg>`,
//! `<math>`, elements of another namespace) need no new rule.
//!
//! Attribute values are read after XML decoding (`&#106;` is `j`), and
//! URLs are judged by their scheme the way browsers find it: leading
//! spaces and control characters are skipped and tabs and line breaks
//! inside are ignored (WHATWG URL), and only schemes that fetch or name
//! content (`http`, `https`, `mailto`, …) are allowed, images also taking
//! `data:image/…`. Style attributes may not use CSS escapes (which can
//! spell any of this), `expression()`, or `url()` with another scheme.
//!
//! The nesting, size and character limits of [`super::limits`] are
//! checked first, without recursion, so any narrative is safe to check.
//!
//! # Examples
//! ```
//! use fhir_core::format::xhtml::{check, Rule};
//! let ok = r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>Carer <b>Ann</b></p></div>"#;
//! assert!(check(ok).is_empty());
//! let bad = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><img src=\"x.png\"\tonerror=\"alert(1)\"/></div>";
//! let problems = check(bad);
//! assert_eq!(problems[0].rule, Rule::Txt1);
//! assert!(problems[0].message.contains("onerror"));
//! ```

use roxmltree::{Document, Node, NodeType, ParsingOptions};

use super::xml_scan;

/// The XHTML namespace, the only one a narrative's elements may be in.
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The elements a narrative may use: HTML 4.0 chapters 7 (`div`, `span`,
/// headings, `address`), 8 (`bdo`), 9 without its section 4 (`ins` and
/// `del`), 10 (lists), 11 (tables) and 15 (font style and rules, without
/// the deprecated `u`, `s`, `strike`, `font`, `basefont` and `center`),
/// `a`, and images (`img`, with `map` and `area`).
const ELEMENTS: &[&str] = &[
    // Chapter 7.
    "div",
    "span",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "address",
    // Chapter 8.
    "bdo",
    // Chapter 9, less section 4.
    "em",
    "strong",
    "dfn",
    "code",
    "samp",
    "kbd",
    "var",
    "cite",
    "abbr",
    "acronym",
    "blockquote",
    "q",
    "sub",
    "sup",
    "p",
    "br",
    "pre",
    // Chapter 10.
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    // Chapter 11.
    "table",
    "caption",
    "thead",
    "tfoot",
    "tbody",
    "colgroup",
    "col",
    "tr",
    "th",
    "td",
    // Chapter 15.
    "tt",
    "i",
    "b",
    "big",
    "small",
    "hr",
    // Links and images.
    "a",
    "img",
    "map",
    "area",
];

/// Attributes any allowed element may carry: HTML 4.0's core and
/// language attributes, keyboard access, and the table and alignment
/// attributes of chapters 11 and 15 (which the HL7 validator also accepts
/// on any element).
const COMMON_ATTRIBUTES: &[&str] = &[
    "id",
    "class",
    "style",
    "title",
    "lang",
    "dir",
    "accesskey",
    "tabindex",
    "span",
    "width",
    "align",
    "valign",
    "char",
    "charoff",
    "abbr",
    "axis",
    "headers",
    "scope",
    "rowspan",
    "colspan",
];

/// Attributes allowed on one element only.
const ELEMENT_ATTRIBUTES: &[(&str, &str)] = &[
    ("a", "href"),
    ("a", "name"),
    ("a", "charset"),
    ("a", "type"),
    ("a", "hreflang"),
    ("a", "rel"),
    ("a", "rev"),
    ("a", "shape"),
    ("a", "coords"),
    ("img", "src"),
    ("img", "alt"),
    ("img", "longdesc"),
    ("img", "height"),
    ("img", "usemap"),
    ("img", "ismap"),
    ("img", "border"),
    ("map", "name"),
    ("area", "shape"),
    ("area", "coords"),
    ("area", "href"),
    ("area", "nohref"),
    ("area", "alt"),
    ("blockquote", "cite"),
    ("q", "cite"),
    ("table", "summary"),
    ("table", "border"),
    ("table", "frame"),
    ("table", "rules"),
    ("table", "cellspacing"),
    ("table", "cellpadding"),
];

/// Attributes whose value is a URL.
const URL_ATTRIBUTES: &[&str] = &["href", "src", "cite", "longdesc", "usemap"];

/// URL schemes that name or fetch content and cannot run anything.
const SCHEMES: &[&str] = &["http", "https", "ftp", "mailto", "tel", "urn", "cid", "mid"];

/// Which rule a [`Problem`] breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The text is not well-formed XML, or exceeds a limit of
    /// [`super::limits`].
    WellFormed,
    /// The root is not an XHTML `div`.
    Root,
    /// `txt-1`: an element, attribute or URL the narrative rules do not
    /// allow.
    Txt1,
    /// `txt-2`: no non-whitespace content.
    Txt2,
}

/// One breach of the narrative rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The rule broken.
    pub rule: Rule,
    /// What is wrong, naming the element or attribute.
    pub message: String,
}

impl Problem {
    fn new(rule: Rule, message: impl Into<String>) -> Problem {
        Problem {
            rule,
            message: message.into(),
        }
    }
}

/// Checks one narrative `div` (its XHTML as text) against every rule;
/// an empty list means it passes.
///
/// # Examples
/// ```
/// use fhir_core::format::xhtml::check;
/// let link = r#"<div xmlns="http://www.w3.org/1999/xhtml"><a href="&#106;avascript:go()">x</a></div>"#;
/// assert!(check(link)[0].message.contains("javascript"));
/// ```
pub fn check(div: &str) -> Vec<Problem> {
    let doc = match parse(div) {
        Ok(d) => d,
        Err(message) => return vec![Problem::new(Rule::WellFormed, message)],
    };
    let mut problems = Vec::new();
    let root = doc.root_element();
    if root.tag_name().name() != "div" || root.tag_name().namespace() != Some(XHTML_NS) {
        problems.push(Problem::new(
            Rule::Root,
            "Wrong namespace or name on the XHTML root: it must be a div in http://www.w3.org/1999/xhtml",
        ));
    }
    for node in root.descendants() {
        match node.node_type() {
            NodeType::Element => element(node, &mut problems),
            NodeType::PI => problems.push(Problem::new(
                Rule::Txt1,
                "The narrative may not hold processing instructions",
            )),
            _ => {}
        }
    }
    let has_content = root.descendants().any(|n| {
        (n.is_text() && !n.text().unwrap_or("").trim().is_empty())
            || (n.has_tag_name((XHTML_NS, "img")) && n.attribute("src").is_some())
    });
    if !has_content {
        problems.push(Problem::new(
            Rule::Txt2,
            "The narrative SHALL have some non-whitespace content",
        ));
    }
    problems
}

/// A narrative's XHTML as a tree, once it is known to be within the
/// limits (so that roxmltree's recursion is bounded), or why it is not.
pub(crate) fn parse(div: &str) -> Result<Document<'_>, String> {
    xml_scan::scan(div, xml_scan::NARRATIVE).map_err(|e| e.to_string())?;
    let options = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(div, options).map_err(|e| e.to_string())
}

/// Whether a narrative passes `txt-1`: well-formed, an XHTML `div`, and
/// only allowed elements, attributes and URLs. (`txt-2`, content, is not
/// part of this.)
///
/// # Examples
/// ```
/// use fhir_core::format::xhtml::passes_txt1;
/// assert!(passes_txt1(r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>ok</p></div>"#));
/// assert!(!passes_txt1(r#"<div xmlns="http://www.w3.org/1999/xhtml"><svg onload="x()"/></div>"#));
/// ```
pub fn passes_txt1(div: &str) -> bool {
    check(div).iter().all(|p| p.rule == Rule::Txt2)
}

fn element(node: Node, problems: &mut Vec<Problem>) {
    let name = node.tag_name().name();
    if node.tag_name().namespace() != Some(XHTML_NS) {
        problems.push(Problem::new(
            Rule::Txt1,
            format!(
                "The narrative may only use XHTML elements, not '{name}' in namespace {}",
                node.tag_name().namespace().unwrap_or("(none)")
            ),
        ));
        return;
    }
    if !ELEMENTS.contains(&name) {
        problems.push(Problem::new(
            Rule::Txt1,
            format!("The narrative may not use the element '{name}' (txt-1 allows HTML 4.0's formatting elements, links and images)"),
        ));
        return;
    }
    for attribute in node.attributes() {
        let local = attribute.name();
        let allowed = match attribute.namespace() {
            None => {
                COMMON_ATTRIBUTES.contains(&local)
                    || ELEMENT_ATTRIBUTES.contains(&(name, local))
                    || (name == "img" && local == "width")
            }
            Some(XML_NS) => local == "lang" || (local == "space" && name == "pre"),
            Some(_) => false,
        };
        if !allowed {
            problems.push(Problem::new(
                Rule::Txt1,
                format!("The narrative may not use the attribute '{local}' on '{name}'"),
            ));
            continue;
        }
        let value = attribute.value();
        if attribute.namespace().is_none() && URL_ATTRIBUTES.contains(&local) {
            let image = name == "img" && local == "src";
            if let Some(scheme) = refused_scheme(value, image) {
                problems.push(Problem::new(
                    Rule::Txt1,
                    format!(
                        "The narrative may not link to a '{scheme}:' URL ('{local}' on '{name}')"
                    ),
                ));
            }
        }
        if local == "style" {
            if let Some(why) = refused_style(value) {
                problems.push(Problem::new(
                    Rule::Txt1,
                    format!("The style on '{name}' {why}"),
                ));
            }
        }
    }
}

/// The scheme of a URL as a browser finds it, lower case; `None` for a
/// relative reference.
fn scheme_of(url: &str) -> Option<String> {
    // WHATWG URL: leading and trailing C0 controls and spaces are
    // stripped, and ASCII tabs and newlines anywhere are removed.
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let colon = cleaned.find(':')?;
    let scheme = &cleaned[..colon];
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

/// The scheme of `url` if the narrative may not use it.
fn refused_scheme(url: &str, image: bool) -> Option<String> {
    let scheme = scheme_of(url)?;
    if SCHEMES.contains(&scheme.as_str()) {
        return None;
    }
    if image && scheme == "data" {
        let rest = url.trim_matches(|c: char| c <= ' ');
        let media = rest.get(5..).unwrap_or("").to_ascii_lowercase();
        if media.starts_with("image/") {
            return None;
        }
    }
    Some(scheme)
}

/// Why a style attribute is refused, if it is.
fn refused_style(style: &str) -> Option<String> {
    if style.contains('\\') {
        return Some("uses a CSS escape, which can hide what it says".into());
    }
    let lower = style.to_ascii_lowercase();
    let compact: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("/*") {
        return Some("holds a CSS comment, which can hide what it says".into());
    }
    if compact.contains("expression(") {
        return Some("uses expression(), which runs script".into());
    }
    if compact.contains("behavior:") || compact.contains("-moz-binding") {
        return Some("attaches behaviour, which runs script".into());
    }
    let mut rest = compact.as_str();
    while let Some(i) = rest.find("url(") {
        rest = &rest[i + 4..];
        let end = rest.find(')').unwrap_or(rest.len());
        let target = rest[..end].trim_matches(|c| c == '"' || c == '\'');
        if let Some(scheme) = refused_scheme(target, true) {
            return Some(format!("refers to a '{scheme}:' URL"));
        }
        rest = &rest[end..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn div(inner: &str) -> String {
        format!("<div xmlns=\"{XHTML_NS}\">{inner}</div>")
    }

    fn txt1(inner: &str) -> Vec<String> {
        check(&div(inner))
            .into_iter()
            .filter(|p| p.rule == Rule::Txt1)
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn ordinary_narratives_pass() {
        for inner in [
            "<p>Carer: <b>Ann</b> <i>Jones</i></p>",
            "<table border=\"1\" cellpadding=\"2\"><tr><td colspan=\"2\" style=\"color: red\">x</td></tr></table>",
            "<a name=\"top\"/><a href=\"#top\">top</a> <a href=\"https://example.org/a?b=c\">x</a>",
            "<a href=\"Patient/1\">p</a> <a href=\"mailto:a@example.org\">m</a> <a href=\"urn:uuid:1\">u</a>",
            "<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"logo\"/>",
            "<pre xml:space=\"preserve\">a  b</pre><p xml:lang=\"en\" lang=\"en\">x</p>",
            "<!-- a comment --><ul><li>one</li></ul>",
        ] {
            assert_eq!(check(&div(inner)), vec![], "{inner}");
        }
    }

    #[test]
    fn event_handlers_are_refused_however_written() {
        for inner in [
            "<img src=\"x\"\tonerror=\"alert(1)\"/>",
            "<img src=\"x\"\nonerror=\"alert(1)\"/>",
            "<p ONCLICK=\"x()\">a</p>",
            "<p onmouseover = \"x()\">a</p>",
        ] {
            assert_eq!(txt1(inner).len(), 1, "{inner}");
        }
    }

    #[test]
    fn active_elements_are_refused() {
        for inner in [
            "<script>x()</script>",
            "<SCRIPT>x()</SCRIPT>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"x()\"/>",
            "<iframe src=\"https://example.org\"/>",
            "<form><input/></form>",
            "<object data=\"x\"/>",
            "<style>p{}</style>",
            "<u>deprecated</u>",
            "<x:script xmlns:x=\"http://www.w3.org/1999/xhtml\">x</x:script>",
        ] {
            assert!(!txt1(inner).is_empty(), "{inner}");
        }
    }

    #[test]
    fn script_urls_are_refused_after_decoding() {
        for inner in [
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"&#106;avascript:alert(1)\">x</a>",
            "<a href=\"&#x6A;&#x61;vascript:alert(1)\">x</a>",
            "<a href=\" java&#9;script:alert(1)\">x</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
            "<a href=\"vbscript:x\">x</a>",
            "<a href=\"data:text/html,&lt;script>x()&lt;/script>\">x</a>",
            "<img src=\"data:text/html;base64,PHNjcmlwdD4=\"/>",
            "<area href=\"javascript:x\" alt=\"a\"/>",
            "<blockquote cite=\"javascript:x\">q</blockquote>",
        ] {
            assert!(
                txt1(inner).iter().any(|m| m.contains("may not link")),
                "{inner}: {:?}",
                txt1(inner)
            );
        }
    }

    #[test]
    fn scripted_styles_are_refused() {
        for inner in [
            "<p style=\"background: url(javascript:x)\">a</p>",
            "<p style=\"background: url( 'javascript:x' )\">a</p>",
            "<p style=\"width: expression(alert(1))\">a</p>",
            "<p style=\"background: url(j\\61vascript:x)\">a</p>",
            "<p style=\"x: ex/**/pression(alert(1))\">a</p>",
        ] {
            assert_eq!(txt1(inner).len(), 1, "{inner}");
        }
        assert!(txt1("<p style=\"background: url(https://example.org/a.png)\">a</p>").is_empty());
    }

    #[test]
    fn wrong_root_and_no_content_are_reported() {
        let p = check("<p xmlns=\"http://www.w3.org/1999/xhtml\">x</p>");
        assert_eq!(p[0].rule, Rule::Root);
        let p = check(&div("  <br/> "));
        assert_eq!(
            p,
            vec![Problem::new(
                Rule::Txt2,
                "The narrative SHALL have some non-whitespace content"
            )]
        );
        assert!(check(&div("<img src=\"#pic\"/>")).is_empty());
    }

    #[test]
    fn deep_narratives_are_a_limit_not_a_crash() {
        let deep = div(&format!(
            "{}x{}",
            "<b>".repeat(100_000),
            "</b>".repeat(100_000)
        ));
        let p = check(&deep);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].rule, Rule::WellFormed);
        assert!(p[0].message.contains("MAX_XHTML_DEPTH"), "{}", p[0].message);
    }

    #[test]
    fn malformed_narratives_are_reported() {
        assert_eq!(check(&div("<b>x")).len(), 1);
        assert_eq!(
            check("<div xmlns=\"http://www.w3.org/1999/xhtml\">&#0;</div>")[0].rule,
            Rule::WellFormed
        );
    }
}
