// One transaction Bundle per carer flow of DESIGN §2, in order: identify,
// refer and assess, plan, share back, caring ends. Flow 1 creates the
// records with conditional creates (idempotent on NHS number); the later
// flows find them again by conditional references on business identifiers,
// so each Bundle can be sent on its own to a server that has had the ones
// before it. (FSH aliases do not reach inside strings, so the conditional
// references are spelt out.)


RuleSet: Post(i, uuid, type)
* entry[{i}].fullUrl = "urn:uuid:{uuid}"
* entry[{i}].request.method = #POST
* entry[{i}].request.url = "{type}"

RuleSet: FlagBody(code, display, subject, rel, id, status)
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/carer-flag"
* identifier[0].value = "{id}"
* extension[carerRelationship].valueReference.reference = "{rel}"
* status = #{status}
* code = FlagCode#{code} "{display}"
* subject.reference = "{subject}"
* period.start = "2025-10-03"

// Flow 1: identify. Every entry is conditional, so flow 1 is idempotent.
Instance: flow-1-identify
InstanceOf: Bundle
Title: "Flow 1: a GP records that Mary cares for Arthur"
Description: "Creates (or finds) both patients by NHS number, the caring relationship, Mary's carer status, a flag on each record and Mary's consent to share, all or nothing. Every entry is a conditional create on a business identifier, so sending the Bundle again changes nothing."
Usage: #example
* type = #transaction
* insert Post(0, 6b1f0c9e-1d43-4d1e-9a51-000000000001, Patient)
* entry[0].request.ifNoneExist = "identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004"
* entry[0].resource = flow1-mary
* insert Post(1, 6b1f0c9e-1d43-4d1e-9a51-000000000002, Patient)
* entry[1].request.ifNoneExist = "identifier=https://fhir.nhs.uk/Id/nhs-number|9991234012"
* entry[1].resource = flow1-arthur
* insert Post(2, 6b1f0c9e-1d43-4d1e-9a51-000000000003, RelatedPerson)
* entry[2].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01"
* entry[2].resource = flow1-relationship
* insert Post(3, 6b1f0c9e-1d43-4d1e-9a51-000000000004, Observation)
* entry[3].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-status|A81001-mary-jones-carer-2025-10-03"
* entry[3].resource = flow1-status
* insert Post(4, 6b1f0c9e-1d43-4d1e-9a51-000000000005, Flag)
* entry[4].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-flag|mary-is-a-carer"
* entry[4].resource = flow1-flag-mary
* insert Post(5, 6b1f0c9e-1d43-4d1e-9a51-000000000006, Flag)
* entry[5].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-flag|arthur-has-a-carer"
* entry[5].resource = flow1-flag-arthur
* insert Post(6, 6b1f0c9e-1d43-4d1e-9a51-000000000007, Consent)
* entry[6].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/caf-consent|A81001-mary-jones-2025-10-03"
* entry[6].resource = flow1-consent

Instance: flow1-mary
InstanceOf: Carer
Usage: #inline
* insert CarerPatient(9991234004)
* name[0].family = "Jones"
* name[0].given[0] = "Mary"
* gender = #female
* birthDate = "1958-03-14"

Instance: flow1-arthur
InstanceOf: Patient
Usage: #inline
* insert UkPatient(9991234012)
* name[0].family = "Jones"
* name[0].given[0] = "Arthur"
* gender = #male
* birthDate = "1950-11-02"

Instance: flow1-relationship
InstanceOf: CarerRelationship
Usage: #inline
* meta.profile[+] = Canonical($UKCoreRelatedPerson)
* insert MaryRelationship(urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000001, urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000002)

Instance: flow1-status
InstanceOf: CarerStatus
Usage: #inline
* meta.profile[+] = Canonical($UKCoreObservation)
* insert MaryStatus(urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000001, urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000003)

Instance: flow1-flag-mary
InstanceOf: CarerFlag
Usage: #inline
* meta.profile[+] = Canonical($UKCoreFlag)
* insert FlagBody(is-a-carer, Is a carer, urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000001, urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000003, mary-is-a-carer, active)

Instance: flow1-flag-arthur
InstanceOf: CarerFlag
Usage: #inline
* meta.profile[+] = Canonical($UKCoreFlag)
* insert FlagBody(has-a-carer, Has a carer, urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000002, urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000003, arthur-has-a-carer, active)

Instance: flow1-consent
InstanceOf: CafConsent
Usage: #inline
* meta.profile[+] = Canonical($UKCoreConsent)
* insert MaryConsent(urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000001)

