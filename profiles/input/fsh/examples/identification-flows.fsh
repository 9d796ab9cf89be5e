// Two flows in which a carer is identified outside the GP practice: by a
// hospital ward at discharge, and by a school. Like flow 1, every entry is a
// conditional create on a business identifier.

// Hospital discharge: Grace Okafor (NHS 999 123 4047) leaves hospital; the
// ward finds that her daughter-in-law Ngozi (NHS 999 123 4055) will care for
// her, records it, refers Ngozi to the council for a carer's assessment (with
// her consent) and tells Ngozi's GP practice.
Instance: flow-hospital-discharge
InstanceOf: Bundle
Title: "Flow: a hospital ward identifies a carer at discharge"
Description: "At Grace's discharge the ward records that her daughter-in-law Ngozi will care for her (identified by the hospital, ODS RX1, at discharge), Ngozi's carer status and flags, her consent to share with the council and her GP practice, a carer's assessment requested from the council, and a notification to her GP practice."
Usage: #example
* type = #transaction
* insert Post(0, 7c2e1d0f-2e54-4e2f-8b62-000000000001, Patient)
* entry[0].request.ifNoneExist = "identifier=https://fhir.nhs.uk/Id/nhs-number|9991234047"
* entry[0].resource = discharge-grace
* insert Post(1, 7c2e1d0f-2e54-4e2f-8b62-000000000002, Patient)
* entry[1].request.ifNoneExist = "identifier=https://fhir.nhs.uk/Id/nhs-number|9991234055"
* entry[1].resource = discharge-ngozi
* insert Post(2, 7c2e1d0f-2e54-4e2f-8b62-000000000003, RelatedPerson)
* entry[2].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|c4d1a7e2-6b1f-4f0e-9d3c-7a1b2c3d4e01"
* entry[2].resource = discharge-relationship
* insert Post(3, 7c2e1d0f-2e54-4e2f-8b62-000000000004, Observation)
* entry[3].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-status|RX1-ngozi-okafor-carer-2026-02-10"
* entry[3].resource = discharge-status
* insert Post(4, 7c2e1d0f-2e54-4e2f-8b62-000000000005, Flag)
* entry[4].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-flag|ngozi-is-a-carer"
* entry[4].resource = discharge-flag-ngozi
* insert Post(5, 7c2e1d0f-2e54-4e2f-8b62-000000000006, Flag)
* entry[5].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-flag|grace-has-a-carer"
* entry[5].resource = discharge-flag-grace
* insert Post(6, 7c2e1d0f-2e54-4e2f-8b62-000000000007, Consent)
* entry[6].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/caf-consent|RX1-ngozi-okafor-2026-02-10"
* entry[6].resource = discharge-consent
* insert Post(7, 7c2e1d0f-2e54-4e2f-8b62-000000000008, Task)
* entry[7].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/assessment|RX1-DIS-2026-0007"
* entry[7].resource = discharge-referral
* insert Post(8, 7c2e1d0f-2e54-4e2f-8b62-000000000009, Communication)
* entry[8].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-notification|RX1-DIS-2026-0007-gp"
* entry[8].resource = discharge-gp-told

Instance: discharge-grace
InstanceOf: Patient
Usage: #inline
* insert UkPatient(9991234047)
* name[0].family = "Okafor"
* name[0].given[0] = "Grace"
* gender = #female
* birthDate = "1941-05-12"
* generalPractitioner[0].identifier.system = $ods
* generalPractitioner[0].identifier.value = "A81001"

Instance: discharge-ngozi
InstanceOf: Carer
Usage: #inline
* insert CarerPatient(9991234055)
* name[0].family = "Okafor"
* name[0].given[0] = "Ngozi"
* gender = #female
* birthDate = "1972-08-30"
* extension[ethnicCategory].valueCodeableConcept = https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland#N "Black or Black British - African"
* generalPractitioner[0].identifier.system = $ods
* generalPractitioner[0].identifier.value = "A81002"

RuleSet: HospitalIdentified
* extension[identification].extension[source].valueCodeableConcept = IdentificationSource#hospital-discharge "Hospital, at discharge"
* extension[identification].extension[date].valueDateTime = "2026-02-10"
* extension[identification].extension[organization].valueReference.identifier.system = $ods
* extension[identification].extension[organization].valueReference.identifier.value = "RX1"
* extension[identification].extension[organization].valueReference.display = "Example Hospitals NHS Trust, ward 12"

