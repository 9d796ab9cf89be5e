//! FHIRPath: the one engine that validation, search indexing and the carer
//! rules evaluate expressions with.
//!
//! Expressions are parsed once into an [`Expression`] and evaluated many
//! times over resources held as FHIR JSON (`serde_json::Value`). Type
//! knowledge (which elements a type has, what type each is, which type a
//! choice element `value[x]` holds) comes from a [`ModelInfo`] read from the
//! loaded StructureDefinitions; without one, navigation goes by JSON names.
//!
//! Why our own engine: of the maintained Rust crates, `octofhir-fhirpath`
//! 0.5 needs a newer rustc than this project's, and 0.4 evaluates through an
//! async API over its own model provider (pulling in tokio, axum and an LSP
//! server) and reports 88% of the official suite; `helios-fhirpath`
//! evaluates only over Helios's own model types. Validation evaluates
//! invariants millions of times synchronously over `serde_json::Value`, so
//! an evaluator over that form is written here; see ARCHITECTURE.md.
//!
//! # Examples
//! ```
//! use fhir_core::fhirpath::{Context, Expression};
//! let patient = serde_json::json!({
//!     "resourceType": "Patient",
//!     "name": [{"given": ["Ann", "Marie"], "family": "Jones"}]
//! });
//! let e = Expression::parse("Patient.name.given.count() = 2").unwrap();
//! assert_eq!(e.evaluate_boolean(&patient, &Context::default()).unwrap(), Some(true));
//! ```

mod boundary;
mod eval;
mod functions;
mod lexer;
mod model;
mod parser;
mod quantity;
mod temporal;
mod value;

use std::collections::HashMap;
use std::fmt;

use serde_json::{json, Value};

pub use functions::html_is_safe;
pub use model::{ElementInfo, ModelInfo, TypeInfo};
pub use parser::Expr;
pub use parser::MAX_DEPTH as MAX_EXPRESSION_DEPTH;
pub use quantity::Quantity;
pub use temporal::{Kind as TemporalKind, Precision, Temporal};
pub use value::{Collection, Item, Node};

/// The suffix a type gives a choice element's JSON name: `dateTime` →
/// `DateTime` (`valueDateTime`).
pub fn capitalise_type(ty: &str) -> String {
    eval::capitalise(ty)
}

use crate::package::Registry;

/// The text of an item as FHIRPath's `toString()` gives it: a primitive
/// element's value, `true`, `2`, `2.50`, `2024-01-02`, `5 'mg'`; `None` for
/// complex elements.
///
/// # Examples
/// ```
/// use fhir_core::fhirpath::{item_string, Context, Expression};
/// let p = serde_json::json!({"resourceType": "Patient", "birthDate": "1950-02-03"});
/// let r = Expression::parse("birthDate").unwrap().evaluate(&p, &Context::default()).unwrap();
/// assert_eq!(item_string(&r[0]).as_deref(), Some("1950-02-03"));
/// ```
pub fn item_string(item: &Item) -> Option<String> {
    item.to_system().and_then(|s| functions::to_string(&s))
}

/// An expression that is not valid FHIRPath, with where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub message: String,
    /// Byte offset in the expression.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

impl ParseError {
    pub(crate) fn at(src: &str, offset: usize, message: impl Into<String>) -> ParseError {
        let offset = offset.min(src.len());
        let before = &src[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        ParseError {
            message: message.into(),
            offset,
            line,
            column,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (line {}, column {})",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for ParseError {}

/// An expression that failed while evaluating (a singleton expected, an
/// unknown function, types that cannot be compared…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

/// What an evaluation may consult: type knowledge, conformance resources,
/// variables, and whether unknown elements are errors.
#[derive(Default)]
pub struct Context<'a> {
    /// Type knowledge; strongly recommended (polymorphic elements and type
    /// tests need it).
    pub model: Option<&'a ModelInfo>,
    /// Conformance resources, for `memberOf()`.
    pub registry: Option<&'a Registry>,
    /// Extra `%name` variables.
    pub variables: HashMap<String, Collection<'a>>,
    /// Navigating to an element the model says the type lacks is an error
    /// rather than empty.
    pub strict: bool,
}

/// A parsed FHIRPath expression, ready to evaluate many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    source: String,
    ast: Expr,
    /// The depth of `ast`, which the stack evaluation needs grows with.
    depth: usize,
}

/// Stack a parse or evaluation needs beyond its recursion.
const STACK_BASE: usize = 128 << 10;

/// Stack parsing takes per level of nesting, and evaluation per level of
/// the tree, at most (unoptimised builds; optimised ones take far less).
const STACK_PER_PARSE_LEVEL: usize = 8 << 10;
const STACK_PER_EVAL_LEVEL: usize = 16 << 10;

impl Expression {
    /// Parses an expression.
    ///
    /// # Errors
    /// [`ParseError`] with the position of the first problem.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::fhirpath::Expression;
    /// assert!(Expression::parse("name.where(use = 'official')").is_ok());
    /// let e = Expression::parse("name.where(").unwrap_err();
    /// assert_eq!(e.column, 12);
    /// ```
    pub fn parse(source: &str) -> Result<Expression, ParseError> {
        // The parser recurses by nesting, which is bounded by
        // MAX_EXPRESSION_DEPTH and by the length of the source; it runs on
        // a larger stack only when the thread's may not be enough.
        let levels = source.len().min(MAX_EXPRESSION_DEPTH);
        let need = STACK_BASE + levels * STACK_PER_PARSE_LEVEL;
        let (ast, depth) = crate::format::limits::with_stack_of(need, || parser::parse(source))?;
        Ok(Expression {
            source: source.to_string(),
            ast,
            depth,
        })
    }

    /// The text this was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The syntax tree.
    pub fn ast(&self) -> &Expr {
        &self.ast
    }

    /// Evaluates against a resource (which is also `%resource` and
    /// `%context`).
    ///
    /// # Errors
    /// [`EvalError`] when evaluation fails.
    pub fn evaluate<'a>(
        &self,
        resource: &'a Value,
        ctx: &Context<'a>,
    ) -> Result<Collection<'a>, EvalError> {
        let root = Item::Node(Node {
            value: Some(resource),
            extension: None,
            ty: self.root_type(resource, ctx),
        });
        self.evaluate_on(vec![root.clone()], Some(root), ctx)
    }

