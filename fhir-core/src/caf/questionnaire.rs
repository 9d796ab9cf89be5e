//! `CarerAssessmentQuestionnaire` (Questionnaire on UKCore-Questionnaire):
//! the guide's three assessment forms, for adult carers, young carers and
//! parent carers. The forms are the guide's published instances, compiled
//! into this crate, so a response built here always matches the form the
//! validator checks it against.

use serde_json::Value;

use super::CANONICAL;

/// Which carer's assessment questionnaire.
///
/// # Examples
/// ```
/// use fhir_core::caf::QuestionnaireVariant;
/// for v in QuestionnaireVariant::ALL {
///     assert_eq!(QuestionnaireVariant::from_url(&v.url()), Some(v));
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuestionnaireVariant {
    /// Adult carers (Care Act 2014 s10), with the reg 3 section.
    Adult,
    /// Young carers (Children Act 1989 s17ZA).
    YoungCarer,
    /// Parent carers of a disabled child (Children Act 1989 s17ZD).
    ParentCarer,
}

impl QuestionnaireVariant {
    /// The three variants.
    pub const ALL: [QuestionnaireVariant; 3] = [
        QuestionnaireVariant::Adult,
        QuestionnaireVariant::YoungCarer,
        QuestionnaireVariant::ParentCarer,
    ];

    /// The questionnaire's canonical URL.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::QuestionnaireVariant;
    /// assert_eq!(QuestionnaireVariant::YoungCarer.url(),
    ///            "https://fhir.carer-fhir.uk/Questionnaire/young-carer-assessment");
    /// ```
    pub fn url(self) -> String {
        format!("{CANONICAL}/Questionnaire/{}", self.id())
    }

    /// The variant whose canonical URL this is, with or without a
    /// `|version` suffix (as in `QuestionnaireResponse.questionnaire`).
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::QuestionnaireVariant;
    /// let url = "https://fhir.carer-fhir.uk/Questionnaire/parent-carer-assessment|0.1.0";
    /// assert_eq!(QuestionnaireVariant::from_url(url), Some(QuestionnaireVariant::ParentCarer));
    /// assert_eq!(QuestionnaireVariant::from_url("https://example.org/Questionnaire/x"), None);
    /// ```
    pub fn from_url(url: &str) -> Option<QuestionnaireVariant> {
        let bare = url.split('|').next().unwrap_or(url);
        Self::ALL.into_iter().find(|v| v.url() == bare)
    }

    fn id(self) -> &'static str {
        match self {
            QuestionnaireVariant::Adult => "carer-assessment",
            QuestionnaireVariant::YoungCarer => "young-carer-assessment",
            QuestionnaireVariant::ParentCarer => "parent-carer-assessment",
        }
    }

    /// The guide's `CarerAssessmentQuestionnaire` for this variant, as
    /// published in `profiles/`.
    ///
    /// # Examples
    /// ```
    /// let q = fhir_core::caf::QuestionnaireVariant::Adult.questionnaire();
    /// assert_eq!(q["resourceType"], "Questionnaire");
    /// assert_eq!(q["url"], "https://fhir.carer-fhir.uk/Questionnaire/carer-assessment");
    /// ```
    pub fn questionnaire(self) -> Value {
        let text = match self {
            QuestionnaireVariant::Adult => include_str!("../../../profiles/fsh-generated/resources/Questionnaire-carer-assessment.json"),
            QuestionnaireVariant::YoungCarer => include_str!("../../../profiles/fsh-generated/resources/Questionnaire-young-carer-assessment.json"),
            QuestionnaireVariant::ParentCarer => include_str!("../../../profiles/fsh-generated/resources/Questionnaire-parent-carer-assessment.json"),
        };
        // The guide's output is checked to parse by the tests; Null here
        // would mean a corrupt checkout.
        serde_json::from_str(text).unwrap_or(Value::Null)
    }
}

