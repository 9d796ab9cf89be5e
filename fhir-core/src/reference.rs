//! References between resources: what a literal reference names.

/// `(type, id)` of a literal reference: `Type/id`, `Type/id/_history/n`,
/// or an absolute URL ending so. Fragments, `urn:` and logical
/// references name no stored resource.
///
/// ```
/// use fhir_core::reference::target;
/// assert_eq!(target("Patient/p1"), Some(("Patient".into(), "p1".into())));
/// assert_eq!(target("https://x.example/fhir/Observation/o1/_history/2"), Some(("Observation".into(), "o1".into())));
/// assert_eq!(target("#contained"), None);
/// ```
pub fn target(reference: &str) -> Option<(String, String)> {
    if reference.starts_with('#') || reference.starts_with("urn:") {
        return None;
    }
    let r = reference.split("/_history/").next().unwrap_or(reference);
    let r = r.split(['?', '#']).next().unwrap_or(r);
    let mut parts = r.rsplit('/');
    let id = parts.next()?;
    let t = parts.next()?;
    let typed = t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && t.chars().all(|c| c.is_ascii_alphanumeric());
    (typed && !id.is_empty()).then(|| (t.to_string(), id.to_string()))
}
