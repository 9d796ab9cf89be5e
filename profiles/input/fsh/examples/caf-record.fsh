// A CAF record: Mary's data set as a FHIR document, as the server assembles
// it from what her consent allows.

RuleSet: Entry(i, type, id, instance)
* entry[{i}].fullUrl = "https://fhir.carer-fhir.uk/example/{type}/{id}"
* entry[{i}].resource = {instance}

Instance: mary-caf-record
InstanceOf: CafRecord
Title: "Mary's CAF record"
Description: "Mary's CAF data set: who she cares for, her status and flags, her assessment and its determination, her support plan, the Plan B for Arthur, and her consent."
* meta.profile[+] = Canonical($UKCoreBundle)
* identifier.system = "https://fhir.carer-fhir.uk/Id/caf-record"
* identifier.value = "b7d1c2e4-5f60-4a7b-8c9d-0e1f2a3b4c5d"
* type = #document
* timestamp = "2025-11-20T09:00:00Z"
* insert Entry(0, Composition, mary-caf-composition, mary-caf-composition)
* insert Entry(1, Patient, mary-jones, mary-jones)
* insert Entry(2, Patient, arthur-jones, arthur-jones)
* insert Entry(3, RelatedPerson, mary-cares-for-arthur, mary-cares-for-arthur)
* insert Entry(4, Observation, mary-is-a-carer, mary-is-a-carer)
* insert Entry(5, Flag, mary-flag-is-a-carer, mary-flag-is-a-carer)
* insert Entry(6, Task, mary-assessment, mary-assessment)
* insert Entry(7, QuestionnaireResponse, mary-self-assessment, mary-self-assessment)
* insert Entry(8, Observation, mary-eligibility, mary-eligibility)
* insert Entry(9, CarePlan, mary-support-plan, mary-support-plan)
* insert Entry(10, CarePlan, arthur-plan-b, arthur-plan-b)
* insert Entry(11, RelatedPerson, sam-jones, sam-jones)
* insert Entry(12, Consent, mary-consent, mary-consent)
* insert Entry(13, Goal, mary-goal-time-for-herself, mary-goal-time-for-herself)
* insert Entry(14, Goal, mary-goal-keep-in-touch, mary-goal-keep-in-touch)

Instance: mary-caf-composition
InstanceOf: CafRecordComposition
Title: "Mary's CAF record: contents"
Description: "The Composition that heads Mary's CAF record."
* meta.profile[+] = Canonical($UKCoreComposition)
* status = #final
* type = CafDocument#caf-record "CAF record"
* subject = Reference(mary-jones)
* date = "2025-11-20T09:00:00Z"
* author[0].identifier.system = $ods
* author[0].identifier.value = "616"
* author[0].display = "Example County Council adult social care"
* title = "CAF record: Mary Jones"
* section[0].title = "Caring relationships"
* section[0].code = CafDocument#relationships "Caring relationships"
* section[0].entry[0] = Reference(mary-cares-for-arthur)
* section[1].title = "Carer status and flags"
* section[1].code = CafDocument#status "Carer status and flags"
* section[1].entry[0] = Reference(mary-is-a-carer)
* section[1].entry[1] = Reference(mary-flag-is-a-carer)
* section[2].title = "Assessments and determinations"
* section[2].code = CafDocument#assessments "Assessments and determinations"
* section[2].entry[0] = Reference(mary-assessment)
* section[2].entry[1] = Reference(mary-self-assessment)
* section[2].entry[2] = Reference(mary-eligibility)
* section[3].title = "Plans"
* section[3].code = CafDocument#plans "Plans"
* section[3].entry[0] = Reference(mary-support-plan)
* section[3].entry[1] = Reference(arthur-plan-b)
* section[3].entry[2] = Reference(mary-goal-time-for-herself)
* section[3].entry[3] = Reference(mary-goal-keep-in-touch)
* section[4].title = "Consents"
* section[4].code = CafDocument#consents "Consents"
* section[4].entry[0] = Reference(mary-consent)
