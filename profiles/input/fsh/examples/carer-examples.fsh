// One valid example of each carer profile, about Mary Jones who cares for
// her husband Arthur.

Instance: mary-cares-for-arthur
InstanceOf: CarerRelationship
Title: "Mary cares for Arthur"
Description: "Mary is Arthur's main carer: she lives with him and spends about 50 hours a week caring."
* meta.profile[+] = Canonical($UKCoreRelatedPerson)
* insert MaryRelationship(Patient/mary-jones, Patient/arthur-jones)

Instance: liam-cares-for-priya
InstanceOf: CarerRelationship
Title: "Liam cares for his mother"
Description: "A young carer's relationship."
* meta.profile[+] = Canonical($UKCoreRelatedPerson)
* extension[carerPatient].valueReference = Reference(liam-patel)
* extension[hoursCaringPerWeek].valueQuantity = 15 'h/wk' "hours per week"
* extension[hoursCaringBand].valueCodeableConcept = HoursCaringBand#10-19 "10 to 19 hours a week"
* extension[livesWithCaredFor].valueBoolean = true
* insert SchoolIdentified(2025-09-15)
* extension[carerType][0].valueCodeableConcept = CarerType#young-carer "Young carer"
* identifier[nhsNumber].value = "9991234020"
* active = true
* patient = Reference(priya-patel)
* relationship[carerRole] = $ukcore-role#Carer "Carer of patient"
* relationship[familyRole] = $v3-RoleCode#CHILD "child"
* period.start = "2024-01-15"

Instance: mary-is-a-carer
InstanceOf: CarerStatus
Title: "Mary is a carer"
Description: "Mary's GP records that she is a carer, of Arthur who has dementia."
* meta.profile[+] = Canonical($UKCoreObservation)
* insert MaryStatus(Patient/mary-jones, RelatedPerson/mary-cares-for-arthur)

Instance: mary-flag-is-a-carer
InstanceOf: CarerFlag
Title: "Flag on Mary's record: is a carer"
Description: "Tells every professional who sees Mary's record that she is a carer."
* meta.profile[+] = Canonical($UKCoreFlag)
* extension[carerRelationship].valueReference = Reference(mary-cares-for-arthur)
* status = #active
* code = FlagCode#is-a-carer "Is a carer"
* subject = Reference(mary-jones)
* period.start = "2025-10-03"

Instance: arthur-flag-has-a-carer
InstanceOf: CarerFlag
Title: "Flag on Arthur's record: has a carer"
Description: "Tells every professional who sees Arthur's record that Mary cares for him."
* meta.profile[+] = Canonical($UKCoreFlag)
* extension[carerRelationship].valueReference = Reference(mary-cares-for-arthur)
* status = #active
* code = FlagCode#has-a-carer "Has a carer"
* subject = Reference(arthur-jones)
* period.start = "2025-10-03"

RuleSet: Answer(linkId, value)
* item[=].item[+].linkId = "{linkId}"
* item[=].item[=].answer[0].{value}

RuleSet: AnswerGroup(linkId)
* item[+].linkId = "{linkId}"

Instance: mary-self-assessment
InstanceOf: CarerAssessmentResponse
Title: "Mary's self-assessment"
Description: "Mary's own answers to the carer's assessment, before she meets the assessor."
* meta.profile[+] = Canonical($UKCoreQuestionnaireResponse)
* insert MarySelfAssessment(Patient/mary-jones)

Instance: mary-assessment
InstanceOf: CarerAssessment
Title: "Mary's carer's assessment"
Description: "The local authority's carer's assessment of Mary, completed, with its determination and plan."
* meta.profile[+] = Canonical($UKCoreTask)
* insert MaryAssessment(Patient/mary-jones, RelatedPerson/mary-cares-for-arthur, QuestionnaireResponse/mary-self-assessment, Observation/mary-eligibility, CarePlan/mary-support-plan)