// Flow 2: refer and assess.
Instance: flow-2-refer-and-assess
InstanceOf: Bundle
Title: "Flow 2: Mary's self-assessment, and the council's completed assessment"
Description: "Mary's self-assessment, the completed carer's assessment task, and the reg 3 determination fhir-core derived from the answers."
Usage: #example
* type = #transaction
* insert Post(0, 6b1f0c9e-1d43-4d1e-9a51-000000000011, QuestionnaireResponse)
* entry[0].resource = flow2-response
* insert Post(1, 6b1f0c9e-1d43-4d1e-9a51-000000000012, Observation)
* entry[1].resource = flow2-eligibility
* insert Post(2, 6b1f0c9e-1d43-4d1e-9a51-000000000013, Task)
* entry[2].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/assessment|LA616-2025-0042"
* entry[2].resource = flow2-assessment

Instance: flow2-response
InstanceOf: CarerAssessmentResponse
Usage: #inline
* meta.profile[+] = Canonical($UKCoreQuestionnaireResponse)
* insert MarySelfAssessment(Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004)

Instance: flow2-eligibility
InstanceOf: CarerEligibility
Usage: #inline
* meta.profile[+] = Canonical($UKCoreObservation)
* insert MaryEligibility(Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004, RelatedPerson?identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01, urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000011)

RuleSet: AssessmentHead(carer, rel, response, eligibility)
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/assessment"
* identifier[0].value = "LA616-2025-0042"
* status = #completed
* businessStatus = AssessmentStatus#completed "Completed"
* intent = #order
* code = AssessmentType#carers-assessment "Carer's assessment"
* focus.reference = "{rel}"
* for.reference = "{carer}"
* authoredOn = "2025-10-03"
* owner.identifier.system = $ods
* owner.identifier.value = "616"
* input[response].type = TaskIo#assessment-response "Assessment response"
* input[response].valueReference.reference = "{response}"
* output[eligibility].type = TaskIo#eligibility "Eligibility determination"
* output[eligibility].valueReference.reference = "{eligibility}"

Instance: flow2-assessment
InstanceOf: CarerAssessment
Usage: #inline
* meta.profile[+] = Canonical($UKCoreTask)
* insert AssessmentHead(Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004, RelatedPerson?identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01, urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000011, urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000012)

// Flow 3: plan.
Instance: flow-3-plan
InstanceOf: Bundle
Title: "Flow 3: Mary's support plan, Arthur's Plan B, and Arthur's plan with Mary in its care team"
Description: "The council records Mary's support plan and links it to the assessment; Mary and the council agree Arthur's contingency plan; Arthur's own care plan lists Mary in its care team."
Usage: #example
* type = #transaction
* insert Post(0, 6b1f0c9e-1d43-4d1e-9a51-000000000021, CarePlan)
* entry[0].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/support-plan|LA616-SP-0042"
* entry[0].resource = flow3-support-plan
* insert Post(1, 6b1f0c9e-1d43-4d1e-9a51-000000000022, RelatedPerson)
* entry[1].resource = flow3-sam
* insert Post(2, 6b1f0c9e-1d43-4d1e-9a51-000000000023, CarePlan)
* entry[2].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/emergency-card|EC-616-000123"
* entry[2].resource = flow3-plan-b
* insert Post(3, 6b1f0c9e-1d43-4d1e-9a51-000000000024, CareTeam)
* entry[3].resource = flow3-care-team
* insert Post(4, 6b1f0c9e-1d43-4d1e-9a51-000000000025, CarePlan)
* entry[4].resource = flow3-arthur-plan
* entry[5].fullUrl = "urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000026"
* entry[5].request.method = #PUT
* entry[5].request.url = "Task?identifier=https://fhir.carer-fhir.uk/Id/assessment|LA616-2025-0042"
* entry[5].resource = flow3-assessment

