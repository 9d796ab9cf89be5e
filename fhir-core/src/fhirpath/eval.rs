//! Evaluating a parsed expression against a resource.

use std::cmp::Ordering;
use std::collections::HashMap;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::Value;

use super::model::ModelInfo;
use super::parser::Expr;
use super::quantity::Quantity;
use super::temporal::{Kind, Temporal};
use super::value::{compare, equals, equivalent, to_decimal, Collection, Item, Node};
use super::EvalError;
use crate::package::Registry;

/// What an evaluation may consult besides the focus.
pub struct Env<'e, 'a> {
    /// Type knowledge; without it navigation is by JSON names alone.
    pub model: Option<&'a ModelInfo>,
    /// Conformance resources for `memberOf` and `conformsTo`.
    pub registry: Option<&'a Registry>,
    /// `%resource` and `%rootResource`.
    pub resource: Option<Item<'a>>,
    /// `%context`.
    pub context: Collection<'a>,
    /// Further `%name` variables.
    pub variables: &'e HashMap<String, Collection<'a>>,
    /// Strict mode: navigating to an element the model says the type lacks
    /// is an error rather than empty.
    pub strict: bool,
    /// `now()` for this evaluation: read from the clock on first use, then
    /// the same throughout it.
    pub now: std::cell::OnceCell<Temporal>,
}

/// The iteration variables of `where`, `select`, `aggregate` and friends.
#[derive(Clone, Copy, Default)]
pub struct Frame<'f, 'a> {
    pub this: Option<&'f Item<'a>>,
    pub index: Option<usize>,
    pub total: Option<&'f Collection<'a>>,
}

pub(super) fn err<T>(message: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError {
        message: message.into(),
    })
}

/// Capitalises the first letter: `dateTime` → `DateTime` (choice suffixes).
pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase())
        .into_iter()
        .chain(c)
        .collect()
}