RuleSet: OutcomeFinding(slice, achievement, display)
* component[{slice}].valueCodeableConcept = OutcomeAchievement#{achievement} "{display}"

Instance: mary-eligibility
InstanceOf: CarerEligibility
Title: "Mary is eligible for support"
Description: "The reg 3 determination from Mary's assessment: all three conditions met."
* meta.profile[+] = Canonical($UKCoreObservation)
* insert MaryEligibility(Patient/mary-jones, RelatedPerson/mary-cares-for-arthur, QuestionnaireResponse/mary-self-assessment)

Instance: mary-support-plan
InstanceOf: CarerSupportPlan
Title: "Mary's support plan"
Description: "A weekly sitting service and a yearly break paid by direct payment, and information about carers' groups."
* meta.profile[+] = Canonical($UKCoreCarePlan)
* insert MarySupportPlan(Patient/mary-jones, RelatedPerson/mary-cares-for-arthur, Observation/mary-eligibility)
* goal[0] = Reference(mary-goal-time-for-herself)
* goal[1] = Reference(mary-goal-keep-in-touch)
* activity[0].detail.goal[0] = Reference(mary-goal-time-for-herself)
* activity[1].detail.goal[0] = Reference(mary-goal-time-for-herself)
* activity[1].detail.goal[1] = Reference(mary-goal-keep-in-touch)

Instance: sam-jones
InstanceOf: RelatedPerson
Title: "Sam Jones, replacement carer"
Description: "Mary and Arthur's son, who agreed to step in."
* meta.profile[+] = Canonical($UKCoreRelatedPerson)
* patient = Reference(arthur-jones)
* relationship[0] = $v3-RoleCode#SON "natural son"
* relationship[1] = $v3-RoleCode#HPOWATT "healthcare power of attorney"
* name[0].family = "Jones"
* name[0].given[0] = "Sam"
* telecom[0].system = #phone
* telecom[0].value = "07700 900123"

Instance: arthur-plan-b
InstanceOf: ContingencyPlan
Title: "Plan B for Arthur"
Description: "What happens if Mary suddenly cannot care: Sam comes, and emergency respite starts if he cannot."
* meta.profile[+] = Canonical($UKCoreCarePlan)
* insert ArthurPlanB(Patient/mary-jones, Patient/arthur-jones, RelatedPerson/mary-cares-for-arthur, RelatedPerson/sam-jones)

Instance: mary-consent
InstanceOf: CafConsent
Title: "Mary consents to share her CAF data"
Description: "Mary agrees that her GP practice and the council may share her CAF data for care management, for two years."
* meta.profile[+] = Canonical($UKCoreConsent)
* insert MaryConsent(Patient/mary-jones)

// The bodies of Mary's resources, with the references as parameters, so
// that the flow Bundles (flows.fsh) reuse them with urn:uuid and conditional
// references.

RuleSet: GpIdentified
* extension[identification].extension[source].valueCodeableConcept = IdentificationSource#gp-practice "GP practice"
* extension[identification].extension[date].valueDateTime = "2025-10-03"
* extension[identification].extension[organization].valueReference.identifier.system = $ods
* extension[identification].extension[organization].valueReference.identifier.value = "A81001"

RuleSet: SchoolIdentified(date)
* extension[identification].extension[source].valueCodeableConcept = IdentificationSource#school-college "School or college"
* extension[identification].extension[date].valueDateTime = "{date}"
* extension[identification].extension[organization].valueReference.identifier.system = "https://fhir.carer-fhir.uk/Id/dfe-urn"
* extension[identification].extension[organization].valueReference.identifier.value = "123456"
* extension[identification].extension[organization].valueReference.display = "Example Park Academy"

