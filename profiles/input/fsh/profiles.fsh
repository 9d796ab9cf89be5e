// The carer profiles (DESIGN §3). Each is on its UK Core parent, so an
// instance claims both.

RuleSet: ProfileStatus
* ^status = #active
* ^experimental = false

// UK Core's differentials restate the children of some extension slices;
// the snapshots carer-fhir generates for them then leave the slice's url
// unfixed, and a slice with an unfixed url matches every extension, so a
// validator files our extensions under it. Each profile on such a parent
// states the url the slice's type already implies.
RuleSet: UkCoreObservationSliceUrls
* extension ^slicing.discriminator.type = #value
* extension ^slicing.discriminator.path = "url"
* extension ^slicing.rules = #open
* extension[triggeredByR5].url = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Observation.triggeredBy" (exactly)

Invariant: carer-nhs-1
Description: "An NHS number is ten digits whose last is the modulus 11 check digit of the other nine."
Expression: "value.matches('^[0-9]{10}$') and ((11 - ((value.substring(0,1).toInteger() * 10 + value.substring(1,1).toInteger() * 9 + value.substring(2,1).toInteger() * 8 + value.substring(3,1).toInteger() * 7 + value.substring(4,1).toInteger() * 6 + value.substring(5,1).toInteger() * 5 + value.substring(6,1).toInteger() * 4 + value.substring(7,1).toInteger() * 3 + value.substring(8,1).toInteger() * 2) mod 11)) mod 11) = value.substring(9,1).toInteger()"
Severity: #error

Invariant: carer-ended-1
Description: "A record that is no longer active says when it ended (period.end)."
Expression: "active = false implies period.end.exists()"
Severity: #error

Invariant: carer-flag-1
Description: "An inactive flag says when it ended (period.end)."
Expression: "status = 'inactive' implies period.end.exists()"
Severity: #error

Invariant: carer-period-1
Description: "A period's end is not before its start."
Expression: "(start.exists() and end.exists()) implies start <= end"
Severity: #error

Invariant: carer-hours-2
Description: "The hours caring band agrees with the hours caring per week, when both are recorded."
Expression: "(extension('https://fhir.carer-fhir.uk/StructureDefinition/hours-caring-per-week').value.value.exists() and extension('https://fhir.carer-fhir.uk/StructureDefinition/hours-caring-band').value.coding.code.exists()) implies (extension('https://fhir.carer-fhir.uk/StructureDefinition/hours-caring-per-week').value.value.select(iif($this < 10, '9-or-less', iif($this < 20, '10-19', iif($this < 35, '20-34', iif($this < 50, '35-49', '50-plus'))))) = extension('https://fhir.carer-fhir.uk/StructureDefinition/hours-caring-band').value.coding.code.first())"
Severity: #error

Profile: CarerRelationship
Parent: $UKCoreRelatedPerson
Id: CarerRelationship
Title: "Carer relationship"
Description: "A carer and the person they care for: the RelatedPerson on the cared-for person's record (patient), linked to the carer's own Patient record, saying when caring started and ended, what it involves, and where and by whom the carer was identified."
* insert ProfileStatus
* obeys carer-ended-1 and carer-hours-2
* extension contains
    CarerPatient named carerPatient 0..1 MS and
    HoursCaringPerWeek named hoursCaringPerWeek 0..1 MS and
    MainCarer named mainCarer 0..1 MS and
    LivesWithCaredFor named livesWithCaredFor 0..1 and
    CareActivityExtension named careActivity 0..* and
    CarerTypeExtension named carerType 0..* MS and
    HoursCaringBandExtension named hoursCaringBand 0..1 MS and
    CarerIdentification named identification 0..1 MS
