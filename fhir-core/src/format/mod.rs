//! Reading and writing FHIR R4 resources as JSON and XML.
//!
//! All parsing goes through fhirbolt (via the `fhir-model` crate), which knows
//! the R4 model: which elements exist, which repeat, which are primitives.
//! The rest of `fhir-core` works on the JSON form as a [`serde_json::Value`],
//! which is what FHIRPath, validation and storage need.
//!
//! fhirbolt is a parser, not a validator: it accepts bad codes and dates, and
//! it rejects a resource that lacks a required element, which is a
//! validation matter. This module therefore reads leniently about required
//! elements (checking that nothing was lost) and leaves cardinality to the
//! validator. See the [`parse_typed`] notes for the defects it works around.
//!
//! Every reader keeps to the [`limits`] (nesting, counts, string length)
//! and refuses what FHIR forbids and plain parsers accept (duplicate JSON
//! properties, control characters, `fhir_comments`) before fhirbolt sees
//! the input; [`xhtml`] holds the narrative rules.

mod json_compare;
mod json_locate;
mod json_read;
mod lax;
pub mod limits;
pub mod xhtml;
mod xml_compare;
mod xml_quirks;
mod xml_scan;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Location, Result};
use fhir_model::Mode;
pub use fhir_model::Resource as TypedResource;

/// A FHIR wire format.
///
/// # Examples
/// ```
/// use fhir_core::format::Format;
/// assert_eq!(Format::Json.mime(), "application/fhir+json");
/// assert_eq!(Format::from_mime("application/fhir+xml; charset=utf-8"), Some(Format::Xml));
/// assert_eq!(Format::Xml.extension(), "xml");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// FHIR JSON (`application/fhir+json`).
    Json,
    /// FHIR XML (`application/fhir+xml`).
    Xml,
}

impl Format {
    /// The format a file name implies by its extension (`.json`, `.xml`).
    ///
    /// # Examples
    /// ```
    /// use fhir_core::format::Format;
    /// assert_eq!(Format::from_path("a/Patient-1.xml".as_ref()), Some(Format::Xml));
    /// assert_eq!(Format::from_path("notes.txt".as_ref()), None);
    /// ```
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }

    /// The format the content looks like, by its first non-blank character.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::format::Format;
    /// assert_eq!(Format::sniff("  {\"resourceType\":\"Patient\"}"), Some(Format::Json));
    /// assert_eq!(Format::sniff("<Patient/>"), Some(Format::Xml));
    /// ```
    pub fn sniff(text: &str) -> Option<Format> {
        match text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .chars()
            .next()?
        {
            '{' => Some(Format::Json),
            '<' => Some(Format::Xml),
            _ => None,
        }
    }

    /// The format named by a MIME type or a `_format` value: `json`,
    /// `application/fhir+json`, `application/json`, `xml`,
    /// `application/fhir+xml`, `text/xml`… Parameters such as
    /// `; charset=utf-8` are ignored.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::format::Format;
    /// assert_eq!(Format::from_mime("application/fhir+xml; charset=utf-8"), Some(Format::Xml));
    /// assert_eq!(Format::from_mime("json"), Some(Format::Json));
    /// ```
    pub fn from_mime(mime: &str) -> Option<Format> {
        let essence = mime.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "json"
            | "application/json"
            | "application/fhir+json"
            | "application/json+fhir"
            | "text/json" => Some(Format::Json),
            "xml"
            | "application/xml"
            | "application/fhir+xml"
            | "application/xml+fhir"
            | "text/xml" => Some(Format::Xml),
            _ => None,
        }
    }

    /// The FHIR MIME type of this format.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Json => "application/fhir+json",
            Format::Xml => "application/fhir+xml",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }
}

