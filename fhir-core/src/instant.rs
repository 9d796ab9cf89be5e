//! The instants a FHIR date, dateTime or instant covers, as sortable UTC
//! strings (`2025-10-03T00:00:00.000Z`): what search indexes dates by and
//! what consent periods are judged with, in one place.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// An instant as a sortable UTC string with milliseconds.
///
/// ```
/// use chrono::TimeZone;
/// let t = chrono::Utc.with_ymd_and_hms(2025, 10, 3, 9, 30, 0).unwrap();
/// assert_eq!(fhir_core::instant::format(t), "2025-10-03T09:30:00.000Z");
/// ```
pub fn format(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The range of instants a FHIR date, dateTime or instant covers, as
/// sortable UTC strings: `2025` is the whole year, `2025-10-03T10:00:00Z`
/// one second. A time without a zone is read as UTC.
///
/// # Examples
/// ```
/// let (lo, hi) = fhir_core::instant::range("2025-02").unwrap();
/// assert_eq!(lo, "2025-02-01T00:00:00.000Z");
/// assert_eq!(hi, "2025-02-28T23:59:59.999Z");
/// assert_eq!(fhir_core::instant::range("002\u{55a}01"), None);
/// ```
pub fn range(s: &str) -> Option<(String, String)> {
    let s = s.trim();
    // Every FHIR date form is ASCII; anything else is no date (and the
    // byte positions below are then char boundaries).
    if !s.is_ascii() {
        return None;
    }
    let ms = Duration::milliseconds(1);
    let day = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
    let utc = |d: NaiveDate| -> Option<DateTime<Utc>> {
        Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?))
    };
    match s.len() {
        4 => {
            let y: i32 = s.parse().ok()?;
            let lo = utc(day(y, 1, 1)?)?;
            let hi = utc(day(y + 1, 1, 1)?)? - ms;
            Some((format(lo), format(hi)))
        }
        7 => {
            let y: i32 = s[..4].parse().ok()?;
            let m: u32 = s[5..7].parse().ok()?;
            if &s[4..5] != "-" {
                return None;
            }
            let first = day(y, m, 1)?;
            let next = if m == 12 {
                day(y + 1, 1, 1)?
            } else {
                day(y, m + 1, 1)?
            };
            Some((format(utc(first)?), format(utc(next)? - ms)))
        }
        10 => {
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
            let lo = utc(d)?;
            Some((format(lo), format(lo + Duration::days(1) - ms)))
        }
        _ => {
            let parsed = DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
                        .ok()
                        .map(|n| Utc.from_utc_datetime(&n))
                })?;
            let has_fraction = s.contains('.');
            let hi = if has_fraction {
                parsed
            } else {
                parsed + Duration::seconds(1) - ms
            };
            Some((format(parsed), format(hi)))
        }
    }
}