* identifier MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains nhsNumber 0..1 MS and relationshipId 0..1 MS
* identifier[nhsNumber] ^short = "The carer's NHS number"
* identifier[nhsNumber].system 1..1
* identifier[nhsNumber].system = $nhs-number (exactly)
* identifier[nhsNumber].value 1..1
* identifier[nhsNumber] obeys carer-nhs-1
* identifier[relationshipId] ^short = "A business identifier of this caring relationship, for conditional updates"
* identifier[relationshipId].system 1..1
* identifier[relationshipId].system = "https://fhir.carer-fhir.uk/Id/carer-relationship" (exactly)
* identifier[relationshipId].value 1..1
* active 1..1 MS
* patient MS
* patient only Reference($UKCorePatient)
* patient ^short = "The person cared for"
* relationship 1..* MS
* relationship ^slicing.discriminator.type = #pattern
* relationship ^slicing.discriminator.path = "$this"
* relationship ^slicing.rules = #open
* relationship contains carerRole 1..1 MS and familyRole 0..1 MS
* relationship[carerRole] = $ukcore-role#Carer
* relationship[familyRole] from FamilyRoleVS (required)
* relationship[familyRole] ^short = "The carer's family role (spouse, child, ...), when family"
* relationship[familyRole].coding 1..1
* relationship[familyRole].coding.system 1..1
* relationship[familyRole].coding.system = $v3-RoleCode (exactly)
* period 1..1 MS
* period.start 1..1 MS
* period obeys carer-period-1

Profile: CarerStatus
Parent: $UKCoreObservation
Id: CarerStatus
Title: "Carer status"
Description: "On the carer's own record: that they are a carer (and of whom), or that they are no longer a carer, and where and by whom they were identified."
* insert ProfileStatus
* insert UkCoreObservationSliceUrls
* status MS
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category contains socialHistory 1..1
* category[socialHistory] = $obs-category#social-history
* code MS
* code from CarerStatusVS (required)
* subject 1..1 MS
* subject only Reference($UKCorePatient)
* subject ^short = "The carer"
* focus 0..1 MS
* focus only Reference(CarerRelationship)
* focus ^short = "The caring relationship this status is about"
* extension contains CarerIdentification named identification 0..1 MS
* identifier MS
* identifier ^short = "A business identifier (for conditional creates, so that recording it twice finds the first)"
* effective[x] 1..1 MS
* effective[x] only dateTime or Period
* value[x] 0..0
* component 0..0

Profile: CarerFlag
Parent: $UKCoreFlag
Id: CarerFlag
Title: "Carer flag"
Description: "A flag on a record that a carer is involved: on the carer's record (is a carer, young carer) and on the cared-for person's (has a carer). Closed (inactive, period ended) when caring ends."
* insert ProfileStatus
* obeys carer-flag-1
* extension contains CarerRelationshipLink named carerRelationship 1..1 MS
* status MS
* code MS
* code from FlagCodeVS (required)
* code.coding 1..1
* subject MS
* subject only Reference($UKCorePatient)
* period 1..1 MS
* period.start 1..1 MS
* period obeys carer-period-1

Invariant: caf-q-1
Description: "A carer's assessment questionnaire asks about the caring role and the carer's quality of life."
Expression: "item.where(linkId = 'caring-role').exists() and item.where(linkId = 'qol').exists()"
Severity: #error

Profile: CarerAssessmentQuestionnaire
Parent: $UKCoreQuestionnaire
Id: CarerAssessmentQuestionnaire
Title: "Carer's assessment questionnaire"
Description: "The form of a carer's assessment (adult carers, young carers, parent carers); the same form serves self-assessment by the carer and assessment by a practitioner."
* insert ProfileStatus
* obeys caf-q-1
* url 1..1 MS
* version 1..1 MS
* name 1..1 MS
* status MS
* subjectType 1..1
* subjectType = #Patient
* useContext MS
* item 1..* MS

Profile: CarerAssessmentResponse
Parent: $UKCoreQuestionnaireResponse
Id: CarerAssessmentResponse
Title: "Carer's assessment response"
Description: "The answers of one carer's assessment. The source tells self-assessment (the carer's own Patient record) from assessment by a practitioner."
* insert ProfileStatus
* questionnaire 1..1 MS
* status MS
* subject 1..1 MS
* subject only Reference($UKCorePatient)
* subject ^short = "The carer"
* authored 1..1 MS
* author MS
* source 1..1 MS
* source only Reference($UKCorePatient or RelatedPerson or Practitioner or PractitionerRole)
* source ^short = "Who answered: the carer themselves (self-assessment) or a practitioner"