/// The `CarerAssessmentQuestionnaire` profile: the guide publishes its
/// instances (one per [`QuestionnaireVariant`]) rather than having them
/// built field by field.
///
/// # Examples
/// ```
/// use fhir_core::caf::{CarerAssessmentQuestionnaire, QuestionnaireVariant};
/// let q = CarerAssessmentQuestionnaire::form(QuestionnaireVariant::YoungCarer);
/// assert_eq!(CarerAssessmentQuestionnaire::read(&q).variant(), Some(QuestionnaireVariant::YoungCarer));
/// ```
pub struct CarerAssessmentQuestionnaire;

impl CarerAssessmentQuestionnaire {
    /// The published form for `variant` (the same as
    /// [`QuestionnaireVariant::questionnaire`]).
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::{CarerAssessmentQuestionnaire, QuestionnaireVariant};
    /// let q = CarerAssessmentQuestionnaire::form(QuestionnaireVariant::ParentCarer);
    /// assert_eq!(q["id"], "parent-carer-assessment");
    /// ```
    pub fn form(variant: QuestionnaireVariant) -> Value {
        variant.questionnaire()
    }

    /// Typed access to a carer's assessment questionnaire.
    ///
    /// See [`CarerAssessmentQuestionnaireReader`] for an example.
    pub fn read(resource: &Value) -> CarerAssessmentQuestionnaireReader<'_> {
        CarerAssessmentQuestionnaireReader(resource)
    }
}

/// Typed access to a `CarerAssessmentQuestionnaire`; made by
/// [`CarerAssessmentQuestionnaire::read`].
///
/// # Examples
/// ```
/// use fhir_core::caf::{CarerAssessmentQuestionnaire, QuestionnaireVariant};
/// let q = QuestionnaireVariant::Adult.questionnaire();
/// let read = CarerAssessmentQuestionnaire::read(&q);
/// assert_eq!(read.variant(), Some(QuestionnaireVariant::Adult));
/// assert_eq!(read.item_type("necessary-care"), Some("boolean"));
/// assert_eq!(read.item_type("reg3-home"), Some("choice"));
/// assert!(read.link_ids().contains(&"qol-safety"));
/// // The young carer's form asks whether the caring is appropriate, not reg 3:
/// let young = QuestionnaireVariant::YoungCarer.questionnaire();
/// assert_eq!(CarerAssessmentQuestionnaire::read(&young).item_type("reg3-home"), None);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerAssessmentQuestionnaireReader<'a>(&'a Value);

impl<'a> CarerAssessmentQuestionnaireReader<'a> {
    /// Which of the guide's forms this is, by its canonical URL.
    pub fn variant(&self) -> Option<QuestionnaireVariant> {
        QuestionnaireVariant::from_url(self.0["url"].as_str()?)
    }
    /// The form's version.
    pub fn version(&self) -> Option<&'a str> {
        self.0["version"].as_str()
    }
    /// Every item's linkId, groups included, depth first.
    pub fn link_ids(&self) -> Vec<&'a str> {
        fn walk<'a>(items: &'a Value, out: &mut Vec<&'a str>) {
            for item in items.as_array().into_iter().flatten() {
                if let Some(id) = item["linkId"].as_str() {
                    out.push(id);
                }
                walk(&item["item"], out);
            }
        }
        let mut out = Vec::new();
        walk(&self.0["item"], &mut out);
        out
    }
    /// The item with this linkId, searched depth first.
    pub fn item(&self, link_id: &str) -> Option<&'a Value> {
        item(&self.0["item"], link_id)
    }
    /// The type (`boolean`, `choice`, `group`, …) of the item with this linkId.
    pub fn item_type(&self, link_id: &str) -> Option<&'a str> {
        self.item(link_id)?["type"].as_str()
    }
}

/// The item `link_id` in `items`, searched depth first.
pub(super) fn item<'a>(items: &'a Value, link_id: &str) -> Option<&'a Value> {
    items.as_array()?.iter().find_map(|i| {
        if i["linkId"].as_str() == Some(link_id) {
            Some(i)
        } else {
            item(&i["item"], link_id)
        }
    })
}