impl<'a> Env<'_, 'a> {
    /// The evaluation's `now()`.
    pub(super) fn now(&self) -> Temporal {
        *self.now.get_or_init(now)
    }

    /// Evaluates `e` with `focus` as its input collection.
    pub fn eval(
        &self,
        e: &Expr,
        focus: &Collection<'a>,
        frame: Frame<'_, 'a>,
    ) -> Result<Collection<'a>, EvalError> {
        Ok(match e {
            Expr::Empty => Vec::new(),
            Expr::Boolean(b) => vec![Item::Boolean(*b)],
            Expr::String(s) => vec![Item::String(s.clone())],
            Expr::Number(n) => vec![number_literal(n)?],
            Expr::Temporal(t) => match Temporal::parse_literal(t) {
                Some(t) => vec![Item::Temporal(t)],
                None => return err(format!("invalid date/time literal @{t}")),
            },
            Expr::Quantity(n, unit) => {
                let value = to_decimal(&number_literal(n)?).unwrap_or_default();
                vec![Item::Quantity(Quantity::new(value, unit))]
            }
            Expr::Special(s) => match s.as_str() {
                "this" => frame.this.cloned().into_iter().collect(),
                "index" => frame
                    .index
                    .map(|i| Item::Integer(i as i64))
                    .into_iter()
                    .collect(),
                _ => frame.total.cloned().unwrap_or_default(),
            },
            Expr::External(name) => self.external(name)?,
            Expr::Identifier(name) => self.identifier(name, focus)?,
            Expr::Member(target, name) => {
                let t = self.eval(target, focus, frame)?;
                if self.strict {
                    self.check_member_statically(target, name)?;
                }
                self.members(&t, name)?
            }
            Expr::Call(target, name, args) => {
                if self.strict {
                    check_ordered_input(target.as_deref(), name)?;
                }
                let input = match target {
                    Some(t) => self.eval(t, focus, frame)?,
                    None => focus.clone(),
                };
                self.call(name, &input, args, focus, frame)?
            }
            Expr::Index(target, index) => {
                let t = self.eval(target, focus, frame)?;
                let i = self.eval(index, focus, frame)?;
                match singleton_integer(&i)? {
                    Some(i) if i >= 0 => t.into_iter().nth(i as usize).into_iter().collect(),
                    _ => Vec::new(),
                }
            }
            Expr::Unary(op, operand) => {
                let v = self.eval(operand, focus, frame)?;
                match (op, singleton(&v)?) {
                    (_, None) => Vec::new(),
                    (&"+", Some(i)) => vec![i],
                    (_, Some(i)) => match i.to_system() {
                        Some(Item::Integer(x)) => vec![Item::Integer(-x)],
                        Some(Item::Decimal(x)) => vec![Item::Decimal(-x)],
                        Some(Item::Quantity(q)) => vec![Item::Quantity(Quantity {
                            value: -q.value,
                            unit: q.unit,
                        })],
                        _ => return err("unary minus needs a number or quantity"),
                    },
                }
            }
            Expr::TypeOp(op, target, ty) => {
                let v = self.eval(target, focus, frame)?;
                if v.len() > 1 {
                    return err(format!("`{op}` needs a single item, got {}", v.len()));
                }
                if *op == "is" {
                    v.first()
                        .map(|i| Item::Boolean(self.is_type_with(i, ty, false)))
                        .into_iter()
                        .collect()
                } else {
                    self.check_type_name(ty)?;
                    v.into_iter().filter(|i| self.is_type(i, ty)).collect()
                }
            }
            Expr::Binary(op, l, r) => self.binary(op, l, r, focus, frame)?,
        })
    }

    fn external(&self, name: &str) -> Result<Collection<'a>, EvalError> {
        Ok(match name {
            // A caller may set `%rootResource` apart from `%resource` (a
            // contained resource's container).
            "rootResource" if self.variables.contains_key("rootResource") => {
                self.variables["rootResource"].clone()
            }
            "resource" | "rootResource" => self.resource.clone().into_iter().collect(),
            "context" => self.context.clone(),
            "ucum" => vec![Item::String("http://unitsofmeasure.org".into())],
            "sct" => vec![Item::String("http://snomed.info/sct".into())],
            "loinc" => vec![Item::String("http://loinc.org".into())],
            _ => {
                if let Some(v) = self.variables.get(name) {
                    return Ok(v.clone());
                }
                if let Some(rest) = name.strip_prefix("vs-") {
                    return Ok(vec![Item::String(format!(
                        "http://hl7.org/fhir/ValueSet/{rest}"
                    ))]);
                }
                if let Some(rest) = name.strip_prefix("ext-") {
                    return Ok(vec![Item::String(format!(
                        "http://hl7.org/fhir/StructureDefinition/{rest}"
                    ))]);
                }
                return err(format!("unknown variable %{name}"));
            }
        })
    }

    /// A name at the start of a path: the focus itself when it names the
    /// focus's type (`Patient.name`), else an element of the focus.
    fn identifier(&self, name: &str, focus: &Collection<'a>) -> Result<Collection<'a>, EvalError> {
        let typed: Collection<'a> = focus
            .iter()
            .filter(
                |i| matches!(i, Item::Node(n) if !n.ty.is_empty() && self.type_matches(n.ty, name)),
            )
            .cloned()
            .collect();
        if !typed.is_empty() {
            return Ok(typed);
        }
        let starts_upper = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        if starts_upper {
            // A resource type that is not the focus's: empty, or an error in
            // strict mode (it can never match).
            let is_resource_type = self
                .model
                .and_then(|m| m.get(name))
                .is_some_and(|t| t.resource)
                || focus.iter().any(|i| matches!(i, Item::Node(n) if n.value.and_then(|v| v.get("resourceType")).is_some()));
            if is_resource_type
                && focus
                    .iter()
                    .all(|i| i.json().and_then(|v| v.get(name)).is_none())
            {
                if self.strict && !focus.is_empty() {
                    return err(format!("the focus is not a {name}"));
                }
                return Ok(Vec::new());
            }
        }
        self.members(focus, name)
    }

    /// The children called `name` of every item. A name that none of the
    /// items' (known) types has is a mistake in the expression (often
    /// `valueQuantity` for `value`), not an absent element: an error.
    fn members(&self, items: &Collection<'a>, name: &str) -> Result<Collection<'a>, EvalError> {
        let mut out = Vec::new();
        let mut any_has = items.is_empty();
        for item in items {
            any_has |= self.member(item, name, &mut out)?;
        }
        if !any_has {
            let ty = items.first().map(|i| i.type_name().1).unwrap_or_default();
            return err(format!("{ty} has no element `{name}`"));
        }
        Ok(out)
    }

    fn type_matches(&self, ty: &str, name: &str) -> bool {
        let name = name.strip_prefix("FHIR.").unwrap_or(name);
        match self.model {
            // Primitive types match exactly: a `code` is not `as(string)`,
            // although its definition derives from string.
            Some(m) if m.get(ty).is_some_and(|t| t.primitive) => ty == name,
            Some(m) => m.is_a(ty, name),
            None => ty == name,
        }
    }

    /// Appends the children of `item` called `name` to `out`. Returns false
    /// when the item's type is known and has no such element.
    pub(super) fn member(
        &self,
        item: &Item<'a>,
        name: &str,
        out: &mut Collection<'a>,
    ) -> Result<bool, EvalError> {
        if let Item::Type(ns, ty) = item {
            match name {
                "namespace" => out.push(Item::String(ns.clone())),
                "name" => out.push(Item::String(ty.clone())),
                _ => {}
            }
            return Ok(true);
        }
        let Item::Node(n) = item else { return Ok(true) };
        // A primitive's id and extensions sit in its `_name` object.
        let Some(Value::Object(obj)) = n.value.filter(|v| v.is_object()) else {
            if let Some(ext) = n.extension {
                if let Some(v) = ext.get(name) {
                    let ty = if name == "extension" {
                        "Extension"
                    } else {
                        "string"
                    };
                    push_values(out, Some(v), None, ty, self.model);
                }
            }
            return Ok(true);
        };
        let type_info = self
            .model
            .filter(|_| !n.ty.is_empty())
            .and_then(|m| m.get(n.ty));
        if let Some(info) = type_info {
            match info.element(name) {
                Some(el) if el.choice => {
                    for t in &el.types {
                        let key = format!("{name}{}", capitalise(t));
                        let ext_key = format!("_{key}");
                        if obj.contains_key(&key) || obj.contains_key(&ext_key) {
                            let ty = self.model.and_then(|m| m.type_name(t)).unwrap_or("");
                            push_values(out, obj.get(&key), obj.get(&ext_key), ty, self.model);
                        }
                    }
                    return Ok(true);
                }
                Some(el) => {
                    let t = el.types.first().map(String::as_str).unwrap_or("");
                    let ty = self.model.and_then(|m| m.type_name(t)).unwrap_or("");
                    push_values(
                        out,
                        obj.get(name),
                        obj.get(&format!("_{name}")),
                        ty,
                        self.model,
                    );
                    return Ok(true);
                }
                None => return Ok(false),
            }
        }
        // No model: the JSON name, or a choice element's typed name.
        if obj.contains_key(name) || obj.contains_key(&format!("_{name}")) {
            push_values(
                out,
                obj.get(name),
                obj.get(&format!("_{name}")),
                "",
                self.model,
            );
        } else {
            for (k, v) in obj {
                if let Some(suffix) = k
                    .strip_prefix(name)
                    .filter(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
                {
                    let ty = guess_choice_type(suffix);
                    push_values(out, Some(v), obj.get(&format!("_{k}")), ty, self.model);
                }
            }
        }
        Ok(true)
    }

    /// In strict mode, `(x as T).name` must name an element of T even when
    /// `x as T` is empty here.
    fn check_member_statically(&self, target: &Expr, name: &str) -> Result<(), EvalError> {
        let ty = match target {
            Expr::TypeOp("as", _, ty) => ty,
            Expr::Call(_, f, args) if f == "as" || f == "ofType" => match args.first() {
                Some(Expr::Identifier(t)) => t,
                _ => return Ok(()),
            },
            _ => return Ok(()),
        };
        let ty = ty.strip_prefix("FHIR.").unwrap_or(ty);
        if let Some(info) = self.model.and_then(|m| m.get(ty)) {
            if info.element(name).is_none() {
                return err(format!("{ty} has no element `{name}`"));
            }
        }
        Ok(())
    }

    /// Whether an item is of the named type (or a subtype). `exact` makes
    /// primitive types match only themselves: the R4 suite has `is(string)`
    /// true for a `code` but `as(string)` and `ofType(string)` empty.
    pub(super) fn is_type(&self, item: &Item<'a>, ty: &str) -> bool {
        self.is_type_with(item, ty, true)
    }

    pub(super) fn is_type_with(&self, item: &Item<'a>, ty: &str, exact: bool) -> bool {
        let (ns, name) = match ty.split_once('.') {
            Some((ns @ ("System" | "FHIR"), n)) => (Some(ns), n),
            _ => (None, ty),
        };
        match item {
            Item::Node(n) => {
                if ns == Some("System") {
                    return false;
                }
                if n.ty.is_empty() {
                    return false;
                }
                if exact {
                    self.type_matches(n.ty, name)
                } else {
                    self.model.map_or(n.ty == name, |m| {
                        m.is_a(n.ty, name.strip_prefix("FHIR.").unwrap_or(name))
                    })
                }
            }
            _ => {
                if ns == Some("FHIR") {
                    return false;
                }
                let (_, own) = item.type_name();
                own == name
            }
        }
    }

    /// A type name the model does not know is an error (it can never
    /// match, so it is a mistake in the expression).
    pub(super) fn check_type_name(&self, ty: &str) -> Result<(), EvalError> {
        let name = ty
            .strip_prefix("FHIR.")
            .or_else(|| ty.strip_prefix("System."))
            .unwrap_or(ty);
        let system = [
            "Boolean", "String", "Integer", "Decimal", "Date", "DateTime", "Time", "Quantity",
        ]
        .contains(&name);
        if !system && self.model.is_some_and(|m| !m.has_type(name)) {
            return err(format!("unknown type {ty}"));
        }
        Ok(())
    }

    fn binary(
        &self,
        op: &str,
        l: &Expr,
        r: &Expr,
        focus: &Collection<'a>,
        frame: Frame<'_, 'a>,
    ) -> Result<Collection<'a>, EvalError> {
        let left = self.eval(l, focus, frame)?;
        // Boolean operators short-circuit where three-valued logic allows.
        match op {
            "and" | "or" | "implies" | "xor" => {
                let a = to_bool(&left)?;
                let short = match (op, a) {
                    ("and", Some(false)) => Some(false),
                    ("or", Some(true)) => Some(true),
                    ("implies", Some(false)) => Some(true),
                    _ => None,
                };
                if let Some(s) = short {
                    return Ok(vec![Item::Boolean(s)]);
                }
                let b = to_bool(&self.eval(r, focus, frame)?)?;
                let result = match op {
                    "and" => match (a, b) {
                        (Some(true), Some(true)) => Some(true),
                        (_, Some(false)) => Some(false),
                        _ => None,
                    },
                    "or" => match (a, b) {
                        (_, Some(true)) => Some(true),
                        (Some(false), Some(false)) => Some(false),
                        _ => None,
                    },
                    "xor" => match (a, b) {
                        (Some(x), Some(y)) => Some(x != y),
                        _ => None,
                    },
                    _ => match (a, b) {
                        (Some(true), b) => b,
                        (None, Some(true)) => Some(true),
                        _ => None,
                    },
                };
                return Ok(result.map(Item::Boolean).into_iter().collect());
            }
            _ => {}
        }
        let right = self.eval(r, focus, frame)?;
        Ok(match op {
            "|" => union(left, right),
            "=" | "!=" => {
                if left.is_empty() || right.is_empty() {
                    return Ok(Vec::new());
                }
                let eq = if left.len() != right.len() {
                    Some(false)
                } else {
                    let mut all = Some(true);
                    for (a, b) in left.iter().zip(&right) {
                        match equals(a, b) {
                            Some(true) => {}
                            Some(false) => {
                                all = Some(false);
                                break;
                            }
                            None => all = None,
                        }
                    }
                    all
                };
                eq.map(|e| Item::Boolean(if op == "=" { e } else { !e }))
                    .into_iter()
                    .collect()
            }
            "~" | "!~" => {
                let eq = left.len() == right.len() && {
                    let mut used = vec![false; right.len()];
                    left.iter().all(|a| {
                        let found = right
                            .iter()
                            .enumerate()
                            .find(|(i, b)| !used[*i] && equivalent(a, b));
                        found.map(|(i, _)| used[i] = true).is_some()
                    })
                };
                vec![Item::Boolean(if op == "~" { eq } else { !eq })]
            }
            "<" | ">" | "<=" | ">=" => {
                let (Some(a), Some(b)) = (singleton(&left)?, singleton(&right)?) else {
                    return Ok(Vec::new());
                };
                let ord = compare(&a, &b).or_else(|_| {
                    err(format!(
                        "cannot compare {} with {}",
                        a.type_name().1,
                        b.type_name().1
                    ))
                })?;
                ord.map(|o| {
                    Item::Boolean(match op {
                        "<" => o == Ordering::Less,
                        ">" => o == Ordering::Greater,
                        "<=" => o != Ordering::Greater,
                        _ => o != Ordering::Less,
                    })
                })
                .into_iter()
                .collect()
            }
            "in" | "contains" => {
                let (item, coll) = if op == "in" {
                    (&left, &right)
                } else {
                    (&right, &left)
                };
                match singleton(item)? {
                    None => Vec::new(),
                    Some(i) => vec![Item::Boolean(
                        coll.iter().any(|c| equals(&i, c) == Some(true)),
                    )],
                }
            }
            "&" => {
                let s = |c: &Collection| -> Result<String, EvalError> {
                    Ok(singleton(c)?.and_then(|i| i.as_str()).unwrap_or_default())
                };
                vec![Item::String(s(&left)? + &s(&right)?)]
            }
            _ => arithmetic(op, &left, &right)?,
        })
    }
}

/// In strict mode, functions that depend on order may not be applied to
/// `children()` or `descendants()`, whose order is not defined.
fn check_ordered_input(target: Option<&Expr>, name: &str) -> Result<(), EvalError> {
    let ordered = matches!(name, "skip" | "take" | "first" | "last" | "tail");
    if let (true, Some(Expr::Call(_, f, _))) = (ordered, target) {
        if f == "children" || f == "descendants" {
            return err(format!(
                "{name}() needs an ordered collection, and {f}() is not ordered"
            ));
        }
    }
    Ok(())
}

fn guess_choice_type(suffix: &str) -> &'static str {
    match suffix {
        "String" => "string",
        "Boolean" => "boolean",
        "Integer" => "integer",
        "Decimal" => "decimal",
        "Date" => "date",
        "DateTime" => "dateTime",
        "Instant" => "instant",
        "Time" => "time",
        "Code" => "code",
        "Uri" => "uri",
        "Quantity" => "Quantity",
        _ => "",
    }
}

