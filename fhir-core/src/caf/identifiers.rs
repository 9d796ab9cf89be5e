//! NHS numbers and ODS codes, the two identifiers every CAF record carries,
//! and the other ways the guide names an organisation (a school's DfE URN,
//! any other identifier).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind, Result};

/// The identifier system of NHS numbers.
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
/// The identifier system of ODS organisation codes.
pub const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";

/// An NHS number: ten digits, the last a modulus 11 check digit.
///
/// Spaces (as printed, `943 476 5919`) are accepted and dropped.
///
/// # Examples
/// ```
/// use fhir_core::caf::NhsNumber;
/// let n: NhsNumber = "999 123 4004".parse().unwrap();
/// assert_eq!(n.as_str(), "9991234004");
/// assert_eq!(n.to_string(), "999 123 4004");
/// assert!("9991234005".parse::<NhsNumber>().is_err()); // wrong check digit
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber(String);

impl NhsNumber {
    /// The ten digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The modulus 11 check digit of nine digits, or `None` when the
    /// remainder makes 10, which no NHS number may have.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(fhir_core::caf::NhsNumber::check_digit(&[9, 9, 9, 1, 2, 3, 4, 0, 0]), Some(4));
    /// ```
    pub fn check_digit(digits: &[u8; 9]) -> Option<u8> {
        let sum: u32 = digits
            .iter()
            .enumerate()
            .map(|(i, d)| u32::from(*d) * (10 - i as u32))
            .sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            c => Some(c as u8),
        }
    }

    /// The FHIR Identifier: `{"system": NHS_NUMBER_SYSTEM, "value": …}`.
    pub fn identifier(&self) -> serde_json::Value {
        serde_json::json!({ "system": NHS_NUMBER_SYSTEM, "value": self.0 })
    }
}

impl FromStr for NhsNumber {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let digits: String = s.chars().filter(|c| *c != ' ').collect();
        let bad = |why: &str| {
            Err(Error::new(
                ErrorKind::Invalid,
                format!("{s:?} is not an NHS number: {why}"),
            ))
        };
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return bad("an NHS number is ten digits");
        }
        let d: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
        let mut nine = [0u8; 9];
        nine.copy_from_slice(&d[..9]);
        match Self::check_digit(&nine) {
            Some(c) if c == d[9] => Ok(NhsNumber(digits)),
            Some(c) => bad(&format!("the check digit should be {c}, not {}", d[9])),
            None => bad("no NHS number starts with these nine digits (check digit 10)"),
        }
    }
}

impl fmt::Display for NhsNumber {
    /// As printed on NHS letters: `999 123 4004`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }
}

/// An ODS (Organisation Data Service) code: a GP practice (`A81001`), a
/// local authority, a trust (`RX1`). Three to ten upper-case letters and
/// digits; lower case is accepted and upper-cased.
///
/// # Examples
/// ```
/// use fhir_core::caf::OdsCode;
/// let gp: OdsCode = "a81001".parse().unwrap();
/// assert_eq!(gp.as_str(), "A81001");
/// assert!("A8-1001".parse::<OdsCode>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OdsCode(String);

impl OdsCode {
    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A logical FHIR Reference to the organisation by its ODS code.
    pub fn reference(&self) -> serde_json::Value {
        serde_json::json!({ "identifier": { "system": ODS_SYSTEM, "value": self.0 } })
    }
}

impl FromStr for OdsCode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let code = s.trim().to_ascii_uppercase();
        if (3..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(OdsCode(code))
        } else {
            Err(Error::new(
                ErrorKind::Invalid,
                format!("{s:?} is not an ODS code: three to ten letters and digits"),
            ))
        }
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The identifier system of the Department for Education's Unique Reference
/// Numbers of schools and colleges. UK Core publishes none, so the guide
/// defines it.
pub const DFE_URN_SYSTEM: &str = "https://fhir.carer-fhir.uk/Id/dfe-urn";

/// A school's or college's Unique Reference Number (DfE URN): six digits,
/// 100000 to 999999.
///
/// # Examples
/// ```
/// use fhir_core::caf::SchoolUrn;
/// let urn: SchoolUrn = "123456".parse().unwrap();
/// assert_eq!(urn.as_str(), "123456");
/// assert!("12345".parse::<SchoolUrn>().is_err());
/// assert!("012345".parse::<SchoolUrn>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchoolUrn(String);

