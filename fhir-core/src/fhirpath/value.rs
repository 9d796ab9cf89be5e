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

/// A hash that any two items [`equals`] finds equal share (`None` for an
/// item equal to nothing), so that collections can be searched for equal
/// items through a hash map rather than by comparing every pair: `union`,
/// `distinct`, `intersect` and their kin stay linear in their input.
/// Items with the same key still go through [`equals`].
pub(crate) fn equality_key(item: &Item) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    if let Item::Node(x) = item {
        let both_primitive =
            system_type_of(x.ty).is_some() || x.value.is_some_and(|v| !v.is_object());
        if !both_primitive && !is_quantity_type(x.ty) {
            // Compared as JSON: equal values hash alike.
            0u8.hash(&mut h);
            x.value.map(json_hash).hash(&mut h);
            return Some(h.finish());
        }
    }
    match item.to_system()? {
        Item::Boolean(b) => (1u8, b).hash(&mut h),
        Item::String(s) => (2u8, s).hash(&mut h),
        // Integers and decimals compare by value: 1 = 1.0.
        i @ (Item::Integer(_) | Item::Decimal(_)) => {
            (3u8, to_decimal(&i)?.normalize().to_string()).hash(&mut h)
        }
        Item::Temporal(t) => (4u8, t.equality_components()).hash(&mut h),
        // Quantities compare across units; one bucket for them all.
        Item::Quantity(_) => 5u8.hash(&mut h),
        _ => return None,
    }
    Some(h.finish())
}

/// A hash of JSON that equal values share: object members are combined
/// without regard to order, as JSON object equality ignores it.
fn json_hash(v: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match v {
        Value::Null => 0u8.hash(&mut h),
        Value::Bool(b) => (1u8, b).hash(&mut h),
        Value::Number(n) => (2u8, n.to_string()).hash(&mut h),
        Value::String(s) => (3u8, s).hash(&mut h),
        Value::Array(a) => {
            4u8.hash(&mut h);
            for x in a {
                json_hash(x).hash(&mut h);
            }
        }
        Value::Object(m) => {
            let mut sum = 0u64;
            for (k, x) in m {
                let mut e = std::collections::hash_map::DefaultHasher::new();
                (k, json_hash(x)).hash(&mut e);
                sum = sum.wrapping_add(e.finish());
            }
            (5u8, m.len(), sum).hash(&mut h);
        }
    }
    h.finish()
}

/// The items of a collection, indexed by [`equality_key`] so that finding
/// one equal to a given item costs one hash lookup.
pub(crate) struct EqualityIndex<'c, 'a> {
    items: Vec<&'c Item<'a>>,
    buckets: std::collections::HashMap<u64, Vec<usize>>,
}

impl<'c, 'a> EqualityIndex<'c, 'a> {
    /// An empty index.
    pub(crate) fn new() -> Self {
        EqualityIndex {
            items: Vec::new(),
            buckets: std::collections::HashMap::new(),
        }
    }

    /// An index of every item of `items`.
    pub(crate) fn of(items: &'c [Item<'a>]) -> Self {
        let mut index = EqualityIndex::new();
        for i in items {
            index.insert(i);
        }
        index
    }

    /// Adds an item.
    pub(crate) fn insert(&mut self, item: &'c Item<'a>) {
        if let Some(k) = equality_key(item) {
            self.buckets.entry(k).or_default().push(self.items.len());
            self.items.push(item);
        }
    }

    /// Whether an indexed item `o` has `equals(o, item)` true (or
    /// `equals(item, o)` when `item_first`).
    pub(crate) fn contains(&self, item: &Item, item_first: bool) -> bool {
        let Some(k) = equality_key(item) else {
            return false;
        };
        self.buckets.get(&k).is_some_and(|b| {
            b.iter().any(|&j| {
                let o = self.items[j];
                let eq = if item_first {
                    equals(item, o)
                } else {
                    equals(o, item)
                };
                eq == Some(true)
            })
        })
    }
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
