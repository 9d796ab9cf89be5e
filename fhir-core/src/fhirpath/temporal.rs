//! FHIRPath Date, DateTime and Time values, which carry their precision.
//!
//! `@2019` and `@2019-01-01` are different values: comparing them is
//! uncertain (empty), not false. Calendar arithmetic is chrono's.

use std::cmp::Ordering;
use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// How much of a temporal value is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    /// Year.
    Year,
    /// Month.
    Month,
    /// Day.
    Day,
    /// Hour.
    Hour,
    /// Minute.
    Minute,
    /// Second.
    Second,
    /// Millisecond.
    Millisecond,
}

/// Which FHIRPath type a [`Temporal`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `@2019-02-03`.
    Date,
    /// `@2019-02-03T04:05`.
    DateTime,
    /// `@T04:05`.
    Time,
}

/// A Date, DateTime or Time with its precision and (DateTime only) zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Temporal {
    /// Date, DateTime or Time.
    pub kind: Kind,
    /// The finest component known.
    pub precision: Precision,
    /// Calendar and clock components; those finer than `precision` are 0
    /// (month and day are 1).
    pub year: i32,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
    /// 0–23.
    pub hour: u32,
    /// 0–59.
    pub minute: u32,
    /// 0–59.
    pub second: u32,
    /// 0–999.
    pub millis: u32,
    /// Offset from UTC in minutes, when stated.
    pub offset: Option<i32>,
}

fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    if s.len() < n || !s.as_bytes()[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

impl Temporal {
    /// Parses a FHIRPath literal body (`2019-02`, `2019-02-03T04:05Z`,
    /// `T12:00`); a trailing `T` makes a DateTime (`2019T`).
    pub fn parse_literal(s: &str) -> Option<Temporal> {
        match s.strip_prefix('T') {
            Some(t) => Temporal::parse_time(t),
            None => Temporal::parse_date_time(s, true),
        }
    }

    /// Parses a FHIR `date`, `dateTime` or `instant` value; with
    /// `allow_trailing_t`, also the FHIRPath `2019T` form.
    pub fn parse_date_time(s: &str, allow_trailing_t: bool) -> Option<Temporal> {
        let mut t = Temporal {
            kind: Kind::Date,
            precision: Precision::Year,
            year: 0,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            millis: 0,
            offset: None,
        };
        let (y, mut rest) = digits(s, 4)?;
        t.year = y as i32;
        if let Some(r) = rest.strip_prefix('-') {
            let (m, r) = digits(r, 2)?;
            t.month = m;
            t.precision = Precision::Month;
            rest = r;
            if let Some(r) = rest.strip_prefix('-') {
                let (d, r) = digits(r, 2)?;
                t.day = d;
                t.precision = Precision::Day;
                rest = r;
            }
        }
        if let Some(r) = rest.strip_prefix('T') {
            t.kind = Kind::DateTime;
            if r.is_empty() && allow_trailing_t {
                return t.valid().then_some(t);
            }
            let (time, zone) = split_zone(r);
            let time = Temporal::parse_time(time)?;
            t.hour = time.hour;
            t.minute = time.minute;
            t.second = time.second;
            t.millis = time.millis;
            t.precision = time.precision;
            t.offset = parse_zone(zone)?;
            rest = "";
        }
        (rest.is_empty() && t.valid()).then_some(t)
    }

    /// Parses a time of day: `hh`, `hh:mm`, `hh:mm:ss`, `hh:mm:ss.fff`.
    pub fn parse_time(s: &str) -> Option<Temporal> {
        let mut t = Temporal {
            kind: Kind::Time,
            precision: Precision::Hour,
            year: 0,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            millis: 0,
            offset: None,
        };
        let (h, mut rest) = digits(s, 2)?;
        t.hour = h;
        if let Some(r) = rest.strip_prefix(':') {
            let (m, r) = digits(r, 2)?;
            t.minute = m;
            t.precision = Precision::Minute;
            rest = r;
            if let Some(r) = rest.strip_prefix(':') {
                let (sec, r) = digits(r, 2)?;
                t.second = sec;
                t.precision = Precision::Second;
                rest = r;
                if let Some(r) = rest.strip_prefix('.') {
                    let n = r.bytes().take_while(u8::is_ascii_digit).count();
                    if n == 0 {
                        return None;
                    }
                    let frac = &r[..n];
                    let padded = format!("{:0<3}", &frac[..n.min(3)]);
                    t.millis = padded.parse().ok()?;
                    t.precision = Precision::Millisecond;
                    rest = &r[n..];
                }
            }
        }
        (rest.is_empty() && t.hour < 24 && t.minute < 60 && t.second < 60).then_some(t)
    }

    /// This value with the components finer than its precision reset, so
    /// that equal values compare equal field by field.
    pub fn truncated(mut self) -> Temporal {
        let p = self.precision;
        if self.kind != Kind::Time {
            if p < Precision::Month {
                self.month = 1;
            }
            if p < Precision::Day {
                self.day = 1;
            }
        }
        if p < Precision::Hour {
            self.hour = 0;
        }
        if p < Precision::Minute {
            self.minute = 0;
        }
        if p < Precision::Second {
            self.second = 0;
        }
        if p < Precision::Millisecond {
            self.millis = 0;
        }
        self
    }

    fn valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && NaiveDate::from_ymd_opt(self.year, self.month, self.day).is_some()
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }

    /// The components in order, up to `precision` (seconds and
    /// milliseconds count as one component, as FHIRPath compares them).
    fn components(&self) -> Vec<(Precision, i64)> {
        let all = [
            (Precision::Year, self.year as i64),
            (Precision::Month, self.month as i64),
            (Precision::Day, self.day as i64),
            (Precision::Hour, self.hour as i64),
            (Precision::Minute, self.minute as i64),
            (Precision::Second, (self.second * 1000 + self.millis) as i64),
        ];
        let first = if self.kind == Kind::Time { 3 } else { 0 };
        let last = self.precision.min(Precision::Second);
        all[first..]
            .iter()
            .copied()
            .filter(|(p, _)| *p <= last)
            .collect()
    }

    /// What two values that [`Temporal::compare`] finds equal always
    /// share: whether they are times of day, and the components compared
    /// (moved to UTC where `compare` moves them). Used to find equal values
    /// by hashing rather than by comparing every pair.
    pub(crate) fn equality_components(&self) -> (bool, Vec<i64>) {
        let n = if self.offset.is_some() {
            self.normalised()
        } else {
            *self
        };
        (
            self.kind == Kind::Time,
            n.components().into_iter().map(|(_, v)| v).collect(),
        )
    }

    /// This value moved to UTC when it has a zone and a time.
    fn normalised(&self) -> Temporal {
        match (self.kind, self.offset) {
            (Kind::DateTime, Some(off)) if off != 0 && self.precision >= Precision::Hour => {
                let shifted = self.to_naive() - Duration::minutes(off as i64);
                let mut t = Temporal::from_naive(shifted, self.kind, self.precision);
                t.offset = Some(0);
                t
            }
            _ => *self,
        }
    }

    /// FHIRPath comparison: `None` when the values differ only below the
    /// precision one of them has (uncertain), or are of different kinds.
    pub fn compare(&self, other: &Temporal) -> Option<Ordering> {
        let date_like = |k| k == Kind::Date || k == Kind::DateTime;
        if self.kind != other.kind && !(date_like(self.kind) && date_like(other.kind)) {
            return None;
        }
        // One zoned and one unzoned time of day cannot be placed on one
        // timeline: uncertain.
        let timed = self.precision >= Precision::Hour && other.precision >= Precision::Hour;
        if timed && self.kind == Kind::DateTime && self.offset.is_some() != other.offset.is_some() {
            return None;
        }
        let (a, b) = if self.offset.is_some() && other.offset.is_some() {
            (self.normalised(), other.normalised())
        } else {
            (*self, *other)
        };
        let (ca, cb) = (a.components(), b.components());
        for i in 0..ca.len().max(cb.len()) {
            match (ca.get(i), cb.get(i)) {
                (Some((_, x)), Some((_, y))) => {
                    if x != y {
                        return Some(x.cmp(y));
                    }
                }
                _ => return None,
            }
        }
        Some(Ordering::Equal)
    }

    /// FHIRPath equivalence (`~`): different precisions are not equivalent.
    pub fn equivalent(&self, other: &Temporal) -> bool {
        self.precision.min(Precision::Second) == other.precision.min(Precision::Second)
            && self.compare(other) == Some(Ordering::Equal)
    }

    fn to_naive(self) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(self.year, self.month, self.day)
            .unwrap_or_default()
            .and_hms_milli_opt(self.hour, self.minute, self.second, self.millis)
            .unwrap_or_default()
    }

    fn from_naive(n: NaiveDateTime, kind: Kind, precision: Precision) -> Temporal {
        Temporal {
            kind,
            precision,
            year: n.year(),
            month: n.month(),
            day: n.day(),
            hour: n.hour(),
            minute: n.minute(),
            second: n.second(),
            millis: n.nanosecond() / 1_000_000,
            offset: None,
        }
    }

    /// Adds a whole number of calendar units (`year`, `month`, `week`,
    /// `day`, `hour`, `minute`, `second`, `millisecond`). Units finer than
    /// the value's precision are ignored, as FHIRPath says; month and year
    /// arithmetic clamps the day to the month's end.
    pub fn add(&self, amount: i64, unit: &str) -> Option<Temporal> {
        let unit_precision = match unit {
            "year" => Precision::Year,
            "month" => Precision::Month,
            "week" | "day" => Precision::Day,
            "hour" => Precision::Hour,
            "minute" => Precision::Minute,
            "second" => Precision::Second,
            "millisecond" => Precision::Millisecond,
            _ => return None,
        };
        if self.kind == Kind::Time {
            if unit_precision < Precision::Hour {
                return None;
            }
            let base =
                NaiveTime::from_hms_milli_opt(self.hour, self.minute, self.second, self.millis)?;
            let d = duration(amount, unit)?;
            let (n, _) = base.overflowing_add_signed(d);
            let mut t = *self;
            t.hour = n.hour();
            t.minute = n.minute();
            t.second = n.second();
            t.millis = n.nanosecond() / 1_000_000;
            return Some(t);
        }
        let mut out = *self;
        match unit_precision {
            Precision::Year | Precision::Month => {
                let months = if unit == "year" { amount * 12 } else { amount };
                if self.precision == Precision::Year && unit == "month" {
                    out.year += (months / 12) as i32;
                    return Some(out);
                }
                let total = self.year as i64 * 12 + (self.month as i64 - 1) + months;
                out.year = total.div_euclid(12) as i32;
                out.month = (total.rem_euclid(12) + 1) as u32;
                let last = last_day(out.year, out.month);
                out.day = out.day.min(last);
            }
            _ => {
                let d = duration(amount, unit)?;
                // Below the value's precision the amount is whole units of
                // that precision (7.7 days on a date is 7 days).
                if self.precision < Precision::Day {
                    return Some(out);
                }
                let n = self.to_naive().checked_add_signed(d)?;
                out = Temporal::from_naive(n, self.kind, self.precision);
                out.offset = self.offset;
            }
        }
        Some(out)
    }
}