/// Appends a JSON element (one value or an array) to `out`, pairing each
/// value with its `_name` extension object.
fn push_values<'a>(
    out: &mut Collection<'a>,
    value: Option<&'a Value>,
    ext: Option<&'a Value>,
    ty: &'a str,
    model: Option<&'a ModelInfo>,
) {
    let resolve_ty = |v: Option<&'a Value>| -> &'a str {
        if ty.is_empty() || ty == "Resource" {
            if let Some(rt) = v
                .and_then(|v| v.get("resourceType"))
                .and_then(Value::as_str)
            {
                return model.and_then(|m| m.type_name(rt)).unwrap_or(rt);
            }
        }
        ty
    };
    match (value, ext) {
        (Some(Value::Array(vs)), ext) => {
            let exts = ext.and_then(Value::as_array);
            for (i, v) in vs.iter().enumerate() {
                let e = exts.and_then(|x| x.get(i)).filter(|e| !e.is_null());
                let v = (!v.is_null()).then_some(v);
                if v.is_some() || e.is_some() {
                    out.push(Item::Node(Node {
                        value: v,
                        extension: e,
                        ty: resolve_ty(v),
                    }));
                }
            }
        }
        (None, Some(Value::Array(es))) => {
            for e in es.iter().filter(|e| !e.is_null()) {
                out.push(Item::Node(Node {
                    value: None,
                    extension: Some(e),
                    ty,
                }));
            }
        }
        (None, None) => {}
        (v, e) => out.push(Item::Node(Node {
            value: v,
            extension: e,
            ty: resolve_ty(v),
        })),
    }
}