Instance: discharge-relationship
InstanceOf: CarerRelationship
Usage: #inline
* meta.profile[+] = Canonical($UKCoreRelatedPerson)
* extension[carerPatient].valueReference.reference = "urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000002"
* extension[hoursCaringPerWeek].valueQuantity = 35 'h/wk' "hours per week"
* extension[hoursCaringBand].valueCodeableConcept = HoursCaringBand#35-49 "35 to 49 hours a week"
* extension[mainCarer].valueBoolean = true
* extension[livesWithCaredFor].valueBoolean = false
* extension[careActivity][0].valueCodeableConcept = CareActivity#personal-care "Personal care"
* extension[careActivity][1].valueCodeableConcept = CareActivity#medication "Medication"
* extension[carerType][0].valueCodeableConcept = CarerType#working-carer "Working carer"
* insert HospitalIdentified
* identifier[nhsNumber].value = "9991234055"
* identifier[relationshipId].value = "c4d1a7e2-6b1f-4f0e-9d3c-7a1b2c3d4e01"
* active = true
* patient.reference = "urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000001"
* relationship[carerRole] = $ukcore-role#Carer "Carer of patient"
* relationship[familyRole] = $v3-RoleCode#DAUINLAW "daughter in-law"
* name[0].family = "Okafor"
* name[0].given[0] = "Ngozi"
* period.start = "2026-02-10"

Instance: discharge-status
InstanceOf: CarerStatus
Usage: #inline
* meta.profile[+] = Canonical($UKCoreObservation)
* insert HospitalIdentified
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/carer-status"
* identifier[0].value = "RX1-ngozi-okafor-carer-2026-02-10"
* status = #final
* category[socialHistory] = $obs-category#social-history "Social History"
* code = $sct#302767002 "Cares for a relative"
* subject.reference = "urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000002"
* focus.reference = "urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000003"
* effectiveDateTime = "2026-02-10"

Instance: discharge-flag-ngozi
InstanceOf: CarerFlag
Usage: #inline
* meta.profile[+] = Canonical($UKCoreFlag)
* insert FlagBody(is-a-carer, Is a carer, urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000002, urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000003, ngozi-is-a-carer, active)
* period.start = "2026-02-10"

Instance: discharge-flag-grace
InstanceOf: CarerFlag
Usage: #inline
* meta.profile[+] = Canonical($UKCoreFlag)
* insert FlagBody(has-a-carer, Has a carer, urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000001, urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000003, grace-has-a-carer, active)
* period.start = "2026-02-10"

Instance: discharge-consent
InstanceOf: CafConsent
Usage: #inline
* meta.profile[+] = Canonical($UKCoreConsent)
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/caf-consent"
* identifier[0].value = "RX1-ngozi-okafor-2026-02-10"
* status = #active
* scope = $consentscope#patient-privacy
* category[cafSharing].coding[0] = CafConsentCategory#caf-sharing "Consent to share CAF data"
* category[cafSharing].coding[1] = $loinc#59284-0 "Patient Consent"
* patient.reference = "urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000002"
* dateTime = "2026-02-10T11:20:00Z"
* performer[0].reference = "urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000002"
* policyRule = $v3-ActCode#OPTIN
* provision.type = #permit
* provision.period.start = "2026-02-10"
* provision.actor[0].role = http://terminology.hl7.org/CodeSystem/v3-ParticipationType#IRCP "information recipient"
* provision.actor[0].reference.identifier.system = $ods
* provision.actor[0].reference.identifier.value = "616"
* provision.actor[1].role = http://terminology.hl7.org/CodeSystem/v3-ParticipationType#IRCP "information recipient"
* provision.actor[1].reference.identifier.system = $ods
* provision.actor[1].reference.identifier.value = "A81002"
* provision.purpose[0] = $v3-ActReason#COC "coordination of care"