RuleSet: MaryRelationship(carer, caredFor)
* extension[carerPatient].valueReference.reference = "{carer}"
* extension[hoursCaringPerWeek].valueQuantity = 50 'h/wk' "hours per week"
* extension[hoursCaringBand].valueCodeableConcept = HoursCaringBand#50-plus "50 or more hours a week"
* insert GpIdentified
* extension[mainCarer].valueBoolean = true
* extension[livesWithCaredFor].valueBoolean = true
* extension[careActivity][0].valueCodeableConcept = CareActivity#personal-care "Personal care"
* extension[careActivity][1].valueCodeableConcept = CareActivity#supervision "Supervision"
* extension[carerType][0].valueCodeableConcept = CarerType#older-carer "Older carer"
* identifier[nhsNumber].value = "9991234004"
* identifier[relationshipId].value = "a1f6c1de-0b2e-4c57-9e57-5f4f0b1c2d01"
* active = true
* patient.reference = "{caredFor}"
* relationship[carerRole] = $ukcore-role#Carer "Carer of patient"
* relationship[familyRole] = $v3-RoleCode#SPS "spouse"
* name[0].family = "Jones"
* name[0].given[0] = "Mary"
* period.start = "2022-09-01"

RuleSet: MaryStatus(carer, rel)
* insert GpIdentified
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/carer-status"
* identifier[0].value = "A81001-mary-jones-carer-2025-10-03"
* status = #final
* category[socialHistory] = $obs-category#social-history "Social History"
* code = $sct#824401000000105 "Carer of person with dementia"
* subject.reference = "{carer}"
* focus.reference = "{rel}"
* effectiveDateTime = "2025-10-03"