Invariant: caf-joint-1
Description: "A joint assessment names who else was assessed (assessed-with)."
Expression: "code.coding.where(code = 'joint-assessment').exists() implies extension('https://fhir.carer-fhir.uk/StructureDefinition/assessed-with').exists()"
Severity: #error

Profile: CarerAssessment
Parent: $UKCoreTask
Id: CarerAssessment
Title: "Carer's assessment"
Description: "The episode of a carer's assessment, from offer to completion: who is assessed, by which local authority, on which answers, with what determination and plan; every person cared for whom it concerns, and in a joint or whole-family assessment the family members assessed together. A review (code review) is based on the support plan it reviews."
* insert ProfileStatus
* obeys caf-joint-1
* extension contains
    AssessmentRelationship named caringRelationship 0..* MS and
    AssessedWith named assessedWith 0..* MS
* identifier MS
* status MS
* businessStatus 1..1 MS
* businessStatus from AssessmentStatusVS (required)
* intent = #order
* code 1..1 MS
* code from AssessmentTypeVS (required)
* focus 0..1 MS
* focus only Reference(CarerRelationship)
* for 1..1 MS
* for only Reference($UKCorePatient)
* for ^short = "The carer assessed"
* authoredOn 1..1 MS
* basedOn MS
* basedOn ^short = "For a review: the CarerSupportPlan under review"
* requester MS
* requester ^short = "Who asked: the carer, a GP practice or hospital (ODS code), a school (DfE URN)"
* owner 1..1 MS
* owner ^short = "The local authority responsible (by ODS code)"
* owner.identifier 1..1
* owner.identifier.system 1..1
* owner.identifier.system = $ods (exactly)
* owner.identifier.value 1..1
* input MS
* input ^slicing.discriminator.type = #pattern
* input ^slicing.discriminator.path = "type"
* input ^slicing.rules = #open
* input contains response 0..1 MS
* input[response].type = TaskIo#assessment-response
* input[response].value[x] only Reference(CarerAssessmentResponse)
* output MS
* output ^slicing.discriminator.type = #pattern
* output ^slicing.discriminator.path = "type"
* output ^slicing.rules = #open
* output contains eligibility 0..1 MS and supportPlan 0..1 MS and qualityOfLife 0..1 MS
* output[qualityOfLife].type = TaskIo#quality-of-life
* output[qualityOfLife].value[x] only Reference(CarerQualityOfLife)
* output[eligibility].type = TaskIo#eligibility
* output[eligibility].value[x] only Reference(CarerEligibility)
* output[supportPlan].type = TaskIo#support-plan
* output[supportPlan].value[x] only Reference(CarerSupportPlan)

RuleSet: EligibilityComponent(name, code)
* component[{name}].code = EligibilityCriterion#{code}
* component[{name}].value[x] only boolean
* component[{name}].value[x] 1..1

RuleSet: OutcomeComponent(name, code)
* component[{name}].code = Reg3Outcome#{code}
* component[{name}].value[x] only CodeableConcept
* component[{name}].value[x] 1..1
* component[{name}].value[x] from OutcomeAchievementVS (required)

Profile: CarerEligibility
Parent: $UKCoreObservation
Id: CarerEligibility
Title: "Carer's eligibility determination"
Description: "Whether a carer's needs meet the eligibility criteria (Care and Support (Eligibility Criteria) Regulations 2015 reg 3), derived from an assessment response by fhir-core's rules: one component per condition and per reg 3(2)(b) outcome, the determination as the value, the reasons as notes."
* insert ProfileStatus
* insert UkCoreObservationSliceUrls
* status MS
* code = CafObservation#carer-eligibility
* subject 1..1 MS
* subject only Reference($UKCorePatient)
* subject ^short = "The carer"
* focus only Reference(CarerRelationship)
* effective[x] 1..1 MS
* effective[x] only dateTime
* derivedFrom 1..* MS
* derivedFrom only Reference(CarerAssessmentResponse)
* value[x] 1..1 MS
* value[x] only CodeableConcept
* value[x] from EligibilityDeterminationVS (required)
* note MS
* note ^short = "The reasons for the determination, one per note"
* component MS
* component ^slicing.discriminator.type = #pattern
* component ^slicing.discriminator.path = "code"
* component ^slicing.rules = #closed
* component contains
    necessaryCare 0..1 MS and
    healthAtRisk 0..1 MS and
    significantImpact 0..1 MS and
    childCare 0..1 MS and
    otherCaring 0..1 MS and
    home 0..1 MS and
    nutrition 0..1 MS and
    relationships 0..1 MS and
    workEducation 0..1 MS and
    community 0..1 MS and
    recreation 0..1 MS