Instance: flow3-support-plan
InstanceOf: CarerSupportPlan
Usage: #inline
* meta.profile[+] = Canonical($UKCoreCarePlan)
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/support-plan"
* identifier[0].value = "LA616-SP-0042"
* insert MarySupportPlan(Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004, RelatedPerson?identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01, Observation?subject.identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004&code=https://fhir.carer-fhir.uk/CodeSystem/caf-observation|carer-eligibility)

Instance: flow3-sam
InstanceOf: RelatedPerson
Usage: #inline
* meta.profile[+] = Canonical($UKCoreRelatedPerson)
* patient.reference = "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234012"
* relationship[0] = $v3-RoleCode#SON "natural son"
* name[0].family = "Jones"
* name[0].given[0] = "Sam"
* telecom[0].system = #phone
* telecom[0].value = "07700 900123"

Instance: flow3-plan-b
InstanceOf: ContingencyPlan
Usage: #inline
* meta.profile[+] = Canonical($UKCoreCarePlan)
* insert ArthurPlanB(Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004, Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234012, RelatedPerson?identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01, urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000022)

Instance: flow3-care-team
InstanceOf: CareTeam
Usage: #inline
* status = #active
* subject.reference = "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234012"
* participant[0].role[0] = $ukcore-role#Carer "Carer of patient"
* participant[0].member.reference = "RelatedPerson?identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01"

Instance: flow3-arthur-plan
InstanceOf: CarePlan
Usage: #inline
* meta.profile[+] = Canonical($UKCoreCarePlan)
* extension[0].url = "https://fhir.carer-fhir.uk/StructureDefinition/carer-relationship"
* extension[0].valueReference.reference = "RelatedPerson?identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01"
* status = #active
* intent = #plan
* category[0] = PlanCategory#cared-for-plan "Care and support plan of the person cared for"
* subject.reference = "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234012"
* careTeam[0].reference = "urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000024"
* description = "Arthur's care and support plan; Mary is his carer and part of his care team."

Instance: flow3-assessment
InstanceOf: CarerAssessment
Usage: #inline
* meta.profile[+] = Canonical($UKCoreTask)
* insert AssessmentHead(Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004, RelatedPerson?identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01, QuestionnaireResponse?subject.identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004, Observation?subject.identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004&code=https://fhir.carer-fhir.uk/CodeSystem/caf-observation|carer-eligibility)
* output[supportPlan].type = TaskIo#support-plan "Support plan"
* output[supportPlan].valueReference.reference = "urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000021"

// Flow 4: share back.
Instance: flow-4-share-back
InstanceOf: Bundle
Title: "Flow 4: Mary's GP practice subscribes to her assessments and plans, and reads them"
Description: "The practice asks to be told when Mary's assessment or plan changes, and reads what is there now (within Mary's consent)."
Usage: #example
* type = #transaction
* insert Post(0, 6b1f0c9e-1d43-4d1e-9a51-000000000031, Subscription)
* entry[0].resource = flow4-subscription
* entry[1].request.method = #GET
* entry[1].request.url = "Task?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004&code=https://fhir.carer-fhir.uk/CodeSystem/assessment-type|"
* entry[2].request.method = #GET
* entry[2].request.url = "CarePlan?subject.identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004&category=https://fhir.carer-fhir.uk/CodeSystem/plan-category|carer-support-plan"

Instance: flow4-subscription
InstanceOf: Subscription
Usage: #inline
* status = #requested
* reason = "Mary Jones's GP practice (A81001) follows her carer's support plan."
* criteria = "CarePlan?subject.identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004"
* channel.type = #rest-hook
* channel.endpoint = "https://gp-a81001.example.nhs.uk/fhir/notify"
* channel.payload = #application/fhir+json

// Flow 5: caring ends.
Instance: flow-5-caring-ends
InstanceOf: Bundle
Title: "Flow 5: Arthur has died; Mary is no longer his carer"
Description: "The relationship's period ends, both flags close, Mary's status becomes 'no longer a carer', and bereavement support is added to her plan; history keeps the past."
Usage: #example
* type = #transaction
* entry[0].fullUrl = "urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000041"
* entry[0].request.method = #PUT
* entry[0].request.url = "RelatedPerson?identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01"
* entry[0].resource = flow5-relationship
* insert Post(1, 6b1f0c9e-1d43-4d1e-9a51-000000000042, Observation)
* entry[1].resource = flow5-status
* entry[2].fullUrl = "urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000043"
* entry[2].request.method = #PUT
* entry[2].request.url = "Flag?identifier=https://fhir.carer-fhir.uk/Id/carer-flag|mary-is-a-carer"
* entry[2].resource = flow5-flag-mary
* entry[3].fullUrl = "urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000044"
* entry[3].request.method = #PUT
* entry[3].request.url = "Flag?identifier=https://fhir.carer-fhir.uk/Id/carer-flag|arthur-has-a-carer"
* entry[3].resource = flow5-flag-arthur

Instance: flow5-relationship
InstanceOf: CarerRelationship
Usage: #inline
* meta.profile[+] = Canonical($UKCoreRelatedPerson)
* insert MaryRelationship(Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004, Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234012)
* active = false
* period.end = "2026-10-20"

Instance: flow5-status
InstanceOf: CarerStatus
Usage: #inline
* meta.profile[+] = Canonical($UKCoreObservation)
* status = #final
* category[socialHistory] = $obs-category#social-history "Social History"
* code = $sct#199361000000101 "Is no longer a carer"
* subject.reference = "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004"
* focus.reference = "urn:uuid:6b1f0c9e-1d43-4d1e-9a51-000000000041"
* effectiveDateTime = "2026-10-27"

Instance: flow5-flag-mary
InstanceOf: CarerFlag
Usage: #inline
* meta.profile[+] = Canonical($UKCoreFlag)
* insert FlagBody(is-a-carer, Is a carer, Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004, RelatedPerson?identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01, mary-is-a-carer, inactive)
* period.end = "2026-10-20"

Instance: flow5-flag-arthur
InstanceOf: CarerFlag
Usage: #inline
* meta.profile[+] = Canonical($UKCoreFlag)
* insert FlagBody(has-a-carer, Has a carer, Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991234012, RelatedPerson?identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01, arthur-has-a-carer, inactive)
* period.end = "2026-10-20"
