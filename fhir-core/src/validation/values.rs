//! Typed reading and ordering of FHIR JSON values, shared by the checks
//! that compare a value with a limit (profiles' `minValue[x]`, the
//! Questionnaire's `minValue` extension, `enableWhen`).

use std::cmp::Ordering;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::fhirpath::{Quantity, Temporal};

/// The UCUM code system.
pub(super) const UCUM: &str = "http://unitsofmeasure.org";

fn string<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(super) fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .ok(),
        _ => None,
    }
}

/// Orders two values of one answer type; dates of different precision
/// that FHIRPath leaves uncertain are ordered by their text, as the
/// reference validator does.
pub(super) fn compare(ty: &str, a: &Value, b: &Value) -> Option<Ordering> {
    match ty {
        "integer" | "decimal" => decimal(a)?.partial_cmp(&decimal(b)?),
        "date" | "dateTime" | "time" | "instant" => {
            let (sa, sb) = (a.as_str()?, b.as_str()?);
            let parse = |s: &str| {
                if ty == "time" {
                    Temporal::parse_time(s)
                } else {
                    Temporal::parse_date_time(s, false)
                }
            };
            match (parse(sa), parse(sb)) {
                (Some(ta), Some(tb)) => ta.compare(&tb).or_else(|| Some(sa.cmp(sb))),
                _ => None,
            }
        }
        "string" | "uri" => Some(a.as_str()?.cmp(b.as_str()?)),
        _ => None,
    }
}

/// A Quantity as a comparable UCUM quantity, when it has a UCUM code.
pub(super) fn ucum(q: &Value) -> Option<Quantity> {
    if string(q, "system") != Some(UCUM) {
        return None;
    }
    Some(Quantity::new(decimal(q.get("value")?)?, string(q, "code")?))
}