/// Reads one resource into fhirbolt's typed R4 model.
///
/// Works around fhirbolt 0.4.0's defects:
/// - its XML reader accepts only `encoding="UTF-8"` spelled in upper case;
///   any case of UTF-8 is accepted here (every UK Core file says `utf-8`);
/// - its XML reader trims whitespace inside narrative XHTML and rejects
///   `xsi:schemaLocation` on the root; see `xml_quirks`;
/// - its strict mode rejects a resource that lacks a required element (the
///   spec's Questionnaire examples lack `linkId`). Missing required elements
///   are a cardinality matter for the validator, so such input is re-read
///   leniently, and accepted only when nothing else in it was dropped.
///
/// # Errors
/// [`ErrorKind::Syntax`] for text that is not well-formed, and
/// [`ErrorKind::Structure`] for content that does not fit the R4 model; both
/// with the element path, and line and column where known.
///
/// # Examples
/// ```
/// use fhir_core::format::{parse_typed, Format};
/// let r = parse_typed(r#"{"resourceType":"Patient","birthDate":"1970-01-01"}"#, Format::Json);
/// assert!(r.is_ok());
/// let e = parse_typed(r#"{"resourceType":"Patient","birthDate":true}"#, Format::Json).unwrap_err();
/// assert_eq!(e.location.path.as_deref(), Some("Patient.birthDate"));
/// ```
pub fn parse_typed(text: &str, format: Format) -> Result<TypedResource> {
    limits::with_stack(|| match format {
        Format::Json => parse_json_typed(text),
        Format::Xml => parse_xml_typed(text),
    })
}

/// Reads one resource and returns its FHIR JSON form.
///
/// JSON input is returned as it was written (it has been checked to say
/// exactly what fhirbolt's reading of it says); XML input is returned in
/// fhirbolt's JSON form.
///
/// # Errors
/// As [`parse_typed`].
///
/// # Examples
/// ```
/// use fhir_core::format::{parse, Format};
/// let xml = r#"<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>"#;
/// let v = parse(xml, Format::Xml).unwrap();
/// assert_eq!(v["active"], serde_json::json!(true));
/// ```
pub fn parse(text: &str, format: Format) -> Result<Value> {
    limits::with_stack(|| match format {
        Format::Json => {
            let value = read_json(text)?;
            check_json_from(&value, Some(text)).map_err(|e| with_position(e, text))?;
            Ok(value)
        }
        Format::Xml => {
            let typed = parse_xml_typed(text)?;
            fhir_model::to_json_value(typed)
                .map_err(|e| Error::new(ErrorKind::Serialize, e.to_string()))
        }
    })
}

/// Reads FHIR JSON text into a [`Value`] under the rules FHIR JSON adds to
/// JSON and within the [`limits`], without checking it against the R4
/// model (the validator does that, element by element): the text is one
/// JSON object with a string `resourceType`, no object repeats a property,
/// no string holds a control character ([`limits::forbidden_char`]),
/// `fhir_comments` does not occur. A server that validates every body
/// reads JSON with this rather than with serde_json alone.
///
/// # Errors
/// [`ErrorKind::Syntax`] for text that is not JSON, [`ErrorKind::Structure`]
/// for a rule, [`ErrorKind::Limit`] for a limit; with line, column and
/// element path.
///
/// # Examples
/// ```
/// use fhir_core::format::read_json;
/// let v = read_json(r#"{"resourceType":"Patient","active":true}"#).unwrap();
/// assert_eq!(v["active"], true);
/// let e = read_json(r#"{"resourceType":"Patient","active":true,"active":false}"#).unwrap_err();
/// assert_eq!(e.location.path.as_deref(), Some("Patient.active"));
/// ```
pub fn read_json(text: &str) -> Result<Value> {
    let value = json_read::read(text)?;
    if !value.is_object() {
        return Err(Error::new(
            ErrorKind::Structure,
            "a FHIR resource must be a JSON object",
        ));
    }
    if !value.get("resourceType").is_some_and(Value::is_string) {
        return Err(Error {
            kind: ErrorKind::Structure,
            message: "not a FHIR resource: `resourceType` is missing or not a string".to_string(),
            location: Location::at_path("$.resourceType"),
        });
    }
    Ok(value)
}

/// Checks a JSON value against the R4 model and returns it normalised.
///
/// # Errors
/// [`ErrorKind::Structure`] when the value does not fit the model.
pub fn normalise(value: Value) -> Result<Value> {
    limits::with_stack(|| {
        limits::check_fhir_json(&value)?;
        let typed = check_json(&value)?;
        fhir_model::to_json_value(typed)
            .map_err(|e| Error::new(ErrorKind::Serialize, e.to_string()))
    })
}

/// Reads a JSON value into the typed model.
///
/// # Errors
/// [`ErrorKind::Structure`] when the value does not fit the model.
pub fn typed_from_value(value: &Value) -> Result<TypedResource> {
    limits::with_stack(|| {
        limits::check_value(value)?;
        check_json(value)
    })
}