pub(super) fn number_literal<'a>(n: &str) -> Result<Item<'a>, EvalError> {
    if n.contains('.') {
        n.parse::<Decimal>()
            .map(Item::Decimal)
            .or_else(|_| err(format!("bad number {n}")))
    } else {
        n.parse::<i64>()
            .map(Item::Integer)
            .or_else(|_| err(format!("integer {n} is too large")))
    }
}

/// The single item of a collection, `None` for empty; an error for more.
pub(super) fn singleton<'a>(c: &Collection<'a>) -> Result<Option<Item<'a>>, EvalError> {
    match c.len() {
        0 => Ok(None),
        1 => Ok(Some(c[0].clone())),
        n => err(format!("expected a single item, got {n}")),
    }
}

pub(super) fn singleton_integer(c: &Collection) -> Result<Option<i64>, EvalError> {
    match singleton(c)?.and_then(|i| i.to_system()) {
        None => Ok(None),
        Some(Item::Integer(i)) => Ok(Some(i)),
        Some(other) => err(format!("expected an integer, got {}", other.type_name().1)),
    }
}

/// A collection as a boolean (FHIRPath singleton evaluation): empty is
/// unknown, one Boolean is itself, any other single item is true.
pub(super) fn to_bool(c: &Collection) -> Result<Option<bool>, EvalError> {
    match singleton(c)? {
        None => Ok(None),
        Some(i) => match i.to_system() {
            Some(Item::Boolean(b)) => Ok(Some(b)),
            _ => Ok(Some(true)),
        },
    }
}

