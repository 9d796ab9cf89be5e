//! FHIRPath values: system values, and FHIR elements borrowed from the
//! resource being evaluated.

use std::cmp::Ordering;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use super::quantity::Quantity;
use super::temporal::{Kind, Temporal};

/// An element of the resource: its JSON value, the `_name` sibling that
/// carries a primitive's id and extensions, and its FHIR type name (empty
/// when no model says).
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    /// The JSON value (`None` for a primitive that has only extensions).
    pub value: Option<&'a Value>,
    /// The `_name` object of a primitive, if present.
    pub extension: Option<&'a Value>,
    /// The FHIR type (`HumanName`, `string`, `Observation.component`).
    pub ty: &'a str,
}

/// One item of a FHIRPath collection.
#[derive(Debug, Clone)]
pub enum Item<'a> {
    /// System.Boolean.
    Boolean(bool),
    /// System.String.
    String(String),
    /// System.Integer.
    Integer(i64),
    /// System.Decimal.
    Decimal(Decimal),
    /// System.Date, System.DateTime or System.Time.
    Temporal(Temporal),
    /// System.Quantity.
    Quantity(Quantity),
    /// A FHIR element or resource.
    Node(Node<'a>),
    /// The result of `type()`: a namespace and a type name.
    Type(String, String),
}

/// A FHIRPath collection.
pub type Collection<'a> = Vec<Item<'a>>;

/// FHIR primitive types by the system type their value has.
pub fn system_type_of(fhir_type: &str) -> Option<&'static str> {
    Some(match fhir_type {
        "boolean" => "Boolean",
        "integer" | "positiveInt" | "unsignedInt" | "integer64" => "Integer",
        "decimal" => "Decimal",
        "date" => "Date",
        "dateTime" | "instant" => "DateTime",
        "time" => "Time",
        "string" | "code" | "id" | "uri" | "url" | "canonical" | "oid" | "uuid" | "markdown"
        | "base64Binary" | "xhtml" => "String",
        _ => return None,
    })
}

/// Quantity and the types that profile it in R4.
pub fn is_quantity_type(t: &str) -> bool {
    matches!(
        t,
        "Quantity" | "Age" | "Duration" | "Distance" | "Count" | "SimpleQuantity" | "MoneyQuantity"
    )
}

impl<'a> Item<'a> {
    /// A resource or element node with no known type: resources name theirs.
    pub fn from_json(value: &'a Value) -> Item<'a> {
        let ty = value
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("");
        Item::Node(Node {
            value: Some(value),
            extension: None,
            ty,
        })
    }

    /// The system value of this item: itself for system values; for a FHIR
    /// primitive its value; for a Quantity element its quantity; `None` for
    /// other elements (and primitives with no value).
    pub fn to_system(&self) -> Option<Item<'a>> {
        let Item::Node(n) = self else {
            return Some(self.clone());
        };
        let v = n.value?;
        if is_quantity_type(n.ty) {
            let value = v.get("value").and_then(decimal_of)?;
            let unit = v
                .get("code")
                .or_else(|| v.get("unit"))
                .and_then(Value::as_str)
                .unwrap_or("1");
            return Some(Item::Quantity(Quantity::new(value, unit)));
        }
        let system = system_type_of(n.ty);
        match (system, v) {
            (_, Value::Bool(b)) => Some(Item::Boolean(*b)),
            (Some("Integer"), Value::Number(x)) => x.as_i64().map(Item::Integer),
            (_, Value::Number(_)) => {
                let d = decimal_of(v)?;
                if system.is_none() && d.scale() == 0 && !v.to_string().contains('.') {
                    d.try_into().ok().map(Item::Integer)
                } else {
                    Some(Item::Decimal(d))
                }
            }
            (Some("Date"), Value::String(s)) | (Some("DateTime"), Value::String(s)) => {
                Temporal::parse_date_time(s, false).map(Item::Temporal)
            }
            (Some("Time"), Value::String(s)) => Temporal::parse_time(s).map(Item::Temporal),
            (_, Value::String(s)) => Some(Item::String(s.clone())),
            _ => None,
        }
    }

    /// The FHIRPath type name: `System.String`, or the FHIR type.
    pub fn type_name(&self) -> (&'static str, String) {
        match self {
            Item::Boolean(_) => ("System", "Boolean".into()),
            Item::String(_) => ("System", "String".into()),
            Item::Integer(_) => ("System", "Integer".into()),
            Item::Decimal(_) => ("System", "Decimal".into()),
            Item::Temporal(t) => (
                "System",
                match t.kind {
                    Kind::Date => "Date",
                    Kind::DateTime => "DateTime",
                    Kind::Time => "Time",
                }
                .into(),
            ),
            Item::Quantity(_) => ("System", "Quantity".into()),
            Item::Node(n) => ("FHIR", n.ty.to_string()),
            Item::Type(..) => ("System", "TypeInfo".into()),
        }
    }