/// Writes a typed resource as JSON or XML.
///
/// # Errors
/// [`ErrorKind::Serialize`] when fhirbolt cannot write the resource.
pub fn write_typed(resource: &TypedResource, format: Format, pretty: bool) -> Result<String> {
    limits::with_stack(|| match format {
        Format::Json => fhir_model::to_json_string(resource, pretty)
            .map_err(|e| Error::new(ErrorKind::Serialize, e.to_string())),
        Format::Xml => write_xml(resource),
    })
}

/// fhirbolt's XML writer indents inside narrative XHTML; the narrative is
/// written through placeholders so that it comes out exactly as it is held.
/// A string XML 1.0 cannot carry (a control character) is refused rather
/// than written into a document no XML reader accepts.
fn write_xml(resource: &TypedResource) -> Result<String> {
    let serialise = |e: String| Error::new(ErrorKind::Serialize, e);
    let mut value =
        fhir_model::to_json_value(resource.clone()).map_err(|e| serialise(e.to_string()))?;
    limits::check_fhir_json(&value).map_err(|mut e| {
        e.message = format!("cannot be written as XML: {}", e.message);
        e
    })?;
    let divs = xml_quirks::protect_json(&mut value);
    // A narrative goes into the XML as it is: one that is not well-formed
    // XHTML would make the whole document unreadable.
    if let Some(e) = divs.iter().find_map(|d| xhtml::parse(d).err()) {
        return Err(Error::new(
            ErrorKind::Serialize,
            format!("cannot be written as XML: a narrative is not well-formed XHTML: {e}"),
        ));
    }
    if divs.is_empty() {
        let xml = fhir_model::to_xml_string(resource).map_err(|e| serialise(e.to_string()))?;
        return Ok(xml_quirks::drop_empty_elements(&xml));
    }
    // fhirbolt's own output holds no unknown element, so lax mode (which
    // pads the required elements a resource may lack) cannot loop on it.
    let protected =
        fhir_model::from_json_value(value, Mode::Lax).map_err(|e| serialise(e.to_string()))?;
    let xml = fhir_model::to_xml_string(&protected).map_err(|e| serialise(e.to_string()))?;
    Ok(xml_quirks::restore_xml(
        &xml_quirks::drop_empty_elements(&xml),
        &divs,
    ))
}

/// Writes a resource held as JSON in the requested format.
///
/// JSON is written directly; XML goes through the typed model, which knows
/// how each element is spelt in XML.
///
/// # Errors
/// [`ErrorKind::Structure`] when the value is not an R4 resource (XML only),
/// [`ErrorKind::Serialize`] when it cannot be written.
///
/// # Examples
/// ```
/// use fhir_core::format::{write, Format};
/// let v = serde_json::json!({"resourceType": "Patient", "active": true});
/// let xml = write(&v, Format::Xml, false).unwrap();
/// assert!(xml.contains(r#"<active value="true"/>"#));
/// ```
pub fn write(value: &Value, format: Format, pretty: bool) -> Result<String> {
    match format {
        Format::Json => {
            let out = if pretty {
                serde_json::to_string_pretty(value)
            } else {
                serde_json::to_string(value)
            };
            out.map_err(|e| Error::new(ErrorKind::Serialize, e.to_string()))
        }
        Format::Xml => limits::with_stack(|| {
            limits::check_value(value)?;
            write_typed(&check_json(value)?, Format::Xml, pretty)
        }),
    }
}

/// Converts a resource from one format to another.
///
/// # Errors
/// As [`parse_typed`] and [`write_typed`].
///
/// # Examples
/// ```
/// use fhir_core::format::{convert, Format};
/// let xml = convert(r#"{"resourceType": "Patient", "active": true}"#, Format::Json, Format::Xml, false).unwrap();
/// assert!(xml.contains(r#"<active value="true"/>"#));
/// ```
pub fn convert(text: &str, from: Format, to: Format, pretty: bool) -> Result<String> {
    limits::with_stack(|| write_typed(&parse_typed(text, from)?, to, pretty))
}

fn parse_json_typed(text: &str) -> Result<TypedResource> {
    check_json_from(&read_json(text)?, Some(text)).map_err(|e| with_position(e, text))
}