/// `a | b`: both, without duplicates.
pub(super) fn union<'a>(left: Collection<'a>, right: Collection<'a>) -> Collection<'a> {
    // Which items are kept, decided through a hash index of those kept so
    // far (comparing each with all kept before it is quadratic: a union of
    // two 16,000-name collections took minutes).
    let all: Collection<'a> = left.into_iter().chain(right).collect();
    let mut keep = vec![false; all.len()];
    {
        let mut kept = super::value::EqualityIndex::new();
        for (n, i) in all.iter().enumerate() {
            if !kept.contains(i, false) {
                kept.insert(i);
                keep[n] = true;
            }
        }
    }
    all.into_iter()
        .zip(keep)
        .filter_map(|(i, k)| k.then_some(i))
        .collect()
}

fn arithmetic<'a>(
    op: &str,
    left: &Collection<'a>,
    right: &Collection<'a>,
) -> Result<Collection<'a>, EvalError> {
    let (Some(a), Some(b)) = (singleton(left)?, singleton(right)?) else {
        return Ok(Vec::new());
    };
    let (Some(a), Some(b)) = (a.to_system(), b.to_system()) else {
        return Ok(Vec::new());
    };
    let bad = || {
        err(format!(
            "cannot apply `{op}` to {} and {}",
            a.type_name().1,
            b.type_name().1
        ))
    };
    Ok(match (&a, &b) {
        (Item::Integer(x), Item::Integer(y)) => match op {
            "+" => x.checked_add(*y).map(Item::Integer).into_iter().collect(),
            "-" => x.checked_sub(*y).map(Item::Integer).into_iter().collect(),
            "*" => x.checked_mul(*y).map(Item::Integer).into_iter().collect(),
            "/" => decimal_div(Decimal::from(*x), Decimal::from(*y)),
            "div" => (*y != 0)
                .then(|| Item::Integer(x / y))
                .into_iter()
                .collect(),
            "mod" => (*y != 0)
                .then(|| Item::Integer(x % y))
                .into_iter()
                .collect(),
            _ => return bad(),
        },
        (Item::Integer(_) | Item::Decimal(_), Item::Integer(_) | Item::Decimal(_)) => {
            let (x, y) = (
                to_decimal(&a).unwrap_or_default(),
                to_decimal(&b).unwrap_or_default(),
            );
            match op {
                "+" => x.checked_add(y).map(Item::Decimal).into_iter().collect(),
                "-" => x.checked_sub(y).map(Item::Decimal).into_iter().collect(),
                "*" => x.checked_mul(y).map(Item::Decimal).into_iter().collect(),
                "/" => decimal_div(x, y),
                "div" => (!y.is_zero())
                    .then(|| (x / y).trunc().to_i64().map(Item::Integer))
                    .flatten()
                    .into_iter()
                    .collect(),
                "mod" => (!y.is_zero())
                    .then(|| Item::Decimal(x % y))
                    .into_iter()
                    .collect(),
                _ => return bad(),
            }
        }
        (Item::String(x), Item::String(y)) if op == "+" => vec![Item::String(format!("{x}{y}"))],
        (Item::Temporal(t), Item::Quantity(q)) if op == "+" || op == "-" => {
            let Some(unit) = q.calendar_unit() else {
                return err(format!("cannot add '{}' to a date or time", q.unit));
            };
            // FHIRPath adds whole units: 7.7 days is 7 days.
            let amount = q.value.trunc().to_i64().unwrap_or(0);
            let amount = if op == "-" { -amount } else { amount };
            if t.kind == Kind::Time && matches!(unit, "year" | "month" | "week" | "day") {
                return err("cannot add a calendar duration to a time");
            }
            t.add(amount, unit)
                .map(Item::Temporal)
                .into_iter()
                .collect()
        }
        (Item::Quantity(x), Item::Quantity(y)) if op == "+" || op == "-" => {
            if x.unit != y.unit {
                return Ok(Vec::new());
            }
            let v = if op == "+" {
                x.value + y.value
            } else {
                x.value - y.value
            };
            vec![Item::Quantity(Quantity {
                value: v,
                unit: x.unit.clone(),
            })]
        }
        (Item::Quantity(x), Item::Quantity(y)) if op == "*" || op == "/" => {
            let unit = match (x.unit.as_str(), y.unit.as_str(), op) {
                ("1", u, "*") | (u, "1", _) => u.to_string(),
                (a, b, "*") => format!("{a}.{b}"),
                (a, b, _) if a == b => "1".to_string(),
                (a, b, _) => format!("{a}/{b}"),
            };
            let v = if op == "*" {
                Some(x.value * y.value)
            } else {
                x.value.checked_div(y.value)
            };
            v.map(|v| Item::Quantity(Quantity { value: v, unit }))
                .into_iter()
                .collect()
        }
        (Item::Quantity(q), Item::Integer(_) | Item::Decimal(_)) if op == "*" || op == "/" => {
            let n = to_decimal(&b).unwrap_or_default();
            let v = if op == "*" {
                Some(q.value * n)
            } else {
                q.value.checked_div(n)
            };
            v.map(|v| {
                Item::Quantity(Quantity {
                    value: v,
                    unit: q.unit.clone(),
                })
            })
            .into_iter()
            .collect()
        }
        (Item::Integer(_) | Item::Decimal(_), Item::Quantity(q)) if op == "*" => {
            vec![Item::Quantity(Quantity {
                value: q.value * to_decimal(&a).unwrap_or_default(),
                unit: q.unit.clone(),
            })]
        }
        _ => return bad(),
    })
}

fn decimal_div<'a>(x: Decimal, y: Decimal) -> Collection<'a> {
    x.checked_div(y)
        .map(|d| Item::Decimal(d.normalize()))
        .into_iter()
        .collect()
}

/// `now()` as a DateTime with the machine's clock in UTC.
pub fn now() -> Temporal {
    let n = chrono::Utc::now().naive_utc();
    let s = n.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    Temporal::parse_date_time(&s, false)
        .unwrap_or_else(|| Temporal::parse_literal("1970-01-01T00:00:00Z").expect("literal"))
}
