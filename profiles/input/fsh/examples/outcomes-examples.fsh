// Mary's outcomes over time: what she wished to achieve (Goals) and the
// support plan activities that serve them, her quality-of-life score at her
// assessment, and again at her review a year later.

Instance: mary-goal-time-for-herself
InstanceOf: Goal
Title: "Mary's outcome: an afternoon a week for herself"
Description: "What Mary said she wanted to be different: time to go to her choir again."
* lifecycleStatus = #active
* achievementStatus = http://terminology.hl7.org/CodeSystem/goal-achievement#improving "Improving"
* category[0] = Reg3Outcome#recreation "Recreational activities"
* description.text = "An afternoon a week for herself, to go back to her choir."
* subject = Reference(mary-jones)
* startDate = "2025-11-15"

Instance: mary-goal-keep-in-touch
InstanceOf: Goal
Title: "Mary's outcome: keep in touch with her sister"
Description: "Mary wants to visit her sister in Wales twice a year."
* lifecycleStatus = #active
* achievementStatus = http://terminology.hl7.org/CodeSystem/goal-achievement#achieved "Achieved"
* category[0] = Reg3Outcome#relationships "Family and personal relationships"
* description.text = "Visit her sister in Wales twice a year."
* subject = Reference(mary-jones)
* startDate = "2025-11-15"

RuleSet: QolItemLevel(slice, code, level, display)
* component[{slice}].code = CarerQolItem#{code}
* component[{slice}].valueCodeableConcept = CarerQolLevel#{level} "{display}"

Instance: mary-qol-2025
InstanceOf: CarerQualityOfLife
Title: "Mary's quality of life at her assessment: 5 of 12"
Description: "Derived from Mary's self-assessment: some occupation, some control, little self-care, safe, little social contact, some support."
* meta.profile[+] = Canonical($UKCoreObservation)
* status = #final
* category[survey] = $obs-category#survey "Survey"
* code = CafObservation#carer-qol "Carer's quality of life"
* subject = Reference(mary-jones)
* focus = Reference(mary-cares-for-arthur)
* effectiveDateTime = "2025-11-01T10:30:00Z"
* derivedFrom = Reference(mary-self-assessment)
* valueInteger = 5
* insert QolItemLevel(occupation, occupation, some, Some\, but not enough)
* insert QolItemLevel(control, control, some, Some\, but not enough)
* insert QolItemLevel(selfCare, self-care, low, Little or none)
* insert QolItemLevel(safety, safety, high, As much as I want)
* insert QolItemLevel(social, social, low, Little or none)
* insert QolItemLevel(support, support, some, Some\, but not enough)

Instance: mary-review-response
InstanceOf: CarerAssessmentResponse
Title: "Mary's answers at her review"
Description: "A year on, with the sitting service and a break: her quality of life is better."
* meta.profile[+] = Canonical($UKCoreQuestionnaireResponse)
* questionnaire = "https://fhir.carer-fhir.uk/Questionnaire/carer-assessment|0.2.0"
* status = #completed
* subject = Reference(mary-jones)
* source = Reference(mary-jones)
* authored = "2026-11-02T10:00:00Z"
* insert AnswerGroup(qol)
* insert Answer(qol-occupation, valueCoding = CarerQolLevel#high "As much as I want")
* insert Answer(qol-control, valueCoding = CarerQolLevel#some "Some\, but not enough")
* insert Answer(qol-self-care, valueCoding = CarerQolLevel#some "Some\, but not enough")
* insert Answer(qol-safety, valueCoding = CarerQolLevel#high "As much as I want")
* insert Answer(qol-social, valueCoding = CarerQolLevel#some "Some\, but not enough")
* insert Answer(qol-support, valueCoding = CarerQolLevel#some "Some\, but not enough")

Instance: mary-qol-2026
InstanceOf: CarerQualityOfLife
Title: "Mary's quality of life at her review: 8 of 12"
Description: "Derived from Mary's answers at her review: up from 5 a year before."
* meta.profile[+] = Canonical($UKCoreObservation)
* status = #final
* category[survey] = $obs-category#survey "Survey"
* code = CafObservation#carer-qol "Carer's quality of life"
* subject = Reference(mary-jones)
* focus = Reference(mary-cares-for-arthur)
* effectiveDateTime = "2026-11-02T10:00:00Z"
* derivedFrom = Reference(mary-review-response)
* valueInteger = 8
* insert QolItemLevel(occupation, occupation, high, As much as I want)
* insert QolItemLevel(control, control, some, Some\, but not enough)
* insert QolItemLevel(selfCare, self-care, some, Some\, but not enough)
* insert QolItemLevel(safety, safety, high, As much as I want)
* insert QolItemLevel(social, social, some, Some\, but not enough)
* insert QolItemLevel(support, support, some, Some\, but not enough)

Instance: mary-review
InstanceOf: CarerAssessment
Title: "Mary's review"
Description: "The council's review of Mary's support plan a year on (Care Act 2014 s27): her answers, and her quality of life measured again."
* meta.profile[+] = Canonical($UKCoreTask)
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/assessment"
* identifier[0].value = "LA616-2026-0311"
* status = #completed
* businessStatus = AssessmentStatus#completed "Completed"
* intent = #order
* code = AssessmentType#review "Review"
* basedOn[0] = Reference(mary-support-plan)
* focus = Reference(mary-cares-for-arthur)
* for = Reference(mary-jones)
* authoredOn = "2026-10-15"
* owner.identifier.system = $ods
* owner.identifier.value = "616"
* input[response].type = TaskIo#assessment-response "Assessment response"
* input[response].valueReference = Reference(mary-review-response)
* output[qualityOfLife].type = TaskIo#quality-of-life "Quality of life"
* output[qualityOfLife].valueReference = Reference(mary-qol-2026)