/// Adds the line and column of the error's element path in the text.
fn with_position(mut e: Error, text: &str) -> Error {
    if e.location.line.is_none() {
        if let Some((line, column)) = e
            .location
            .path
            .as_deref()
            .and_then(|p| json_locate::position_of(text, p))
        {
            e.location.line = Some(line);
            e.location.column = Some(column);
        }
    }
    e
}

/// Reads a JSON value with fhirbolt and checks that its rewrite says exactly
/// what the input said. fhirbolt silently coerces some input (`"true"` to a
/// boolean, a lone object to an array) and, in lax mode, drops unknown
/// elements; any such difference is a structure error at the first element
/// that differs. Its errors carry no position, so this comparison is also
/// what locates them.
fn check_json(value: &Value) -> Result<TypedResource> {
    check_json_from(value, None)
}

/// [`check_json`], given the text `value` was read from when there is one:
/// fhirbolt then reads the text itself, which is faster than reading a
/// copy of the value. Its error, should it fail, is taken from the value
/// as without text, so that the message is the same either way.
fn check_json_from(value: &Value, text: Option<&str>) -> Result<TypedResource> {
    let root = root_path(value);
    // fhirbolt 0.4 panics on an empty array (its map reader unwraps a
    // value the empty sequence never gave); FHIR JSON forbids them anyway.
    check_no_empty_arrays(value)?;
    let from_text = text.and_then(|t| fhir_model::from_json_str(t, Mode::Strict).ok());
    let read = match from_text {
        Some(typed) => Ok(typed),
        None => fhir_model::from_json_value(value.clone(), Mode::Strict),
    };
    let (typed, strict_error) = match read {
        Ok(t) => (t, None),
        // Lax mode only for a missing required element, and under a
        // deadline: see `lax`.
        Err(strict) => match lax_if_only_missing(value, &strict.to_string()) {
            Some(Ok(lax)) => (lax, Some(strict.to_string())),
            other => {
                // An unknown element the element model found says more
                // than the missing element strict mode stopped at.
                let strict = match other {
                    Some(Err(names)) => names,
                    _ => strict.to_string(),
                };
                let (path, message) = json_compare::locate_message(value, &strict, &root);
                return Err(Error {
                    kind: ErrorKind::Structure,
                    message,
                    location: Location {
                        path,
                        ..Location::default()
                    },
                });
            }
        },
    };
    let written = fhir_model::to_json_value(typed.clone())
        .map_err(|e| Error::new(ErrorKind::Serialize, e.to_string()))?;
    // Equal values (the common case) need no walk that locates a
    // difference; `first_difference` also allows some that are not equal.
    let difference = if *value == written {
        None
    } else {
        json_compare::first_difference(value, &written, &root)
    };
    match difference {
        None => match strict_error {
            // Only required elements were missing: the validator reports those.
            Some(m) if !m.starts_with("missing field") => Err(Error {
                kind: ErrorKind::Structure,
                message: tidy_message(&m),
                location: Location::default(),
            }),
            _ => Ok(typed),
        },
        Some(diff) => Err(Error {
            kind: ErrorKind::Structure,
            message: match strict_error {
                Some(m) if !m.starts_with("missing field") => tidy_message(&m),
                _ => diff.describe(),
            },
            location: Location::at_path(diff.path),
        }),
    }
}

/// fhirbolt's lax reading, when strict mode's only complaint is a missing
/// required element and the element model finds no unknown element (lax
/// mode loops on those; see `lax`). An unknown element is returned as the
/// error to report instead.
fn lax_if_only_missing(
    value: &Value,
    strict: &str,
) -> Option<std::result::Result<TypedResource, String>> {
    if !strict.starts_with("missing field") {
        return None;
    }
    if let Err(e) = fhir_model::check_names_json(value.clone()) {
        return Some(Err(e.to_string()));
    }
    lax::json(value.clone())
}