impl SchoolUrn {
    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SchoolUrn {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let urn = s.trim();
        if urn.len() == 6 && urn.bytes().all(|b| b.is_ascii_digit()) && !urn.starts_with('0') {
            Ok(SchoolUrn(urn.to_string()))
        } else {
            Err(Error::new(
                ErrorKind::Invalid,
                format!("{s:?} is not a DfE URN: six digits, 100000 to 999999"),
            ))
        }
    }
}

impl fmt::Display for SchoolUrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An organisation named by identifier: an NHS or council organisation by
/// ODS code, a school or college by DfE URN, or any other organisation by
/// another identifier (a charity or company number, an employer's own).
///
/// # Examples
/// ```
/// use fhir_core::caf::OrganisationId;
/// let school = OrganisationId::School("123456".parse().unwrap());
/// let r = school.reference();
/// assert_eq!(r["identifier"]["system"], "https://fhir.carer-fhir.uk/Id/dfe-urn");
/// assert_eq!(OrganisationId::from_reference(&r), Some(school));
/// let other = OrganisationId::Other {
///     system: "https://find-and-update.company-information.service.gov.uk".into(),
///     value: "01234567".into(),
/// };
/// assert_eq!(OrganisationId::from_reference(&other.reference()), Some(other));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrganisationId {
    /// By ODS code (GP practices, NHS trusts, councils).
    Ods(OdsCode),
    /// By DfE Unique Reference Number (schools and colleges).
    School(SchoolUrn),
    /// By another identifier.
    Other {
        /// The identifier's system (an absolute URI).
        system: String,
        /// The identifier's value.
        value: String,
    },
}

impl OrganisationId {
    /// The identifier's system.
    pub fn system(&self) -> &str {
        match self {
            OrganisationId::Ods(_) => ODS_SYSTEM,
            OrganisationId::School(_) => DFE_URN_SYSTEM,
            OrganisationId::Other { system, .. } => system,
        }
    }

    /// The identifier's value.
    pub fn value(&self) -> &str {
        match self {
            OrganisationId::Ods(c) => c.as_str(),
            OrganisationId::School(u) => u.as_str(),
            OrganisationId::Other { value, .. } => value,
        }
    }

    /// A Reference to the organisation by identifier.
    pub fn reference(&self) -> serde_json::Value {
        serde_json::json!({ "identifier": { "system": self.system(), "value": self.value() } })
    }

    /// The organisation a Reference names by identifier; `None` when it
    /// has no identifier, or an ODS code or URN that does not parse.
    pub fn from_reference(reference: &serde_json::Value) -> Option<OrganisationId> {
        let id = &reference["identifier"];
        let system = id["system"].as_str()?;
        let value = id["value"].as_str()?;
        Some(match system {
            ODS_SYSTEM => OrganisationId::Ods(value.parse().ok()?),
            DFE_URN_SYSTEM => OrganisationId::School(value.parse().ok()?),
            _ => OrganisationId::Other {
                system: system.to_string(),
                value: value.to_string(),
            },
        })
    }
}

impl From<OdsCode> for OrganisationId {
    fn from(code: OdsCode) -> Self {
        OrganisationId::Ods(code)
    }
}

impl From<SchoolUrn> for OrganisationId {
    fn from(urn: SchoolUrn) -> Self {
        OrganisationId::School(urn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_good_and_bad_nhs_numbers() {
        for good in ["9000000009", "9991234004", "9434765919", "943 476 5919"] {
            assert!(good.parse::<NhsNumber>().is_ok(), "{good}");
        }
        for bad in ["9434765918", "943476591", "94347659190", "94347659X9", ""] {
            assert!(bad.parse::<NhsNumber>().is_err(), "{bad}");
        }
        // 123456789x: sum 210, 11 - 210 % 11 = 10: no valid check digit.
        let err = "1234567890".parse::<NhsNumber>().unwrap_err();
        assert!(err.message.contains("check digit 10"), "{err}");
    }
}