    /// Evaluates with `focus` as the input (and `%context`), and `resource`
    /// as `%resource`: how invariants on elements are evaluated.
    ///
    /// # Errors
    /// [`EvalError`] when evaluation fails.
    pub fn evaluate_on<'a>(
        &self,
        focus: Collection<'a>,
        resource: Option<Item<'a>>,
        ctx: &Context<'a>,
    ) -> Result<Collection<'a>, EvalError> {
        // Evaluation recurses by the depth of the expression (bounded by
        // MAX_EXPRESSION_DEPTH); it runs on a larger stack only when the
        // thread's may not be enough for this expression.
        let need = STACK_BASE + self.depth * STACK_PER_EVAL_LEVEL;
        crate::format::limits::with_stack_of(need, || self.evaluate_inner(focus, resource, ctx))
    }

    fn evaluate_inner<'a>(
        &self,
        focus: Collection<'a>,
        resource: Option<Item<'a>>,
        ctx: &Context<'a>,
    ) -> Result<Collection<'a>, EvalError> {
        let env = eval::Env {
            model: ctx.model,
            registry: ctx.registry,
            resource,
            context: focus.clone(),
            variables: &ctx.variables,
            strict: ctx.strict,
            now: std::cell::OnceCell::new(),
        };
        // At the top level `$this` is the focus itself.
        let frame = eval::Frame {
            this: if focus.len() == 1 {
                focus.first()
            } else {
                None
            },
            ..eval::Frame::default()
        };
        env.eval(&self.ast, &focus, frame)
    }

    /// Evaluates and reads the result as a boolean: `None` for an empty
    /// result, the value of a single boolean, `true` for any other single
    /// item.
    ///
    /// # Errors
    /// [`EvalError`] when evaluation fails or the result has several items.
    pub fn evaluate_boolean(
        &self,
        resource: &Value,
        ctx: &Context,
    ) -> Result<Option<bool>, EvalError> {
        let result = self.evaluate(resource, ctx)?;
        eval::to_bool(&result)
    }

    fn root_type<'a>(&self, resource: &'a Value, ctx: &Context<'a>) -> &'a str {
        let rt = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("");
        ctx.model.and_then(|m| m.type_name(rt)).unwrap_or(rt)
    }
}

/// Writes a result collection as JSON: system values as
/// `{"type": "string", "value": …}`, elements as their FHIR JSON with their
/// type.
///
/// # Examples
/// ```
/// use fhir_core::fhirpath::{to_json, Context, Expression};
/// let p = serde_json::json!({"resourceType": "Patient", "active": true});
/// let r = Expression::parse("1 + 1").unwrap().evaluate(&p, &Context::default()).unwrap();
/// assert_eq!(to_json(&r), serde_json::json!([{"type": "integer", "value": 2}]));
/// ```
pub fn to_json(result: &Collection) -> Value {
    Value::Array(
        result
            .iter()
            .map(|i| match i {
                Item::Node(n) => {
                    let mut o = json!({"type": n.ty});
                    if let Some(v) = n.value {
                        o["value"] = v.clone();
                    }
                    if let Some(e) = n.extension {
                        o["extension"] = e.clone();
                    }
                    o
                }
                Item::Boolean(b) => json!({"type": "boolean", "value": b}),
                Item::String(s) => json!({"type": "string", "value": s}),
                Item::Integer(n) => json!({"type": "integer", "value": n}),
                Item::Decimal(d) => {
                    json!({"type": "decimal", "value": serde_json::from_str::<Value>(&d.to_string()).unwrap_or(Value::Null)})
                }
                Item::Temporal(t) => {
                    let (ty, text) = match t.kind {
                        TemporalKind::Date => ("date", t.to_string()),
                        TemporalKind::DateTime => ("dateTime", t.to_string()),
                        TemporalKind::Time => ("time", t.to_string()),
                    };
                    json!({"type": ty, "value": text})
                }
                Item::Quantity(q) => json!({"type": "Quantity", "value": q.value.to_string(), "unit": q.unit}),
                Item::Type(ns, name) => json!({"type": "TypeInfo", "namespace": ns, "name": name}),
            })
            .collect(),
    )
}