/// Checks the FHIR JSON rule that no array is empty, which plain JSON
/// parsers do not know: servers that read bodies with `serde_json` call
/// this before anything else.
///
/// # Errors
/// [`ErrorKind::Structure`] at the first empty array.
///
/// # Examples
/// ```
/// use fhir_core::format::check_no_empty_arrays;
/// let v = serde_json::json!({"resourceType": "Patient", "name": [{"given": []}]});
/// let e = check_no_empty_arrays(&v).unwrap_err();
/// assert_eq!(e.location.path.as_deref(), Some("Patient.name[0].given"));
/// ```
pub fn check_no_empty_arrays(value: &Value) -> Result<()> {
    if !has_empty_array(value) {
        return Ok(());
    }
    match first_empty_array(value, &root_path(value)) {
        None => Ok(()),
        Some(path) => Err(Error {
            kind: ErrorKind::Structure,
            message: "an array must not be empty in FHIR JSON: leave the property out".into(),
            location: Location {
                path: Some(path),
                ..Location::default()
            },
        }),
    }
}

/// Whether `value` holds an empty array anywhere (paths are built only
/// when it does, by `first_empty_array`).
fn has_empty_array(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.is_empty() || items.iter().any(has_empty_array),
        Value::Object(map) => map.values().any(has_empty_array),
        _ => false,
    }
}

/// The FHIRPath-style path of the first empty array in `value`.
fn first_empty_array(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::Array(items) if items.is_empty() => Some(path.to_string()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| first_empty_array(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let key = k.strip_prefix('_').unwrap_or(k);
            first_empty_array(v, &format!("{path}.{key}"))
        }),
        _ => None,
    }
}

/// `path.name`, built without the formatting machinery (the validator's
/// walk makes one for every element it visits).
pub(crate) fn child_path(path: &str, name: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1 + name.len());
    out.push_str(path);
    out.push('.');
    out.push_str(name);
    out
}

/// `path[i]`, as [`child_path`].
pub(crate) fn indexed_path(path: &str, i: usize) -> String {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(i);
    let mut out = String::with_capacity(path.len() + 2 + digits.len());
    out.push_str(path);
    out.push('[');
    out.push_str(digits);
    out.push(']');
    out
}

fn root_path(value: &Value) -> String {
    value
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("$")
        .to_string()
}

fn json_error(kind: ErrorKind, e: &serde_json::Error, text: &str) -> Error {
    let (line, column) = (e.line(), e.column());
    Error {
        kind,
        message: tidy_message(&strip_position(&e.to_string())),
        location: Location {
            path: (line > 0).then(|| json_locate::path_at(text, line, column)),
            line: (line > 0).then_some(line),
            column: (line > 0).then_some(column),
            file: None,
        },
    }
}

/// serde_json appends " at line L column C"; the location carries that.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Rewrites serde's wording in FHIR terms and drops the 146-name lists that
/// serde appends to unknown-variant and unknown-field messages.
fn tidy_message(message: &str) -> String {
    let head = match message.find(", expected one of") {
        Some(i) => &message[..i],
        None => message,
    };
    if let Some(rest) = head.strip_prefix("unknown variant ") {
        format!("unknown resource type {rest}")
    } else if let Some(rest) = head.strip_prefix("unknown field ") {
        format!("unknown element {rest}")
    } else if let Some(rest) = head.strip_prefix("missing field ") {
        format!("missing required element {rest}")
    } else {
        head.to_string()
    }
}

fn parse_xml_typed(text: &str) -> Result<TypedResource> {
    let text = normalise_xml_declaration(text);
    // Limits first: roxmltree recurses by depth and checks attributes
    // pairwise, so it must not see what the flat scan refuses.
    xml_scan::scan(&text, xml_scan::DOCUMENT)?;
    // fhirbolt's XML errors carry no position; roxmltree's do, and its tree
    // also finds the narratives to protect and the elements errors name.
    let doc = roxmltree::Document::parse_with_options(
        &text,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            ..Default::default()
        },
    )
    .map_err(|e| {
        let pos = e.pos();
        Error {
            kind: ErrorKind::Syntax,
            message: e.to_string(),
            location: Location {
                line: Some(pos.row as usize),
                column: Some(pos.col as usize),
                ..Location::default()
            },
        }
    })?;
    let (protected, divs) = xml_quirks::protect(&text, &doc)?;
    let (typed, mode) = read_xml_model(&protected, &doc)?;
    if divs.is_empty() {
        return Ok(typed);
    }
    let mut value = fhir_model::to_json_value(typed)
        .map_err(|e| Error::new(ErrorKind::Serialize, e.to_string()))?;
    xml_quirks::restore(&mut value, &divs);
    fhir_model::from_json_value(value, mode)
        .map_err(|e| Error::new(ErrorKind::Structure, tidy_message(&e.to_string())))
}