* insert EligibilityComponent(necessaryCare, necessary-care)
* insert EligibilityComponent(healthAtRisk, health-at-risk)
* insert EligibilityComponent(significantImpact, significant-impact)
* insert OutcomeComponent(childCare, child-care)
* insert OutcomeComponent(otherCaring, other-caring)
* insert OutcomeComponent(home, home)
* insert OutcomeComponent(nutrition, nutrition)
* insert OutcomeComponent(relationships, relationships)
* insert OutcomeComponent(workEducation, work-education)
* insert OutcomeComponent(community, community)
* insert OutcomeComponent(recreation, recreation)

Profile: CarerSupportPlan
Parent: $UKCoreCarePlan
Id: CarerSupportPlan
Title: "Carer's support plan"
Description: "The carer's support plan (Care Act 2014 s25): breaks, sitting service, information and advice, and how each is delivered (direct payment, managed budget, commissioned support), with the personal budget and review date."
* insert ProfileStatus
* extension contains
    PersonalBudget named personalBudget 0..1 MS and
    ReviewDate named reviewDate 0..1 MS and
    CarerRelationshipLink named carerRelationship 0..1 MS
* status MS
* intent = #plan
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category contains carerPlan 1..1 MS
* category[carerPlan] = PlanCategory#carer-support-plan
* subject MS
* subject only Reference($UKCorePatient)
* subject ^short = "The carer"
* period MS
* author MS
* supportingInfo MS
* supportingInfo ^short = "The eligibility determination the plan meets"
* goal MS
* goal ^short = "The outcomes the carer wished to achieve (Goals), which the activities serve"
* activity MS
* activity.detail 1..1 MS
* activity.detail.extension contains DeliveryMechanismExtension named deliveryMechanism 0..1 MS
* activity.detail.code 1..1 MS
* activity.detail.code from SupportTypeVS (required)
* activity.detail.goal MS
* activity.detail.goal ^short = "The outcomes (of CarePlan.goal) this support serves"

Invariant: caf-plan-b-1
Description: "A contingency plan names at least one person or service who agreed to act."
Expression: "extension('https://fhir.carer-fhir.uk/StructureDefinition/emergency-contact').where(extension('agreedToAct').value = true).exists()"
Severity: #error

Profile: ContingencyPlan
Parent: $UKCoreCarePlan
Id: ContingencyPlan
Title: "Contingency plan (Plan B)"
Description: "What happens when the carer suddenly cannot care: the triggers, what should happen, who to contact, how long the person can be left, the emergency card number a 24/7 responder quotes, and support that starts only when the plan is triggered."
* insert ProfileStatus
* obeys caf-plan-b-1
* extension contains
    ContingencyTriggerExtension named trigger 1..* MS and
    EmergencyContact named emergencyContact 1..* MS and
    TimeAlone named timeAlone 0..1 MS and
    AgreedWithPerson named agreedWithPerson 1..1 MS and
    ReviewDate named reviewDate 0..1 MS and
    CarerRelationshipLink named carerRelationship 0..1 MS