Instance: discharge-referral
InstanceOf: CarerAssessment
Usage: #inline
* meta.profile[+] = Canonical($UKCoreTask)
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/assessment"
* identifier[0].value = "RX1-DIS-2026-0007"
* status = #requested
* businessStatus = AssessmentStatus#requested "Requested"
* intent = #order
* code = AssessmentType#carers-assessment "Carer's assessment"
* focus.reference = "urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000003"
* for.reference = "urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000002"
* authoredOn = "2026-02-10"
* requester.identifier.system = $ods
* requester.identifier.value = "RX1"
* requester.display = "Example Hospitals NHS Trust, ward 12"
* owner.identifier.system = $ods
* owner.identifier.value = "616"
* note[0].text = "Grace was discharged home today; Ngozi will visit daily and asked for a carer's assessment."

Instance: discharge-gp-told
InstanceOf: Communication
Usage: #inline
* meta.profile[0] = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Communication"
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/carer-notification"
* identifier[0].value = "RX1-DIS-2026-0007-gp"
* status = #completed
* category[0] = http://terminology.hl7.org/CodeSystem/communication-category#notification "Notification"
* subject.reference = "urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000002"
* about[0].reference = "urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000003"
* about[1].reference = "urn:uuid:7c2e1d0f-2e54-4e2f-8b62-000000000004"
* sent = "2026-02-10T11:30:00Z"
* recipient[0].identifier.system = $ods
* recipient[0].identifier.value = "A81002"
* sender.identifier.system = $ods
* sender.identifier.value = "RX1"
* payload[0].contentString = "Your patient Ngozi Okafor was identified as a carer for her mother-in-law Grace Okafor at Grace's discharge from ward 12 today, and has been referred to the council for a carer's assessment."

// A young carer identified by school: Liam Patel's school (DfE URN 123456)
// sees that he cares for his mother Priya, records it, flags him as a young
// carer, and asks the council for a young carer's needs assessment.
Instance: flow-young-carer-school
InstanceOf: Bundle
Title: "Flow: a school identifies a young carer"
Description: "Liam's school records that he cares for his mother (identified by the school, DfE URN 123456), his carer status, a young carer flag on his record and a 'has a carer' flag on hers, and a young carer's needs assessment requested from the council. fhir_core::caf::rules::young_carer_age checks the flag against Liam's age."
Usage: #example
* type = #transaction
* insert Post(0, 8d3f2e1a-3f65-4f3a-9c73-000000000001, Patient)
* entry[0].request.ifNoneExist = "identifier=https://fhir.nhs.uk/Id/nhs-number|9991234020"
* entry[0].resource = school-liam
* insert Post(1, 8d3f2e1a-3f65-4f3a-9c73-000000000002, Patient)
* entry[1].request.ifNoneExist = "identifier=https://fhir.nhs.uk/Id/nhs-number|9991234039"
* entry[1].resource = school-priya
* insert Post(2, 8d3f2e1a-3f65-4f3a-9c73-000000000003, RelatedPerson)
* entry[2].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-relationship|d5e2b8f3-7c20-4a1f-8e4d-8b2c3d4e5f02"
* entry[2].resource = school-relationship
* insert Post(3, 8d3f2e1a-3f65-4f3a-9c73-000000000004, Observation)
* entry[3].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-status|URN123456-liam-patel-carer-2025-09-15"
* entry[3].resource = school-status
* insert Post(4, 8d3f2e1a-3f65-4f3a-9c73-000000000005, Flag)
* entry[4].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-flag|liam-young-carer"
* entry[4].resource = school-flag-liam
* insert Post(5, 8d3f2e1a-3f65-4f3a-9c73-000000000006, Flag)
* entry[5].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/carer-flag|priya-has-a-carer"
* entry[5].resource = school-flag-priya
* insert Post(6, 8d3f2e1a-3f65-4f3a-9c73-000000000007, Task)
* entry[6].request.ifNoneExist = "identifier=https://fhir.carer-fhir.uk/Id/assessment|URN123456-YC-2025-0003"
* entry[6].resource = school-referral

Instance: school-liam
InstanceOf: Carer
Usage: #inline
* insert CarerPatient(9991234020)
* name[0].family = "Patel"
* name[0].given[0] = "Liam"
* gender = #male
* birthDate = "2011-06-20"