fn last_day(year: i32, month: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|d| NaiveDate::from_ymd_opt(year, month, *d).is_some())
        .unwrap_or(28)
}

fn duration(amount: i64, unit: &str) -> Option<Duration> {
    Some(match unit {
        "week" => Duration::weeks(amount),
        "day" => Duration::days(amount),
        "hour" => Duration::hours(amount),
        "minute" => Duration::minutes(amount),
        "second" => Duration::seconds(amount),
        "millisecond" => Duration::milliseconds(amount),
        _ => return None,
    })
}

fn split_zone(s: &str) -> (&str, &str) {
    match s.find(['Z', '+', '-']) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

fn parse_zone(z: &str) -> Option<Option<i32>> {
    if z.is_empty() {
        return Some(None);
    }
    if z == "Z" {
        return Some(Some(0));
    }
    let sign = if z.starts_with('-') { -1 } else { 1 };
    let (h, r) = digits(&z[1..], 2)?;
    let (m, r) = digits(r.strip_prefix(':')?, 2)?;
    r.is_empty()
        .then_some(Some(sign * (h as i32 * 60 + m as i32)))
}

impl fmt::Display for Temporal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            write!(f, "{:02}", self.hour)?;
            if self.precision >= Precision::Minute {
                write!(f, ":{:02}", self.minute)?;
            }
            if self.precision >= Precision::Second {
                write!(f, ":{:02}", self.second)?;
            }
            if self.precision >= Precision::Millisecond {
                write!(f, ".{:03}", self.millis)?;
            }
            Ok(())
        };
        if self.kind == Kind::Time {
            return time(f);
        }
        write!(f, "{:04}", self.year)?;
        if self.precision >= Precision::Month {
            write!(f, "-{:02}", self.month)?;
        }
        if self.precision >= Precision::Day {
            write!(f, "-{:02}", self.day)?;
        }
        if self.kind == Kind::DateTime {
            write!(f, "T")?;
            if self.precision >= Precision::Hour {
                time(f)?;
                match self.offset {
                    Some(0) => write!(f, "Z")?,
                    Some(o) => write!(
                        f,
                        "{}{:02}:{:02}",
                        if o < 0 { '-' } else { '+' },
                        o.abs() / 60,
                        o.abs() % 60
                    )?,
                    None => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Temporal {
        Temporal::parse_literal(s).unwrap()
    }

    #[test]
    fn different_precisions_are_uncertain() {
        assert_eq!(t("2012-04").compare(&t("2012-04-15")), None);
        assert_eq!(t("2012-04").compare(&t("2012-05-15")), Some(Ordering::Less));
    }

    #[test]
    fn zones_are_compared_in_utc() {
        assert_eq!(
            t("2017-11-05T01:30:00.0-04:00").compare(&t("2017-11-05T05:30:00.0Z")),
            Some(Ordering::Equal)
        );
    }

    #[test]
    fn month_arithmetic_clamps() {
        assert_eq!(
            t("2019-01-31").add(1, "month").unwrap().to_string(),
            "2019-02-28"
        );
        assert_eq!(
            t("1973-12-25").add(7, "day").unwrap().to_string(),
            "1974-01-01"
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "2019",
            "2019-02",
            "2019-02-03",
            "2019-02-03T04:05:06.789+10:00",
            "T12:30",
            "2015T",
        ] {
            assert_eq!(
                format!("{}{}", if s.starts_with('T') { "T" } else { "" }, t(s)),
                s
            );
        }
    }
}