    /// The string of a String item (or string-valued primitive).
    pub fn as_str(&self) -> Option<String> {
        match self.to_system()? {
            Item::String(s) => Some(s),
            _ => None,
        }
    }

    /// The JSON value of a node, if this is one.
    pub fn json(&self) -> Option<&'a Value> {
        match self {
            Item::Node(n) => n.value,
            _ => None,
        }
    }
}

/// A JSON number as a decimal, keeping the digits written.
pub fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => {
            let s = n.to_string();
            Decimal::from_str(&s)
                .or_else(|_| Decimal::from_scientific(&s))
                .ok()
        }
        _ => None,
    }
}

/// FHIRPath equality of two items: `None` when uncertain (temporal values
/// of different precision).
pub fn equals(a: &Item, b: &Item) -> Option<bool> {
    if let (Item::Node(x), Item::Node(y)) = (a, b) {
        let both_primitive =
            system_type_of(x.ty).is_some() || x.value.is_some_and(|v| !v.is_object());
        if !both_primitive && !is_quantity_type(x.ty) {
            return Some(
                x.value == y.value && x.extension == y.extension || json_equal(x.value, y.value),
            );
        }
    }
    let (Some(a), Some(b)) = (a.to_system(), b.to_system()) else {
        return Some(false);
    };
    match (&a, &b) {
        (Item::Boolean(x), Item::Boolean(y)) => Some(x == y),
        (Item::String(x), Item::String(y)) => Some(x == y),
        (Item::Integer(x), Item::Integer(y)) => Some(x == y),
        (Item::Integer(_) | Item::Decimal(_), Item::Integer(_) | Item::Decimal(_)) => {
            Some(to_decimal(&a)? == to_decimal(&b)?)
        }
        (Item::Temporal(x), Item::Temporal(y)) => {
            if (x.kind == Kind::Time) != (y.kind == Kind::Time) {
                return Some(false);
            }
            x.compare(y).map(|o| o == Ordering::Equal)
        }
        (Item::Quantity(x), Item::Quantity(y)) => x.compare(y).map(|o| o == Ordering::Equal),
        _ => Some(false),
    }
}

fn json_equal(a: Option<&Value>, b: Option<&Value>) -> bool {
    a == b
}

/// FHIRPath equivalence (`~`) of two items.
pub fn equivalent(a: &Item, b: &Item) -> bool {
    if let (Item::Node(x), Item::Node(y)) = (a, b) {
        if system_type_of(x.ty).is_none()
            && !is_quantity_type(x.ty)
            && x.value.is_some_and(Value::is_object)
        {
            return x.value == y.value;
        }
    }
    let (Some(a), Some(b)) = (a.to_system(), b.to_system()) else {
        return false;
    };
    match (&a, &b) {
        (Item::String(x), Item::String(y)) => normalise_ws(x) == normalise_ws(y),
        (Item::Integer(_) | Item::Decimal(_), Item::Integer(_) | Item::Decimal(_)) => {
            let (x, y) = (
                to_decimal(&a).unwrap_or_default(),
                to_decimal(&b).unwrap_or_default(),
            );
            let scale = x.scale().min(y.scale());
            x.round_dp(scale) == y.round_dp(scale)
        }
        (Item::Temporal(x), Item::Temporal(y)) => x.equivalent(y),
        (Item::Quantity(x), Item::Quantity(y)) => x.equivalent(y),
        _ => equals(&a, &b) == Some(true),
    }
}

fn normalise_ws(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A numeric item as a decimal.
pub fn to_decimal(i: &Item) -> Option<Decimal> {
    match i {
        Item::Integer(x) => Some(Decimal::from(*x)),
        Item::Decimal(d) => Some(*d),
        _ => None,
    }
}

/// FHIRPath ordering (`<` and friends): `Err(())` when the types cannot be
/// compared, `Ok(None)` when the answer is uncertain.
#[allow(clippy::result_unit_err)]
pub fn compare(a: &Item, b: &Item) -> Result<Option<Ordering>, ()> {
    let (Some(a), Some(b)) = (a.to_system(), b.to_system()) else {
        return Err(());
    };
    match (&a, &b) {
        (Item::String(x), Item::String(y)) => Ok(Some(x.cmp(y))),
        (Item::Integer(x), Item::Integer(y)) => Ok(Some(x.cmp(y))),
        (Item::Integer(_) | Item::Decimal(_), Item::Integer(_) | Item::Decimal(_)) => Ok(Some(
            to_decimal(&a).ok_or(())?.cmp(&to_decimal(&b).ok_or(())?),
        )),
        (Item::Temporal(x), Item::Temporal(y)) => {
            if (x.kind == Kind::Time) != (y.kind == Kind::Time) {
                return Err(());
            }
            Ok(x.compare(y))
        }
        (Item::Quantity(x), Item::Quantity(y)) => x.compare(y).map(Some).ok_or(()),
        _ => Err(()),
    }
}