RuleSet: MarySelfAssessment(carer)
* questionnaire = "https://fhir.carer-fhir.uk/Questionnaire/carer-assessment|0.2.0"
* status = #completed
* subject.reference = "{carer}"
* source.reference = "{carer}"
* authored = "2025-11-01T10:30:00Z"
* insert AnswerGroup(caring-role)
* insert Answer(caring-role.hours, valueInteger = 50)
* insert Answer(caring-role.lives-with, valueBoolean = true)
* insert AnswerGroup(willing-able)
* insert Answer(willing-able.able, valueBoolean = true)
* insert Answer(willing-able.willing, valueBoolean = true)
* insert AnswerGroup(eligibility)
* insert Answer(necessary-care, valueBoolean = true)
* insert Answer(health-at-risk, valueBoolean = true)
* insert Answer(significant-impact, valueBoolean = true)
* insert AnswerGroup(reg3)
* insert Answer(reg3-child-care, valueCoding = OutcomeAchievement#not-applicable "Not applicable")
* insert Answer(reg3-other-caring, valueCoding = OutcomeAchievement#able "Able to achieve")
* insert Answer(reg3-home, valueCoding = OutcomeAchievement#able "Able to achieve")
* insert Answer(reg3-nutrition, valueCoding = OutcomeAchievement#able "Able to achieve")
* insert Answer(reg3-relationships, valueCoding = OutcomeAchievement#pain-distress-anxiety "Significant pain\, distress or anxiety")
* insert Answer(reg3-work-education, valueCoding = OutcomeAchievement#able "Able to achieve")
* insert Answer(reg3-community, valueCoding = OutcomeAchievement#able "Able to achieve")
* insert Answer(reg3-recreation, valueCoding = OutcomeAchievement#needs-assistance "Unable without assistance")
* insert AnswerGroup(qol)
* insert Answer(qol-occupation, valueCoding = CarerQolLevel#some "Some\, but not enough")
* insert Answer(qol-control, valueCoding = CarerQolLevel#some "Some\, but not enough")
* insert Answer(qol-self-care, valueCoding = CarerQolLevel#low "Little or none")
* insert Answer(qol-safety, valueCoding = CarerQolLevel#high "As much as I want")
* insert Answer(qol-social, valueCoding = CarerQolLevel#low "Little or none")
* insert Answer(qol-support, valueCoding = CarerQolLevel#some "Some\, but not enough")

RuleSet: MaryAssessment(carer, rel, response, eligibility, plan)
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
* owner.display = "Example County Council adult social care"
* input[response].type = TaskIo#assessment-response "Assessment response"
* input[response].valueReference.reference = "{response}"
* output[eligibility].type = TaskIo#eligibility "Eligibility determination"
* output[eligibility].valueReference.reference = "{eligibility}"
* output[supportPlan].type = TaskIo#support-plan "Support plan"
* output[supportPlan].valueReference.reference = "{plan}"

RuleSet: MaryEligibility(carer, rel, response)
* status = #final
* code = CafObservation#carer-eligibility "Carer's eligibility determination"
* subject.reference = "{carer}"
* focus.reference = "{rel}"
* effectiveDateTime = "2025-11-01T10:30:00Z"
* derivedFrom.reference = "{response}"
* valueCodeableConcept = EligibilityDetermination#eligible "Eligible"
* note[0].text = "Condition (a) met: the needs arise from providing necessary care."
* note[1].text = "Condition (b) met: health deteriorating or at risk; unable to achieve: relationships, recreation."
* note[2].text = "Condition (c) met: significant impact on wellbeing."
* component[necessaryCare].code = EligibilityCriterion#necessary-care
* component[necessaryCare].valueBoolean = true
* component[healthAtRisk].code = EligibilityCriterion#health-at-risk
* component[healthAtRisk].valueBoolean = true
* component[significantImpact].code = EligibilityCriterion#significant-impact
* component[significantImpact].valueBoolean = true
* insert OutcomeFinding(childCare, not-applicable, Not applicable)
* insert OutcomeFinding(otherCaring, able, Able to achieve)
* insert OutcomeFinding(home, able, Able to achieve)
* insert OutcomeFinding(nutrition, able, Able to achieve)
* insert OutcomeFinding(relationships, pain-distress-anxiety, Significant pain\, distress or anxiety)
* insert OutcomeFinding(workEducation, able, Able to achieve)
* insert OutcomeFinding(community, able, Able to achieve)
* insert OutcomeFinding(recreation, needs-assistance, Unable without assistance)

RuleSet: MarySupportPlan(carer, rel, eligibility)
* extension[personalBudget].valueMoney.value = 1850
* extension[personalBudget].valueMoney.currency = #GBP
* extension[reviewDate].valueDate = "2026-11-01"
* extension[carerRelationship].valueReference.reference = "{rel}"
* status = #active
* intent = #plan
* category[carerPlan] = PlanCategory#carer-support-plan "Carer's support plan"
* subject.reference = "{carer}"
* period.start = "2025-11-15"
* supportingInfo[0].reference = "{eligibility}"
* activity[0].detail.extension[deliveryMechanism].valueCodeableConcept = DeliveryMechanism#direct-payment "Direct Payment"
* activity[0].detail.code = SupportType#sitting-service "Sitting service"
* activity[0].detail.status = #in-progress
* activity[0].detail.description = "Four hours every Wednesday afternoon."
* activity[1].detail.extension[deliveryMechanism].valueCodeableConcept = DeliveryMechanism#direct-payment "Direct Payment"
* activity[1].detail.code = SupportType#break "Break from caring"
* activity[1].detail.status = #scheduled
* activity[2].detail.extension[deliveryMechanism].valueCodeableConcept = DeliveryMechanism#information-advice "Information and advice only"
* activity[2].detail.code = SupportType#information-advice "Information and advice"
* activity[2].detail.status = #completed

RuleSet: ArthurPlanB(carer, caredFor, rel, contact)
* extension[trigger][0].valueCodeableConcept = ContingencyTrigger#carer-ill "Carer taken ill"
* extension[trigger][1].valueCodeableConcept = ContingencyTrigger#carer-unreachable "Carer cannot be reached"
* extension[emergencyContact][0].extension[contact].valueReference.reference = "{contact}"
* extension[emergencyContact][0].extension[agreedToAct].valueBoolean = true
* extension[emergencyContact][0].extension[telephone].valueContactPoint.system = #phone
* extension[emergencyContact][0].extension[telephone].valueContactPoint.value = "07700 900123"
* extension[emergencyContact][0].extension[order].valuePositiveInt = 1
* extension[timeAlone].valueDuration = 2 'h' "hours"
* extension[agreedWithPerson].valueBoolean = true
* extension[reviewDate].valueDate = "2026-11-01"
* extension[carerRelationship].valueReference.reference = "{rel}"
* identifier[emergencyCard].value = "EC-616-000123"
* status = #active
* intent = #plan
* category[planB] = PlanCategory#contingency-plan "Contingency plan (Plan B)"
* description = "Arthur must not be left alone for more than two hours. Call Sam first; if he cannot come within two hours, the council's emergency respite service starts. Arthur takes donepezil at 8pm."
* subject.reference = "{caredFor}"
* author.reference = "{carer}"
* contributor[0].reference = "{carer}"
* activity[0].detail.code = SupportType#emergency-respite "Emergency respite"
* activity[0].detail.status = #on-hold
* activity[0].detail.description = "Emergency respite at home, up to 72 hours, starts only when this plan is triggered."

RuleSet: MaryConsent(carer)
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/caf-consent"
* identifier[0].value = "A81001-mary-jones-2025-10-03"
* status = #active
* scope = $consentscope#patient-privacy
* category[cafSharing].coding[0] = CafConsentCategory#caf-sharing "Consent to share CAF data"
* category[cafSharing].coding[1] = $loinc#59284-0 "Patient Consent"
* patient.reference = "{carer}"
* dateTime = "2025-10-03T09:00:00Z"
* performer[0].reference = "{carer}"
* policyRule = $v3-ActCode#OPTIN
* provision.type = #permit
* provision.period.start = "2025-10-03"
* provision.period.end = "2027-10-03"
* provision.actor[0].role = http://terminology.hl7.org/CodeSystem/v3-ParticipationType#IRCP "information recipient"
* provision.actor[0].reference.identifier.system = $ods
* provision.actor[0].reference.identifier.value = "A81001"
* provision.actor[1].role = http://terminology.hl7.org/CodeSystem/v3-ParticipationType#IRCP "information recipient"
* provision.actor[1].reference.identifier.system = $ods
* provision.actor[1].reference.identifier.value = "616"
* provision.purpose[0] = $v3-ActReason#CAREMGT "care management"
* provision.class[0] = http://hl7.org/fhir/resource-types#RelatedPerson
* provision.class[1] = http://hl7.org/fhir/resource-types#Task
* provision.class[2] = http://hl7.org/fhir/resource-types#CarePlan
* provision.class[3] = http://hl7.org/fhir/resource-types#Observation

Instance: mary-sexual-orientation
InstanceOf: CarerSexualOrientation
Title: "Mary declined to state her sexual orientation"
Description: "Asked at her carer's assessment, Mary preferred not to say: recorded as 'declined to state', which the NHS standard counts as Z, not as missing."
* meta.profile[+] = Canonical($UKCoreObservation)
* status = #final
* category[socialHistory] = $obs-category#social-history "Social History"
* code = $loinc#76690-7 "Sexual orientation"
* subject = Reference(mary-jones)
* effectiveDateTime = "2025-11-01"
* valueCodeableConcept = $sct#699042003 "Declined to state sexual orientation"

Instance: mary-disability
InstanceOf: CarerDisability
Title: "Mary's arthritis limits her a little"
Description: "Mary has a long-term condition (arthritis) that limits her day-to-day activities a little; she rates her health as fair."
* meta.profile[+] = Canonical($UKCoreObservation)
* status = #final
* category[socialHistory] = $obs-category#social-history "Social History"
* code = CafObservation#disability "Disability and long-term conditions"
* subject = Reference(mary-jones)
* effectiveDateTime = "2025-11-01"
* valueCodeableConcept = ActivityLimitation#limited-a-little "Yes, limited a little"
* component[disabilityType][0].code = CafObservation#disability-type
* component[disabilityType][0].valueCodeableConcept = NhsDisabilityCode#05 "Mobility and gross motor"
* component[generalHealth].code = CafObservation#general-health
* component[generalHealth].valueCodeableConcept = GeneralHealth#fair "Fair"

Instance: mary-cares-for-jean
InstanceOf: CarerRelationship
Title: "Mary also cares for her sister"
Description: "Mary shops and cleans for her sister Jean, about six hours a week: a second caring relationship, assessed with the first."
* meta.profile[+] = Canonical($UKCoreRelatedPerson)
* extension[carerPatient].valueReference = Reference(mary-jones)
* extension[hoursCaringPerWeek].valueQuantity = 6 'h/wk' "hours per week"
* extension[hoursCaringBand].valueCodeableConcept = HoursCaringBand#9-or-less "9 hours a week or less"
* extension[careActivity][0].valueCodeableConcept = CareActivity#practical-help "Practical help"
* extension[carerType][0].valueCodeableConcept = CarerType#older-carer "Older carer"
* identifier[nhsNumber].value = "9991234004"
* active = true
* patient = Reference(jean-evans)
* relationship[carerRole] = $ukcore-role#Carer "Carer of patient"
* relationship[familyRole] = $v3-RoleCode#SIB "sibling"
* period.start = "2024-03-01"

Instance: mary-joint-assessment
InstanceOf: CarerAssessment
Title: "Mary and Arthur's joint assessment"
Description: "Mary's carer's assessment combined with Arthur's needs assessment (Care Act 2014 s12(5)); it covers both people Mary cares for, Arthur and her sister Jean."
* meta.profile[+] = Canonical($UKCoreTask)
* extension[caringRelationship][0].valueReference = Reference(mary-cares-for-jean)
* extension[assessedWith][0].valueReference = Reference(arthur-jones)
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/assessment"
* identifier[0].value = "LA616-2025-0043"
* status = #in-progress
* businessStatus = AssessmentStatus#in-progress "In progress"
* intent = #order
* code = AssessmentType#joint-assessment "Joint assessment"
* focus = Reference(mary-cares-for-arthur)
* for = Reference(mary-jones)
* authoredOn = "2025-10-03"
* owner.identifier.system = $ods
* owner.identifier.value = "616"

Instance: arthur-consent-tell-mary
InstanceOf: CafConsent
Title: "Arthur's son consents, as his attorney, to Mary being told"
Description: "Arthur lacks capacity to decide; his son Sam holds a lasting power of attorney for health and welfare and consents that Mary, his carer, and his GP practice may be told about his care."
* meta.profile[+] = Canonical($UKCoreConsent)
* extension[representativeAuthority].valueCodeableConcept = RepresentativeAuthority#lpa-health-welfare "Lasting power of attorney for health and welfare"
* identifier[0].system = "https://fhir.carer-fhir.uk/Id/caf-consent"
* identifier[0].value = "A81001-arthur-jones-2025-10-10"
* status = #active
* scope = $consentscope#patient-privacy
* category[cafSharing].coding[0] = CafConsentCategory#caf-sharing "Consent to share CAF data"
* category[cafSharing].coding[1] = $loinc#59284-0 "Patient Consent"
* patient = Reference(arthur-jones)
* dateTime = "2025-10-10T14:00:00Z"
* performer[0] = Reference(sam-jones)
* policyRule = $v3-ActCode#OPTIN
* provision.type = #permit
* provision.period.start = "2025-10-10"
* provision.actor[0].role = http://terminology.hl7.org/CodeSystem/v3-ParticipationType#IRCP "information recipient"
* provision.actor[0].reference = Reference(mary-cares-for-arthur)
* provision.actor[1].role = http://terminology.hl7.org/CodeSystem/v3-ParticipationType#IRCP "information recipient"
* provision.actor[1].reference.identifier.system = $ods
* provision.actor[1].reference.identifier.value = "A81001"
* provision.purpose[0] = $v3-ActReason#CAREMGT "care management"
