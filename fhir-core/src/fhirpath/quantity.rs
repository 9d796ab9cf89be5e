//! FHIRPath quantities and the UCUM units they compare across.
//!
//! A full UCUM implementation is a project of its own and no maintained Rust
//! crate carries one with conversions; this table covers the units FHIR
//! resources and the carer data set use (time, mass, length, volume,
//! amount-of-substance ratios are compared only in the same unit).

use std::cmp::Ordering;
use std::fmt;

use rust_decimal::Decimal;

/// A FHIRPath quantity: a decimal value and a UCUM unit or calendar word.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// The value.
    pub value: Decimal,
    /// The unit: a UCUM code (`mg`, `'1'`) or a calendar duration word
    /// (`year`, `days`), plural words normalised to singular.
    pub unit: String,
}

/// Calendar words as FHIRPath writes them, singular.
pub const CALENDAR: &[&str] = &[
    "year",
    "month",
    "week",
    "day",
    "hour",
    "minute",
    "second",
    "millisecond",
];

impl Quantity {
    /// Builds a quantity, normalising `days` to `day`.
    pub fn new(value: Decimal, unit: &str) -> Quantity {
        let singular = unit
            .strip_suffix('s')
            .filter(|u| CALENDAR.contains(u))
            .unwrap_or(unit);
        Quantity {
            value,
            unit: singular.to_string(),
        }
    }

    /// The calendar word this quantity's unit means in date arithmetic:
    /// calendar words, and the UCUM codes for definite durations.
    pub fn calendar_unit(&self) -> Option<&'static str> {
        Some(match self.unit.as_str() {
            // UCUM's `a` and `mo` are average lengths, not calendar units,
            // so date arithmetic refuses them.
            "year" => "year",
            "month" => "month",
            "week" | "wk" => "week",
            "day" | "d" => "day",
            "hour" | "h" => "hour",
            "minute" | "min" => "minute",
            "second" | "s" => "second",
            "millisecond" | "ms" => "millisecond",
            _ => return None,
        })
    }

    /// This quantity in its dimension's base unit, with the dimension's
    /// name: (`s`, 3600) for `1 h`. Calendar years and months are not
    /// definite durations and convert only to themselves.
    fn canonical(&self) -> Option<(&'static str, Decimal)> {
        let (dim, factor): (&str, Decimal) = match self.unit.as_str() {
            "week" | "wk" => ("s", Decimal::from(604_800)),
            "day" | "d" => ("s", Decimal::from(86_400)),
            "hour" | "h" => ("s", Decimal::from(3600)),
            "minute" | "min" => ("s", Decimal::from(60)),
            "second" | "s" => ("s", Decimal::ONE),
            "millisecond" | "ms" => ("s", Decimal::new(1, 3)),
            "kg" => ("g", Decimal::from(1000)),
            "g" => ("g", Decimal::ONE),
            "mg" => ("g", Decimal::new(1, 3)),
            "ug" => ("g", Decimal::new(1, 6)),
            "km" => ("m", Decimal::from(1000)),
            "m" => ("m", Decimal::ONE),
            "cm" => ("m", Decimal::new(1, 2)),
            "mm" => ("m", Decimal::new(1, 3)),
            "[in_i]" => ("m", Decimal::new(254, 4)),
            "[ft_i]" => ("m", Decimal::new(3048, 4)),
            "L" | "l" => ("L", Decimal::ONE),
            "dL" => ("L", Decimal::new(1, 1)),
            "mL" => ("L", Decimal::new(1, 3)),
            "[lb_av]" => ("g", Decimal::new(45_359_237, 5)),
            _ => return None,
        };
        Some((dim, self.value * factor))
    }

    /// Compares two quantities, converting between units of one dimension;
    /// `None` when they cannot be compared.
    pub fn compare(&self, other: &Quantity) -> Option<Ordering> {
        if self.unit == other.unit {
            return Some(self.value.cmp(&other.value));
        }
        let (da, a) = self.canonical()?;
        let (db, b) = other.canonical()?;
        // A calendar word and a UCUM code of the same definite duration are
        // comparable for equality only from weeks down (FHIRPath §5.6.1).
        (da == db).then(|| a.normalize().cmp(&b.normalize()))
    }
}

impl Quantity {
    /// Equivalence (`~`): equal when both are rounded to the precision of
    /// the less precise (`4 'g' ~ 4040 'mg'`).
    pub fn equivalent(&self, other: &Quantity) -> bool {
        let (Some((da, a)), Some((db, b))) = (self.canonical(), other.canonical()) else {
            return self.unit == other.unit && self.value == other.value;
        };
        if da != db {
            return false;
        }
        // Express the other in this one's unit, then compare at the
        // coarser of the two precisions.
        let factor = if self.value.is_zero() {
            Decimal::ONE
        } else {
            a / self.value
        };
        let Some(theirs) = b.checked_div(factor) else {
            return false;
        };
        let scale = self
            .value
            .scale()
            .min(other.value.scale())
            .min(theirs.scale());
        self.value.round_dp(scale) == theirs.round_dp(scale)
    }

    /// Whether the two units measure the same dimension (`cm` and
    /// `[in_i]`), so the quantities can be compared.
    pub fn comparable(&self, other: &Quantity) -> bool {
        match (self.canonical(), other.canonical()) {
            (Some((a, _)), Some((b, _))) => a == b,
            _ => self.unit == other.unit,
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if CALENDAR.contains(&self.unit.as_str()) {
            write!(f, "{} {}", self.value, self.unit)
        } else {
            write!(f, "{} '{}'", self.value, self.unit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_within_a_dimension() {
        let a = Quantity::new(Decimal::ONE, "g");
        let b = Quantity::new(Decimal::from(1000), "mg");
        assert_eq!(a.compare(&b), Some(Ordering::Equal));
        assert_eq!(
            Quantity::new(Decimal::ONE, "g").compare(&Quantity::new(Decimal::ONE, "m")),
            None
        );
    }

    #[test]
    fn plural_calendar_words_are_singular() {
        assert_eq!(Quantity::new(Decimal::from(7), "days").unit, "day");
        assert_eq!(
            Quantity::new(Decimal::from(7), "days").calendar_unit(),
            Some("day")
        );
    }
}