/// fhirbolt's strict reading, or (when only required elements are missing)
/// its lax reading, accepted only if writing it back loses nothing the input
/// said. Returns the mode that succeeded.
fn read_xml_model(text: &str, doc: &roxmltree::Document) -> Result<(TypedResource, Mode)> {
    let mut strict = match fhir_model::from_xml_str(text, Mode::Strict) {
        Ok(r) => return Ok((r, Mode::Strict)),
        Err(e) => e.to_string(),
    };
    // Lax mode loops on an unknown element, so before it is used (below,
    // for a missing required element) the element model, which needs no
    // required element, must find every name known.
    if strict.starts_with("missing field") {
        if let Err(e) = fhir_model::check_names_xml(text) {
            strict = e.to_string();
        }
    }
    let message = tidy_message(&strict);
    let structure_error = |node: Option<roxmltree::Node>| {
        let mut e = Error::new(ErrorKind::Structure, message.clone());
        if let Some(node) = node {
            let pos = doc.text_pos_at(node.range().start);
            e.location.line = Some(pos.row as usize);
            e.location.column = Some(pos.col as usize);
            e.location.path = Some(xml_compare::path_of(node));
        }
        e
    };
    if !strict.starts_with("missing field") {
        let node = match strict
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
        {
            Some(name) => xml_compare::find_element(doc, name),
            None if strict.contains("text outside of div") => xml_compare::find_stray_text(doc),
            None => None,
        };
        return Err(structure_error(node));
    }
    let lax = match lax::xml(text.to_string()) {
        Some(Ok(r)) => r,
        _ => return Err(structure_error(None)),
    };
    let written = fhir_model::to_xml_string(&lax).map_err(|_| structure_error(None))?;
    match xml_compare::first_difference(text, &xml_quirks::drop_empty_elements(&written)) {
        None => Ok((lax, Mode::Lax)),
        Some(path) => {
            let mut e = structure_error(None);
            e.message = format!("element not allowed or malformed here ({message})");
            e.location.path = Some(path);
            Err(e)
        }
    }
}