Instance: school-priya
InstanceOf: Patient
Usage: #inline
* insert UkPatient(9991234039)
* name[0].family = "Patel"
* name[0].given[0] = "Priya"
* gender = #female
* birthDate = "1979-01-30"

Instance: school-relationship
InstanceOf: CarerRelationship
Usage: #inline
* meta.profile[+] = Canonical($UKCoreRelatedPerson)
* extension[carerPatient].valueReference.reference = "urn:uuid:8d3f2e1a-3f65-4f3a-9c73-000000000001"
* extension[hoursCaringPerWeek].valueQuantity = 15 'h/wk' "hours per week"
* extension[hoursCaringBand].valueCodeableConcept = HoursCaringBand#10-19 "10 to 19 hours a week"
* extension[livesWithCaredFor].valueBoolean = true
* extension[careActivity][0].valueCodeableConcept = CareActivity#practical-help "Practical help"
* extension[careActivity][1].valueCodeableConcept = CareActivity#emotional-support "Emotional support"
* extension[carerType][0].valueCodeableConcept = CarerType#young-carer "Young carer"
* insert SchoolIdentified(2025-09-15)
* identifier[nhsNumber].value = "9991234020"
* identifier[relationshipId].value = "d5e2b8f3-7c20-4a1f-8e4d-8b2c3d4e5f02"
* active = true
* patient.reference = "urn:uuid:8d3f2e1a-3f65-4f3a-9c73-000000000002"
* relationship[carerRole] = $ukcore-role#Carer "Carer of patient"
* relationship[familyRole] = $v3-RoleCode#CHILD "child"
* name[0].family = "Patel"
* name[0].given[0] = "Liam"
* period.start = "2024-01-15"

Instance: school-status
InstanceOf: CarerStatus
Usage: #inline
* meta.profile[+] = Canonical($UKCoreObservation)
* insert SchoolIdentified(2025-09-15)
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/carer-status"
* identifier[0].value = "URN123456-liam-patel-carer-2025-09-15"
* status = #final
* category[socialHistory] = $obs-category#social-history "Social History"
* code = $sct#302767002 "Cares for a relative"
* subject.reference = "urn:uuid:8d3f2e1a-3f65-4f3a-9c73-000000000001"
* focus.reference = "urn:uuid:8d3f2e1a-3f65-4f3a-9c73-000000000003"
* effectiveDateTime = "2025-09-15"

Instance: school-flag-liam
InstanceOf: CarerFlag
Usage: #inline
* meta.profile[+] = Canonical($UKCoreFlag)
* insert FlagBody(young-carer, Young carer, urn:uuid:8d3f2e1a-3f65-4f3a-9c73-000000000001, urn:uuid:8d3f2e1a-3f65-4f3a-9c73-000000000003, liam-young-carer, active)
* period.start = "2025-09-15"

Instance: school-flag-priya
InstanceOf: CarerFlag
Usage: #inline
* meta.profile[+] = Canonical($UKCoreFlag)
* insert FlagBody(has-a-carer, Has a carer, urn:uuid:8d3f2e1a-3f65-4f3a-9c73-000000000002, urn:uuid:8d3f2e1a-3f65-4f3a-9c73-000000000003, priya-has-a-carer, active)
* period.start = "2025-09-15"

Instance: school-referral
InstanceOf: CarerAssessment
Usage: #inline
* meta.profile[+] = Canonical($UKCoreTask)
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/assessment"
* identifier[0].value = "URN123456-YC-2025-0003"
* status = #requested
* businessStatus = AssessmentStatus#requested "Requested"
* intent = #order
* code = AssessmentType#young-carers-needs-assessment "Young carer's needs assessment"
* focus.reference = "urn:uuid:8d3f2e1a-3f65-4f3a-9c73-000000000003"
* for.reference = "urn:uuid:8d3f2e1a-3f65-4f3a-9c73-000000000001"
* authoredOn = "2025-09-15"
* requester.identifier.system = "https://fhir.carer-fhir.uk/Id/dfe-urn"
* requester.identifier.value = "123456"
* requester.display = "Example Park Academy"
* owner.identifier.system = $ods
* owner.identifier.value = "616"
* owner.display = "Example County Council children's services"
