//! The parts of an R4 TestScript the runner reads, as plain structs
//! deserialised from the script's FHIR JSON (XML scripts are converted to
//! JSON first by `fhir-core`). Elements the runner does not use are ignored.

use serde::Deserialize;
use serde_json::Value;

/// A TestScript.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TestScript {
    /// Logical id.
    pub id: Option<String>,
    /// Canonical URL.
    pub url: Option<String>,
    /// Computer-friendly name.
    pub name: Option<String>,
    /// Human-friendly title.
    pub title: Option<String>,
    /// Contained resources (fixtures referenced as `#id`).
    pub contained: Vec<Value>,
    /// Fixtures: resources sent or compared.
    pub fixture: Vec<Fixture>,
    /// Profiles that `validateProfileId` assertions name.
    pub profile: Vec<Reference>,
    /// Variables, evaluated when used.
    pub variable: Vec<Variable>,
    /// Actions before the tests.
    pub setup: Option<Phase>,
    /// The tests.
    pub test: Vec<Test>,
    /// Actions after the tests (always run).
    pub teardown: Option<Phase>,
}

impl TestScript {
    /// The name to show: title, name, id, or `fallback`.
    pub fn display_name(&self, fallback: &str) -> String {
        self.title
            .clone()
            .or_else(|| self.name.clone())
            .or_else(|| self.id.clone())
            .unwrap_or_else(|| fallback.to_string())
    }
}

/// A reference with an optional element id (`TestScript.profile` and
/// `fixture.resource`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Reference {
    /// Element id (how `validateProfileId` names a profile).
    pub id: Option<String>,
    /// The reference: a path relative to the script, `#contained`, or a
    /// canonical URL for profiles.
    pub reference: Option<String>,
}

/// An extension (only `url` and a few value types are read).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Extension {
    /// What the extension means.
    pub url: String,
    /// Integer value.
    pub value_integer: Option<i64>,
}

/// A fixture.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Fixture {
    /// The id operations and assertions use.
    pub id: Option<String>,
    /// Create it on the server before setup.
    pub autocreate: bool,
    /// Delete it from the server after teardown.
    pub autodelete: bool,
    /// Where its content is.
    pub resource: Option<Reference>,
    /// Runner extensions (see [`super::load::PAD_TO_BYTES`]).
    pub extension: Vec<Extension>,
}

/// A variable.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Variable {
    /// `${name}` in operations and assertions.
    pub name: String,
    /// The value when nothing else gives one.
    pub default_value: Option<String>,
    /// FHIRPath on the source fixture's body.
    pub expression: Option<String>,
    /// A header of the source's response.
    pub header_field: Option<String>,
    /// A simple XPath or JSON path (translated to FHIRPath).
    pub path: Option<String>,
    /// The fixture (or response) it is read from.
    pub source_id: Option<String>,
}

/// Setup or teardown.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Phase {
    /// Its actions in order.
    pub action: Vec<Action>,
}

/// A test.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Test {
    /// Element id.
    pub id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// What it tests.
    pub description: Option<String>,
    /// Its actions in order.
    pub action: Vec<Action>,
}

/// One action: an operation or an assertion.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Action {
    /// A request.
    pub operation: Option<Operation>,
    /// A check.
    pub assert: Option<Assert>,
}

/// A Coding (only system and code are read).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Coding {
    /// Code system.
    pub system: Option<String>,
    /// Code.
    pub code: Option<String>,
}

/// A request header of an operation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestHeader {
    /// Header name.
    pub field: String,
    /// Header value (variables substituted).
    pub value: String,
}

/// An operation: a request to the server.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Operation {
    /// The interaction (testscript-operation-codes).
    #[serde(rename = "type")]
    pub kind: Option<Coding>,
    /// Resource type.
    pub resource: Option<String>,
    /// Tracking label.
    pub label: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Accept: `json`, `xml` or a MIME type.
    pub accept: Option<String>,
    /// Content-Type of the body: `json`, `xml`, `none` or a MIME type.
    pub content_type: Option<String>,
    /// Whether to percent-encode the URL (default true).
    pub encode_request_url: Option<bool>,
    /// HTTP method, overriding the interaction's.
    pub method: Option<String>,
    /// Path and query after the resource type (`/${id}`, `?name=x`).
    pub params: Option<String>,
    /// Extra request headers.
    pub request_header: Vec<RequestHeader>,
    /// Fixture id under which the request is kept.
    pub request_id: Option<String>,
    /// Fixture id under which the response is kept.
    pub response_id: Option<String>,
    /// Fixture sent as the body.
    pub source_id: Option<String>,
    /// Fixture whose type and id (and version) make the URL.
    pub target_id: Option<String>,
    /// The whole URL (absolute, or relative to the server base).
    pub url: Option<String>,
}

impl Operation {
    /// An operation of interaction `code` (testscript-operation-codes)
    /// and nothing else set.
    pub fn interaction(code: &str) -> Operation {
        Operation {
            kind: Some(Coding {
                system: Some(
                    "http://terminology.hl7.org/CodeSystem/testscript-operation-codes".into(),
                ),
                code: Some(code.into()),
            }),
            ..Operation::default()
        }
    }
}

/// An assertion.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Assert {
    /// Tracking label.
    pub label: Option<String>,
    /// What it checks.
    pub description: Option<String>,
    /// `response` (default) or `request`.
    pub direction: Option<String>,
    /// Fixture the source is compared to.
    pub compare_to_source_id: Option<String>,
    /// FHIRPath on the compare-to fixture.
    pub compare_to_source_expression: Option<String>,
    /// Simple path on the compare-to fixture.
    pub compare_to_source_path: Option<String>,
    /// Expected content type.
    pub content_type: Option<String>,
    /// FHIRPath on the source.
    pub expression: Option<String>,
    /// A header of the source's response (or request).
    pub header_field: Option<String>,
    /// Fixture the source must contain at least.
    pub minimum_id: Option<String>,
    /// Check the Bundle's navigation links.
    pub navigation_links: Option<bool>,
    /// How to compare (default `equals`).
    pub operator: Option<String>,
    /// Simple XPath or JSON path on the source.
    pub path: Option<String>,
    /// Expected request method.
    pub request_method: Option<String>,
    /// Expected request URL.
    #[serde(rename = "requestURL")]
    pub request_url: Option<String>,
    /// Expected resource type.
    pub resource: Option<String>,
    /// Expected response class (`okay`, `created`, `bad`, …).
    pub response: Option<String>,
    /// Expected status code(s), comma-separated.
    pub response_code: Option<String>,
    /// Fixture (or response) checked, default the last response.
    pub source_id: Option<String>,
    /// `TestScript.profile` id the source must conform to.
    pub validate_profile_id: Option<String>,
    /// The value compared with.
    pub value: Option<String>,
    /// A failure is reported as a warning.
    pub warning_only: bool,
}
