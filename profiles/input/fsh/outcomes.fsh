// Outcomes over time: the carer quality-of-life score as an Observation of
// its own, so that a council can follow a carer's score across reviews, and
// the outcomes a carer wished to achieve as Goals that support plan
// activities serve.

CodeSystem: CarerQolItem
Id: carer-qol-item
Title: "Carer quality-of-life item"
Description: "The six items of the carer quality-of-life measure, each answered at one of three levels (carer-qol-level)."
* ^caseSensitive = true
* ^content = #complete
* #occupation "Occupation" "Doing things one values and enjoys with one's time."
* #control "Control over daily life"
* #self-care "Looking after oneself" "Sleep, food, one's own health."
* #safety "Personal safety" "Feeling safe."
* #social "Social participation" "Contact with people one likes."
* #support "Encouragement and support" "Encouragement and support in the caring role."

ValueSet: CarerQolItemVS
Id: carer-qol-item
Title: "Carer quality-of-life item"
Description: "The six items."
* insert OurValueSet
* include codes from system CarerQolItem

Invariant: caf-qol-1
Description: "The total is the sum of the six item scores (as much as wanted 2, some 1, little or none 0)."
Expression: "value.exists() implies value = (component.where(value.coding.where(code = 'high').exists()).count() * 2 + component.where(value.coding.where(code = 'some').exists()).count())"
Severity: #error

RuleSet: QolComponent(name, code)
* component[{name}].code = CarerQolItem#{code}
* component[{name}].value[x] only CodeableConcept
* component[{name}].value[x] 1..1
* component[{name}].value[x] from CarerQolLevelVS (required)

Profile: CarerQualityOfLife
Parent: $UKCoreObservation
Id: CarerQualityOfLife
Title: "Carer's quality of life"
Description: "A carer's quality-of-life score from one assessment or review: the six item levels as components and their total (0 to 12) as the value, derived from the answers by fhir_core::caf::rules::carer_qol_score. One per assessment or review, so that a council sees the carer's score over time."
* insert ProfileStatus
* insert UkCoreObservationSliceUrls
* obeys caf-qol-1
* status MS
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category contains survey 1..1
* category[survey] = $obs-category#survey
* code = CafObservation#carer-qol
* subject 1..1 MS
* subject only Reference($UKCorePatient)
* subject ^short = "The carer"
* focus only Reference(CarerRelationship)
* effective[x] 1..1 MS
* effective[x] only dateTime
* derivedFrom 1..* MS
* derivedFrom only Reference(CarerAssessmentResponse)
* value[x] 1..1 MS
* value[x] only integer
* valueInteger ^minValueInteger = 0
* valueInteger ^maxValueInteger = 12
* component 6..6 MS
* component ^slicing.discriminator.type = #pattern
* component ^slicing.discriminator.path = "code"
* component ^slicing.rules = #closed
* component contains
    occupation 1..1 MS and
    control 1..1 MS and
    selfCare 1..1 MS and
    safety 1..1 MS and
    social 1..1 MS and
    support 1..1 MS
* insert QolComponent(occupation, occupation)
* insert QolComponent(control, control)
* insert QolComponent(selfCare, self-care)
* insert QolComponent(safety, safety)
* insert QolComponent(social, social)
* insert QolComponent(support, support)
