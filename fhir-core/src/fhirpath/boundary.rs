//! `lowBoundary()` and `highBoundary()`: the edges of the range a value of
//! limited precision stands for (`1.587` is somewhere in [1.5865, 1.5875)).

use rust_decimal::{Decimal, RoundingStrategy};

use super::quantity::Quantity;
use super::temporal::{Kind, Precision, Temporal};
use super::value::Item;

/// The boundary of `item` at `precision` digits (decimal places for
/// numbers; 4/6/8/10/12/14/17 digits for dates and date-times; 2/4/6/9 for
/// times). `None` when the precision is impossible.
pub fn boundary<'a>(item: &Item<'a>, precision: Option<i64>, high: bool) -> Option<Item<'a>> {
    match item {
        Item::Integer(n) => decimal(Decimal::from(*n), precision, high).map(Item::Decimal),
        Item::Decimal(d) => decimal(*d, precision, high).map(Item::Decimal),
        Item::Quantity(q) => decimal(q.value, precision, high).map(|v| {
            Item::Quantity(Quantity {
                value: v,
                unit: q.unit.clone(),
            })
        }),
        Item::Temporal(t) => temporal(t, precision, high).map(Item::Temporal),
        _ => None,
    }
}

fn decimal(v: Decimal, precision: Option<i64>, high: bool) -> Option<Decimal> {
    let p = precision.unwrap_or(8);
    if !(0..=28).contains(&p) {
        return None;
    }
    // Half a unit of the last written digit either side.
    let half = Decimal::new(5, v.scale() + 1);
    let edge = if high { v + half } else { v - half };
    let strategy = if high {
        RoundingStrategy::ToPositiveInfinity
    } else {
        RoundingStrategy::ToNegativeInfinity
    };
    let mut r = edge.round_dp_with_strategy(p as u32, strategy);
    r.rescale(p as u32);
    Some(r)
}

fn temporal(t: &Temporal, precision: Option<i64>, high: bool) -> Option<Temporal> {
    let target = match (t.kind, precision) {
        (Kind::Time, None | Some(9)) => Precision::Millisecond,
        (Kind::Time, Some(2)) => Precision::Hour,
        (Kind::Time, Some(4)) => Precision::Minute,
        (Kind::Time, Some(6)) => Precision::Second,
        (Kind::Time, _) => return None,
        (_, None | Some(17)) => Precision::Millisecond,
        (_, Some(4)) => Precision::Year,
        (_, Some(6)) => Precision::Month,
        (_, Some(8)) => Precision::Day,
        (_, Some(10)) => Precision::Hour,
        (_, Some(12)) => Precision::Minute,
        (_, Some(14)) => Precision::Second,
        _ => return None,
    };
    let mut out = *t;
    let fill = |p: Precision| t.precision < p;
    if fill(Precision::Month) {
        out.month = if high { 12 } else { 1 };
    }
    if fill(Precision::Day) {
        out.day = if high {
            last_day(out.year, out.month)
        } else {
            1
        };
    }
    if fill(Precision::Hour) {
        out.hour = if high { 23 } else { 0 };
    }
    if fill(Precision::Minute) {
        out.minute = if high { 59 } else { 0 };
    }
    if fill(Precision::Second) {
        out.second = if high { 59 } else { 0 };
    }
    if fill(Precision::Millisecond) {
        out.millis = if high { 999 } else { 0 };
    }
    out.precision = target;
    if target <= Precision::Day && t.kind != Kind::Time {
        out.kind = if t.kind == Kind::DateTime && target > Precision::Day {
            Kind::DateTime
        } else {
            t.kind
        };
        if target <= Precision::Day {
            out.kind = Kind::Date;
            out.offset = None;
        }
    } else if t.kind == Kind::DateTime && t.offset.is_none() {
        // An unzoned time could be in any zone: the earliest is +14:00,
        // the latest -12:00.
        out.offset = Some(if high { -12 * 60 } else { 14 * 60 });
    }
    Some(out.truncated())
}

fn last_day(year: i32, month: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|d| chrono::NaiveDate::from_ymd_opt(year, month, *d).is_some())
        .unwrap_or(28)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn decimal_boundaries() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(
            decimal(d("1.587"), None, false).unwrap().to_string(),
            "1.58650000"
        );
        assert_eq!(
            decimal(d("1.587"), Some(2), true).unwrap().to_string(),
            "1.59"
        );
        assert_eq!(
            decimal(d("-1.587"), Some(2), false).unwrap().to_string(),
            "-1.59"
        );
        assert_eq!(
            decimal(d("120"), Some(2), false).unwrap().to_string(),
            "119.50"
        );
        assert!(decimal(d("1"), Some(-1), false).is_none());
    }
}