* identifier 1..* MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains emergencyCard 1..1 MS
* identifier[emergencyCard] ^short = "The number on the carer's emergency card"
* identifier[emergencyCard].system 1..1
* identifier[emergencyCard].system = "https://fhir.carer-fhir.uk/Id/emergency-card" (exactly)
* identifier[emergencyCard].value 1..1
* status MS
* intent = #plan
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category contains planB 1..1 MS
* category[planB] = PlanCategory#contingency-plan
* description 1..1 MS
* description ^short = "What should happen when the plan is triggered"
* subject MS
* subject only Reference($UKCorePatient)
* subject ^short = "The person cared for"
* author 1..1 MS
* author only Reference($UKCorePatient or RelatedPerson or Practitioner or Organization)
* contributor MS
* activity MS
* activity.detail 1..1
* activity.detail.code 1..1
* activity.detail.code from SupportTypeVS (required)
* activity.detail.status ^short = "on-hold until the plan is triggered"

Invariant: caf-consent-2
Description: "An organisation is named by its ODS code; a person (a carer to be told) by a reference to their record."
Expression: "reference.identifier.exists() implies reference.identifier.system = 'https://fhir.nhs.uk/Id/ods-organization-code'"
Severity: #error

Invariant: caf-consent-3
Description: "When someone other than the person consented, the authority they acted under (a lasting power of attorney, a deputyship) is recorded."
Expression: "performer.where(reference.exists() and reference != %resource.patient.reference).exists() implies extension('https://fhir.carer-fhir.uk/StructureDefinition/representative-authority').exists()"
Severity: #error

Profile: CafConsent
Parent: $UKCoreConsent
Id: CafConsent
Title: "CAF consent"
Description: "Consent to share CAF data: whose data, who consented (the person, or a legitimate representative such as an attorney under a lasting power of attorney or a deputy, with the authority they acted under), permit or deny, who may be told (organisations by ODS code, and people such as the carer, by their RelatedPerson record), for which purposes, which kinds of record, and for how long. Revoked by setting status inactive."
* insert ProfileStatus
* obeys caf-consent-3
* extension contains RepresentativeAuthorityExtension named representativeAuthority 0..1 MS
* status MS
* scope = $consentscope#patient-privacy
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category contains cafSharing 1..1 MS
* category[cafSharing] = CafConsentCategory#caf-sharing
* category[cafSharing] ^short = "Ours, with LOINC 59284-0 Patient Consent beside it in the same CodeableConcept"
* patient 1..1 MS
* patient only Reference($UKCorePatient)
* dateTime 1..1 MS
* performer 1..* MS
* performer only Reference($UKCorePatient or RelatedPerson)
* performer ^short = "Who consented: the person, or their legitimate representative (then representative-authority says under what authority)"
* policyRule 1..1
* policyRule = $v3-ActCode#OPTIN
* provision 1..1 MS
* provision.type 1..1 MS
* provision.period MS
* provision.actor 1..* MS
* provision.actor obeys caf-consent-2
* provision.actor.reference only Reference(Organization or RelatedPerson)
* provision.actor.reference ^short = "An organisation by ODS code, or a person (the carer) by their RelatedPerson record"
* provision.purpose 1..* MS
* provision.purpose from CafPurposeVS (required)
* provision.class MS

Invariant: caf-rec-1
Description: "A CAF record's first entry is its CAF Composition."
Expression: "entry.first().resource.is(Composition) and entry.first().resource.type.coding.where(system = 'https://fhir.carer-fhir.uk/CodeSystem/caf-document' and code = 'caf-record').exists()"
Severity: #error

Profile: CafRecord
Parent: $UKCoreBundle
Id: CafRecord
Title: "CAF record"
Description: "The CAF data set for one person, as a FHIR document: a CafRecordComposition followed by what consent allows to be shared."
* insert ProfileStatus
* obeys caf-rec-1
* identifier 1..1 MS
* type = #document
* timestamp 1..1 MS
* entry 1..* MS
* entry.fullUrl 1..1
* entry.resource 1..1

Profile: CafRecordComposition
Parent: $UKCoreComposition
Id: CafRecordComposition
Title: "CAF record composition"
Description: "The table of contents of a CAF record: whose record, assembled when and by whom, in sections."
* insert ProfileStatus
* type = CafDocument#caf-record
* subject 1..1 MS
* subject only Reference($UKCorePatient)
* section MS
* section.code 1..1
* section.code from CafSectionVS (required)