/// fhirbolt accepts only `encoding="UTF-8"`; XML encoding names are
/// case-insensitive, and input reaching here is already Rust UTF-8 text, so
/// any spelling of UTF-8 is rewritten. A byte-order mark is dropped too.
fn normalise_xml_declaration(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.trim_start_matches('\u{feff}');
    let Some(end) = text.starts_with("<?xml").then(|| text.find("?>")).flatten() else {
        return text.into();
    };
    let decl = &text[..end];
    let lower = decl.to_ascii_lowercase();
    for quote in ['"', '\''] {
        let pattern = format!("encoding={quote}utf-8{quote}");
        if let Some(i) = lower.find(&pattern) {
            if decl[i..i + pattern.len()] != format!("encoding={quote}UTF-8{quote}") {
                let mut s = String::with_capacity(text.len());
                s.push_str(&text[..i]);
                s.push_str("encoding=\"UTF-8\"");
                s.push_str(&text[i + pattern.len()..]);
                return s.into();
            }
        }
    }
    text.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_arrays_are_errors_and_empty_objects_no_panic() {
        for text in [
            r#"{"resourceType":"Bundle","type":"searchset","entry":[]}"#,
            r#"{"resourceType":"Patient","name":[{"given":[]}]}"#,
            r#"{"resourceType":"Patient","_given":[]}"#,
        ] {
            let e = parse(text, Format::Json).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Structure, "{text}: {e}");
        }
        // Empty objects read (the validator reports them, ele-1); no panic.
        for text in [
            r#"{"resourceType":"Patient","name":[{}]}"#,
            r#"{"resourceType":"Patient","name":{}}"#,
            r#"{"resourceType":"Patient","_birthDate":{}}"#,
            r#"{"resourceType":"Patient","contained":[{}]}"#,
            r#"{"resourceType":"Patient","extension":[{"url":"x","valueString":null}]}"#,
        ] {
            let _ = parse(text, Format::Json);
        }
        let e = parse(
            r#"{"resourceType":"Patient","name":[{"given":[]}]}"#,
            Format::Json,
        )
        .unwrap_err();
        assert_eq!(e.location.path.as_deref(), Some("Patient.name[0].given"));
    }

    #[test]
    fn lowercase_utf8_declaration_is_accepted() {
        let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Patient xmlns=\"http://hl7.org/fhir\"><active value=\"true\"/></Patient>";
        let v = parse(xml, Format::Xml).unwrap();
        assert_eq!(v["resourceType"], "Patient");
    }

    #[test]
    fn unknown_resource_type_is_named_briefly() {
        let e = parse(r#"{"resourceType":"Carer"}"#, Format::Json).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Structure);
        assert!(
            e.message.starts_with("unknown resource type `Carer`"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("Account"));
    }

    #[test]
    fn unknown_element_is_located() {
        let e = parse(
            "{\"resourceType\":\"Patient\",\n \"name\":[{\"family\":\"X\",\"nickname\":\"Y\"}]}",
            Format::Json,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Structure);
        assert!(
            e.message.contains("unknown element `nickname`"),
            "{}",
            e.message
        );
        assert_eq!(e.location.path.as_deref(), Some("Patient.name[0].nickname"));
        assert_eq!(e.location.line, Some(2));
    }

    #[test]
    fn object_where_array_belongs_is_an_error() {
        let e = parse(
            r#"{"resourceType":"Patient","name":{"family":"X"}}"#,
            Format::Json,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Structure);
        assert_eq!(e.location.path.as_deref(), Some("Patient.name"));
    }

    #[test]
    fn malformed_json_is_a_syntax_error_with_position() {
        let e = parse(
            "{\"resourceType\": \"Patient\",\n  \"active\": tru }",
            Format::Json,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.location.line, Some(2));
    }

    #[test]
    fn malformed_xml_is_a_syntax_error_with_position() {
        let e = parse(
            "<Patient xmlns=\"http://hl7.org/fhir\">\n<active value=\"true\">\n</Patient>",
            Format::Xml,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert!(e.location.line.is_some());
    }

    #[test]
    fn missing_required_element_is_left_to_the_validator() {
        let q = r#"{"resourceType":"Questionnaire","status":"draft","item":[{"type":"string","text":"Name?"}]}"#;
        let v = parse(q, Format::Json).unwrap();
        assert_eq!(v["item"][0]["text"], "Name?");
        assert!(v["item"][0].get("linkId").is_none());
    }

    #[test]
    fn missing_required_element_does_not_hide_unknown_element() {
        let q = r#"{"resourceType":"Questionnaire","status":"draft","item":[{"type":"string","bogus":1}]}"#;
        let e = parse(q, Format::Json).unwrap_err();
        assert_eq!(
            e.location.path.as_deref(),
            Some("Questionnaire.item[0].bogus")
        );
    }

    #[test]
    fn unknown_xml_element_is_located() {
        let xml = "<Patient xmlns=\"http://hl7.org/fhir\">\n<name><family value=\"X\"/><nickname value=\"Y\"/></name></Patient>";
        let e = parse(xml, Format::Xml).unwrap_err();
        assert!(
            e.message.contains("unknown element `nickname`"),
            "{}",
            e.message
        );
        assert_eq!(e.location.path.as_deref(), Some("Patient.name.nickname"));
        assert_eq!(e.location.line, Some(2));
    }

    #[test]
    fn stray_xml_text_is_located() {
        let xml = "<CodeSystem xmlns=\"http://hl7.org/fhir\">\n<concept><code value=\"1\"/></concept>c\n</CodeSystem>";
        let e = parse(xml, Format::Xml).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Structure);
        assert_eq!(e.location.line, Some(2));
        assert_eq!(e.location.path.as_deref(), Some("CodeSystem"));
    }

    #[test]
    fn narrative_whitespace_survives_xml() {
        let xml = "<Basic xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\"><b>A</b> <i>B</i></div></text><code><text value=\"x\"/></code></Basic>";
        let v = parse(xml, Format::Xml).unwrap();
        assert_eq!(
            v["text"]["div"],
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><b>A</b> <i>B</i></div>"
        );
    }

    #[test]
    fn decimals_keep_their_precision() {
        let o = r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50}}"#;
        let v = parse(o, Format::Json).unwrap();
        assert_eq!(
            serde_json::to_string(&v["valueQuantity"]["value"]).unwrap(),
            "1.50"
        );
        let xml = write(&v, Format::Xml, false).unwrap();
        assert!(xml.contains("value=\"1.50\""), "{xml}");
    }
}
